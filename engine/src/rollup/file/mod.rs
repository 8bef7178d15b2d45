//! Rollup files: the on-disk container for the pre-aggregated rollups of one time partition.
//!
//! A rollup file is in the segment format family (`docs/format.md`, section "Rollup files", has
//! it byte by byte):
//! `FILE := [HEADER][BLOCK]*[BLOCK TABLE][INDEX][FOOTER]`. Each entry is the rollup of one field of
//! one series at one tier: its buckets, encoded by [`encode_buckets`](super::encode_buckets),
//! packed back to back with other entries into zstd-compressed blocks of about
//! [`DEFAULT_BLOCK_SIZE`](crate::segment::DEFAULT_BLOCK_SIZE) raw bytes. The index (itself
//! zstd-compressed) holds a field-name dictionary and, per tier, per series, the entries: field,
//! [`EntryMode`], bucket count and where the bytes lie. Blocks hold nothing but bucket bytes.
//!
//! Invariants:
//! - Entries are stored ordered by (tier, series, field name); blocks are cut at every tier
//!   change, so blocks `[0, n_1m)` hold 1 m entries, the next `n_1h` 1 h entries, the last `n_1d`
//!   1 d entries. A read of one tier decompresses only that tier's blocks, and the compressed
//!   bytes of each tier ([`RollupFileMeta::bytes`]) are exact.
//! - At most one entry per (series, field, tier) in a file. Several files of one partition are
//!   ordered by `seq` (higher = newer) and combine per [`EntryMode`].
//! - Every stored entry has at least one bucket; bucket starts are strictly ascending, aligned to
//!   the tier and inside the footer's `[min_start, max_start]` (checked again on every read).
//! - A rollup file is never modified after it is renamed into place. [`RollupFileWriter::finish`]
//!   writes `<path>.tmp`, fsyncs it, renames it over `path` and fsyncs the directory, so a crash
//!   leaves either no file (plus a `.tmp` that start-up deletes) or the complete file.
//! - [`RollupFile::open`] checks the footer checksum, a crc32 over every byte before the footer,
//!   the header, the block table and every index entry before serving a read. Parsing never
//!   panics and never allocates more than the input justifies, whatever the bytes are.
//! - The file is mapped read-only; compaction replaces files by writing new ones and unlinking the
//!   old, which keeps existing mappings valid.

mod reader;
mod writer;

#[cfg(test)]
mod tests;

pub use reader::RollupFile;
pub use writer::RollupFileWriter;

use super::{RollupBucket, RollupError, Tier};
use crate::blockio::{
    self, decompress, parse_block_table, put_names, put_uvarint, read_names, BlockInfo, Cursor,
    HEADER_LEN, MAX_RAW_LEN,
};
use crate::types::{SeriesId, TimeRange};
use std::io;
use std::path::PathBuf;
use thiserror::Error;

/// How an entry combines with entries of the same (series, field, tier) in OLDER rollup files of
/// the same partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryMode {
    /// Its buckets merge into the older ones (RollupBucket::merge) — new points added.
    Add,
    /// Its buckets replace older buckets of the same start; older buckets at starts it does not
    /// hold are kept (last-write-wins rewrote those buckets from raw data).
    Replace,
}

impl EntryMode {
    /// The on-disk code (the low bit of an index entry's `field_mode`).
    fn code(self) -> u64 {
        match self {
            EntryMode::Add => 0,
            EntryMode::Replace => 1,
        }
    }

    fn from_code(code: u64) -> Self {
        if code & 1 == 0 {
            EntryMode::Add
        } else {
            EntryMode::Replace
        }
    }
}

/// Rollups of one field of one series at one tier.
#[derive(Debug, Clone)]
pub struct RollupEntry {
    /// The series.
    pub series: SeriesId,
    /// The field name.
    pub field: String,
    /// The tier (bucket width) of every bucket.
    pub tier: Tier,
    /// How the entry combines with older files of the partition.
    pub mode: EntryMode,
    /// Ascending by start, aligned to the tier, non-empty buckets.
    pub buckets: Vec<RollupBucket>,
}

/// What a rollup file holds, from its footer and block table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupFileMeta {
    /// Orders the rollup files of a partition: higher = newer.
    pub seq: u64,
    /// The time partition the file belongs to.
    pub partition: TimeRange,
    /// Entries stored, all tiers.
    pub entries: u64,
    /// Buckets stored per tier, indexed like [`Tier::ALL`] (minute, hour, day).
    pub buckets: [u64; 3],
    /// Compressed bytes of each tier's blocks, indexed like [`Tier::ALL`] (for the disk report).
    pub bytes: [u64; 3],
    /// Smallest bucket start (`i64::MAX` when the file is empty).
    pub min_start: i64,
    /// Largest bucket start (`i64::MIN` when the file is empty).
    pub max_start: i64,
}

