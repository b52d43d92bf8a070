//! Hardware as data: the device, system and PIM-memory schemas, their validation, and the
//! one registry of embedded presets ([`registry`]).
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
pub mod pim;
pub mod registry;
pub mod runtime;
mod spec;
pub mod support;
pub mod system;

pub use array::{ArraySpec, Dataflow};
pub use calibration::{CalibrationCurve, CalibrationFamily};
pub use error::HwError;
pub use pim::{PimSpec, PuLevel, SoftmaxPlace};
pub use registry::{
    close_names, find_pim, find_preset, find_system, load_device, load_hardware, load_pim,
    load_system, preset_names, Hardware, Kind,
};
pub use runtime::{
    load_runtime, runtimes, DecodeAttention, GraphMode, RuntimeSpec, StepLine, StepSpec,
};
pub use spec::{
    check_power_cap, DeviceClass, DeviceSpec, Energy, Interconnect, MatrixEngine, MemoryLevel,
    Overhead, Power, Scope, VectorUnit,
};
pub use support::Support;
pub use system::{
    Component, HostLink, NodePower, Pim, PimAttachment, PimLink, PimPlacement, Protocol, ScaleOut,
    ScaleUp, System, SystemSpec, TopologyKind,
};
