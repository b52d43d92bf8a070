//! Training rows (phase `train`): one optimizer step of a published training run, priced by
//! [`xpusim_train::step`] on the row's hardware with the row's layout.
//!
//! `parallelism` is a list of `key=value`: `tp`, `pp`, `dp`, `cp` (context), `ep` (expert),
//! `sp=on|off` (Megatron sequence parallelism), `zero=0..3`, `recompute=none|selective|full`,
//! `schedule=1f1b|gpipe|interleaved:V`, `micro` (samples per micro-batch),
//! `overlap_dp=on|off` (whether the data-parallel gradient reduction overlaps the backward,
//! for a row whose source says it does not), `split=embedding|loss|embedding+loss` (the
//! embedding or the loss counted as a layer when the layers are cut into pipeline chunks, as
//! Megatron-Core's `--account-for-*-in-pipeline-split` and Llama 3 do), `shard=N` (hybrid
//! sharding: ZeRO state partitioned over groups of N data-parallel ranks, replicated across
//! the groups), `bn_group=N` (BatchNorm statistics synchronised over groups of N
//! data-parallel ranks), `tp_overlap=on|off` (tensor-parallel communication overlapped
//! with its GEMMs), `p2p_overlap=on|off` (pipeline sends beside compute, or holding their
//! device; unstated: overlapped under the interleaved schedule only, Megatron-Core's rule),
//! `p2p_scatter=on|off` (Megatron-LM's scatter-gather of pipeline sends),
//! `cp_comm=ring|allgather` (context parallelism as Transformer Engine's ring of steps, the
//! default, or by gathering K and V first as Llama 3 does),
//! `grads=fp32|bf16|fp16` (the format gradients accumulate and reduce in; unstated: FP32) and
//! `loss=fused|unfused` (`unfused`: Megatron-LM's default FP32 cross-entropy as its eager
//! kernels, `xpusim_ir::vocab_loss`). An unknown or
//! repeated key, or a value out of range, is the row's skip reason naming the row and the
//! key: nothing is ignored. What a row leaves unstated takes the plain meaning, never a
//! tuned one: tp = pp = cp = ep = 1, dp = devices / (tp·pp·cp), no sequence parallelism,
//! ZeRO 0 (plain data parallelism: every replica holds its optimizer state), no
//! recomputation, the 1F1B schedule and one sample per micro-batch; the data-parallel
//! gradient reduction overlaps the backward (xpusim-train's default, as PyTorch DDP and
//! Megatron-LM bucket it). The layout must occupy exactly the row's `devices`.
//!
//! The row's `hardware` is a system (preset or file), whose device count becomes the row's
//! `devices` (whole nodes), or a single device for a one-device row. `batch` is the global
//! batch in samples: a row that leaves it empty is skipped, never given one. `seq_in` is the
//! sequence length (empty: the model's own); `attention = unfused` builds the run's
//! attention as the three kernels stacks ran before FlashAttention. A layout that does not
//! fit in our memory model is still predicted and flagged.
//!
//! Metrics: `step_time_s`, `samples_per_s`, `tokens_per_s`, `time_to_train_min` (only with
//! the run's budget in a `train_samples` column: MLPerf's time to train depends on how many
//! samples reach the quality target, which no throughput model knows), and the FLOP-count
//! metrics `mfu` and `tflops_per_device` under the row's [`FlopsConvention`].

use std::collections::BTreeMap;

use serde::Serialize;
use xpusim_hw::{DeviceSpec, System};
use xpusim_ir::{DType, Graph, OpKind, Phase, Precision};
use xpusim_target::Target;
use xpusim_train::{Recompute, Schedule, TrainCost, TrainError, TrainLayout};

use crate::data::Row;

/// Keys a training row's `parallelism` may use.
pub const KEYS: [&str; 20] = [
    "tp",
    "pp",
    "dp",
    "cp",
    "ep",
    "sp",
    "zero",
    "recompute",
    "schedule",
    "micro",
    "overlap_dp",
    "split",
    "shard",
    "bn_group",
    "tp_overlap",
    "loss",
    "p2p_overlap",
    "p2p_scatter",
    "grads",
    "cp_comm",
];

