//! Die area of a design point derived from a base design of known area.

use xpusim_hw::{DeviceSpec, Scope};

use crate::DieMix;

/// On-chip SRAM bytes: every level but the off-chip one, core-scope levels once per core.
pub fn onchip_bytes(d: &DeviceSpec) -> f64 {
    d.memory
        .iter()
        .filter(|m| m.scope != Scope::Offchip)
        .map(|m| {
            let n = if m.scope == Scope::Core { d.cores } else { 1 };
            m.capacity_bytes as f64 * n as f64
        })
        .sum()
}

/// Multiply-accumulators per cycle of the matrix engines in the natural format.
fn macs_per_cycle(d: &DeviceSpec) -> f64 {
    d.matrix_flops(d.natural_dtype).0 / 2.0 / (d.clock_ghz * 1e9)
}

/// Area of `design` at `base`'s node, scaling each block of `base`'s die by what it holds:
/// logic by matrix MACs per cycle, SRAM by on-chip bytes, analog/IO (memory PHYs) by
/// off-chip bandwidth. None when `base` has no die area.
///
/// A first-order model: blocks scale linearly and the base's split is `mix`; it answers
/// "how much bigger" for a design-space sweep, not an exact floorplan.
pub fn scaled_die_area(base: &DeviceSpec, design: &DeviceSpec, mix: DieMix) -> Option<f64> {
    let a0 = base.die_area_mm2?;
    let ratio = |new: f64, old: f64| if old > 0.0 { new / old } else { 1.0 };
    let logic = ratio(macs_per_cycle(design), macs_per_cycle(base));
    let sram = ratio(onchip_bytes(design), onchip_bytes(base));
    let io = ratio(
        design.offchip().bandwidth_gbps,
        base.offchip().bandwidth_gbps,
    );
    Some(a0 * (mix.logic * logic + mix.sram * sram + mix.analog * io))
}
