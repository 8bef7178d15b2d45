//! Immutable columnar segment files. (Being written: see docs/format.md.)

use thiserror::Error;

/// A segment failure.
#[derive(Debug, Error)]
pub enum SegmentError {
    /// A file-system call failed.
    #[error("segment {op} {path}: {source}")]
    Io {
        /// Operation.
        op: &'static str,
        /// File.
        path: std::path::PathBuf,
        /// OS error.
        source: std::io::Error,
    },
}
