//! `xpusim cost`: what a chip costs to make and to own, and what work costs on it; with
//! `--node`, the same design re-costed at another process node beside it.

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde_json::json;
use xpusim_cost::{
    builtin, chip_cost, recost, tco, ChipCost, CostOverrides, Scaling, Tco, TcoParams, WorkRate,
    YieldModel,
};
use xpusim_hw::DeviceSpec;

use crate::args::{Format, WorkloadArgs};
use crate::{format, resolve};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScalingArg {
    IsoSpeed,
    IsoPower,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum YieldArg {
    Murphy,
    NegativeBinomial,
}

#[derive(Args, Debug)]
pub struct CostArgs {
    /// Device or system (preset name or TOML path); a system is costed per device: its
    /// device's chip, and one device's share of the work.
    #[arg(long)]
    pub hw: String,
    /// Also cost the same design built at this node (nm: 16 or 12, 10, 7, 5, 4, 3).
    #[arg(long)]
    pub node: Option<f64>,
    /// How the design moves to --node: same clock (energy scales) or same power (clock scales).
    #[arg(long, value_enum, default_value_t = ScalingArg::IsoSpeed)]
    pub scaling: ScalingArg,
    #[arg(long = "yield", value_enum, default_value_t = YieldArg::Murphy)]
    pub yield_model: YieldArg,
    /// Defect clustering α of the negative-binomial yield model (default: cited value).
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Electricity price, $/kWh (default: cited US industrial average).
    #[arg(long)]
    pub kwh_price: Option<f64>,
    /// Data-centre PUE (default: cited survey average).
    #[arg(long)]
    pub pue: Option<f64>,
    /// Service life in years.
    #[arg(long)]
    pub life_years: Option<f64>,
    /// Hosting, $ per kW of TDP per month.
    #[arg(long)]
    pub hosting: Option<f64>,
    /// Fraction of the life the chip is busy (idle power otherwise).
    #[arg(long, default_value_t = 1.0)]
    pub duty: f64,
    /// Off-chip memory price, $/GB (required for memories without a cited price).
    #[arg(long)]
    pub memory_usd_per_gb: Option<f64>,
    /// Packaging cost, $ (required for non-HBM packages).
    #[arg(long)]
    pub packaging_usd: Option<f64>,
    /// Models to price work on (comma separated); default: the era suite.
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
    #[command(flatten)]
    pub workload: WorkloadArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// One costed design: its chip cost and the price of work per workload.
struct Costed {
    dev: DeviceSpec,
    chip: ChipCost,
    work: Vec<(String, Tco)>,
}

pub fn main(a: &CostArgs) -> Result<()> {
    let data = builtin()?;
    let mut p = TcoParams::defaults(data);
    let set = |v: Option<f64>, slot: &mut f64| {
        if let Some(v) = v {
            *slot = v;
        }
    };
    set(a.kwh_price, &mut p.usd_per_kwh);
    set(a.pue, &mut p.pue);
    set(a.life_years, &mut p.life_years);
    set(a.hosting, &mut p.hosting_usd_per_kw_month);
    p.duty = a.duty;
    let o = CostOverrides {
        yield_model: Some(match a.yield_model {
            YieldArg::Murphy => YieldModel::Murphy,
            YieldArg::NegativeBinomial => YieldModel::NegativeBinomial {
                alpha: a.alpha.unwrap_or(data.wafer.negative_binomial_alpha),
            },
        }),
        memory_usd_per_gb: a.memory_usd_per_gb,
        packaging_usd: a.packaging_usd,
        ..Default::default()
    };
    if a.alpha.is_some() && a.yield_model != YieldArg::NegativeBinomial {
        bail!("--alpha only applies to --yield negative-binomial");
    }
    let target = xpusim_target::Target::load(&a.hw)?;
    let base = target.device_spec().clone();
    let mut devs = vec![base.clone()];
    let mut note = None;
    if let Some(nm) = a.node {
        let s = match a.scaling {
            ScalingArg::IsoSpeed => Scaling::IsoSpeed,
            ScalingArg::IsoPower => Scaling::IsoPower,
        };
        let r = recost(&base, nm, s, data)?;
        note = Some(format!(
            "re-costed {} nm → {} nm ({:?}): die area ×{:.3}, energy per op ×{:.3}, clock ×{:.3}{}",
            r.from_nm,
            r.to_nm,
            s,
            r.area_factor,
            r.energy_factor,
            r.clock_factor,
            if r.exceeds_reticle {
                format!(
                    "; {:.0} mm² exceeds the {:.0} mm² reticle: not buildable as one die",
                    r.spec.die_area_mm2.unwrap_or(0.0),
                    data.wafer.reticle_mm2
                )
            } else {
                String::new()
            }
        ));
        devs.push(r.spec);
    }
    let models: Vec<(String, Option<xpusim_ir::Phase>, Option<u64>)> = if a.models.is_empty() {
        xpusim_workload::ERA_SUITE
            .iter()
            .map(|s| (s.model.to_string(), s.phase, s.batch))
            .collect()
    } else {
        a.models.iter().map(|m| (m.clone(), None, None)).collect()
    };
    let mut out = Vec::new();
    for dev in devs {
        let chip = chip_cost(&dev, data, &o).with_context(|| format!("costing `{}`", dev.name))?;
        let mut work = Vec::new();
        for (m, ph, b) in &models {
            let mut w = a.workload.clone();
            // A length distribution gives its own batch (its counts).
            if w.batch.is_none() && w.seq_dist.is_none() {
                w.batch = *b;
            }
            let g = resolve::graph(m, &w, *ph, dev.natural_dtype)?;
            let mut t = target.clone();
            t.hw = match t.hw {
                xpusim_hw::Hardware::Device(_) => xpusim_hw::Hardware::Device(dev.clone()),
                xpusim_hw::Hardware::System(mut s) => {
                    s.device = dev.clone();
                    xpusim_hw::Hardware::System(s)
                }
            };
            let c = xpusim_target::evaluate(&g, &t)?;
            let n = c.devices.max(1) as f64;
            let rate = WorkRate {
                samples_per_s: c.throughput_per_s / n,
                tokens_per_s: (g.tokens() > 0 && c.tokens_per_s > 0.0)
                    .then_some(c.tokens_per_s / n),
                avg_power_w: c.energy_j / c.latency_s / n,
            };
            // Side by side with a re-costed design (which has no list price), both are priced
            // from cost so that the comparison is like for like.
            let price = if a.node.is_some() {
                None
            } else {
                dev.price_usd
            };
            let t = tco(
                price,
                chip.total_usd,
                dev.power.tdp_w,
                dev.power.idle_w,
                rate,
                &p,
            )
            .with_context(|| format!("TCO of `{}` on `{}`", m, dev.name))?;
            work.push((format!("{} {} b{}", c.model, c.phase, c.batch), t));
        }
        out.push(Costed { dev, chip, work });
    }
    match a.format {
        Format::Json => {
            let v: Vec<_> = out
                .iter()
                .map(|c| {
                    json!({
                        "hardware": c.dev.name,
                        "chip": c.chip,
                        "work": c.work.iter().map(|(l, t)| json!({"workload": l, "tco": t})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            outln!(
                "{}",
                serde_json::to_string_pretty(
                    &json!({ "tco_params": p, "note": note, "results": v })
                )?
            );
        }
        Format::Csv => {
            outln!("hardware,workload,chip_cost_usd,chip_price_usd,energy_usd,hosting_usd,total_usd,usd_per_m_samples,usd_per_m_tokens");
            for c in &out {
                for (l, t) in &c.work {
                    outln!(
                        "{},{},{:e},{:e},{:e},{:e},{:e},{:e},{}",
                        format::csv(&c.dev.name),
                        format::csv(l),
                        c.chip.total_usd,
                        t.chip_price_usd,
                        t.energy_usd,
                        t.hosting_usd,
                        t.total_usd,
                        t.usd_per_million_samples,
                        t.usd_per_million_tokens
                            .map(|v| format!("{v:e}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        Format::Table => print_tables(&out, &p, note.as_deref()),
    }
    Ok(())
}

fn usd(v: f64) -> String {
    if v >= 100.0 {
        format!("${v:.0}")
    } else if v >= 1.0 {
        format!("${v:.2}")
    } else {
        format!("${v:.4}")
    }
}

/// A row of the cost table: its name and how to print it for one chip.
type Line = (&'static str, fn(&ChipCost) -> String);

fn print_tables(out: &[Costed], p: &TcoParams, note: Option<&str>) {
    let mut t = format::table();
    let mut h = vec!["manufacturing cost".to_string()];
    h.extend(out.iter().map(|c| c.dev.name.clone()));
    t.set_header(h);
    let rows: [Line; 12] = [
        ("node", |c| c.node.clone()),
        ("die area", |c| format!("{:.0} mm²", c.die_area_mm2)),
        ("wafer price", |c| usd(c.wafer_usd)),
        ("D0", |c| format!("{} /cm²", c.d0_per_cm2)),
        ("dies per wafer", |c| format!("{:.0}", c.dies_per_wafer)),
        ("die yield", |c| {
            format!("{} ({})", format::pct(c.die_yield), c.yield_model)
        }),
        ("good dies per wafer", |c| {
            format!("{:.1}", c.good_dies_per_wafer)
        }),
        ("die", |c| usd(c.die_usd)),
        ("off-chip memory", |c| {
            format!(
                "{} ({:.0} GB × {}/GB)",
                usd(c.memory_usd),
                c.memory_gb,
                usd(c.memory_usd_per_gb)
            )
        }),
        ("packaging", |c| usd(c.packaging_usd)),
        ("test + assembly", |c| usd(c.test_usd)),
        ("total", |c| usd(c.total_usd)),
    ];
    for (name, f) in rows {
        let mut r = vec![name.to_string()];
        r.extend(out.iter().map(|c| f(&c.chip)));
        t.add_row(r);
    }
    outln!("{t}");
    if let Some(n) = note {
        outln!("{n}");
    }
    let mut t = format::table();
    let mut h = vec!["$ per million samples (tokens)".to_string()];
    h.extend(out.iter().map(|c| c.dev.name.clone()));
    t.set_header(h);
    let first = out
        .first()
        .and_then(|c| c.work.first())
        .map_or(String::new(), |w| w.0.clone());
    let mut r = vec![format!("TCO on {first}\n(price + energy + hosting)")];
    r.extend(out.iter().map(|c| {
        c.work.first().map_or("-".into(), |(_, t)| {
            format!(
                "{} + {} + {} = {}\n{}",
                usd(t.chip_price_usd),
                usd(t.energy_usd),
                usd(t.hosting_usd),
                usd(t.total_usd),
                t.price_basis
            )
        })
    }));
    t.add_row(r);
    let n = out.first().map_or(0, |c| c.work.len());
    for i in 0..n {
        let mut r = vec![out[0].work[i].0.clone()];
        r.extend(out.iter().map(|c| {
            let t = &c.work[i].1;
            match t.usd_per_million_tokens {
                Some(tok) if (tok - t.usd_per_million_samples).abs() > 1e-12 => {
                    format!("{} ({} /M tok)", usd(t.usd_per_million_samples), usd(tok))
                }
                _ => usd(t.usd_per_million_samples),
            }
        }));
        t.add_row(r);
    }
    outln!(
        "Cost of work over {} years, {} busy, at ${}/kWh × PUE {} and ${}/kW-month hosting\n{t}",
        p.life_years,
        format::pct(p.duty),
        p.usd_per_kwh,
        p.pue,
        p.hosting_usd_per_kw_month
    );
}
