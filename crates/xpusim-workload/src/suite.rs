//! The era suite: one or more workloads per era of AI models, each tagged with its era. It
//! is what `compare`, `cost`, `sweep` (without `[[workload]]`s) and `flip` run.
//!
//! Every workload runs at its zoo defaults, decode at [`SUITE_DECODE_BATCH`] sequences over
//! a [`crate::DEFAULT_CONTEXT`]-token context: a small-batch serving point where decode is
//! bound by weight streaming.
//!
//! The training suite ([`TRAINING_SUITE`], eras [`TRAINING_ERAS`]) is a separate list that
//! `flip` adds to the era suite: phase `train` workloads, each with its micro-batch and
//! sequence, priced by `xpusim-train`. `compare`, `cost` and `sweep` never run it.

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

/// Eras of the training suite, in the order reports list them (after [`ERAS`]).
pub const TRAINING_ERAS: &[&str] = &["cnn-train", "encoder-train", "llm-train"];

/// One workload of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SuiteWorkload {
    pub era: &'static str,
    /// A zoo model name.
    pub model: &'static str,
    pub phase: Option<Phase>,
    /// Samples per pass; for a training workload, the micro-batch of one device.
    pub batch: Option<u64>,
    /// Tokens per sample (the model's default when unset).
    pub seq: Option<u64>,
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
            seq: self.seq,
            ..Request::new(self.model)
        }
    }

    /// A training workload (phase `train`): one step is priced by `xpusim-train`.
    pub fn is_training(&self) -> bool {
        self.phase == Some(Phase::Train)
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
        seq: None,
    }
}

const fn train(
    era: &'static str,
    model: &'static str,
    batch: u64,
    seq: Option<u64>,
) -> SuiteWorkload {
    SuiteWorkload {
        era,
        model,
        phase: Some(Phase::Train),
        batch: Some(batch),
        seq,
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

/// The training suite: one workload per training era, `batch` = the micro-batch of one
/// device, `seq` = tokens per sample.
/// - `cnn-train`: ResNet-50 at 32 images per device (Goyal et al. 2017, "Accurate, Large
///   Minibatch SGD": 32 per GPU).
/// - `encoder-train`: BERT-Large at 512 tokens (the length of BERT's second pre-training
///   phase, Devlin et al. 2019), 8 sequences per micro-batch.
/// - `llm-train`: Llama 3 8B at 4096 tokens, one sequence per micro-batch. Its weights,
///   FP32 gradients and Adam state alone (16 bytes per parameter, 128 GB) exceed one 80 or
///   141 GB device: it trains on a system, or on a device counted several times over.
pub const TRAINING_SUITE: &[SuiteWorkload] = &[
    train("cnn-train", "resnet-50", 32, None),
    train("encoder-train", "bert-large", 8, Some(512)),
    train("llm-train", "llama-3-8b", 1, Some(4096)),
];

/// The training suite as a list.
pub fn training_suite() -> Vec<SuiteWorkload> {
    TRAINING_SUITE.to_vec()
}
