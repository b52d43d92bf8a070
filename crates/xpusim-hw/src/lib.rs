//! Hardware as data: the device schema, its validation, and the embedded presets.
//!
//! A device is a TOML file (see `presets/*.toml`). Numbers the engine uses are all here:
//! peak rates per number format, the memory hierarchy with capacities, bandwidths,
//! latencies and energies, launch overhead, power. Every preset value carries a citation
//! in its `[sources]` table; values not confirmed from a primary source are listed in
//! `unverified`.
//!
//! Invariants after [`DeviceSpec::validate`]: every rate, bandwidth, capacity and clock is
//! finite and > 0; the memory list is ordered innermost (closest to the compute) to
//! outermost and ends with the off-chip level; the natural dtype has a matrix peak.
//! An optional `[support]` table ([`support`]) lists the op families and number formats a
//! device runs natively and the host preset that runs the rest; without it everything is
//! native.

mod array;
pub mod calibration;
mod error;
mod locate;
mod presets;
mod spec;
pub mod support;

pub use array::{ArraySpec, Dataflow};
pub use calibration::{CalibrationCurve, CalibrationFamily};
pub use error::HwError;
pub use presets::{close_names, find_preset, load_device, preset_names, PRESETS};
pub use spec::{
    DeviceClass, DeviceSpec, Energy, Interconnect, MatrixEngine, MemoryLevel, Overhead, Power,
    Scope, VectorUnit,
};
pub use support::Support;
