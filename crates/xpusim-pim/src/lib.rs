//! Processing-in-memory devices and heterogeneous xPU + PIM systems.
//!
//! A [`PimSpec`] describes a PIM device as data (DRAM organisation, timing, processing
//! units, I/O, power, energy per bit at each level); presets: `hbm-pim-aquabolt`,
//! `gddr6-aim`, `attacc-bank`, `attacc-bg`, `upmem-dimm`, `neupims-hbm2`. [`timing`] costs GEMV / small-batch
//! GEMM, decode attention and embedding gathers at bank level; [`place`] places each op of
//! a model on the host xPU or on PIM for a [`HeteroSystem`] (presets `dgx-a100-attacc`,
//! `dgx-a100-attacc-bg`, `dgx-a100-hbm3-2x`, `npu-neupims`, or a system TOML file), and
//! [`attacc`] reproduces AttAcc's headline ([`paper_energy`]: the AttAcc simulator's own
//! energy accounting, shown beside xpusim's).
//!
//! Invariants:
//! - A loaded `PimSpec` is consistent: banks divisible by bank groups, PU count not above
//!   the banks (bank level) or bank groups (bank-group level) of a pseudo-channel and
//!   dividing the banks, rows a whole number of atoms, tRAS ≥ tRCD, every rate > 0; a
//!   violation is an error naming file, line and field.
//! - PIM GEMV time never increases with more stacks, PUs or I/O bandwidth (property-tested)
//!   and is at least the streaming time of the matrix at the internal bandwidth.
//! - Ops PIM cannot run (nonlinear ops, norms, collectives, batched matmuls other than
//!   attention) always stay on the host; `host-only` placement equals the host-only cost.
//! - Energy counts the host's idle power while PIM works; PIM static power is not modelled.
//!   [`paper_energy`] is a second, labelled view (AttAcc simulator's per-access energies,
//!   dynamic only); it never replaces the default accounting.

pub mod attacc;
mod error;
pub mod hetero;
pub mod paper_energy;
pub mod place;
pub mod presets;
pub mod spec;
pub mod timing;

pub(crate) use error::close_names;
pub use error::PimError;
pub use hetero::{
    find_system, is_hetero_system, load_system, system_names, HeteroSystem, Objective, Placement,
};
pub use place::{evaluate, HeteroCost, HeteroOpReport};
pub use presets::{load_host, load_pim, pim_names, pim_presets};
pub use spec::{PimSpec, PuLevel, SoftmaxPlace};
