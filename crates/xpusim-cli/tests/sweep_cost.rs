//! `xpusim sweep` killed half-way and run again gives the results of an uninterrupted
//! run; `xpusim cost` prices a chip and re-costs it at another node.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xpusim"))
}

fn xpusim(args: &[&str]) -> Output {
    bin().args(args).output().expect("the xpusim binary runs")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("xpusim-cli-sweep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// 8 × 8 × 4 = 256 points on two workloads: a few seconds in a debug build.
const SPEC: &str = r#"
name = "kill-test"
base = "h100-sxm"
scaling = "physical"
objectives = ["throughput", "energy"]
[[axis]]
path = "cores"
from = 66
to = 198
steps = 8
[[axis]]
path = "memory[2].bandwidth_gbps"
from = 2000
to = 8000
steps = 8
[[axis]]
path = "clock_ghz"
values = [1.4, 1.6, 1.83, 2.0]
[[workload]]
model = "resnet-50"
[[workload]]
model = "llama-2-7b"
phase = "decode"
batch = 8
"#;

fn data_lines(p: &Path) -> usize {
    std::fs::read_to_string(p).map_or(0, |t| t.lines().count().saturating_sub(2))
}

#[test]
fn killing_a_sweep_half_way_loses_nothing() {
    let dir = tmp("kill");
    let spec = dir.join("spec.toml");
    std::fs::write(&spec, SPEC).unwrap();
    let (whole, cut) = (dir.join("whole"), dir.join("cut"));
    let s = spec.to_str().unwrap();
    let o = xpusim(&["sweep", s, "--out", whole.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // Start again elsewhere and kill the process once some chunks are in its journal.
    let mut child = bin()
        .args(["sweep", s, "--out", cut.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let journal = cut.join("journal.csv");
    let t0 = Instant::now();
    while data_lines(&journal) < 64 && t0.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = data_lines(&journal);
    assert!(
        !cut.join("results.csv").exists(),
        "killed before the end ({done} lines)"
    );

    let o = xpusim(&["sweep", s, "--out", cut.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let msg = String::from_utf8_lossy(&o.stderr);
    assert!(msg.contains("already done"), "{msg}");
    for f in ["results.csv", "pareto.csv"] {
        let a = std::fs::read(whole.join(f)).unwrap();
        let b = std::fs::read(cut.join(f)).unwrap();
        assert!(a == b, "{f} differs after resume");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sweep_errors_name_the_problem() {
    let dir = tmp("bad");
    let spec = dir.join("bad.toml");
    std::fs::write(
        &spec,
        SPEC.replace("path = \"clock_ghz\"", "path = \"clock_gz\""),
    )
    .unwrap();
    let o = xpusim(&[
        "sweep",
        spec.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("bad.toml") && e.contains("clock_gz"), "{e}");
    let o = xpusim(&["sweep", spec.to_str().unwrap(), "--shard", "3/2"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--shard"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cost_json_adds_up_and_recosts_at_7nm() {
    let o = xpusim(&[
        "cost",
        "--hw",
        "h100",
        "--node",
        "7",
        "--models",
        "resnet-50",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    let chip = |i: usize, k: &str| r[i]["chip"][k].as_f64().unwrap();
    for i in 0..2 {
        let parts = chip(i, "die_usd")
            + chip(i, "memory_usd")
            + chip(i, "packaging_usd")
            + chip(i, "test_usd");
        assert!((parts - chip(i, "total_usd")).abs() < 1e-6);
    }
    assert!(chip(1, "die_area_mm2") > chip(0, "die_area_mm2"));
    assert_eq!(r[1]["chip"]["exceeds_reticle"], true);
    let t = &r[0]["work"][0]["tco"];
    let sum = ["chip_price_usd", "energy_usd", "hosting_usd"]
        .iter()
        .map(|k| t[k].as_f64().unwrap())
        .sum::<f64>();
    assert!((sum - t["total_usd"].as_f64().unwrap()).abs() < 1e-6);

    let o = xpusim(&["cost", "--hw", "h100", "--node", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("2 nm"));
}

/// Issue #16 reproducers: a 10⁹-point space with `--max-points 3` used to list every point
/// before working (a hang); an axis of i64::MAX steps panicked; a space too large to index
/// is refused when the spec loads.
#[test]
fn huge_design_spaces_are_lazy_or_refused() {
    let dir = tmp("huge");
    let axes = |steps: &str| {
        format!(
            "name = \"huge\"\nbase = \"h100-sxm\"\n\
             [[axis]]\npath = \"cores\"\nfrom = 66\nto = 198\nsteps = {steps}\n\
             [[axis]]\npath = \"memory[2].bandwidth_gbps\"\nfrom = 2000\nto = 8000\nsteps = 1000\n\
             [[axis]]\npath = \"clock_ghz\"\nfrom = 1.0\nto = 2.0\nsteps = 1000\n\
             [[workload]]\nmodel = \"llama-2-7b\"\nphase = \"decode\"\nbatch = 8\n"
        )
    };
    let spec = dir.join("huge.toml");
    std::fs::write(&spec, axes("1000")).unwrap();
    let out = dir.join("out");
    let o = xpusim(&[
        "sweep",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--max-points",
        "3",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A stopped sweep keeps its journal (a header comment, the column line, one row a point).
    assert_eq!(data_lines(&out.join("journal.csv")), 3);

    std::fs::write(&spec, axes("9223372036854775807")).unwrap();
    let o = xpusim(&[
        "sweep",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.contains("huge.toml") && e.contains("steps") && !e.contains("panicked"),
        "{e}"
    );

    // 10⁴ values on each of four axes: 10¹⁶ points.
    let four = axes("10000").replace("steps = 1000\n", "steps = 10000\n")
        + "[[axis]]\npath = \"power.tdp_w\"\nfrom = 300\nto = 1000\nsteps = 10000\n";
    std::fs::write(&spec, four).unwrap();
    let o = xpusim(&[
        "sweep",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("design points"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Issue #16: a sweep of the built-in npu-systolic failed on every point for a missing die
/// area, with the reason only in results.csv. It now costs (its die area is derived in the
/// preset), and a base that cannot be costed says why on stderr.
#[test]
fn builtin_npu_sweeps_cost_and_problems_reach_stderr() {
    let dir = tmp("npu");
    let spec = dir.join("npu.toml");
    let body = |base: &str| {
        format!(
            "name = \"npu\"\nbase = \"{base}\"\n[[axis]]\npath = \"clock_ghz\"\nvalues = [0.9, 1.0]\n\
             [[workload]]\nmodel = \"resnet-50\"\n"
        )
    };
    std::fs::write(&spec, body("npu-systolic")).unwrap();
    let out = dir.join("a");
    let o = xpusim(&[
        "sweep",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && err.contains("0 with problems"),
        "{err}"
    );
    std::fs::write(&spec, body("tpu-v5e")).unwrap();
    let out = dir.join("b");
    let o = xpusim(&[
        "sweep",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("2 point(s): cost:") && err.contains("die_area_mm2"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