/// Metrics of a training row and their units.
pub const METRICS: [(&str, &str); 6] = [
    ("step_time_s", "s"),
    ("samples_per_s", "samples/s"),
    ("tokens_per_s", "tokens/s"),
    ("tflops_per_device", "TFLOPS"),
    ("mfu", "fraction"),
    ("time_to_train_min", "min"),
];

const GIB: f64 = (1u64 << 30) as f64;

/// What a source's FLOP count (the numerator of its MFU or TFLOP/s) holds; column
/// `flops_convention` of a training row, one value per source (docs/training-sources.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FlopsConvention {
    /// Model FLOPs: forward + backward = 3 × the forward, no recomputation, attention scores
    /// counted causally (the lower triangle), as [`TrainCost::model_flops`] counts them
    /// (Llama 3, DeepSeek-V3's "causal" MFU).
    Model,
    /// Model FLOPs with every causal attention's scores counted over the full s×s matrix
    /// (Korthikanti et al. 2022's 72·B·s·l·h²·(1 + s/6h + V/12lh), PaLM App. B's
    /// 6N + 12·L·H·Q·T, DeepSeek-V3's "non-causal" MFU).
    ModelNoncausal,
    /// Hardware FLOPs: what the devices execute, recomputation included (Narayanan et al.
    /// 2021 Eq. 3, BLOOM's "hardware TFLOPs", MT-NLG). Compared with
    /// [`TrainCost::hardware_flops`]: the forward, the backward as built (with
    /// FlashAttention's recomputed scores), the recomputed forward and the optimizer; an
    /// `mfu` row under this convention is HFU.
    Hardware,
}

impl FlopsConvention {
    pub fn parse(s: &str) -> Option<FlopsConvention> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "model" => FlopsConvention::Model,
            "model-noncausal" => FlopsConvention::ModelNoncausal,
            "hardware" => FlopsConvention::Hardware,
            _ => return None,
        })
    }

    pub fn expected(got: &str) -> String {
        format!("expected `model`, `model-noncausal` or `hardware`, got `{got}`")
    }

    pub fn label(self) -> &'static str {
        match self {
            FlopsConvention::Model => "model",
            FlopsConvention::ModelNoncausal => "model-noncausal",
            FlopsConvention::Hardware => "hardware",
        }
    }
}

/// Which tokens a source's `tokens_per_s` counts; column `tokens_counted` (empty: the
/// model's tokens per sample, its sequence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TokensCounted {
    /// An encoder–decoder source that counts source plus target tokens (NVIDIA's GNMT
    /// README). The zoo's translation models turn `seq_len` source tokens into `seq_len`
    /// target tokens, so a sample counts twice its sequence.
    SourceTarget,
}

impl TokensCounted {
    pub fn parse(s: &str) -> Option<TokensCounted> {
        match s.trim().to_ascii_lowercase().as_str() {
            "source+target" => Some(TokensCounted::SourceTarget),
            _ => None,
        }
    }

    pub fn expected(got: &str) -> String {
        format!("expected `source+target` (or empty), got `{got}`")
    }

    /// Tokens the source counts per token of the model's sequence.
    fn factor(self) -> f64 {
        match self {
            TokensCounted::SourceTarget => 2.0,
        }
    }
}

/// How a run computed attention; column `attention` of a training row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Attention {
    /// One fused kernel that keeps the scores on chip (FlashAttention): the zoo's own.
    #[default]
    Fused,
    /// QKᵀ, softmax and PV as three kernels writing the `s × s` scores to memory and
    /// computing every score, masked or not ([`xpusim_ir::Graph::unfuse_attention`]):
    /// Megatron-LM and the other stacks before FlashAttention (2022).
    Unfused,
}

impl Attention {
    pub fn parse(s: &str) -> Option<Attention> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fused" => Some(Attention::Fused),
            "unfused" => Some(Attention::Unfused),
            _ => None,
        }
    }

    pub fn expected(got: &str) -> String {
        format!("expected `fused` or `unfused`, got `{got}`")
    }
}

/// One priced training step and what the FLOP conventions need beside it.
#[derive(Debug, Clone)]
pub struct Step {
    pub cost: TrainCost,
    /// Model FLOPs per step, attention scores counted causally: 3 × the forward of the
    /// model (fused attention, however the run computed it) × micro-batches per step.
    pub model_flops: f64,
    /// The same with every causal attention's scores counted over the full s×s matrix.
    pub model_flops_noncausal: f64,
}

