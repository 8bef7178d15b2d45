//! Immutable columnar segment files: one file per flush of one time partition, holding the
//! timestamp and value columns of many series.
//!
//! Layout (`docs/format.md`, section "Segment files", has it byte by byte):
//! `FILE := [HEADER][BLOCK]*[BLOCK TABLE][INDEX][FOOTER]`. Column payloads come from
//! [`crate::codec`]; the columns of many series are packed back to back into shared blocks of
//! about [`DEFAULT_BLOCK_SIZE`] bytes, each zstd-compressed as a whole, so a series with a handful
//! of points costs a few index bytes, not a block of its own. A field whose timestamps equal those
//! of an earlier field of the same series stores a reference instead of a second timestamp column.
//!
//! Invariants:
//! - A segment file is never modified after it is renamed into place. [`SegmentWriter::finish`]
//!   writes `<path>.tmp`, fsyncs it, renames it over `path` and fsyncs the directory, so a crash
//!   leaves either no file (plus a `.tmp` that start-up deletes) or the complete file.
//! - Series appear in ascending id order; within a series fields appear in ascending name order
//!   and the columns lie in the blocks in exactly the order the index lists them.
//! - [`Segment::open`] checks the footer checksum and a crc32 over every byte before the footer,
//!   then validates every index entry against the block table, before serving any read. Parsing
//!   never panics and never allocates more than the input justifies, whatever the bytes are.
//! - The file is mapped read-only; nothing in Tally writes to a segment after rename, and
//!   compaction deletes (unlinks) old files, which keeps existing mappings valid.

mod format;
mod reader;
mod writer;

pub use reader::Segment;
pub use writer::SegmentWriter;

use crate::types::{SeriesId, TimeRange};
use std::path::PathBuf;
use thiserror::Error;

/// Uncompressed size a block is cut at: large enough for zstd to find redundancy across many
/// small series, small enough that reading one series decompresses little.
pub const DEFAULT_BLOCK_SIZE: usize = 256 * 1024;

/// What a segment holds, from its footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentMeta {
    /// Sequence number given by the writer (orders segments: higher = written later).
    pub seq: u64,
    /// The time partition the segment belongs to.
    pub partition: TimeRange,
    /// Smallest timestamp stored (`i64::MAX` for a segment without points).
    pub min_ts: i64,
    /// Largest timestamp stored (`i64::MIN` for a segment without points).
    pub max_ts: i64,
    /// Points stored: the lengths of all timestamp columns added up. Fields that share their
    /// timestamps with another field of the series (one line-protocol point with several fields)
    /// count once.
    pub points: u64,
    /// Series with at least one column.
    pub series: u32,
    /// Field values stored: the lengths of all value columns added up.
    pub values: u64,
}

/// A segment failure. [`SegmentError::is_corruption`] tells the damaged-file cases (quarantine
/// the file) from the others.
#[derive(Debug, Error)]
pub enum SegmentError {
    /// A file-system call failed.
    #[error("segment {op} {path}: {source}")]
    Io {
        /// Operation.
        op: &'static str,
        /// File.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// The file is shorter than the smallest segment.
    #[error("segment {path} is truncated: {len} bytes, a segment has at least {min}; the file is damaged, quarantine it")]
    Truncated {
        /// File.
        path: PathBuf,
        /// Its length.
        len: u64,
        /// The smallest valid length.
        min: u64,
    },
    /// The file does not carry the segment magic where it must.
    #[error("{path} is not a Tally segment ({what}); it is truncated, damaged or another kind of file, move it out of the segment folder")]
    NotASegment {
        /// File.
        path: PathBuf,
        /// Which check failed.
        what: &'static str,
    },
    /// The file was written in a format version this build does not read.
    #[error("segment {path} has format version {version}, this build of Tally reads version {supported}; run a Tally release that reads it")]
    UnsupportedVersion {
        /// File.
        path: PathBuf,
        /// Version found.
        version: u16,
        /// Version this build reads.
        supported: u16,
    },
    /// A checksum does not match: the bytes changed after they were written.
    #[error("segment {path}: {region} checksum mismatch (stored {stored:08x}, computed {computed:08x}); the file is damaged, quarantine it and restore it from a backup if there is one")]
    Checksum {
        /// File.
        path: PathBuf,
        /// `"footer"` or `"data"` (everything before the footer).
        region: &'static str,
        /// Checksum in the file.
        stored: u32,
        /// Checksum of the bytes read.
        computed: u32,
    },
    /// The checksums match but the contents are inconsistent (a writer bug or a forged file).
    #[error("segment {path} is damaged: {what}; quarantine it")]
    Corrupt {
        /// File.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// [`SegmentWriter::add`] was called with data that breaks its contract (a caller bug).
    #[error("segment writer rejected series {series} field '{field}': {reason}")]
    BadInput {
        /// The series.
        series: SeriesId,
        /// The field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The segment would exceed a limit of the format (a u32 length).
    #[error("segment too large: {0}; flush more often or use smaller partitions")]
    TooLarge(String),
    /// zstd failed to compress (out of memory).
    #[error("segment compression failed: {0}")]
    Compress(#[source] std::io::Error),
}

impl SegmentError {
    /// Whether the error means the file's bytes are damaged (truncated, wrong magic, checksum,
    /// inconsistent contents), so the file should be quarantined. I/O errors, a newer format
    /// version and writer errors are not corruption.
    pub fn is_corruption(&self) -> bool {
        matches!(
            self,
            SegmentError::Truncated { .. }
                | SegmentError::NotASegment { .. }
                | SegmentError::Checksum { .. }
                | SegmentError::Corrupt { .. }
        )
    }
}

#[cfg(test)]
mod tests;
