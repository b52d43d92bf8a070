//! Serving metrics from a simulation: latency percentiles, throughput, goodput under SLOs,
//! KV memory over time, energy per token and cost per million tokens.
//!
//! Definitions (as in vLLM's `benchmark_serving.py` and DistServe, Zhong et al. 2024):
//! TTFT = first token − arrival; TPOT = (finish − first token) / (output tokens − 1) for
//! requests with more than one output token; E2E = finish − arrival. Throughput and goodput
//! are over the makespan from the first arrival to the last finish. Goodput counts requests
//! meeting every given SLO.

use serde::Serialize;
use xpusim_target::EnergyBreakdown;

use crate::scheduler::{RequestRecord, SimOutcome};

/// Points kept of the KV-usage series (each the maximum of its time window, so peaks show).
pub const KV_SERIES_POINTS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    /// Linearly interpolated percentiles (NumPy's default); NaN for an empty sample.
    pub fn of(mut v: Vec<f64>) -> Percentiles {
        v.sort_by(f64::total_cmp);
        let q = |p: f64| -> f64 {
            if v.is_empty() {
                return f64::NAN;
            }
            let x = p * (v.len() - 1) as f64;
            let (i, f) = (x.floor() as usize, x.fract());
            let hi = v[(i + 1).min(v.len() - 1)];
            v[i] + (hi - v[i]) * f
        };
        let mean = if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        };
        Percentiles {
            mean,
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            max: q(1.0),
        }
    }
}

/// Latency targets; `None` means no constraint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Slo {
    pub ttft_s: Option<f64>,
    pub tpot_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub requests: usize,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub makespan_s: f64,
    pub ttft_s: Percentiles,
    pub tpot_s: Percentiles,
    pub e2e_s: Percentiles,
    pub requests_per_s: f64,
    pub output_tokens_per_s: f64,
    pub total_tokens_per_s: f64,
    /// Requests meeting every SLO, per second of makespan.
    pub goodput_requests_per_s: f64,
    /// Fraction of requests meeting every SLO.
    pub slo_attainment: f64,
    pub iterations: u64,
    pub mean_tokens_per_iteration: f64,
    pub preemptions: u64,
    pub preempted_requests: usize,
    /// Busy time / makespan.
    pub utilization: f64,
    pub kv_capacity_bytes: u64,
    pub peak_kv_bytes: u64,
    pub mean_kv_bytes: f64,
    /// (time s, KV bytes in use), downsampled to [`KV_SERIES_POINTS`] windows (max each).
    pub kv_series: Vec<(f64, u64)>,
    /// Energy of the replica's devices and its share of their nodes' host power over the
    /// makespan: the same accounting as `run` (`energy_breakdown` sums to it).
    pub energy_j: f64,
    pub energy_breakdown: EnergyBreakdown,
    pub energy_per_output_token_j: f64,
    /// Mean power over the makespan (host share included), W.
    pub mean_power_w: f64,
    pub price_per_device_hour: Option<f64>,
    pub usd_per_million_output_tokens: Option<f64>,
}

/// Summarises `o` for a replica of `devices` devices.
pub fn summarise(
    o: &SimOutcome,
    slo: &Slo,
    devices: u64,
    price_per_device_hour: Option<f64>,
) -> Metrics {
    let r = &o.records;
    let start = r.iter().map(|x| x.arrival_s).fold(f64::INFINITY, f64::min);
    let start = if start.is_finite() { start } else { 0.0 };
    let makespan = (o.end_s - start).max(f64::MIN_POSITIVE);
    let ttft: Vec<f64> = r.iter().map(RequestRecord::ttft_s).collect();
    let tpot: Vec<f64> = r.iter().filter_map(RequestRecord::tpot_s).collect();
    let e2e: Vec<f64> = r.iter().map(RequestRecord::e2e_s).collect();
    let good = r
        .iter()
        .filter(|x| {
            let t_ok = slo.ttft_s.is_none_or(|s| x.ttft_s() <= s);
            let p_ok = slo.tpot_s.is_none_or(|s| x.tpot_s().is_none_or(|t| t <= s));
            t_ok && p_ok
        })
        .count();
    let input: u64 = r.iter().map(|x| x.input_tokens).sum();
    let output: u64 = r.iter().map(|x| x.output_tokens).sum();
    let busy_weighted: f64 = o
        .kv_samples
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * w[1].1 as f64)
        .sum();
    let kv_span = match (o.kv_samples.first(), o.kv_samples.last()) {
        (Some(a), Some(b)) if b.0 > a.0 => b.0 - a.0,
        _ => 1.0,
    };
    let mut energy = o.energy.clone();
    energy.node_j = o.node_power_w * makespan;
    let energy_j = energy.total_j();
    let cost = price_per_device_hour
        .map(|p| p * devices as f64 * makespan / 3600.0 / output.max(1) as f64 * 1e6);
    Metrics {
        requests: r.len(),
        input_tokens: input,
        output_tokens: output,
        makespan_s: makespan,
        ttft_s: Percentiles::of(ttft),
        tpot_s: Percentiles::of(tpot),
        e2e_s: Percentiles::of(e2e),
        requests_per_s: r.len() as f64 / makespan,
        output_tokens_per_s: output as f64 / makespan,
        total_tokens_per_s: (input + output) as f64 / makespan,
        goodput_requests_per_s: good as f64 / makespan,
        slo_attainment: good as f64 / r.len().max(1) as f64,
        iterations: o.iterations,
        mean_tokens_per_iteration: (o.prefill_tokens + o.decode_tokens) as f64
            / o.iterations.max(1) as f64,
        preemptions: o.preemptions,
        preempted_requests: r.iter().filter(|x| x.preemptions > 0).count(),
        utilization: o.busy_s / makespan,
        kv_capacity_bytes: o.kv_capacity_bytes,
        peak_kv_bytes: o.peak_kv_bytes,
        mean_kv_bytes: busy_weighted / kv_span,
        kv_series: downsample(&o.kv_samples, KV_SERIES_POINTS),
        energy_j,
        energy_breakdown: energy,
        energy_per_output_token_j: energy_j / output.max(1) as f64,
        mean_power_w: energy_j / makespan,
        price_per_device_hour,
        usd_per_million_output_tokens: cost,
    }
}

/// At most `n` points: the series cut into `n` equal-count windows, each represented by its
/// last time and its largest value.
fn downsample(s: &[(f64, u64)], n: usize) -> Vec<(f64, u64)> {
    if s.len() <= n {
        return s.to_vec();
    }
    let w = s.len().div_ceil(n);
    s.chunks(w)
        .map(|c| (c[c.len() - 1].0, c.iter().map(|x| x.1).max().unwrap_or(0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate() {
        let p = Percentiles::of((1..=101).map(f64::from).collect());
        assert_eq!(p.p50, 51.0);
        assert_eq!(p.p90, 91.0);
        assert_eq!(p.p99, 100.0);
        assert_eq!(p.max, 101.0);
        assert!(Percentiles::of(vec![]).p50.is_nan());
    }

    #[test]
    fn downsample_keeps_peaks() {
        let s: Vec<(f64, u64)> = (0..1000)
            .map(|i| (i as f64, if i == 537 { 99 } else { 1 }))
            .collect();
        let d = downsample(&s, 200);
        assert!(d.len() <= 200);
        assert_eq!(d.iter().map(|x| x.1).max(), Some(99));
    }
}
