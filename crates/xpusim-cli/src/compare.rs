//! The era suite against the built-in chips, or any devices and systems.

use anyhow::{Context, Result};
use xpusim_ir::Phase;
use xpusim_target::{ModelCost, Target};

use crate::args::{CompareArgs, Format};
use crate::{format, resolve, target_args};

/// One workload of every era (CNN, RNN, encoder, LLM prefill and decode, MoE, SSM,
/// diffusion), decode at batch 8; one definition (`xpusim-workload`) for every command.
pub use xpusim_workload::ERA_SUITE;

/// Chips `compare` shows by default — the current datacentre GPUs of both vendors, two TPU
/// generations and the generic systolic NPU — so the table fits a terminal; `--hw all`
/// shows every preset.
pub const DEFAULT_CHIPS: &[&str] = &[
    "a100-80gb",
    "h100-sxm",
    "h200",
    "b200",
    "mi300x",
    "tpu-v4",
    "tpu-v5e",
    "npu-systolic",
];

pub fn main(a: &CompareArgs) -> Result<()> {
    let suite: Vec<(String, Option<Phase>, Option<u64>)> = if a.models.is_empty() {
        ERA_SUITE
            .iter()
            .map(|s| (s.model.to_string(), s.phase, s.batch))
            .collect()
    } else {
        a.models.iter().map(|m| (m.clone(), None, None)).collect()
    };
    let mut chips: Vec<String> = match a.hw.as_slice() {
        [] => DEFAULT_CHIPS.iter().map(|c| c.to_string()).collect(),
        [all] if all == "all" => xpusim_hw::preset_names(),
        list => list.to_vec(),
    };
    if let Some(b) = &a.baseline {
        if !chips.contains(b) {
            chips.insert(0, b.clone());
        }
    }
    let base_col = a
        .baseline
        .as_ref()
        .and_then(|b| chips.iter().position(|c| c == b));
    let targets = chips
        .iter()
        .map(|c| target_args::target(c, &a.target))
        .collect::<Result<Vec<Target>>>()?;
    let mut rows: Vec<(String, Vec<ModelCost>)> = Vec::new();
    for (model, phase, batch) in &suite {
        let mut costs = Vec::new();
        let mut w = a.workload.clone();
        // A length distribution gives its own batch (its counts).
        if w.batch.is_none() && w.seq_dist.is_none() {
            w.batch = *batch;
        }
        for t in &targets {
            let natural = t.natural_dtype();
            let (g, label) = resolve::graph_labelled(model, &w, *phase, natural)?;
            let mut c = xpusim_target::evaluate(&g, t)
                .with_context(|| format!("`{model}` on {}", t.name()))?;
            c.precision = label;
            c.ops.clear();
            costs.push(c);
        }
        let label = costs
            .first()
            .map(|c| match &c.seq_dist {
                // Which lengths were packed is in the JSON; the label says it is unpadded.
                Some(d) => format!(
                    "{} {} b{} unpadded (mean {:.0})",
                    c.model, c.phase, c.batch, d.mean_len
                ),
                None => format!("{} {} b{}", c.model, c.phase, c.batch),
            })
            .unwrap_or_else(|| model.clone());
        rows.push((label, costs));
    }
    if let Some(path) = &a.html {
        let names: Vec<String> = targets.iter().map(|t| t.name().to_string()).collect();
        let html = xpusim_report::compare_report(&names, &rows)?;
        xpusim_ir::memfs::write(std::path::Path::new(path), &html)
            .with_context(|| format!("{path}: cannot write"))?;
    }
    match a.format {
        Format::Json => {
            let all: Vec<&ModelCost> = rows.iter().flat_map(|r| &r.1).collect();
            let mut v = serde_json::json!({ "results": all });
            if let (Some(col), Some(name)) = (base_col, &a.baseline) {
                let vs: Vec<serde_json::Value> = rows
                    .iter()
                    .flat_map(|(_, costs)| {
                        costs.iter().map(move |c| {
                            let r = Ratios::of(c, &costs[col]);
                            serde_json::json!({
                                "model": c.model, "phase": c.phase, "batch": c.batch,
                                "hardware": c.hardware,
                                "speedup": r.speedup, "energy_gain": r.energy_gain,
                            })
                        })
                    })
                    .collect();
                v["baseline"] = serde_json::json!({
                    "hardware": name,
                    "per_workload": vs,
                    "geomean": geomeans(&rows, col)
                        .iter()
                        .zip(&targets)
                        .map(|(r, t)| serde_json::json!({
                            "hardware": t.name(), "speedup": r.speedup,
                            "energy_gain": r.energy_gain,
                        }))
                        .collect::<Vec<_>>(),
                });
            }
            outln!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Csv => {
            let extra = if base_col.is_some() {
                ",speedup_vs_baseline,energy_gain_vs_baseline"
            } else {
                ""
            };
            outln!("model,phase,batch,hardware,precision,latency_s,throughput_per_s,tokens_per_s,energy_j,energy_per_sample_j,utilization,bound,fits_in_memory{extra}");
            for (c, base) in rows
                .iter()
                .flat_map(|(_, costs)| costs.iter().map(|c| (c, base_col.map(|i| &costs[i]))))
            {
                let ratios = base
                    .map(|b| {
                        let r = Ratios::of(c, b);
                        format!(",{:.4},{:.4}", r.speedup, r.energy_gain)
                    })
                    .unwrap_or_default();
                outln!(
                    "{},{},{},{},{},{:e},{:e},{:e},{:e},{:e},{:.4},{},{}{ratios}",
                    format::csv(&c.model),
                    c.phase,
                    c.batch,
                    format::csv(&c.hardware),
                    format::csv(&c.precision),
                    c.latency_s,
                    c.throughput_per_s,
                    c.tokens_per_s,
                    c.energy_j,
                    c.energy_per_sample_j,
                    c.utilization,
                    c.bound.label(),
                    c.fits_in_memory
                );
            }
        }
        Format::Table => print_tables(&rows, &targets, base_col),
    }
    Ok(())
}

/// A chip against the baseline on one workload: > 1 is better than the baseline.
#[derive(Debug, Clone, Copy)]
struct Ratios {
    /// Baseline latency ÷ this chip's.
    speedup: f64,
    /// Baseline energy per sample ÷ this chip's.
    energy_gain: f64,
}

impl Ratios {
    fn of(c: &ModelCost, base: &ModelCost) -> Ratios {
        Ratios {
            speedup: base.latency_s / c.latency_s,
            energy_gain: base.energy_per_sample_j / c.energy_per_sample_j,
        }
    }
}

/// Per chip, the geometric means of its ratios to column `base` over the workloads.
fn geomeans(rows: &[(String, Vec<ModelCost>)], base: usize) -> Vec<Ratios> {
    let n = rows.first().map_or(0, |r| r.1.len());
    (0..n)
        .map(|j| {
            let (mut ls, mut le) = (0.0, 0.0);
            for (_, costs) in rows {
                let r = Ratios::of(&costs[j], &costs[base]);
                ls += r.speedup.ln();
                le += r.energy_gain.ln();
            }
            let k = rows.len().max(1) as f64;
            Ratios {
                speedup: (ls / k).exp(),
                energy_gain: (le / k).exp(),
            }
        })
        .collect()
}

/// `1.88×`, to three significant digits.
fn times(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}×")
    } else if x >= 10.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.2}×")
    }
}

