use thiserror::Error;

/// Errors of the system layer. Each names the file, field or quantity at fault.
#[derive(Debug, Error)]
pub enum SystemError {
    #[error("{file}: {msg}")]
    Parse { file: String, msg: String },
    #[error("{file}:{line}: field `{field}`: {msg}")]
    Invalid {
        file: String,
        line: usize,
        field: String,
        msg: String,
    },
    #[error("{file}: cannot read: {msg}")]
    Io { file: String, msg: String },
    #[error("unknown system `{name}`{}", suggest(.suggestions))]
    Unknown {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("{file}: device `{device}`: {source}")]
    Device {
        file: String,
        device: String,
        #[source]
        source: Box<xpusim_hw::HwError>,
    },
    /// The parallel layout asks for something the system or the model cannot provide.
    #[error("parallelism {layout}: {msg}")]
    Layout { layout: String, msg: String },
    /// Per-device memory need exceeds the device's off-chip capacity.
    #[error(
        "model does not fit: needs {:.2} GB per device but {} has {:.2} GB ({detail})",
        *needed_bytes as f64 / 1e9,
        device,
        *capacity_bytes as f64 / 1e9
    )]
    DoesNotFit {
        needed_bytes: u64,
        capacity_bytes: u64,
        device: String,
        detail: String,
    },
    #[error(transparent)]
    Engine(#[from] xpusim_engine::EngineError),
    #[error(transparent)]
    Ir(#[from] xpusim_ir::IrError),
}

fn suggest(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(" or "))
    }
}
