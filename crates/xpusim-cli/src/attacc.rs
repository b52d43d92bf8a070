//! `xpusim attacc`: AttAcc's headline reproduced (GPT-3 175B decode, DGX-A100 HBM3 +
//! AttAcc vs. the GPU-only system with the same capacity), paper vs. xpusim side by side;
//! `xpusim run --system <PIM system>` (heterogeneous xPU + PIM systems of xpusim-pim) and
//! `xpusim list pim`.

use anyhow::{Context, Result};
use clap::Args;
use xpusim_pim::attacc::{self, PAPER_MAX_ENERGY_RATIO, PAPER_MAX_THROUGHPUT_RATIO};
use xpusim_pim::{HeteroCost, Objective, Placement};

use crate::args::{Format, RunArgs};
use crate::{format, resolve};

#[derive(Args, Debug)]
pub struct AttaccArgs {
    /// The xPU + PIM system to compare (dgx-a100-attacc or dgx-a100-attacc-bg).
    #[arg(long, default_value = "dgx-a100-attacc")]
    pub system: String,
    /// Batch sizes, comma separated (default: 1,4,16,32,64,128,256).
    #[arg(long, value_delimiter = ',')]
    pub batch: Vec<u64>,
    /// Ablation: without AttAcc's feed-forward split between GPU and PIM (--ffopt).
    #[arg(long)]
    pub no_ffn_split: bool,
    /// Ablation: without AttAcc's head-level pipelining (--pipeopt).
    #[arg(long)]
    pub no_head_pipelining: bool,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn main(a: &AttaccArgs) -> Result<()> {
    let mut sys = xpusim_pim::find_system(&a.system)?;
    let batches = if a.batch.is_empty() {
        attacc::default_batches(&sys)?
    } else {
        a.batch.clone()
    };
    sys.spec.ffn_split &= !a.no_ffn_split;
    sys.spec.head_pipelining &= !a.no_head_pipelining;
    let rows = attacc::sweep_system(&sys, &batches)?;
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Csv => {
            println!("batch,fits,fits_placed,pim_tok_s,gpu_tok_s,throughput_ratio,pim_j_per_tok,gpu_j_per_tok,energy_ratio,energy_ratio_dynamic,pim_j_per_tok_paper,gpu_j_per_tok_paper,energy_ratio_paper");
            for r in &rows {
                println!(
                    "{},{},{},{:e},{:e},{:.4},{:e},{:e},{:.4},{:.4},{:e},{:e},{:.4}",
                    r.batch,
                    r.fits,
                    r.fits_placed,
                    r.pim.tokens_per_s,
                    r.gpu.tokens_per_s,
                    r.throughput_ratio,
                    r.pim.energy_per_token_j,
                    r.gpu.energy_per_token_j,
                    r.energy_ratio,
                    r.energy_ratio_dynamic,
                    r.pim_j_per_tok_paper,
                    r.gpu_j_per_tok_paper,
                    r.energy_ratio_paper
                );
            }
        }
        Format::Table => {
            println!(
                "GPT-3 175B decode, FP16, Lin {} / Lout {} (step at mean context {}): {} (FFN split {}, head pipelining {}) vs dgx-a100-hbm3-2x (same capacity)",
                attacc::INPUT_LEN,
                attacc::OUTPUT_LEN,
                attacc::INPUT_LEN + attacc::OUTPUT_LEN / 2,
                a.system,
                on_off(sys.spec.ffn_split),
                on_off(sys.spec.head_pipelining),
            );
            let mut t = format::table();
            t.set_header([
                "batch",
                "fits",
                "fits placed",
                "xPU+PIM tok/s",
                "GPU tok/s",
                "throughput ×",
                "xPU+PIM J/tok",
                "GPU J/tok",
                "energy eff. ×",
                "dyn. energy eff. ×",
                "paper acct. xPU+PIM J/tok",
                "paper acct. GPU J/tok",
                "paper acct. energy eff. ×",
            ]);
            for r in &rows {
                t.add_row([
                    r.batch.to_string(),
                    if r.fits { "yes" } else { "no" }.to_string(),
                    if r.fits_placed { "yes" } else { "no" }.to_string(),
                    format!("{:.0}", r.pim.tokens_per_s),
                    format!("{:.0}", r.gpu.tokens_per_s),
                    format!("{:.2}", r.throughput_ratio),
                    format!("{:.3}", r.pim.energy_per_token_j),
                    format!("{:.3}", r.gpu.energy_per_token_j),
                    format!("{:.2}", r.energy_ratio),
                    format!("{:.2}", r.energy_ratio_dynamic),
                    format!("{:.3}", r.pim_j_per_tok_paper),
                    format!("{:.3}", r.gpu_j_per_tok_paper),
                    format!("{:.2}", r.energy_ratio_paper),
                ]);
            }
            println!("{t}");
            let best = |f: fn(&attacc::Row) -> f64, fit: bool| {
                rows.iter()
                    .filter(|r| r.fits || !fit)
                    .map(f)
                    .fold(f64::NAN, f64::max)
            };
            let mut s = format::table();
            s.set_header([
                "",
                "paper (ASPLOS'24 abstract)",
                "xpusim, batches that fit",
                "xpusim, all batches",
            ]);
            s.add_row([
                "max throughput ×".to_string(),
                format!("{PAPER_MAX_THROUGHPUT_RATIO:.2}"),
                format!("{:.2}", best(|r| r.throughput_ratio, true)),
                format!("{:.2}", best(|r| r.throughput_ratio, false)),
            ]);
            s.add_row([
                "max energy efficiency ×".to_string(),
                format!("{PAPER_MAX_ENERGY_RATIO:.2}"),
                format!("{:.2}", best(|r| r.energy_ratio, true)),
                format!("{:.2}", best(|r| r.energy_ratio, false)),
            ]);
            s.add_row([
                "max energy efficiency × (dynamic only)".to_string(),
                format!("{PAPER_MAX_ENERGY_RATIO:.2}"),
                format!("{:.2}", best(|r| r.energy_ratio_dynamic, true)),
                format!("{:.2}", best(|r| r.energy_ratio_dynamic, false)),
            ]);
            s.add_row([
                "max energy efficiency × (AttAcc simulator's accounting)".to_string(),
                format!("{PAPER_MAX_ENERGY_RATIO:.2}"),
                format!("{:.2}", best(|r| r.energy_ratio_paper, true)),
                format!("{:.2}", best(|r| r.energy_ratio_paper, false)),
            ]);
            println!("{s}");
            println!(
                "fits: weights + KV cache of {} tokens per request within each system's total memory ({:.0} GiB; the AttAcc simulator's capacity rule, src/system.py get_required_mem_capacity); largest such batch: {}. fits placed: xpusim's stricter check, KV cache and the FFN share moved to PIM within the AttAcc stacks. paper acct.: dynamic energy with the AttAcc simulator's per-access energies (presets/attacc-paper-energy.toml), FFN split charged as GPU energy as in the simulator. Paper per-batch values are not quoted (figures not accessible); see docs/attacc.md.",
                attacc::INPUT_LEN + attacc::OUTPUT_LEN - 1,
                attacc::total_capacity_bytes(&sys) as f64 / (1u64 << 30) as f64,
                attacc::max_batch_that_fits(&sys)?,
            );
        }
    }
    Ok(())
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// `run --system NAME` where NAME is a heterogeneous xPU + PIM system.
pub fn run_hetero(a: &RunArgs, name: &str, placement: Option<&str>) -> Result<()> {
    let l = &a.system;
    if [l.tp, l.pp, l.ep, l.dp, l.microbatches] != [1; 5] || l.overlap_comm {
        anyhow::bail!(
            "--tp/--pp/--ep/--dp/--microbatches/--overlap-comm do not apply to the xPU + PIM system `{name}`: its host_count sets the tensor-parallel degree"
        );
    }
    let sys = xpusim_pim::load_system(name)?;
    let placement = match placement {
        Some(p) => Placement::parse(p)?,
        None => sys.spec.placement,
    };
    let mut w = a.workload.clone();
    if w.context.is_none() {
        // Stay inside the model's window: the new token is position `context`.
        let window = xpusim_models::find(&a.model)
            .map(|m| m.default_seq_len)
            .unwrap_or(DEFAULT_CONTEXT + 1);
        w.context = Some(DEFAULT_CONTEXT.min(window.saturating_sub(1)).max(1));
    }
    let g = resolve::graph(&a.model, &w, None, &sys.host)?;
    let objective = match a.objective {
        crate::npu_map::ObjectiveArg::Energy => Objective::Energy,
        _ => Objective::Time,
    };
    let c = xpusim_pim::evaluate(&g, &sys, placement, objective)
        .with_context(|| format!("`{}` on {}", a.model, sys.spec.name))?;
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&c)?),
        Format::Csv => {
            println!("system,placement,op,kind,repeat,on_pim,time_s,energy_j,host_time_s,pim_time_s,link_s");
            for o in &c.ops {
                println!(
                    "{},{},{},{},{},{},{:e},{:e},{:e},{},{:e}",
                    c.system,
                    c.placement,
                    format::csv(&o.name),
                    o.kind,
                    o.repeat,
                    o.on_pim,
                    o.time_s,
                    o.energy_j,
                    o.host_time_s,
                    o.pim_time_s.map(|t| format!("{t:e}")).unwrap_or_default(),
                    o.link_s
                );
            }
        }
        Format::Table => print_table(a, &sys, &c, w.context.unwrap_or(0)),
    }
    Ok(())
}

