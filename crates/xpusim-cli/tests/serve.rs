//! `xpusim serve` end to end: the documented command shape works, metrics are consistent,
//! and an impossible request is a clear error.

use std::process::Command;

fn xpusim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xpusim"))
        .args(args)
        .output()
        .expect("the xpusim binary runs")
}

#[test]
fn serve_reports_consistent_metrics() {
    let o = xpusim(&[
        "serve",
        "--model",
        "llama-2-7b",
        "--hw",
        "h100-sxm",
        "--rate",
        "2",
        "--requests",
        "60",
        "--price-per-device-hour",
        "2.5",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let m = &v["metrics"];
    assert_eq!(m["requests"], 60);
    for k in ["ttft_s", "tpot_s", "e2e_s"] {
        let (p50, p99) = (m[k]["p50"].as_f64().unwrap(), m[k]["p99"].as_f64().unwrap());
        assert!(0.0 < p50 && p50 <= p99, "{k}: p50 {p50} p99 {p99}");
    }
    // At low load the server keeps up: throughput is close to the offered 2 requests/s.
    let rps = m["requests_per_s"].as_f64().unwrap();
    assert!((1.5..2.8).contains(&rps), "{rps}");
    // Every request's output tokens were produced.
    let out = m["output_tokens"].as_u64().unwrap();
    assert!(out > 0);
    assert!(m["peak_kv_bytes"].as_u64().unwrap() <= m["kv_capacity_bytes"].as_u64().unwrap());
}

#[test]
fn system_serving_and_kv_exhaustion() {
    let o = xpusim(&[
        "serve",
        "--model",
        "llama-2-70b",
        "--system",
        "dgx-h100",
        "--tp",
        "8",
        "--rate",
        "10",
        "--requests",
        "100",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = xpusim(&[
        "serve",
        "--model",
        "llama-2-7b",
        "--hw",
        "h100-sxm",
        "--rate",
        "1",
        "--requests",
        "2",
        "--input-tokens",
        "3000000",
        "--output-tokens",
        "16",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("KV cache exhausted") && e.contains(" B"), "{e}");
    assert!(!e.contains("panicked"), "{e}");
}
