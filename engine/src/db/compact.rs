//! The compactor thread: merges a partition's segments and rollup files, drops expired data,
//! and commits the result, throttled so ingestion and queries keep their latency.
//!
//! A partition is compacted when it has [`COMPACT_MIN_FILES`] or more segments or rollup files
//! (each flush adds one of each), or when a retention level has expired for the whole partition.
//! Partitions that expire only in part are trimmed when next merged; reads hide their expired
//! data meanwhile (triggering on partial expiry would rewrite the partition every round until it
//! expired whole).
//!
//! Raw points merge with last-write-wins; rollup files merge by resolving their entries in
//! commit order (adds merge, replacements overwrite), which is exactly what a read does, so the
//! merged file answers every read as its inputs did. Rollups are merged rather than rebuilt from
//! raw because raw points expire long before rollups do.
//!
//! Crash safety: the merged files are written under temporary names, fsynced and renamed, then
//! committed by a manifest that lists them in place of their inputs (`commit.rs`). A crash before
//! the commit leaves unlisted files (deleted at start-up); after it, the inputs are unlisted and
//! deleted here or at start-up. The merge takes the place of its newest input in commit order,
//! so a flush committed while it ran stays newer.

use super::commit::{self, CommitExtra};
use super::{merge_columns, read, Shared};
use crate::error::EngineError;
use crate::retention::Level;
use crate::rollup::file::{EntryMode, RollupEntry, RollupFile, RollupFileWriter};
use crate::rollup::{RollupBucket, Tier};
use crate::segment::{Segment, SegmentWriter};
use crate::types::{FieldColumn, Nanos, SeriesId, TimeRange};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A partition with at least this many segments (or rollup files) is merged.
const COMPACT_MIN_FILES: usize = 4;
/// Series merged per pass, to bound the memory a compaction holds.
const COMPACT_SERIES_CHUNK: usize = 4096;
/// How often the compactor looks for work without being asked (retention expiry).
const ROUND_EVERY: Duration = Duration::from_secs(30);

/// What the compactor is asked.
#[derive(Debug)]
pub enum Request {
    /// Run a round now and answer when it is done.
    Now(Sender<Result<CompactReport, EngineError>>),
    /// Run a round soon (new files were committed, or retention changed).
    Nudge,
}

/// What a compaction round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactReport {
    /// Partitions merged.
    pub partitions: usize,
    /// Input files replaced (segments and rollup files).
    pub files_replaced: usize,
    /// Bytes of the input files.
    pub bytes_read: u64,
    /// Bytes of the files written.
    pub bytes_written: u64,
}

/// Runs rounds when asked, after flushes and every [`ROUND_EVERY`], until the database closes.
pub(super) fn compactor_loop(shared: &Arc<Shared>, rx: &Receiver<Request>) {
    loop {
        let mut waiters = Vec::new();
        match rx.recv_timeout(ROUND_EVERY) {
            Ok(Request::Now(tx)) => waiters.push(tx),
            Ok(Request::Nudge) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        // One round answers every request queued so far.
        while let Ok(r) = rx.try_recv() {
            if let Request::Now(tx) = r {
                waiters.push(tx);
            }
        }
        if shared.closed.load(Ordering::SeqCst) {
            for w in waiters {
                let _ = w.send(Err(EngineError::Closed("compaction stopped".into())));
            }
            return;
        }
        let result = round(shared);
        match &result {
            Ok(r) => {
                let c = &shared.counters;
                c.compactions
                    .fetch_add(r.partitions as u64, Ordering::Relaxed);
                c.compaction_bytes
                    .fetch_add(r.bytes_read + r.bytes_written, Ordering::Relaxed);
            }
            Err(e) => {
                shared
                    .counters
                    .compaction_errors
                    .fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "compaction failed; the files it was merging stay live and it is retried next round");
            }
        }
        for w in waiters {
            let _ = w.send(match &result {
                Ok(r) => Ok(r.clone()),
                Err(e) => Err(EngineError::Compaction(e.to_string())),
            });
        }
    }
}

/// Keeps compaction's I/O under a byte rate by sleeping once it gets ahead.
struct Throttle {
    rate: Option<u64>,
    started: Instant,
    bytes: u64,
}