/// `run`'s default decode context (resolve.rs DEFAULT_CONTEXT).
const DEFAULT_CONTEXT: u64 = 2048;

fn print_table(a: &RunArgs, sys: &xpusim_pim::HeteroSystem, c: &HeteroCost, context: u64) {
    let pim = sys
        .pim
        .as_ref()
        .map(|(p, _, s)| format!(" + {} stacks of {} per device", s, p.name))
        .unwrap_or_default();
    println!(
        "{} on {} ({} × {}{pim}), placement {}, context {context}",
        a.model, c.system, sys.spec.host_count, sys.host.name, c.placement
    );
    let gb = |b: u64| format::si(b as f64, "B");
    let mut t = format::table();
    t.set_header(["metric", "value"]);
    for (k, v) in [
        ("latency / pass", format::time(c.latency_s)),
        ("tokens/s", format::si(c.tokens_per_s, "tok/s")),
        ("energy / pass (system)", format::si(c.energy_j, "J")),
        ("energy / token", format::si(c.energy_per_token_j, "J")),
        ("host time", format::time(c.host_s)),
        ("PIM time", format::time(c.pim_s)),
        ("link time", format::time(c.link_s)),
        ("hidden by head pipelining", format::time(c.overlap_s)),
        (
            "host memory (per device)",
            format!("{} of {}", gb(c.host_bytes), gb(c.host_capacity_bytes)),
        ),
        (
            "PIM memory (per device share)",
            format!("{} of {}", gb(c.pim_bytes), gb(c.pim_capacity_bytes)),
        ),
        ("fits", if c.fits { "yes" } else { "NO" }.to_string()),
    ] {
        t.add_row([k.to_string(), v]);
    }
    println!("{t}");
    let mut ops: Vec<_> = c.ops.iter().collect();
    ops.sort_by(|x, y| y.time_s.total_cmp(&x.time_s));
    let mut o = format::table();
    o.set_header([
        "op",
        "kind",
        "×",
        "on",
        "time",
        "host alt.",
        "PIM alt.",
        "energy",
    ]);
    for r in ops.into_iter().take(a.top) {
        o.add_row([
            r.name.clone(),
            r.kind.to_string(),
            r.repeat.to_string(),
            if r.on_pim {
                "PIM".to_string()
            } else if r.pim_fraction > 0.0 {
                format!("split {:.0}% PIM", r.pim_fraction * 100.0)
            } else {
                "host".to_string()
            },
            format::time(r.time_s),
            format::time(r.host_time_s),
            r.pim_time_s.map(format::time).unwrap_or_else(|| "-".into()),
            format::si(r.energy_j, "J"),
        ]);
    }
    println!("{o}");
}

