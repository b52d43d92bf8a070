use thiserror::Error;

/// Errors raised while building IR objects from user-controlled sizes.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum IrError {
    #[error("op `{op}`: dimension `{dim}` must be at least 1, got 0")]
    ZeroDim { op: String, dim: String },
    #[error("op `{op}`: size of `{what}` overflows (product of {dims:?} exceeds {max})")]
    Overflow {
        op: String,
        what: String,
        dims: Vec<u64>,
        max: u64,
    },
    #[error("op `{op}`: {msg}")]
    Invalid { op: String, msg: String },
    #[error("unknown precision `{0}`; expected one of fp32, tf32, bf16, fp16, fp8, int8, int4, w8a16, w4a16 (weight-only, optionally grouped: w4a16g32), fp8-linear (FP8 GEMMs in the linear layers only)")]
    UnknownPrecision(String),
    #[error("unknown dtype `{0}`; expected one of fp32, tf32, bf16, fp16, fp8, int8, int4")]
    UnknownDType(String),
}
