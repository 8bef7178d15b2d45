//! The database: ties the WAL, head, segments and index together behind one handle.
//!
//! Data directory:
//! ```text
//! LOCK          held (flock) while a process has the store open
//! MANIFEST      live segments + where WAL replay starts (see manifest.rs)
//! series.log    series key -> id (see series.rs)
//! wal/          write-ahead log files (see wal.rs)
//! segments/     immutable segment files, `<seq>.seg` (see segment.rs)
//! rollups/      immutable rollup files, `<seq>.rup`: 1m/1h/1d aggregates (see rollup/file)
//! quarantine/   damaged files moved aside at start-up
//! ```
//!
//! Threads and the write path:
//! - Callers of [`Db::write`] send their batch over a bounded crossbeam channel to the single
//!   **writer** thread and wait for its answer; a full channel blocks them (back-pressure from a
//!   slow disk reaches the client instead of growing memory).
//! - The writer drains whatever batches are queued (group commit), checks field types, appends
//!   them to the WAL in one write + one fsync, applies them to the active head, then answers.
//!   So a write is acknowledged only once it is durable under the sync policy.
//! - To flush, the writer rotates the WAL (everything so far is in files `< n`), freezes the
//!   active head and starts a new one; the **flusher** thread writes the frozen head into
//!   segments, syncs the series log, commits a new manifest (`wal_from = n`), swaps the segments
//!   into the read view and only then lets the writer delete WAL files `< n`.
//!
//! - Each flush also writes one rollup file per partition it touches, committed by the same
//!   manifest (see `flush.rs` for how late points and last-write-wins rewrites stay exact). The
//!   **compactor** thread merges a partition's segments and rollup files, drops expired data and
//!   commits through the same manifest lock (`compact.rs`).
//!
//! Readers take a snapshot of the view (segments, frozen head, active head) under a short read
//! lock, so they never wait for a flush, and merge what they find: segments in sequence order,
//! then the frozen head, then the active head, with last-write-wins per timestamp for metric
//! measurements.

use crate::batch::WriteBatch;
use crate::cache::{BlockCache, CacheStats};
use crate::error::EngineError;
use crate::fsutil;
use crate::head::Head;
use crate::manifest::Manifest;
use crate::options::{MeasurementKind, Options};
use crate::retention::{Keep, Level, RetentionLayers, RetentionPolicy};
use crate::rollup::file::{RollupFile, RollupFileError};
use crate::segment::Segment;
use crate::selector::Selector;
use crate::series::SeriesRegistry;
use crate::types::{FieldColumn, FieldType, Nanos, SeriesId, TimeRange};
use crate::wal::{Wal, WalOptions, KIND_WRITE_BATCH};
use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use std::collections::BTreeMap;

mod commit;
pub mod compact;
mod flush;
mod rollup_build;
mod rollups;
mod scan;

pub use compact::CompactReport;
pub use rollups::{plan, FieldRollup, GroupRollup, RollupAnswer, RollupQuery, Source};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Most batches one group commit takes from the queue.
const MAX_GROUP: usize = 256;
/// How often the writer wakes without work (interval fsync, timed flush).
const TICK: Duration = Duration::from_millis(50);

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
    /// Rollup files opened and serving.
    pub rollup_files: usize,
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
    /// Points refused by the engine (field type conflicts) since start.
    pub points_rejected: u64,
    /// Bytes in WAL files on disk.
    pub wal_bytes: u64,
    /// Points in the in-memory head (active and being flushed).
    pub head_points: u64,
    /// Estimated bytes of the in-memory head.
    pub head_bytes: u64,
    /// Segment files serving.
    pub segments: u64,
    /// Bytes of segment files on disk.
    pub segment_bytes: u64,
    /// Rollup files serving.
    pub rollup_files: u64,
    /// Compressed bytes of each rollup tier on disk (1m, 1h, 1d).
    pub rollup_bytes: [u64; 3],
    /// Series known.
    pub series: u64,
    /// Head flushes completed since start.
    pub flushes: u64,
    /// Head flushes that failed since start (retried).
    pub flush_errors: u64,
    /// Partitions compacted since start.
    pub compactions: u64,
    /// Compactions that failed since start (retried on the compactor's next round).
    pub compaction_errors: u64,
    /// Bytes compaction read and wrote since start.
    pub compaction_bytes: u64,
    /// Batches waiting for the writer right now.
    pub write_queue_depth: u64,
    /// Files quarantined since start (including at start-up).
    pub quarantined: u64,
    /// The shared cache of decompressed rollup blocks.
    pub block_cache: CacheStats,
}

/// What a flush wrote.
#[derive(Debug, Clone, Default)]
pub struct FlushReport {
    /// Segments written.
    pub segments: usize,
    /// Rollup files written.
    pub rollup_files: usize,
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

/// A point the engine refused although it parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointRejection {
    /// Position of the point in the batch (0-based).
    pub index: usize,
    /// Why, in words a person can act on.
    pub reason: String,
}

/// The outcome of [`Db::write`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// Points stored.
    pub written: usize,
    /// Points refused; the others were stored.
    pub rejected: Vec<PointRejection>,
}

/// What readers see: immutable segments plus the heads not yet in them.
#[derive(Debug, Clone)]
struct View {
    segments: Arc<Vec<Arc<Segment>>>,
    /// Rollup files in commit order (per partition, later = newer).
    rollups: Arc<Vec<Arc<RollupFile>>>,
    frozen: Option<Arc<RwLock<Head>>>,
    active: Arc<RwLock<Head>>,
}