/// The unit of a training metric.
pub fn expected_unit(metric: &str) -> Option<&'static str> {
    METRICS.iter().find(|m| m.0 == metric).map(|m| m.1)
}

/// The layout a training row states, with the defaults in the module doc.
pub fn layout(row: &Row) -> Result<TrainLayout, String> {
    let id = &row.id;
    let mut kv: BTreeMap<&str, &str> = BTreeMap::new();
    for item in row
        .parallelism
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let (k, v) = item.split_once('=').ok_or_else(|| {
            format!(
                "row `{id}`: parallelism `{item}` is not key=value (training rows take {})",
                KEYS.join(", ")
            )
        })?;
        let (k, v) = (k.trim(), v.trim());
        if !KEYS.contains(&k) {
            return Err(format!(
                "row `{id}`: unknown parallelism key `{k}` (training rows take {})",
                KEYS.join(", ")
            ));
        }
        if kv.insert(k, v).is_some() {
            return Err(format!("row `{id}`: parallelism key `{k}` given twice"));
        }
    }
    let bad = |k: &str, v: &str, want: &str| {
        format!("row `{id}`: parallelism `{k}={v}`: expected {want}")
    };
    let count = |k: &str| -> Result<Option<u64>, String> {
        kv.get(k)
            .map(|v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| bad(k, v, "a whole number ≥ 1"))
            })
            .transpose()
    };
    let switch = |k: &str| -> Result<Option<bool>, String> {
        match kv.get(k).copied() {
            None => Ok(None),
            Some("on") => Ok(Some(true)),
            Some("off") => Ok(Some(false)),
            Some(v) => Err(bad(k, v, "on or off")),
        }
    };
    let tp = count("tp")?.unwrap_or(1);
    let pp = count("pp")?.unwrap_or(1);
    let cp = count("cp")?.unwrap_or(1);
    let ep = count("ep")?.unwrap_or(1);
    let micro = count("micro")?.unwrap_or(1);
    let per = tp * pp * cp;
    let dp = match count("dp")? {
        Some(d) => d,
        None if row.devices.is_multiple_of(per) => row.devices / per,
        None => {
            return Err(format!(
                "row `{id}`: tp·pp·cp = {per} does not divide the row's {} devices",
                row.devices
            ))
        }
    };
    if per * dp != row.devices {
        return Err(format!(
            "row `{id}`: tp·pp·dp·cp = {} but the row has {} devices",
            per * dp,
            row.devices
        ));
    }
    let sp = switch("sp")?.unwrap_or(false);
    let overlap_dp = switch("overlap_dp")?.unwrap_or(true);
    let zero = match kv.get("zero").copied() {
        None => 0,
        Some(v) => v
            .parse::<u8>()
            .ok()
            .filter(|z| *z <= 3)
            .ok_or_else(|| bad("zero", v, "a ZeRO stage 0–3"))?,
    };
    let recompute = match kv.get("recompute").copied() {
        None => Recompute::None,
        Some(v) => {
            Recompute::parse(v).map_err(|_| bad("recompute", v, "none, selective or full"))?
        }
    };
    let schedule = match kv.get("schedule").copied() {
        None => Schedule::OneFOneB,
        Some(v) => Schedule::parse(v)?,
    };
    let mut l = TrainLayout {
        tp,
        pp,
        dp,
        ep,
        cp,
        sp,
        schedule,
        micro_batch: micro,
        global_batch: row.batch,
        zero,
        recompute,
        overlap_dp,
        unfused_attention: row.attention == Attention::Unfused,
        dropout: row.dropout.is_some_and(|p| p > 0.0),
        ..TrainLayout::default()
    };
    l.shard_group = count("shard")?;
    l.bn_group = count("bn_group")?;
    l.tp_comm_overlap = switch("tp_overlap")?.unwrap_or(false);
    l.p2p_overlap = switch("p2p_overlap")?;
    l.p2p_scatter_gather = switch("p2p_scatter")?.unwrap_or(false);
    l.cp_allgather = match kv.get("cp_comm").copied() {
        None | Some("ring") => false,
        Some("allgather") => true,
        Some(v) => return Err(bad("cp_comm", v, "ring or allgather")),
    };
    l.grad_dtype = kv
        .get("grads")
        .map(|v| {
            DType::parse(v)
                .ok()
                .filter(|d| matches!(d, DType::Fp32 | DType::Bf16 | DType::Fp16))
                .ok_or_else(|| bad("grads", v, "fp32, bf16 or fp16"))
        })
        .transpose()?;
    l.unfused_loss = match kv.get("loss").copied() {
        None | Some("fused") => false,
        Some("unfused") => true,
        Some(v) => return Err(bad("loss", v, "fused or unfused")),
    };
    if let Some(v) = kv.get("split") {
        l.set_pipeline_split(v)
            .map_err(|_| bad("split", v, "embedding, loss or embedding+loss"))?;
    }
    Ok(l)
}

