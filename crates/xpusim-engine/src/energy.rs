//! Energy: dynamic per-action energy plus idle power over the op's time, with a power cap.
//!
//! `E = MACs·e_mac(dtype) + vector FLOPs·e_flop + Σ_levels bytes·e_byte(level) + P_idle·t`.
//! If the dynamic power `E_dyn / t` would exceed `TDP − P_idle`, the chip cannot run that
//! fast: `t` stretches to `E_dyn / (TDP − P_idle)` and the op is reported power-bound
//! (GPUs clock down under sustained dense GEMM load for exactly this reason).

use xpusim_hw::DeviceSpec;
use xpusim_ir::Op;

use crate::cost::{Bound, OpCost};

pub fn apply(op: &Op, dev: &DeviceSpec, c: &mut OpCost) {
    let (_, used) = dev.matrix_flops(op.compute_dtype);
    let mut dynamic = op.macs() as f64 * dev.mac_energy_j(used)
        + op.vector_flops() as f64 * dev.energy.vector_flop_pj * 1e-12;
    for t in &c.traffic {
        if let Some(m) = dev.memory.iter().find(|m| m.name == t.level) {
            dynamic += t.bytes as f64 * m.energy_pj_per_byte * 1e-12;
        }
    }
    let budget_w = dev.power.tdp_w - dev.power.idle_w;
    if budget_w > 0.0 && c.time_s > 0.0 && dynamic / c.time_s > budget_w {
        c.time_s = dynamic / budget_w;
        c.bound = Bound::Power;
    }
    c.energy_j = dynamic + dev.power.idle_w * c.time_s;
}
