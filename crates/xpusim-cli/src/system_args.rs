//! `xpusim run --system NAME --tp N …`: one model on a multi-device system, and
//! `xpusim list systems`. Without `--system`, `run` is unchanged.

use anyhow::{bail, Context, Result};
use clap::Args;
use xpusim_system::{Options, Parallelism, SystemCost};

use crate::args::{Format, RunArgs};
use crate::{format, resolve};

/// Multi-device options of `run`.
#[derive(Args, Debug, Default, Clone)]
pub struct SystemArgs {
    /// Run on a multi-device system (preset name or system TOML path) instead of one chip;
    /// see `xpusim list systems`.
    #[arg(long, conflicts_with = "hw")]
    pub system: Option<String>,
    /// Tensor-parallel degree (Megatron-style: heads and FFN split, 2 all-reduces per layer).
    #[arg(long, default_value_t = 1)]
    pub tp: u64,
    /// Pipeline-parallel degree (layers split into stages).
    #[arg(long, default_value_t = 1)]
    pub pp: u64,
    /// Expert-parallel degree for MoE models (divides --tp).
    #[arg(long, default_value_t = 1)]
    pub ep: u64,
    /// Data-parallel replicas (throughput adds).
    #[arg(long, default_value_t = 1)]
    pub dp: u64,
    /// Micro-batches the batch is split into for the pipeline (must divide --batch).
    #[arg(long, default_value_t = 1)]
    pub microbatches: u64,
    /// Overlap each collective with the next compute op (default: no overlap, as Megatron).
    #[arg(long)]
    pub overlap_comm: bool,
    /// Op placement on an xPU + PIM system (`xpusim list pim`): auto, attention-on-pim or
    /// host-only (default: the system's).
    #[arg(long)]
    pub placement: Option<String>,
}

impl SystemArgs {
    /// True when any multi-device option is set, so `run` must go through the system
    /// layer (and fail clearly if `--system` is missing) rather than ignore it.
    pub fn is_used(&self) -> bool {
        self.system.is_some()
            || [self.tp, self.pp, self.ep, self.dp, self.microbatches] != [1; 5]
            || self.overlap_comm
            || self.placement.is_some()
    }
}

pub fn run(a: &RunArgs) -> Result<()> {
    let s = &a.system;
    let Some(name) = s.system.as_deref() else {
        bail!("--tp/--pp/--ep/--dp/--microbatches/--overlap-comm/--placement need --system NAME_OR_PATH (see `xpusim list systems`, `xpusim list pim`)");
    };
    if xpusim_pim::is_hetero_system(name) {
        return crate::attacc::run_hetero(a, name, s.placement.as_deref());
    }
    if s.placement.is_some() {
        bail!("--placement needs an xPU + PIM system (see `xpusim list pim`), not `{name}`");
    }
    let sys = match xpusim_system::load_system(name) {
        // One "did you mean" over both kinds of system: multi-device and xPU + PIM.
        Err(xpusim_system::SystemError::Unknown { .. }) => {
            let mut known = xpusim_system::preset_names();
            known.extend(xpusim_pim::system_names());
            let near = xpusim_hw::close_names(name, &known);
            if near.is_empty() {
                bail!("unknown system `{name}` (see `xpusim list systems`, `xpusim list pim`)");
            }
            bail!(
                "unknown system `{name}`; did you mean {}?",
                near.join(" or ")
            );
        }
        other => other?,
    };
    let par = Parallelism {
        tp: s.tp,
        pp: s.pp,
        ep: s.ep,
        dp: s.dp,
        microbatches: s.microbatches,
    };
    par.check()?;
    // The graph is built for ONE micro-batch.
    let batch = a
        .workload
        .batch
        .or_else(|| xpusim_models::find(&a.model).map(|m| m.default_batch))
        .unwrap_or(1);
    if !batch.is_multiple_of(par.microbatches) {
        bail!(
            "--batch {batch} does not split into --microbatches {}",
            par.microbatches
        );
    }
    let mut w = a.workload.clone();
    w.batch = Some(batch / par.microbatches);
    let g = resolve::graph(&a.model, &w, None, &sys.device)?;
    let opts = Options {
        overlap_comm: s.overlap_comm,
    };
    let cost = xpusim_system::evaluate(&g, &sys, &par, &opts)
        .with_context(|| format!("`{}` on {}", a.model, sys.spec.name))?;
    let precision = resolve::precision(&a.workload, &sys.device)?.name();
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&cost)?),
        Format::Csv => print_csv(&cost),
        Format::Table => print_table(&cost, &precision, a.top),
    }
    Ok(())
}