#[derive(Debug, Default)]
struct Counters {
    points_written: AtomicU64,
    batches_written: AtomicU64,
    points_rejected: AtomicU64,
    wal_bytes: AtomicU64,
    flushes: AtomicU64,
    flush_errors: AtomicU64,
    compactions: AtomicU64,
    compaction_errors: AtomicU64,
    compaction_bytes: AtomicU64,
    quarantined: AtomicU64,
}

/// State shared by the handle and the threads.
#[derive(Debug)]
struct Shared {
    dir: PathBuf,
    seg_dir: PathBuf,
    rollup_dir: PathBuf,
    opts: Options,
    /// The committed manifest. Flushes and compactions commit under this lock, one at a time.
    manifest: Mutex<Manifest>,
    registry: RwLock<SeriesRegistry>,
    view: RwLock<View>,
    counters: Counters,
    closed: AtomicBool,
    /// The configured retention and the run-time changes over it (persisted in `RETENTION`).
    layers: Mutex<RetentionLayers>,
    /// The policy in force (derived from `layers`, read on every query).
    retention: RwLock<RetentionPolicy>,
    /// Decompressed rollup blocks, shared by every rollup file.
    block_cache: Arc<BlockCache>,
    /// Field types per measurement, as written (segments, then the replayed WAL, then new
    /// writes). The writer checks every point against it.
    schema: RwLock<Schema>,
}

impl Shared {
    /// The oldest timestamp of `measurement` still kept at `level`, if it expires.
    fn cutoff(&self, measurement: &str, level: Level) -> Option<Nanos> {
        read(&self.retention)
            .keep(measurement, level)
            .cutoff(crate::retention::now_nanos())
    }

    /// The cutoff of series `id`'s measurement at `level`.
    fn series_cutoff(&self, id: SeriesId, level: Level) -> Option<Nanos> {
        // Lock order registry -> retention; nothing takes them the other way round.
        let reg = read(&self.registry);
        let name = reg.measurement_name(reg.measurement_id(id)?)?;
        // Projection series expire with their measurement.
        self.cutoff(crate::projection::base_measurement(name), level)
    }

    /// Whether series `id` is of a metric measurement (last write wins) rather than events.
    fn last_write_wins(&self, id: SeriesId) -> bool {
        let reg = read(&self.registry);
        reg.measurement_id(id)
            .and_then(|m| reg.measurement_name(m))
            .is_none_or(|m| self.opts.kind_of(m) == MeasurementKind::Metric)
    }
}

type Reply<T> = Sender<Result<T, EngineError>>;

enum Request {
    Write {
        batch: WriteBatch,
        reply: Reply<WriteSummary>,
    },
    Flush {
        reply: Reply<FlushReport>,
    },
    Close {
        reply: Reply<()>,
    },
}

struct FlushJob {
    head: Arc<RwLock<Head>>,
    wal_to: u64,
}

struct FlushDone {
    wal_to: u64,
    result: Result<FlushReport, String>,
}

/// An open database. Share it behind an `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct Db {
    shared: Arc<Shared>,
    tx: Sender<Request>,
    writer: Mutex<Option<JoinHandle<()>>>,
    compactor: Mutex<Option<(Sender<compact::Request>, JoinHandle<()>)>>,
    recovery: RecoveryReport,
    _lock: File,
}

