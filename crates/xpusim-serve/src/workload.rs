//! Requests: a seeded Poisson arrival process with token counts drawn from simple
//! distributions, or a trace CSV `arrival_s,input_tokens,output_tokens`.

use std::path::Path;

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;
use serde::Serialize;

use crate::ServeError;

/// Most requests one simulation takes. The simulator keeps every request and its record
/// (about 200 B with the scheduler's state: 100,000 requests measured at 22 MB peak RSS
/// and 0.5 s), so a million stays near 200 MB, within the 1 GiB a command may use; p99
/// latencies settle long before (10⁴ requests put ~100 samples beyond the p99).
pub const MAX_REQUESTS: usize = 1_000_000;

/// Most tokens in one request's prompt or output: 10⁸, ten times the longest context
/// window offered today (10 M tokens, Llama 4 Scout, Meta 2025), so no real request is
/// refused while KV-cache sizes (tokens × bytes per token) stay far inside 64 bits.
pub const MAX_TOKENS_PER_REQUEST: u64 = 100_000_000;

/// One inference request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Request {
    pub arrival_s: f64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// A token-count distribution: `N` (fixed), `LO..HI` (uniform, inclusive) or `exp:MEAN`
/// (geometric with that mean, at least 1 — the memoryless length model used by queueing
/// analyses of LLM serving).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum TokenDist {
    Fixed(u64),
    Uniform { lo: u64, hi: u64 },
    Exponential { mean: f64 },
}

impl TokenDist {
    /// Parses `512`, `128..1024` or `exp:256`; `field` names the flag in errors.
    pub fn parse(field: &str, s: &str) -> Result<TokenDist, ServeError> {
        let bad = |why: &str| {
            ServeError::invalid(
                field,
                format!("`{s}`: {why}; expected N, LO..HI or exp:MEAN (tokens ≥ 1)"),
            )
        };
        let num = |t: &str| {
            t.trim()
                .parse::<u64>()
                .ok()
                .filter(|&n| (1..=MAX_TOKENS_PER_REQUEST).contains(&n))
        };
        let t = s.trim();
        if let Some(m) = t.strip_prefix("exp:") {
            let mean: f64 = m.trim().parse().map_err(|_| bad("mean is not a number"))?;
            if !(mean.is_finite() && mean >= 1.0) {
                return Err(bad("mean must be at least 1"));
            }
            if mean > MAX_TOKENS_PER_REQUEST as f64 / 10.0 {
                return Err(bad(&format!(
                    "mean above {} (a tenth of the {MAX_TOKENS_PER_REQUEST}-token limit, so \
                     the tail stays below it)",
                    MAX_TOKENS_PER_REQUEST / 10
                )));
            }
            return Ok(TokenDist::Exponential { mean });
        }
        if let Some((a, b)) = t.split_once("..") {
            let (lo, hi) = (
                num(a).ok_or_else(|| bad("bad low bound"))?,
                num(b).ok_or_else(|| bad("bad high bound"))?,
            );
            if lo > hi {
                return Err(bad("low bound exceeds high bound"));
            }
            return Ok(TokenDist::Uniform { lo, hi });
        }
        num(t).map(TokenDist::Fixed).ok_or_else(|| {
            bad(&format!(
                "not an integer from 1 to {MAX_TOKENS_PER_REQUEST}"
            ))
        })
    }

    fn sample(&self, rng: &mut Pcg64) -> u64 {
        match *self {
            TokenDist::Fixed(n) => n,
            TokenDist::Uniform { lo, hi } => rng.random_range(lo..=hi),
            TokenDist::Exponential { mean } => {
                // Inverse transform of an exponential with that mean, rounded up.
                let u: f64 = rng.random();
                ((-(1.0 - u).ln() * mean).ceil() as u64).clamp(1, MAX_TOKENS_PER_REQUEST)
            }
        }
    }

    pub fn mean(&self) -> f64 {
        match *self {
            TokenDist::Fixed(n) => n as f64,
            TokenDist::Uniform { lo, hi } => (lo + hi) as f64 / 2.0,
            TokenDist::Exponential { mean } => mean,
        }
    }
}

/// Checks a number of requests to simulate against [`MAX_REQUESTS`].
pub fn check_count(n: usize) -> Result<(), ServeError> {
    if n == 0 || n > MAX_REQUESTS {
        return Err(ServeError::invalid(
            "requests",
            format!(
                "{n}: expected 1 to {MAX_REQUESTS} requests (percentiles settle long before; \
                 run several seeds for more samples)"
            ),
        ));
    }
    Ok(())
}

