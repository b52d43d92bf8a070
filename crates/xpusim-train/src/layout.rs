//! How a training job is spread over devices and what it keeps in memory.

use std::fmt;

use serde::Serialize;
use xpusim_ir::DType;

use crate::schedule::Schedule;
use crate::TrainError;

/// ZeRO stage (Rajbhandari et al., SC'20): what the data-parallel replicas partition.
/// 0 replicates everything (PyTorch DDP); 1 partitions the optimizer state (Megatron-LM's
/// distributed optimizer); 2 also the gradients; 3 also the parameters (FSDP).
pub type ZeroStage = u8;

/// Activation recomputation (Korthikanti et al. 2022, §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Recompute {
    /// Every activation the backward reads is stored.
    #[default]
    None,
    /// The attention core (scores, softmax, the product with V) is recomputed instead of
    /// stored. A fused attention kernel (FlashAttention) already recomputes it in its
    /// backward, so this changes nothing for graphs whose attention is one op.
    Selective,
    /// Only each layer's input is stored; the layer's forward runs again in backward.
    Full,
}

impl Recompute {
    pub fn parse(s: &str) -> Result<Recompute, TrainError> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "off" => Ok(Recompute::None),
            "selective" => Ok(Recompute::Selective),
            "full" => Ok(Recompute::Full),
            _ => Err(TrainError::Layout(format!(
                "recompute `{s}`: expected none, selective or full"
            ))),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Recompute::None => "none",
            Recompute::Selective => "selective",
            Recompute::Full => "full",
        }
    }
}

