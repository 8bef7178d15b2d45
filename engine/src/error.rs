//! The engine's error type.

use std::io;
use std::path::PathBuf;
use thiserror::Error;

/// Everything that can go wrong in the engine, with the context a person needs to act on it.
#[derive(Debug, Error)]
pub enum EngineError {
    /// A file-system call failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done ("open", "create", "fsync", ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Another process holds the data directory.
    #[error("data directory {0} is in use by another tally process (lock file LOCK is held); stop it or choose another --data-dir")]
    Locked(PathBuf),
    /// The write-ahead log failed.
    #[error(transparent)]
    Wal(#[from] crate::wal::WalError),
    /// Appending to the write-ahead log failed (a full or failing disk): the batch was refused
    /// and nothing of it is stored.
    #[error("the write was refused because the write-ahead log could not be appended to ({0}); nothing of it was stored: free disk space or fix the disk, then retry")]
    WalAppend(String),
    /// A segment file failed.
    #[error(transparent)]
    Segment(#[from] crate::segment::SegmentError),
    /// A batch did not decode.
    #[error(transparent)]
    Batch(#[from] crate::batch::BatchError),
    /// A field was written with a type other than the one it already has in its series.
    #[error("field '{field}' of series {series} is {existing}, the point has it as {got}; write the same type or use a new field name")]
    FieldTypeConflict {
        /// The series, in line-protocol form.
        series: String,
        /// The field.
        field: String,
        /// The type stored so far.
        existing: crate::types::FieldType,
        /// The type written.
        got: crate::types::FieldType,
    },
    /// A store file is damaged in a way start-up cannot repair.
    #[error("corrupt {path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The database is shutting down or its writer stopped after an error.
    #[error("the database is closed: {0}")]
    Closed(String),
    /// A rollup file failed.
    #[error(transparent)]
    RollupFile(#[from] crate::rollup::file::RollupFileError),
    /// Rollups could not be built or merged.
    #[error("rollup: {0}")]
    Rollup(#[from] crate::rollup::RollupError),
    /// A compaction round failed (the files it was merging stay live).
    #[error("compaction failed: {0}")]
    Compaction(String),
    /// Settings that would make the store inconsistent.
    #[error("invalid engine options: {0}")]
    InvalidOptions(String),
    /// A rollup read that cannot be answered as asked.
    #[error("{0}")]
    InvalidQuery(String),
}

impl EngineError {
    /// Wraps an I/O error with the operation and path.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        EngineError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