/// A rollup file failure. [`RollupFileError::is_corruption`] tells the damaged-file cases
/// (quarantine the file) from the others.
#[derive(Debug, Error)]
pub enum RollupFileError {
    /// A file-system call failed.
    #[error("rollup file {op} {path}: {source}; check free space and the permissions of the data directory")]
    Io {
        /// Operation.
        op: &'static str,
        /// File.
        path: PathBuf,
        /// OS error.
        source: io::Error,
    },
    /// The bytes are not a valid rollup file: truncated, another kind of file, a checksum
    /// mismatch, or contents that no writer produces.
    #[error("rollup file {path} is damaged: {reason}; move it to quarantine and restore it from a backup if there is one")]
    Corrupt {
        /// File.
        path: PathBuf,
        /// What is wrong, and where.
        reason: String,
    },
    /// The file was written in a format version this build does not read.
    #[error("rollup file {path} has format version {version}, this build of Tally reads version {supported}; run a Tally release that reads it")]
    UnsupportedVersion {
        /// File.
        path: PathBuf,
        /// Version found.
        version: u16,
        /// Version this build reads.
        supported: u16,
    },
    /// [`RollupFileWriter::add`] was given an entry that breaks its contract (a caller bug).
    #[error("rollup file writer rejected series {series} field '{field}' tier {}: {reason}", .tier.name())]
    BadInput {
        /// The series.
        series: SeriesId,
        /// The field.
        field: String,
        /// The tier.
        tier: Tier,
        /// What is wrong with the entry.
        reason: String,
    },
    /// The file would exceed a limit of the format (a u32 length or count).
    #[error("rollup file too large: {0}; use smaller partitions")]
    TooLarge(String),
    /// zstd failed to compress (out of memory).
    #[error("rollup file compression failed: {0}")]
    Compress(#[source] io::Error),
    /// Encoding buckets failed (see the message of the inner error for the fix).
    #[error("rollup file: {0}")]
    Encoding(#[from] RollupError),
}

impl RollupFileError {
    /// Whether the error means the file's bytes are damaged (truncated, not a rollup file,
    /// checksum, inconsistent contents), so the file should be quarantined. I/O errors, a newer
    /// format version and writer errors are not corruption.
    pub fn is_corruption(&self) -> bool {
        matches!(self, RollupFileError::Corrupt { .. })
    }
}

// ---- Layout constants and primitives shared by the writer, the reader and the tests. ----
//
// The header shape, the block table, the name dictionary and the byte primitives are shared with
// segment files and live in `crate::blockio`; the reader, the writer and the tests import them
// through here.

/// First eight bytes of every rollup file, repeated near the end of the footer.
const MAGIC: [u8; 8] = *b"TALLYRUP";

/// The format version this build writes and reads.
const VERSION: u16 = 1;

/// Size of the fixed footer at the end of the file (see [`Footer`]).
const FOOTER_LEN: usize = 138;

/// Bytes of the footer covered by the footer checksum: everything before `footer_crc`.
const FOOTER_CRC_COVERS: usize = 124;

/// Position of a tier in [`Tier::ALL`], which is also its position in the file.
fn tier_index(tier: Tier) -> usize {
    match tier {
        Tier::Minute => 0,
        Tier::Hour => 1,
        Tier::Day => 2,
    }
}

/// The header: rollup-file magic, version and feature flags (none defined in version 1).
fn encode_header(out: &mut Vec<u8>) {
    blockio::encode_header(out, &MAGIC, VERSION);
}

/// The fixed-size footer. On disk, in this order, all little-endian: the fields below (with a
/// reserved u32 before `data_crc`), then `footer_crc u32`, `MAGIC`, `VERSION u16`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Footer {
    block_table_offset: u64,
    block_count: u32,
    index_offset: u64,
    index_len: u64,
    index_raw_len: u32,
    seq: u64,
    partition: TimeRange,
    min_start: i64,
    max_start: i64,
    entries: u64,
    /// Per tier, like [`Tier::ALL`].
    buckets: [u64; 3],
    /// Blocks of each tier; they add up to `block_count`.
    tier_blocks: [u32; 3],
    /// crc32 of every byte before the footer.
    data_crc: u32,
}

impl Footer {
    /// Appends the footer, its own checksum, the magic and the version (`FOOTER_LEN` bytes).
    fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&self.block_table_offset.to_le_bytes());
        out.extend_from_slice(&self.block_count.to_le_bytes());
        out.extend_from_slice(&self.index_offset.to_le_bytes());
        out.extend_from_slice(&self.index_len.to_le_bytes());
        out.extend_from_slice(&self.index_raw_len.to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.partition.start.to_le_bytes());
        out.extend_from_slice(&self.partition.end.to_le_bytes());
        out.extend_from_slice(&self.min_start.to_le_bytes());
        out.extend_from_slice(&self.max_start.to_le_bytes());
        out.extend_from_slice(&self.entries.to_le_bytes());
        for b in self.buckets {
            out.extend_from_slice(&b.to_le_bytes());
        }
        for n in self.tier_blocks {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.extend_from_slice(&0u32.to_le_bytes()); // reserved
        out.extend_from_slice(&self.data_crc.to_le_bytes());
        debug_assert_eq!(out.len() - start, FOOTER_CRC_COVERS);
        let crc = crc32fast::hash(&out[start..]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        debug_assert_eq!(out.len() - start, FOOTER_LEN);
    }

    /// Where the footer places the block table and the index.
    fn tail(&self) -> blockio::Tail {
        blockio::Tail {
            block_table_offset: self.block_table_offset,
            block_count: self.block_count,
            index_offset: self.index_offset,
            index_len: self.index_len,
        }
    }

    /// Parses the first `FOOTER_CRC_COVERS` bytes of a footer whose checksum, magic and version
    /// the caller has already checked. Returns `None` only if `b` is too short.
    fn decode(b: &[u8]) -> Option<Footer> {
        let mut c = Cursor::new(b);
        Some(Footer {
            block_table_offset: c.u64()?,
            block_count: c.u32()?,
            index_offset: c.u64()?,
            index_len: c.u64()?,
            index_raw_len: c.u32()?,
            seq: c.u64()?,
            partition: TimeRange::new(c.i64()?, c.i64()?),
            min_start: c.i64()?,
            max_start: c.i64()?,
            entries: c.u64()?,
            buckets: [c.u64()?, c.u64()?, c.u64()?],
            tier_blocks: [c.u32()?, c.u32()?, c.u32()?],
            data_crc: {
                let _reserved = c.u32()?;
                c.u32()?
            },
        })
    }
}