/// The parallel layout and batch of one training job. Devices are ranked as Megatron-LM
/// ranks them (`tp` fastest, then `cp`, then `dp`, then `pp`): a tensor-parallel group is
/// `tp` consecutive devices (inside a node), a data-parallel group strides by `tp·cp`, and
/// consecutive pipeline stages are `tp·cp·dp` devices apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TrainLayout {
    pub tp: u64,
    pub pp: u64,
    pub dp: u64,
    /// Expert parallelism: the routed experts spread over `ep` of the data-parallel ranks
    /// (Megatron-Core; DeepSeek-V3 trains with EP64 across nodes), tokens exchanged by
    /// all-to-all; each expert is still split over the tensor-parallel group.
    pub ep: u64,
    /// Context parallelism: each sequence split over `cp` devices, attention across them.
    pub cp: u64,
    /// Megatron-LM's sequence parallelism inside the tensor-parallel group.
    pub sp: bool,
    pub schedule: Schedule,
    /// Samples per micro-batch on one replica.
    pub micro_batch: u64,
    /// Samples per optimizer step over all replicas.
    pub global_batch: u64,
    pub zero: ZeroStage,
    pub recompute: Recompute,
    /// Data-parallel gradient reduction overlapped with the backward, and the distributed
    /// optimizer's parameter all-gather with the next forward (Megatron-LM
    /// `--overlap-grad-reduce --overlap-param-gather`, PyTorch DDP's bucketed all-reduce).
    pub overlap_dp: bool,
    /// Run attention as the three kernels stacks used before FlashAttention (scores
    /// written to memory; [`xpusim_ir::Graph::unfuse_attention`]). Model FLOPs still count
    /// the model's attention causally.
    #[serde(default)]
    pub unfused_attention: bool,
    /// Run cross-entropy as Megatron-LM's default does: the logits cast to FP32 and five
    /// more eager kernels over them, the FP32 softmax stored for the backward
    /// ([`xpusim_ir::vocab_loss`]), instead of one fused kernel (Megatron-Core
    /// `--cross-entropy-loss-fusion`).
    #[serde(default)]
    pub unfused_loss: bool,
    /// Hidden and attention dropout as GPT-style Megatron-LM runs train
    /// ([`xpusim_ir::Graph::insert_dropout`]): their kernels, and their masks stored for
    /// the backward.
    #[serde(default)]
    pub dropout: bool,
    /// The input embedding takes a layer's place when the layers are cut into pipeline
    /// chunks (Megatron-Core `--account-for-embedding-in-pipeline-split`): the first chunk
    /// holds one layer fewer. Llama 3 balances its pipeline this way, its first chunk holding
    /// the embedding alone (Dubey et al. 2024, §3.3.2).
    #[serde(default)]
    pub embedding_in_split: bool,
    /// The LM head and loss take a layer's place in the cut (Megatron-Core
    /// `--account-for-loss-in-pipeline-split`): the last chunk holds one layer fewer.
    #[serde(default)]
    pub loss_in_split: bool,
    /// Hybrid sharding: ZeRO partitions its state over groups of this many data-parallel
    /// ranks (adjacent ones) and the groups hold replicas, all-reducing the gradient
    /// shards between them once a step (PyTorch FSDP `HYBRID_SHARD`; PaLM's "256-way fully
    /// sharded data parallelism" inside each pod with two-way data parallelism across pods,
    /// Chowdhery et al. 2022, §4). `None`: the whole data-parallel group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_group: Option<u64>,
    /// Synchronised BatchNorm: each BatchNorm's statistics reduced over groups of this many
    /// adjacent data-parallel ranks, forward and backward (PyTorch `SyncBatchNorm`; MLPerf
    /// ResNet-50's `BN_GROUP` in NVIDIA's MXNet). `None` or 1: each device normalises over
    /// its own micro-batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bn_group: Option<u64>,
    /// Tensor-parallel communication overlapped with the GEMMs (Megatron-Core
    /// `--tp-comm-overlap`, Transformer Engine userbuffers): each sequence-parallel
    /// all-gather and reduce-scatter hides under its GEMM, which runs as userbuffers runs it
    /// (`parts::split`, `userbuffers`). Needs sequence parallelism, as Megatron-Core requires.
    #[serde(default)]
    pub tp_comm_overlap: bool,
    /// Pipeline sends overlapped with compute: `Some(true)` sends asynchronously and the
    /// device computes on (Megatron-Core's `--overlap-p2p-communication`, Llama 3's
    /// "asynchronous point-to-point communication in PP", Dubey et al. 2024 §3.3.2);
    /// `Some(false)` blocks the device until its send is done (Megatron-LM before
    /// Megatron-Core waits on every `batch_isend_irecv` and then synchronises the device,
    /// `megatron/p2p_communication.py`; DeepSpeed's pipeline engine sends synchronously).
    /// `None`: as Megatron-Core decides, overlapped under the interleaved schedule and
    /// blocking otherwise (`megatron/training/arguments.py` turns `overlap_p2p_comm` off
    /// without virtual stages; NeMo's `MegatronCommOverlapCallback` sets it on exactly when
    /// there are). See [`TrainLayout::sends_overlap`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p2p_overlap: Option<bool>,
    /// Megatron-LM's scatter-gather of pipeline sends (`--scatter-gather-tensors-in-pipeline`,
    /// on by default from 2021 until Megatron-Core; Narayanan et al. 2021 §4.1): without
    /// sequence parallelism every tensor-parallel rank holds the whole activation, so each
    /// sends `1/tp` of it over its own link and the receiving group all-gathers it over the
    /// scale-up links. Off: each rank sends what it holds (Megatron-Core, DeepSpeed).
    #[serde(default)]
    pub p2p_scatter_gather: bool,
    /// Context parallelism by all-gather: each device gathers the whole sequence's K and V
    /// first, then scores its own queries against them in one kernel (Llama 3, Dubey et al.
    /// 2024 §3.3.2, "all-gather based"; Megatron-Core's `--cp-comm-type all_gather`). Off:
    /// Transformer Engine's ring of `cp` steps (`--cp-comm-type p2p`, the default of
    /// Megatron-Core and NeMo), `crate::context`.
    #[serde(default)]
    pub cp_allgather: bool,
    /// Format of the accumulated gradients and of their data-parallel reduction. `None`:
    /// FP32 ([`crate::Optimizer::adamw`]; Megatron-LM forces it for BF16). Stacks that
    /// reduce in 16 bits: Megatron-LM's FP16 runs without
    /// `--accumulate-allreduce-grads-in-fp32` (the gradient buffer takes the parameters'
    /// dtype, `megatron/model/distributed.py`), Megatron-Core's `grad_reduce_in_fp32=False`
    /// (NeMo 2's recipes), Apex's distributed Adam with `grad_sync_dtype: bf16` (NeMo 1,
    /// MLPerf's GPT-3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grad_dtype: Option<DType>,
}

impl Default for TrainLayout {
    fn default() -> TrainLayout {
        TrainLayout {
            tp: 1,
            pp: 1,
            dp: 1,
            ep: 1,
            cp: 1,
            sp: false,
            schedule: Schedule::OneFOneB,
            micro_batch: 1,
            global_batch: 1,
            zero: 1,
            recompute: Recompute::None,
            overlap_dp: true,
            unfused_attention: false,
            unfused_loss: false,
            dropout: false,
            embedding_in_split: false,
            loss_in_split: false,
            shard_group: None,
            bn_group: None,
            tp_comm_overlap: false,
            p2p_overlap: None,
            p2p_scatter_gather: false,
            cp_allgather: false,
            grad_dtype: None,
        }
    }
}

impl TrainLayout {
    /// Devices the layout occupies.
    pub fn devices(&self) -> u64 {
        self.tp * self.pp * self.dp * self.cp
    }

