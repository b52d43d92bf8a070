//! Systems of devices: a system TOML (device, count, scale-up topology, scale-out network,
//! host link, node power, price) with embedded presets, collectives that know the topology,
//! and tensor / pipeline / expert / data parallelism applied to a model graph.
//!
//! Invariants:
//! - A [`System`] is validated: counts ≥ 1, `devices_per_node` divides `count`, torus dims
//!   multiply to `devices_per_node`, every bandwidth > 0, every latency ≥ 0; a derating
//!   factor (`bus_efficiency`) or link energy is accepted only with a citation in `[sources]`.
//! - Collective time never decreases with more bytes and never increases with more
//!   bandwidth (property-tested); a group of one device costs nothing.
//! - With `tp = pp = ep = dp = 1` the per-op times equal the single-device engine's.
//! - Tensor parallelism conserves work: the FLOPs of a split op times its shard count equal
//!   the unsplit op's FLOPs (up to ceiling padding when a dimension does not divide).
//! - A layout that does not fit in device memory is an error with the numbers
//!   ([`SystemError::DoesNotFit`]), never a silent result.

mod collective;
mod error;
mod evaluate;
mod locate;
mod parallel;
mod presets;
pub mod shard;
mod spec;

pub use collective::{collective, send, CollectiveCost};
pub use error::SystemError;
pub use evaluate::{evaluate, placements, Options, SystemCost, SystemOpReport};
pub use parallel::Parallelism;
pub use presets::{find_system, load_system, preset_names, presets, PRESETS};
pub use spec::{
    HostLink, NodePower, Protocol, ScaleOut, ScaleUp, System, SystemSpec, TopologyKind,
};
