//! Training: the time, memory, energy and cost of a training step of any model on any
//! target, with data (ZeRO 0–3), tensor (with sequence parallelism), pipeline (GPipe,
//! 1F1B, interleaved), expert and context parallelism and activation recomputation.
//!
//! ```text
//! forward graph (phase train, one micro-batch)
//!   ──► autodiff backward ──► shard (tp, ep, sp) ──► Target's cost model + topology
//!   ──► chunks per pipeline stage ──► schedule simulation ──► DP reduction + optimizer
//!   ──► TrainCost (step time and breakdown, MFU/HFU, memory per device, energy)
//! ```
//!
//! Invariants:
//! - The step's breakdown adds up to its time (tested).
//! - Costs come only from the target's cost model and the system's collectives; this
//!   crate composes, it does not price ops.
//! - A layout that does not fit is an error naming the bytes and the smallest change that
//!   fits ([`train`]); [`step`] reports it with `fits = false` for searches.

mod bn_sync;
mod context;
mod error;
mod fit;
mod layout;
mod loss;
mod optimizer;
mod parts;
mod result;
pub mod schedule;
mod step;
mod step_comm;
mod userbuffers;

pub use error::TrainError;
pub use fit::{search, train, Rank};
pub use layout::{Recompute, TrainLayout, ZeroStage};
pub use optimizer::{Optimizer, ADAMW_FLOPS_PER_PARAM};
pub use result::{StepBreakdown, TrainCost, TrainMemory, TrainRun};
pub use schedule::{simulate, ChunkTimes, Schedule, Timeline};
pub use step::{step, Build};
