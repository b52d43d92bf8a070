//! The board-flip numbers: per-era efficiency relative to the best design, worst case,
//! geometric mean, regret per scenario, the Pareto front across scenarios, and lifetime
//! value over a timeline with the break-even freeze.
//!
//! Definitions (c = the metric's cost per sample, lower is better):
//! - workload efficiency `r[d][w] = min_d' c[d'][w] / c[d][w]` ∈ (0, 1];
//! - era efficiency `E[d][e]` = geometric mean of `r` over the era's workloads, divided by
//!   the best design's value for that era (so the era's best design scores 1);
//! - scenario score `S[d][s] = 1 / Σ_e m_e / E[d][e]`: a mix is shares of demand, so the
//!   cost of one unit of mixed work is the mix-weighted sum of per-era costs (a weighted
//!   harmonic mean of efficiencies); regret = `1 − S[d][s] / max_d' S[d'][s]`;
//! - Pareto across scenarios: designs no other design matches or beats in every scenario
//!   (and beats in one);
//! - lifetime value: work per TCO dollar over the timeline's years, work in "reference
//!   seconds" (one second of the fastest design's work on that workload, per device), each
//!   year's mix served at its harmonic-mean rate; TCO from `xpusim-cost` over the life at
//!   the years' mean power. The break-even freeze of design `d` against `g` is the fewest
//!   years `k` the first year's mix must hold (years ≥ k follow the timeline) for `d`'s
//!   lifetime value to reach `g`'s.

use serde::Serialize;
use xpusim_cost::{tco, TcoParams, WorkRate};

use crate::eval::Evaluation;
use crate::scenario::{Scenario, Year};
use crate::suite::{ERAS, TRAINING_ERAS};
use crate::FlipError;

/// What "efficiency" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Samples per TCO dollar (price or cost, energy, hosting over the service life).
    Tco,
    /// Samples per joule.
    Energy,
    /// Samples per second.
    Throughput,
}

impl Metric {
    /// `auto`: TCO when every design can be costed, else energy (all designs ranked).
    pub fn choose(s: &str, ev: &Evaluation) -> Result<Metric, String> {
        if s == "auto" {
            let all_costed = ev.designs.iter().all(|d| d.pricing.is_ok());
            return Ok(if all_costed {
                Metric::Tco
            } else {
                Metric::Energy
            });
        }
        Metric::parse(s)
    }

