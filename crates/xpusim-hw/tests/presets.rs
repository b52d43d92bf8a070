use xpusim_hw::{find_preset, load_device, preset_names, DeviceSpec, HwError, PRESETS};

#[test]
fn every_preset_parses_validates_and_cites_its_peaks() {
    assert!(!PRESETS.is_empty());
    for (file, src) in PRESETS {
        let d = DeviceSpec::from_toml(file, src).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            d.sources
                .keys()
                .any(|k| k.starts_with("matrix.peak_tflops")),
            "{file}: matrix.peak_tflops has no source"
        );
        assert!(
            d.sources.keys().any(|k| k.starts_with("memory")),
            "{file}: memory uncited"
        );
    }
}

#[test]
fn names_and_aliases_resolve() {
    for n in preset_names() {
        assert_eq!(find_preset(&n).unwrap().name, n);
    }
    assert_eq!(find_preset("H100").unwrap().name, "h100-sxm");
}

#[test]
fn misspelt_name_suggests() {
    let e = find_preset("h100-sx").unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("did you mean h100-sxm"), "{msg}");
}

fn h100() -> &'static str {
    PRESETS
        .iter()
        .find(|(f, _)| *f == "h100-sxm.toml")
        .unwrap()
        .1
}

#[test]
fn zero_bandwidth_names_file_line_and_field() {
    let src = h100().replacen("bandwidth_gbps = 5500", "bandwidth_gbps = 0", 1);
    let line = src.lines().position(|l| l == "bandwidth_gbps = 0").unwrap() + 1;
    match DeviceSpec::from_toml("my.toml", &src) {
        Err(HwError::Invalid {
            file,
            line: l,
            field,
            ..
        }) => {
            assert_eq!(file, "my.toml");
            assert_eq!(l, line);
            assert_eq!(field, "memory[1].bandwidth_gbps");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn unknown_and_missing_fields_are_reported_with_line() {
    let src = h100().replacen("cores = 132", "cores = 132\ncoress = 3", 1);
    let msg = DeviceSpec::from_toml("my.toml", &src)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("my.toml") && msg.contains("coress") && msg.contains("line"),
        "{msg}"
    );
    let src = h100().replacen("clock_ghz = 1.83\n", "", 1);
    let msg = DeviceSpec::from_toml("my.toml", &src)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("clock_ghz"), "{msg}");
    let msg = DeviceSpec::from_toml("my.toml", "name = [")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("my.toml") && msg.contains("line 1"), "{msg}");
}

#[test]
fn negative_and_absurd_values_rejected() {
    let src = h100().replacen("clock_ghz = 1.83", "clock_ghz = -1.0", 1);
    assert!(DeviceSpec::from_toml("x", &src).is_err());
    let src = h100().replacen("tdp_w = 700", "tdp_w = 1e300", 1);
    assert!(DeviceSpec::from_toml("x", &src).is_err());
    let src = h100().replacen("efficiency = 0.75", "efficiency = 1.5", 1);
    assert!(DeviceSpec::from_toml("x", &src).is_err());
}

