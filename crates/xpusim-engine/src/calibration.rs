//! Applies a device's measured efficiency curves ([`xpusim_hw::calibration`]) to an op's
//! analytical cost — the one place calibration touches the engine.
//!
//! The multiplier `e` depends only on the op (its family and size) and the device's
//! curve, never on the device's rates, so scaling the work by `1/e` keeps the invariant
//! that a faster device never makes an op slower. The fixed launch overhead is not scaled.
//! It runs after the power cap: tiles are chosen on the analytical time (power floor
//! included), and scaling the winner's time by a constant keeps that choice optimal, so
//! the scaled time stays monotone in every device rate. Idle energy follows the new time.
//! A contraction's multiplier is capped where it would take the op below its MACs at the
//! device's sustained rate (`sustained_floor`); the time is then the larger of the scaled
//! work and that floor, and both fall as any rate rises, so the invariant still holds.
//!
//! A curve's `fixed_us` (the op's measured minimum time per launch) replaces one
//! `overhead.launch_us` in the op's fixed time (an op costed as several launches keeps the
//! others). It depends on no device rate, so the invariant above holds: halving
//! `launch_us` leaves a one-launch op's time unchanged and never makes any op slower.

use xpusim_hw::{calibration, CalibrationCurve, CalibrationFamily, DeviceSpec};
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
        // Attention curves are fitted to forward kernels; FlashAttention-2's backward runs
        // at a different share of peak (Dao 2023, Fig. 6–7), so no curve applies to it.
        OpKind::AttentionGrad(_) => return None,
        OpKind::Embedding { .. } => (CalibrationFamily::Embedding, bytes),
        OpKind::DataMovement { .. } => (CalibrationFamily::Memory, bytes),
        OpKind::Elementwise { .. }
        | OpKind::Norm { .. }
        | OpKind::Softmax { .. }
        | OpKind::Reduce { .. }
        | OpKind::Scan(_)
        | OpKind::Loss { .. }
        | OpKind::Unknown { .. } => (CalibrationFamily::Vector, bytes),
        OpKind::Collective { .. } => return None,
    })
}