impl Db {
    /// Opens (creating if needed) the database in `dir`: takes the directory lock, loads the
    /// series index and segments (quarantining corrupt ones), replays the WAL (truncating a torn
    /// tail) and starts the writer and flusher threads.
    pub fn open(dir: impl AsRef<Path>, opts: Options) -> Result<Db, EngineError> {
        opts.validate().map_err(EngineError::InvalidOptions)?;
        let dir = dir.as_ref().to_path_buf();
        let seg_dir = dir.join("segments");
        let rollup_dir = dir.join("rollups");
        let wal_dir = dir.join("wal");
        for d in [&dir, &seg_dir, &rollup_dir, &wal_dir] {
            std::fs::create_dir_all(d).map_err(|e| EngineError::io("create directory", d, e))?;
        }
        let lock_path = dir.join("LOCK");
        let lock = File::create(&lock_path)
            .map_err(|e| EngineError::io("create lock file", &lock_path, e))?;
        if lock.try_lock().is_err() {
            return Err(EngineError::Locked(dir));
        }
        for d in [&dir, &seg_dir, &rollup_dir] {
            for p in fsutil::remove_tmp_files(d)
                .map_err(|e| EngineError::io("clean temporary files in", d, e))?
            {
                tracing::info!(path = %p.display(), "removed temporary file left by a crash");
            }
        }

        let layers = load_retention(&dir, &opts)?;
        let mut report = RecoveryReport::default();
        let mut manifest = Manifest::load(&dir)?.unwrap_or_default();
        let listed = (manifest.segments.len(), manifest.rollups.len());
        let block_cache = Arc::new(BlockCache::new(opts.block_cache_bytes));
        let segments = load_files(&dir, &seg_dir, &mut manifest.segments, &mut report, |p| {
            open_segment(p, &block_cache).map_err(|e| e.to_string())
        })?;
        let rollups = load_files(&dir, &rollup_dir, &mut manifest.rollups, &mut report, |p| {
            open_rollup(p, &block_cache).map_err(|e| e.to_string())
        })?;
        report.segments = segments.len();
        report.rollup_files = rollups.len();
        if listed != (manifest.segments.len(), manifest.rollups.len()) {
            manifest.store(&dir)?;
        }

        let (mut registry, repair) = SeriesRegistry::open(&dir.join("series.log"))?;
        if let Some((kept, reason)) = repair.truncated {
            report
                .wal_truncated
                .push((dir.join("series.log"), kept, reason));
        }

        let mut head = Head::default();
        let wal_opts = WalOptions {
            sync: opts.sync,
            ..WalOptions::default()
        };
        let (wal, replay) = {
            let reg = &mut registry;
            let head = &mut head;
            let report = &mut report;
            Wal::open(
                &wal_dir,
                manifest.wal_from,
                wal_opts,
                |_file, kind, payload| {
                    if kind != KIND_WRITE_BATCH {
                        return Ok(());
                    }
                    let batch = WriteBatch::from_bytes(payload.to_vec())?;
                    report.wal_records += 1;
                    for p in batch.iter() {
                        let p = p?;
                        let id = reg.get_or_create(p.key)?;
                        head.apply(id, &p);
                        report.wal_points += 1;
                    }
                    Ok::<(), EngineError>(())
                },
            )?
        };
        // The WAL logged its own truncations and quarantines as it made them.
        report.wal_truncated.extend(replay.truncated);
        report.quarantined.extend(replay.quarantined);
        report.series = registry.len();
        // Field types: segments oldest first, then the replayed head. Every point was checked
        // when first written, so the first type seen stands.
        let mut schema = Schema::default();
        for seg in &segments {
            for (id, field, ty) in seg.field_types()? {
                if let Some(m) = registry.measurement_id(id) {
                    let _ = schema.check_and_add(m, &[(field, ty)]);
                }
            }
        }
        for (id, field, ty) in head.field_types() {
            if let Some(m) = registry.measurement_id(id) {
                let _ = schema.check_and_add(m, &[(field, ty)]);
            }
        }
        for (from, to, reason) in report
            .quarantined
            .iter()
            .filter(|q| q.0.starts_with(&seg_dir) || q.0.starts_with(&rollup_dir))
        {
            tracing::error!(path = %from.display(), moved_to = %to.display(), reason = %reason, "quarantined damaged file; the rest of the store keeps serving");
        }

        let shared = Arc::new(Shared {
            dir: dir.clone(),
            seg_dir,
            rollup_dir,
            opts: opts.clone(),
            manifest: Mutex::new(manifest),
            registry: RwLock::new(registry),
            view: RwLock::new(View {
                segments: Arc::new(segments),
                rollups: Arc::new(rollups),
                frozen: None,
                active: Arc::new(RwLock::new(head)),
            }),
            counters: Counters::default(),
            closed: AtomicBool::new(false),
            retention: RwLock::new(layers.effective()),
            layers: Mutex::new(layers),
            block_cache,
            schema: RwLock::new(schema),
        });
        shared
            .counters
            .quarantined
            .store(report.quarantined.len() as u64, Ordering::Relaxed);
        shared
            .counters
            .wal_bytes
            .store(wal.size_bytes(), Ordering::Relaxed);

        let (tx, rx) = bounded(opts.write_queue.max(1));
        let (job_tx, job_rx) = bounded::<FlushJob>(1);
        let (done_tx, done_rx) = unbounded::<FlushDone>();
        let (compact_tx, compact_rx) = bounded::<compact::Request>(16);
        let compactor = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("tally-compactor".into())
                .spawn(move || compact::compactor_loop(&shared, &compact_rx))
                .map_err(|e| EngineError::io("start compactor thread for", &dir, e))?
        };
        let flusher = {
            let shared = shared.clone();
            let nudge = compact_tx.clone();
            std::thread::Builder::new()
                .name("tally-flusher".into())
                .spawn(move || flush::flusher_loop(&shared, &job_rx, &done_tx, &nudge))
                .map_err(|e| EngineError::io("start flusher thread for", &dir, e))?
        };
        let writer = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("tally-writer".into())
                .spawn(move || {
                    let mut w = Writer {
                        shared,
                        wal,
                        rx,
                        job_tx: Some(job_tx),
                        done_rx,
                        flusher: Some(flusher),
                        flushing: false,
                        waiters_current: Vec::new(),
                        waiters_next: Vec::new(),
                        last_flush: Instant::now(),
                    };
                    w.run();
                })
                .map_err(|e| EngineError::io("start writer thread for", &dir, e))?
        };
        Ok(Db {
            shared,
            tx,
            writer: Mutex::new(Some(writer)),
            compactor: Mutex::new(Some((compact_tx, compactor))),
            recovery: report,
            _lock: lock,
        })
    }

    /// Appends `batch` to the WAL and the head. Returns once the batch is durable under the sync
    /// policy; blocks while the write queue is full (back-pressure). Call from a blocking context.
    ///
    /// Points whose field type conflicts with what the series already holds are refused and
    /// listed in the summary; the rest of the batch is stored.
    pub fn write(&self, batch: WriteBatch) -> Result<WriteSummary, EngineError> {
        if batch.is_empty() {
            return Ok(WriteSummary::default());
        }
        let (reply, rx) = bounded(1);
        self.send(Request::Write { batch, reply })?;
        rx.recv().unwrap_or_else(|_| Err(closed()))
    }

    /// Writes the head to segments now and trims the WAL. Everything written before the call is
    /// in segments when it returns.
    pub fn flush(&self) -> Result<FlushReport, EngineError> {
        let (reply, rx) = bounded(1);
        self.send(Request::Flush { reply })?;
        rx.recv().unwrap_or_else(|_| Err(closed()))
    }

    /// Flushes, syncs and stops the background threads. Later calls do nothing; later writes
    /// fail with [`EngineError::Closed`].
    pub fn close(&self) -> Result<(), EngineError> {
        let Some(handle) = self.writer.lock().ok().and_then(|mut w| w.take()) else {
            return Ok(());
        };
        let (reply, rx) = bounded(1);
        let res = match self.tx.send(Request::Close { reply }) {
            Ok(()) => rx.recv().unwrap_or_else(|_| Err(closed())),
            Err(_) => Err(closed()),
        };
        self.shared.closed.store(true, Ordering::SeqCst);
        let _ = handle.join();
        if let Some((tx, handle)) = self.compactor.lock().ok().and_then(|mut c| c.take()) {
            drop(tx);
            let _ = handle.join();
        }
        res
    }

    /// Runs a compaction round now (merge partitions with many files, drop expired data) and
    /// returns when it is done. The compactor also runs on its own after flushes and every
    /// few seconds; this is for tests, benchmarks and `POST /admin/compact`.
    pub fn compact(&self) -> Result<compact::CompactReport, EngineError> {
        let tx = match self.compactor.lock() {
            Ok(c) => c.as_ref().map(|(tx, _)| tx.clone()),
            Err(_) => None,
        }
        .ok_or_else(closed)?;
        let (reply, rx) = bounded(1);
        tx.send(compact::Request::Now(reply))
            .map_err(|_| closed())?;
        rx.recv().unwrap_or_else(|_| Err(closed()))
    }

    fn send(&self, req: Request) -> Result<(), EngineError> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(closed());
        }
        self.tx.send(req).map_err(|_| closed())
    }

    /// What start-up found and repaired.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// Current counters.
    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        let view = self.view();
        let (mut head_points, mut head_bytes) = (0, 0);
        for h in std::iter::once(&view.active).chain(view.frozen.iter()) {
            let h = read(h);
            head_points += h.points();
            head_bytes += h.bytes() as u64;
        }
        Stats {
            points_written: c.points_written.load(Ordering::Relaxed),
            batches_written: c.batches_written.load(Ordering::Relaxed),
            points_rejected: c.points_rejected.load(Ordering::Relaxed),
            wal_bytes: c.wal_bytes.load(Ordering::Relaxed),
            head_points,
            head_bytes,
            segments: view.segments.len() as u64,
            segment_bytes: view.segments.iter().map(|s| s.size_bytes()).sum(),
            rollup_files: view.rollups.len() as u64,
            rollup_bytes: view.rollups.iter().fold([0; 3], |mut acc, r| {
                for (a, b) in acc.iter_mut().zip(r.meta().bytes) {
                    *a += b;
                }
                acc
            }),
            compaction_bytes: c.compaction_bytes.load(Ordering::Relaxed),
            block_cache: self.shared.block_cache.stats(),
            series: read(&self.shared.registry).len() as u64,
            flushes: c.flushes.load(Ordering::Relaxed),
            flush_errors: c.flush_errors.load(Ordering::Relaxed),
            compactions: c.compactions.load(Ordering::Relaxed),
            compaction_errors: c.compaction_errors.load(Ordering::Relaxed),
            write_queue_depth: self.tx.len() as u64,
            quarantined: c.quarantined.load(Ordering::Relaxed),
        }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// The settings the database runs with.
    pub fn options(&self) -> &Options {
        &self.shared.opts
    }

    /// Sets how long `level` of `measurement` is kept (`measurement = None`: the default of
    /// every measurement), or with `keep = None` removes that run-time change so the level follows
    /// the configuration again. The change is kept in the data directory (`RETENTION`), so it
    /// survives restarts and config reloads. Takes effect at once for reads; the compactor
    /// removes expired data from disk on its next round.
    pub fn set_retention(
        &self,
        measurement: Option<&str>,
        level: Level,
        keep: Option<Keep>,
    ) -> Result<(), EngineError> {
        let mut layers = self
            .shared
            .layers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut next = layers.clone();
        next.set(measurement, level, keep);
        let path = self.shared.dir.join(RETENTION_FILE);
        fsutil::write_atomic(&path, next.encode_changes().as_bytes())
            .map_err(|e| EngineError::io("write", &path, e))?;
        *write(&self.shared.retention) = next.effective();
        *layers = next;
        drop(layers);
        self.nudge_compactor();
        Ok(())
    }

    /// Replaces the configured retention (a config reload); run-time changes stay on top.
    pub fn set_configured_retention(&self, policy: RetentionPolicy) {
        let mut layers = self
            .shared
            .layers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        layers.config = policy;
        *write(&self.shared.retention) = layers.effective();
        drop(layers);
        self.nudge_compactor();
    }

    /// The retention in force: the default and the per-measurement overrides.
    pub fn retention(&self) -> RetentionPolicy {
        read(&self.shared.retention).clone()
    }

    /// The configured retention and the run-time changes over it.
    pub fn retention_layers(&self) -> RetentionLayers {
        self.shared
            .layers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn nudge_compactor(&self) {
        if let Ok(c) = self.compactor.lock() {
            if let Some((tx, _)) = c.as_ref() {
                let _ = tx.try_send(compact::Request::Nudge);
            }
        }
    }

    /// Every measurement name, sorted (the engine's internal projection series not included).
    pub fn measurements(&self) -> Vec<String> {
        let reg = read(&self.shared.registry);
        reg.index()
            .measurements()
            .filter(|m| !m.contains(crate::projection::MARK))
            .map(str::to_owned)
            .collect()
    }

    /// Field keys of a measurement and their types, sorted by name.
    pub fn field_keys(&self, measurement: &str) -> Vec<(String, FieldType)> {
        let reg = read(&self.shared.registry);
        let Some(m) = reg.measurement_id_of(measurement) else {
            return Vec::new();
        };
        let schema = read(&self.shared.schema);
        let mut out: Vec<(String, FieldType)> = schema
            .fields
            .get(m as usize)
            .map(|f| f.iter().map(|(n, t)| (n.to_string(), *t)).collect())
            .unwrap_or_default();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Tag keys of a measurement, sorted.
    pub fn tag_keys(&self, measurement: &str) -> Vec<String> {
        let reg = read(&self.shared.registry);
        let keys = reg.index().tag_keys(measurement);
        keys.into_iter().map(str::to_owned).collect()
    }

    /// Values of one tag key of a measurement, sorted.
    pub fn tag_values(&self, measurement: &str, key: &str) -> Vec<String> {
        let reg = read(&self.shared.registry);
        let values = reg.index().tag_values(measurement, key);
        values.into_iter().map(str::to_owned).collect()
    }

    /// The series `sel` picks, in id order.
    pub fn series(&self, sel: &Selector) -> Vec<SeriesInfo> {
        let reg = read(&self.shared.registry);
        reg.index()
            .select(sel)
            .iter()
            .filter_map(|id| series_info(&reg, SeriesId(id)))
            .collect()
    }

    /// Reads the points of the series `sel` picks in `range`, head and segments merged, with
    /// last-write-wins applied for metric measurements. `fields` limits the columns (None: all).
    pub fn read(
        &self,
        sel: &Selector,
        range: TimeRange,
        fields: Option<&[&str]>,
    ) -> Result<Vec<SeriesData>, EngineError> {
        // Expired points disappear from answers at once; compaction removes them from disk.
        let mut range = range;
        if let Some(cutoff) = self.shared.cutoff(&sel.measurement, Level::Raw) {
            range.start = range.start.max(cutoff);
        }
        if range.start >= range.end {
            return Ok(Vec::new());
        }
        let series = self.series(sel);
        let view = self.view();
        let lww = self.shared.opts.kind_of(&sel.measurement) == MeasurementKind::Metric;
        let ids: Vec<SeriesId> = series.iter().map(|s| s.id).collect();
        let cols = self.read_raw(&view, &ids, fields, range, lww)?;
        Ok(series
            .into_iter()
            .zip(cols)
            .filter(|(_, fields)| !fields.is_empty())
            .map(|(series, fields)| SeriesData { series, fields })
            .collect())
    }

    /// Reads the points of the given series of `measurement` (ids ascending, as
    /// [`Db::series`] returns them) in `range`, like [`Db::read`] but without selecting the
    /// series again: a query reading many partitions resolves its series once. One entry per
    /// id, in order (empty when the series has no point in the range).
    pub fn read_series(
        &self,
        measurement: &str,
        ids: &[SeriesId],
        range: TimeRange,
        fields: Option<&[&str]>,
    ) -> Result<Vec<Vec<FieldColumn>>, EngineError> {
        let Some(range) = self.raw_read_range(measurement, ids, range, "read_series")? else {
            return Ok(vec![Vec::new(); ids.len()]);
        };
        let view = self.view();
        let lww = self.shared.opts.kind_of(measurement) == MeasurementKind::Metric;
        self.read_raw(&view, ids, fields, range, lww)
    }

    /// What of `range` a raw read of `ids` in `measurement` covers: clipped to raw retention
    /// (expired points disappear at once), `None` when nothing is left to read. `ids` must be
    /// ascending and distinct; `caller` names the read in the error.
    fn raw_read_range(
        &self,
        measurement: &str,
        ids: &[SeriesId],
        range: TimeRange,
        caller: &str,
    ) -> Result<Option<TimeRange>, EngineError> {
        let mut range = range;
        if let Some(cutoff) = self.shared.cutoff(measurement, Level::Raw) {
            range.start = range.start.max(cutoff);
        }
        if range.start >= range.end || ids.is_empty() {
            return Ok(None);
        }
        if ids.windows(2).any(|w| w[0] >= w[1]) {
            return Err(EngineError::InvalidQuery(format!(
                "{caller} needs ascending, distinct series ids"
            )));
        }
        Ok(Some(range))
    }

    fn view(&self) -> View {
        read(&self.shared.view).clone()
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::error!(error = %e, "closing the database on drop failed; the WAL still holds every acknowledged write");
        }
    }
}

