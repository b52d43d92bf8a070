//! NPU fidelity: SCALE-Sim topologies as IR, an NPU architecture description with
//! per-action energy and area, and a fast mapping search over its memory hierarchy.
//!
//! - [`arch`]: [`NpuArch`], the mapper's view of a device with an `[array]` section (cores ×
//!   arrays, dataflows, memory levels with capacity, bandwidth and per-action energy, NoC,
//!   leakage, area), derived by [`NpuArch::from_device`] from `xpusim_hw::DeviceSpec`; the
//!   cited device presets `tpu-v4`, `rebellions-atom`, `furiosa-rngd`, `eyeriss` and
//!   `npu-systolic` have one.
//! - [`energy`]: Accelergy-style table-based per-action energy, leakage and area for values a
//!   description leaves out (Horowitz ISSCC 2014 points, CACTI-like scaling, node factors).
//! - [`problem`]: a contraction's loop nest grouped into SCALE-Sim's P/W/N (+G) view without
//!   knowing the op's name.
//! - [`mapper`]: the mapping search (dataflow, core split, per-level tiles, loop orders) and
//!   layer-by-layer execution of a graph.
//! - [`report`]: the objective and the reported mapping per op and per graph.
//! - [`pipeline`]: layer-pipelined execution (contiguous stages, one core each).
//! - [`scalesim`]: a SCALE-Sim `.cfg` as a device with an `[array]` section
//!   ([`device_from_scalesim`]), every value the config does not state listed in
//!   `unverified`.
//!
//! Invariants:
//! - With one core and unbounded buffers the mapper's compute cycles equal SCALE-Sim's
//!   stall-free cycles (checked on all 949 golden rows, `tests/golden.rs`).
//! - Every chosen tile fits its level double-buffered; when even the smallest legal tile
//!   (one array fold, one temporal step) does not fit, mapping fails with
//!   [`MapperError::TileDoesNotFit`] naming the op, level and capacity.
//! - MACs are conserved: the mapped ops' MACs × repeats equal the graph's MACs.
//! - The mapper sees only loop nests ([`xpusim_ir::Op::contractions`]), never op kinds.

pub mod arch;
pub mod energy;
mod error;
pub mod mapper;
pub mod pipeline;
pub mod problem;
pub mod report;
pub mod scalesim;

pub use arch::{array_devices, resolve, Dataflow, MemLevel, NpuArch, Scope};
pub use error::{ArchError, MapperError};
pub use mapper::{map_graph, map_problem, GraphMapping, Objective, OpMapping};
pub use pipeline::{map_pipelined, PipelineMapping, Stage};
pub use problem::Problem;
pub use scalesim::device_from_scalesim;
