//! A systolic-array cycle and memory-traffic model that reproduces SCALE-Sim 3.0.0.
//!
//! SCALE-Sim (`pip install scalesim==3.0.0`) is trace driven: it materialises operand, prefetch
//! and skewed demand matrices in numpy and replays them through double-buffered SRAM models.
//! This crate follows the same conventions without materialising the matrices:
//!
//! - [`compute`]: fold geometry, stall-free cycles, mapping efficiency, compute utilisation and
//!   SRAM traffic, in closed form (exact).
//! - [`stream`]: the demand lines and prefetch orders, generated lazily.
//! - [`memory`]: the read (CALC estimator and USER) and write buffers, replayed line by line
//!   to count DRAM traffic and stalls.
//!
//! Inputs come from SCALE-Sim's own files: [`load_config`] reads a `.cfg`, [`load_topology`]
//! reads a topology CSV (conv or GEMM form). [`simulate_layer`] produces a [`LayerReport`].

pub mod compute;
pub mod config;
mod error;
pub mod memory;
mod sim;
pub mod stream;
pub mod topology;

pub use compute::{compute_report, ComputeReport, Fold, Geometry};
pub use config::{load_config, parse_config, ArrayConfig, BandwidthMode, Dataflow};
pub use error::{ConfigError, TopologyError};
pub use sim::{simulate_compute, simulate_layer, LayerReport};
pub use topology::{load_topology, parse_topology, Layer, LayerKind, TopologyForm};