    pub fn parse(s: &str) -> Result<Metric, String> {
        match s {
            "tco" => Ok(Metric::Tco),
            "energy" => Ok(Metric::Energy),
            "throughput" => Ok(Metric::Throughput),
            _ => Err(format!(
                "unknown metric `{s}` (expected auto, tco, energy or throughput)"
            )),
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Metric::Tco => "samples per TCO dollar",
            Metric::Energy => "samples per joule",
            Metric::Throughput => "samples per second per device",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub name: String,
    /// Relative score per included design (best = 1).
    pub score: Vec<f64>,
    pub regret: Vec<f64>,
    pub best: String,
    /// For a scenario that mixes training and other eras: does the winner of its other
    /// eras still win when part of the chip's life is training?
    #[serde(skip_serializing_if = "Option::is_none")]
    pub without_training: Option<WithoutTraining>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WithoutTraining {
    /// The scenario's share of demand in the training eras.
    pub training_share: f64,
    /// The best design for the scenario's mix without its training eras.
    pub best: String,
    /// That design's score on the whole scenario (best = 1).
    pub score: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Lifetime {
    pub first_year: i64,
    pub years: usize,
    /// Designs that can be costed, indices into `Analysis::designs`.
    pub designs: Vec<usize>,
    /// Reference-seconds of work per TCO dollar over the timeline, per costed design.
    pub value: Vec<f64>,
    /// Relative to the best costed design.
    pub value_rel: Vec<f64>,
    pub tco_usd: Vec<f64>,
    /// Index (into `designs`) of the best design when the first year's mix never changes.
    pub specialised: usize,
    /// Index (into `designs`) of the costed design with the best worst-era efficiency.
    pub general: usize,
    /// Per costed design: fewest frozen years to match `general` (None = never within life).
    pub freeze_to_beat_general: Vec<Option<usize>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub metric: Metric,
    /// Included designs (indices into the evaluation).
    pub designs: Vec<usize>,
    pub names: Vec<String>,
    /// Designs left out under this metric, with why.
    pub excluded: Vec<(String, String)>,
    pub eras: Vec<String>,
    /// `era_eff[d][e]`, best design per era = 1.
    pub era_eff: Vec<Vec<f64>>,
    /// Per design: (worst era efficiency, that era).
    pub worst: Vec<(f64, String)>,
    pub geomean: Vec<f64>,
    pub scenarios: Vec<ScenarioResult>,
    /// Per design: (largest regret over scenarios, that scenario).
    pub max_regret: Vec<(f64, String)>,
    pub pareto: Vec<bool>,
    pub lifetime: Option<Lifetime>,
}

fn geo(xs: &[f64]) -> f64 {
    (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len().max(1) as f64).exp()
}

/// Per (design, workload) cost per sample under `m`; `None` when undefined.
fn unit_cost(ev: &Evaluation, d: usize, w: usize, m: Metric) -> Option<f64> {
    let c = &ev.cells[d][w];
    let v = match m {
        Metric::Tco => c.usd_per_sample?,
        Metric::Energy => c.energy_per_sample_j,
        // Per device, so designs of different sizes compare like for like.
        Metric::Throughput => c.devices as f64 / c.samples_per_s,
    };
    (v.is_finite() && v > 0.0).then_some(v)
}

/// Era efficiency from per-workload costs `cost[d][w]` (designs × workloads).
fn era_efficiency(cost: &[Vec<f64>], eras: &[&str], era_names: &[String]) -> Vec<Vec<f64>> {
    let nd = cost.len();
    let nw = eras.len();
    let best: Vec<f64> = (0..nw)
        .map(|w| cost.iter().map(|c| c[w]).fold(f64::INFINITY, f64::min))
        .collect();
    let mut out = vec![vec![0.0; era_names.len()]; nd];
    for (e, era) in era_names.iter().enumerate() {
        let ws: Vec<usize> = (0..nw).filter(|w| eras[*w] == era).collect();
        for d in 0..nd {
            let r: Vec<f64> = ws.iter().map(|w| best[*w] / cost[d][*w]).collect();
            out[d][e] = geo(&r);
        }
        let top = (0..nd).map(|d| out[d][e]).fold(0.0, f64::max);
        for row in out.iter_mut() {
            row[e] /= top;
        }
    }
    out
}

/// Weighted harmonic mean of era values under a mix (eras absent from the suite are
/// ignored; the remaining weights are renormalised).
fn mix_rate(vals: &[f64], eras: &[String], mix: &std::collections::BTreeMap<String, f64>) -> f64 {
    let mut inv = 0.0;
    let mut wsum = 0.0;
    for (e, era) in eras.iter().enumerate() {
        if let Some(m) = mix.get(era) {
            inv += m / vals[e];
            wsum += m;
        }
    }
    if wsum > 0.0 {
        wsum / inv
    } else {
        0.0
    }
}

/// Designs `d` not dominated by any other over the rows `score[d]` (higher is better).
pub fn pareto_front(score: &[Vec<f64>]) -> Vec<bool> {
    let dominates = |a: &Vec<f64>, b: &Vec<f64>| {
        a.iter().zip(b).all(|(x, y)| x >= y) && a.iter().zip(b).any(|(x, y)| x > y)
    };
    score
        .iter()
        .map(|s| !score.iter().any(|o| dominates(o, s)))
        .collect()
}

pub fn analyse(
    ev: &Evaluation,
    metric: Metric,
    scenarios: &[Scenario],
    timeline: &[Year],
) -> Result<Analysis, FlipError> {
    let nw = ev.workloads.len();
    let mut designs = Vec::new();
    let mut excluded = Vec::new();
    let mut cost = Vec::new();
    for d in 0..ev.designs.len() {
        let row: Option<Vec<f64>> = (0..nw).map(|w| unit_cost(ev, d, w, metric)).collect();
        match row {
            Some(r) => {
                designs.push(d);
                cost.push(r);
            }
            None => excluded.push((
                ev.designs[d].name.clone(),
                match &ev.designs[d].pricing {
                    Err(e) => format!("cannot be costed: {e}"),
                    Ok(_) => "a workload has no finite cost".into(),
                },
            )),
        }
    }
    if designs.is_empty() {
        return Err(FlipError::NoDesigns(metric.describe().into()));
    }
    let era_names: Vec<String> = ERAS
        .iter()
        .filter(|e| ev.eras.contains(e))
        .map(|e| e.to_string())
        .collect();
    let era_eff = era_efficiency(&cost, &ev.eras, &era_names);
    let worst: Vec<(f64, String)> = era_eff
        .iter()
        .map(|row| {
            let (i, v) =
                row.iter().enumerate().fold(
                    (0, f64::INFINITY),
                    |a, (i, v)| if *v < a.1 { (i, *v) } else { a },
                );
            (v, era_names[i].clone())
        })
        .collect();
    let geomean: Vec<f64> = era_eff.iter().map(|r| geo(r)).collect();
    let names: Vec<String> = designs
        .iter()
        .map(|d| ev.designs[*d].name.clone())
        .collect();
    let mut results = Vec::new();
    for s in scenarios {
        let raw: Vec<f64> = era_eff
            .iter()
            .map(|r| mix_rate(r, &era_names, &s.mix))
            .collect();
        let top = raw.iter().copied().fold(0.0, f64::max);
        let score: Vec<f64> = raw.iter().map(|v| v / top).collect();
        let best = score
            .iter()
            .position(|v| *v >= 1.0)
            .map(|i| names[i].clone())
            .unwrap_or_default();
        let serving: std::collections::BTreeMap<String, f64> = s
            .mix
            .iter()
            .filter(|(e, _)| !TRAINING_ERAS.contains(&e.as_str()))
            .map(|(e, w)| (e.clone(), *w))
            .collect();
        let training_share: f64 = s
            .mix
            .iter()
            .filter(|(e, _)| TRAINING_ERAS.contains(&e.as_str()))
            .map(|(_, w)| w)
            .sum();
        let without_training = if serving.len() < s.mix.len() && !serving.is_empty() {
            let raw: Vec<f64> = era_eff
                .iter()
                .map(|r| mix_rate(r, &era_names, &serving))
                .collect();
            raw.iter()
                .enumerate()
                .filter(|(_, v)| **v > 0.0)
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| WithoutTraining {
                    training_share,
                    best: names[i].clone(),
                    score: score[i],
                })
        } else {
            None
        };
        results.push(ScenarioResult {
            name: s.name.clone(),
            regret: score.iter().map(|v| 1.0 - v).collect(),
            score,
            best,
            without_training,
        });
    }
    let max_regret: Vec<(f64, String)> = (0..designs.len())
        .map(|d| {
            results
                .iter()
                .map(|s| (s.regret[d], s.name.clone()))
                .fold((0.0, "-".to_string()), |a, b| if b.0 > a.0 { b } else { a })
        })
        .collect();
    let by_design: Vec<Vec<f64>> = (0..designs.len())
        .map(|d| results.iter().map(|s| s.score[d]).collect())
        .collect();
    let pareto = if results.is_empty() {
        vec![false; designs.len()]
    } else {
        pareto_front(&by_design)
    };
    let lifetime = lifetime(ev, &designs, &era_names, &worst, timeline)?;
    Ok(Analysis {
        metric,
        designs,
        names,
        excluded,
        eras: era_names,
        era_eff,
        worst,
        geomean,
        scenarios: results,
        max_regret,
        pareto,
        lifetime,
    })
}

/// Work rate (reference-seconds per second) and mean power per era for design `d`.
struct EraRates {
    rate: Vec<f64>,
    power_w: Vec<f64>,
}

fn era_rates(ev: &Evaluation, ds: &[usize], eras: &[String]) -> Vec<EraRates> {
    let nw = ev.workloads.len();
    let per_dev = |d: usize, w: usize| {
        let c = &ev.cells[d][w];
        c.samples_per_s / c.devices as f64
    };
    let best: Vec<f64> = (0..nw)
        .map(|w| ds.iter().map(|d| per_dev(*d, w)).fold(0.0, f64::max))
        .collect();
    ds.iter()
        .map(|&d| {
            let mut rate = Vec::new();
            let mut power_w = Vec::new();
            for era in eras {
                let ws: Vec<usize> = (0..nw).filter(|w| ev.eras[*w] == era).collect();
                let r: Vec<f64> = ws.iter().map(|w| per_dev(d, *w) / best[*w]).collect();
                rate.push(geo(&r));
                let p: f64 = ws.iter().map(|w| ev.cells[d][*w].avg_power_w).sum::<f64>();
                power_w.push(p / ws.len().max(1) as f64);
            }
            EraRates { rate, power_w }
        })
        .collect()
}

/// Lifetime value (reference-seconds per TCO dollar) when year `i` runs `mixes[i]`.
fn value(
    ev: &Evaluation,
    d: usize,
    r: &EraRates,
    eras: &[String],
    mixes: &[&std::collections::BTreeMap<String, f64>],
    p: &TcoParams,
) -> Result<(f64, f64), FlipError> {
    let mut rate_sum = 0.0;
    let mut power_sum = 0.0;
    for mix in mixes {
        let t = mix_rate(&r.rate, eras, mix);
        // Share of the year spent on each era: demand share / rate.
        let mut shares = 0.0;
        let mut pw = 0.0;
        for (e, era) in eras.iter().enumerate() {
            if let Some(m) = mix.get(era) {
                shares += m / r.rate[e];
                pw += m / r.rate[e] * r.power_w[e];
            }
        }
        rate_sum += t;
        power_sum += if shares > 0.0 { pw / shares } else { 0.0 };
    }
    let n = mixes.len() as f64;
    let design = &ev.designs[d];
    let pricing = design
        .pricing
        .as_ref()
        .map_err(|e| FlipError::Cost(e.clone()))?;
    let mut params = p.clone();
    params.life_years = n;
    let t = tco(
        pricing.price_usd,
        pricing.cost_usd,
        design.spec().power.tdp_w,
        design.spec().power.idle_w,
        WorkRate {
            samples_per_s: rate_sum / n,
            tokens_per_s: None,
            avg_power_w: power_sum / n,
        },
        &params,
    )
    .map_err(|e| FlipError::Cost(format!("{}: {e}", design.name)))?;
    Ok((1e6 / t.usd_per_million_samples, t.total_usd))
}

fn lifetime(
    ev: &Evaluation,
    designs: &[usize],
    eras: &[String],
    worst: &[(f64, String)],
    timeline: &[Year],
) -> Result<Option<Lifetime>, FlipError> {
    let costed: Vec<usize> = (0..designs.len())
        .filter(|i| ev.designs[designs[*i]].pricing.is_ok())
        .collect();
    if timeline.is_empty() || costed.is_empty() {
        return Ok(None);
    }
    let ds: Vec<usize> = costed.iter().map(|i| designs[*i]).collect();
    let rates = era_rates(ev, &ds, eras);
    let n = timeline.len();
    let frozen = |k: usize| -> Vec<&std::collections::BTreeMap<String, f64>> {
        (0..n)
            .map(|i| {
                if i < k {
                    &timeline[0].mix
                } else {
                    &timeline[i].mix
                }
            })
            .collect()
    };
    let mut by_k: Vec<Vec<f64>> = Vec::new();
    let mut tco_usd = Vec::new();
    for k in 1..=n {
        let mixes = frozen(k);
        let mut row = Vec::new();
        for (j, d) in ds.iter().enumerate() {
            let (v, usd) = value(ev, *d, &rates[j], eras, &mixes, &ev.tco)?;
            row.push(v);
            if k == 1 {
                tco_usd.push(usd);
            }
        }
        by_k.push(row);
    }
    let value = by_k[0].clone();
    let top = value.iter().copied().fold(0.0, f64::max);
    let argmax = |xs: &[f64]| {
        xs.iter()
            .enumerate()
            .fold(
                (0, f64::NEG_INFINITY),
                |a, (i, v)| if *v > a.1 { (i, *v) } else { a },
            )
            .0
    };
    let specialised = argmax(&by_k[n - 1]);
    let general = argmax(&costed.iter().map(|i| worst[*i].0).collect::<Vec<_>>());
    let freeze_to_beat_general = (0..ds.len())
        .map(|j| (1..=n).find(|k| by_k[k - 1][j] >= by_k[k - 1][general]))
        .collect();
    Ok(Some(Lifetime {
        first_year: timeline[0].year,
        years: n,
        designs: costed,
        value_rel: value.iter().map(|v| v / top).collect(),
        value,
        tco_usd,
        specialised,
        general,
        freeze_to_beat_general,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pareto_keeps_non_dominated() {
        let s = vec![
            vec![1.0, 0.2],
            vec![0.5, 1.0],
            vec![0.4, 0.9],
            vec![1.0, 0.2],
        ];
        assert_eq!(pareto_front(&s), vec![true, true, false, true]);
    }

    #[test]
    fn era_efficiency_is_one_for_the_best() {
        let cost = vec![vec![1.0, 2.0, 4.0], vec![2.0, 1.0, 1.0]];
        let eras = ["a", "b", "b"];
        let names = vec!["a".to_string(), "b".to_string()];
        let e = era_efficiency(&cost, &eras, &names);
        assert_eq!(e[0][0], 1.0);
        assert_eq!(e[1][0], 0.5);
        assert_eq!(e[1][1], 1.0);
        // design 0 on era b: geomean(1/2, 1/4) = 0.3536
        assert!((e[0][1] - (0.125f64).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn mix_rate_is_weighted_harmonic() {
        let mut mix = std::collections::BTreeMap::new();
        mix.insert("a".to_string(), 0.5);
        mix.insert("b".to_string(), 0.5);
        let eras = vec!["a".to_string(), "b".to_string()];
        // Half the work at rate 1, half at rate 0.25: 1 / (0.5 + 2) = 0.4.
        assert!((mix_rate(&[1.0, 0.25], &eras, &mix) - 0.4).abs() < 1e-12);
    }
}
