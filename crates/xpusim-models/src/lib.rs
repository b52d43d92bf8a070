//! xpusim model zoo: the built-in models as parameterised builders lowered to the
//! workload IR ([`xpusim_ir::Graph`]).
//!
//! - [`catalog`] lists every built-in model with its provenance; [`find`] resolves a name
//!   or alias (case-insensitive); [`build`] lowers a model for a [`Workload`].
//! - The builders are generic: [`cnn`] (conv/BN/ReLU/pool blocks), [`rnn`] (LSTM/GRU
//!   stacks), [`transformer`] (one [`TransformerConfig`] for decoder-only, encoder-only,
//!   encoder–decoder, MoE, MLA and Mamba hybrids), [`ssm`] (Mamba mixers) and [`diffusion`]
//!   (the Stable-Diffusion-1.5 UNet step). [`zoo`]
//!   instantiates the named models from their papers and model cards.
//!
//! Graph conventions: decoders in [`Phase::Prefill`] process `batch × seq_len` tokens with
//! causal attention over `seq_len` and append K/V to the cache; in [`Phase::Decode`] they
//! process `batch` tokens attending over `context + 1` positions read as
//! [`xpusim_ir::Role::KvCache`]. The LM head runs on the last token only. Identical layers
//! are one op with `repeat = layers`.
//!
//! [`Phase::Train`] is the forward of one training micro-batch, and every model has it
//! ([`catalog`] lists it last): decoders process all `seq_len` tokens of each sequence with
//! causal attention over K/V computed as [`xpusim_ir::Role::Input`] (no KV cache, no
//! append), run the LM head over every token and end in a cross-entropy loss over the
//! logits ([`xpusim_ir::OpKind::Loss`]); encoders, ViT, Mamba, CNNs (over the classifier
//! logits) and RNNs (in place of their output softmax) run their inference forward plus a
//! loss, the SD UNet the MSE on its predicted noise. `tokens_per_sample` is `seq_len` for
//! sequence models and 1 for image models. Convolution epilogues fuse as in inference. The
//! backward pass is derived from this graph by [`xpusim_ir::autodiff::backward`].

mod attention;
mod blocks;
pub mod cnn;
mod common;
pub mod diffusion;
pub mod rnn;
pub mod ssm;
pub mod transformer;
pub mod zoo;

use serde::Serialize;
use thiserror::Error;
use xpusim_ir::{DType, Graph, IrError, Phase, Precision};

pub use blocks::expected_experts;
pub use ssm::SsmConfig;
pub use transformer::{
    Activation, Arch, FfnKind, LayerKind, Mixer, MlaConfig, MoeConfig, NormStyle, Positions,
    TransformerConfig, VisionConfig, MAX_DIM, MAX_LAYERS,
};

/// What to run a model on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Workload {
    pub phase: Phase,
    /// Sequences or images processed together.
    pub batch: u64,
    /// Encoder sequence length / prefill prompt length / RNN time steps.
    pub seq_len: u64,
    /// KV positions already cached before a decode step.
    pub context: u64,
    pub precision: Precision,
    /// Image side for CNNs and ViTs (None: the model's native size, 224).
    pub image_size: Option<u64>,
}

impl Workload {
    /// A workload with BF16 precision and no image override.
    pub fn new(phase: Phase, batch: u64, seq_len: u64, context: u64) -> Workload {
        Workload {
            phase,
            batch,
            seq_len,
            context,
            precision: Precision::uniform(DType::Bf16),
            image_size: None,
        }
    }

    pub fn with_precision(mut self, p: Precision) -> Workload {
        self.precision = p;
        self
    }

    pub fn with_image_size(mut self, side: u64) -> Workload {
        self.image_size = Some(side);
        self
    }
}

/// A built-in model and its provenance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ModelInfo {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// cnn | rnn | encoder | decoder | moe | ssm | vision-transformer
    pub era: &'static str,
    pub description: &'static str,
    /// Paper or model card the architecture constants come from.
    pub source: &'static str,
    pub phases: &'static [Phase],
    pub default_batch: u64,
    pub default_seq_len: u64,
}

impl ModelInfo {
    /// The model's default workload for `phase` in BF16: `default_batch` sequences of
    /// `default_seq_len`; a decode step attends over the full default window
    /// (`context = default_seq_len − 1`).
    pub fn workload(&self, phase: Phase) -> Workload {
        let ctx = if phase == Phase::Decode {
            self.default_seq_len.saturating_sub(1)
        } else {
            0
        };
        Workload::new(phase, self.default_batch, self.default_seq_len, ctx)
    }
}

