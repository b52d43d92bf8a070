//! The one interface through which every cost model prices an op on one device.
//!
//! The analytical engine of this crate, the NPU mapping search and the processing-in-memory
//! placement model all implement [`CostModel`]; the compositions above them (one device,
//! a multi-device system) only ever call this trait, so any model runs on any target.

use xpusim_hw::DeviceSpec;
use xpusim_ir::Op;

use crate::{cost_op, EngineError, OpCost};

/// Costs of a device's op list, in order, and time the model hides by overlapping ops.
#[derive(Debug, Clone, PartialEq)]
pub struct Costed {
    pub ops: Vec<OpCost>,
    /// Time saved by overlapping consecutive ops (PIM head pipelining), s; the op costs
    /// themselves are as if each ran alone.
    pub overlap_s: f64,
}

/// Prices ops on one device.
pub trait CostModel: Send + Sync {
    /// The device the ops run on (its idle power, memory capacity and peaks).
    fn device(&self) -> &DeviceSpec;

    /// What prices the ops, for reports: `analytical`, `mapping search (edp)`, ….
    fn label(&self) -> String;

    /// Cost of one instance of `op`.
    fn cost_op(&self, op: &Op) -> Result<OpCost, EngineError>;

    /// Costs of a device's whole op list in execution order. Models whose choice for one op
    /// depends on the others (where a layer's KV cache lives, overlap across ops) override
    /// this; the default prices each op alone.
    fn cost_ops(&self, ops: &[&Op]) -> Result<Costed, EngineError> {
        Ok(Costed {
            ops: ops
                .iter()
                .map(|o| self.cost_op(o))
                .collect::<Result<_, _>>()?,
            overlap_s: 0.0,
        })
    }
}

/// The analytical engine: tiling-aware roofline per op (this crate's [`cost_op`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Analytical {
    pub dev: DeviceSpec,
}

impl Analytical {
    pub fn new(dev: DeviceSpec) -> Analytical {
        Analytical { dev }
    }
}

impl CostModel for Analytical {
    fn device(&self) -> &DeviceSpec {
        &self.dev
    }

    fn label(&self) -> String {
        "analytical".into()
    }

    fn cost_op(&self, op: &Op) -> Result<OpCost, EngineError> {
        cost_op(op, &self.dev)
    }
}
