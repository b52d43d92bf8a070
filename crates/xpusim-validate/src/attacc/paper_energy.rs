//! AttAcc's own energy accounting, for the labelled "paper accounting" column of the AttAcc
//! reproduction. xpusim's default accounting (preset energies, host idle power) is not
//! replaced: this is a second view of the same placed pass.
//!
//! The per-access energies are data (`data/attacc-paper-energy.toml`, copied from the
//! authors' simulator, github.com/scale-snu/attacc_simulator `src/config.py` ENERGY_TABLE)
//! and are applied the way `src/devices.py` applies them:
//! - GPU op (`xPU._get_energy`): bytes moved at each memory level × that level's pJ/byte
//!   (off-chip 28.72, L2 2.4, L1 1.28), plus `m·n·k` register accesses per operand ×
//!   0.0675 pJ, plus FLOPs / 2 × 0.32 pJ. Off-chip and L2 bytes are xpusim's engine
//!   traffic (`cost_op`), not the simulator's tile search; L1 bytes are the simulator's
//!   own formula ([`sim_l1_bytes`]), which the engine does not report.
//! - All-reduce (`_io_time_energy`): payload bytes per GPU × 10.4 pJ/byte.
//! - Attention on AttAcc (`PIM.get_time_and_energy`): KV bytes read × the cell-to-PU energy
//!   of the PU level (bank 4.4, bank group 12.48, buffer die 26.32 pJ/byte), FLOPs / 2 ×
//!   0.32 pJ, and the GPU ↔ AttAcc activations (`comm_x2g`) × 10.4 pJ/byte. The simulator's
//!   buffer-die moves (`io` table) and softmax SRAM terms are left out: per head and token
//!   they are O(d_head) and O(L) bytes against the O(L·d_head) KV read (< 0.1 %).
//! - The FFN split (`--ffopt`) changes only time in the simulator (`system.py _ff_parallel`
//!   scales `exec_time`); its energy stays the GPU's, so split FFN GEMMs are charged as GPU
//!   ops here.
//! - No static or idle power anywhere (the simulator has none).

use serde::Deserialize;
use xpusim_engine::cost_op;
use xpusim_hw::{PuLevel, System};
use xpusim_ir::{Graph, Op, OpKind, OpRole, Role};
use xpusim_system::{shard::shard, Parallelism};
use xpusim_target::ModelCost;

use super::AttaccError;

const TABLE_FILE: &str = "attacc-paper-energy.toml";
const TABLE_SRC: &str = include_str!("../../data/attacc-paper-energy.toml");

/// GPU energies of the AttAcc simulator (config.py ENERGY_TABLE['GPU']).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuEnergy {
    pub offchip_pj_per_byte: f64,
    pub l2_pj_per_byte: f64,
    pub l1_pj_per_byte: f64,
    pub reg_pj_per_operand_access: f64,
    pub operands_per_mac: f64,
    pub alu_pj_per_mac: f64,
    pub comm_pj_per_byte: f64,
}

/// AttAcc energies of the simulator (config.py ENERGY_TABLE['PIM']).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PimEnergy {
    pub bank_pj_per_byte: f64,
    pub bank_group_pj_per_byte: f64,
    pub buffer_die_pj_per_byte: f64,
    pub alu_pj_per_mac: f64,
    pub link_pj_per_byte: f64,
}

/// The whole table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperEnergy {
    pub gpu: GpuEnergy,
    pub pim: PimEnergy,
}

impl PaperEnergy {
    /// The built-in table (`data/attacc-paper-energy.toml`).
    pub fn builtin() -> Result<PaperEnergy, AttaccError> {
        toml::from_str(TABLE_SRC).map_err(|e| {
            AttaccError(format!(
                "{TABLE_FILE}: {}",
                e.to_string().trim_end().replace('\n', " | ")
            ))
        })
    }

    fn pim_cell_pj_per_byte(&self, level: PuLevel) -> f64 {
        match level {
            PuLevel::Bank => self.pim.bank_pj_per_byte,
            PuLevel::BankGroup => self.pim.bank_group_pj_per_byte,
            PuLevel::BufferDie => self.pim.buffer_die_pj_per_byte,
        }
    }
}

/// Energy of one GPU op instance on one device, in pJ.
fn gpu_op_pj(op: &Op, sys: &System, t: &PaperEnergy) -> Result<f64, AttaccError> {
    if let OpKind::Collective { bytes, .. } = &op.kind {
        return Ok(*bytes as f64 * t.gpu.comm_pj_per_byte);
    }
    let c = cost_op(op, &sys.device).map_err(|e| AttaccError(e.to_string()))?;
    let mut pj = 0.0;
    for lt in &c.traffic {
        // `[[memory]]` runs innermost → off-chip: the first level is the SM's L1/shared
        // memory, the last the HBM, anything between the L2.
        let mem = &sys.device.memory;
        let idx = mem.iter().position(|m| m.name == lt.level).ok_or_else(|| {
            AttaccError(format!(
                "op `{}`: traffic at unknown memory level `{}`",
                op.name, lt.level
            ))
        })?;
        let e = if idx + 1 == mem.len() {
            t.gpu.offchip_pj_per_byte
        } else if idx == 0 {
            t.gpu.l1_pj_per_byte
        } else {
            t.gpu.l2_pj_per_byte
        };
        pj += lt.bytes as f64 * e;
    }
    pj += sim_l1_bytes(op) * t.gpu.l1_pj_per_byte;
    let macs = op.macs() as f64;
    pj += macs * (t.gpu.alu_pj_per_mac + t.gpu.operands_per_mac * t.gpu.reg_pj_per_operand_access);
    pj += op.vector_flops() as f64 / 2.0 * t.gpu.alu_pj_per_mac;
    Ok(pj)
}

