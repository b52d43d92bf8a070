//! Capacity under a latency SLO: the highest Poisson request rate whose simulated latency
//! percentiles all stay within their limits (`serve --slo ttft_p99=1s,tpot_p99=50ms`).
//!
//! The search is the one capacity planners do by hand with vLLM's or TensorRT-LLM's
//! benchmark scripts (sweep the request rate, read the p99s, keep the last rate that
//! passes), made exact to a tolerance: a geometric bracket (doubling or halving from the
//! start rate until the SLO flips) and then bisection in log-rate. Every probe simulates
//! the same requests (same seed: token counts are fixed and arrival gaps scale as 1/rate),
//! so latency grows with rate and the bracket is sound for the schedulers modelled here.

use serde::Serialize;

use crate::{Metrics, Percentiles, ServeError};

/// Slowest rate probed before the SLO is declared unattainable, requests/s: one request
/// every ~3 hours, so each request runs alone and only its own latency counts.
pub const MIN_RATE_PER_S: f64 = 1e-4;

/// Fastest rate probed, requests/s. Beyond 10⁶ requests/s arrivals are effectively
/// simultaneous for any server modelled here (a step takes ≥ 1 µs), so a SLO met there
/// is met at any rate.
pub const MAX_RATE_PER_S: f64 = 1e6;

/// Relative width of the final bracket: the answer is within 1 % of the true threshold,
/// below the run-to-run spread of measured serving benchmarks.
pub const RATE_TOLERANCE: f64 = 0.01;

/// Which latency a target bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Latency {
    /// Time to first token.
    Ttft,
    /// Time per output token after the first.
    Tpot,
    /// Arrival to last token.
    E2e,
}

/// Which statistic of the latency's distribution over requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stat {
    Mean,
    P50,
    P90,
    P99,
    Max,
}

/// One bound of a SLO: `stat(latency) ≤ limit_s`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SloTarget {
    pub latency: Latency,
    pub stat: Stat,
    pub limit_s: f64,
}

impl SloTarget {
    /// The key as written on the command line, e.g. `ttft_p99`.
    pub fn key(&self) -> String {
        let l = match self.latency {
            Latency::Ttft => "ttft",
            Latency::Tpot => "tpot",
            Latency::E2e => "e2e",
        };
        let s = match self.stat {
            Stat::Mean => "mean",
            Stat::P50 => "p50",
            Stat::P90 => "p90",
            Stat::P99 => "p99",
            Stat::Max => "max",
        };
        format!("{l}_{s}")
    }

    /// The statistic in `m`, seconds.
    pub fn value(&self, m: &Metrics) -> f64 {
        let p: &Percentiles = match self.latency {
            Latency::Ttft => &m.ttft_s,
            Latency::Tpot => &m.tpot_s,
            Latency::E2e => &m.e2e_s,
        };
        match self.stat {
            Stat::Mean => p.mean,
            Stat::P50 => p.p50,
            Stat::P90 => p.p90,
            Stat::P99 => p.p99,
            Stat::Max => p.max,
        }
    }

    /// `m` meets this bound. A statistic over no samples (TPOT when every request has one
    /// output token) bounds nothing.
    pub fn met(&self, m: &Metrics) -> bool {
        let v = self.value(m);
        v.is_nan() || v <= self.limit_s
    }
}

/// Parses `ttft_p99=1s,tpot_p99=50ms` (latency `ttft|tpot|e2e`, statistic
/// `mean|p50|p90|p99|max`, a positive duration in `s`, `ms` or `us`).
pub fn parse_slo(s: &str) -> Result<Vec<SloTarget>, ServeError> {
    let bad = |part: &str, why: &str| {
        ServeError::invalid(
            "--slo",
            format!(
                "`{part}`: {why}; expected KEY=DURATION[,...] with KEY one of \
                 ttft|tpot|e2e _ mean|p50|p90|p99|max, e.g. ttft_p99=1s,tpot_p99=50ms"
            ),
        )
    };
    let mut out: Vec<SloTarget> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, val) = part.split_once('=').ok_or_else(|| bad(part, "no `=`"))?;
        let (l, st) = key
            .trim()
            .split_once('_')
            .ok_or_else(|| bad(part, "key has no `_`"))?;
        let latency = match l {
            "ttft" => Latency::Ttft,
            "tpot" => Latency::Tpot,
            "e2e" => Latency::E2e,
            _ => return Err(bad(part, "unknown latency")),
        };
        let stat = match st {
            "mean" => Stat::Mean,
            "p50" => Stat::P50,
            "p90" => Stat::P90,
            "p99" => Stat::P99,
            "max" => Stat::Max,
            _ => return Err(bad(part, "unknown statistic")),
        };
        let limit_s = duration_s(val.trim()).ok_or_else(|| bad(part, "not a positive duration"))?;
        let t = SloTarget {
            latency,
            stat,
            limit_s,
        };
        if out.iter().any(|o| o.key() == t.key()) {
            return Err(bad(part, "given twice"));
        }
        out.push(t);
    }
    if out.is_empty() {
        return Err(bad(s, "no target"));
    }
    Ok(out)
}

