//! The era suite: one or more workloads per era of AI models, each tagged with its era.
//!
//! The workloads are the CLI's era suite (`xpusim compare`, `xpusim_sweep::ERA_SUITE`,
//! checked by a test to stay in step) plus a Stable-Diffusion UNet step for the diffusion
//! era. Decode runs 8 sequences over a 2048-token context (the suite's serving point).

use xpusim_hw::DeviceSpec;
use xpusim_ir::{Graph, Phase, Precision};
use xpusim_models::Workload;

use crate::{diffusion, FlipError};

/// Eras in the order reports list them.
pub const ERAS: &[&str] = &[
    "cnn",
    "rnn",
    "encoder",
    "llm-prefill",
    "llm-decode",
    "moe",
    "ssm",
    "diffusion",
];

/// Decode batch and KV context of the era suite (as `xpusim compare`).
pub const SUITE_DECODE_BATCH: u64 = 8;
pub const SUITE_CONTEXT: u64 = 2048;

/// One workload of the suite.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteWorkload {
    pub era: &'static str,
    /// Zoo model name, or [`diffusion::NAME`].
    pub model: &'static str,
    pub phase: Option<Phase>,
    pub batch: Option<u64>,
}

impl SuiteWorkload {
    pub fn label(&self) -> String {
        match self.phase {
            Some(p) => format!("{} {}", self.model, p.name()),
            None => self.model.to_string(),
        }
    }

    /// The graph for a device, in the device's natural 16-bit format.
    pub fn build(&self, dev: &DeviceSpec) -> Result<Graph, FlipError> {
        let err = |msg: String| FlipError::Workload {
            workload: self.label(),
            msg,
        };
        if self.model == diffusion::NAME {
            return diffusion::unet_step(self.batch.unwrap_or(1), dev.natural_dtype)
                .map_err(|e| err(e.to_string()));
        }
        let info = xpusim_models::find(self.model).ok_or_else(|| err("unknown model".into()))?;
        let phase = self.phase.unwrap_or(info.phases[0]);
        let w = Workload {
            phase,
            batch: self.batch.unwrap_or(info.default_batch),
            seq_len: info.default_seq_len,
            context: SUITE_CONTEXT,
            precision: Precision::uniform(dev.natural_dtype),
            image_size: None,
        };
        xpusim_models::build(info.name, &w).map_err(|e| err(e.to_string()))
    }
}

const fn w(
    era: &'static str,
    model: &'static str,
    phase: Option<Phase>,
    batch: Option<u64>,
) -> SuiteWorkload {
    SuiteWorkload {
        era,
        model,
        phase,
        batch,
    }
}

/// The default suite.
pub fn era_suite() -> Vec<SuiteWorkload> {
    let d = Some(Phase::Decode);
    let b = Some(SUITE_DECODE_BATCH);
    vec![
        w("cnn", "resnet-50", None, None),
        w("cnn", "mobilenet-v2", None, None),
        w("rnn", "lstm-lm", None, None),
        w("rnn", "gnmt", None, None),
        w("rnn", "deepspeech2", None, None),
        w("encoder", "bert-base", None, None),
        w("encoder", "vit-b-16", None, None),
        w("llm-prefill", "llama-2-7b", Some(Phase::Prefill), None),
        w("llm-decode", "llama-2-7b", d, b),
        w("llm-decode", "llama-3-70b", d, b),
        w("moe", "mixtral-8x7b", d, b),
        w("ssm", "mamba-2.8b", Some(Phase::Prefill), None),
        w("ssm", "mamba-2.8b", d, b),
        w("diffusion", diffusion::NAME, None, Some(1)),
    ]
}