/// The target a training row runs on: its system with `devices` devices (device `dev`, as
/// the predictor resolved it), or its single device.
pub fn target(row: &Row, dev: &DeviceSpec) -> Result<Target, String> {
    let sys: Option<System> = match xpusim_hw::load_system(&row.hardware) {
        Ok(s) => Some(s),
        Err(_) if row.devices == 1 => None,
        Err(_) => Some(
            xpusim_hw::registry::systems()
                .map_err(|e| e.to_string())?
                .into_iter()
                .find(|s| s.device.name == dev.name)
                .ok_or_else(|| {
                    format!(
                        "no system preset of {}; give a system preset or TOML as hardware for \
                         {} devices",
                        dev.name, row.devices
                    )
                })?,
        ),
    };
    let Some(mut sys) = sys else {
        let mut t = Target::device(dev.clone());
        t.runtime = row.runtime.clone();
        return Ok(t);
    };
    let per_node = sys.spec.devices_per_node.max(1);
    if !row.devices.is_multiple_of(per_node) {
        return Err(format!(
            "system `{}` has {per_node} devices per node; {} devices are not whole nodes",
            sys.spec.name, row.devices
        ));
    }
    sys.device = dev.clone();
    sys.spec.count = row.devices;
    let mut t = Target::system(sys);
    t.runtime = row.runtime.clone();
    Ok(t)
}

/// Prices the step a training row describes.
pub fn step(row: &Row, dev: &DeviceSpec) -> Result<Step, String> {
    if !row.batch_given {
        return Err(
            "the source does not state the global batch (column `batch` is empty); a training \
             step is not predicted without one"
                .into(),
        );
    }
    let l = layout(row)?;
    let t = target(row, dev)?;
    let p = Precision::parse(&row.precision, dev.natural_dtype).map_err(|e| e.to_string())?;
    let fused = xpusim_workload::Request {
        phase: Some(Phase::Train),
        ..xpusim_workload::Request::new(&row.workload)
    };
    // The run's attention kernels and dropout are the layout's (xpusim-train applies them
    // after counting the model's FLOPs); the graph is the model's own.
    let base = fused.clone();
    let seq = if row.seq_in > 0 {
        row.seq_in
    } else {
        // The model's own sequence: one build at batch 1 tells.
        base.graph_at(p)
            .map_err(|e| e.to_string())?
            .tokens_per_sample
            .max(1)
    };
    let build = |mb: u64, s: u64| -> Result<Graph, TrainError> {
        let r = xpusim_workload::Request {
            batch: Some(mb),
            seq: Some(s),
            ..base.clone()
        };
        r.graph_at(p)
            .map_err(|e| TrainError::Build(format!("model `{}`: {e}", row.workload)))
    };
    let cost = xpusim_train::step(&build, seq, &t, &l).map_err(|e| e.to_string())?;
    // Model FLOPs are the model's, not the run's: the fused forward of one micro-batch over
    // the whole sequence (causal scores, then every score), × 3 (forward + backward) per
    // micro-batch of the step.
    let g = xpusim_workload::Request {
        batch: Some(l.micro_batch),
        seq: Some(seq),
        ..fused
    }
    .graph_at(p)
    .map_err(|e| e.to_string())?;
    let mut full = g.clone();
    for op in &mut full.ops {
        if let OpKind::Attention(a) = &mut op.kind {
            a.causal = false;
        }
    }
    let per_step = 3.0 * (l.global_batch / l.micro_batch) as f64;
    Ok(Step {
        model_flops: g.totals().flops as f64 * per_step,
        model_flops_noncausal: full.totals().flops as f64 * per_step,
        cost,
    })
}

