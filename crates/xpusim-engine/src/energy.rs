//! Energy: dynamic per-action energy plus idle power over the op's time, with a power limit
//! met by lowering the core clock.
//!
//! `E = MACs·e_mac(dtype) + vector FLOPs·e_flop + Σ_levels bytes·e_byte(level) + P_idle·t`.
//! If the dynamic power `E_dyn / t` would exceed `P_limit − P_idle` (`P_limit`: TDP, or the
//! device's power cap), the chip runs its cores at the highest clock fraction `f < 1` that
//! fits ([`throttle`]), as GPUs do under sustained dense GEMM load and under a cap:
//! - the terms clocked with the cores (arithmetic, core- and chip-scope memories) take
//!   `1/f` as long; off-chip memory keeps its own clock and bandwidth;
//! - energy per core-side action falls as `f^k` (`k`: the device's
//!   `power.dvfs_energy_exponent`, by default 2: voltage scaled with the clock), so a
//!   cap trades a smaller slowdown for less energy per action — measured power-capping
//!   studies find exactly that: capping V100s at 150 W of 250 W cut training energy by
//!   13.7 % on average (McDonald et al., "Great Power, Great Responsibility", NAACL
//!   Findings 2022), which a model with energy per action held constant cannot give
//!   (it can only add idle energy). `k = 0` is that constant-energy model: `f` then
//!   falls in proportion to the excess power, the most time a cap can cost.
//!
//! Off-chip energy per byte does not scale (the memory has its own supply). An op whose
//! off-chip traffic alone exceeds the budget stretches to `E_dyn / budget`. A calibration
//! curve then rescales the op's time by its measured factor (measured at TDP), which can
//! move a capped op's power a few percent either way: the limit holds exactly for the
//! analytical model.

use xpusim_hw::{DeviceSpec, Scope};
use xpusim_ir::Op;

use crate::cost::{Bound, OpCost};

/// Dynamic energy of the op's arithmetic (MACs and vector FLOPs), J. A per-query-head
/// decode attention runs its dot products on the vector units, at their energy per FLOP.
pub fn arithmetic_j(op: &Op, dev: &DeviceSpec) -> f64 {
    if op.per_query_head {
        return crate::attention::vector_unit_flops(op) * dev.energy.vector_flop_pj * 1e-12;
    }
    let (_, used) = dev.matrix_flops(op.compute_dtype);
    op.macs() as f64 * dev.mac_energy_j(used)
        + op.vector_flops() as f64 * dev.energy.vector_flop_pj * 1e-12
}

/// What the power limit does to one kernel: its core clock fraction and its work time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    /// Core clock as a fraction of its maximum, in (0, 1].
    pub clock: f64,
    /// Work time at that clock (overhead excluded), s.
    pub work_s: f64,
    /// Factor on the energy of each core-side action, `clock^k`.
    pub core_energy: f64,
}

/// Bisection steps for the clock: 2^-40 of the range, far below any printed digit.
const CLOCK_STEPS: usize = 40;