/// `n` requests from a Poisson process of `rate_per_s` (exponential inter-arrival times;
/// `f64::INFINITY` puts every arrival at t = 0, the offline-throughput setting). The same
/// seed always gives the same requests.
pub fn poisson(
    rate_per_s: f64,
    n: usize,
    input: TokenDist,
    output: TokenDist,
    seed: u64,
) -> Result<Vec<Request>, ServeError> {
    if rate_per_s.is_nan() || rate_per_s <= 0.0 {
        return Err(ServeError::invalid(
            "rate",
            format!("expected requests/s > 0, got {rate_per_s}"),
        ));
    }
    check_count(n)?;
    // Independent streams so that changing the rate keeps every request's token counts.
    let mut gap_rng = Pcg64::seed_from_u64(seed);
    let mut tok_rng = Pcg64::seed_from_u64(seed ^ 0x5eed_70c3_5eed_70c3);
    let mut t = 0.0;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let u: f64 = gap_rng.random();
        if rate_per_s.is_finite() {
            t += -(1.0 - u).ln() / rate_per_s;
        }
        out.push(Request {
            arrival_s: t,
            input_tokens: input.sample(&mut tok_rng),
            output_tokens: output.sample(&mut tok_rng),
        });
    }
    Ok(out)
}

/// Reads a trace CSV file (see [`parse_trace`]).
pub fn read_trace(path: &Path) -> Result<Vec<Request>, ServeError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ServeError::TraceIo {
        file: file.clone(),
        msg: e.to_string(),
    })?;
    parse_trace(&file, &text)
}

/// Parses `arrival_s,input_tokens,output_tokens` rows. A header row (first line starting
/// with a letter), blank lines and `#` comments are skipped. Rows are sorted by arrival;
/// any bad row is an error naming `file:line`.
pub fn parse_trace(file: &str, text: &str) -> Result<Vec<Request>, ServeError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let row = raw.trim();
        if row.is_empty() || row.starts_with('#') {
            continue;
        }
        if i == 0 && row.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let err = |msg: String| ServeError::Trace {
            file: file.to_string(),
            line,
            msg,
        };
        let cols: Vec<&str> = row.split(',').map(str::trim).collect();
        if cols.len() != 3 {
            return Err(err(format!(
                "expected 3 columns arrival_s,input_tokens,output_tokens, got {} in `{row}`",
                cols.len()
            )));
        }
        let arrival_s: f64 = cols[0]
            .parse()
            .ok()
            .filter(|a: &f64| a.is_finite() && *a >= 0.0)
            .ok_or_else(|| {
                err(format!(
                    "arrival_s `{}` is not a time ≥ 0 in seconds",
                    cols[0]
                ))
            })?;
        let tokens = |k: usize, what: &str| {
            cols[k]
                .parse::<u64>()
                .ok()
                .filter(|&n| (1..=MAX_TOKENS_PER_REQUEST).contains(&n))
                .ok_or_else(|| {
                    err(format!(
                        "{what} `{}` is not an integer from 1 to {MAX_TOKENS_PER_REQUEST}",
                        cols[k]
                    ))
                })
        };
        if out.len() == MAX_REQUESTS {
            return Err(err(format!(
                "more than {MAX_REQUESTS} requests; split the trace"
            )));
        }
        out.push(Request {
            arrival_s,
            input_tokens: tokens(1, "input_tokens")?,
            output_tokens: tokens(2, "output_tokens")?,
        });
    }
    if out.is_empty() {
        return Err(ServeError::Trace {
            file: file.to_string(),
            line: text.lines().count().max(1),
            msg: "no requests in trace".into(),
        });
    }
    out.sort_by(|a, b| a.arrival_s.total_cmp(&b.arrival_s));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_dists_parse() {
        assert_eq!(TokenDist::parse("x", "512").unwrap(), TokenDist::Fixed(512));
        assert_eq!(
            TokenDist::parse("x", "10..20").unwrap(),
            TokenDist::Uniform { lo: 10, hi: 20 }
        );
        assert!(matches!(
            TokenDist::parse("x", "exp:100").unwrap(),
            TokenDist::Exponential { .. }
        ));
        for bad in ["0", "abc", "20..10", "exp:0", "5..", ""] {
            let e = TokenDist::parse("--input-tokens", bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains("--input-tokens"), "{e}");
        }
    }

    #[test]
    fn poisson_is_seeded_and_has_the_requested_rate() {
        let d = TokenDist::parse("x", "1..100").unwrap();
        let a = poisson(5.0, 4000, d, d, 7).unwrap();
        let b = poisson(5.0, 4000, d, d, 7).unwrap();
        assert_eq!(a, b);
        let rate = a.len() as f64 / a.last().unwrap().arrival_s;
        assert!((rate - 5.0).abs() < 0.3, "rate {rate}");
        let mean = a.iter().map(|r| r.input_tokens as f64).sum::<f64>() / a.len() as f64;
        assert!((mean - 50.5).abs() < 2.5, "mean {mean}");
        // Token counts do not depend on the rate.
        let c = poisson(50.0, 4000, d, d, 7).unwrap();
        assert!(a
            .iter()
            .zip(&c)
            .all(|(x, y)| x.input_tokens == y.input_tokens));
    }
}
