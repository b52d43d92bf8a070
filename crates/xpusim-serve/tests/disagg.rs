//! Prefill/decode disaggregation: conservation, the KV transfer on the critical path, and
//! decode replicas that never run prompts.

mod common;

use common::Affine;
use xpusim_serve::{
    poisson, serve, serve_disaggregated, Disaggregation, KvLink, Request, SchedulerConfig, Slo,
    StepModel, TokenDist,
};

fn pools(p: u64, d: u64, bandwidth: f64) -> Disaggregation {
    Disaggregation {
        prefill_replicas: p,
        decode_replicas: d,
        link: KvLink {
            bandwidth_bytes_per_s: bandwidth,
            latency_s: 0.0,
        },
    }
}

#[test]
fn every_request_finishes_and_tokens_are_conserved() {
    let m = Affine::new(200_000);
    let r = poisson(
        30.0,
        800,
        TokenDist::Uniform { lo: 1, hi: 1500 },
        TokenDist::Uniform { lo: 1, hi: 400 },
        3,
    )
    .unwrap();
    let cfg = SchedulerConfig::default();
    let rep = serve_disaggregated(
        &m,
        &m,
        &r,
        &cfg,
        &pools(2, 3, 1e11),
        &Slo::default(),
        Some(1.0),
    )
    .unwrap();
    let mm = &rep.metrics;
    assert_eq!(mm.requests, r.len());
    assert_eq!(
        mm.output_tokens,
        r.iter().map(|x| x.output_tokens).sum::<u64>()
    );
    assert_eq!(rep.devices, 5);
    assert!(mm.ttft_s.p50 > 0.0 && mm.e2e_s.p99 >= mm.ttft_s.p99);
    assert!(mm.peak_kv_bytes <= mm.kv_capacity_bytes);
}

#[test]
fn the_kv_transfer_sits_between_first_token_and_decode() {
    let m = Affine::new(1_000_000);
    // Lone requests (one every 100 s on average): no queueing anywhere.
    let r = poisson(0.01, 40, TokenDist::Fixed(1000), TokenDist::Fixed(50), 8).unwrap();
    let cfg = SchedulerConfig::default();
    let fast =
        serve_disaggregated(&m, &m, &r, &cfg, &pools(1, 1, 1e15), &Slo::default(), None).unwrap();
    // 1000 tokens × 1000 B at 1 MB/s: one second per request.
    let slow =
        serve_disaggregated(&m, &m, &r, &cfg, &pools(1, 1, 1e6), &Slo::default(), None).unwrap();
    assert_eq!(fast.metrics.ttft_s.p50, slow.metrics.ttft_s.p50);
    let added = slow.metrics.e2e_s.mean - fast.metrics.e2e_s.mean;
    assert!((added - 1.0).abs() < 1e-6, "transfer added {added} s");
    // The prefill pool is the colocated server's prefill: same TTFT for a lone request.
    let colo = serve(&m, &r, &cfg, &Slo::default(), None).unwrap();
    assert!((colo.metrics.ttft_s.p50 - fast.metrics.ttft_s.p50).abs() < 1e-12);
    // Decode iterations carry no prompt: one step per remaining token.
    let step = m.fixed_s + m.per_token_s + m.per_ctx_s * 1025.0;
    let tpot = fast.metrics.tpot_s.p50;
    assert!(
        (tpot - step).abs() < 0.02 * step,
        "tpot {tpot} vs decode step {step}"
    );
}

#[test]
fn empty_pools_and_bad_links_are_errors() {
    let m = Affine::new(1_000);
    let r = poisson(1.0, 3, TokenDist::Fixed(10), TokenDist::Fixed(5), 1).unwrap();
    let cfg = SchedulerConfig::default();
    let e = serve_disaggregated(&m, &m, &r, &cfg, &pools(0, 1, 1e9), &Slo::default(), None)
        .unwrap_err();
    assert!(e.to_string().contains("at least one replica"), "{e}");
    let e = serve_disaggregated(&m, &m, &r, &cfg, &pools(1, 1, 0.0), &Slo::default(), None)
        .unwrap_err();
    assert!(e.to_string().contains("bandwidth"), "{e}");
    assert!(m.kv_link().is_none());
}

#[test]
fn kv_exhaustion_names_the_request_by_its_own_index() {
    let m = Affine::new(1_000);
    let r = vec![
        Request {
            arrival_s: 0.0,
            input_tokens: 10,
            output_tokens: 5,
        },
        Request {
            arrival_s: 0.1,
            input_tokens: 10,
            output_tokens: 5,
        },
        Request {
            arrival_s: 0.2,
            input_tokens: 1_500,
            output_tokens: 5,
        },
    ];
    let cfg = SchedulerConfig::default();
    let e = serve_disaggregated(&m, &m, &r, &cfg, &pools(1, 2, 1e9), &Slo::default(), None)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("KV cache exhausted: request 2 (1500 input + 5 output tokens)"),
        "{e}"
    );
}

/// Issue #16: a billion replicas used to loop per replica; replicas dealt no request now
/// cost one closed-form term, and their idle power is counted (it was dropped before).
#[test]
fn replicas_beyond_the_requests_idle_in_closed_form() {
    let m = Affine::new(1_000_000);
    let r = poisson(1.0, 3, TokenDist::Fixed(100), TokenDist::Fixed(10), 5).unwrap();
    let cfg = SchedulerConfig::default();
    let run = |p: u64, d: u64| {
        serve_disaggregated(&m, &m, &r, &cfg, &pools(p, d, 1e12), &Slo::default(), None).unwrap()
    };
    let small = run(3, 3);
    let big = run(1_000_000_000, 1_000_000_000);
    // Every request lands on a replica of its own in both runs: same timings.
    assert_eq!(small.metrics.e2e_s.p99, big.metrics.e2e_s.p99);
    let span = small.metrics.makespan_s;
    let idle_w = m.idle_power_w();
    let extra = 2.0 * (1_000_000_000.0 - 3.0) * idle_w * span;
    let got = big.metrics.energy_j - small.metrics.energy_j;
    assert!(
        (got - extra).abs() <= 1e-9 * extra,
        "extra idle energy {got} J, expected {extra} J"
    );
    assert_eq!(big.devices, 2_000_000_000);
}