#[test]
fn file_path_loads_like_a_preset() {
    let dir = std::env::temp_dir().join(format!("xpusim-hw-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("chip.toml");
    std::fs::write(&p, h100()).unwrap();
    assert_eq!(load_device(p.to_str().unwrap()).unwrap().name, "h100-sxm");
    assert!(load_device("/nonexistent/chip.toml").is_err());
}

/// Names other crates and the docs rely on.
const REQUIRED: &[&str] = &[
    "a100-80gb",
    "h100-sxm",
    "h200",
    "b200",
    "mi300x",
    "tpu-v4",
    "tpu-v5e",
    "npu-systolic",
];

#[test]
fn required_presets_resolve() {
    for n in REQUIRED {
        assert_eq!(find_preset(n).unwrap().name, *n, "{n}");
    }
    let names = preset_names();
    assert_eq!(names.len(), PRESETS.len(), "a preset failed to load");
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "duplicate preset names");
}

#[test]
fn file_name_is_preset_name() {
    for (file, src) in PRESETS {
        let d = DeviceSpec::from_toml(file, src).unwrap();
        assert_eq!(*file, format!("{}.toml", d.name));
    }
}

#[test]
fn aliases_are_unique_across_presets() {
    let mut seen = std::collections::BTreeMap::new();
    for (file, src) in PRESETS {
        let d = DeviceSpec::from_toml(file, src).unwrap();
        for n in std::iter::once(&d.name).chain(d.aliases.iter()) {
            let k = n.to_ascii_lowercase();
            if let Some(prev) = seen.insert(k.clone(), d.name.clone()) {
                assert_eq!(prev, d.name, "`{k}` names both {prev} and {}", d.name);
            }
        }
    }
}

/// The implied matrix rate per core per cycle (peak / cores / clock) must be at least one
/// MAC, and one matrix-tile granule must take at least a quarter of a cycle: a typo in
/// clock, core count, peak or tile (a factor of 10 or 1000) breaks one of the two.
#[test]
fn matrix_peak_per_core_per_cycle_is_plausible() {
    for (file, src) in PRESETS {
        let d = DeviceSpec::from_toml(file, src).unwrap();
        for (dt, tf) in &d.matrix.peak_tflops {
            let macs_per_clk = tf * 1e12 / 2.0 / d.cores as f64 / (d.clock_ghz * 1e9);
            let [m, n, k] = d.matrix.tile;
            let tile_macs = (m * n * k) as f64;
            assert!(
                macs_per_clk.is_finite() && macs_per_clk >= 1.0,
                "{file}: {dt} gives {macs_per_clk} MAC/clk/core"
            );
            assert!(
                macs_per_clk <= 4.0 * tile_macs,
                "{file}: {dt} gives {macs_per_clk} MAC/clk/core, > 4 x the {tile_macs}-MAC tile"
            );
        }
    }
}

/// The engine refuses an op whose smallest tile (one granule in m and n, 4 granules of k,
/// double-buffered) does not fit the per-core buffer; every preset must take 16-bit GEMMs.
#[test]
fn smallest_tile_fits_core_buffer() {
    for (file, src) in PRESETS {
        let d = DeviceSpec::from_toml(file, src).unwrap();
        if let Some(cb) = d.core_buffer() {
            let [m, n, k] = d.matrix.tile;
            let need = 2 * (m * 4 * k + 4 * k * n) * 2;
            assert!(
                need <= cb.capacity_bytes,
                "{file}: {need} B > {} B in {}",
                cb.capacity_bytes,
                cb.name
            );
        }
    }
}

/// Field paths in `unverified` and `[sources]` must name something in the schema.
#[test]
fn unverified_and_sources_name_fields() {
    const TOP: &[&str] = &[
        "name",
        "aliases",
        "display_name",
        "vendor",
        "class",
        "natural_dtype",
        "clock_ghz",
        "cores",
        "core_cluster",
        "process_node_nm",
        "die_area_mm2",
        "price_usd",
        "matrix",
        "vector",
        "memory",
        "overhead",
        "power",
        "energy",
        "interconnect",
        "calibration",
        "support",
    ];
    for (file, src) in PRESETS {
        let d = DeviceSpec::from_toml(file, src).unwrap();
        for p in d.unverified.iter().chain(d.sources.keys()) {
            let head = p.split(['.', '[']).next().unwrap();
            assert!(TOP.contains(&head), "{file}: `{p}` is not a field path");
            if let Some(rest) = p.strip_prefix("memory[") {
                let i: usize = rest.split(']').next().unwrap().parse().unwrap();
                assert!(
                    i < d.memory.len(),
                    "{file}: `{p}` indexes past the memory list"
                );
            }
        }
    }
}

#[test]
fn energy_is_ordered_by_format_width() {
    for (file, src) in PRESETS {
        let d = DeviceSpec::from_toml(file, src).unwrap();
        let nat = d.energy.mac_pj.get(&d.natural_dtype);
        assert!(nat.is_some(), "{file}: no mac_pj for the natural dtype");
        let nat_rate = d.matrix.peak_tflops[&d.natural_dtype];
        for (dt, pj) in &d.energy.mac_pj {
            // A narrower format on a slower path (int8 dp4a on Volta CUDA cores) may cost more.
            let rate = d.matrix.peak_tflops.get(dt).copied().unwrap_or(0.0);
            if dt.bits() < d.natural_dtype.bits() && rate >= nat_rate {
                assert!(pj <= nat.unwrap(), "{file}: {dt} MAC dearer than natural");
            }
        }
        let off = d.offchip();
        for m in &d.memory[..d.memory.len() - 1] {
            assert!(
                m.energy_pj_per_byte <= off.energy_pj_per_byte,
                "{file}: on-chip {} dearer per byte than off-chip",
                m.name
            );
        }
    }
}

#[test]
fn holds_model_is_for_one_on_chip_level() {
    let src = h100().replacen(
        "energy_pj_per_byte = 28.0",
        "energy_pj_per_byte = 28.0\nholds_model = true",
        1,
    );
    let msg = DeviceSpec::from_toml("x.toml", &src)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("holds_model"), "{msg}");
    let src = h100()
        .replacen(
            "energy_pj_per_byte = 1.0",
            "energy_pj_per_byte = 1.0\nholds_model = true",
            1,
        )
        .replacen(
            "energy_pj_per_byte = 5.0",
            "energy_pj_per_byte = 5.0\nholds_model = true",
            1,
        );
    let msg = DeviceSpec::from_toml("x.toml", &src)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("at most one"), "{msg}");
}
