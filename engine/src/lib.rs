//! Tally's storage engine: a write-ahead log, an in-memory head, immutable columnar segments read
//! through mmap, and a tag index of roaring bitmaps.
//!
//! The engine knows nothing of HTTP or line protocol: callers hand it [`WriteBatch`]es and read
//! back [`FieldColumn`]s for the series a [`Selector`] picks. See `docs/format.md` for the files
//! and the crash guarantees, and [`Db`] for the entry point.

pub mod batch;
mod blockio;
pub mod cache;
pub mod codec;
pub mod db;
pub mod error;
pub mod fsutil;
mod head;
pub mod index;
pub mod manifest;
pub mod options;
mod projection;
pub mod retention;
pub mod rollup;
pub mod segment;
pub mod selector;
pub mod series;
pub mod types;
pub mod wal;

pub use batch::{BatchError, PointBuilder, PointRef, PointScratch, SeriesKeyRef, WriteBatch};
pub use db::{
    CompactReport, Db, FieldRollup, FlushReport, GroupRollup, PointRejection, RecoveryReport,
    RollupAnswer, RollupQuery, SeriesData, SeriesInfo, Source, Stats, WriteSummary,
};
pub use error::EngineError;
pub use options::{MeasurementKind, Options, SyncPolicy};
pub use retention::{Keep, Level, Retention, RetentionLayers, RetentionPolicy};
pub use selector::{Selector, TagPredicate};
pub use types::{
    ColumnPiece, ColumnValues, FieldColumn, FieldType, FieldValue, FieldValueRef, Nanos, SeriesId,
    TimeRange,
};
