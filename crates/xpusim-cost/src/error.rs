use thiserror::Error;

/// Errors from cost models. Each names the device or data item and what was expected.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CostError {
    #[error("device `{device}` has no `{field}`; add it to the device TOML to cost it")]
    MissingField { device: String, field: String },
    #[error("no process data for {nm} nm; known nodes: {}", known.join(", "))]
    UnknownNode { nm: f64, known: Vec<String> },
    #[error("device `{device}`: no cited price for off-chip memory `{level}` (known: {}); give a price per GB explicitly", known.join(", "))]
    UnknownMemory {
        device: String,
        level: String,
        known: Vec<String>,
    },
    #[error("device `{device}`: no cited packaging cost for a non-HBM package; give a packaging cost explicitly")]
    UnknownPackage { device: String },
    #[error("cost data ({file}): {msg}")]
    Data { file: String, msg: String },
    #[error("{what}: {msg}")]
    Invalid { what: String, msg: String },
}