fn closed() -> EngineError {
    EngineError::Closed("it was closed or its writer stopped; see the log for the cause".into())
}

/// Takes a read lock. A lock poisoned by a panic elsewhere is used anyway: every structure
/// behind these locks is append-only or swapped whole, so it is never seen half-changed.
fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

/// Takes a write lock; see [`read`] for poisoning.
fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

/// Opens a rollup file whose reads share `cache`.
/// Opens a segment whose reads use the database's block cache.
fn open_segment(
    path: &Path,
    cache: &Arc<BlockCache>,
) -> Result<Segment, crate::segment::SegmentError> {
    Ok(Segment::open(path)?.with_cache(Arc::clone(cache)))
}

fn open_rollup(path: &Path, cache: &Arc<BlockCache>) -> Result<RollupFile, RollupFileError> {
    Ok(RollupFile::open(path)?.with_cache(Arc::clone(cache)))
}

fn series_info(reg: &SeriesRegistry, id: SeriesId) -> Option<SeriesInfo> {
    let key = reg.key(id)?;
    Some(SeriesInfo {
        id,
        measurement: key.measurement().to_owned(),
        tags: key
            .tags()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    })
}

/// Concatenates the parts of each field (oldest source first), sorts them by time and applies
/// last-write-wins for metrics. A part whose type differs from the newest part's is dropped
/// with a warning: it can only come from a field whose type changed between flushes.
fn merge_columns(series: SeriesId, parts: Vec<FieldColumn>, lww: bool) -> Vec<FieldColumn> {
    // Most series of a wide read have nothing in the range: no map to build or drop.
    if parts.is_empty() {
        return parts;
    }
    let mut by_name: BTreeMap<String, Vec<FieldColumn>> = BTreeMap::new();
    for p in parts {
        by_name.entry(p.name.clone()).or_default().push(p);
    }
    let mut out = Vec::with_capacity(by_name.len());
    for (name, mut cols) in by_name {
        let ty = cols.last().map(|c| c.values.field_type());
        let mut merged = match cols.len() {
            1 => cols.pop(),
            _ => {
                let mut first: Option<FieldColumn> = None;
                for c in cols {
                    if Some(c.values.field_type()) != ty {
                        tracing::warn!(series = series.0, field = %name,
                            "skipping points stored with an older field type");
                        continue;
                    }
                    match &mut first {
                        None => first = Some(c),
                        Some(f) => {
                            f.ts.extend_from_slice(&c.ts);
                            f.values.extend_from(&c.values);
                        }
                    }
                }
                first
            }
        };
        if let Some(mut m) = merged.take() {
            m.sort_dedup(lww);
            out.push(m);
        }
    }
    out
}

