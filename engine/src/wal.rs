//! Write-ahead log. (Being written: see the WAL section of docs/format.md.)

use thiserror::Error;

/// A WAL failure.
#[derive(Debug, Error)]
pub enum WalError {
    /// A file-system call failed.
    #[error("wal {op} {path}: {source}")]
    Io {
        /// Operation.
        op: &'static str,
        /// File.
        path: std::path::PathBuf,
        /// OS error.
        source: std::io::Error,
    },
}