/// The highest core clock at which a kernel's dynamic power fits the device's budget
/// (`P_limit − P_idle`; see the [module doc](self)). At full clock the kernel spends
/// `core_s` on core-clocked terms and `offchip_s` on off-chip traffic (overlapped: the
/// work takes the longer) plus `serial_s` of core-clocked time that overlaps nothing,
/// and `core_j` and `offchip_j` of dynamic energy.
pub fn throttle(
    dev: &DeviceSpec,
    core_s: f64,
    offchip_s: f64,
    serial_s: f64,
    core_j: f64,
    offchip_j: f64,
) -> Throttle {
    let k = dev.power.dvfs_energy_exponent();
    let work = |f: f64| (core_s / f).max(offchip_s) + serial_s / f;
    let full = Throttle {
        clock: 1.0,
        work_s: work(1.0),
        core_energy: 1.0,
    };
    let budget_w = dev.power_limit_w() - dev.power.idle_w;
    if budget_w <= 0.0 || core_j + offchip_j <= budget_w * full.work_s {
        return full;
    }
    if core_s + serial_s <= 0.0 || offchip_j >= budget_w * offchip_s {
        // The off-chip traffic alone exceeds the budget (or nothing is core-clocked):
        // the whole kernel stretches, energy per action unchanged.
        return Throttle {
            clock: full.work_s / ((core_j + offchip_j) / budget_w),
            work_s: (core_j + offchip_j) / budget_w,
            core_energy: 1.0,
        };
    }
    // Power `(core_j·f^k + offchip_j) / work(f)` rises with `f`: bisect for the budget.
    let fits = |f: f64| core_j * f.powf(k) + offchip_j <= budget_w * work(f);
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..CLOCK_STEPS {
        let mid = 0.5 * (lo + hi);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // `lo` fits; it is positive because power tends to 0 with the clock.
    let f = lo.max(f64::MIN_POSITIVE);
    Throttle {
        clock: f,
        work_s: work(f),
        core_energy: f.powf(k),
    }
}

pub fn apply(op: &Op, dev: &DeviceSpec, c: &mut OpCost) {
    c.compute_energy_j = arithmetic_j(op, dev);
    let (mut core_j, mut offchip_j) = (c.compute_energy_j, 0.0);
    let (mut core_s, mut offchip_s) = (c.compute_s, 0.0f64);
    for t in &mut c.traffic {
        if let Some(m) = dev.memory.iter().find(|m| m.name == t.level) {
            t.energy_j = t.bytes as f64 * m.energy_pj_per_byte * 1e-12;
            if m.scope == Scope::Offchip {
                offchip_j += t.energy_j;
                offchip_s = offchip_s.max(t.time_s);
            } else {
                core_j += t.energy_j;
                core_s = core_s.max(t.time_s);
            }
        }
    }
    // Work beyond the overlapped terms (dependent steps' pointwise work, row terms) runs
    // on the cores.
    let work_s = (c.time_s - c.overhead_s).max(0.0);
    let serial_s = (work_s - core_s.max(offchip_s)).max(0.0);
    let t = throttle(dev, core_s, offchip_s, serial_s, core_j, offchip_j);
    if t.clock < 1.0 {
        let f = t.clock;
        c.compute_s /= f;
        c.compute_energy_j *= t.core_energy;
        for l in &mut c.traffic {
            let onchip = dev
                .memory
                .iter()
                .any(|m| m.name == l.level && m.scope != Scope::Offchip);
            if onchip {
                l.time_s /= f;
                l.energy_j *= t.core_energy;
            }
        }
        c.time_s = c.time_s.max(t.work_s + c.overhead_s);
        c.bound = Bound::Power;
    }
    c.idle_energy_j = dev.power.idle_w * c.time_s;
    c.sum_energy();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An H100 with its power limit at `cap_w` and DVFS exponent `k`.
    fn h100(cap_w: f64, k: f64) -> DeviceSpec {
        let mut d = xpusim_hw::find_preset("h100-sxm").expect("preset");
        d.power_cap_w = Some(cap_w);
        d.power.dvfs_energy_exponent = Some(k);
        d
    }

    #[test]
    fn a_kernel_within_the_budget_keeps_its_clock() {
        let d = h100(700.0, 2.0);
        // 1 ms of arithmetic at 300 W dynamic.
        let t = throttle(&d, 1e-3, 0.5e-3, 0.0, 0.3, 0.0);
        assert_eq!((t.clock, t.work_s, t.core_energy), (1.0, 1e-3, 1.0));
    }

    #[test]
    fn without_voltage_scaling_the_clock_falls_with_the_excess_power() {
        // k = 0: energy per action is fixed, so a core-bound kernel stretches to E / budget.
        let d = h100(400.0, 0.0);
        let budget = 400.0 - d.power.idle_w;
        let (core_j, core_s) = (0.6, 1e-3);
        let t = throttle(&d, core_s, 0.0, 0.0, core_j, 0.0);
        assert!(
            (t.work_s - core_j / budget).abs() < 1e-9 * t.work_s,
            "{t:?}"
        );
        assert_eq!(t.core_energy, 1.0);
    }

    #[test]
    fn with_voltage_scaling_a_cap_costs_less_time_and_saves_energy() {
        let (core_j, core_s, off_j, off_s) = (0.6, 1e-3, 0.05, 0.4e-3);
        let fixed = throttle(&h100(400.0, 0.0), core_s, off_s, 0.0, core_j, off_j);
        let scaled = throttle(&h100(400.0, 2.0), core_s, off_s, 0.0, core_j, off_j);
        assert!(scaled.work_s < fixed.work_s, "{scaled:?} vs {fixed:?}");
        // Cube law on a core-bound kernel: power ∝ clock³ at fixed work.
        let budget = 400.0 - h100(400.0, 2.0).power.idle_w;
        let power = (core_j * scaled.core_energy + off_j) / scaled.work_s;
        assert!(
            (power - budget).abs() < 1e-6 * budget,
            "{power} W vs {budget} W"
        );
        assert!(core_j * scaled.core_energy + off_j < core_j + off_j);
    }

    #[test]
    fn off_chip_traffic_over_the_budget_stretches_the_kernel() {
        // 0.5 J of HBM traffic in 1 ms is 500 W: more than a 300 W cap leaves.
        let d = h100(300.0, 2.0);
        let budget = 300.0 - d.power.idle_w;
        let t = throttle(&d, 0.2e-3, 1e-3, 0.0, 0.01, 0.5);
        assert!((t.work_s - 0.51 / budget).abs() < 1e-9, "{t:?}");
    }
}
