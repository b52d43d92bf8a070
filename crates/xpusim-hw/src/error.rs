use thiserror::Error;

/// Errors loading or validating a device spec. Each names the file, and where it can, the
/// line and the field.
#[derive(Debug, Error)]
pub enum HwError {
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
    #[error("unknown runtime `{name}` (built in: {}){}", .known.join(", "), suggest(.suggestions))]
    UnknownRuntime {
        name: String,
        known: Vec<String>,
        suggestions: Vec<String>,
    },
    #[error("unknown hardware `{name}`{}", suggest(.suggestions))]
    Unknown {
        name: String,
        suggestions: Vec<String>,
    },
}

fn suggest(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(" or "))
    }
}
