//! The flusher thread: writes a frozen head into one segment and one rollup file per partition
//! it touches, and commits them together.

use super::commit::{self, CommitExtra};
use super::{compact, read, write, FlushDone, FlushJob, FlushReport, Shared};
use crate::error::EngineError;
use crate::rollup::file::{RollupFile, RollupFileWriter};
use crate::segment::{Segment, SegmentWriter};
use crate::types::TimeRange;
use crossbeam_channel::{Receiver, Sender};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Runs flush jobs until the writer hangs up. A failed flush is retried after a pause (a full
/// disk may free up) until it succeeds or the database closes; its head stays readable and the
/// WAL keeps its points meanwhile.
pub(super) fn flusher_loop(
    shared: &Arc<Shared>,
    jobs: &Receiver<FlushJob>,
    done: &Sender<FlushDone>,
    nudge: &Sender<compact::Request>,
) {
    while let Ok(job) = jobs.recv() {
        loop {
            let result = flush_head(shared, &job);
            let failed = result.is_err();
            if failed {
                shared.counters.flush_errors.fetch_add(1, Ordering::Relaxed);
            } else {
                shared.counters.flushes.fetch_add(1, Ordering::Relaxed);
                // New files may have made a partition worth merging.
                let _ = nudge.try_send(compact::Request::Nudge);
            }
            let _ = done.send(FlushDone {
                wal_to: job.wal_to,
                result: result.map_err(|e| e.to_string()),
            });
            if !failed {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
            if shared.closed.load(Ordering::SeqCst) {
                return;
            }
        }
    }
}

/// The files one flush writes for one partition.
struct PartitionFiles {
    seq: u64,
    range: TimeRange,
    segment: SegmentWriter,
    rollups: RollupFileWriter,
}

fn flush_head(shared: &Shared, job: &FlushJob) -> Result<FlushReport, EngineError> {
    let head = read(&job.head);
    // Rollups of last-write-wins series are checked against what is already committed.
    let committed = read(&shared.view).segments.clone();
    let part_ns = (shared.opts.partition.as_nanos() as i64).max(1);
    let mut parts: BTreeMap<i64, PartitionFiles> = BTreeMap::new();
    head.for_each_series(
        |id| shared.last_write_wins(id),
        |id, cols| {
            let lww = shared.last_write_wins(id);
            for col in cols {
                let mut start = 0;
                while start < col.ts.len() {
                    let part = col.ts[start].div_euclid(part_ns);
                    let mut end = start + 1;
                    while end < col.ts.len() && col.ts[end].div_euclid(part_ns) == part {
                        end += 1;
                    }
                    let files = parts.entry(part).or_insert_with(|| {
                        let seq = commit::next_seq(shared);
                        let begin = part.saturating_mul(part_ns);
                        let range = TimeRange::new(begin, begin.saturating_add(part_ns));
                        PartitionFiles {
                            seq,
                            range,
                            segment: SegmentWriter::new(seq, range, shared.opts.zstd_level),
                            rollups: RollupFileWriter::new(seq, range, shared.opts.zstd_level),
                        }
                    });
                    let (ts, values) = if start == 0 && end == col.ts.len() {
                        (&col.ts[..], std::borrow::Cow::Borrowed(&col.values))
                    } else {
                        (
                            &col.ts[start..end],
                            std::borrow::Cow::Owned(col.values.slice(start..end)),
                        )
                    };
                    files.segment.add(id, &col.name, ts, &values)?;
                    let entries = super::rollup_build::flush_entries(
                        shared,
                        &committed,
                        super::rollup_build::Column {
                            series: id,
                            last_write_wins: lww,
                            field: &col.name,
                            ts,
                            values: &values,
                        },
                        files.range,
                    )?;
                    for e in entries {
                        files.rollups.add(e)?;
                    }
                    start = end;
                }
            }
            Ok(())
        },
    )?;
    drop(head);

    let mut report = FlushReport::default();
    let mut written: Vec<PathBuf> = Vec::new();
    let result: Result<(), EngineError> = (|| {
        let mut segments = Vec::new();
        let mut rollups = Vec::new();
        for files in parts.into_values() {
            let path = shared.seg_dir.join(format!("{:016x}.seg", files.seq));
            written.push(path.clone());
            let (meta, bytes) = files.segment.finish(&path)?;
            report.segments += 1;
            report.points += meta.points;
            report.bytes += bytes;
            segments.push(Arc::new(Segment::open(&path)?));
            if !files.rollups.is_empty() {
                let path = shared.rollup_dir.join(format!("{:016x}.rup", files.seq));
                written.push(path.clone());
                let (_, bytes) = files.rollups.finish(&path)?;
                report.rollup_files += 1;
                report.bytes += bytes;
                rollups.push(Arc::new(RollupFile::open(&path)?));
            }
        }
        // Segments name series ids: the series log must hold them before the commit.
        write(&shared.registry).sync()?;
        commit::commit(
            shared,
            CommitExtra {
                wal_from: Some(job.wal_to),
                clear_frozen: true,
            },
            |f| {
                f.segments.extend(segments);
                f.rollups.extend(rollups);
            },
        )
    })();
    if let Err(e) = result {
        for p in &written {
            let _ = std::fs::remove_file(p);
        }
        return Err(e);
    }
    Ok(report)
}
