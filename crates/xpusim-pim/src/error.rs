use thiserror::Error;

/// Errors loading a PIM spec or evaluating a heterogeneous system. Spec errors name the
/// file, line and field.
#[derive(Debug, Error)]
pub enum PimError {
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
    #[error("unknown {what} `{name}`{}", suggest(.suggestions))]
    Unknown {
        what: &'static str,
        name: String,
        suggestions: Vec<String>,
    },
    #[error("op `{op}`: {msg}")]
    Op { op: String, msg: String },
    #[error(transparent)]
    Hw(#[from] xpusim_hw::HwError),
    #[error(transparent)]
    Engine(#[from] xpusim_engine::EngineError),
    #[error(transparent)]
    System(#[from] xpusim_system::SystemError),
    #[error(transparent)]
    Model(#[from] xpusim_models::ModelError),
}

fn suggest(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(" or "))
    }
}

/// Names close to `name`, closest first (the project-wide "did you mean" rule).
pub(crate) fn close_names(name: &str, names: &[String]) -> Vec<String> {
    xpusim_hw::close_names(name, names)
}
