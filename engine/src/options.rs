//! Engine settings, with defaults that need no configuration.

use crate::retention::RetentionPolicy;
use crate::rollup::RelativeAccuracy;
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
    /// How long raw points and each rollup tier are kept, per measurement (by timestamp, against
    /// the wall clock). Changeable at run time with [`crate::Db::set_retention`].
    pub retention: RetentionPolicy,
    /// Fields whose rollups carry a quantile sketch besides count, sum, min and max. A field
    /// whose name starts with `latency` always does.
    pub distribution_fields: Vec<String>,
    /// Relative accuracy of the quantile sketches (1% by default).
    pub sketch_accuracy: RelativeAccuracy,
    /// Rollups kept at reduced dimensions, per event measurement: each set of tag keys gets
    /// rollups summed over every series with the same values of those tags (like ClickHouse
    /// projections or Druid rollups). A rollup read grouped by (and filtered on) tags within one
    /// set reads these few series instead of every per-request series. Defaults: `requests` by
    /// `endpoint`, by `key`, by `endpoint` + `status_class` and by `key` + `status_class` (the
    /// error rate per endpoint and per key).
    pub projections: Vec<(String, Vec<String>)>,
    /// Width of a time partition: each flush writes one segment (and one rollup file) per
    /// partition it touches. A whole number of days, so a day bucket never spans two partitions.
    pub partition: Duration,
    /// Flush the head once its estimated size passes this many bytes.
    pub head_max_bytes: usize,
    /// Flush the head at least this often when it holds anything.
    pub flush_interval: Duration,
    /// Batches that may wait for the writer before `write` blocks (back-pressure).
    pub write_queue: usize,
    /// zstd level for segment blocks.
    pub zstd_level: i32,
    /// Bytes per second compaction may read plus write (`None`: unthrottled), so merging a large
    /// partition leaves the disk and a core to ingestion and queries.
    pub compaction_bytes_per_sec: Option<u64>,
    /// Bytes of decompressed segment and rollup blocks kept in memory for reuse by later reads
    /// (0: none).
    /// A dashboard that refreshes re-reads the same edge blocks; this keeps them decompressed.
    pub block_cache_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sync: SyncPolicy::EveryBatch,
            event_measurements: vec!["requests".to_owned()],
            retention: RetentionPolicy::default(),
            distribution_fields: Vec::new(),
            sketch_accuracy: RelativeAccuracy::DEFAULT,
            projections: [
                &["endpoint"][..],
                &["key"][..],
                &["endpoint", "status_class"][..],
                &["key", "status_class"][..],
            ]
            .iter()
            .map(|keys| {
                (
                    "requests".to_owned(),
                    keys.iter().map(|k| (*k).to_owned()).collect(),
                )
            })
            .collect(),
            partition: Duration::from_secs(24 * 3600),
            head_max_bytes: 256 << 20,
            flush_interval: Duration::from_secs(600),
            write_queue: 64,
            zstd_level: 3,
            compaction_bytes_per_sec: Some(64 << 20),
            block_cache_bytes: 128 << 20,
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

    /// Whether rollups of `field` carry a quantile sketch.
    pub fn is_distribution_field(&self, field: &str) -> bool {
        field.starts_with("latency") || self.distribution_fields.iter().any(|f| f == field)
    }

    /// The projections (tag key sets, each sorted) of `measurement`; none for metrics, whose
    /// last-write-wins rewrites a summed rollup could not undo.
    pub fn projections_of(&self, measurement: &str) -> Vec<Vec<String>> {
        if self.kind_of(measurement) != MeasurementKind::Event {
            return Vec::new();
        }
        self.projections
            .iter()
            .filter(|(m, _)| m == measurement)
            .map(|(_, keys)| {
                let mut k = keys.clone();
                k.sort();
                k.dedup();
                k
            })
            .collect()
    }

    /// Checks the settings that could make the store inconsistent.
    pub fn validate(&self) -> Result<(), String> {
        for (m, keys) in &self.projections {
            if self.kind_of(m) != MeasurementKind::Event {
                return Err(format!(
                    "projection of '{m}' by {keys:?}: projections are for event measurements only (a summed rollup cannot undo last-write-wins rewrites); list '{m}' in event_measurements or remove the projection"
                ));
            }
            if keys.is_empty() || keys.iter().any(|k| k.is_empty() || k.contains(',')) {
                return Err(format!(
                    "projection of '{m}' by {keys:?}: give one or more tag keys (without commas)"
                ));
            }
        }
        const DAY: u64 = 86_400;
        let p = self.partition;
        if p.is_zero() || p.subsec_nanos() != 0 || !p.as_secs().is_multiple_of(DAY) {
            return Err(format!(
                "partition of {p:?} is not a whole number of days: use 1d (the default) or a multiple"
            ));
        }
        Ok(())
    }
}
