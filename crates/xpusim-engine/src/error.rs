use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum EngineError {
    #[error(
        "op `{op}`: the smallest legal tile needs {need_bytes} B in `{level}` but one instance \
         holds {capacity_bytes} B; enlarge the scratchpad or use a smaller matrix tile"
    )]
    TileDoesNotFit {
        op: String,
        level: String,
        need_bytes: u64,
        capacity_bytes: u64,
    },
    #[error("device `{device}`: {msg}")]
    Fallback { device: String, msg: String },
    /// A cost model other than the analytical engine could not price an op.
    #[error("op `{op}` ({model}): {msg}")]
    Model {
        op: String,
        model: String,
        msg: String,
    },
}
