//! Parse errors name the file, the line and what was expected; nothing panics.

use std::path::Path;

use xpusim_systolic::{
    parse_config, parse_topology, BandwidthMode, ConfigError, Dataflow, LayerKind, TopologyError,
    TopologyForm,
};

const GOOD_CFG: &str = "\
[general]
run_name = demo

[architecture_presets]
ArrayHeight:    16
ArrayWidth:     8
IfmapSramSzkB:   64
FilterSramSzkB:  32
OfmapSramSzkB:   16
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : ws
MemoryBanks:   1

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 4
FilterSRAMBankBandwidth: 6

[run_presets]
InterfaceBandwidth: USER
";

fn cfg_path() -> &'static Path {
    Path::new("demo.cfg")
}

#[test]
fn config_parses_all_keys() {
    let c = parse_config(GOOD_CFG, cfg_path()).expect("valid config");
    assert_eq!(c.run_name, "demo");
    assert_eq!((c.array_rows, c.array_cols), (16, 8));
    assert_eq!(
        (c.ifmap_sram_kb, c.filter_sram_kb, c.ofmap_sram_kb),
        (64, 32, 16)
    );
    assert_eq!(c.dataflow, Dataflow::Ws);
    assert_eq!(c.bandwidth_mode, BandwidthMode::User);
    assert_eq!(c.bandwidth, vec![10]);
    assert_eq!((c.ifmap_dram_bandwidth, c.filter_dram_bandwidth), (4, 6));
    assert_eq!(c.filter_offset, 10_000_000);
    assert!(!c.ifmap_custom_layout);
}

#[test]
fn config_truncated_line_names_file_and_line() {
    let text = GOOD_CFG.replace("ArrayWidth:     8", "ArrayWidth");
    let err = parse_config(&text, cfg_path()).expect_err("truncated line");
    assert!(
        matches!(err, ConfigError::Syntax { line: 6, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.starts_with("demo.cfg:6:"), "{msg}");
    assert!(msg.contains("key = value"), "{msg}");
}

#[test]
fn config_non_numeric_value_names_key_and_line() {
    let text = GOOD_CFG.replace("ArrayHeight:    16", "ArrayHeight:    sixteen");
    let err = parse_config(&text, cfg_path()).expect_err("non-numeric");
    let msg = err.to_string();
    assert!(
        matches!(err, ConfigError::InvalidValue { line: 5, .. }),
        "{err:?}"
    );
    assert!(msg.contains("demo.cfg:5"), "{msg}");
    assert!(
        msg.contains("ArrayHeight") && msg.contains("sixteen"),
        "{msg}"
    );
}

#[test]
fn config_missing_key_and_section() {
    let text = GOOD_CFG.replace("Dataflow : ws\n", "");
    let err = parse_config(&text, cfg_path()).expect_err("missing key");
    assert!(err.to_string().contains("Dataflow"), "{err}");
    assert!(
        matches!(err, ConfigError::MissingKey { line: 4, .. }),
        "{err:?}"
    );

    let text = GOOD_CFG.replace("[run_presets]\nInterfaceBandwidth: USER\n", "");
    let err = parse_config(&text, cfg_path()).expect_err("missing section");
    assert!(matches!(err, ConfigError::MissingSection { .. }), "{err:?}");
}

#[test]
fn config_bad_values() {
    for (from, to, key) in [
        ("Dataflow : ws", "Dataflow : xs", "Dataflow"),
        (
            "InterfaceBandwidth: USER",
            "InterfaceBandwidth: FAST",
            "InterfaceBandwidth",
        ),
        ("Bandwidth : 10", "Bandwidth : 10,x", "Bandwidth"),
        ("ArrayWidth:     8", "ArrayWidth:     0", "ArrayWidth"),
        // Issue #16: a 2³²-high array allocated 16 GB and spun; sizes are bounded.
        (
            "ArrayHeight:    16",
            "ArrayHeight:    4294967296",
            "ArrayHeight",
        ),
        (
            "IfmapSramSzkB:   64",
            "IfmapSramSzkB:   18446744073709551615",
            "IfmapSramSzkB",
        ),
        (
            "FilterOffset:   10000000",
            "FilterOffset:   1000000000000000000",
            "FilterOffset",
        ),
        ("Bandwidth : 10", "Bandwidth : 10000000000", "Bandwidth"),
        (
            "IfmapCustomLayout: False",
            "IfmapCustomLayout: maybe",
            "IfmapCustomLayout",
        ),
    ] {
        let err = parse_config(&GOOD_CFG.replace(from, to), cfg_path()).expect_err(key);
        assert!(
            matches!(err, ConfigError::InvalidValue { .. }),
            "{key}: {err:?}"
        );
        assert!(err.to_string().contains(key), "{err}");
    }
}

#[test]
fn config_structure_errors() {
    let err = parse_config("run_name = x\n", cfg_path()).expect_err("no section");
    assert!(err.to_string().contains("demo.cfg:1"), "{err}");
    let err = parse_config("[general\nrun_name = x\n", cfg_path()).expect_err("bad header");
    assert!(err.to_string().contains("demo.cfg:1"), "{err}");
    let text = GOOD_CFG.replace("MemoryBanks:   1", "MemoryBanks:   1\nmemorybanks: 2");
    let err = parse_config(&text, cfg_path()).expect_err("duplicate key");
    assert!(err.to_string().contains("duplicate key"), "{err}");
    assert!(parse_config("", cfg_path()).is_err());
    assert!(parse_config("\u{0}\u{1}[[[", cfg_path()).is_err());
}

#[test]
fn config_calc_mode_needs_no_bandwidth() {
    let text = GOOD_CFG
        .replace("Bandwidth : 10\n", "")
        .replace("InterfaceBandwidth: USER", "InterfaceBandwidth: CALC");
    let c = parse_config(&text, cfg_path()).expect("CALC without Bandwidth");
    assert_eq!(c.bandwidth_mode, BandwidthMode::Calc);
    let text = GOOD_CFG.replace("Bandwidth : 10\n", "");
    assert!(
        parse_config(&text, cfg_path()).is_err(),
        "USER needs Bandwidth"
    );
}

const CONV: &str = "\
Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
Conv1,224,224,7,7,3,64,2,

FC,1,1,1,1,2048,1000,1,
";

fn topo_path() -> &'static Path {
    Path::new("net.csv")
}

#[test]
fn topology_conv_and_gemm() {
    let layers = parse_topology(CONV, topo_path(), None).expect("conv");
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[0].ofmap_h(), 110); // ceil((224 - 7 + 2) / 2), no padding
    assert_eq!(layers[1].window(), 2048);
    let gemm = "Layer Name, M, N, K,\nTest 1,128,64,256,\n";
    let layers = parse_topology(gemm, topo_path(), None).expect("gemm");
    assert_eq!(
        layers[0].kind,
        LayerKind::Gemm {
            m: 128,
            n: 64,
            k: 256
        }
    );
    assert_eq!(layers[0].ofmap_pixels(), 128);
    assert_eq!(layers[0].window(), 256);
    assert_eq!(layers[0].num_filters, 64);
    // No trailing comma and a sparsity ratio are accepted.
    let layers = parse_topology("h\nA,8,8,3,3,2,4,1,2:4\n", topo_path(), None).expect("ratio");
    assert_eq!(layers[0].stride_h, 1);
}

