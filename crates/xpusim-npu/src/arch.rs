//! The mapping search's view of a chip (`NpuArch`): what the mapper maps onto and what each
//! action costs. It is derived from a device file (`xpusim_hw::DeviceSpec`) that has an
//! `[array]` section ([`NpuArch::from_device`]); there is no second hardware format.
//!
//! Units: sizes in bytes, bandwidths in bytes per cycle of `clock_ghz`, energies in pJ,
//! leakage in mW, areas in mm² (per-MAC areas in µm²).

use std::collections::BTreeMap;

use serde::Serialize;
use xpusim_hw::{DeviceSpec, HwError};
use xpusim_ir::DType;

use crate::energy;
use crate::error::ArchError;

pub use xpusim_hw::{Dataflow, Scope};

/// The PE array of one mapper core.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArrayArch {
    pub rows: u64,
    pub cols: u64,
    /// Dataflows the array supports; the mapper picks among them.
    pub dataflows: Vec<Dataflow>,
    /// Datapath energy of one MAC by format, pJ, at `process_node_nm`.
    pub mac_energy_pj: BTreeMap<DType, f64>,
    /// Area of one MAC unit (PE datapath) by format, µm².
    pub mac_area_um2: BTreeMap<DType, f64>,
    /// PE-register accesses per MAC, each of one compute-format element: 3 means one read
    /// of each input and one accumulator update.
    pub reg_accesses_per_mac: f64,
    /// Register-file energy per byte accessed, pJ.
    pub reg_energy_pj_per_byte: f64,
    /// Register bytes per PE (area and leakage only).
    pub reg_bytes_per_pe: u64,
}

/// One memory level, innermost first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemLevel {
    pub name: String,
    pub scope: Scope,
    /// Capacity per instance (per mapper core for `core`), bytes.
    pub capacity_bytes: u64,
    /// Bandwidth per instance, bytes per cycle.
    pub bandwidth_bytes_per_cycle: f64,
    /// Energy per byte read, pJ.
    pub read_pj_per_byte: f64,
    /// Energy per byte written, pJ.
    pub write_pj_per_byte: f64,
    /// Leakage per instance, mW. Absent: derived with [`energy::sram_leakage_mw`].
    pub leakage_mw: Option<f64>,
    /// Area per instance, mm². Absent: derived with [`energy::sram_area_mm2`] (0 off-chip).
    pub area_mm2: Option<f64>,
}

/// On-chip network between core scratchpads and the shared levels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NocArch {
    pub energy_pj_per_byte_hop: f64,
    /// Average hops from a shared level to a core.
    pub avg_hops: f64,
}

/// A whole NPU as the mapper sees it: `cores` copies of an array with private levels, plus
/// shared levels. A device core holding several arrays is several mapper cores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NpuArch {
    /// The device preset name.
    pub name: String,
    pub display_name: String,
    pub clock_ghz: f64,
    /// Arrays on the chip: the device's cores × arrays per core.
    pub cores: u64,
    pub process_node_nm: f64,
    pub array: ArrayArch,
    /// Innermost (the array's scratchpad) to off-chip.
    pub memory: Vec<MemLevel>,
    pub noc: NocArch,
    /// Logic leakage per mapper core beyond the memories (array, control), mW.
    pub core_leakage_mw: f64,
}

/// Per-level costs after defaults are filled in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelCost {
    pub read_pj_per_byte: f64,
    pub write_pj_per_byte: f64,
    pub leakage_mw: f64,
    pub area_mm2: f64,
}

/// Names of the built-in devices that have an `[array]` section, in catalogue order.
pub fn array_devices() -> Vec<String> {
    array_presets().into_iter().map(|d| d.name).collect()
}

/// The built-in devices that have an `[array]` section.
fn array_presets() -> Vec<DeviceSpec> {
    xpusim_hw::preset_names()
        .iter()
        .filter_map(|n| xpusim_hw::find_preset(n).ok())
        .filter(|d| d.array.is_some())
        .collect()
}

