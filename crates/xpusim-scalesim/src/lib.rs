//! SCALE-Sim topology CSVs as a frontend: the reader (`topology_utils.py`'s two forms,
//! conv and GEMM, with every error naming file and line) and their lowering to the
//! workload IR, so a topology runs on any target. `xpusim-systolic` (the SCALE-Sim-exact
//! conformance engine) simulates the same [`Layer`]s cycle by cycle.

mod error;
mod lower;
mod topology;

pub use error::TopologyError;
pub use lower::{layer_op, topology_graph};
pub use topology::{load_topology, parse_topology, Layer, LayerKind, TopologyForm, MAX_LAYERS};