#[test]
fn topology_truncated_row() {
    let text = CONV.replace("FC,1,1,1,1,2048,1000,1,", "FC,1,1,1,1,2048");
    let err = parse_topology(&text, topo_path(), None).expect_err("truncated");
    let msg = err.to_string();
    assert!(matches!(err, TopologyError::Row { line: 4, .. }), "{err:?}");
    assert!(msg.starts_with("net.csv:4:"), "{msg}");
    assert!(msg.contains("expected 8 fields"), "{msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
}

#[test]
fn topology_non_numeric_field() {
    let text = CONV.replace("Conv1,224,224,7,7,3,64,2,", "Conv1,224,2x4,7,7,3,64,2,");
    let err = parse_topology(&text, topo_path(), None).expect_err("non-numeric");
    let msg = err.to_string();
    assert!(msg.starts_with("net.csv:2:"), "{msg}");
    assert!(msg.contains("ifmap_w") && msg.contains("2x4"), "{msg}");
    let gemm = "Layer, M, N, K,\nG,12,-3,4,\n";
    let err = parse_topology(gemm, topo_path(), None).expect_err("negative");
    assert!(err.to_string().contains("(N)"), "{err}");
}

#[test]
fn topology_invalid_layers() {
    let err = parse_topology("h\nBig,3,3,5,1,1,1,1,\n", topo_path(), None).expect_err("filter");
    assert!(err.to_string().contains("filter height"), "{err}");
    let err = parse_topology("h\nZ,3,3,1,1,1,1,0,\n", topo_path(), None).expect_err("stride 0");
    assert!(err.to_string().contains("stride"), "{err}");
    let err = parse_topology("h\nX,1,2,3,4,5,6,7,8,9,\n", topo_path(), None).expect_err("long");
    assert!(err.to_string().contains("fields"), "{err}");
    let err = parse_topology("h\nX,8,8,3,3,2,4,1,abc,\n", topo_path(), None).expect_err("ratio");
    assert!(err.to_string().contains("N:M"), "{err}");
    assert!(matches!(
        parse_topology("header only,\n", topo_path(), None),
        Err(TopologyError::Empty { .. })
    ));
    assert!(parse_topology("", topo_path(), Some(TopologyForm::Gemm)).is_err());
}

#[test]
fn topology_depthwise_layers_split_per_channel() {
    let layers = parse_topology("h\nDP1,8,8,3,3,3,1,1,\n", topo_path(), None).expect("dp");
    let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["DP1Channel_0", "DP1Channel_1", "DP1Channel_2"]);
    assert!(layers.iter().all(|l| l.channels == 1));
}

#[test]
fn missing_files_are_errors() {
    let err = xpusim_systolic::load_config("/nonexistent/x.cfg").expect_err("io");
    assert!(err.to_string().contains("/nonexistent/x.cfg"), "{err}");
    let err = xpusim_systolic::load_topology("/nonexistent/t.csv").expect_err("io");
    assert!(err.to_string().contains("/nonexistent/t.csv"), "{err}");
}
