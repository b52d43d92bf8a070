//! Synchronised BatchNorm: each BatchNorm's batch statistics reduced over a group of
//! data-parallel ranks, so that small per-device batches normalise over the group's images.
//!
//! What runs: the forward exchanges each channel's two statistics (sum and sum of squares,
//! or mean and variance with the count) before it normalises, and the backward exchanges
//! two more per channel (the sums of the gradient and of the gradient times the normalised
//! input) before it computes the input gradient — PyTorch's `SyncBatchNorm` (an all-gather
//! of mean, inverse std and count forward, an all-reduce of `sum_dy` and `sum_dy_xmu`
//! backward) and NVIDIA's MXNet NHWC BatchNorm with `bn_group` (MLPerf ResNet-50's
//! `BN_GROUP`), which exchanges them through peer memory. Both sit on the critical path:
//! the normalisation waits for them. Each is priced as an FP32 all-reduce of `2 × channels`
//! values over the group (ranks adjacent in data parallelism, `tp·cp` devices apart) on the
//! system's topology — NCCL's latency model; MXNet's peer-memory exchange avoids NCCL's
//! launch, so for it this is an estimate from above.

use xpusim_ir::{CollectiveKind, NormKind, OpKind};
use xpusim_system::shard::DeviceGraph;
use xpusim_target::Target;

use crate::layout::TrainLayout;
use crate::parts::{Parts, Placer, Work};
use crate::step_comm::spread;
use crate::TrainError;

/// Bytes one direction of one BatchNorm exchanges per channel: two FP32 values.
const STAT_BYTES_PER_CHANNEL: f64 = 2.0 * 4.0;

/// The statistics exchange of one micro-batch's BatchNorms, placed where the forward's
/// BatchNorms are ([`Placer`], as [`crate::parts::split`] places work). The backward runs the
/// same exchanges, so the caller adds these pieces to both passes.
pub(crate) fn batchnorm_sync(
    dfwd: &DeviceGraph,
    groups: &[(u32, u64)],
    t: &Target,
    l: &TrainLayout,
    model: &str,
) -> Result<Option<Parts<Work>>, TrainError> {
    let g = l.bn_group.unwrap_or(1);
    if g <= 1 {
        return Ok(None);
    }
    let label = crate::parts::comm_label(CollectiveKind::AllReduce, "bn");
    let mut pieces = Placer::default();
    let mut any = false;
    for p in &dfwd.ops {
        let op = &p.op;
        let OpKind::Norm {
            kind: NormKind::BatchNorm,
            cols,
            ..
        } = op.kind
        else {
            continue;
        };
        any = true;
        let bytes = cols as f64 * STAT_BYTES_PER_CHANNEL;
        let (ts, e) = spread(t, CollectiveKind::AllReduce, bytes, g, l.tp * l.cp)?;
        let r = op.repeat as f64;
        let mut w = Work::default();
        w.add_comm(&label, ts * r, e * r);
        pieces.add(op.layer, &w);
    }
    if !any {
        return Err(TrainError::Layout(format!(
            "{l}: `{model}` has no BatchNorm to synchronise over a bn_group of {g}"
        )));
    }
    Ok(Some(pieces.finish(groups, false)))
}