/// A device preset name, alias or device TOML path, as a device and its mapper view. A
/// name that is no preset gets "did you mean" suggestions among the devices with an
/// `[array]` section (the retired `tpu-v4-like`, `atom-like`, `rngd-like`, `eyeriss-like`
/// descriptions suggest the device presets that replaced them).
pub fn resolve(name_or_path: &str) -> Result<(DeviceSpec, NpuArch), ArchError> {
    let dev = match xpusim_hw::load_device(name_or_path) {
        Ok(d) => d,
        Err(HwError::Unknown { name, .. }) => {
            let mut labels = Vec::new();
            let mut canonical = BTreeMap::new();
            for d in array_presets() {
                for l in std::iter::once(&d.name).chain(&d.aliases) {
                    labels.push(l.clone());
                    canonical.insert(l.clone(), d.name.clone());
                }
            }
            let mut suggestions: Vec<String> = Vec::new();
            for l in xpusim_hw::close_names(&name, &labels) {
                let c = canonical[&l].clone();
                if !suggestions.contains(&c) {
                    suggestions.push(c);
                }
            }
            return Err(ArchError::Unknown {
                name,
                suggestions,
                known: array_devices().join(", "),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let arch = NpuArch::from_device(&dev)?;
    Ok((dev, arch))
}

impl NpuArch {
    /// A device preset name, alias or device TOML path with an `[array]` section.
    pub fn load(name_or_path: &str) -> Result<NpuArch, ArchError> {
        resolve(name_or_path).map(|(_, a)| a)
    }

    /// The mapper's view of `dev`:
    /// - mapper cores = device cores × `array.arrays_per_core`;
    /// - core-scope levels are split evenly over the arrays of a core (capacity, leakage,
    ///   area); chip and off-chip levels are one shared instance;
    /// - bandwidth per instance in bytes/cycle = the level's sustained aggregate bandwidth
    ///   (`bandwidth_gbps × efficiency`) / clock / instances;
    /// - read energy = `energy_pj_per_byte`, write energy = `write_energy_pj_per_byte` or
    ///   the same;
    /// - when `array.register_level` names the innermost level, that level becomes the PE
    ///   registers (bytes per PE = capacity / PEs per core, energy per byte = its energy)
    ///   and the mapper tiles only at the levels outside it.
    ///
    /// Fails, naming the device, when it has no `[array]` section.
    pub fn from_device(dev: &DeviceSpec) -> Result<NpuArch, ArchError> {
        let Some(a) = &dev.array else {
            return Err(ArchError::NoArray {
                device: dev.name.clone(),
                known: array_devices().join(", "),
            });
        };
        let invalid = |field: &str, msg: &str| ArchError::Invalid {
            path: dev.name.clone(),
            field: field.to_string(),
            msg: msg.to_string(),
        };
        let per = a.arrays_per_core.max(1);
        let cores = dev.cores.max(1) * per;
        let hz = dev.clock_ghz * 1e9;
        let (skip, reg_bytes, reg_pj) = match &a.register_level {
            Some(name) => {
                let m0 = &dev.memory[0];
                if m0.name != *name {
                    return Err(invalid("array.register_level", "must name memory[0]"));
                }
                (
                    1,
                    m0.capacity_bytes / a.pes_per_core().max(1),
                    m0.energy_pj_per_byte,
                )
            }
            None => (
                0,
                a.reg_bytes_per_pe
                    .ok_or_else(|| invalid("array.reg_bytes_per_pe", "missing"))?,
                a.reg_energy_pj_per_byte
                    .ok_or_else(|| invalid("array.reg_energy_pj_per_byte", "missing"))?,
            ),
        };
        let memory: Vec<MemLevel> = dev.memory[skip.min(dev.memory.len())..]
            .iter()
            .map(|m| {
                let (split, instances) = match m.scope {
                    Scope::Core => (per, cores),
                    Scope::Chip | Scope::Offchip => (1, 1),
                };
                MemLevel {
                    name: m.name.clone(),
                    scope: m.scope,
                    capacity_bytes: m.capacity_bytes / split,
                    bandwidth_bytes_per_cycle: m.sustained_bps() / hz / instances as f64,
                    read_pj_per_byte: m.energy_pj_per_byte,
                    write_pj_per_byte: m.write_energy_pj_per_byte.unwrap_or(m.energy_pj_per_byte),
                    leakage_mw: m.leakage_mw.map(|v| v / split as f64),
                    area_mm2: m.area_mm2.map(|v| v / split as f64),
                }
            })
            .collect();
        if memory.len() < 2 || memory[0].scope == Scope::Offchip {
            return Err(invalid(
                "memory",
                "need an on-chip level before the off-chip one",
            ));
        }
        Ok(NpuArch {
            name: dev.name.clone(),
            display_name: dev.display_name.clone(),
            clock_ghz: dev.clock_ghz,
            cores,
            process_node_nm: dev
                .process_node_nm
                .ok_or_else(|| invalid("process_node_nm", "an [array] device needs it"))?,
            array: ArrayArch {
                rows: a.rows,
                cols: a.cols,
                dataflows: a.dataflows.clone(),
                mac_energy_pj: a.mac_energy_pj.clone(),
                mac_area_um2: a.mac_area_um2.clone(),
                reg_accesses_per_mac: a.reg_accesses_per_mac,
                reg_energy_pj_per_byte: reg_pj,
                reg_bytes_per_pe: reg_bytes,
            },
            memory,
            noc: NocArch {
                energy_pj_per_byte_hop: a.noc_energy_pj_per_byte_hop,
                avg_hops: a.noc_avg_hops,
            },
            core_leakage_mw: a.core_leakage_mw / per as f64,
        })
    }

    /// MAC energy for `dtype` (pJ); falls back to the nearest listed width scaled by the
    /// square of the width ratio (multiplier energy grows ~quadratically with width:
    /// Horowitz, ISSCC 2014, int8 mult 0.2 pJ vs int32 3.1 pJ at 45 nm).
    pub fn mac_pj(&self, dtype: DType) -> f64 {
        if let Some(e) = self.array.mac_energy_pj.get(&dtype) {
            return *e;
        }
        let bits = dtype.bits() as f64;
        self.array
            .mac_energy_pj
            .iter()
            .map(|(d, e)| (d.bits() as f64, *e))
            .min_by(|a, b| (a.0 - bits).abs().total_cmp(&(b.0 - bits).abs()))
            .map(|(b, e)| e * (bits / b).powi(2))
            .unwrap_or(0.0)
    }

    /// Costs of level `i` with absent leakage and area derived from capacity and node.
    pub fn level_cost(&self, i: usize) -> LevelCost {
        let m = &self.memory[i];
        let node = self.process_node_nm;
        let offchip = m.scope == Scope::Offchip;
        LevelCost {
            read_pj_per_byte: m.read_pj_per_byte,
            write_pj_per_byte: m.write_pj_per_byte,
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
    pub fn area(&self, dtype: DType) -> AreaReport {
        let pes = (self.array.rows * self.array.cols * self.cores) as f64;
        let mac_um2 = self.array.mac_area_um2.get(&dtype).copied().unwrap_or(0.0);
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