/// `xpusim list pim`: PIM devices and xPU + PIM systems.
pub fn list(f: Format) -> Result<()> {
    let devs = xpusim_pim::pim_presets()?;
    match f {
        Format::Json => {
            let names: Vec<_> = devs.iter().map(|d| &d.name).collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "devices": names,
                    "systems": xpusim_pim::system_names(),
                }))?
            );
        }
        Format::Csv => {
            println!("name,level,units_per_stack,stacks_per_module,internal_gbps_per_stack,io_gbps_per_stack");
            for d in &devs {
                println!(
                    "{},{},{},{},{:.1},{}",
                    d.name,
                    d.processing.level.label(),
                    d.units_per_stack(),
                    d.organization.stacks,
                    xpusim_pim::timing::internal_bandwidth_bps(d, 1) / 1e9,
                    d.io.bandwidth_gbps
                );
            }
        }
        Format::Table => {
            let mut t = format::table();
            t.set_header([
                "PIM device",
                "PU level",
                "PUs/stack",
                "stacks/module",
                "internal BW/stack",
                "I/O BW/stack",
                "dtype",
            ]);
            for d in &devs {
                t.add_row([
                    d.name.clone(),
                    d.processing.level.label().to_string(),
                    d.units_per_stack().to_string(),
                    d.organization.stacks.to_string(),
                    format::si(xpusim_pim::timing::internal_bandwidth_bps(d, 1), "B/s"),
                    format::si(d.io.bandwidth_gbps * 1e9, "B/s"),
                    d.processing.dtype.name().to_string(),
                ]);
            }
            println!("{t}");
            let mut s = format::table();
            s.set_header(["xPU + PIM system", "host", "PIM", "default placement"]);
            for n in xpusim_pim::system_names() {
                let sys = xpusim_pim::find_system(&n)?;
                s.add_row([
                    n,
                    format!("{} × {}", sys.spec.host_count, sys.spec.host),
                    sys.spec
                        .pim
                        .as_ref()
                        .map(|p| format!("{} × {p}", sys.spec.pim_modules))
                        .unwrap_or_else(|| "-".into()),
                    sys.spec.placement.label().to_string(),
                ]);
            }
            println!("{s}");
        }
    }
    Ok(())
}
