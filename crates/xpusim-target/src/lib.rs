//! The one seam every command uses: a [`Target`] (a device or a system, with or without
//! processing in memory) and [`evaluate`], which prices any graph on it and returns one
//! [`ModelCost`].
//!
//! ```text
//!  graph ──► shard by roles (system) ──► CostModel per device ──► compose ──► ModelCost
//!                                        ├ analytical engine      (stages, collectives,
//!                                        ├ mapping search           memory, energy)
//!                                        └ PIM placement (wraps either)
//! ```
//!
//! Invariants:
//! - Every target takes every graph: a device, a system and a system with PIM return the
//!   same [`ModelCost`] shape (system and PIM parts are optional fields, never renamed).
//! - The only composition of op costs into a model cost is [`evaluate`]; cost models price
//!   ops and never compose models.
//! - A system with `tp = pp = ep = dp = 1` equals its device alone (tested).
//! - On one device the per-op energies (dynamic + static over the op's time) and the energy
//!   breakdown both add up to `energy_j` (tested).

mod compose;
mod error;
mod mapping;
mod result;
pub mod runtime;
mod target;

pub use compose::{evaluate, network_cost, price_ops};
pub use error::TargetError;
pub use mapping::MappingSearch;
pub use result::{EnergyBreakdown, ModelCost, OpReport, PimReport, SystemReport};
pub use runtime::RuntimeReport;
pub use target::{CostChoice, Layout, Target};
pub use xpusim_system::Parallelism;
