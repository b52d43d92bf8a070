//! ONNX importer for xpusim: reads an `.onnx` model, infers every tensor shape (folding the
//! shape arithmetic exporters emit), and lowers the graph onto the workload IR.
//!
//! ```text
//! --model path/to/model.onnx  --dim NAME=VALUE  --input NAME=1x3x224x224
//! ```
//!
//! * Symbolic dimensions are bound with [`OnnxOptions::dims`]; a whole input shape can be
//!   set with [`OnnxOptions::inputs`]; otherwise declared shapes are used. An unbound
//!   symbolic dimension is an error naming the first node and input that need it.
//! * Weights are never read: initializer shapes and types come from `TensorProto`
//!   metadata, and external-data tensors are normal. Small inline tensors (shape vectors,
//!   axes, scales) are read so that `Shape → Gather → Concat → Reshape` chains, `Range`,
//!   `ConstantOfShape`, `Slice`, `Where` … fold to constants.
//! * Shape-only nodes and anything computed from constants alone (what an inference
//!   runtime folds once at session creation) cost nothing; initializers become
//!   [`xpusim_ir::Graph::weight`] declarations.
//! * `If` costs the branch constant folding selects, or the more expensive one (with a
//!   warning) when the condition is only known at run time; `Loop` and `Scan` bodies are
//!   costed once and repeated by their trip count. A constant `Loop` trip count is read
//!   exactly and a repeat whose work the IR cannot hold is an error naming the node; a trip
//!   count known only at run time costs one iteration, with a warning naming the node.
//! * Sequences (`SplitToSequence`, `SequenceAt`, …) carry each element's shape.
//! * A graph with nothing to cost (no operators left, or only empty tensors) and a graph
//!   input with a zero dimension are errors: they would price to a latency of ~1e-308 s.
//! * An operator without a rule is never dropped: it becomes [`xpusim_ir::Op::unknown`]
//!   (memory-bound over its operands) and is listed by [`xpusim_ir::Graph::unknown_ops`];
//!   with [`OnnxOptions::strict`] it is an error naming the node.
//! * Declared output shapes that disagree with inference produce a warning in
//!   [`Import::warnings`]; inference wins.
//!
//! # Why hand-written prost structs instead of tract-onnx
//!
//! The ONNX protobuf schema is parsed by a dozen hand-written `prost` message structs
//! (`proto.rs`, field numbers copied from `onnx.proto`) rather than through `tract-onnx`:
//! tract loads and materialises every weight eagerly (we must cost models whose weights are
//! stripped or too large to load, and only ever need their metadata), pulls in ~130 crates,
//! and has no cost model for LSTM/GRU (it decomposes them into scan loops, losing the
//! recurrent structure the simulator costs). `prost` with the derive macros needs no
//! `protoc` and no network at build time, and decoding unknown fields is skipped, so the
//! importer reads only what it needs.

mod control;
mod error;
mod import;
pub mod inspect;
mod lower;
mod node;
mod ops;
pub mod proto;
mod roles;
mod value;

use std::collections::BTreeMap;
use std::path::Path;

pub use error::OnnxError;
pub use inspect::{inspect_bytes, ModelInfo};

/// How to bind a model's dynamic shapes and which precision to cost it at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OnnxOptions {
    /// Values of symbolic dimensions (`dim_param`), `--dim NAME=VALUE` (see [`OnnxOptions::add_dim_arg`]).
    pub dims: BTreeMap<String, u64>,
    /// Whole input shapes, `--input NAME=1x3x224x224`; they override declared shapes.
    pub inputs: BTreeMap<String, Vec<u64>>,
    /// Make an operator without a lowering rule an error instead of an `Unknown` op.
    pub strict: bool,
    /// Override the storage/compute formats (default: each tensor's own ONNX type, int8
    /// for quantized contractions).
    pub precision: Option<xpusim_ir::Precision>,
    /// Keep every node its own kernel instead of fusing convolution epilogues
    /// (`xpusim_ir::fuse`; for ablations).
    pub no_fusion: bool,
}

impl OnnxOptions {
    /// Parses and records a `--dim NAME=VALUE` argument.
    pub fn add_dim_arg(&mut self, arg: &str) -> Result<(), String> {
        let (k, v) = arg
            .split_once('=')
            .ok_or_else(|| format!("--dim `{arg}`: expected NAME=VALUE"))?;
        let v: u64 = v
            .trim()
            .parse()
            .map_err(|_| format!("--dim `{arg}`: `{v}` is not a non-negative integer"))?;
        self.dims.insert(k.trim().to_string(), v);
        Ok(())
    }

    /// Parses and records an `--input NAME=1x3x224x224` argument (`NAME=` is a scalar).
    pub fn add_input_arg(&mut self, arg: &str) -> Result<(), String> {
        let (k, v) = arg
            .rsplit_once('=')
            .ok_or_else(|| format!("--input `{arg}`: expected NAME=DIMxDIMx…"))?;
        let v = v.trim();
        let dims = if v.is_empty() {
            Vec::new()
        } else {
            v.split(['x', 'X', ','])
                .map(|d| d.trim().parse::<u64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| format!("--input `{arg}`: `{v}` is not a shape like 1x3x224x224"))?
        };
        self.inputs.insert(k.trim().to_string(), dims);
        Ok(())
    }
}

/// A model lowered to the IR.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub graph: xpusim_ir::Graph,
    /// The ONNX `op_type` each IR op was lowered from (parallel to `graph.ops`).
    pub op_types: Vec<String>,
    /// Inferred shape of every top-level tensor (inputs, initializers, node outputs).
    pub shapes: BTreeMap<String, Vec<u64>>,
    /// Non-fatal findings: declared shapes overridden, If conditions unknown, …
    pub warnings: Vec<String>,
}

/// Imports the ONNX model at `path`.
pub fn import_file(path: &Path, opts: &OnnxOptions) -> Result<Import, OnnxError> {
    let bytes = std::fs::read(path).map_err(|e| OnnxError::Io {
        file: path.display().to_string(),
        msg: e.to_string(),
    })?;
    // The file buffer is shared by the decoded tensors (no copy of weight payloads).
    import::import(&path.display().to_string(), bytes.into(), opts)
}

/// Imports an ONNX model held in memory; `name` is used in the graph name and errors.
pub fn import_bytes(name: &str, bytes: &[u8], opts: &OnnxOptions) -> Result<Import, OnnxError> {
    import::import(name, prost::bytes::Bytes::copy_from_slice(bytes), opts)
}
