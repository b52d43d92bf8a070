//! Errors reading a topology: each names the file and, for a bad row, the line.

use std::path::PathBuf;

use thiserror::Error;

/// A problem reading a SCALE-Sim topology CSV.
#[derive(Debug, Error)]
pub enum TopologyError {
    /// The file could not be read.
    #[error("{}: cannot read topology: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A row does not have the expected shape or values.
    #[error("{}:{line}: {message}", path.display())]
    Row {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was found and what was expected.
        message: String,
    },
    /// The file has a header but no layer rows.
    #[error("{}: no layers", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
}
