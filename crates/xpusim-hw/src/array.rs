//! The optional `[array]` section of a device: the PE array the mapping search
//! (`xpusim-npu`) maps loop nests onto, with per-action energy and area in the
//! Accelergy/Timeloop style.
//!
//! A device file stays one schema: the analytical engine reads the base fields (peaks,
//! memory hierarchy, power, `energy.mac_pj`), the mapping search reads the same memory
//! hierarchy plus this section. Nothing here changes what the engine computes.
//!
//! How the two views of one chip relate:
//! - `rows × cols × arrays_per_core × cores × 2 × clock_ghz` is the chip's dense matrix
//!   peak in its natural format (checked for every preset by `tests/presets.rs`).
//! - `mac_energy_pj` is the MAC *datapath* alone (multiplier and accumulator adder).
//!   The engine's `energy.mac_pj` is the whole per-MAC energy including operand delivery
//!   (PE registers, the innermost buffer, clock and control), so for every format both
//!   give, `mac_energy_pj + reg_accesses_per_mac × bytes × reg_energy_pj_per_byte ≤
//!   energy.mac_pj`; each preset's `[sources]` states the split.
//! - Memory levels are shared: the mapping search reads `capacity_bytes`, the sustained
//!   bandwidth (`bandwidth_gbps × efficiency`), `energy_pj_per_byte` as the read energy
//!   and the optional per-level extras on [`crate::MemoryLevel`] (write energy, leakage,
//!   area).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use xpusim_ir::DType;

use crate::locate::{Fields, Seg};
use crate::{DeviceSpec, HwError, Scope};

/// How an array unrolls a contraction: SCALE-Sim's three dataflows — which of the
/// output-pixel (P), window (W) and filter (N) groups sit on rows and columns and which
/// streams in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dataflow {
    /// Output stationary: P on rows, N on columns, W in time.
    Os,
    /// Weight stationary: W on rows, N on columns, P in time.
    Ws,
    /// Input stationary: W on rows, P on columns, N in time.
    Is,
}

impl Dataflow {
    pub fn name(self) -> &'static str {
        match self {
            Dataflow::Os => "os",
            Dataflow::Ws => "ws",
            Dataflow::Is => "is",
        }
    }
}

/// PE array(s) of one core, with per-action energy and area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArraySpec {
    /// PE rows of one array (the reduction side of a weight-stationary array).
    pub rows: u64,
    /// PE columns of one array.
    pub cols: u64,
    /// Arrays in one core that share its core-scope memories (TPU v4: one TensorCore
    /// holds 4 MXUs). The mapping search treats every array as a core of its own with an
    /// equal share of the core-scope capacities and bandwidths. Default 1.
    #[serde(default = "one")]
    pub arrays_per_core: u64,
    /// Dataflows the array supports; the mapping search picks among them.
    pub dataflows: Vec<Dataflow>,
    /// Datapath energy of one MAC (multiplier + accumulator adder, no operand delivery)
    /// by number format, pJ, at `process_node_nm`. Must include the natural format.
    pub mac_energy_pj: BTreeMap<DType, f64>,
    /// Area of one PE's MAC datapath by number format, µm². Absent formats count 0 in the
    /// area report.
    #[serde(default)]
    pub mac_area_um2: BTreeMap<DType, f64>,
    /// PE-register accesses per MAC, each of one compute-format element (3 = read both
    /// inputs, update the partial sum).
    pub reg_accesses_per_mac: f64,
    /// PE-register energy per byte accessed, pJ. Omitted when `register_level` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reg_energy_pj_per_byte: Option<f64>,
    /// Register bytes per PE (area and leakage only), bytes. Omitted when
    /// `register_level` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reg_bytes_per_pe: Option<u64>,
    /// Name of the innermost memory level when that level *is* the PEs' own registers or
    /// scratchpads (Eyeriss's per-PE spads). The mapping search then costs it as PE
    /// registers — bytes per PE = its capacity / PEs per core, energy = its
    /// `energy_pj_per_byte` — instead of tiling at it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register_level: Option<String>,
    /// Logic leakage of one core beyond its memories (arrays, control), mW.
    pub core_leakage_mw: f64,
    /// On-chip network energy per byte per hop between core-scope memories and
    /// chip-scope levels, pJ.
    pub noc_energy_pj_per_byte_hop: f64,
    /// Average NoC hops from a chip-scope level to a core.
    pub noc_avg_hops: f64,
}

fn one() -> u64 {
    1
}

impl ArraySpec {
    /// PEs (MAC units) in one core.
    pub fn pes_per_core(&self) -> u64 {
        self.rows
            .saturating_mul(self.cols)
            .saturating_mul(self.arrays_per_core)
    }

