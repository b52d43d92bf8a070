//! Error types. Every error names the file and, where there is one, the line and key.

use std::path::PathBuf;

use thiserror::Error;

/// A problem reading a SCALE-Sim `.cfg` file.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read config: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A line is not a section header, comment or `key = value` pair.
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// A required `[section]` is absent.
    #[error("{}: missing section [{section}]", path.display())]
    MissingSection {
        /// The file.
        path: PathBuf,
        /// The section.
        section: String,
    },
    /// A required key is absent from its section.
    #[error("{}:{line}: section [{section}] has no key `{key}`", path.display())]
    MissingKey {
        /// The file.
        path: PathBuf,
        /// Line of the section header.
        line: usize,
        /// The section.
        section: String,
        /// The key.
        key: String,
    },
    /// A key's value does not parse.
    #[error("{}:{line}: key `{key}` = `{value}`: expected {expected}", path.display())]
    InvalidValue {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The key.
        key: String,
        /// The raw value.
        value: String,
        /// What was expected.
        expected: String,
    },
}
