//! The one resolver every command uses: a model name or file becomes a graph, with one set
//! of workload defaults, and the era suite every command that runs "the suite" shares.
//!
//! - [`Request`]: a model (zoo name or alias, `.onnx` file, Hugging Face `config.json` or a
//!   folder holding one, SCALE-Sim topology `.csv`) and the workload options a user can give
//!   (phase, batch, sequence, context, precision, ONNX dimension bindings, fusion).
//!   [`Request::graph`] lowers it for a target whose natural 16-bit format is known.
//! - [`suite`]: the era suite (CNN, RNN, encoder, LLM prefill and decode, MoE, SSM,
//!   diffusion) with its serving point (decode batch 8 over a 2048-token context), and the
//!   training suite `flip` adds (ResNet-50, BERT-Large, Llama 3 8B, phase train).
//! - [`load_decoder`]: a decoder's description for serving, from the zoo or a config.json.
//!
//! Invariant: every model a command names, here or in the suite, goes through
//! [`Request::graph`]; no other crate turns names into graphs.

mod error;
mod request;
pub mod suite;

pub use error::WorkloadError;
pub use request::{
    default_context, dtype_label, load_decoder, Request, Resolved, DEFAULT_CONTEXT, HF_DEFAULT_SEQ,
};
pub use suite::{
    era_suite, training_suite, SuiteWorkload, ERAS, ERA_SUITE, SUITE_DECODE_BATCH, TRAINING_ERAS,
    TRAINING_SUITE,
};
