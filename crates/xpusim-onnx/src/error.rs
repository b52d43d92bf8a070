//! Import errors: every variant renders as one line naming the file (and node, where known).

use thiserror::Error;

/// Why an ONNX file could not be imported.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum OnnxError {
    #[error("{file}: cannot read file: {msg}")]
    Io { file: String, msg: String },
    #[error("{file}: not a valid ONNX model (truncated or corrupt protobuf): {msg}")]
    Decode { file: String, msg: String },
    #[error("{file}: {msg}")]
    Model { file: String, msg: String },
    #[error(
        "{file}: node `{node}` ({op_type}): input `{input}` has {}",
        unresolved_hint(input, dim)
    )]
    UnresolvedDim {
        file: String,
        node: String,
        op_type: String,
        input: String,
        dim: String,
    },
    #[error("{file}: node `{node}` ({op_type}): bad attribute `{attr}`: {msg}")]
    BadAttribute {
        file: String,
        node: String,
        op_type: String,
        attr: String,
        msg: String,
    },
    #[error("{file}: node `{node}` ({op_type}): {msg}")]
    Node {
        file: String,
        node: String,
        op_type: String,
        msg: String,
    },
    #[error("{file}: node `{node}`: unsupported operator `{op_type}` (strict mode)")]
    Unsupported {
        file: String,
        node: String,
        op_type: String,
    },
}

/// How to bind an unresolved dimension: `--dim NAME=N` for a named one, the whole shape
/// with `--input` for one the file leaves unnamed (there is no name to give `--dim`).
fn unresolved_hint(input: &str, dim: &str) -> String {
    match dim.strip_prefix(crate::import::UNNAMED_DIM) {
        Some(axis) => format!(
            "an unnamed dimension on axis {axis}; set its whole shape with --input \
             {input}=DxDx… (`xpusim inspect` prints the line to complete)"
        ),
        None => format!(
            "unresolved symbolic dimension `{dim}`; bind it with --dim {dim}=N or set the \
             input's shape with --input"
        ),
    }
}

/// A node-local failure, before the importer adds the file and node names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NodeErr {
    Msg(String),
    Attr {
        attr: String,
        msg: String,
    },
    Unresolved {
        input: String,
        dim: String,
    },
    /// An error already located (raised inside a subgraph).
    Inner(Box<OnnxError>),
}

impl NodeErr {
    pub(crate) fn msg(m: impl Into<String>) -> NodeErr {
        NodeErr::Msg(m.into())
    }
    pub(crate) fn attr(attr: &str, m: impl Into<String>) -> NodeErr {
        NodeErr::Attr {
            attr: attr.to_string(),
            msg: m.into(),
        }
    }
    pub(crate) fn into_onnx(self, file: &str, node: &str, op_type: &str) -> OnnxError {
        let (file, node, op_type) = (file.to_string(), node.to_string(), op_type.to_string());
        match self {
            NodeErr::Msg(msg) => OnnxError::Node {
                file,
                node,
                op_type,
                msg,
            },
            NodeErr::Attr { attr, msg } => OnnxError::BadAttribute {
                file,
                node,
                op_type,
                attr,
                msg,
            },
            NodeErr::Unresolved { input, dim } => OnnxError::UnresolvedDim {
                file,
                node,
                op_type,
                input,
                dim,
            },
            NodeErr::Inner(e) => *e,
        }
    }
}

impl From<xpusim_ir::IrError> for NodeErr {
    fn from(e: xpusim_ir::IrError) -> Self {
        NodeErr::Msg(e.to_string())
    }
}

pub(crate) type NResult<T> = Result<T, NodeErr>;