/// The FLOPs per step a convention counts.
pub fn flops(s: &Step, c: FlopsConvention) -> f64 {
    match c {
        FlopsConvention::Model => s.model_flops,
        FlopsConvention::ModelNoncausal => s.model_flops_noncausal,
        FlopsConvention::Hardware => s.cost.hardware_flops,
    }
}

/// Checks a training row's metric, unit and what the metric needs, before any pricing.
pub fn check_metric(row: &Row) -> Result<(), String> {
    let m = row.metric.as_str();
    let unit = expected_unit(m).ok_or_else(|| {
        format!(
            "unsupported training metric `{m}` (expected {})",
            METRICS.map(|m| m.0).join(", ")
        )
    })?;
    if !row.unit.eq_ignore_ascii_case(unit) {
        return Err(format!(
            "unit `{}` does not match metric `{m}` (expected `{unit}`)",
            row.unit
        ));
    }
    if m == "time_to_train_min" && budget(row)?.is_none() {
        return Err(
            "time to train depends on the samples the run needed to reach its quality target \
             (convergence), which the row does not give (column `train_samples`); not predicted"
                .into(),
        );
    }
    Ok(())
}

/// The run's sample budget, column `train_samples`.
fn budget(row: &Row) -> Result<Option<f64>, String> {
    match row.extra.get("train_samples").map(|s| s.trim()) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(Some)
            .ok_or_else(|| {
                format!("column `train_samples`: expected a positive number, got `{s}`")
            }),
    }
}

/// The row's metric from a priced step.
pub fn metric(row: &Row, s: &Step) -> Result<f64, String> {
    let c = &s.cost;
    let t = c.step_time_s;
    let n = c.devices as f64;
    let conv = || {
        row.flops_convention.ok_or_else(|| {
            format!(
                "metric `{}` counts FLOPs, and the row does not say how its source counts them \
                 (column `flops_convention`: model, model-noncausal or hardware)",
                row.metric
            )
        })
    };
    Ok(match row.metric.as_str() {
        "step_time_s" => t,
        "samples_per_s" => c.samples_per_s,
        "tokens_per_s" => c.tokens_per_s * row.tokens_counted.map_or(1.0, |k| k.factor()),
        "tflops_per_device" => flops(s, conv()?) / (t * n) / 1e12,
        "mfu" => flops(s, conv()?) / (t * n * c.peak_tflops * 1e12),
        "time_to_train_min" => match budget(row)? {
            Some(b) => b / c.samples_per_s / 60.0,
            None => return Err("no `train_samples` budget".into()),
        },
        m => return Err(format!("unsupported training metric `{m}`")),
    })
}

