//! The database: ties the WAL, head, segments and index together behind one handle.
//!
//! (Being written. The public API below is fixed; bodies land next.)

use crate::batch::WriteBatch;
use crate::error::EngineError;
use crate::options::Options;
use crate::selector::Selector;
use crate::types::{FieldColumn, SeriesId, TimeRange};
use std::path::{Path, PathBuf};

/// What start-up found and repaired.
#[derive(Debug, Clone, Default)]
pub struct RecoveryReport {
    /// WAL records replayed into the head.
    pub wal_records: u64,
    /// Points replayed into the head.
    pub wal_points: u64,
    /// WAL files whose torn or corrupt tail was cut off: (file, bytes kept, reason).
    pub wal_truncated: Vec<(PathBuf, u64, String)>,
    /// Files moved to the quarantine folder: (original path, new path, reason).
    pub quarantined: Vec<(PathBuf, PathBuf, String)>,
    /// Segments opened and serving.
    pub segments: usize,
    /// Series known.
    pub series: usize,
}

/// Counters and sizes for `/metrics` and `/health`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Points accepted since start.
    pub points_written: u64,
    /// Batches accepted since start.
    pub batches_written: u64,
    /// Bytes in WAL files on disk.
    pub wal_bytes: u64,
    /// Points in the in-memory head.
    pub head_points: u64,
    /// Estimated bytes of the in-memory head.
    pub head_bytes: u64,
    /// Segment files serving.
    pub segments: u64,
    /// Bytes of segment files on disk.
    pub segment_bytes: u64,
    /// Series known.
    pub series: u64,
    /// Head flushes completed since start.
    pub flushes: u64,
    /// Batches waiting for the writer right now.
    pub write_queue_depth: u64,
    /// Files quarantined since start (including at start-up).
    pub quarantined: u64,
}

/// What a flush wrote.
#[derive(Debug, Clone, Default)]
pub struct FlushReport {
    /// Segments written.
    pub segments: usize,
    /// Points moved from the head to segments.
    pub points: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// A series as the index knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesInfo {
    /// Its id.
    pub id: SeriesId,
    /// Measurement.
    pub measurement: String,
    /// Tags, sorted by key.
    pub tags: Vec<(String, String)>,
}

/// The data of one series read back: its identity and one column per field.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesData {
    /// The series.
    pub series: SeriesInfo,
    /// One column per field that has points in the range, sorted by field name.
    pub fields: Vec<FieldColumn>,
}

/// An open database. Cheap to share behind an `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct Db {
    dir: PathBuf,
    opts: Options,
}

impl Db {
    /// Opens (creating if needed) the database in `dir`: takes the directory lock, loads the
    /// series index and segments (quarantining corrupt ones), replays the WAL (truncating a torn
    /// tail) and starts the writer and flusher threads.
    pub fn open(dir: impl AsRef<Path>, opts: Options) -> Result<Db, EngineError> {
        let _ = (dir.as_ref(), &opts);
        unimplemented!("Db::open is being written")
    }

    /// Appends `batch` to the WAL and the head. Returns once the batch is durable under the sync
    /// policy; blocks while the write queue is full (back-pressure). Call from a blocking context.
    pub fn write(&self, batch: WriteBatch) -> Result<(), EngineError> {
        let _ = batch;
        unimplemented!()
    }

    /// Writes the head to segments now and trims the WAL.
    pub fn flush(&self) -> Result<FlushReport, EngineError> {
        unimplemented!()
    }

    /// Flushes, syncs and stops the background threads.
    pub fn close(&self) -> Result<(), EngineError> {
        unimplemented!()
    }

    /// What start-up found and repaired.
    pub fn recovery(&self) -> &RecoveryReport {
        unimplemented!()
    }

    /// Current counters.
    pub fn stats(&self) -> Stats {
        unimplemented!()
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The settings the database runs with.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Every measurement name, sorted.
    pub fn measurements(&self) -> Vec<String> {
        unimplemented!()
    }

    /// The series `sel` picks, in id order.
    pub fn series(&self, sel: &Selector) -> Vec<SeriesInfo> {
        let _ = sel;
        unimplemented!()
    }

    /// Reads the points of the series `sel` picks in `range`, head and segments merged, with
    /// last-write-wins applied for metric measurements. `fields` limits the columns (None: all).
    pub fn read(
        &self,
        sel: &Selector,
        range: TimeRange,
        fields: Option<&[&str]>,
    ) -> Result<Vec<SeriesData>, EngineError> {
        let _ = (sel, range, fields);
        unimplemented!()
    }
}