/// The name an op-specific curve is keyed on: an elementwise op's function, a norm's
/// kind, `softmax`, a loss's kind; `None` for ops only family-wide curves apply to — among
/// them the gradients of norms and softmaxes, whose kernels are not the forward's (an
/// elementwise gradient is keyed `{func}_grad`).
pub fn op_key(op: &Op) -> Option<String> {
    use xpusim_ir::NormKind;
    match &op.kind {
        OpKind::Elementwise { func, .. } => Some(func.clone()),
        OpKind::Norm { pass, .. } | OpKind::Softmax { pass, .. } if !pass.is_forward() => None,
        OpKind::Loss { kind, pass, .. } if pass.is_forward() => Some(kind.name().into()),
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

/// Thread blocks of a row-parallel kernel resident per SM at once: the vLLM norm,
/// activation and rotary kernels use up to 1024 threads per block, and an SM holds 2048
/// threads (CUDA C Programming Guide, compute capability 8.0 and 9.0 occupancy table).
pub const ROW_BLOCKS_PER_CORE: f64 = 2.0;

/// How a row-parallel kernel splits the op: the number of rows (tokens), one thread block
/// each, and the bytes one block moves (its row of every activation, plus any weight
/// vector each block reads whole, like a norm's gain). `None` for ops without rows: flat
/// elementwise ops (1-D operands), contractions, data movement, collectives.
pub fn rows_of(op: &Op) -> Option<(u64, f64)> {
    use xpusim_ir::Role;
    let rows = match &op.kind {
        OpKind::Norm { rows, .. } | OpKind::Softmax { rows, .. } => *rows,
        OpKind::Embedding { tokens, .. } => *tokens,
        OpKind::Elementwise { .. } => {
            let out = op.operands.iter().find(|o| o.role == Role::Output)?;
            let (_, lead) = out.shape.split_last()?;
            if lead.is_empty() {
                return None;
            }
            lead.iter().product()
        }
        _ => return None,
    };
    if rows == 0 {
        return None;
    }
    let mut per_row = 0.0;
    for o in &op.operands {
        let b = o.bytes() as f64;
        per_row += match (o.role, &op.kind) {
            // The gathered table rows are the embedding's own rows.
            (Role::Weight, OpKind::Embedding { .. }) => b / rows as f64,
            (Role::Weight, _) => b,
            _ => b / rows as f64,
        };
    }
    Some((rows, per_row))
}

/// The work time the curve's kernel-structure terms allow (`work_s` after the
/// multiplier): a serial gather walks its rows one by one; a row-parallel kernel takes at
/// least one block's time to stream its row, once per wave of `cores ×`
/// [`ROW_BLOCKS_PER_CORE`] rows. Neither term depends on a device rate, and more cores
/// never add waves, so a faster or larger device is never slower.
fn structured_work(op: &Op, dev: &DeviceSpec, curve: &CalibrationCurve, work_s: f64) -> f64 {
    // Most curves carry no structure term: skip walking the operands for them.
    if curve.row_gbps.is_none() && curve.serial_max_rows.is_none() {
        return work_s;
    }
    let Some((rows, row_bytes)) = rows_of(op) else {
        return work_s;
    };
    if let (Some(max), Some(us)) = (curve.serial_max_rows, curve.serial_us_per_row) {
        if rows <= max {
            return rows as f64 * us * 1e-6;
        }
    }
    match curve.row_gbps {
        Some(gbps) => {
            let slots = (dev.cores.max(1) as f64) * ROW_BLOCKS_PER_CORE;
            let waves = (rows as f64 / slots).max(1.0);
            work_s.max(waves * row_bytes / (gbps * 1e9))
        }
        None => work_s,
    }
}

/// The shortest work time a contraction can be calibrated to: its MACs at the device's
/// sustained rate, the faster of the matrix units at `matrix.efficiency` and the vector
/// units (held to the same share where they are the matrix path). The analytical cost
/// adds tile and wave quantisation to that rate; a size-only curve recovers what those
/// charge on average at each size, and on shapes the base already prices near the
/// sustained rate that average would push the kernel past it. Measured kernels do not go
/// there: Vidur's H100 GEMMs of 20 GFLOP or more plateau at 700–750 TFLOP/s where the
/// analytical cost gives 700–730 (their needed multiplier there is 0.99, against 1.15 for
/// the shapes priced at 500–650), and the best of a shape search on an H100 SXM is 794.5
/// TFLOP/s (Bekman, ml-engineering, compute/accelerator/README.md, "Maximum Achievable
/// Matmul FLOPS comparison table", BF16). Without this floor the H100 curve priced
/// 4096 × 2048 × 8192 at 802 TFLOP/s. Zero for ops that are not contractions.
fn sustained_floor(op: &Op, dev: &DeviceSpec, family: CalibrationFamily) -> f64 {
    if family != CalibrationFamily::Matmul {
        return 0.0;
    }
    let (matrix, vector) = crate::contraction::sustained_rates(op, dev);
    2.0 * op.macs() as f64 / matrix.max(vector)
}

/// Divides the compute and traffic times (and the work part of `time_s`) by the curve's
/// multiplier (for a contraction, at most down to `sustained_floor`), swaps the launch
/// overhead for the curve's `fixed_us` where it has one, and applies the curve's row terms
/// (`structured_work`). The bound is kept from the analytical cost: every work term
/// scales alike, and the floor only swaps one fixed time for another of the same few-µs
/// order.
pub fn apply(op: &Op, dev: &DeviceSpec, c: &mut OpCost) {
    if dev.calibration.is_empty() {
        return;
    }
    let Some((family, size)) = family_and_size(op) else {
        return;
    };
    let key = op_key(op);
    let Some(curve) = calibration::curve_for(&dev.calibration, family, key.as_deref()) else {
        return;
    };
    let work = (c.time_s - c.overhead_s).max(0.0);
    let e = match curve.at(size) {
        e if e > 1.0 => match sustained_floor(op, dev, family) {
            floor if floor > 0.0 => e.min((work / floor).max(1.0)),
            _ => e,
        },
        e => e,
    };
    let launch_s = dev.overhead.launch_us * 1e-6;
    // The floor replaces one launch: the op's own kernel, as the curve's rows measured it.
    // A varlen member after the first runs in the group's launch: no floor of its own.
    let in_group = op.varlen.is_some_and(|m| m.shares_launch());
    let overhead = match curve.fixed_us {
        Some(f_us) if !in_group => (c.overhead_s - launch_s).max(0.0) + f_us * 1e-6,
        _ => c.overhead_s,
    };
    let scaled = structured_work(op, dev, curve, work / e);
    if e == 1.0 && overhead == c.overhead_s && scaled == work {
        return;
    }
    c.compute_s /= e;
    for t in &mut c.traffic {
        t.time_s /= e;
    }
    c.overhead_s = overhead;
    let t = scaled + c.overhead_s;
    c.idle_energy_j += dev.power.idle_w * (t - c.time_s);
    c.time_s = t;
    c.sum_energy();
}