/// What a row's output says beside its number: a layout that does not fit our memory model.
pub fn flags(s: &Step) -> Vec<String> {
    let m = &s.cost.memory;
    if s.cost.fits {
        return Vec::new();
    }
    vec![format!(
        "does not fit in our memory model: {:.1} GiB of {:.1} GiB per device (stage {}: \
         weights {:.1}, gradients {:.1}, optimizer {:.1}, activations {:.1}, temporary {:.1} GiB)",
        m.total_bytes as f64 / GIB,
        m.capacity_bytes as f64 / GIB,
        m.stage,
        m.weights_bytes as f64 / GIB,
        m.gradients_bytes as f64 / GIB,
        m.optimizer_bytes as f64 / GIB,
        m.activations_bytes as f64 / GIB,
        m.temporary_bytes as f64 / GIB,
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "id,hardware,devices,parallelism,precision,workload,phase,batch,seq_in,seq_out,metric,value,unit,source,flops_convention,tokens_counted,attention";

    fn row(cells: &str) -> Row {
        crate::parse("t.csv", &format!("{HEAD}\n{cells}\n"))
            .unwrap()
            .remove(0)
    }

    fn predict(r: &Row) -> Result<crate::Prediction, String> {
        crate::Predictor::default().predict(r)
    }

    #[test]
    fn layout_reads_every_key_and_defaults_plainly() {
        let r = row("r,dgx-a100,64,\"tp=8,pp=4,sp=on,zero=1,recompute=selective,schedule=interleaved:2,micro=2,cp=1,ep=1\",bf16,gpt3-175b,train,64,2048,,step_time_s,1,s,x,,,");
        let l = layout(&r).unwrap();
        assert_eq!((l.tp, l.pp, l.dp, l.cp, l.ep), (8, 4, 2, 1, 1));
        assert!(l.sp);
        assert_eq!((l.zero, l.micro_batch, l.global_batch), (1, 2, 64));
        assert_eq!(l.recompute, Recompute::Selective);
        assert_eq!(l.schedule, Schedule::Interleaved(2));
        let plain = layout(&row(
            "r,dgx-a100,16,tp=8,bf16,gpt3-175b,train,64,2048,,step_time_s,1,s,x,,,",
        ))
        .unwrap();
        assert_eq!(
            (plain.pp, plain.dp, plain.zero, plain.micro_batch),
            (1, 2, 0, 1)
        );
        assert!(!plain.sp);
        assert_eq!(plain.recompute, Recompute::None);
        assert_eq!(plain.schedule, Schedule::OneFOneB);
        assert!(plain.overlap_dp);
        let serial = layout(&row(
            "r,dgx-a100,16,\"dp=16,overlap_dp=off\",fp16,resnet-50,train,64,,,step_time_s,1,s,x,,,",
        ))
        .unwrap();
        assert!(!serial.overlap_dp);
        assert!(!plain.embedding_in_split && !plain.loss_in_split);
        let split = layout(&row(
            "r,dgx-h100,64,\"tp=8,pp=8,split=embedding+loss\",bf16,llama-3.1-405b,train,64,,,step_time_s,1,s,x,,,",
        ))
        .unwrap();
        assert!(split.embedding_in_split && split.loss_in_split);
        let groups = layout(&row(
            "r,dgx-a100,64,\"dp=64,zero=1,shard=8,bn_group=2\",fp16,resnet-50,train,64,,,step_time_s,1,s,x,,,",
        ))
        .unwrap();
        assert_eq!((groups.shard_group, groups.bn_group), (Some(8), Some(2)));
        assert_eq!((plain.shard_group, plain.bn_group), (None, None));
    }

    #[test]
    fn a_reduction_after_the_backward_is_never_faster() {
        let at = |o: &str| {
            predict(&row(&format!(
                "r,dgx-a100,64,\"dp=64,micro=64,overlap_dp={o}\",fp16,resnet-50,train,4096,,,step_time_s,1,s,x,,,"
            )))
            .unwrap()
            .value
        };
        assert!(at("off") > at("on"), "{} vs {}", at("off"), at("on"));
    }

    #[test]
    fn unknown_repeated_or_bad_keys_name_the_row_and_key() {
        for (par, want) in [
            (
                "\"tp=8,mirco=2\"",
                "row `r`: unknown parallelism key `mirco`",
            ),
            ("\"tp=8,tp=4\"", "row `r`: parallelism key `tp` given twice"),
            ("\"tp=8,sp\"", "row `r`: parallelism `sp` is not key=value"),
            ("\"tp=8,zero=4\"", "row `r`: parallelism `zero=4`"),
            (
                "\"tp=8,split=head\"",
                "row `r`: parallelism `split=head`: expected embedding, loss or embedding+loss",
            ),
            (
                "\"tp=8,overlap_dp=maybe\"",
                "row `r`: parallelism `overlap_dp=maybe`: expected on or off",
            ),
            (
                "\"tp=8,p2p_overlap=async\"",
                "row `r`: parallelism `p2p_overlap=async`: expected on or off",
            ),
            (
                "\"tp=8,grads=fp8\"",
                "row `r`: parallelism `grads=fp8`: expected fp32, bf16 or fp16",
            ),
            (
                "\"tp=8,cp_comm=a2a\"",
                "row `r`: parallelism `cp_comm=a2a`: expected ring or allgather",
            ),
            (
                "\"tp=8,pp=2,dp=2\"",
                "row `r`: tp·pp·dp·cp = 32 but the row has 64 devices",
            ),
            (
                "\"tp=8,schedule=zb-v\"",
                "pipeline schedule `zb-v` is not modelled",
            ),
            (
                "\"tp=8,schedule=dualpipe\"",
                "DualPipe needs an even number of pipeline stages",
            ),
        ] {
            let r = row(&format!(
                "r,dgx-a100,64,{par},bf16,gpt3-175b,train,64,2048,,step_time_s,1,s,x,,,"
            ));
            let e = predict(&r).unwrap_err();
            assert!(e.contains(want), "{par}: {e}");
        }
    }

    #[test]
    fn what_a_row_does_not_give_is_a_skip_reason_never_a_default() {
        let no_batch = row("r,dgx-a100,8,tp=8,bf16,llama-2-7b,train,,1024,,step_time_s,1,s,x,,,");
        assert!(predict(&no_batch).unwrap_err().contains("global batch"));
        let no_budget =
            row("r,dgx-a100,8,dp=8,bf16,resnet-50,train,64,,,time_to_train_min,1,min,x,,,");
        assert!(predict(&no_budget).unwrap_err().contains("train_samples"));
        let no_conv = row("r,dgx-a100,8,tp=8,bf16,llama-2-7b,train,8,1024,,mfu,0.4,fraction,x,,,");
        assert!(predict(&no_conv).unwrap_err().contains("flops_convention"));
        let bad_unit = row("r,dgx-a100,8,tp=8,bf16,llama-2-7b,train,8,1024,,mfu,40,%,x,model,,");
        assert!(predict(&bad_unit).unwrap_err().contains("unit `%`"));
        let e = crate::parse(
            "t.csv",
            &format!("{HEAD}\nr,dgx-a100,8,tp=8,bf16,llama-2-7b,train,8,1024,,mfu,0.4,fraction,x,hfu,,\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("t.csv:2: column `flops_convention`"), "{e}");
    }

    #[test]
    fn a_budget_gives_the_time_to_train() {
        let text = format!(
            "{HEAD},train_samples\nr,dgx-a100,8,\"dp=8,micro=8\",fp16,resnet-50,train,64,,,time_to_train_min,1,min,x,,,,1e6\nr2,dgx-a100,8,\"dp=8,micro=8\",fp16,resnet-50,train,64,,,samples_per_s,1,samples/s,x,,,,\n"
        );
        let rows = crate::parse("t.csv", &text).unwrap();
        let mut p = crate::Predictor::default();
        let minutes = p.predict(&rows[0]).unwrap().value;
        let rate = p.predict(&rows[1]).unwrap().value;
        assert!((minutes - 1e6 / rate / 60.0).abs() < 1e-9 * minutes);
    }

    #[test]
    fn flop_conventions_count_as_their_sources_define() {
        let cells = |metric: &str, unit: &str, conv: &str| {
            row(&format!(
                "r,dgx-a100,8,\"tp=8,sp=on,recompute=full\",bf16,llama-2-7b,train,8,2048,,{metric},1,{unit},x,{conv},,"
            ))
        };
        let r = cells("mfu", "fraction", "model");
        let dev = crate::Predictor::default().device("dgx-a100").unwrap();
        let s = step(&r, &dev).unwrap();
        let c = &s.cost;
        // A fused run at cp = 1: the model convention is the train crate's own MFU.
        assert!((predict(&r).unwrap().value - c.mfu).abs() < 1e-9 * c.mfu);
        let hfu = predict(&cells("mfu", "fraction", "hardware"))
            .unwrap()
            .value;
        assert!((hfu - c.hfu).abs() < 1e-9 * c.hfu);
        // Full recomputation runs the forward again: HFU ≈ 4/3 MFU.
        assert!(hfu / c.mfu > 1.30 && hfu / c.mfu < 1.40, "{}", hfu / c.mfu);
        // Every score of the s × s matrix instead of the causal half: more, by the scores.
        let nc = predict(&cells("mfu", "fraction", "model-noncausal"))
            .unwrap()
            .value;
        assert!(nc > c.mfu && nc < 1.1 * c.mfu, "{nc} vs {}", c.mfu);
        let tf = predict(&cells("tflops_per_device", "TFLOPS", "model"))
            .unwrap()
            .value;
        assert!((tf - c.tflops_per_device).abs() < 1e-9 * tf);
        let t = predict(&cells("step_time_s", "s", "")).unwrap().value;
        assert_eq!(t, c.step_time_s);
    }
}
