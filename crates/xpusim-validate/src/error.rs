use thiserror::Error;

/// Errors reading a validation file. Rows that parse but cannot be evaluated are not
/// errors: they are reported as skipped, with the reason.
#[derive(Debug, Error)]
pub enum ValidateError {
    #[error("{file}: cannot read: {msg}")]
    Io { file: String, msg: String },
    #[error("{file}:{line}: {msg}")]
    Parse {
        file: String,
        line: u64,
        msg: String,
    },
    #[error("{file}: {msg}")]
    Split { file: String, msg: String },
    #[error("{file}:{line}: column `{column}`: {msg}")]
    Field {
        file: String,
        line: u64,
        column: String,
        msg: String,
    },
}
