//! The NPU architecture description (`NpuArch`): what the mapper maps onto and what each
//! action costs. Data lives in TOML (`presets/*.toml`, or a user file); every preset value
//! has a `[sources]` entry and estimates are listed in `unverified`.
//!
//! Units: sizes in bytes, bandwidths in bytes per cycle of `clock_ghz`, energies in pJ,
//! leakage in mW, areas in mm² (per-MAC and per-byte areas in µm²).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::energy;
use crate::error::ArchError;

/// How the array unrolls a contraction: SCALE-Sim's three dataflows (see
/// `xpusim_systolic::compute`): which of the output-pixel (P), window (W) and filter (N)
/// groups sit on rows and columns and which streams in time.
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

/// Where a memory level sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Private to one core (a scratchpad); the mapper tiles each core's share.
    Core,
    /// Shared by all cores (a global buffer), reached over the NoC.
    Chip,
    /// Off-chip DRAM/HBM; must be the last level.
    Offchip,
}

/// The PE array of one core.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrayArch {
    pub rows: u64,
    pub cols: u64,
    /// Dataflows the array supports; the mapper picks among them.
    pub dataflows: Vec<Dataflow>,
    /// Energy of one MAC by dtype name (`bf16`, `int8`, ...), pJ, at `process_node_nm`.
    pub mac_energy_pj: BTreeMap<String, f64>,
    /// Area of one MAC unit (PE datapath) by dtype, µm².
    pub mac_area_um2: BTreeMap<String, f64>,
    /// PE-local register traffic per MAC (operand forwarding and partial-sum update), bytes
    /// per MAC per operand byte: 3 means one read of each input and one accumulator update.
    pub reg_accesses_per_mac: f64,
    /// Register-file energy per byte accessed, pJ.
    pub reg_energy_pj_per_byte: f64,
    /// Register bytes per PE (area and leakage only).
    pub reg_bytes_per_pe: u64,
}

/// One memory level, innermost first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemLevel {
    pub name: String,
    pub scope: Scope,
    /// Capacity per instance (per core for `core`), bytes.
    pub capacity_bytes: u64,
    /// Bandwidth per instance, bytes per cycle.
    pub bandwidth_bytes_per_cycle: f64,
    /// Energy per byte read, pJ. Absent: derived from capacity with [`energy::sram_pj_per_byte`].
    #[serde(default)]
    pub read_pj_per_byte: Option<f64>,
    /// Energy per byte written, pJ. Absent: equal to the read energy.
    #[serde(default)]
    pub write_pj_per_byte: Option<f64>,
    /// Leakage per instance, mW. Absent: derived with [`energy::sram_leakage_mw`].
    #[serde(default)]
    pub leakage_mw: Option<f64>,
    /// Area per instance, mm². Absent: derived with [`energy::sram_area_mm2`] (0 off-chip).
    #[serde(default)]
    pub area_mm2: Option<f64>,
}

/// On-chip network between core scratchpads and the shared levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NocArch {
    pub energy_pj_per_byte_hop: f64,
    /// Average hops from a shared level to a core.
    pub avg_hops: f64,
}

/// A whole NPU: `cores` copies of an array with private levels, plus shared levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NpuArch {
    pub name: String,
    pub display_name: String,
    pub clock_ghz: f64,
    pub cores: u64,
    pub process_node_nm: f64,
    pub array: ArrayArch,
    /// Innermost (the array's scratchpad) to off-chip.
    pub memory: Vec<MemLevel>,
    pub noc: NocArch,
    /// Logic leakage per core beyond the memories (array, control), mW.
    pub core_leakage_mw: f64,
    #[serde(default)]
    pub unverified: Vec<String>,
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
}

/// Per-level costs after defaults are filled in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelCost {
    pub read_pj_per_byte: f64,
    pub write_pj_per_byte: f64,
    pub leakage_mw: f64,
    pub area_mm2: f64,
}

/// Built-in architectures: (name, TOML text).
pub const PRESETS: [(&str, &str); 4] = [
    ("tpu-v4-like", include_str!("../presets/tpu-v4-like.toml")),
    ("atom-like", include_str!("../presets/atom-like.toml")),
    ("rngd-like", include_str!("../presets/rngd-like.toml")),
    ("eyeriss-like", include_str!("../presets/eyeriss-like.toml")),
];

