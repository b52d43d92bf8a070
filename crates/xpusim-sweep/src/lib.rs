//! xpusim sweeps: evaluate a base design edited along parameter axes on a workload suite,
//! in parallel, with resumable results and Pareto fronts.
//!
//! - [`SweepSpec`] (TOML): a base device (preset or file), `[[axis]]` paths into the device
//!   TOML with value lists or ranges, `[[workload]]`s (default: the [`ERA_SUITE`]),
//!   objectives, and optional physical scaling of rates with the swept unit counts.
//! - Points are the cartesian product of the axes, numbered in a fixed order (last axis
//!   fastest); `--shard i/n` takes the indices ≡ i (mod n).
//! - [`run`] evaluates chunks of points with rayon and appends each chunk to a CSV journal
//!   (synced to disk); on restart the journal is read and only missing points are run; a
//!   line torn by a kill is dropped and recomputed. When every point of the shard is done
//!   it writes `results.csv` (by index), `results.parquet` and `pareto.csv`, streaming
//!   them from the journal: no run holds its rows, so memory stays flat in the point count.
//!
//! Invariants: a point's row depends only on the spec and its index — never on the run,
//! thread count, shard or interruption history — so an interrupted-and-resumed sweep
//! writes byte-identical results to an uninterrupted one. A point that cannot be built,
//! validated, costed or evaluated still gets a row; its `status` says why.

pub mod axis;
mod error;
pub mod journal;
mod merge;
pub mod pareto;
mod parquet_out;
pub mod point;
mod results;
mod run;
pub mod spec;
pub mod suite;

pub use error::SweepError;
pub use merge::merge;
pub use pareto::{front, Objective};
pub use point::{Evaluator, Row};
pub use run::{run, RunOptions, RunSummary, Shard};
pub use spec::{Scaling, SweepSpec};
pub use suite::{WorkloadSpec, DEFAULT_CONTEXT, ERA_SUITE, SUITE_DECODE_BATCH};
