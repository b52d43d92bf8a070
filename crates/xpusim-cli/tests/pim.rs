//! `run --system <xPU+PIM system>`, `list pim` and `attacc` end to end.

use std::process::Command;

fn xpusim(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xpusim"))
        .args(args)
        .output()
        .expect("run xpusim");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn run_gpt3_on_dgx_a100_attacc() {
    let (ok, out, err) = xpusim(&[
        "run",
        "--model",
        "gpt3-175b",
        "--system",
        "dgx-a100-attacc",
        "--phase",
        "decode",
        "--batch",
        "64",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("placement attention-on-pim"), "{out}");
    assert!(out.contains("attn.sdpa") && out.contains("PIM"), "{out}");
    let (ok, out, err) = xpusim(&[
        "run",
        "--model",
        "gpt3-175b",
        "--system",
        "dgx-a100-attacc",
        "--phase",
        "decode",
        "--batch",
        "1",
        "--placement",
        "auto",
        "--format",
        "csv",
    ]);
    assert!(ok, "{err}");
    assert!(out.lines().count() > 10);
}

#[test]
fn bad_placement_and_pim_listing() {
    let (ok, _, err) = xpusim(&[
        "run",
        "--model",
        "gpt3-175b",
        "--system",
        "dgx-a100-attacc",
        "--placement",
        "everywhere",
    ]);
    assert!(!ok);
    assert!(err.contains("unknown placement"), "{err}");
    let (ok, out, err) = xpusim(&["list", "pim"]);
    assert!(ok, "{err}");
    for name in [
        "hbm-pim-aquabolt",
        "gddr6-aim",
        "attacc-bank",
        "attacc-bg",
        "upmem-dimm",
        "dgx-a100-attacc",
    ] {
        assert!(out.contains(name), "{name}: {out}");
    }
}

#[test]
fn attacc_prints_paper_and_xpusim() {
    let (ok, out, err) = xpusim(&["attacc", "--batch", "1,64"]);
    assert!(ok, "{err}");
    assert!(out.contains("2.81") && out.contains("2.67"), "{out}");
    assert_eq!(out.matches("┆ yes ").count(), 2, "{out}");
}