/// Register-tile edge of the simulator's L1 traffic (`devices.py` `_get_traffic`, `l1_data`).
const SIM_REG_TILE: u64 = 16;

/// L1 → register bytes the simulator charges a GEMM or attention (`devices.py`
/// `xPU._get_traffic`: `l1_data` with 16 × 16 register tiles): per `m×k · k×n` product, A
/// is read once per 16 columns of the output, B once per 16 rows, the output written
/// once. Attention is its two products per (request, head), scores `q×d · d×L` and
/// context `q×L · L×d`, as the simulator's `score` and `context` layers. 0 for other ops.
fn sim_l1_bytes(op: &Op) -> f64 {
    let gemm = |count: u64, m: u64, n: u64, k: u64| {
        count as f64
            * (n.div_ceil(SIM_REG_TILE) * m * k + m.div_ceil(SIM_REG_TILE) * n * k + m * n) as f64
    };
    let elem = op
        .operands
        .first()
        .map_or(2.0, |o| o.dtype.bits() as f64 / 8.0);
    let elems = match &op.kind {
        OpKind::Matmul(s) => gemm(s.batch, s.m, s.n, s.k),
        OpKind::Attention(a) => {
            let pairs = a.batch * a.heads;
            gemm(pairs, a.q_len, a.kv_len, a.head_dim)
                + gemm(pairs, a.q_len, a.v_head_dim, a.kv_len)
        }
        _ => 0.0,
    };
    elems * elem
}

/// Energy of one op instance run on PIM (its KV cache / weights read inside the stacks,
/// activations over the link), in pJ.
fn pim_op_pj(op: &Op, level: PuLevel, t: &PaperEnergy) -> f64 {
    let resident = (op.bytes_by_role(Role::KvCache) + op.bytes_by_role(Role::Weight)) as f64;
    let moved = (op.bytes_by_role(Role::Input) + op.bytes_by_role(Role::Output)) as f64;
    resident * t.pim_cell_pj_per_byte(level)
        + op.macs() as f64 * t.pim.alu_pj_per_mac
        + moved * t.pim.link_pj_per_byte
}

/// Energy per token (J) of the pass `cost` (from `xpusim_target::evaluate` on `sys` with
/// tensor parallelism over all its devices) under AttAcc's accounting. An op on PIM that
/// is not attention (e.g. the KV append) is charged its link transfer only, as the
/// simulator's `comm_x2g`; split FFN GEMMs are GPU ops.
pub fn energy_per_token_j(
    g: &Graph,
    sys: &System,
    cost: &ModelCost,
    t: &PaperEnergy,
) -> Result<f64, AttaccError> {
    let tp = sys.spec.count;
    let ops: Vec<Op> = shard(g, &Parallelism::tp(tp))
        .map_err(|e| AttaccError(e.to_string()))?
        .ops
        .into_iter()
        .map(|p| p.op.into_owned())
        .collect();
    if ops.len() != cost.ops.len() {
        return Err(AttaccError(format!(
            "{}: the pass has {} op reports for {} ops: cost and graph do not match",
            sys.spec.name,
            cost.ops.len(),
            ops.len()
        )));
    }
    let mut pj = 0.0;
    for (op, r) in ops.iter().zip(&cost.ops) {
        let on_pim = r.pim_fraction.unwrap_or(0.0) >= 1.0;
        let one = match (&sys.pim, on_pim) {
            (Some(pim), true) => match op.kind {
                OpKind::Attention(_) => pim_op_pj(op, pim.spec.processing.level, t),
                _ if matches!(op.role, OpRole::KvAppend(_)) => {
                    op.bytes_by_role(Role::Output) as f64 * t.pim.link_pj_per_byte
                }
                _ => pim_op_pj(op, pim.spec.processing.level, t),
            },
            _ => gpu_op_pj(op, sys, t)?,
        };
        pj += one * op.repeat as f64;
    }
    let tokens = (g.batch * g.tokens_per_sample).max(1) as f64;
    Ok(pj * 1e-12 * tp as f64 / tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_matches_the_simulator_sums() {
        let t = PaperEnergy::builtin().unwrap();
        // config.py: (0.11 + 0.44 + 1.01 + 1.23 + 0.5 + 0.3) pJ/b × 8 bits.
        assert!((t.gpu.offchip_pj_per_byte - 3.59 * 8.0).abs() < 1e-9);
        // The PU closer to the cells pays fewer wires.
        assert!(t.pim.bank_pj_per_byte < t.pim.bank_group_pj_per_byte);
        assert!(t.pim.bank_group_pj_per_byte < t.pim.buffer_die_pj_per_byte);
        assert!(t.pim.buffer_die_pj_per_byte < t.gpu.offchip_pj_per_byte);
    }

    #[test]
    fn l1_bytes_follow_the_simulators_register_tiles() {
        let p = xpusim_ir::Precision::uniform(xpusim_ir::DType::Fp16);
        // 32 tokens × 4096 → 64: A re-read 64/16 = 4 times, B 32/16 = 2 times, C once.
        let op = Op::linear("fc", 32, 4096, 64, "w", p).unwrap();
        let elems = 4 * 32 * 4096 + 2 * 64 * 4096 + 32 * 64;
        assert_eq!(sim_l1_bytes(&op), 2.0 * elems as f64);
    }
}
