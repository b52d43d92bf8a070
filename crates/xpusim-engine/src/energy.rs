//! Energy: dynamic per-action energy plus idle power over the op's time, with a power cap.
//!
//! `E = MACs·e_mac(dtype) + vector FLOPs·e_flop + Σ_levels bytes·e_byte(level) + P_idle·t`.
//! If the dynamic power `E_dyn / t` would exceed `P_limit − P_idle` (`P_limit`: TDP, or the
//! device's power cap), the chip cannot run that fast: `t` stretches to
//! `E_dyn / (P_limit − P_idle)` and the op is reported power-bound (GPUs clock down under
//! sustained dense GEMM load, and under a cap, for exactly this reason). Energy per action
//! is held constant as the clock drops (no voltage scaling is modelled), so a cap costs the
//! most time this model can charge it. A calibration curve then rescales the op's time by
//! its measured factor (measured at TDP), which can move a capped op's power a few percent
//! either way: the cap holds exactly for the analytical model.

use xpusim_hw::DeviceSpec;
use xpusim_ir::Op;

use crate::cost::{Bound, OpCost};

/// Dynamic energy of the op's arithmetic (MACs and vector FLOPs), J.
pub fn arithmetic_j(op: &Op, dev: &DeviceSpec) -> f64 {
    let (_, used) = dev.matrix_flops(op.compute_dtype);
    op.macs() as f64 * dev.mac_energy_j(used)
        + op.vector_flops() as f64 * dev.energy.vector_flop_pj * 1e-12
}

/// Shortest time in which `dynamic_j` can be spent within the power budget.
pub fn power_floor_s(dev: &DeviceSpec, dynamic_j: f64) -> f64 {
    let budget_w = dev.power_limit_w() - dev.power.idle_w;
    if budget_w > 0.0 {
        dynamic_j / budget_w
    } else {
        0.0
    }
}

pub fn apply(op: &Op, dev: &DeviceSpec, c: &mut OpCost) {
    c.compute_energy_j = arithmetic_j(op, dev);
    let mut dynamic = c.compute_energy_j;
    for t in &mut c.traffic {
        if let Some(m) = dev.memory.iter().find(|m| m.name == t.level) {
            t.energy_j = t.bytes as f64 * m.energy_pj_per_byte * 1e-12;
            dynamic += t.energy_j;
        }
    }
    let floor = power_floor_s(dev, dynamic);
    if floor > c.time_s {
        c.time_s = floor;
        c.bound = Bound::Power;
    }
    c.idle_energy_j = dev.power.idle_w * c.time_s;
    c.sum_energy();
}
