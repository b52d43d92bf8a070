//! `xpusim attacc`: AttAcc's headline reproduced (GPT-3 175B decode, DGX-A100 HBM3 +
//! AttAcc vs. the GPU-only system with the same capacity), paper vs. xpusim side by side;
//! and `xpusim list pim`.

use anyhow::Result;
use clap::Args;
use xpusim_validate::attacc::{self, PAPER_MAX_ENERGY_RATIO, PAPER_MAX_THROUGHPUT_RATIO};

use crate::args::Format;
use crate::format;

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
    let mut sys = xpusim_hw::find_system(&a.system)?;
    let batches = if a.batch.is_empty() {
        attacc::default_batches(&sys)?
    } else {
        a.batch.clone()
    };
    let Some(pim) = sys.pim.as_mut() else {
        anyhow::bail!(
            "`{}` has no PIM to compare against the GPU-only system",
            a.system
        );
    };
    pim.attach.ffn_split &= !a.no_ffn_split;
    pim.attach.head_pipelining &= !a.no_head_pipelining;
    let (ffn_split, head_pipelining) = (pim.attach.ffn_split, pim.attach.head_pipelining);
    let rows = attacc::sweep_system(&sys, &batches)?;
    match a.format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Csv => {
            outln!("batch,fits,fits_placed,pim_tok_s,gpu_tok_s,throughput_ratio,pim_j_per_tok,gpu_j_per_tok,energy_ratio,energy_ratio_dynamic,pim_j_per_tok_paper,gpu_j_per_tok_paper,energy_ratio_paper");
            for r in &rows {
                outln!(
                    "{},{},{},{:e},{:e},{:.4},{:e},{:e},{:.4},{:.4},{:e},{:e},{:.4}",
                    r.batch,
                    r.fits,
                    r.fits_placed,
                    r.pim_tok_s,
                    r.gpu_tok_s,
                    r.throughput_ratio,
                    r.pim_j_per_tok,
                    r.gpu_j_per_tok,
                    r.energy_ratio,
                    r.energy_ratio_dynamic,
                    r.pim_j_per_tok_paper,
                    r.gpu_j_per_tok_paper,
                    r.energy_ratio_paper
                );
            }
        }
        Format::Table => {
            outln!(
                "GPT-3 175B decode, FP16, Lin {} / Lout {} (step at mean context {}): {} (FFN split {}, head pipelining {}) vs dgx-a100-hbm3-2x (same capacity)",
                attacc::INPUT_LEN,
                attacc::OUTPUT_LEN,
                attacc::INPUT_LEN + attacc::OUTPUT_LEN / 2,
                a.system,
                on_off(ffn_split),
                on_off(head_pipelining),
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
                    format!("{:.0}", r.pim_tok_s),
                    format!("{:.0}", r.gpu_tok_s),
                    format!("{:.2}", r.throughput_ratio),
                    format!("{:.3}", r.pim_j_per_tok),
                    format!("{:.3}", r.gpu_j_per_tok),
                    format!("{:.2}", r.energy_ratio),
                    format!("{:.2}", r.energy_ratio_dynamic),
                    format!("{:.3}", r.pim_j_per_tok_paper),
                    format!("{:.3}", r.gpu_j_per_tok_paper),
                    format!("{:.2}", r.energy_ratio_paper),
                ]);
            }
            let hidden = format::narrow(
                &mut t,
                &[
                    "fits placed",
                    "dyn. energy eff. ×",
                    "paper acct. xPU+PIM J/tok",
                    "paper acct. GPU J/tok",
                ],
            );
            outln!("{t}");
            if let Some(h) = hidden {
                outln!("{h}");
            }
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
            outln!("{s}");
            let note = format!(
                "fits: weights + KV cache of {} tokens per request within each system's total memory ({:.0} GB; the AttAcc simulator's capacity rule, src/system.py get_required_mem_capacity); largest such batch: {}. fits placed: xpusim's stricter check, KV cache and the FFN share moved to PIM within the AttAcc stacks. paper acct.: dynamic energy with the AttAcc simulator's per-access energies (crates/xpusim-validate/data/attacc-paper-energy.toml), FFN split charged as GPU energy as in the simulator. Paper per-batch values are not quoted (figures not accessible); see docs/attacc.md.",
                attacc::INPUT_LEN + attacc::OUTPUT_LEN - 1,
                attacc::total_capacity_bytes(&sys) as f64 / 1e9,
                attacc::max_batch_that_fits(&sys)?,
            );
            outln!("{}", format::wrap(&note));
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

/// `xpusim list pim`: PIM memories and the systems that attach them.
pub fn list(f: Format) -> Result<()> {
    let devs = xpusim_hw::registry::pims()?;
    let systems: Vec<_> = xpusim_hw::registry::systems()?
        .into_iter()
        .filter(|s| s.pim.is_some())
        .collect();
    match f {
        Format::Json => {
            let names: Vec<_> = devs.iter().map(|d| &d.name).collect();
            let sys: Vec<_> = systems.iter().map(|s| &s.spec.name).collect();
            outln!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "devices": names,
                    "systems": sys,
                }))?
            );
        }
        Format::Csv => {
            outln!("name,level,units_per_stack,stacks_per_module,internal_gbps_per_stack,io_gbps_per_stack");
            for d in &devs {
                outln!(
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
                "PIM memory",
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
            outln!("{t}");
            let mut s = format::table();
            s.set_header(["system with PIM", "devices", "PIM", "default placement"]);
            for sys in &systems {
                let Some(p) = &sys.pim else { continue };
                s.add_row([
                    sys.spec.name.clone(),
                    format!("{} × {}", sys.spec.count, sys.device.name),
                    format!("{} × {}", p.attach.modules, p.spec.name),
                    p.attach.placement.label().to_string(),
                ]);
            }
            outln!("{s}");
        }
    }
    Ok(())
}