fn best(costs: &[ModelCost], key: impl Fn(&ModelCost) -> f64) -> Option<&ModelCost> {
    costs
        .iter()
        .filter(|c| c.fits_in_memory)
        .min_by(|a, b| key(a).total_cmp(&key(b)))
}

fn short_bound(c: &ModelCost) -> String {
    let l = c.bound.label();
    l.strip_prefix("memory:").map(str::to_string).unwrap_or(l)
}

fn print_tables(rows: &[(String, Vec<ModelCost>)], targets: &[Target], base: Option<usize>) {
    let ratio = |costs: &[ModelCost], c: &ModelCost, pick: fn(&Ratios) -> f64| {
        base.map(|b| format!(" · {}", times(pick(&Ratios::of(c, &costs[b])))))
            .unwrap_or_default()
    };
    let base_note = base
        .map(|b| {
            format!(
                "; ×N: N times {} (per sample) than {}",
                "faster / less energy",
                targets[b].name()
            )
        })
        .unwrap_or_default();
    let mut header = vec!["workload".to_string()];
    header.extend(targets.iter().map(|t| match t.system_spec() {
        Some(s) => format!("{} ({}×)", t.name(), s.spec.count),
        None => t.name().to_string(),
    }));
    header.push("fastest".into());

    let mut t = format::table();
    t.set_header(header.clone());
    for (label, costs) in rows {
        let mut r = vec![label.clone()];
        for c in costs {
            let mark = if c.fits_in_memory { "" } else { " *" };
            r.push(format!(
                "{}{mark}{}\n{}-bound\n{} FLOPs",
                format::time(c.latency_s),
                ratio(costs, c, |r| r.speedup),
                short_bound(c),
                format::pct(c.utilization),
            ));
        }
        r.push(best(costs, |c| c.latency_s).map_or("-".into(), |c| c.hardware.clone()));
        t.add_row(r);
    }
    if let Some(b) = base {
        let mut r = vec!["geometric mean".to_string()];
        r.extend(geomeans(rows, b).iter().map(|g| times(g.speedup)));
        r.push(String::new());
        t.add_row(r);
    }
    outln!("Latency per pass; what bounds it and the share of peak FLOPs it uses (* = weights + KV exceed one device's memory{base_note})\n{t}");

    let mut t = format::table();
    let mut h = header.clone();
    if let Some(last) = h.last_mut() {
        *last = "most efficient".into();
    }
    t.set_header(h);
    for (label, costs) in rows {
        let mut r = vec![label.clone()];
        for c in costs {
            r.push(format!(
                "{}{}\n{}",
                format::si(c.energy_per_sample_j, "J"),
                ratio(costs, c, |r| r.energy_gain),
                format::si(c.throughput_per_s, "/s")
            ));
        }
        r.push(best(costs, |c| c.energy_per_sample_j).map_or("-".into(), |c| c.hardware.clone()));
        t.add_row(r);
    }
    if let Some(b) = base {
        let mut r = vec!["geometric mean".to_string()];
        r.extend(geomeans(rows, b).iter().map(|g| times(g.energy_gain)));
        r.push(String::new());
        t.add_row(r);
    }
    outln!("Energy per sample / throughput (samples per second)\n{t}");
}
