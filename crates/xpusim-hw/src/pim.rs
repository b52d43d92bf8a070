//! The processing-in-memory schema: a PIM memory's DRAM organisation, timing, processing
//! units, I/O, power and energy, as TOML (`deny_unknown_fields`). A system attaches PIM
//! modules to its devices ([`crate::system::PimAttachment`]); the bank-level cost model is
//! in `xpusim-pim`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use xpusim_ir::DType;

use crate::locate::{Fields, Seg};
use crate::HwError;

/// Where the processing units sit in the DRAM hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PuLevel {
    /// Beside each bank (or pair of banks) on the DRAM die: HBM-PIM, AiM, AttAcc_bank.
    Bank,
    /// One per bank group, fed by the bank-group I/O: AttAcc_BG.
    BankGroup,
    /// On the HBM buffer (logic) die, or a DIMM-side processor per chip: AttAcc_buffer.
    BufferDie,
}

impl PuLevel {
    pub fn label(self) -> &'static str {
        match self {
            PuLevel::Bank => "bank",
            PuLevel::BankGroup => "bank group",
            PuLevel::BufferDie => "buffer die",
        }
    }
}

/// Where the softmax of decode attention runs when attention is on PIM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SoftmaxPlace {
    /// Scores go back to the host, probabilities come back (HBM-PIM, AiM, UPMEM here).
    Host,
    /// A softmax unit on the buffer die (AttAcc §4.3).
    BufferDie,
}

/// Counts of one PIM module. A module is what one host device attaches: `stacks` HBM
/// stacks, GDDR6 chips or DIMM chips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub stacks: u64,
    /// Channels per stack (chip).
    pub channels: u64,
    /// Pseudo-channels per channel (1 where the standard has none).
    pub pseudo_channels: u64,
    /// Bank groups per pseudo-channel (all ranks / stack IDs together).
    pub bank_groups: u64,
    /// Banks per pseudo-channel (all ranks / stack IDs together).
    pub banks: u64,
    /// Bytes of one row (page) of one bank as seen by one pseudo-channel.
    pub row_bytes: u64,
    /// Bytes of one column access (access granularity).
    pub atom_bytes: u64,
    /// Capacity of one stack (chip).
    pub capacity_bytes: u64,
}

/// DRAM timing in command-clock cycles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// Command clock (1 / tCK).
    pub clock_mhz: f64,
    pub t_rcd: u64,
    pub t_rp: u64,
    pub t_ras: u64,
    pub t_ccd_s: u64,
    pub t_ccd_l: u64,
    /// Four-activate window: at most 4 per-bank activations per pseudo-channel in it.
    pub t_faw: u64,
}

/// The processing units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Processing {
    pub level: PuLevel,
    /// Units per pseudo-channel.
    pub units: u64,
    /// MACs one unit completes per PU clock cycle.
    pub macs_per_cycle: u64,
    pub dtype: DType,
    pub clock_mhz: f64,
    /// Command-clock cycles between consecutive PIM MAC column commands to one unit (the
    /// all-bank tCCD; a power limit on the all-bank command rate shows up as a longer one).
    pub mac_interval_cycles: u64,
    /// Rows are opened in all banks at once by one all-bank ACT (exempt from tFAW).
    pub all_bank_activate: bool,
    pub softmax: SoftmaxPlace,
    /// Softmax rate per stack on the buffer die (only with `softmax = "buffer_die"`).
    #[serde(default)]
    pub softmax_gflops: Option<f64>,
    /// Entering plus leaving PIM mode, once per offloaded op.
    pub mode_switch_ns: f64,
    /// Host-side command issue per offloaded op (kernel launch of the PIM command stream).
    pub command_ns: f64,
}

/// Off-chip interface of one stack (chip).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Io {
    pub bandwidth_gbps: f64,
}

/// Power limits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PimPower {
    /// Dynamic power one stack may draw; caps the rate of all-bank commands (absent: the
    /// cap is already in `mac_interval_cycles`).
    #[serde(default)]
    pub budget_w: Option<f64>,
}

