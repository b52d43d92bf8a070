//! Scheduler invariants on an exactly known step model: conservation, Little's law,
//! monotonicity in load, preemption under KV pressure, KV-exhausted errors.

mod common;

use common::Affine;
use proptest::prelude::*;
use xpusim_serve::{
    poisson, serve, simulate, Request, SchedulerConfig, ServeError, Slo, Speculation, StepModel,
    TokenDist,
};

fn reqs(rate: f64, n: usize, inp: &str, out: &str, seed: u64) -> Vec<Request> {
    let i = TokenDist::parse("input", inp).unwrap();
    let o = TokenDist::parse("output", out).unwrap();
    poisson(rate, n, i, o, seed).unwrap()
}

#[test]
fn every_request_finishes_with_its_tokens() {
    let m = Affine::new(200_000);
    let r = reqs(50.0, 2000, "1..600", "1..300", 3);
    let o = simulate(&m, &r, &SchedulerConfig::default()).unwrap();
    assert_eq!(o.records.len(), r.len());
    let want_out: u64 = r.iter().map(|x| x.output_tokens).sum();
    assert_eq!(o.sampled_tokens, want_out);
    // Tokens sampled = decodes + prompt-finishing chunks (one per request without preemption).
    assert_eq!(o.preemptions, 0);
    assert_eq!(o.decode_tokens + r.len() as u64, want_out);
    let want_in: u64 = r.iter().map(|x| x.input_tokens).sum();
    assert_eq!(o.prefill_tokens, want_in);
    for x in &o.records {
        assert!(
            x.arrival_s <= x.first_token_s && x.first_token_s <= x.finish_s,
            "{x:?}"
        );
    }
    assert!(o.kv_samples.iter().all(|s| s.1 <= o.kv_capacity_bytes));
    assert_eq!(o.kv_samples.last().unwrap().1, 0, "all KV freed at the end");
}

#[test]
fn low_load_throughput_matches_arrival_rate_and_ttft_is_one_prefill() {
    let m = Affine::new(1_000_000);
    let r = reqs(0.5, 400, "256", "32", 11);
    let rep = serve(&m, &r, &SchedulerConfig::default(), &Slo::default(), None).unwrap();
    let span = r.last().unwrap().arrival_s - r[0].arrival_s;
    let offered = (r.len() - 1) as f64 / span;
    let got = rep.metrics.requests_per_s;
    assert!(
        (got - offered).abs() / offered < 0.05,
        "throughput {got} vs offered {offered}"
    );
    // A lone 256-token prompt is one iteration.
    let prefill = m.fixed_s + m.per_token_s * 256.0 + m.per_ctx_s * (256.0 * 256.0 / 2.0);
    let p50 = rep.metrics.ttft_s.p50;
    assert!(
        (p50 - prefill).abs() / prefill < 0.05,
        "ttft p50 {p50} vs prefill {prefill}"
    );
    // Little's law: mean requests in system = arrival rate × mean time in system.
    let busy_area: f64 = rep.metrics.e2e_s.mean * offered;
    assert!(
        busy_area < 0.5,
        "a lightly loaded server holds few requests: {busy_area}"
    );
}

