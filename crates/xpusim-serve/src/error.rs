use thiserror::Error;

/// Everything that can go wrong building a serving simulation. Messages are one line and
/// name the offending file, line, flag or request.
#[derive(Debug, Error)]
pub enum ServeError {
    /// One request's peak KV footprint exceeds the whole KV pool: it could never run.
    #[error(
        "KV cache exhausted: request {request} ({input_tokens} input + {output_tokens} output tokens) needs {needed_bytes} B of KV cache, capacity {capacity_bytes} B (weights {weight_bytes} B of {memory_bytes} B device memory{reserve})",
        reserve = if *reserve_bytes > 0 { format!(", {reserve_bytes} B reserved for activations and runtime") } else { String::new() }
    )]
    KvExhausted {
        request: usize,
        input_tokens: u64,
        output_tokens: u64,
        needed_bytes: u64,
        capacity_bytes: u64,
        weight_bytes: u64,
        memory_bytes: u64,
        reserve_bytes: u64,
    },
    /// The weights alone do not leave room for any KV cache.
    #[error("model does not fit: weights {weight_bytes} B + activation reserve {reserve_bytes} B exceed the usable {usable_bytes} B of {memory_bytes} B device memory")]
    WeightsDoNotFit {
        weight_bytes: u64,
        reserve_bytes: u64,
        usable_bytes: u64,
        memory_bytes: u64,
    },
    #[error("{file}:{line}: {msg}")]
    Trace {
        file: String,
        line: usize,
        msg: String,
    },
    #[error("cannot read trace {file}: {msg}")]
    TraceIo { file: String, msg: String },
    #[error("invalid {field}: {msg}")]
    Invalid { field: String, msg: String },
    #[error("model `{model}`: {msg}")]
    Model { model: String, msg: String },
    #[error("system: {0}")]
    System(String),
    #[error("cost model: {0}")]
    Engine(String),
}

impl ServeError {
    pub(crate) fn invalid(field: &str, msg: impl Into<String>) -> ServeError {
        ServeError::Invalid {
            field: field.to_string(),
            msg: msg.into(),
        }
    }
}
