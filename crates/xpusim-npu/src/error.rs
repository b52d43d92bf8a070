use thiserror::Error;

/// Errors from loading an architecture description.
#[derive(Debug, Error)]
pub enum ArchError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {msg}")]
    Parse { path: String, msg: String },
    #[error("{path}: field `{field}`: {msg}")]
    Invalid {
        path: String,
        field: String,
        msg: String,
    },
    #[error("unknown NPU architecture `{name}`; built-in: {known}")]
    Unknown { name: String, known: String },
}

/// Errors from the mapping search.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum MapperError {
    /// Even the smallest legal tile (one array fold, one temporal step), double-buffered,
    /// does not fit in a memory level.
    #[error(
        "op `{op}`: the smallest legal tile does not fit in `{level}`: needs {need_bytes} B \
         (double-buffered) but the capacity is {capacity_bytes} B"
    )]
    TileDoesNotFit {
        op: String,
        level: String,
        capacity_bytes: u64,
        need_bytes: u64,
    },
    #[error("op `{op}`: loop nest has {inputs} input operands; the mapper needs exactly two")]
    UnsupportedNest { op: String, inputs: usize },
    #[error("op `{op}`: no supported dataflow of `{arch}` applies")]
    NoDataflow { op: String, arch: String },
}
