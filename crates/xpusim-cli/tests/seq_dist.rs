//! `--seq-dist` end to end: the inline and file forms give the same packed pass on every
//! command that builds a model, FLOPs equal separate runs at each length, packing beats
//! padding, and bad input is an error naming the token or line.

use std::process::Command;

fn xpusim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xpusim"))
        .args(args)
        .output()
        .expect("the xpusim binary runs")
}

fn json(args: &[&str]) -> serde_json::Value {
    let o = xpusim(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("JSON output")
}

fn run(extra: &[&str]) -> serde_json::Value {
    let mut a = vec![
        "run",
        "--model",
        "bert-base",
        "--hw",
        "a100-80gb",
        "--format",
        "json",
    ];
    a.extend_from_slice(extra);
    json(&a)
}

fn stderr_of(args: &[&str]) -> String {
    let o = xpusim(args);
    assert!(!o.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const DIST: &str = "64:6,128:3,320:2";

#[test]
fn inline_and_file_forms_agree_and_report_the_distribution() {
    let inline = run(&["--seq-dist", DIST]);
    let dir = std::env::temp_dir().join(format!("xpusim-seq-dist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("lengths.csv");
    std::fs::write(&file, "# len,count\n320,2\n64,6 # short ones\n\n128,3\n").unwrap();
    let from_file = run(&["--seq-dist", file.to_str().unwrap()]);
    assert_eq!(inline, from_file);
    let d = &inline["seq_dist"];
    assert_eq!(d["bins"], DIST);
    assert_eq!(d["sequences"], 11);
    assert_eq!(d["packed_tokens"], 64 * 6 + 128 * 3 + 320 * 2);
    assert_eq!(d["padded_tokens"], 11 * 320);
    assert_eq!(inline["batch"], 11);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flops_equal_separate_runs_and_packing_beats_padding() {
    let packed = run(&["--seq-dist", DIST]);
    let mut flops = 0;
    for (len, count) in [("64", "6"), ("128", "3"), ("320", "2")] {
        flops += run(&["--batch", count, "--seq", len])["flops"]
            .as_u64()
            .unwrap();
    }
    assert_eq!(packed["flops"].as_u64().unwrap(), flops);
    let padded = run(&["--batch", "11", "--seq", "320"]);
    assert!(packed["flops"].as_u64() < padded["flops"].as_u64());
    assert!(packed["latency_s"].as_f64() < padded["latency_s"].as_f64());
    // A one-length distribution is the padded pass.
    let one = run(&["--seq-dist", "128:4"]);
    let plain = run(&["--batch", "4", "--seq", "128"]);
    assert_eq!(one["flops"], plain["flops"]);
    assert_eq!(one["latency_s"], plain["latency_s"]);
}

#[test]
fn compare_cost_and_inspect_take_it() {
    let c = json(&[
        "compare",
        "--models",
        "bert-base",
        "--hw",
        "a100-80gb,h100-sxm",
        "--seq-dist",
        DIST,
        "--format",
        "json",
    ]);
    let text = c.to_string();
    assert!(text.contains("\"packed_tokens\":1408"), "{text}");
    let o = xpusim(&[
        "cost",
        "--hw",
        "a100-80gb",
        "--models",
        "bert-base",
        "--seq-dist",
        DIST,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let i = json(&[
        "inspect",
        "bert-base",
        "--seq-dist",
        DIST,
        "--format",
        "json",
    ]);
    assert_eq!(i["ir"]["seq_dist"]["packed_tokens"], 1408);
}

#[test]
fn bad_input_names_the_token_or_line() {
    let base = [
        "run",
        "--model",
        "bert-base",
        "--hw",
        "a100-80gb",
        "--seq-dist",
    ];
    let with = |v: &str| {
        let mut a = base.to_vec();
        a.push(v);
        stderr_of(&a)
    };
    let e = with("64:6,12x:3");
    assert!(e.contains("`12x:3`") && e.contains("length `12x`"), "{e}");
    let e = with("64:0");
    assert!(e.contains("count must be at least 1"), "{e}");
    let e = with("64");
    assert!(e.contains("`64`") && e.contains("len:count"), "{e}");
    let e = with("600:1");
    assert!(e.contains("600") && e.contains("512"), "{e}");
    let dir = std::env::temp_dir().join(format!("xpusim-seq-dist-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.csv");
    std::fs::write(&file, "# len,count\n128,4\n256 3\n").unwrap();
    let e = with(file.to_str().unwrap());
    assert!(e.contains("(line 3)") && e.contains("`256 3`"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
    // With --batch or --seq, or on a decode pass: a clear refusal.
    let e = stderr_of(&[
        "run",
        "--model",
        "bert-base",
        "--hw",
        "a100-80gb",
        "--seq-dist",
        DIST,
        "--batch",
        "4",
    ]);
    assert!(e.contains("drop --batch and --seq"), "{e}");
    let e = stderr_of(&[
        "run",
        "--model",
        "llama-2-7b",
        "--hw",
        "a100-80gb",
        "--phase",
        "decode",
        "--seq-dist",
        DIST,
    ]);
    assert!(e.contains("encoders and prefill"), "{e}");
    let e = stderr_of(&[
        "run",
        "--model",
        "resnet-50",
        "--hw",
        "a100-80gb",
        "--seq-dist",
        DIST,
    ]);
    assert!(e.contains("no sequence length to vary"), "{e}");
    let e = with("lengths-missing.csv");
    assert!(
        e.contains("lengths-missing.csv") && e.contains("no such file"),
        "{e}"
    );
}
