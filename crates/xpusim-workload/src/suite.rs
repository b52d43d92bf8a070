//! The era suite: one or more workloads per era of AI models, each tagged with its era. It
//! is what `compare`, `cost`, `sweep` (without `[[workload]]`s) and `flip` run.
//!
//! Every workload runs at its zoo defaults, decode at [`SUITE_DECODE_BATCH`] sequences over
//! a [`crate::DEFAULT_CONTEXT`]-token context: a small-batch serving point where decode is
//! bound by weight streaming.

use serde::Serialize;
use xpusim_ir::Phase;

use crate::Request;

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

/// Decode batch of the era suite.
pub const SUITE_DECODE_BATCH: u64 = 8;

/// One workload of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SuiteWorkload {
    pub era: &'static str,
    /// A zoo model name.
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

    /// The workload as a request (every other option at the model's default).
    pub fn request(&self) -> Request {
        Request {
            phase: self.phase,
            batch: self.batch,
            ..Request::new(self.model)
        }
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

const D: Option<Phase> = Some(Phase::Decode);
const B: Option<u64> = Some(SUITE_DECODE_BATCH);
const P: Option<Phase> = Some(Phase::Prefill);

/// The era suite.
pub const ERA_SUITE: &[SuiteWorkload] = &[
    w("cnn", "resnet-50", None, None),
    w("cnn", "mobilenet-v2", None, None),
    w("rnn", "lstm-lm", None, None),
    w("rnn", "gnmt", None, None),
    w("rnn", "deepspeech2", None, None),
    w("encoder", "bert-base", None, None),
    w("encoder", "vit-b-16", None, None),
    w("llm-prefill", "llama-2-7b", P, None),
    w("llm-decode", "llama-2-7b", D, B),
    w("llm-decode", "llama-3-70b", D, B),
    w("moe", "mixtral-8x7b", D, B),
    w("ssm", "mamba-2.8b", P, None),
    w("ssm", "mamba-2.8b", D, B),
    w("diffusion", "sd-1.5-unet", None, Some(1)),
];

/// The era suite as a list.
pub fn era_suite() -> Vec<SuiteWorkload> {
    ERA_SUITE.to_vec()
}