    /// Whether pipeline sends run beside compute ([`TrainLayout::p2p_overlap`], else
    /// Megatron-Core's rule: overlapped under the interleaved schedule). DualPipe overlaps
    /// its communication its own way and ignores this.
    pub fn sends_overlap(&self) -> bool {
        self.p2p_overlap
            .unwrap_or(matches!(self.schedule, Schedule::Interleaved(v) if v > 1))
    }

    /// Replicas holding the same experts: the data-parallel group of the experts' state.
    pub fn expert_dp(&self) -> u64 {
        (self.dp * self.cp / self.ep.max(1)).max(1)
    }

    /// Data-parallel ranks a ZeRO partition spans: the shard group, else all `dp·cp`.
    pub fn shard(&self) -> u64 {
        self.shard_group.unwrap_or(self.dp * self.cp).max(1)
    }

    /// Shard groups holding replicas of the partitioned state (1 without hybrid sharding).
    pub fn shard_replicas(&self) -> u64 {
        (self.dp * self.cp / self.shard()).max(1)
    }

    /// Micro-batches each replica runs per optimizer step (gradient accumulation).
    pub fn microbatches(&self) -> Result<u64, TrainError> {
        let per_step = self.dp * self.micro_batch;
        if per_step == 0 || !self.global_batch.is_multiple_of(per_step) {
            return Err(TrainError::Layout(format!(
                "global batch {} is not a multiple of dp × micro-batch = {} × {} (each replica \
                 must run whole micro-batches)",
                self.global_batch, self.dp, self.micro_batch
            )));
        }
        Ok(self.global_batch / per_step)
    }

    /// The layers `[lo, hi)` of each of `chunks` pipeline chunks when the stack has `layers`
    /// layers: contiguous and as even as integer division makes them, the embedding and the
    /// loss counted as a layer each where the layout says so (the embedding always joins the
    /// first chunk and the head and loss the last). `None` if a chunk would be empty of
    /// both layers and those parts.
    pub fn chunk_layers(&self, layers: u64, chunks: u64) -> Option<Vec<(usize, usize)>> {
        let head = u64::from(self.embedding_in_split);
        let slots = layers + head + u64::from(self.loss_in_split);
        if chunks == 0 || slots < chunks {
            return None;
        }
        Some(
            (0..chunks)
                .map(|c| {
                    let layer = |slot: u64| slot.saturating_sub(head).min(layers) as usize;
                    (layer(c * slots / chunks), layer((c + 1) * slots / chunks))
                })
                .collect(),
        )
    }

    /// Sets which non-layer parts count as a layer in the pipeline cut from `layers` (none),
    /// `embedding`, `loss` or `embedding+loss`.
    pub fn set_pipeline_split(&mut self, s: &str) -> Result<(), TrainError> {
        let mut parts = (false, false);
        if !matches!(s.trim(), "layers" | "none") {
            for p in s.split('+').map(str::trim) {
                match p {
                    "embedding" => parts.0 = true,
                    "loss" => parts.1 = true,
                    _ => {
                        return Err(TrainError::Layout(format!(
                            "pipeline split `{s}`: expected layers, embedding, loss or \
                             embedding+loss"
                        )))
                    }
                }
            }
        }
        (self.embedding_in_split, self.loss_in_split) = parts;
        Ok(())
    }

    pub fn check(&self) -> Result<(), TrainError> {
        let err = |m: String| Err(TrainError::Layout(format!("{self}: {m}")));
        for (what, v) in [
            ("tp", self.tp),
            ("pp", self.pp),
            ("dp", self.dp),
            ("ep", self.ep),
            ("cp", self.cp),
            ("micro-batch", self.micro_batch),
            ("global batch", self.global_batch),
        ] {
            if v == 0 {
                return err(format!("{what} must be at least 1"));
            }
        }
        if self.zero > 3 {
            return err(format!("ZeRO stage {} does not exist (0–3)", self.zero));
        }
        if self.sp && self.tp == 1 {
            return err(
                "sequence parallelism splits over the tensor-parallel group; it needs \
                        tp > 1"
                    .into(),
            );
        }
        let dp = self.dp * self.cp;
        for (what, group) in [
            ("shard group", self.shard_group),
            ("BatchNorm group", self.bn_group),
        ] {
            match group {
                Some(0) => return err(format!("a {what} must hold at least 1 rank")),
                Some(g) if !dp.is_multiple_of(g) => {
                    return err(format!(
                        "a {what} of {g} does not divide the dp·cp = {dp} data-parallel ranks"
                    ))
                }
                _ => {}
            }
        }
        if let Some(g) = self.shard_group {
            if self.zero == 0 {
                return err("a shard group partitions ZeRO state; it needs ZeRO 1–3".into());
            }
            if self.ep > 1 && g < dp {
                return err(
                    "hybrid sharding of expert-parallel state is not modelled (ep > 1 with a \
                     shard group smaller than dp·cp)"
                        .into(),
                );
            }
        }
        if let Some(g) = self
            .grad_dtype
            .filter(|g| !matches!(g, DType::Fp32 | DType::Bf16 | DType::Fp16))
        {
            return err(format!(
                "gradients accumulate and reduce in fp32, bf16 or fp16, not {}",
                g.name()
            ));
        }
        if self.tp_comm_overlap && !self.sp {
            return err(
                "tensor-parallel communication overlaps its GEMMs only with sequence \
                 parallelism (its all-gathers and reduce-scatters); add sp"
                    .into(),
            );
        }
        if self.pp == 1 && matches!(self.schedule, Schedule::Interleaved(v) if v > 1) {
            return err("an interleaved schedule needs pipeline stages (pp > 1)".into());
        }
        if self.schedule == Schedule::DualPipe && (self.pp < 2 || !self.pp.is_multiple_of(2)) {
            return err(format!(
                "DualPipe needs an even number of pipeline stages, at least 2 (pp = {})",
                self.pp
            ));
        }
        self.microbatches().map(|_| ())
    }
}

