//! Processing in memory: the bank-level cost model of PIM memories and its place behind the
//! one cost interface.
//!
//! A PIM memory is data ([`xpusim_hw::PimSpec`], presets `hbm-pim-aquabolt`, `gddr6-aim`,
//! `attacc-bank`, `attacc-bg`, `upmem-dimm`, `neupims-hbm2`), attached to a system's
//! devices with a `[pim]` table ([`xpusim_hw::PimAttachment`]). [`timing`] costs GEMV /
//! small-batch GEMM, decode attention and embedding gathers at bank level; [`PimModel`]
//! wraps a device's cost model and places each op on the device or on its PIM stacks, for
//! time or energy, with the transfers costed.
//!
//! Invariants:
//! - PIM GEMV time never increases with more stacks, PUs or I/O bandwidth (property-tested)
//!   and is at least the streaming time of the matrix at the internal bandwidth.
//! - Ops PIM cannot run (nonlinear ops, norms, collectives, batched matmuls other than
//!   attention) always stay on the host; `host-only` placement equals the host alone.
//! - Which op is which (attention, its KV append, its projections, FFN GEMMs) comes from the
//!   ops' roles and layers, never their names.
//! - Energy counts the host's idle power while PIM works; PIM static power is not modelled.

mod model;
pub mod timing;

pub use model::{head_pipeline_saving, pim_cost, Objective, PimModel};
pub use xpusim_hw::{PimSpec, PuLevel, SoftmaxPlace};
