use thiserror::Error;

/// Everything that can go wrong building a serving simulation. Messages are one line and
/// name the offending file, line, flag or request.
#[derive(Debug, Error)]
pub enum ServeError {
    /// One request's peak KV footprint exceeds the whole KV pool: it could never run.
    #[error(
        "KV cache exhausted: request {request} ({input_tokens} input + {output_tokens} output tokens) needs {} of KV cache, capacity {} (weights {} of {} device memory{reserve}); shorten the request, narrow the KV cache (--precision fp8), or spread it over more devices (--tp on a system)",
        gb(*needed_bytes), gb(*capacity_bytes), gb(*weight_bytes), gb(*memory_bytes),
        reserve = if *reserve_bytes > 0 { format!(", {} reserved for activations and runtime", gb(*reserve_bytes)) } else { String::new() }
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
    #[error(
        "model does not fit: weights {} + activation reserve {} exceed the usable {} of {} device memory; the weights alone need {} such devices (--tp {} on a system), or a narrower --precision (fp8 halves them)",
        gb(*weight_bytes), gb(*reserve_bytes), gb(*usable_bytes), gb(*memory_bytes),
        devices_for(*weight_bytes, *usable_bytes, *reserve_bytes),
        devices_for(*weight_bytes, *usable_bytes, *reserve_bytes).next_power_of_two()
    )]
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

/// Bytes in decimal SI units to three significant digits (`1.52 MB`, `105 GB`), as the
/// rest of xpusim's output gives them.
pub fn gb(bytes: u64) -> String {
    let b = bytes as f64;
    let (d, unit) = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")]
        .into_iter()
        .find(|(d, _)| b >= *d)
        .unwrap_or((1.0, "B"));
    let x = b / d;
    let digits = if d == 1.0 || x >= 100.0 {
        0
    } else if x >= 10.0 {
        1
    } else {
        2
    };
    format!("{x:.digits$} {unit}")
}

/// Devices whose usable memory, less the activation reserve each keeps, holds the weights.
fn devices_for(weight_bytes: u64, usable_bytes: u64, reserve_bytes: u64) -> u64 {
    let room = usable_bytes.saturating_sub(reserve_bytes).max(1);
    weight_bytes.div_ceil(room).max(1)
}

impl ServeError {
    pub(crate) fn invalid(field: &str, msg: impl Into<String>) -> ServeError {
        ServeError::Invalid {
            field: field.to_string(),
            msg: msg.into(),
        }
    }
}