#[derive(Debug, Error, Clone, PartialEq)]
pub enum ModelError {
    #[error("unknown model `{name}`{}", did_you_mean(suggestions))]
    UnknownModel {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("model `{model}` does not support phase `{phase}`; supported: {}", supported.join(", "))]
    UnsupportedPhase {
        model: String,
        phase: String,
        supported: Vec<String>,
    },
    #[error("invalid workload for `{model}`: {msg}")]
    InvalidWorkload { model: String, msg: String },
    #[error("invalid model config `{model}`: {msg}")]
    InvalidConfig { model: String, msg: String },
    #[error(transparent)]
    Ir(#[from] IrError),
}

fn did_you_mean(s: &[String]) -> String {
    if s.is_empty() {
        "; run the model list to see the built-in models".to_string()
    } else {
        format!("; did you mean {}?", s.join(", "))
    }
}

/// Every built-in model, in the order of [`zoo::CATALOG`].
///
/// Every model trains, so each entry's `phases` is its catalogue phases followed by
/// [`Phase::Train`]: the training phase is derived here once rather than written into every
/// catalogue entry (a model added to the catalogue trains without saying so), and it comes
/// last so `phases[0]` stays the model's default inference phase.
pub fn catalog() -> &'static [ModelInfo] {
    static CATALOG: std::sync::OnceLock<Vec<ModelInfo>> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut sets: Vec<(&'static [Phase], &'static [Phase])> = Vec::new();
        zoo::CATALOG
            .iter()
            .map(|m| ModelInfo {
                phases: with_train(m.phases, &mut sets),
                ..*m
            })
            .collect()
    })
}

/// `phases` followed by [`Phase::Train`], one static slice per distinct phase list (built
/// once per process by [`catalog`]).
fn with_train(
    phases: &'static [Phase],
    sets: &mut Vec<(&'static [Phase], &'static [Phase])>,
) -> &'static [Phase] {
    if phases.contains(&Phase::Train) {
        return phases;
    }
    if let Some((_, t)) = sets.iter().find(|(p, _)| *p == phases) {
        return t;
    }
    let t: &'static [Phase] = Box::leak([phases, &[Phase::Train]].concat().into_boxed_slice());
    sets.push((phases, t));
    t
}

fn norm_name(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace('_', "-")
}

/// Looks a model up by name or alias, case-insensitively (`_` and `-` are equivalent).
pub fn find(name: &str) -> Option<&'static ModelInfo> {
    let n = norm_name(name);
    catalog()
        .iter()
        .find(|m| m.name == n || m.aliases.iter().any(|a| *a == n))
}

/// Up to three catalogue names whose name or alias is close to `name` (the one "did you
/// mean" rule, [`xpusim_ir::close_names`]).
pub fn suggestions(name: &str) -> Vec<String> {
    xpusim_ir::close_names(
        name,
        catalog().iter().flat_map(|m| {
            std::iter::once((m.name, m.name)).chain(m.aliases.iter().map(|a| (*a, m.name)))
        }),
    )
}

/// Checks a workload's sizes before lowering (the IR re-checks every op).
pub fn check_workload(model: &str, w: &Workload) -> Result<(), ModelError> {
    let bad = |msg: String| ModelError::InvalidWorkload {
        model: model.to_string(),
        msg,
    };
    if w.batch == 0 {
        return Err(bad("batch must be at least 1".into()));
    }
    if w.seq_len == 0 && find(model).map_or(true, |m| m.era != "cnn") {
        return Err(bad("seq_len must be at least 1".into()));
    }
    if w.image_size == Some(0) {
        return Err(bad("image_size must be at least 1".into()));
    }
    Ok(())
}

/// Errors (instead of overflowing later) when the product of `dims` leaves the IR's size
/// range.
pub(crate) fn guard(model: &str, what: &str, dims: &[u64]) -> Result<(), ModelError> {
    xpusim_ir::checked_product(model, what, dims)?;
    Ok(())
}

/// Lowers the built-in model `name` (or alias) for workload `w`, with convolution
/// epilogues fused as inference stacks run them ([`xpusim_ir::fuse`]).
pub fn build(name: &str, w: &Workload) -> Result<Graph, ModelError> {
    let mut g = build_unfused(name, w)?;
    g.fuse_conv_epilogues();
    Ok(g)
}

/// [`build`] without epilogue fusion: every op its own kernel (for ablations).
pub fn build_unfused(name: &str, w: &Workload) -> Result<Graph, ModelError> {
    let info = find(name).ok_or_else(|| ModelError::UnknownModel {
        name: name.to_string(),
        suggestions: suggestions(name),
    })?;
    if !info.phases.contains(&w.phase) {
        return Err(ModelError::UnsupportedPhase {
            model: info.name.to_string(),
            phase: w.phase.name().to_string(),
            supported: info.phases.iter().map(|p| p.name().to_string()).collect(),
        });
    }
    check_workload(info.name, w)?;
    zoo::build_named(info.name, w)
}
