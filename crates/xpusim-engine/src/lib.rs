//! The engine: what one op costs on one device, and the interface every cost model
//! implements ([`CostModel`]); models are composed from op costs in `xpusim-target`.
//!
//! Per op, time is `max(compute, traffic at each memory level / its bandwidth, power cap)`
//! plus a fixed launch overhead, and the binding term is reported. Contractions are tiled
//! onto the device (`contraction.rs`): matrix-engine shape padding, wave quantisation over
//! cores, and on-chip reuse so that the traffic at each level is computed from tile
//! footprints rather than assumed compulsory. Vector ops (`vector.rs`) are costed from
//! their FLOPs and bytes; fused attention (`attention.rs`) and its backward from
//! FlashAttention-2-style tilings; recurrent layers as dependent steps. Energy (`energy.rs`) is per-MAC and per-FLOP
//! dynamic energy + per-byte energy at each level + idle power × time.
//! Ops a device does not run natively (its `[support]` table) are costed in one place,
//! [`fallback`]: in a wider supported format, or on the host device over the link with the
//! transfers charged, so missing generality shows up as time and energy, never an error.
//!
//! Invariants: costs depend only on (op, device); raising any bandwidth, peak rate or
//! capacity of a device never increases an op's time (tested by property tests); an op's
//! energy is the sum of its parts (arithmetic, each memory level, PIM, static power).

mod attention;
pub use attention::ATTENTION_GRAD_KERNELS;
pub use contraction::RECURRENT_STEP_KERNELS;
pub mod calibration;
mod contraction;
mod cost;
mod cost_model;
mod energy;
mod error;
pub mod fallback;
pub mod tile_memo;
mod vector;
mod winograd;

pub use cost::{Bound, LevelTraffic, OpCost, PimShare};
pub use cost_model::{Analytical, CostModel, Costed};
pub use error::EngineError;

use xpusim_hw::DeviceSpec;
use xpusim_ir::{Op, OpKind};

/// Cost of one instance of `op` on `dev` (multiply by `op.repeat` for all instances).
pub fn cost_op(op: &Op, dev: &DeviceSpec) -> Result<OpCost, EngineError> {
    if let Some(c) = fallback::reroute(op, dev)? {
        return Ok(c);
    }
    let mut c = match &op.kind {
        OpKind::Matmul(_) | OpKind::Conv(_) | OpKind::Recurrent(_) => contraction::cost(op, dev)?,
        OpKind::Attention(a) => attention::cost(op, a, dev)?,
        OpKind::AttentionGrad(a) => attention::cost_grad(op, a, dev)?,
        OpKind::Collective { bytes, group, .. } => vector::collective(op, *bytes, *group, dev),
        _ => vector::cost(op, dev),
    };
    energy::apply(op, dev, &mut c);
    // Curves measure standalone kernels; an epilogue has no launch to calibrate.
    if !op.epilogue {
        calibration::apply(op, dev, &mut c);
    }
    // A library picks the faster algorithm (cudnnFind); Winograd's kernels are priced
    // whole, each part with its own energy and calibration.
    if let OpKind::Conv(spec) = &op.kind {
        if let Some(w) = winograd::cost(op, spec, dev)? {
            if w.time_s < c.time_s {
                return Ok(w);
            }
        }
    }
    Ok(c)
}
