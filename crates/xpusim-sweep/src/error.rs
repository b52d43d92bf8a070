use thiserror::Error;

/// Sweep errors; each names the file, axis, workload or line it is about.
#[derive(Debug, Error)]
pub enum SweepError {
    #[error("{file}: {msg}")]
    Spec { file: String, msg: String },
    #[error("{file}: axis `{path}`: {msg}")]
    Axis {
        file: String,
        path: String,
        msg: String,
    },
    #[error("{file}: workload `{workload}`: {msg}")]
    Workload {
        file: String,
        workload: String,
        msg: String,
    },
    #[error("{file}:{line}: {msg}")]
    Journal {
        file: String,
        line: usize,
        msg: String,
    },
    #[error("{file}: {msg}")]
    Io { file: String, msg: String },
    #[error("{0}")]
    Other(String),
}

impl SweepError {
    pub(crate) fn io(file: &std::path::Path, e: impl std::fmt::Display) -> SweepError {
        SweepError::Io {
            file: file.display().to_string(),
            msg: e.to_string(),
        }
    }
}
