//! xpusim flip: does a chip still win when the workload mix changes, and at what cost?
//!
//! - [`suite`]: the era suite (CNN, RNN, Transformer encoder, LLM prefill and decode, MoE,
//!   SSM, diffusion), each workload tagged with its era (`xpusim-workload`'s, shared by
//!   every command), and the training eras (`cnn-train`, `encoder-train`, `llm-train`).
//! - [`eval`]: every design on every workload (engine + `xpusim-cost` TCO; training steps
//!   through `xpusim-train` on the fastest layout that fits), with native coverage per
//!   (design, workload) from the engine's host fallback.
//! - [`scenario`]: workload-mix scenarios and service-life timelines as TOML (built-in and
//!   user files).
//! - [`analysis`]: per-era efficiency relative to the best design, worst case, geometric
//!   mean, regret per scenario, Pareto front across scenarios, lifetime value per TCO
//!   dollar and the break-even freeze of the workload mix.
//! - [`summary`]: the ranked text table and one-line verdicts.
//!
//! Invariants: every relative efficiency and scenario score is in (0, 1] and the best
//! design of each era and scenario scores exactly 1; regret = 1 − score; a design on no
//! scenario's top can still be on the Pareto front, but every scenario's best design is on
//! it; results depend only on the designs, suite, scenarios and timeline given.

pub mod analysis;
pub mod eval;
pub mod scenario;
pub mod suite;
pub mod summary;

use thiserror::Error;

pub use analysis::{analyse, Analysis, Lifetime, Metric};
pub use eval::{evaluate, Design, Evaluation, TRAIN_MICROBATCHES_PER_DEVICE};
pub use scenario::{
    builtin_scenarios, builtin_timeline, parse_scenarios, parse_timeline, Scenario, Year,
};
pub use suite::{era_suite, flip_suite, training_suite, SuiteWorkload, ERAS, TRAINING_ERAS};

#[derive(Debug, Error)]
pub enum FlipError {
    #[error("{file}: {msg}")]
    Parse { file: String, msg: String },
    #[error("{file}: {item}: {msg}")]
    Input {
        file: String,
        item: String,
        msg: String,
    },
    #[error("workload `{workload}`: {msg}")]
    Workload { workload: String, msg: String },
    #[error("`{workload}` on `{design}`: {msg}")]
    Engine {
        design: String,
        workload: String,
        msg: String,
    },
    #[error("cost: {0}")]
    Cost(String),
    #[error("no design can be ranked by {0}; try --metric energy")]
    NoDesigns(String),
}
