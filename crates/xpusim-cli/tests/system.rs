//! `xpusim run --system …` and `xpusim list systems` end to end.

use std::process::{Command, Output};

fn xpusim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xpusim"))
        .args(args)
        .output()
        .expect("the xpusim binary runs")
}

fn ok(args: &[&str]) -> String {
    let o = xpusim(args);
    assert!(
        o.status.success(),
        "xpusim {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(args: &[&str]) -> String {
    let o = xpusim(args);
    assert_eq!(
        o.status.code(),
        Some(2),
        "xpusim {args:?} should fail cleanly"
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn list_systems_names_every_preset() {
    let out = ok(&["list", "systems"]);
    for n in ["dgx-a100", "dgx-h100", "hgx-h200", "tpu-v5e-8", "mi300x-8"] {
        assert!(out.contains(n), "{n} missing:\n{out}");
    }
}

#[test]
fn tensor_parallel_decode_runs_and_reports_communication() {
    let args = [
        "run",
        "--model",
        "llama-2-70b",
        "--system",
        "dgx-h100",
        "--tp",
        "8",
        "--phase",
        "decode",
        "--batch",
        "8",
        "--format",
        "json",
    ];
    let v: serde_json::Value = serde_json::from_str(&ok(&args)).unwrap();
    assert_eq!(v["devices"], 8);
    assert_eq!(v["target"], "system");
    assert_eq!(v["system"]["parallelism"]["tp"], 8);
    assert!(v["system"]["communication_s"].as_f64().unwrap() > 0.0);
    assert!(v["latency_s"].as_f64().unwrap() > 0.0);
    let table = ok(&args[..args.len() - 2]);
    assert!(
        table.contains("tp_allreduce") && table.contains("tokens/s"),
        "{table}"
    );
}

#[test]
fn clear_errors() {
    // A layout the user fixes must hold the model; without --tp the smallest that does is
    // chosen.
    let e = err(&[
        "run",
        "--model",
        "llama-2-70b",
        "--system",
        "dgx-a100",
        "--phase",
        "decode",
        "--tp",
        "1",
    ]);
    assert!(e.contains("does not fit") && e.contains("GB"), "{e}");
    let auto: serde_json::Value = serde_json::from_str(&ok(&[
        "run",
        "--model",
        "llama-2-70b",
        "--system",
        "dgx-a100",
        "--phase",
        "decode",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(auto["fits_in_memory"], true);
    assert_eq!(auto["system"]["parallelism"]["tp"], 2);
    let e = err(&["run", "--model", "llama-2-7b", "--hw", "h100", "--tp", "2"]);
    assert!(e.contains("system"), "{e}");
    let e = err(&["run", "--model", "llama-2-7b", "--system", "dgx-h10"]);
    assert!(e.contains("did you mean"), "{e}");
    let e = err(&[
        "run",
        "--model",
        "llama-2-7b",
        "--system",
        "dgx-h100",
        "--batch",
        "3",
        "--microbatches",
        "2",
        "--pp",
        "2",
    ]);
    assert!(e.contains("microbatches"), "{e}");
}