fn print_csv(c: &SystemCost) {
    println!("model,system,phase,parallelism,op,kind,placement,stage,repeat,flops_per_device,time_s,energy_j,bound");
    let head = format!(
        "{},{},{},{}",
        format::csv(&c.model),
        format::csv(&c.system),
        c.phase,
        format::csv(&c.parallelism.to_string())
    );
    for o in &c.ops {
        println!(
            "{head},{},{},{},{},{},{},{:e},{:e},{}",
            format::csv(&o.name),
            o.kind,
            o.placement,
            o.stage,
            o.repeat,
            o.flops_per_device,
            o.time_s,
            o.energy_j,
            o.bound
        );
    }
    println!(
        "{head},TOTAL,system,,,1,{},{:e},{:e},",
        c.flops, c.latency_s, c.energy_j
    );
}

fn print_table(c: &SystemCost, precision: &str, top: usize) {
    println!(
        "{} on {} ({} × {}) — {} {}, {}, batch {} per replica",
        c.model, c.system, c.devices_used, c.device, c.phase, precision, c.parallelism, c.batch
    );
    let gb = |b: u64| format::si(b as f64, "B");
    let mut t = format::table();
    t.set_header(["metric", "value"]);
    let mut rows: Vec<(&str, String)> = vec![
        ("latency", format::time(c.latency_s)),
        ("throughput", format::si(c.throughput_per_s, "samples/s")),
        ("tokens/s", format::si(c.tokens_per_s, "tok/s")),
        ("busiest stage", format::time(c.stage_time_s)),
        ("pipeline bubble", format::pct(c.bubble_fraction)),
        ("compute (per device)", format::time(c.compute_s)),
        ("communication (exposed)", format::time(c.communication_s)),
        (
            "communication (hidden)",
            format::time(c.hidden_communication_s),
        ),
        ("energy / pass (system)", format::si(c.energy_j, "J")),
        ("energy / token", format::si(c.energy_per_token_j, "J")),
        (
            "memory / device",
            format!(
                "{} of {} (weights {}, KV {}, activations {})",
                gb(c.memory_needed_per_device_bytes),
                gb(c.memory_capacity_bytes),
                gb(c.weights_per_device_bytes),
                gb(c.kv_cache_per_device_bytes),
                gb(c.activations_per_device_bytes)
            ),
        ),
    ];
    if let Some(p) = c.usd_per_million_tokens {
        rows.push(("$ / 1M tokens (rental)", format!("{p:.3}")));
    }
    for (k, v) in rows {
        t.add_row([k.to_string(), v]);
    }
    println!("{t}");
    let mut ops: Vec<_> = c.ops.iter().collect();
    ops.sort_by(|a, b| b.time_s.total_cmp(&a.time_s));
    let mut t = format::table();
    t.set_header([
        "op",
        "kind",
        "placement",
        "×",
        "time / device",
        "FLOPs / device",
        "bound",
        "mapping",
    ]);
    for o in ops.iter().take(top) {
        t.add_row([
            o.name.clone(),
            o.kind.clone(),
            o.placement.clone(),
            o.repeat.to_string(),
            format::time(o.time_s),
            format::si(o.flops_per_device as f64, ""),
            o.bound.clone(),
            o.mapping.clone(),
        ]);
    }
    println!(
        "top {} of {} operators by time:\n{t}",
        top.min(ops.len()),
        ops.len()
    );
}

/// `xpusim list systems`.
pub fn list(f: Format) -> Result<()> {
    let systems = xpusim_system::presets()?;
    match f {
        Format::Json => {
            let specs: Vec<_> = systems.iter().map(|s| &s.spec).collect();
            println!("{}", serde_json::to_string_pretty(&specs)?);
        }
        Format::Csv => {
            println!("name,device,count,devices_per_node,scale_up,scale_up_gbps,scale_out_gbps");
            for s in &systems {
                let p = &s.spec;
                println!(
                    "{},{},{},{},{},{},{}",
                    p.name,
                    p.device,
                    p.count,
                    p.devices_per_node,
                    format::csv(&p.scale_up.name),
                    p.scale_up.bandwidth_gbps,
                    p.scale_out
                        .as_ref()
                        .map(|o| o.bandwidth_gbps.to_string())
                        .unwrap_or_default()
                );
            }
        }
        Format::Table => {
            let mut t = format::table();
            t.set_header([
                "system",
                "description",
                "devices",
                "scale-up",
                "scale-out",
                "aliases",
            ]);
            for s in &systems {
                let p = &s.spec;
                t.add_row([
                    p.name.clone(),
                    p.display_name.clone(),
                    format!("{} × {}", p.count, s.device.name),
                    format!(
                        "{} {} GB/s/dir",
                        format!("{:?}", p.scale_up.kind).to_lowercase(),
                        p.scale_up.bandwidth_gbps
                    ),
                    p.scale_out
                        .as_ref()
                        .map(|o| format!("{} GB/s/node", o.bandwidth_gbps))
                        .unwrap_or_else(|| "—".into()),
                    p.aliases.join(", "),
                ]);
            }
            println!("{t}");
        }
    }
    Ok(())
}
