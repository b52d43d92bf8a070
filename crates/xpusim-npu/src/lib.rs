//! NPU fidelity: SCALE-Sim topologies as IR, an NPU architecture description with
//! per-action energy and area, and a fast mapping search over its memory hierarchy.
//!
//! - [`topology`]: SCALE-Sim topology layers lowered to IR ops (no-padding convention).

pub mod topology;
