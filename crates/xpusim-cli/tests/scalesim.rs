//! `xpusim run --model topology.csv --hw config.cfg` against SCALE-Sim 3.0.0's own numbers
//! (`shared/scalesim/golden.csv`), and a SCALE-Sim topology run on an ordinary chip.

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/scalesim");
    p.join("golden.csv").exists().then_some(p)
}

fn xpusim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xpusim"))
        .args(args)
        .output()
        .expect("the xpusim binary runs")
}

/// Golden rows of one run, as (column name → value) maps, in layer order.
fn golden_rows(dir: &Path, run_id: &str) -> Vec<Vec<(String, String)>> {
    let text = std::fs::read_to_string(dir.join("golden.csv")).expect("golden.csv reads");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split(',')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|f| f[0] == run_id)
        .map(|f| header.iter().cloned().zip(f).collect())
        .collect()
}

fn col<'a>(row: &'a [(String, String)], name: &str) -> &'a str {
    &row.iter().find(|(k, _)| k == name).expect("column").1
}

#[test]
fn scalesim_inputs_reproduce_the_golden_report() {
    let Some(dir) = shared() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "../shared is required under CI=true: a test that reads it must not skip"
        );
        println!("skipped: shared/scalesim not present");
        return;
    };
    // CALC (stall-free) and USER (stalls, bandwidth-limited DRAM) runs, all three dataflows.
    for (topo, cfg) in [
        ("test_mnk_input", "8x8_os_CALC_sram16-16-16"),
        ("test_mnk_input", "16x16_is_USER2_sram8-8-8"),
        ("test", "32x32_ws_USER10_sram64-64-64"),
        ("test", "32x32_os_USER10_sram64-64-64"),
    ] {
        let run_id = format!("{topo}__{cfg}");
        let golden = golden_rows(&dir, &run_id);
        assert!(!golden.is_empty(), "{run_id} has golden rows");
        let t = dir.join(format!("topologies/{topo}.csv"));
        let c = dir.join(format!("configs/{cfg}.cfg"));
        let o = xpusim(&[
            "run",
            "--model",
            t.to_str().expect("utf-8 path"),
            "--hw",
            c.to_str().expect("utf-8 path"),
            "--format",
            "json",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        let layers = v["layers"].as_array().expect("layers");
        assert_eq!(layers.len(), golden.len(), "{run_id}");
        for (l, g) in layers.iter().zip(&golden) {
            let total: u64 = col(g, "Total Cycles").parse().expect("int");
            let stall: u64 = col(g, "Stall Cycles").parse().expect("int");
            assert_eq!(l["total_cycles"], total, "{run_id}");
            assert_eq!(l["stall_cycles"], stall, "{run_id}");
            assert_eq!(l["cycles"], total - stall, "{run_id}");
            for (ours, theirs) in [
                ("sram_ifmap_reads", "SRAM IFMAP Reads"),
                ("sram_filter_reads", "SRAM Filter Reads"),
                ("sram_ofmap_writes", "SRAM OFMAP Writes"),
                ("dram_ifmap_reads", "DRAM IFMAP Reads"),
                ("dram_filter_reads", "DRAM Filter Reads"),
                ("dram_ofmap_writes", "DRAM OFMAP Writes"),
            ] {
                let g: u64 = col(g, theirs).parse().expect("int");
                assert_eq!(l[ours], g, "{run_id} {ours}");
            }
            let util: f64 = col(g, "Overall Util %").parse().expect("float");
            let ours = l["utilization"].as_f64().expect("number");
            assert!((ours - util).abs() < 1e-6, "{run_id}: {ours} vs {util}");
        }
    }
}

#[test]
fn a_topology_runs_on_an_ordinary_chip_and_bad_pairs_fail_cleanly() {
    let Some(dir) = shared() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "../shared is required under CI=true: a test that reads it must not skip"
        );
        println!("skipped: shared/scalesim not present");
        return;
    };
    let t = dir.join("topologies/Resnet_test.csv");
    let t = t.to_str().expect("utf-8 path");
    let o = xpusim(&["run", "--model", t, "--hw", "h100-sxm", "--format", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(v["macs"].as_u64().expect("macs") > 0);

    // A config with a non-topology model names both.
    let c = dir.join("configs/8x8_os_CALC_sram16-16-16.cfg");
    let o = xpusim(&[
        "run",
        "--model",
        "resnet-50",
        "--hw",
        c.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("topology .csv") && e.contains("resnet-50"),
        "{e}"
    );

    // Workload flags SCALE-Sim has no notion of are refused, not silently dropped.
    let o = xpusim(&[
        "run",
        "--model",
        t,
        "--hw",
        c.to_str().expect("utf-8"),
        "--batch",
        "4",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("--batch") && e.contains("SCALE-Sim"), "{e}");
}

#[test]
fn a_missing_topology_file_is_a_clear_error() {
    let o = xpusim(&[
        "run",
        "--model",
        "/nonexistent/topo.csv",
        "--hw",
        "h100-sxm",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("/nonexistent/topo.csv") && !e.contains("panicked"),
        "{e}"
    );
}
