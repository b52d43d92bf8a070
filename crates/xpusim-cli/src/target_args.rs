//! Names → targets: every command's `--hw` takes a device or a system (preset name or TOML
//! path), with the options that say how to lay a model out on it and how to price it.

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use xpusim_hw::PimPlacement;
use xpusim_target::{CostChoice, Layout, Parallelism, Target};

use crate::args::Format;
use crate::format;

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum CostModelArg {
    /// The mapping search for devices with an `[array]` section, else the analytical engine.
    #[default]
    Auto,
    /// The analytical engine (tiling-aware roofline per op).
    Analytical,
    /// The NPU mapping search minimising latency (needs an `[array]` section).
    MappingLatency,
    /// The NPU mapping search minimising energy.
    MappingEnergy,
    /// The NPU mapping search minimising energy × delay.
    MappingEdp,
}

/// How a model is laid out on a target and priced.
#[derive(Args, Debug, Default, Clone)]
pub struct TargetArgs {
    /// Tensor-parallel degree (Megatron-style: heads and projections split by the ops'
    /// roles, 2 all-reduces per layer). Default on a system: the smallest that holds the model.
    #[arg(long)]
    pub tp: Option<u64>,
    /// Pipeline-parallel degree (layers split into stages).
    #[arg(long)]
    pub pp: Option<u64>,
    /// Expert-parallel degree for MoE models (divides --tp).
    #[arg(long)]
    pub ep: Option<u64>,
    /// Data-parallel replicas (throughput adds).
    #[arg(long)]
    pub dp: Option<u64>,
    /// Micro-batches the batch is split into for the pipeline (must divide --batch).
    #[arg(long)]
    pub microbatches: Option<u64>,
    /// Overlap each collective with the next compute op (default: no overlap, as Megatron).
    #[arg(long)]
    pub overlap_comm: bool,
    /// Op placement on a system with PIM (`xpusim list pim`): auto, attention-on-pim or
    /// host-only (default: the system's).
    #[arg(long)]
    pub placement: Option<String>,
    /// What `--placement auto` minimises on a system with PIM.
    #[arg(long, value_enum, default_value = "time")]
    pub pim_objective: PimObjectiveArg,
    /// What prices each op.
    #[arg(long, value_enum, default_value = "auto")]
    pub cost_model: CostModelArg,
    /// Cap every device's power at this many watts (as `nvidia-smi -pl` does; between the
    /// device's idle power and its TDP): ops whose dynamic power would exceed the cap run
    /// their cores at a lower clock and voltage until they fit. Default: the device file's `power_cap_w`, else TDP.
    #[arg(long)]
    pub power_cap_w: Option<f64>,
    /// The software stack around the kernels (`xpusim list runtimes`, or a runtime TOML):
    /// host time to issue each kernel, CUDA-graph replay, per-step host work. Default: none
    /// (device time alone).
    #[arg(long)]
    pub runtime: Option<String>,
}

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum PimObjectiveArg {
    /// Each PIM-capable op where it finishes sooner.
    #[default]
    Time,
    /// Each PIM-capable op where it spends less energy.
    Energy,
}

impl TargetArgs {
    /// A fixed layout when any of --tp/--pp/--ep/--dp/--microbatches is given.
    pub fn layout(&self) -> Layout {
        let given = [self.tp, self.pp, self.ep, self.dp, self.microbatches];
        if given.iter().all(Option::is_none) {
            return Layout::Auto;
        }
        Layout::Fixed(Parallelism {
            tp: self.tp.unwrap_or(1),
            pp: self.pp.unwrap_or(1),
            ep: self.ep.unwrap_or(1),
            dp: self.dp.unwrap_or(1),
            microbatches: self.microbatches.unwrap_or(1),
            sp: false,
        })
    }

    pub fn microbatches(&self) -> u64 {
        self.microbatches.unwrap_or(1)
    }
}