impl Throttle {
    fn new(rate: Option<u64>) -> Self {
        Throttle {
            rate: rate.filter(|&r| r > 0),
            started: Instant::now(),
            bytes: 0,
        }
    }

    /// Counts `n` bytes of I/O and sleeps until the rate allows them; stops early (with an
    /// error) when the database closes so shutdown never waits for a throttled merge.
    fn account(&mut self, shared: &Shared, n: u64) -> Result<(), EngineError> {
        self.bytes += n;
        let Some(rate) = self.rate else {
            return Ok(());
        };
        let due = Duration::from_secs_f64(self.bytes as f64 / rate as f64);
        while self.started.elapsed() < due {
            if shared.closed.load(Ordering::SeqCst) {
                return Err(EngineError::Closed(
                    "compaction interrupted by shutdown".into(),
                ));
            }
            let left = due.saturating_sub(self.started.elapsed());
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
        Ok(())
    }
}

/// The files of one partition, oldest commit first.
#[derive(Default)]
struct PartitionFiles {
    segments: Vec<Arc<Segment>>,
    rollups: Vec<Arc<RollupFile>>,
    /// Rollup files of projection series, merged apart from the others.
    projections: Vec<Arc<RollupFile>>,
}

/// One compaction round over every partition that needs it.
fn round(shared: &Shared) -> Result<CompactReport, EngineError> {
    let (segments, rollups) = {
        let v = read(&shared.view);
        (v.segments.clone(), v.rollups.clone())
    };
    let mut by_partition: BTreeMap<i64, PartitionFiles> = BTreeMap::new();
    for s in segments.iter() {
        let p = by_partition.entry(s.meta().partition.start).or_default();
        p.segments.push(s.clone());
    }
    for r in rollups.iter() {
        let p = by_partition.entry(r.meta().partition.start).or_default();
        if super::is_projection_file(r.path()) {
            p.projections.push(r.clone());
        } else {
            p.rollups.push(r.clone());
        }
    }
    let mut report = CompactReport::default();
    let mut throttle = Throttle::new(shared.opts.compaction_bytes_per_sec);
    for files in by_partition.values() {
        if shared.closed.load(Ordering::SeqCst) {
            break;
        }
        let merge_raw = files.segments.len() >= COMPACT_MIN_FILES
            || files.segments.iter().any(|s| {
                expired_whole(shared, &s.series_ids(), s.meta().partition.end, Level::Raw)
            });
        let merge = |list: &[Arc<RollupFile>]| {
            list.len() >= COMPACT_MIN_FILES
                || list.iter().any(|r| rollups_expired(shared, r))
                || (merge_raw && list.len() > 1)
        };
        let (merge_rollups, merge_projections) = (merge(&files.rollups), merge(&files.projections));
        if merge_raw || merge_rollups || merge_projections {
            compact_partition(
                shared,
                &mut throttle,
                if merge_raw { &files.segments } else { &[] },
                [
                    if merge_rollups {
                        &files.rollups[..]
                    } else {
                        &[]
                    },
                    if merge_projections {
                        &files.projections[..]
                    } else {
                        &[]
                    },
                ],
                &mut report,
            )?;
        }
    }
    Ok(report)
}

/// Whether some series of `ids` has a measurement whose `level` retention has passed `end`.
fn expired_whole(shared: &Shared, ids: &roaring::RoaringBitmap, end: Nanos, level: Level) -> bool {
    if !read(&shared.retention).expires_anything() {
        return false;
    }
    ids.iter().any(|id| {
        shared
            .series_cutoff(SeriesId(id), level)
            .is_some_and(|c| end <= c)
    })
}

fn rollups_expired(shared: &Shared, r: &RollupFile) -> bool {
    let ids = r.series_ids();
    Tier::ALL.iter().enumerate().any(|(i, &t)| {
        r.meta().buckets[i] > 0
            && expired_whole(shared, &ids, r.meta().partition.end, Level::Rollup(t))
    })
}

/// Merges `segs` into one segment and each list of `rollup_lists` (per-series rollup files,
/// projection rollup files) into one rollup file; an empty list leaves that kind alone. Commits
/// the merged files in place of their inputs.
fn compact_partition(
    shared: &Shared,
    throttle: &mut Throttle,
    segs: &[Arc<Segment>],
    rollup_lists: [&[Arc<RollupFile>]; 2],
    report: &mut CompactReport,
) -> Result<(), EngineError> {
    let seq = commit::next_seq(shared);
    let rups: Vec<&Arc<RollupFile>> = rollup_lists.iter().flat_map(|l| l.iter()).collect();
    tracing::info!(
        partition_start = segs
            .first()
            .map(|s| s.meta().partition.start)
            .or_else(|| rups.first().map(|r| r.meta().partition.start)),
        segments = segs.len(),
        rollup_files = rups.len(),
        seq,
        "compacting a partition"
    );
    let seg_path = shared.seg_dir.join(format!("{seq:016x}.seg"));
    let rup_paths = [false, true].map(|p| shared.rollup_dir.join(super::rollup_file_name(seq, p)));
    let result = (|| {
        let merged_seg = match segs.first() {
            Some(first) => merge_segments(
                shared,
                throttle,
                seq,
                first.meta().partition,
                segs,
                &seg_path,
            )?,
            None => None,
        };
        let mut merged_rups = Vec::with_capacity(2);
        for (list, path) in rollup_lists.iter().zip(&rup_paths) {
            merged_rups.push(match list.first() {
                Some(first) => {
                    merge_rollups(shared, throttle, seq, first.meta().partition, list, path)?
                }
                None => None,
            });
        }
        let bytes_written = merged_seg.as_ref().map_or(0, |s| s.size_bytes())
            + merged_rups
                .iter()
                .flatten()
                .map(|r| r.size_bytes())
                .sum::<u64>();
        commit::commit(shared, CommitExtra::default(), |f| {
            commit::splice(
                &mut f.segments,
                |s| segs.iter().any(|x| Arc::ptr_eq(x, s)),
                merged_seg,
            );
            for (list, merged) in rollup_lists.iter().zip(merged_rups) {
                commit::splice(
                    &mut f.rollups,
                    |r| list.iter().any(|x| Arc::ptr_eq(x, r)),
                    merged,
                );
            }
        })?;
        Ok::<u64, EngineError>(bytes_written)
    })();
    let bytes_written = match result {
        Ok(b) => b,
        Err(e) => {
            for p in std::iter::once(&seg_path).chain(&rup_paths) {
                let _ = std::fs::remove_file(p);
            }
            return Err(e);
        }
    };
    // Readers still holding the old files keep their mappings; unlinking is safe.
    let inputs: Vec<&Path> = segs
        .iter()
        .map(|s| s.path())
        .chain(rups.iter().map(|r| r.path()))
        .collect();
    for p in &inputs {
        if let Err(e) = std::fs::remove_file(p) {
            tracing::warn!(path = %p.display(), error = %e, "could not delete a compacted file; start-up will");
        }
    }
    report.partitions += 1;
    report.files_replaced += inputs.len();
    report.bytes_read += segs.iter().map(|s| s.size_bytes()).sum::<u64>()
        + rups.iter().map(|r| r.size_bytes()).sum::<u64>();
    report.bytes_written += bytes_written;
    tracing::info!(seq, bytes_written, "compacted a partition");
    Ok(())
}

/// The union of the series ids of some files, ascending.
fn union_ids(sets: impl Iterator<Item = roaring::RoaringBitmap>) -> Vec<SeriesId> {
    let mut ids = roaring::RoaringBitmap::new();
    for s in sets {
        ids |= s;
    }
    ids.iter().map(SeriesId).collect()
}

fn merge_segments(
    shared: &Shared,
    throttle: &mut Throttle,
    seq: u64,
    partition: TimeRange,
    segs: &[Arc<Segment>],
    path: &Path,
) -> Result<Option<Arc<Segment>>, EngineError> {
    let ids = union_ids(segs.iter().map(|s| s.series_ids()));
    let input_bytes: u64 = segs.iter().map(|s| s.size_bytes()).sum();
    let mut w = SegmentWriter::new(seq, partition, shared.opts.zstd_level);
    for chunk in ids.chunks(COMPACT_SERIES_CHUNK) {
        let mut parts: Vec<Vec<FieldColumn>> = (0..chunk.len()).map(|_| Vec::new()).collect();
        for s in segs {
            for (id, cols) in s.read_many(chunk, None, TimeRange::ALL)? {
                if let Ok(slot) = chunk.binary_search(&id) {
                    parts[slot].extend(cols);
                }
            }
        }
        for (&id, p) in chunk.iter().zip(parts) {
            let cutoff = shared.series_cutoff(id, Level::Raw);
            for col in merge_columns(id, p, shared.last_write_wins(id)) {
                let keep = cutoff.map_or(0, |c| col.ts.partition_point(|&t| t < c));
                if keep == 0 {
                    w.add(id, &col.name, &col.ts, &col.values)?;
                } else if keep < col.ts.len() {
                    let values = col.values.slice(keep..col.ts.len());
                    w.add(id, &col.name, &col.ts[keep..], &values)?;
                }
            }
        }
        throttle.account(
            shared,
            input_bytes * chunk.len() as u64 / ids.len().max(1) as u64,
        )?;
    }
    let (meta, bytes) = w.finish(path)?;
    throttle.account(shared, bytes)?;
    // A partition whose every point expired leaves no segment at all.
    if meta.points == 0 {
        std::fs::remove_file(path).map_err(|e| EngineError::io("remove", path, e))?;
        return Ok(None);
    }
    Ok(Some(Arc::new(super::open_segment(
        path,
        &shared.block_cache,
    )?)))
}

fn merge_rollups(
    shared: &Shared,
    throttle: &mut Throttle,
    seq: u64,
    partition: TimeRange,
    rups: &[Arc<RollupFile>],
    path: &Path,
) -> Result<Option<Arc<RollupFile>>, EngineError> {
    let ids = union_ids(rups.iter().map(|r| r.series_ids()));
    let input_bytes: u64 = rups.iter().map(|r| r.size_bytes()).sum();
    let mut w = RollupFileWriter::new(seq, partition, shared.opts.zstd_level);
    for tier in Tier::ALL {
        for chunk in ids.chunks(COMPACT_SERIES_CHUNK) {
            let mut merged: BTreeMap<(SeriesId, String), BTreeMap<Nanos, RollupBucket>> =
                BTreeMap::new();
            for r in rups {
                for e in r.read(chunk, None, tier, TimeRange::ALL)? {
                    let buckets = merged.entry((e.series, e.field.clone())).or_default();
                    apply_entry(buckets, e)?;
                }
            }
            for ((series, field), buckets) in merged {
                let cutoff = shared.series_cutoff(series, Level::Rollup(tier));
                let buckets: Vec<RollupBucket> = buckets
                    .into_values()
                    .filter(|b| cutoff.is_none_or(|c| b.start >= c))
                    .collect();
                w.add(RollupEntry {
                    series,
                    field,
                    tier,
                    mode: EntryMode::Add,
                    buckets,
                })?;
            }
            throttle.account(
                shared,
                input_bytes * chunk.len() as u64 / (3 * ids.len().max(1)) as u64,
            )?;
        }
    }
    if w.is_empty() {
        return Ok(None);
    }
    let (_, bytes) = w.finish(path)?;
    throttle.account(shared, bytes)?;
    Ok(Some(Arc::new(super::open_rollup(
        path,
        &shared.block_cache,
    )?)))
}

/// Applies one entry to the buckets resolved so far from older files: adds merge, replacements
/// overwrite the buckets they hold. Reads and compaction resolve entries with this one rule.
pub(super) fn apply_entry(
    buckets: &mut BTreeMap<Nanos, RollupBucket>,
    entry: RollupEntry,
) -> Result<(), EngineError> {
    for b in entry.buckets {
        match entry.mode {
            EntryMode::Add => merge_into(buckets, b)?,
            EntryMode::Replace => {
                buckets.insert(b.start, b);
            }
        }
    }
    Ok(())
}

/// Merges `b` into the bucket of the same start in `out`, or inserts it.
pub(super) fn merge_into(
    out: &mut BTreeMap<Nanos, RollupBucket>,
    b: RollupBucket,
) -> Result<(), EngineError> {
    match out.get_mut(&b.start) {
        Some(old) => old.merge(&b)?,
        None => {
            out.insert(b.start, b);
        }
    }
    Ok(())
}
