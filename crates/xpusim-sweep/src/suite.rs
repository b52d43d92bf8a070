//! Workloads a sweep evaluates every design point on.

use serde::Deserialize;
use xpusim_ir::{DType, Graph, Phase, Precision};

/// Decode batch of the era suite: 8 sequences with a 2048-token context, a small-batch
/// serving point where decode is bound by weight streaming (the CLI `run` example).
pub const SUITE_DECODE_BATCH: u64 = 8;

/// One workload of every era: CNN, RNN, Transformer encoder, LLM prefill and decode, MoE,
/// state-space model, as (model, phase, batch). Each runs at its zoo defaults, decode at
/// [`SUITE_DECODE_BATCH`] with a [`DEFAULT_CONTEXT`]-token context.
pub const ERA_SUITE: &[(&str, Option<Phase>, Option<u64>)] = &[
    ("resnet-50", None, None),
    ("mobilenet-v2", None, None),
    ("lstm-lm", None, None),
    ("gnmt", None, None),
    ("deepspeech2", None, None),
    ("bert-base", None, None),
    ("vit-b-16", None, None),
    ("llama-2-7b", Some(Phase::Prefill), None),
    ("llama-2-7b", Some(Phase::Decode), Some(SUITE_DECODE_BATCH)),
    ("llama-3-70b", Some(Phase::Decode), Some(SUITE_DECODE_BATCH)),
    (
        "mixtral-8x7b",
        Some(Phase::Decode),
        Some(SUITE_DECODE_BATCH),
    ),
    ("mamba-2.8b", Some(Phase::Prefill), None),
    ("mamba-2.8b", Some(Phase::Decode), Some(SUITE_DECODE_BATCH)),
];

/// KV-cache length for decode when none is given (the CLI's default context).
pub const DEFAULT_CONTEXT: u64 = 2048;

/// A workload as written in a sweep spec (`[[workload]]`); unset fields take the zoo's
/// defaults, precision the device's natural 16-bit format.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    pub model: String,
    pub phase: Option<String>,
    pub batch: Option<u64>,
    pub seq: Option<u64>,
    pub context: Option<u64>,
    pub precision: Option<String>,
}

impl WorkloadSpec {
    /// The era suite as workload specs.
    pub fn era_suite() -> Vec<WorkloadSpec> {
        ERA_SUITE
            .iter()
            .map(|(m, p, b)| WorkloadSpec {
                model: m.to_string(),
                phase: p.map(|p| p.name().to_string()),
                batch: *b,
                ..Default::default()
            })
            .collect()
    }

    /// Builds the graph for a device whose natural 16-bit format is `natural`.
    pub fn build(&self, natural: DType) -> Result<Graph, String> {
        let info = xpusim_models::find(&self.model).ok_or_else(|| {
            let s = xpusim_models::suggestions(&self.model);
            if s.is_empty() {
                "unknown model".to_string()
            } else {
                format!("unknown model; did you mean {}?", s.join(", "))
            }
        })?;
        let phase = match self.phase.as_deref() {
            None => info.phases[0],
            Some("inference") => Phase::Inference,
            Some("prefill") => Phase::Prefill,
            Some("decode") => Phase::Decode,
            Some(p) => {
                return Err(format!(
                    "unknown phase `{p}` (expected inference, prefill or decode)"
                ))
            }
        };
        let precision = match &self.precision {
            Some(p) => Precision::parse(p, natural).map_err(|e| e.to_string())?,
            None => Precision::uniform(natural),
        };
        let zero = |what: &str, v: Option<u64>| match v {
            Some(0) => Err(format!("{what} must be at least 1")),
            _ => Ok(()),
        };
        zero("batch", self.batch)?;
        zero("seq", self.seq)?;
        zero("context", self.context)?;
        let w = xpusim_models::Workload {
            phase,
            batch: self.batch.unwrap_or(info.default_batch),
            seq_len: self.seq.unwrap_or(info.default_seq_len),
            context: self.context.unwrap_or(DEFAULT_CONTEXT),
            precision,
            image_size: None,
        };
        xpusim_models::build(info.name, &w).map_err(|e| e.to_string())
    }
}

/// Column label of a built workload: `model:phase:bN`.
pub fn label(g: &Graph) -> String {
    format!("{}:{}:b{}", g.name, g.phase.name(), g.batch)
}
