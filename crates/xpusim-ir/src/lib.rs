//! The xpusim workload IR.
//!
//! Every model, whatever its source (built-in zoo, ONNX, Hugging Face config, SCALE-Sim
//! topology), is lowered into a [`Graph`]: an ordered list of [`Op`]s over typed operands.
//! Each op knows its arithmetic ([`Op::macs`], [`Op::vector_flops`]) and its compulsory bytes
//! per operand; contraction ops also expose einsum-like [`LoopNest`]s so the engine can tile
//! them without knowing the op's name.
//!
//! Invariants:
//! - Ops are stored in a valid execution order (producers before consumers).
//! - All sizes are checked: constructors return [`IrError`] on zero sizes or u64 overflow,
//!   so no later arithmetic on a constructed op can overflow `u64` for its own totals.
//! - FLOPs and bytes depend only on the op, never on a device.
//! - What an op is for (its [`OpRole`] and layer) is set by the frontend; no code below the
//!   frontends decides it from an op's name.
//! - A variable-length pass ([`varlen`]) has the FLOPs of separate runs at each length.
//! - The backward pass of a training graph is derived from the forward ([`autodiff`]), op by
//!   op in reverse, with the roles tensor parallelism needs; frontends build forwards only.

mod arith;
pub mod autodiff;
mod dropout;
mod dtype;
mod error;
pub mod fuse;
mod fuse_chain;
mod graph;
mod kinds;
mod loopnest;
pub mod memfs;
mod names;
mod op;
pub mod parallel;
pub mod per_query_head;
mod size;
mod unfuse;
pub mod varlen;
pub mod vocab_loss;

pub use dropout::DROPOUT_FLOPS_PER_ELEM;
pub use dtype::{DType, Precision};
pub use error::IrError;
pub use graph::{Graph, GraphTotals, Phase, Weight};
pub use kinds::{
    AttentionSpec, CollectiveKind, ConvSpec, LossKind, MatmulSpec, NormKind, OpKind, Operand, Pass,
    RecurrentCell, RecurrentSpec, Role, ScanSpec,
};
pub use loopnest::{Contraction, LoopDim, LoopNest, OperandAccess};
pub use names::{close_names, SUGGEST_SIMILARITY};
pub use op::{Names, Op};
pub use parallel::{Block, OpRole};
pub use size::{checked_mul, checked_product, checked_work, MAX_ELEMS, MAX_WORK};
pub use varlen::{SeqDist, SeqDistSummary, VarlenError, VarlenMember};
