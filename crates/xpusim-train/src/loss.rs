//! The loss as the run's stack computes it: Megatron-LM's unfused cross-entropy
//! ([`xpusim_ir::vocab_loss`]) in place of the fused loss kernel, on the graph one device
//! runs (after sharding, so each kernel covers the device's vocabulary slice and the
//! per-row all-reduces the sharder placed after the loss stay where they are).

use std::borrow::Cow;

use xpusim_ir::vocab_loss::{unfused_cross_entropy, unfused_cross_entropy_grad};
use xpusim_ir::{LossKind, OpKind};
use xpusim_system::shard::{DeviceGraph, PlacedOp};

use crate::TrainError;

/// Replaces every cross-entropy op of `dg` (forward or gradient) with its unfused kernels;
/// returns how many were replaced.
pub fn unfuse(dg: &mut DeviceGraph) -> Result<usize, TrainError> {
    let mut out = Vec::with_capacity(dg.ops.len() + 8);
    let mut n = 0;
    for p in std::mem::take(&mut dg.ops) {
        let kernels = match p.op.kind {
            OpKind::Loss {
                kind: LossKind::CrossEntropy,
                pass,
                ..
            } => {
                if pass.is_forward() {
                    unfused_cross_entropy(&p.op)?
                } else {
                    unfused_cross_entropy_grad(&p.op)?
                }
            }
            _ => {
                out.push(p);
                continue;
            }
        };
        n += 1;
        out.extend(kernels.into_iter().map(|op| PlacedOp {
            op: Cow::Owned(op),
            placement: p.placement,
            shards: p.shards,
        }));
    }
    dg.ops = out;
    Ok(n)
}
