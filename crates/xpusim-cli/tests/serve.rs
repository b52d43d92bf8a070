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
    assert!(e.contains("KV cache exhausted") && e.contains(" GB"), "{e}");
    assert!(e.contains("--tp"), "a suggestion: {e}");
    assert!(!e.contains("panicked"), "{e}");
}

/// Issue #16 reproducers: counts that size allocations or per-replica loops are bounded
/// where they enter (they panicked with "capacity overflow", grew past 8 GiB, or looped a
/// billion times), each a one-line error naming the flag and the range.
#[test]
fn huge_counts_are_one_line_errors_before_any_work() {
    for (args, names) in [
        (
            &["--rate", "2", "--requests", "18446744073709551615"][..],
            "requests",
        ),
        (
            &["--rate", "1e9", "--requests", "100000000"][..],
            "requests",
        ),
        (
            &["--rate", "2", "--disaggregate", "1000000000:1000000000"][..],
            "--disaggregate",
        ),
        (
            &["--rate", "2", "--input-tokens", "1000000000"][..],
            "--input-tokens",
        ),
        (
            &["--rate", "2", "--output-tokens", "exp:1e12"][..],
            "--output-tokens",
        ),
        (&["--rate=-1"][..], "requests/s > 0"),
    ] {
        let mut all = vec!["serve", "--model", "llama-2-7b", "--hw", "h100-sxm"];
        all.extend_from_slice(args);
        let o = xpusim(&all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.lines().count() == 1 && err.contains(names) && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}

/// `serve --slo` (issue #16): the highest rate meeting the percentiles, with its probes.
#[test]
fn slo_search_reports_the_highest_rate_and_its_probes() {
    let o = xpusim(&[
        "serve",
        "--model",
        "llama-2-7b",
        "--hw",
        "h100-sxm",
        "--requests",
        "300",
        "--slo",
        "ttft_p99=1s,tpot_p99=50ms",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = v["max_rate_per_s"].as_f64().expect("a rate");
    let probes = v["probes"].as_array().unwrap();
    assert!(probes.len() >= 3);
    let best = probes
        .iter()
        .filter(|p| p["met"] == true)
        .map(|p| p["rate_per_s"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert_eq!(best, r);
    assert!(v["metrics_at_max_rate"]["ttft_s"]["p99"].as_f64().unwrap() <= 1.0);
    let o = xpusim(&[
        "serve",
        "--model",
        "llama-2-7b",
        "--hw",
        "h100-sxm",
        "--slo",
        "ttft_p99=fast",
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("--slo") && e.contains("ttft_p99=fast"), "{e}");
}