/// Energy per bit at each level of the DRAM, and per MAC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PimEnergy {
    /// Row activation + precharge, per bit read out of the row.
    pub activate_pj_per_bit: f64,
    /// Cell array to bank sense amps / column read, per bit.
    pub cell_pj_per_bit: f64,
    /// Bank (column decoder) to bank-group mux.
    pub bank_to_bank_group_pj_per_bit: f64,
    /// Bank-group mux to the global I/O / buffer die (including TSVs).
    pub bank_group_to_buffer_pj_per_bit: f64,
    /// Buffer die (or chip edge) to the host: interposer or board I/O.
    pub offchip_pj_per_bit: f64,
    pub mac_pj: f64,
}

/// A PIM device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PimSpec {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub display_name: String,
    pub vendor: String,
    #[serde(default)]
    pub unverified: Vec<String>,
    pub organization: Organization,
    pub timing: Timing,
    pub processing: Processing,
    pub io: Io,
    #[serde(default)]
    pub power: PimPower,
    pub energy: PimEnergy,
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
}

impl PimSpec {
    /// Parses and validates TOML text; `file` is used in messages only.
    pub fn from_toml(file: &str, src: &str) -> Result<PimSpec, HwError> {
        let spec: PimSpec = crate::locate::parse(file, src)?;
        spec.validate(file, src)?;
        Ok(spec)
    }

