//! The NPU mapping search behind the one cost interface: a device with an `[array]`
//! section has its contractions mapped by `xpusim-npu` (dataflow, core split, per-level
//! tiles and loop orders, Timeloop/Accelergy-style per-action energy) and every other op
//! priced by the analytical engine.
//!
//! Time of a contraction is the mapper's latency in cycles at the device clock; its dynamic
//! energy is the mapper's breakdown — MACs and PE registers as arithmetic, each memory
//! level and the NoC as memory traffic — so `run --hw NAME` on such a device gives the
//! mapping search's own time and dynamic energy for its layers. Static energy is the
//! device's idle power over the op's time, as for every other cost model: the idle draw a
//! datasheet or measurement gives includes the array and SRAM leakage the mapper estimates
//! (which is reported in the mapping), so devices priced by different models compare like
//! for like.

use xpusim_engine::{Analytical, Bound, CostModel, EngineError, LevelTraffic, OpCost};
use xpusim_hw::DeviceSpec;
use xpusim_ir::Op;
use xpusim_npu::{map_problem, MapperError, NpuArch, Objective, OpMapping, Problem};

/// Mapping search for contractions, the analytical engine for the rest.
pub struct MappingSearch {
    engine: Analytical,
    arch: NpuArch,
    objective: Objective,
}

impl MappingSearch {
    pub fn new(dev: DeviceSpec, objective: Objective) -> Result<MappingSearch, String> {
        let arch = NpuArch::from_device(&dev).map_err(|e| e.to_string())?;
        Ok(MappingSearch {
            engine: Analytical::new(dev),
            arch,
            objective,
        })
    }

    fn err(&self, e: MapperError) -> EngineError {
        match e {
            MapperError::TileDoesNotFit {
                op,
                level,
                capacity_bytes,
                need_bytes,
            } => EngineError::TileDoesNotFit {
                op,
                level,
                need_bytes,
                capacity_bytes,
            },
            other => EngineError::Model {
                op: String::new(),
                model: self.label(),
                msg: other.to_string(),
            },
        }
    }
}

fn describe(m: &OpMapping) -> String {
    let tiles: Vec<String> = m
        .levels
        .iter()
        .map(|l| {
            format!(
                "{} G{} P{} W{} N{}",
                l.level, l.tile[0], l.tile[1], l.tile[2], l.tile[3]
            )
        })
        .collect();
    format!(
        "{} rows {} cols {} time {} cores {}; {}",
        m.dataflow.name(),
        m.rows,
        m.cols,
        m.time,
        m.core_split,
        tiles.join("; ")
    )
}

impl CostModel for MappingSearch {
    fn device(&self) -> &DeviceSpec {
        &self.engine.dev
    }

    fn label(&self) -> String {
        let o = match self.objective {
            Objective::Latency => "latency",
            Objective::Energy => "energy",
            Objective::Edp => "edp",
        };
        format!("mapping search ({o})")
    }

    fn cost_op(&self, op: &Op) -> Result<OpCost, EngineError> {
        let problems = Problem::from_op(op).map_err(|e| self.err(e))?;
        if problems.is_empty() {
            return self.engine.cost_op(op);
        }
        let hz = self.arch.clock_ghz * 1e9;
        let mut c = OpCost {
            compute_s: 0.0,
            traffic: Vec::new(),
            overhead_s: 0.0,
            time_s: 0.0,
            energy_j: 0.0,
            compute_energy_j: 0.0,
            pim_energy_j: 0.0,
            idle_energy_j: 0.0,
            bound: Bound::Compute,
            mapping: String::new(),
            pim: None,
        };
        let mut maps = Vec::new();
        let mut leakage_j = 0.0;
        for pb in &problems {
            let m = map_problem(pb, &self.arch, op.compute_dtype, self.objective)
                .map_err(|e| self.err(e))?;
            // A problem's repeat counts the op's repeats and recurrent steps; one instance of
            // the op is the steps alone.
            let per_instance = (m.repeat / op.repeat.max(1)).max(1) as f64;
            let e = &m.energy;
            c.time_s += m.latency_cycles as f64 * per_instance / hz;
            c.compute_s += m.compute_cycles as f64 * per_instance / hz;
            c.compute_energy_j += (e.mac_pj + e.registers_pj) * per_instance * 1e-12;
            leakage_j += e.leakage_pj * per_instance * 1e-12;
            let mut levels: Vec<(String, f64, u64)> = e
                .levels_pj
                .iter()
                .enumerate()
                .map(|(i, (name, pj))| {
                    let bytes = m.traffic_bytes.get(i).copied().unwrap_or(0);
                    (name.clone(), *pj, bytes)
                })
                .collect();
            levels.push(("noc".into(), e.noc_pj, 0));
            for (level, pj, bytes) in levels {
                let energy_j = pj * per_instance * 1e-12;
                let bytes = (bytes as f64 * per_instance) as u64;
                match c.traffic.iter_mut().find(|t| t.level == level) {
                    Some(t) => {
                        t.bytes += bytes;
                        t.energy_j += energy_j;
                    }
                    None => c.traffic.push(LevelTraffic {
                        level,
                        bytes,
                        time_s: 0.0,
                        energy_j,
                    }),
                }
            }
            if m.compute_cycles < m.latency_cycles {
                c.bound = Bound::Memory(
                    self.arch
                        .memory
                        .last()
                        .map(|l| l.name.clone())
                        .unwrap_or_default(),
                );
            }
            maps.push(describe(&m));
        }
        c.idle_energy_j = self.engine.dev.power.idle_w * c.time_s;
        c.mapping = format!(
            "{}; array leakage {:.3} mJ",
            maps.join(" | "),
            leakage_j * 1e3
        );
        c.sum_energy();
        Ok(c)
    }
}
