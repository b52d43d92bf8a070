//! `max_rate`: the rate it returns meets the SLO, and a rate 1 % above the bracket misses
//! it — checked against the simulator directly, not against the search's own probes.

mod common;

use common::Affine;
use xpusim_serve::{max_rate, parse_slo, poisson, serve, Metrics, SchedulerConfig, Slo, TokenDist};

fn at(m: &Affine, rate: f64) -> Metrics {
    let r = poisson(rate, 400, TokenDist::Fixed(512), TokenDist::Fixed(64), 7).unwrap();
    serve(m, &r, &SchedulerConfig::default(), &Slo::default(), None)
        .unwrap()
        .metrics
}

#[test]
fn the_rate_found_meets_the_slo_and_one_percent_more_does_not() {
    let m = Affine::new(2_000_000);
    let targets = parse_slo("ttft_p99=300ms,tpot_p99=30ms").unwrap();
    let (cap, best) = max_rate(&targets, 1.0, |r| Ok(at(&m, r))).unwrap();
    let r = cap.max_rate_per_s.expect("attainable");
    assert!(!cap.unbounded);
    let here = at(&m, r);
    assert!(targets.iter().all(|t| t.met(&here)), "{r} req/s misses");
    assert_eq!(best.unwrap().ttft_s.p99, here.ttft_s.p99);
    // Some probe just above the answer missed: the bracket closed to 1 %.
    let above = cap
        .probes
        .iter()
        .filter(|p| !p.met && p.rate_per_s > r)
        .map(|p| p.rate_per_s)
        .fold(f64::INFINITY, f64::min);
    assert!(above <= r * 1.0101, "answer {r}, next miss {above}");
    let there = at(&m, above);
    assert!(!targets.iter().all(|t| t.met(&there)));
}

#[test]
fn an_slo_no_lone_request_meets_has_no_rate() {
    let m = Affine::new(2_000_000);
    // A lone 512-token prefill takes 5 ms + 512 · 20 µs ≈ 15 ms > 1 ms.
    let targets = parse_slo("ttft_p50=1ms").unwrap();
    let (cap, best) = max_rate(&targets, 10.0, |r| Ok(at(&m, r))).unwrap();
    assert!(cap.max_rate_per_s.is_none() && best.is_none());
    assert!(cap.probes.iter().all(|p| !p.met));
    assert!(cap.probes.last().unwrap().rate_per_s <= xpusim_serve::capacity::MIN_RATE_PER_S);
}
