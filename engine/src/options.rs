//! Engine settings, with defaults that need no configuration.

use std::time::Duration;

/// When the WAL is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// fsync before every write is acknowledged (default): an acknowledged point survives power loss.
    #[default]
    EveryBatch,
    /// fsync at most once per interval; a write is acknowledged once it is in the OS page cache,
    /// so a power loss (not a process crash) may lose up to the last interval.
    Interval(Duration),
}

/// How the engine treats two points of one series with the same timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeasurementKind {
    /// The later write replaces the earlier one, field by field (idempotent re-ingest).
    Metric,
    /// Every point is kept, even with equal timestamps (two requests in the same instant).
    Event,
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// WAL fsync policy.
    pub sync: SyncPolicy,
    /// Measurements stored as event streams; every other measurement is a metric.
    pub event_measurements: Vec<String>,
    /// How long raw points of a measurement are kept (by timestamp, against the wall clock);
    /// measurements not listed are kept forever. Changeable at run time with
    /// [`crate::Db::set_retention`].
    pub retention: Vec<(String, Duration)>,
    /// Width of a time partition: each flush writes one segment per partition it touches.
    pub partition: Duration,
    /// Flush the head once its estimated size passes this many bytes.
    pub head_max_bytes: usize,
    /// Flush the head at least this often when it holds anything.
    pub flush_interval: Duration,
    /// Batches that may wait for the writer before `write` blocks (back-pressure).
    pub write_queue: usize,
    /// zstd level for segment blocks.
    pub zstd_level: i32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sync: SyncPolicy::EveryBatch,
            event_measurements: vec!["requests".to_owned()],
            // Raw data is kept until rollups (issue 3) can answer for what retention drops.
            retention: Vec::new(),
            partition: Duration::from_secs(24 * 3600),
            head_max_bytes: 256 << 20,
            flush_interval: Duration::from_secs(600),
            write_queue: 64,
            zstd_level: 3,
        }
    }
}

impl Options {
    /// The kind of `measurement` under these settings.
    pub fn kind_of(&self, measurement: &str) -> MeasurementKind {
        if self.event_measurements.iter().any(|m| m == measurement) {
            MeasurementKind::Event
        } else {
            MeasurementKind::Metric
        }
    }
}
