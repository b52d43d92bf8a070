//! `run --hw <system with PIM>`, `list pim` and `attacc` end to end.

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
    let (ok, _, err) = xpusim(&[
        "run",
        "--model",
        "gpt3-175b",
        "--system",
        "dgx-a100-attacc",
        "--tp",
        "2",
    ]);
    // Two A100s cannot hold GPT-3's weights: an error with the numbers, PIM included.
    assert!(!ok);
    assert!(
        err.contains("does not fit") && err.contains("PIM holds"),
        "{err}"
    );
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
    let (ok, out, err) = xpusim(&["attacc", "--batch", "1,32", "--wide"]);
    assert!(ok, "{err}");
    assert!(out.contains("2.81") && out.contains("2.67"), "{out}");
    // Both batches fit under both capacity rules: two "yes" per row.
    assert_eq!(out.matches("┆ yes ").count(), 4, "{out}");
    assert!(out.contains("paper acct. energy eff. ×"), "{out}");
    // By default the detail columns are left out and named under the table.
    let (ok, out, err) = xpusim(&["attacc", "--batch", "1,32"]);
    assert!(ok, "{err}");
    assert_eq!(out.matches("┆ yes ").count(), 2, "{out}");
    assert!(out.contains("not shown: fits placed"), "{out}");
}

#[test]
fn custom_system_with_inconsistent_pim_organisation_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("xpusim-pim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let preset = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../xpusim-hw/presets/pim/attacc-bank.toml");
    let pim = std::fs::read_to_string(preset)
        .unwrap()
        .replace("bank_groups = 8", "bank_groups = 6");
    std::fs::write(dir.join("mypim.toml"), pim).unwrap();
    let sys = "name = \"mine\"\ndisplay_name = \"mine\"\ndevice = \"a100-hbm3\"\ncount = 8\ndevices_per_node = 8\n[scale_up]\nkind = \"switch\"\nname = \"nvswitch\"\nbandwidth_gbps = 300\nlatency_us = 3\n[pim]\ndevice = \"mypim.toml\"\nmodules = 8\nplacement = \"auto\"\n[pim.link]\nbandwidth_gbps = 600\nlatency_us = 1\nenergy_pj_per_byte = 10\n";
    let sys_path = dir.join("sys.toml");
    std::fs::write(&sys_path, sys).unwrap();
    let (ok, _, err) = xpusim(&[
        "run",
        "--model",
        "gpt3-175b",
        "--system",
        sys_path.to_str().unwrap(),
        "--batch",
        "8",
    ]);
    assert!(!ok);
    assert!(
        err.contains("mypim.toml:16: field `organization.banks`: banks (32) must be divisible by bank_groups (6)"),
        "{err}"
    );
    // The same system with a consistent organisation runs.
    let pim = std::fs::read_to_string(dir.join("mypim.toml"))
        .unwrap()
        .replace("bank_groups = 6", "bank_groups = 8");
    std::fs::write(dir.join("mypim.toml"), pim).unwrap();
    let (ok, out, err) = xpusim(&[
        "run",
        "--model",
        "gpt3-175b",
        "--system",
        sys_path.to_str().unwrap(),
        "--batch",
        "8",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("placement auto"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
