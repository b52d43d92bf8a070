//! Applies a device's measured efficiency curves ([`xpusim_hw::calibration`]) to an op's
//! analytical cost — the one place calibration touches the engine.
//!
//! The multiplier `e` depends only on the op (its family and size) and the device's
//! curve, never on the device's rates, so scaling the work by `1/e` keeps the invariant
//! that a faster device never makes an op slower. The fixed launch overhead is not scaled.
//! It runs after the power cap: tiles are chosen on the analytical time (power floor
//! included), and scaling the winner's time by a constant keeps that choice optimal, so
//! the scaled time stays monotone in every device rate. Idle energy follows the new time.

use xpusim_hw::{calibration, CalibrationFamily, DeviceSpec};
use xpusim_ir::{Op, OpKind};

use crate::cost::OpCost;

/// The curve family an op belongs to, and its size on that curve's axis; `None` for ops
/// no curve applies to (collectives are costed by the link model).
pub fn family_and_size(op: &Op) -> Option<(CalibrationFamily, f64)> {
    let bytes = op.bytes_total() as f64;
    let flops = op.flops() as f64;
    Some(match &op.kind {
        OpKind::Matmul(_) | OpKind::Conv(_) | OpKind::Recurrent(_) => {
            (CalibrationFamily::Matmul, flops)
        }
        OpKind::Attention(_) => (CalibrationFamily::Attention, flops),
        OpKind::Embedding { .. } => (CalibrationFamily::Embedding, bytes),
        OpKind::DataMovement { .. } => (CalibrationFamily::Memory, bytes),
        OpKind::Elementwise { .. }
        | OpKind::Norm { .. }
        | OpKind::Softmax { .. }
        | OpKind::Reduce { .. }
        | OpKind::Scan(_)
        | OpKind::Unknown { .. } => (CalibrationFamily::Vector, bytes),
        OpKind::Collective { .. } => return None,
    })
}

/// The name an op-specific curve is keyed on: an elementwise op's function, a norm's
/// kind, `softmax`; `None` for ops only family-wide curves apply to.
pub fn op_key(op: &Op) -> Option<String> {
    use xpusim_ir::NormKind;
    match &op.kind {
        OpKind::Elementwise { func, .. } => Some(func.clone()),
        OpKind::Norm { kind, .. } => Some(
            match kind {
                NormKind::LayerNorm => "layernorm",
                NormKind::RmsNorm => "rmsnorm",
                NormKind::BatchNorm => "batchnorm",
                NormKind::GroupNorm => "groupnorm",
            }
            .to_string(),
        ),
        OpKind::Softmax { .. } => Some("softmax".into()),
        OpKind::Reduce { func, .. } => Some(func.clone()),
        _ => None,
    }
}

/// Divides the compute and traffic times (and the work part of `time_s`) by the curve's
/// multiplier. The bound is unchanged: every work term scales alike.
pub fn apply(op: &Op, dev: &DeviceSpec, c: &mut OpCost) {
    if dev.calibration.is_empty() {
        return;
    }
    let Some((family, size)) = family_and_size(op) else {
        return;
    };
    let key = op_key(op);
    let e = calibration::multiplier(&dev.calibration, family, key.as_deref(), size);
    if e == 1.0 {
        return;
    }
    c.compute_s /= e;
    for t in &mut c.traffic {
        t.time_s /= e;
    }
    let work = (c.time_s - c.overhead_s).max(0.0);
    let t = work / e + c.overhead_s;
    c.energy_j += dev.power.idle_w * (t - c.time_s);
    c.time_s = t;
}