    /// Checks every number the timing model divides by and the organisation's consistency.
    pub fn validate(&self, file: &str, src: &str) -> Result<(), HwError> {
        let f = Fields { file, src };
        let at = |path: &[&'static str]| -> Vec<Seg<'static>> {
            path.iter().map(|k| Seg::Key(k)).collect()
        };
        let bad = |path: &[&'static str], msg: String| f.bad(&at(path), msg);
        let pos = |path: &[&'static str], v: f64| f.positive(&at(path), v);
        let nonneg = |path: &[&'static str], v: f64| f.non_negative(&at(path), v);
        let o = &self.organization;
        for (k, v) in [
            ("stacks", o.stacks),
            ("channels", o.channels),
            ("pseudo_channels", o.pseudo_channels),
            ("bank_groups", o.bank_groups),
            ("banks", o.banks),
            ("row_bytes", o.row_bytes),
            ("atom_bytes", o.atom_bytes),
            ("capacity_bytes", o.capacity_bytes),
        ] {
            pos(&["organization", k], v as f64)?;
        }
        if !o.banks.is_multiple_of(o.bank_groups) {
            return Err(bad(
                &["organization", "banks"],
                format!(
                    "banks ({}) must be divisible by bank_groups ({}): every bank group holds the same number of banks",
                    o.banks, o.bank_groups
                ),
            ));
        }
        if !o.row_bytes.is_multiple_of(o.atom_bytes) {
            return Err(bad(
                &["organization", "row_bytes"],
                format!(
                    "row_bytes ({}) must be a multiple of atom_bytes ({})",
                    o.row_bytes, o.atom_bytes
                ),
            ));
        }
        let t = &self.timing;
        pos(&["timing", "clock_mhz"], t.clock_mhz)?;
        for (k, v) in [
            ("t_rcd", t.t_rcd),
            ("t_rp", t.t_rp),
            ("t_ras", t.t_ras),
            ("t_ccd_s", t.t_ccd_s),
            ("t_ccd_l", t.t_ccd_l),
            ("t_faw", t.t_faw),
        ] {
            pos(&["timing", k], v as f64)?;
        }
        if t.t_ras < t.t_rcd {
            return Err(bad(
                &["timing", "t_ras"],
                format!("t_ras ({}) must be at least t_rcd ({})", t.t_ras, t.t_rcd),
            ));
        }
        if t.t_ccd_l < t.t_ccd_s {
            return Err(bad(
                &["timing", "t_ccd_l"],
                format!(
                    "t_ccd_l ({}) must be at least t_ccd_s ({})",
                    t.t_ccd_l, t.t_ccd_s
                ),
            ));
        }
        let p = &self.processing;
        pos(&["processing", "units"], p.units as f64)?;
        pos(&["processing", "macs_per_cycle"], p.macs_per_cycle as f64)?;
        pos(&["processing", "clock_mhz"], p.clock_mhz)?;
        pos(
            &["processing", "mac_interval_cycles"],
            p.mac_interval_cycles as f64,
        )?;
        nonneg(&["processing", "mode_switch_ns"], p.mode_switch_ns)?;
        nonneg(&["processing", "command_ns"], p.command_ns)?;
        let (limit, what) = match p.level {
            PuLevel::Bank => (o.banks, "banks"),
            PuLevel::BankGroup => (o.bank_groups, "bank_groups"),
            PuLevel::BufferDie => (o.banks, "banks"),
        };
        if p.units > limit {
            return Err(bad(
                &["processing", "units"],
                format!(
                    "{} units per pseudo-channel at {} level exceed the {what} per pseudo-channel ({limit})",
                    p.units,
                    p.level.label()
                ),
            ));
        }
        if !o.banks.is_multiple_of(p.units) {
            return Err(bad(
                &["processing", "units"],
                format!(
                    "units ({}) must divide the banks per pseudo-channel ({}): each unit serves the same number of banks",
                    p.units, o.banks
                ),
            ));
        }
        match (p.softmax, p.softmax_gflops) {
            (SoftmaxPlace::BufferDie, None) => {
                return Err(bad(
                    &["processing", "softmax_gflops"],
                    "softmax = \"buffer_die\" needs softmax_gflops (rate per stack)".into(),
                ))
            }
            (_, Some(g)) => pos(&["processing", "softmax_gflops"], g)?,
            _ => {}
        }
        pos(&["io", "bandwidth_gbps"], self.io.bandwidth_gbps)?;
        if let Some(w) = self.power.budget_w {
            pos(&["power", "budget_w"], w)?;
        }
        let e = &self.energy;
        for (k, v) in [
            ("activate_pj_per_bit", e.activate_pj_per_bit),
            ("cell_pj_per_bit", e.cell_pj_per_bit),
            (
                "bank_to_bank_group_pj_per_bit",
                e.bank_to_bank_group_pj_per_bit,
            ),
            (
                "bank_group_to_buffer_pj_per_bit",
                e.bank_group_to_buffer_pj_per_bit,
            ),
            ("offchip_pj_per_bit", e.offchip_pj_per_bit),
            ("mac_pj", e.mac_pj),
        ] {
            nonneg(&["energy", k], v)?;
        }
        Ok(())
    }

    /// Pseudo-channels of one stack.
    pub fn pseudo_channels_per_stack(&self) -> u64 {
        self.organization.channels * self.organization.pseudo_channels
    }

    /// Processing units in one stack.
    pub fn units_per_stack(&self) -> u64 {
        self.pseudo_channels_per_stack() * self.processing.units
    }

    /// Command-clock period, s.
    pub fn tck_s(&self) -> f64 {
        1e-6 / self.timing.clock_mhz
    }

    /// Capacity of one module (`stacks` stacks), bytes.
    pub fn module_capacity_bytes(&self) -> u64 {
        self.organization.stacks * self.organization.capacity_bytes
    }
}

/// Processing in memory inside a device's own memory (`[pim]` of a device file): the
/// stacks of a memory level are a PIM memory (HBM-PIM beside a GPU, NeuPIMs-style PIM HBM
/// beside an NPU). The device reaches its PIM units over that level's own interface, so the
/// link is the level (its sustained bandwidth, latency and energy per byte) and the PIM
/// share holds what it holds *within* the level's capacity, not beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryPim {
    /// The memory level (by name) whose stacks compute; off-chip.
    pub memory: String,
    /// A PIM memory preset, a path, or the PIM memory inline (resolved and inlined when the
    /// device loads).
    pub device: crate::Component<PimSpec>,
    /// Stacks of that PIM memory making up the level.
    pub stacks: u64,
    pub placement: crate::PimPlacement,
    /// Pipeline attention on PIM with the device's QKV and output projections (AttAcc §5.3).
    #[serde(default)]
    pub head_pipelining: bool,
    /// Split FFN GEMMs between the device and PIM (AttAcc's feed-forward parallelism).
    #[serde(default)]
    pub ffn_split: bool,
}
