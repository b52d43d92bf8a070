//! How a training job is spread over devices and what it keeps in memory.

use std::fmt;

use serde::Serialize;

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
    /// Hidden and attention dropout as GPT-style Megatron-LM runs train
    /// ([`xpusim_ir::Graph::insert_dropout`]): their kernels, and their masks stored for
    /// the backward.
    #[serde(default)]
    pub dropout: bool,
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
            dropout: false,
        }
    }
}

impl TrainLayout {
    /// Devices the layout occupies.
    pub fn devices(&self) -> u64 {
        self.tp * self.pp * self.dp * self.cp
    }

    /// Replicas holding the same experts: the data-parallel group of the experts' state.
    pub fn expert_dp(&self) -> u64 {
        (self.dp * self.cp / self.ep.max(1)).max(1)
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
        Ok(())
    }
}
