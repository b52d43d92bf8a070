//! A [`Target`]: what every command runs a model on — a device or a system, with or
//! without processing in memory — and the cost model that prices ops on its device.

use xpusim_engine::{Analytical, CostModel};
use xpusim_hw::{DeviceSpec, Hardware, Pim, PimPlacement, RuntimeSpec, System};
use xpusim_ir::DType;
use xpusim_pim::{Objective as PimObjective, PimModel};
use xpusim_system::Parallelism;

use crate::TargetError;

/// Which cost model prices the ops of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CostChoice {
    /// The mapping search minimising energy × delay (the objective `xpusim-npu`'s search
    /// defaults to) when the device has an `[array]` section, else the analytical engine.
    #[default]
    Auto,
    Analytical,
    /// The NPU mapping search, minimising this objective (needs an `[array]` section).
    Mapping(xpusim_npu::Objective),
}

/// A device or a system and how to price it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub hw: Hardware,
    pub cost: CostChoice,
    /// Overrides the PIM placement the system file gives.
    pub pim_placement: Option<PimPlacement>,
    /// What `auto` PIM placement minimises.
    pub pim_objective: PimObjective,
    /// How a model is spread over a system's devices.
    pub layout: Layout,
    /// Overlap each collective with the following compute op (default: no overlap, as
    /// Megatron-LM runs tensor parallelism).
    pub overlap_comm: bool,
    /// Fill [`crate::ModelCost::ops`], the per-op rows (default). Sweeps, which read only
    /// totals, turn it off: the rows are most of a pass's allocations, and every total is
    /// computed the same either way.
    pub op_reports: bool,
    /// The software stack around the kernels (`--runtime`): host kernel issue, graph
    /// replay, per-step host work ([`crate::runtime`]). None: device time alone.
    pub runtime: Option<RuntimeSpec>,
}

/// How a model is spread over the devices of a system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// The smallest tensor-parallel group (within a node, then pipeline stages across
    /// nodes) whose devices hold the model; the remaining devices run data-parallel
    /// replicas. A model with nothing to split runs one replica per device.
    #[default]
    Auto,
    Fixed(Parallelism),
}

impl Target {
    pub fn new(hw: Hardware) -> Target {
        Target {
            hw,
            cost: CostChoice::Auto,
            pim_placement: None,
            pim_objective: PimObjective::Time,
            layout: Layout::Auto,
            overlap_comm: false,
            op_reports: true,
            runtime: None,
        }
    }

    pub fn device(dev: DeviceSpec) -> Target {
        Target::new(Hardware::Device(dev))
    }

    pub fn system(sys: System) -> Target {
        Target::new(Hardware::System(sys))
    }

    /// A device or system preset name or alias, or a file of either kind.
    pub fn load(name_or_path: &str) -> Result<Target, TargetError> {
        Ok(Target::new(xpusim_hw::load_hardware(name_or_path)?))
    }

    pub fn name(&self) -> &str {
        self.hw.name()
    }

    /// The device the target is built from.
    pub fn device_spec(&self) -> &DeviceSpec {
        self.hw.device()
    }

    /// Caps every device of the target at `cap_w` watts (`--power-cap-w`; see
    /// `DeviceSpec::power_cap_w`): an error naming the device unless the cap lies above its
    /// static power and at most its TDP.
    pub fn set_power_cap(&mut self, cap_w: f64) -> Result<(), TargetError> {
        let dev = match &mut self.hw {
            Hardware::Device(d) => d,
            Hardware::System(s) => &mut s.device,
        };
        xpusim_hw::check_power_cap(cap_w, &dev.power)
            .map_err(|m| TargetError::Target(format!("--power-cap-w for `{}`: {m}", dev.name)))?;
        dev.power_cap_w = Some(cap_w);
        Ok(())
    }

    /// Host power charged to a job on `devices` of this target's devices, W: the node's
    /// non-accelerator power (CPUs, NICs, switches, fans, power-supply losses; the system
    /// file's `node_power.overhead_w`) in proportion to the devices used, so a replica
    /// carries its devices' share of its node and a job that fills whole nodes carries those
    /// nodes. Zero for a lone device or a system that cites no node power. The one rule
    /// `run`, `serve` and `train` charge host energy by.
    pub fn node_overhead_w(&self, devices: u64) -> f64 {
        self.system_spec().map_or(0.0, |s| {
            s.spec.node_power.as_ref().map_or(0.0, |p| {
                p.overhead_w * devices as f64 / s.spec.devices_per_node.max(1) as f64
            })
        })
    }

    pub fn system_spec(&self) -> Option<&System> {
        match &self.hw {
            Hardware::System(s) => Some(s),
            Hardware::Device(_) => None,
        }
    }

    /// The 16-bit format the target runs by default.
    pub fn natural_dtype(&self) -> DType {
        self.device_spec().natural_dtype
    }

    /// Devices in the target.
    pub fn count(&self) -> u64 {
        self.system_spec().map_or(1, |s| s.spec.count)
    }

    pub fn kind(&self) -> &'static str {
        match self.hw {
            Hardware::Device(_) => "device",
            Hardware::System(_) => "system",
        }
    }

    /// The PIM one device of the target owns: a system's attached modules, or the PIM in
    /// the device's own memory.
    pub fn pim(&self) -> Option<Pim> {
        match self.system_spec().and_then(|s| s.pim.clone()) {
            Some(p) => Some(p),
            None => self.device_spec().memory_pim(),
        }
    }

    /// The PIM placement in effect (None without PIM).
    pub fn pim_placement(&self) -> Option<PimPlacement> {
        let pim = self.pim()?;
        Some(self.pim_placement.unwrap_or(pim.attach.placement))
    }

    /// The cost model of one device of the target, `dev` being that device (possibly
    /// specialised, e.g. running from on-chip memory).
    pub fn cost_model(&self, dev: &DeviceSpec) -> Result<Box<dyn CostModel>, TargetError> {
        let base: Box<dyn CostModel> = match (self.cost, &dev.array) {
            (CostChoice::Analytical, _) | (CostChoice::Auto, None) => {
                Box::new(Analytical::new(dev.clone()))
            }
            (CostChoice::Auto, Some(_)) => Box::new(
                crate::mapping::MappingSearch::new(dev.clone(), xpusim_npu::Objective::Edp)
                    .map_err(TargetError::Target)?,
            ),
            (CostChoice::Mapping(o), _) => Box::new(
                crate::mapping::MappingSearch::new(dev.clone(), o).map_err(TargetError::Target)?,
            ),
        };
        Ok(match (self.pim(), self.pim_placement()) {
            (Some(p), Some(placement)) => {
                Box::new(PimModel::new(base, p, placement, self.pim_objective))
            }
            _ => base,
        })
    }
}
