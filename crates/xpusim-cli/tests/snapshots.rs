//! Snapshots of `run --format json` for every kind of target (one schema, docs/json-schema.md)
//! and of a `compare` table across kinds. A change to a number or a field shows up as a
//! diff of `tests/snapshots/*.snap` to review (`cargo insta review`), never silently.

use std::process::Command;

fn xpusim(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_xpusim"))
        .args(args)
        .output()
        .expect("run xpusim");
    assert!(
        out.status.success(),
        "xpusim {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run_json(args: &[&str]) -> String {
    let mut a = vec!["run"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--format", "json"]);
    xpusim(&a)
}

#[test]
fn json_of_a_device() {
    insta::assert_snapshot!(run_json(&[
        "--model",
        "llama-2-7b",
        "--hw",
        "h100-sxm",
        "--phase",
        "decode",
        "--batch",
        "8",
    ]));
}

#[test]
fn json_of_a_system() {
    insta::assert_snapshot!(run_json(&[
        "--model",
        "llama-2-70b",
        "--hw",
        "dgx-h100",
        "--tp",
        "8",
        "--phase",
        "decode",
        "--batch",
        "8",
    ]));
}

#[test]
fn json_of_a_system_with_pim() {
    insta::assert_snapshot!(run_json(&[
        "--model",
        "gpt3-175b",
        "--hw",
        "dgx-a100-attacc",
        "--phase",
        "decode",
        "--batch",
        "64",
    ]));
}

#[test]
fn json_of_a_device_priced_by_the_mapping_search() {
    insta::assert_snapshot!(run_json(&[
        "--model",
        "mobilenet-v2",
        "--hw",
        "tpu-v4",
        "--batch",
        "1",
    ]));
}

#[test]
fn compare_table_across_target_kinds() {
    insta::assert_snapshot!(xpusim(&[
        "compare",
        "--models",
        "resnet-50,llama-2-7b",
        "--hw",
        "h100-sxm,tpu-v4,dgx-h100,dgx-a100-attacc",
    ]));
}