/// Name of a rollup file: `<seq>.rup`, or `<seq>p.rup` for one holding projection series only
/// (kept apart so reading a projection decompresses only projection entries; compaction merges
/// the two kinds separately).
fn rollup_file_name(seq: u64, projection: bool) -> String {
    format!("{seq:016x}{}.rup", if projection { "p" } else { "" })
}

/// Whether a rollup file holds projection series (see [`rollup_file_name`]).
fn is_projection_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with("p.rup"))
}

/// File in the data directory holding run-time retention changes.
const RETENTION_FILE: &str = "RETENTION";

/// The configured retention plus the run-time changes saved in the data directory.
fn load_retention(dir: &Path, opts: &Options) -> Result<RetentionLayers, EngineError> {
    let path = dir.join(RETENTION_FILE);
    let changes = match std::fs::read_to_string(&path) {
        Ok(text) => RetentionLayers::decode_changes(&text).map_err(|reason| EngineError::Corrupt {
            path: path.clone(),
            reason: format!("{reason}; fix or delete the file (it holds retention changes made through the admin API) and start again"),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(EngineError::io("read", &path, e)),
    };
    Ok(RetentionLayers {
        config: opts.retention.clone(),
        changes,
    })
}

/// Opens the files `names` lists in `sub_dir` (segments or rollup files), in order: deletes the
/// files it does not list (left by an unfinished flush, whose points the WAL still holds, or by a
/// finished compaction) and quarantines those that fail to open, rewriting the manifest without
/// them so the rest of the store keeps serving.
fn load_files<T>(
    dir: &Path,
    sub_dir: &Path,
    names: &mut Vec<String>,
    report: &mut RecoveryReport,
    open: impl Fn(&Path) -> Result<T, String>,
) -> Result<Vec<Arc<T>>, EngineError> {
    let listed: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    for entry in std::fs::read_dir(sub_dir).map_err(|e| EngineError::io("list", sub_dir, e))? {
        let entry = entry.map_err(|e| EngineError::io("list", sub_dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !listed.contains(name.as_str()) {
            let path = entry.path();
            tracing::info!(path = %path.display(), "removing a file the MANIFEST does not list (left by an unfinished flush, whose points the WAL still holds, or by a finished compaction)");
            std::fs::remove_file(&path).map_err(|e| EngineError::io("remove", &path, e))?;
        }
    }
    let mut live = Vec::with_capacity(names.len());
    let mut kept_names = Vec::with_capacity(names.len());
    for name in names.iter() {
        let path = sub_dir.join(name);
        if !path.exists() {
            let reason = "listed in MANIFEST but missing from disk".to_owned();
            tracing::error!(path = %path.display(), "file {reason}; its data is lost");
            report
                .quarantined
                .push((path.clone(), PathBuf::new(), reason));
            continue;
        }
        match open(&path) {
            Ok(s) => {
                live.push(Arc::new(s));
                kept_names.push(name.clone());
            }
            Err(e) => {
                let to = fsutil::quarantine(dir, &path)
                    .map_err(|io| EngineError::io("quarantine", &path, io))?;
                report.quarantined.push((path, to, e));
            }
        }
    }
    if kept_names.len() != names.len() {
        // The caller stores the manifest once both lists are settled.
        *names = kept_names;
    }
    Ok(live)
}

/// Field types per measurement. A field keeps the type it was first written with in its
/// measurement (InfluxDB's rule), so a point's type check is a look-up in a small, hot table
/// instead of a walk into its series' storage.
#[derive(Debug, Default)]
struct Schema {
    /// Indexed by measurement id: (field name, type).
    fields: Vec<Vec<(Box<str>, FieldType)>>,
}

impl Schema {
    /// Checks every field of a point against the measurement's types and, if none conflicts,
    /// records the new ones. On a conflict nothing is recorded: (field, existing, got).
    fn check_and_add<'f>(
        &mut self,
        m: u32,
        fields: &[(&'f str, FieldType)],
    ) -> Result<(), (&'f str, FieldType, FieldType)> {
        let m = m as usize;
        if self.fields.len() <= m {
            self.fields.resize_with(m + 1, Vec::new);
        }
        let known = &mut self.fields[m];
        let mut new = 0;
        for &(name, got) in fields {
            match known.iter().find(|(n, _)| &**n == name) {
                Some(&(_, t)) if t != got => return Err((name, t, got)),
                Some(_) => {}
                None => new += 1,
            }
        }
        if new > 0 {
            for &(name, got) in fields {
                if !known.iter().any(|(n, _)| &**n == name) {
                    known.push((name.into(), got));
                }
            }
        }
        Ok(())
    }
}

/// The writer thread's state: owns the WAL and the active head's mutations.
struct Writer {
    shared: Arc<Shared>,
    wal: Wal,
    rx: Receiver<Request>,
    job_tx: Option<Sender<FlushJob>>,
    done_rx: Receiver<FlushDone>,
    flusher: Option<JoinHandle<()>>,
    flushing: bool,
    /// Callers waiting for the flush in progress.
    waiters_current: Vec<Reply<FlushReport>>,
    /// Callers who asked while a flush was in progress: they need the next one.
    waiters_next: Vec<Reply<FlushReport>>,
    last_flush: Instant,
}

impl Writer {
    fn run(&mut self) {
        loop {
            crossbeam_channel::select! {
                recv(self.rx) -> msg => match msg {
                    Ok(Request::Write { batch, reply }) => {
                        let mut group = vec![(batch, reply)];
                        let mut deferred = Vec::new();
                        while group.len() < MAX_GROUP {
                            match self.rx.try_recv() {
                                Ok(Request::Write { batch, reply }) => group.push((batch, reply)),
                                Ok(other) => { deferred.push(other); break; }
                                Err(_) => break,
                            }
                        }
                        self.write_group(group);
                        for req in deferred {
                            if self.handle_control(req) { return; }
                        }
                    }
                    Ok(other) => if self.handle_control(other) { return; },
                    Err(_) => { self.shutdown(); return; }
                },
                recv(self.done_rx) -> done => if let Ok(done) = done { self.flush_done(done) },
                default(TICK) => {}
            }
            self.maintenance();
        }
    }

    /// Returns true when the writer must stop.
    fn handle_control(&mut self, req: Request) -> bool {
        match req {
            Request::Write { .. } => false,
            Request::Flush { reply } => {
                if self.flushing {
                    self.waiters_next.push(reply);
                } else {
                    self.waiters_current.push(reply);
                    self.start_flush();
                }
                false
            }
            Request::Close { reply } => {
                let res = self.close();
                let _ = reply.send(res);
                true
            }
        }
    }

    fn maintenance(&mut self) {
        if let Err(e) = self.wal.sync_if_due() {
            tracing::error!(error = %e, "periodic WAL fsync failed");
        }
        if self.flushing {
            return;
        }
        let (bytes, empty) = self.active_size();
        if !empty
            && (bytes >= self.shared.opts.head_max_bytes
                || self.last_flush.elapsed() >= self.shared.opts.flush_interval)
        {
            self.start_flush();
        }
    }

    fn write_group(&mut self, group: Vec<(WriteBatch, Reply<WriteSummary>)>) {
        // Back-pressure when flushing cannot keep up: wait for the flush instead of letting
        // the head grow without bound.
        if self.flushing
            && self.active_size().0 >= self.shared.opts.head_max_bytes.saturating_mul(2)
        {
            if let Ok(done) = self.done_rx.recv() {
                self.flush_done(done);
            }
        }
        let view = read(&self.shared.view).clone();
        let mut prepared = Vec::with_capacity(group.len());
        {
            for (batch, reply) in group {
                // Held per batch, not per group, so readers resolving series wait at most for
                // one batch's look-ups.
                let mut reg = write(&self.shared.registry);
                // Lock order: registry, then schema (readers take them the same way).
                let mut schema = write(&self.shared.schema);
                let mut fields: Vec<(&str, FieldType)> = Vec::new();
                let mut ids = Vec::with_capacity(batch.len());
                let mut rejected = Vec::new();
                let mut err = None;
                for (i, p) in batch.iter().enumerate() {
                    let p = match p {
                        Ok(p) => p,
                        Err(e) => {
                            err = Some(EngineError::from(e));
                            break;
                        }
                    };
                    if p.key.measurement().contains(crate::projection::MARK) {
                        rejected.push(PointRejection {
                            index: i,
                            reason: format!(
                                "measurement {:?} contains U+0001, which marks Tally's internal rollup projections; rename the measurement",
                                p.key.measurement()
                            ),
                        });
                        continue;
                    }
                    if let Some((name, _)) = p
                        .fields()
                        .find(|(n, _)| n.contains(crate::projection::MARK))
                    {
                        rejected.push(PointRejection {
                            index: i,
                            reason: format!(
                                "field {name:?} contains U+0001, which marks Tally's internal rollup fields; rename the field"
                            ),
                        });
                        continue;
                    }
                    let id = match reg.get_or_create(p.key) {
                        Ok(id) => id,
                        Err(e) => {
                            err = Some(e);
                            break;
                        }
                    };
                    let m = reg.measurement_id(id).unwrap_or(0);
                    fields.clear();
                    fields.extend(p.fields().map(|(n, v)| (n, v.field_type())));
                    match schema.check_and_add(m, &fields) {
                        Ok(()) => ids.push(id),
                        Err((field, existing, got)) => rejected.push(PointRejection {
                            index: i,
                            reason: EngineError::FieldTypeConflict {
                                series: p.key.to_string(),
                                field: field.to_owned(),
                                existing,
                                got,
                            }
                            .to_string(),
                        }),
                    }
                }
                if let Some(e) = err {
                    let _ = reply.send(Err(e));
                    continue;
                }
                let batch = if rejected.is_empty() {
                    batch
                } else {
                    let mut r = rejected.iter().map(|r| r.index).peekable();
                    batch.retain_points(|i| {
                        if r.peek() == Some(&i) {
                            r.next();
                            false
                        } else {
                            true
                        }
                    })
                };
                prepared.push((batch, ids, rejected, reply));
            }
        }
        let payloads: Vec<&[u8]> = prepared
            .iter()
            .filter(|p| !p.0.is_empty())
            .map(|p| p.0.as_bytes())
            .collect();
        if !payloads.is_empty() {
            if let Err(e) = self.wal.append(KIND_WRITE_BATCH, &payloads) {
                let msg = e.to_string();
                tracing::error!(error = %e, "WAL append failed; the batch was refused and nothing of it is stored");
                for (_, _, _, reply) in prepared {
                    let _ = reply.send(Err(EngineError::WalAppend(msg.clone())));
                }
                return;
            }
        }
        self.shared
            .counters
            .wal_bytes
            .store(self.wal.size_bytes(), Ordering::Relaxed);
        let mut head = write(&view.active);
        let c = &self.shared.counters;
        for (batch, ids, rejected, reply) in prepared {
            for (p, id) in batch.iter().flatten().zip(&ids) {
                head.apply(*id, &p);
            }
            c.points_written
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            c.batches_written.fetch_add(1, Ordering::Relaxed);
            c.points_rejected
                .fetch_add(rejected.len() as u64, Ordering::Relaxed);
            let _ = reply.send(Ok(WriteSummary {
                written: batch.len(),
                rejected,
            }));
        }
    }

    /// Estimated bytes of the active head, and whether it is empty.
    fn active_size(&self) -> (usize, bool) {
        let view = read(&self.shared.view);
        let h = read(&view.active);
        (h.bytes(), h.is_empty())
    }

    /// Rotates the WAL, freezes the active head and hands it to the flusher.
    fn start_flush(&mut self) {
        if self.active_size().1 {
            for w in self.waiters_current.drain(..) {
                let _ = w.send(Ok(FlushReport::default()));
            }
            self.last_flush = Instant::now();
            return;
        }
        let wal_to = match self.wal.rotate() {
            Ok(n) => n,
            Err(e) => {
                let msg = format!("could not rotate the WAL for a flush: {e}");
                tracing::error!("{msg}");
                for w in self.waiters_current.drain(..) {
                    let _ = w.send(Err(EngineError::Closed(msg.clone())));
                }
                return;
            }
        };
        let frozen = {
            let mut v = write(&self.shared.view);
            let frozen = std::mem::replace(&mut v.active, Arc::new(RwLock::new(Head::default())));
            v.frozen = Some(frozen.clone());
            frozen
        };
        self.flushing = true;
        if let Some(tx) = &self.job_tx {
            let _ = tx.send(FlushJob {
                head: frozen,
                wal_to,
            });
        }
    }

    fn flush_done(&mut self, done: FlushDone) {
        self.flushing = false;
        self.last_flush = Instant::now();
        match &done.result {
            Ok(_) => {
                if let Err(e) = self.wal.remove_before(done.wal_to) {
                    tracing::warn!(error = %e, "could not delete WAL files covered by the flush; start-up will");
                }
                self.shared
                    .counters
                    .wal_bytes
                    .store(self.wal.size_bytes(), Ordering::Relaxed);
            }
            Err(e) => {
                tracing::error!(error = %e, "flush failed; its points stay in memory and in the WAL, and it is retried")
            }
        }
        for w in self.waiters_current.drain(..) {
            let _ = w.send(
                done.result
                    .clone()
                    .map_err(|e| EngineError::Closed(format!("flush failed: {e}"))),
            );
        }
        if done.result.is_err() {
            // The frozen head is still the flusher's to retry; nothing new to start.
            self.flushing = true;
            return;
        }
        if !self.waiters_next.is_empty() {
            self.waiters_current = std::mem::take(&mut self.waiters_next);
            self.start_flush();
        }
    }

    fn close(&mut self) -> Result<(), EngineError> {
        // Drain writes already queued so every acknowledged-to-be write is answered.
        let mut queued = Vec::new();
        while let Ok(req) = self.rx.try_recv() {
            match req {
                Request::Write { batch, reply } => queued.push((batch, reply)),
                Request::Flush { reply } => self.waiters_next.push(reply),
                Request::Close { reply } => {
                    let _ = reply.send(Ok(()));
                }
            }
        }
        if !queued.is_empty() {
            self.write_group(queued);
        }
        // Wait for a running flush, then flush what is left. (A WAL that failed refuses to
        // rotate, so the final flush fails too and the WAL keeps everything for the next start.)
        let mut result = Ok(());
        if !self.wait_for_flush() {
            result = Err(EngineError::Closed(
                "the final flush failed; the WAL keeps the data for the next start".into(),
            ));
        } else {
            let (tx, rx) = bounded(1);
            self.waiters_current.push(tx);
            self.start_flush();
            self.wait_for_flush();
            if let Ok(r) = rx.try_recv() {
                result = r.map(|_| ());
            }
        }
        for w in self.waiters_next.drain(..) {
            let _ = w.send(Err(closed()));
        }
        if let Err(e) = self.wal.sync() {
            result = Err(e.into());
        }
        self.shutdown();
        result
    }

    /// Blocks until the flush in progress (if any) ends; false if it failed.
    fn wait_for_flush(&mut self) -> bool {
        while self.flushing {
            match self.done_rx.recv() {
                Ok(done) => {
                    let failed = done.result.is_err();
                    self.flush_done(done);
                    if failed {
                        return false;
                    }
                }
                Err(_) => return false,
            }
        }
        true
    }

    fn shutdown(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.job_tx = None;
        if let Some(f) = self.flusher.take() {
            let _ = f.join();
        }
    }
}