/// The target `name` (a device or system preset, or a TOML file of either) with `a`'s
/// layout and pricing options.
pub fn target(name: &str, a: &TargetArgs) -> Result<Target> {
    let mut t = Target::load(name)?;
    t.layout = a.layout();
    if let Layout::Fixed(p) = t.layout {
        p.check()?;
        if t.system_spec().is_none() && (p.devices() > 1 || p.ep > 1 || p.microbatches > 1) {
            bail!(
                "--tp/--pp/--ep/--dp/--microbatches need a multi-device system, but `{name}` is \
                 one device; give a system with --hw (see `xpusim list systems`)"
            );
        }
    }
    t.overlap_comm = a.overlap_comm;
    if let Some(w) = a.power_cap_w {
        t.set_power_cap(w)?;
    }
    if let Some(r) = &a.runtime {
        t.runtime = Some(xpusim_hw::load_runtime(r)?);
    }
    if let Some(p) = &a.placement {
        if t.system_spec().and_then(|s| s.pim.as_ref()).is_none() {
            bail!("--placement needs a system with PIM (see `xpusim list pim`), not `{name}`");
        }
        t.pim_placement = Some(PimPlacement::parse(p).map_err(anyhow::Error::msg)?);
    }
    t.pim_objective = match a.pim_objective {
        PimObjectiveArg::Time => xpusim_pim::Objective::Time,
        PimObjectiveArg::Energy => xpusim_pim::Objective::Energy,
    };
    t.cost = match a.cost_model {
        CostModelArg::Auto => CostChoice::Auto,
        CostModelArg::Analytical => CostChoice::Analytical,
        CostModelArg::MappingLatency => CostChoice::Mapping(xpusim_npu::Objective::Latency),
        CostModelArg::MappingEnergy => CostChoice::Mapping(xpusim_npu::Objective::Energy),
        CostModelArg::MappingEdp => CostChoice::Mapping(xpusim_npu::Objective::Edp),
    };
    Ok(t)
}

/// `xpusim list systems`.
pub fn list(f: Format) -> Result<()> {
    let systems = xpusim_hw::registry::systems()?;
    match f {
        Format::Json => {
            let specs: Vec<_> = systems.iter().map(|s| &s.spec).collect();
            outln!("{}", serde_json::to_string_pretty(&specs)?);
        }
        Format::Csv => {
            outln!("name,device,count,devices_per_node,scale_up,scale_up_gbps,scale_out_gbps,pim");
            for s in &systems {
                let p = &s.spec;
                outln!(
                    "{},{},{},{},{},{},{},{}",
                    p.name,
                    s.device.name,
                    p.count,
                    p.devices_per_node,
                    format::csv(p.scale_up.as_ref().map_or("", |u| u.name.as_str())),
                    p.scale_up
                        .as_ref()
                        .map(|u| u.bandwidth_gbps.to_string())
                        .unwrap_or_default(),
                    p.scale_out
                        .as_ref()
                        .map(|o| o.bandwidth_gbps.to_string())
                        .unwrap_or_default(),
                    s.pim.as_ref().map(|m| m.spec.name.as_str()).unwrap_or("")
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
                "PIM",
                "aliases",
            ]);
            for s in &systems {
                let p = &s.spec;
                t.add_row([
                    p.name.clone(),
                    p.display_name.clone(),
                    format!("{} × {}", p.count, s.device.name),
                    p.scale_up
                        .as_ref()
                        .map(|u| {
                            format!(
                                "{} {} GB/s/dir",
                                format!("{:?}", u.kind).to_lowercase(),
                                u.bandwidth_gbps
                            )
                        })
                        .unwrap_or_else(|| "—".into()),
                    p.scale_out
                        .as_ref()
                        .map(|o| format!("{} GB/s/node", o.bandwidth_gbps))
                        .unwrap_or_else(|| "—".into()),
                    s.pim
                        .as_ref()
                        .map(|m| {
                            format!(
                                "{} stacks of {} per device, {}",
                                m.stacks_per_device,
                                m.spec.name,
                                m.attach.placement.label()
                            )
                        })
                        .unwrap_or_else(|| "—".into()),
                    p.aliases.join(", "),
                ]);
            }
            outln!("{t}");
        }
    }
    Ok(())
}
