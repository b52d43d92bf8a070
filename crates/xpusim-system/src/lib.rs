//! Systems of devices: collectives that know the system's topology (its schema and presets
//! are in `xpusim-hw`), and tensor / pipeline / expert / data parallelism applied to a
//! model graph.
//!
//! Invariants:
//! - Collective time never decreases with more bytes and never increases with more
//!   bandwidth (property-tested); a group of one device costs nothing.
//! - Tensor parallelism conserves work: the FLOPs of a split op times its shard count equal
//!   the unsplit op's FLOPs (up to ceiling padding when a dimension does not divide).
//! - Sharding reads the ops' roles ([`xpusim_ir::OpRole`]), never their names.
//!
//! The composition of a sharded graph into a model cost is `xpusim-target`'s.

mod collective;
mod error;
mod parallel;
pub mod shard;

pub use collective::{collective, collective_spread, send, CollectiveCost};
pub use error::SystemError;
pub use parallel::Parallelism;
pub use shard::placements;
/// The system schema lives with every other hardware description in `xpusim-hw`.
pub use xpusim_hw::{
    find_system, load_system, HostLink, NodePower, Protocol, ScaleOut, ScaleUp, System, SystemSpec,
    TopologyKind,
};
