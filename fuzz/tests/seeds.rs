//! Every fuzz target's body on its seed inputs (the files `tools/fuzz-seeds.sh` copies) and
//! on the regression inputs in `fuzz/regressions/<target>/`, on stable:
//! `cargo test --manifest-path fuzz/Cargo.toml`. Keeps the targets compiling and running
//! without nightly; the regression tests proper live in the library crates.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Files directly in `dir` whose name ends with `ext` (all files for `""`); none when the
/// folder is absent (the shared SCALE-Sim files).
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let Ok(rd) = fs::read_dir(dir) else {
        eprintln!("skipping {}: absent", dir.display());
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.to_string_lossy().ends_with(ext))
        .collect();
    v.sort();
    v
}

fn run(target: fn(&[u8]), seeds: &[(&str, &str)], regressions: &str) -> usize {
    let mut n = 0;
    let mut all: Vec<PathBuf> = seeds
        .iter()
        .flat_map(|(d, ext)| files(&root().join(d), ext))
        .collect();
    all.extend(files(
        &root().join("fuzz/regressions").join(regressions),
        "",
    ));
    for f in all {
        let data = fs::read(&f).unwrap();
        target(&data);
        n += 1;
    }
    n
}

const PRESETS: &str = "crates/xpusim-hw/presets";

#[test]
fn device_toml() {
    assert!(
        run(
            xpusim_fuzz::device_toml,
            &[(PRESETS, ".toml")],
            "device_toml"
        ) > 20
    );
}

#[test]
fn system_toml() {
    let seeds = [("crates/xpusim-hw/presets/systems", ".toml")];
    assert!(run(xpusim_fuzz::system_toml, &seeds, "system_toml") > 10);
}

#[test]
fn pim_toml() {
    let seeds = [("crates/xpusim-hw/presets/pim", ".toml")];
    assert!(run(xpusim_fuzz::pim_toml, &seeds, "pim_toml") > 5);
}

#[test]
fn npu_arch() {
    assert!(run(xpusim_fuzz::npu_arch, &[(PRESETS, ".toml")], "npu_arch") > 20);
}

#[test]
fn hf_config() {
    let seeds = [("crates/xpusim-hf/tests/fixtures", ".json")];
    assert!(run(xpusim_fuzz::hf_config, &seeds, "hf_config") > 20);
}

#[test]
fn scalesim_cfg() {
    run(
        xpusim_fuzz::scalesim_cfg,
        &[("../shared/scalesim/configs", ".cfg")],
        "scalesim_cfg",
    );
}

#[test]
fn scalesim_topology() {
    let seeds = [("../shared/scalesim/topologies", ".csv")];
    run(xpusim_fuzz::scalesim_topology, &seeds, "scalesim_topology");
}

#[test]
fn validation_csv() {
    // Whole files: the fuzz seeds are their first rows, this runs every row once.
    let seeds = [
        ("data/validation", "deepbench.csv"),
        // Kernel kinds with `skip_input` (cuDNN's skip-input RNNs).
        ("data/validation", "deepbench-train.csv"),
        ("data/validation", "public.csv"),
        // The power rows' `scope` and `power_cap_w` columns.
        ("data/validation", "power.csv"),
        // FP8 kernels and batched (grouped) GEMMs.
        ("data/validation", "deepgemm.csv"),
        // Encoder rows with a device file of the validation set and a runtime column.
        ("data/validation", "trt-bert.csv"),
        // Attention kernels (the `attention:` kind with a causal mask).
        ("data/validation", "attention.csv"),
    ];
    assert!(run(xpusim_fuzz::validation_csv, &seeds, "validation_csv") >= 3);
}

#[test]
fn sweep_spec() {
    assert!(
        run(
            xpusim_fuzz::sweep_spec,
            &[("examples/sweeps", ".toml")],
            "sweep_spec"
        ) >= 3
    );
}

#[test]
fn seq_dist() {
    assert!(run(xpusim_fuzz::seq_dist, &[("examples/seq-dist", ".csv")], "seq_dist") >= 1);
}