impl NpuArch {
    /// Parses and validates an architecture TOML; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<NpuArch, ArchError> {
        let a: NpuArch = toml::from_str(text).map_err(|e| ArchError::Parse {
            path: path.to_string(),
            msg: e.to_string().replace('\n', " "),
        })?;
        a.validate(path)?;
        Ok(a)
    }

    /// A built-in preset name or a TOML file path.
    pub fn load(name_or_path: &str) -> Result<NpuArch, ArchError> {
        if let Some((n, text)) = PRESETS.iter().find(|(n, _)| *n == name_or_path) {
            return NpuArch::parse(text, &format!("preset {n}"));
        }
        let p = Path::new(name_or_path);
        if name_or_path.ends_with(".toml") || p.exists() {
            let text = std::fs::read_to_string(p).map_err(|e| ArchError::Io {
                path: name_or_path.to_string(),
                source: e,
            })?;
            return NpuArch::parse(&text, name_or_path);
        }
        Err(ArchError::Unknown {
            name: name_or_path.to_string(),
            known: PRESETS.map(|(n, _)| n).join(", "),
        })
    }

    fn validate(&self, path: &str) -> Result<(), ArchError> {
        let bad = |field: &str, msg: &str| {
            Err(ArchError::Invalid {
                path: path.to_string(),
                field: field.to_string(),
                msg: msg.to_string(),
            })
        };
        let positive = |v: f64| v.is_finite() && v > 0.0;
        let non_negative = |v: f64| v.is_finite() && v >= 0.0;
        if !positive(self.clock_ghz) {
            return bad("clock_ghz", "must be a positive number");
        }
        if self.cores == 0 {
            return bad("cores", "must be at least 1");
        }
        if !(1.0..=250.0).contains(&self.process_node_nm) {
            return bad("process_node_nm", "expected a node between 1 and 250 nm");
        }
        if self.array.rows == 0 || self.array.cols == 0 {
            return bad("array.rows/cols", "must be at least 1");
        }
        if self.array.dataflows.is_empty() {
            return bad("array.dataflows", "list at least one of os, ws, is");
        }
        for (d, e) in &self.array.mac_energy_pj {
            if xpusim_ir::DType::parse(d).is_err() || !positive(*e) {
                return bad(
                    &format!("array.mac_energy_pj.{d}"),
                    "expected a known dtype and a positive energy",
                );
            }
        }
        if !non_negative(self.array.reg_accesses_per_mac)
            || !non_negative(self.array.reg_energy_pj_per_byte)
        {
            return bad("array.reg_*", "must be non-negative numbers");
        }
        if self.memory.len() < 2 {
            return bad(
                "memory",
                "need at least an on-chip level and an off-chip level",
            );
        }
        for (i, m) in self.memory.iter().enumerate() {
            let f = |x: &str| format!("memory[{i}] ({}).{x}", m.name);
            let last = i + 1 == self.memory.len();
            if (m.scope == Scope::Offchip) != last {
                return bad(&f("scope"), "exactly the last level must be `offchip`");
            }
            if m.capacity_bytes == 0 {
                return bad(&f("capacity_bytes"), "must be at least 1");
            }
            if !positive(m.bandwidth_bytes_per_cycle) {
                return bad(&f("bandwidth_bytes_per_cycle"), "must be positive");
            }
            for (name, v) in [
                ("read_pj_per_byte", m.read_pj_per_byte),
                ("write_pj_per_byte", m.write_pj_per_byte),
                ("leakage_mw", m.leakage_mw),
                ("area_mm2", m.area_mm2),
            ] {
                if v.is_some_and(|v| !non_negative(v)) {
                    return bad(&f(name), "must be a non-negative number");
                }
            }
            if i > 0 && self.memory[i - 1].scope == Scope::Chip && m.scope == Scope::Core {
                return bad(&f("scope"), "a core level cannot sit outside a chip level");
            }
        }
        if self.memory[0].scope == Scope::Offchip {
            return bad("memory[0].scope", "the innermost level must be on chip");
        }
        if !non_negative(self.noc.energy_pj_per_byte_hop) || !non_negative(self.noc.avg_hops) {
            return bad("noc", "energies and hops must be non-negative");
        }
        Ok(())
    }

    /// MAC energy for `dtype` (pJ); falls back to the nearest wider listed dtype scaled by
    /// the square of the width ratio (multiplier energy grows ~quadratically with width:
    /// Horowitz, ISSCC 2014, int8 mult 0.2 pJ vs int32 3.1 pJ at 45 nm).
    pub fn mac_pj(&self, dtype: xpusim_ir::DType) -> f64 {
        if let Some(e) = self.array.mac_energy_pj.get(dtype.name()) {
            return *e;
        }
        let bits = dtype.bits() as f64;
        self.array
            .mac_energy_pj
            .iter()
            .filter_map(|(d, e)| {
                xpusim_ir::DType::parse(d)
                    .ok()
                    .map(|d| (d.bits() as f64, *e))
            })
            .min_by(|a, b| (a.0 - bits).abs().total_cmp(&(b.0 - bits).abs()))
            .map(|(b, e)| e * (bits / b).powi(2))
            .unwrap_or(0.0)
    }

    /// Costs of level `i` with any absent value derived from its capacity and node.
    pub fn level_cost(&self, i: usize) -> LevelCost {
        let m = &self.memory[i];
        let node = self.process_node_nm;
        let offchip = m.scope == Scope::Offchip;
        let read = m.read_pj_per_byte.unwrap_or_else(|| {
            if offchip {
                0.0
            } else {
                energy::sram_pj_per_byte(m.capacity_bytes, node)
            }
        });
        LevelCost {
            read_pj_per_byte: read,
            write_pj_per_byte: m.write_pj_per_byte.unwrap_or(read),
            leakage_mw: m.leakage_mw.unwrap_or_else(|| {
                if offchip {
                    0.0
                } else {
                    energy::sram_leakage_mw(m.capacity_bytes, node)
                }
            }),
            area_mm2: m.area_mm2.unwrap_or_else(|| {
                if offchip {
                    0.0
                } else {
                    energy::sram_area_mm2(m.capacity_bytes, node)
                }
            }),
        }
    }

    /// Number of instances of level `i` (cores for core levels, else one).
    pub fn instances(&self, i: usize) -> u64 {
        if self.memory[i].scope == Scope::Core {
            self.cores
        } else {
            1
        }
    }

    /// Total static power, W: memories plus per-core logic.
    pub fn leakage_w(&self) -> f64 {
        let mem: f64 = (0..self.memory.len())
            .map(|i| self.level_cost(i).leakage_mw * self.instances(i) as f64)
            .sum();
        (mem + self.core_leakage_mw * self.cores as f64) * 1e-3
    }

    /// Area per component and per chip, mm².
    pub fn area(&self, dtype: xpusim_ir::DType) -> AreaReport {
        let pes = (self.array.rows * self.array.cols * self.cores) as f64;
        let mac_um2 = self
            .array
            .mac_area_um2
            .get(dtype.name())
            .copied()
            .unwrap_or(0.0);
        let reg_mm2 = energy::sram_area_mm2(1, self.process_node_nm)
            * (self.array.reg_bytes_per_pe as f64)
            * pes
            * energy::REGFILE_AREA_OVER_SRAM;
        let mut components = vec![
            ("mac-array".to_string(), pes * mac_um2 * 1e-6),
            ("registers".to_string(), reg_mm2),
        ];
        for i in 0..self.memory.len() {
            components.push((
                self.memory[i].name.clone(),
                self.level_cost(i).area_mm2 * self.instances(i) as f64,
            ));
        }
        let chip_mm2 = components.iter().map(|c| c.1).sum();
        AreaReport {
            components,
            chip_mm2,
        }
    }
}

/// Area per component (summed over instances) and per chip, mm². Off-chip memory counts 0.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaReport {
    pub components: Vec<(String, f64)>,
    pub chip_mm2: f64,
}