impl fmt::Display for TrainLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tp={} pp={} dp={} ep={} cp={}{} micro-batch={} global-batch={} zero={} recompute={}",
            self.tp,
            self.pp,
            self.dp,
            self.ep,
            self.cp,
            if self.sp { " sp" } else { "" },
            self.micro_batch,
            self.global_batch,
            self.zero,
            self.recompute.label()
        )?;
        match self.schedule {
            Schedule::Interleaved(v) => write!(f, " interleaved={v}")?,
            Schedule::DualPipe => write!(f, " dualpipe")?,
            Schedule::Gpipe | Schedule::OneFOneB => {}
        }
        if let Some(g) = self.shard_group {
            write!(f, " shard={g}")?;
        }
        if let Some(g) = self.bn_group.filter(|g| *g > 1) {
            write!(f, " bn_group={g}")?;
        }
        if self.tp_comm_overlap {
            write!(f, " tp_overlap")?;
        }
        if let Some(on) = self.p2p_overlap {
            write!(f, " p2p_overlap={}", if on { "on" } else { "off" })?;
        }
        if self.p2p_scatter_gather {
            write!(f, " p2p_scatter")?;
        }
        if self.cp_allgather && self.cp > 1 {
            write!(f, " cp_comm=allgather")?;
        }
        if let Some(g) = self.grad_dtype {
            write!(f, " grads={}", g.name())?;
        }
        match (self.embedding_in_split, self.loss_in_split) {
            (true, true) => write!(f, " split=embedding+loss"),
            (true, false) => write!(f, " split=embedding"),
            (false, true) => write!(f, " split=loss"),
            (false, false) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Llama 3 405B (Dubey et al. 2024, §3.3.2): 126 layers on 16 ranks × 8 chunks, the
    /// first chunk holding the embedding alone and the last the head and loss alone.
    #[test]
    fn embedding_and_loss_take_a_chunk_each() {
        let mut l = TrainLayout::default();
        assert_eq!(l.chunk_layers(126, 128), None);
        l.set_pipeline_split("embedding+loss").unwrap();
        let b = l.chunk_layers(126, 128).unwrap();
        assert_eq!(b[0], (0, 0));
        assert_eq!(b[127], (126, 126));
        assert!(b[1..127].iter().enumerate().all(|(i, &c)| c == (i, i + 1)));
    }

    #[test]
    fn the_cut_covers_every_layer_once() {
        for split in ["layers", "embedding", "loss", "embedding+loss"] {
            let mut l = TrainLayout::default();
            l.set_pipeline_split(split).unwrap();
            for (layers, chunks) in [(32u64, 4u64), (32, 34), (61, 16), (8, 8), (96, 96)] {
                let Some(b) = l.chunk_layers(layers, chunks) else {
                    continue;
                };
                assert_eq!(b.len() as u64, chunks);
                assert_eq!(b[0].0, 0);
                assert_eq!(b[b.len() - 1].1, layers as usize);
                assert!(b.windows(2).all(|w| w[0].1 == w[1].0 && w[0].0 <= w[0].1));
            }
        }
        // Counting the embedding moves a layer off the first chunk.
        let mut l = TrainLayout::default();
        assert_eq!(l.chunk_layers(32, 4).unwrap()[0], (0, 8));
        l.set_pipeline_split("embedding").unwrap();
        assert_eq!(l.chunk_layers(32, 4).unwrap()[0], (0, 7));
    }

    #[test]
    fn a_bad_split_is_named() {
        let mut l = TrainLayout::default();
        let e = l
            .set_pipeline_split("embedding+head")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("embedding+head") && e.contains("embedding+loss"),
            "{e}"
        );
    }
}