#[test]
fn p99_latency_never_drops_as_the_rate_rises() {
    let m = Affine::new(300_000);
    let mut last = 0.0;
    for rate in [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0] {
        let r = reqs(rate, 600, "exp:400", "exp:150", 5);
        let rep = serve(&m, &r, &SchedulerConfig::default(), &Slo::default(), None).unwrap();
        let p99 = rep.metrics.e2e_s.p99;
        assert!(p99 >= last * 0.999, "rate {rate}: p99 {p99} < {last}");
        last = p99;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn doubling_the_rate_never_lowers_p99(seed in 0u64..1000, rate in 0.5f64..40.0) {
        let m = Affine::new(300_000);
        let cfg = SchedulerConfig::default();
        let a = serve(&m, &reqs(rate, 300, "exp:300", "exp:100", seed), &cfg, &Slo::default(), None).unwrap();
        let b = serve(&m, &reqs(2.0 * rate, 300, "exp:300", "exp:100", seed), &cfg, &Slo::default(), None).unwrap();
        prop_assert!(b.metrics.e2e_s.p99 >= a.metrics.e2e_s.p99 * 0.98,
            "p99 {} at {} < {} at {}", b.metrics.e2e_s.p99, 2.0 * rate, a.metrics.e2e_s.p99, rate);
    }

    #[test]
    fn conservation_under_any_limits(seed in 0u64..1000, max_tokens in 16u64..4096,
            max_seqs in 1u64..300, block in 1u64..64, cap in 2_000u64..50_000,
            spec in proptest::option::of((1u64..8, 0.0f64..=1.0))) {
        let m = Affine::new(cap);
        let speculation = spec.map(|(g, a)| Speculation { draft_tokens: g, acceptance: a });
        let cfg = SchedulerConfig { max_batched_tokens: max_tokens, max_seqs, max_chunk: max_tokens, block_tokens: block, speculation, ..SchedulerConfig::default() };
        let r = reqs(200.0, 150, "1..900", "1..300", seed);
        match simulate(&m, &r, &cfg) {
            Ok(o) => {
                prop_assert_eq!(o.sampled_tokens, r.iter().map(|x| x.output_tokens).sum::<u64>());
                prop_assert_eq!(o.records.len(), r.len());
                prop_assert!(o.records.iter().all(|x| x.finish_s >= x.first_token_s));
                prop_assert!(o.peak_kv_bytes <= o.kv_capacity_bytes);
            }
            Err(ServeError::KvExhausted { needed_bytes, capacity_bytes, .. }) => {
                prop_assert!(needed_bytes > capacity_bytes);
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}

#[test]
fn a_tiny_kv_pool_forces_preemption_and_everything_still_finishes() {
    // 4 000 tokens of KV; 100 simultaneous requests of up to 1 000 tokens each.
    let m = Affine::new(4_000);
    let r = reqs(f64::INFINITY, 100, "200..600", "100..300", 9);
    let rep = serve(&m, &r, &SchedulerConfig::default(), &Slo::default(), None).unwrap();
    assert!(rep.metrics.preemptions > 0);
    assert!(rep.metrics.preempted_requests > 0);
    assert_eq!(rep.metrics.requests, 100);
    assert!(rep.metrics.peak_kv_bytes <= m.kv_capacity_bytes());
    // With a large pool the same load needs no preemption and finishes sooner.
    let big = serve(
        &Affine::new(1_000_000),
        &r,
        &SchedulerConfig::default(),
        &Slo::default(),
        None,
    )
    .unwrap();
    assert_eq!(big.metrics.preemptions, 0);
    assert!(big.metrics.makespan_s < rep.metrics.makespan_s);
}

#[test]
fn a_request_larger_than_the_pool_is_a_clear_error_with_numbers() {
    let m = Affine::new(1_000); // 1 000 tokens × 1 000 B
    let r = vec![
        Request {
            arrival_s: 0.0,
            input_tokens: 100,
            output_tokens: 10,
        },
        Request {
            arrival_s: 1.0,
            input_tokens: 1_500,
            output_tokens: 20,
        },
    ];
    let e = simulate(&m, &r, &SchedulerConfig::default())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("KV cache exhausted: request 1"), "{e}");
    // 1 519 tokens → 95 blocks of 16 tokens × 1 000 B.
    assert!(e.contains("needs 1.52 MB"), "{e}");
    assert!(e.contains("capacity 1.00 MB"), "{e}");
    assert!(e.contains("weights 1.00 MB of 2.00 MB"), "{e}");
}

#[test]
fn goodput_counts_only_requests_meeting_the_slos() {
    let m = Affine::new(300_000);
    let r = reqs(20.0, 500, "exp:500", "exp:100", 2);
    let cfg = SchedulerConfig::default();
    let free = serve(&m, &r, &cfg, &Slo::default(), Some(2.0))
        .unwrap()
        .metrics;
    assert_eq!(free.slo_attainment, 1.0);
    let tight = Slo {
        ttft_s: Some(free.ttft_s.p50),
        tpot_s: None,
    };
    let t = serve(&m, &r, &cfg, &tight, Some(2.0)).unwrap().metrics;
    assert!(
        t.slo_attainment >= 0.45 && t.slo_attainment <= 0.55,
        "{}",
        t.slo_attainment
    );
    assert!(t.goodput_requests_per_s < free.goodput_requests_per_s);
    // $/Mtok = price × hours / tokens.
    let usd = 2.0 * free.makespan_s / 3600.0 / free.output_tokens as f64 * 1e6;
    assert!((free.usd_per_million_output_tokens.unwrap() - usd).abs() < 1e-9 * usd);
}

#[test]
fn idle_gaps_draw_idle_power() {
    let m = Affine::new(100_000);
    let r = vec![
        Request {
            arrival_s: 0.0,
            input_tokens: 10,
            output_tokens: 1,
        },
        Request {
            arrival_s: 100.0,
            input_tokens: 10,
            output_tokens: 1,
        },
    ];
    let o = simulate(&m, &r, &SchedulerConfig::default()).unwrap();
    let step = m.fixed_s + m.per_token_s * 10.0 + m.per_ctx_s * 50.0;
    assert!((o.idle_s - (100.0 - step)).abs() < 1e-9);
    assert!((o.energy_j - (2.0 * 500.0 * step + 100.0 * (100.0 - step))).abs() < 1e-6);
}

#[test]
fn expected_tokens_follow_leviathan_eq_1() {
    let e = |g, a| {
        Speculation {
            draft_tokens: g,
            acceptance: a,
        }
        .expected_tokens()
    };
    assert_eq!(e(4, 0.0), 1.0);
    assert_eq!(e(4, 1.0), 5.0);
    // (1 − 0.8⁵) / 0.2
    assert!((e(4, 0.8) - 3.3616).abs() < 1e-12);
}

#[test]
fn speculation_cuts_decode_iterations_by_the_expected_tokens() {
    let m = Affine::new(1_000_000);
    let r = reqs(0.005, 20, "100", "401", 4);
    let plain = simulate(&m, &r, &SchedulerConfig::default()).unwrap();
    let sp = Speculation {
        draft_tokens: 4,
        acceptance: 0.8,
    };
    let cfg = SchedulerConfig {
        speculation: Some(sp),
        ..Default::default()
    };
    let fast = simulate(&m, &r, &cfg).unwrap();
    assert_eq!(fast.sampled_tokens, plain.sampled_tokens);
    // Lone requests: one prefill plus 400 decode tokens, emitted 3.36 per verification step
    // instead of one per step.
    let want = 401.0 / (1.0 + (400.0 / sp.expected_tokens()).ceil());
    let ratio = plain.iterations as f64 / fast.iterations as f64;
    assert!(
        (ratio - want).abs() < 0.03 * want,
        "ratio {ratio} vs {want}"
    );
    let bad = SchedulerConfig {
        speculation: Some(Speculation {
            draft_tokens: 4,
            acceptance: 1.5,
        }),
        ..Default::default()
    };
    assert!(simulate(&m, &r, &bad)
        .unwrap_err()
        .to_string()
        .contains("acceptance"));
}