    /// Checks the section against its device; errors name file, line and field.
    pub(crate) fn check(&self, dev: &DeviceSpec, f: &Fields<'_>) -> Result<(), HwError> {
        use Seg::{Idx, Key};
        let at = |k| [Key("array"), Key(k)];
        for (k, v) in [
            ("rows", self.rows),
            ("cols", self.cols),
            ("arrays_per_core", self.arrays_per_core),
        ] {
            if v == 0 || v > 1 << 20 {
                return Err(f.bad(&at(k), format!("expected 1 to 2^20, got {v}")));
            }
        }
        if self.dataflows.is_empty() {
            return Err(f.bad(&at("dataflows"), "list at least one of os, ws, is".into()));
        }
        if self.mac_energy_pj.is_empty() {
            return Err(f.bad(&at("mac_energy_pj"), "expected at least one format".into()));
        }
        for (table, map) in [
            ("mac_energy_pj", &self.mac_energy_pj),
            ("mac_area_um2", &self.mac_area_um2),
        ] {
            for (d, v) in map {
                let p = [Key("array"), Key(table), Key(d.name())];
                f.positive(&p, *v)?;
                if !dev.matrix.peak_tflops.contains_key(d) {
                    return Err(f.bad(&p, format!("`{d}` has no entry in matrix.peak_tflops")));
                }
            }
        }
        if !self.mac_energy_pj.contains_key(&dev.natural_dtype) {
            return Err(f.bad(
                &at("mac_energy_pj"),
                format!(
                    "expected an entry for the natural dtype `{}`",
                    dev.natural_dtype
                ),
            ));
        }
        f.non_negative(&at("reg_accesses_per_mac"), self.reg_accesses_per_mac)?;
        f.non_negative(&at("core_leakage_mw"), self.core_leakage_mw)?;
        f.non_negative(
            &at("noc_energy_pj_per_byte_hop"),
            self.noc_energy_pj_per_byte_hop,
        )?;
        f.non_negative(&at("noc_avg_hops"), self.noc_avg_hops)?;
        const MISSING: &str = "missing: give it, or name the PE-register level in register_level";
        match &self.register_level {
            Some(name) => {
                for (k, set) in [
                    (
                        "reg_energy_pj_per_byte",
                        self.reg_energy_pj_per_byte.is_some(),
                    ),
                    ("reg_bytes_per_pe", self.reg_bytes_per_pe.is_some()),
                ] {
                    if set {
                        return Err(f.bad(
                            &at(k),
                            "omit it: register_level derives it from that memory level".into(),
                        ));
                    }
                }
                let m0 = &dev.memory[0];
                if m0.name != *name || m0.scope != Scope::Core {
                    return Err(f.bad(
                        &at("register_level"),
                        format!(
                            "expected the name of memory[0] with scope \"core\" (`{}`), got `{name}`",
                            m0.name
                        ),
                    ));
                }
                if m0.capacity_bytes < self.pes_per_core() {
                    return Err(f.bad(
                        &at("register_level"),
                        format!(
                            "`{name}` holds {} B, less than one byte per PE ({} PEs per core)",
                            m0.capacity_bytes,
                            self.pes_per_core()
                        ),
                    ));
                }
            }
            None => {
                match self.reg_energy_pj_per_byte {
                    Some(v) => f.non_negative(&at("reg_energy_pj_per_byte"), v)?,
                    None => return Err(f.bad(&at("reg_energy_pj_per_byte"), MISSING.into())),
                }
                if self.reg_bytes_per_pe.is_none() {
                    return Err(f.bad(&at("reg_bytes_per_pe"), MISSING.into()));
                }
            }
        }
        match dev.process_node_nm {
            Some(n) if (1.0..=250.0).contains(&n) => {}
            Some(n) => {
                return Err(f.bad(
                    &[Key("process_node_nm")],
                    format!("expected a node between 1 and 250 nm, got {n}"),
                ))
            }
            None => {
                return Err(f.bad(
                    &[Key("array")],
                    "a device with an [array] section needs process_node_nm (energy, leakage \
                     and area tables are per node)"
                        .into(),
                ))
            }
        }
        // The mapping search tiles at every on-chip level it sees: one must be left besides
        // the PE registers, and a core's private level cannot sit outside a shared one.
        let first = usize::from(self.register_level.is_some());
        if dev.memory.len() < first + 2 {
            return Err(f.bad(
                &[Key("memory")],
                "an [array] device needs an on-chip level between the array and the off-chip \
                 memory"
                    .into(),
            ));
        }
        for i in first + 1..dev.memory.len() {
            if dev.memory[i - 1].scope == Scope::Chip && dev.memory[i].scope == Scope::Core {
                return Err(f.bad(
                    &[Key("memory"), Idx(i), Key("scope")],
                    "a core-scope level cannot sit outside a chip-scope level".into(),
                ));
            }
        }
        Ok(())
    }
}