/// `1s`, `50ms`, `200us`/`200µs`: seconds, finite and positive.
fn duration_s(v: &str) -> Option<f64> {
    let (num, scale) = if let Some(x) = v.strip_suffix("ms") {
        (x, 1e-3)
    } else if let Some(x) = v.strip_suffix("us").or_else(|| v.strip_suffix("µs")) {
        (x, 1e-6)
    } else if let Some(x) = v.strip_suffix('s') {
        (x, 1.0)
    } else {
        return None;
    };
    let x: f64 = num.trim().parse().ok()?;
    (x.is_finite() && x > 0.0).then_some(x * scale)
}

/// One simulated rate and whether it met every target.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub rate_per_s: f64,
    /// Each target's statistic at this rate, seconds, in target order.
    pub values_s: Vec<f64>,
    pub met: bool,
}

/// What the search found.
#[derive(Debug, Clone, Serialize)]
pub struct Capacity {
    pub targets: Vec<SloTarget>,
    /// Highest rate probed that meets every target (within [`RATE_TOLERANCE`] of the
    /// threshold); `None` when even [`MIN_RATE_PER_S`] misses.
    pub max_rate_per_s: Option<f64>,
    /// The search met the SLO at [`MAX_RATE_PER_S`]: the answer is a lower bound.
    pub unbounded: bool,
    /// Every rate simulated, in the order probed.
    pub probes: Vec<Probe>,
}

/// Searches the highest rate meeting `targets`, starting at `start_rate_per_s`; `eval`
/// simulates one rate. Errors from `eval` (a request that can never fit, say) end it.
pub fn max_rate<F>(
    targets: &[SloTarget],
    start_rate_per_s: f64,
    mut eval: F,
) -> Result<(Capacity, Option<Metrics>), ServeError>
where
    F: FnMut(f64) -> Result<Metrics, ServeError>,
{
    if !(start_rate_per_s.is_finite() && start_rate_per_s > 0.0) {
        return Err(ServeError::invalid(
            "rate",
            format!("the search starts at a finite rate > 0, got {start_rate_per_s}"),
        ));
    }
    let mut probes = Vec::new();
    let mut probe = |r: f64, probes: &mut Vec<Probe>| -> Result<(bool, Metrics), ServeError> {
        let m = eval(r)?;
        let met = targets.iter().all(|t| t.met(&m));
        probes.push(Probe {
            rate_per_s: r,
            values_s: targets.iter().map(|t| t.value(&m)).collect(),
            met,
        });
        Ok((met, m))
    };
    let start = start_rate_per_s.clamp(MIN_RATE_PER_S, MAX_RATE_PER_S);
    let (ok, m) = probe(start, &mut probes)?;
    // Bracket: lo meets, hi misses.
    let (mut lo, mut hi, mut best) = if ok {
        let (mut lo, mut best) = (start, m);
        loop {
            let r = (lo * 2.0).min(MAX_RATE_PER_S);
            if r <= lo {
                let cap = Capacity {
                    targets: targets.to_vec(),
                    max_rate_per_s: Some(lo),
                    unbounded: true,
                    probes,
                };
                return Ok((cap, Some(best)));
            }
            let (ok, m) = probe(r, &mut probes)?;
            if !ok {
                break (lo, r, best);
            }
            (lo, best) = (r, m);
        }
    } else {
        let mut hi = start;
        loop {
            let r = (hi / 2.0).max(MIN_RATE_PER_S);
            if r >= hi {
                let cap = Capacity {
                    targets: targets.to_vec(),
                    max_rate_per_s: None,
                    unbounded: false,
                    probes,
                };
                return Ok((cap, None));
            }
            let (ok, m) = probe(r, &mut probes)?;
            if ok {
                break (r, hi, m);
            }
            hi = r;
        }
    };
    while hi / lo > 1.0 + RATE_TOLERANCE {
        let mid = (lo * hi).sqrt();
        let (ok, m) = probe(mid, &mut probes)?;
        if ok {
            (lo, best) = (mid, m);
        } else {
            hi = mid;
        }
    }
    let cap = Capacity {
        targets: targets.to_vec(),
        max_rate_per_s: Some(lo),
        unbounded: false,
        probes,
    };
    Ok((cap, Some(best)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_units_and_rejects_nonsense() {
        let t = parse_slo("ttft_p99=1s, tpot_p99=50ms,e2e_mean=200us").unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].key(), "ttft_p99");
        assert_eq!(t[1].limit_s, 0.05);
        assert!((t[2].limit_s - 2e-4).abs() < 1e-18);
        for bad in [
            "",
            "ttft_p99",
            "ttft_p98=1s",
            "foo_p99=1s",
            "ttft_p99=1",
            "ttft_p99=-1s",
            "ttft_p99=nans",
            "ttft_p99=1s,ttft_p99=2s",
        ] {
            let e = parse_slo(bad).unwrap_err().to_string();
            assert!(e.contains("--slo"), "{bad}: {e}");
        }
    }
}
