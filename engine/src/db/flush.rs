//! The flusher thread: writes a frozen head into one segment and one rollup file per partition
//! it touches, and commits them together.

use super::commit::{self, CommitExtra};
use super::{compact, read, write, FlushDone, FlushJob, FlushReport, Shared};
use crate::batch::SeriesKeyRef;
use crate::error::EngineError;
use crate::projection;
use crate::rollup::file::{EntryMode, RollupEntry, RollupFileWriter};
use crate::rollup::{RollupBucket, Tier};
use crate::segment::SegmentWriter;
use crate::types::{Nanos, SeriesId, TimeRange};
use crossbeam_channel::{Receiver, Sender};
use std::collections::{BTreeMap, HashMap};
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
    /// Rollups of projection series, summed over their raw series: per tier, by bucket start.
    projected: BTreeMap<(SeriesId, String), [BTreeMap<Nanos, RollupBucket>; 3]>,
}

/// The projection series of raw series `id` (created in the registry on first use).
fn projection_series(
    shared: &Shared,
    id: SeriesId,
    projections: &mut HashMap<String, Vec<(String, Vec<String>)>>,
) -> Result<Vec<SeriesId>, EngineError> {
    let (measurement, raw_key) = {
        let reg = read(&shared.registry);
        let Some(key) = reg.key(id) else {
            return Ok(Vec::new());
        };
        (key.measurement().to_owned(), key.as_bytes().to_vec())
    };
    let list = projections.entry(measurement.clone()).or_insert_with(|| {
        shared
            .opts
            .projections_of(&measurement)
            .into_iter()
            .map(|keys| (projection::measurement_name(&measurement, &keys), keys))
            .collect()
    });
    let raw = SeriesKeyRef::trusted(&raw_key);
    let mut out = Vec::with_capacity(list.len());
    for (name, keys) in list.iter() {
        let key = projection::series_key(raw, name, keys);
        let known = read(&shared.registry).get(&key);
        let pid = match known {
            Some(pid) => pid,
            None => write(&shared.registry).get_or_create(SeriesKeyRef::trusted(&key))?,
        };
        out.push(pid);
    }
    Ok(out)
}

fn flush_head(shared: &Shared, job: &FlushJob) -> Result<FlushReport, EngineError> {
    let head = read(&job.head);
    // Rollups of last-write-wins series are checked against what is already committed.
    let committed = read(&shared.view).segments.clone();
    let part_ns = (shared.opts.partition.as_nanos() as i64).max(1);
    let mut parts: BTreeMap<i64, PartitionFiles> = BTreeMap::new();
    let mut projections = HashMap::new();
    head.for_each_series(
        |id| shared.last_write_wins(id),
        |id, cols| {
            let lww = shared.last_write_wins(id);
            let projected_ids = if lww {
                Vec::new()
            } else {
                projection_series(shared, id, &mut projections)?
            };
            // The point count rolls up with the fields; it is not stored raw.
            let points = crate::rollup::points_column(&cols, lww);
            for col in cols.iter().chain(points.iter()) {
                let raw = col.name != crate::rollup::POINTS_FIELD;
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
                            projected: BTreeMap::new(),
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
                    if raw {
                        files.segment.add(id, &col.name, ts, &values)?;
                    }
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
                        let tier = Tier::ALL.iter().position(|&t| t == e.tier).unwrap_or(0);
                        for &pid in &projected_ids {
                            let acc = files.projected.entry((pid, e.field.clone())).or_default();
                            for b in &e.buckets {
                                match acc[tier].get_mut(&b.start) {
                                    Some(old) => old.merge(b)?,
                                    None => {
                                        acc[tier].insert(b.start, b.clone());
                                    }
                                }
                            }
                        }
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
        for mut files in parts.into_values() {
            // Projection entries go to a file of their own, so a read of a projection never
            // decompresses the blocks of the many per-series entries.
            let mut projected =
                RollupFileWriter::new(files.seq, files.range, shared.opts.zstd_level);
            for ((series, field), tiers) in std::mem::take(&mut files.projected) {
                for (tier, buckets) in Tier::ALL.into_iter().zip(tiers) {
                    projected.add(RollupEntry {
                        series,
                        field: field.clone(),
                        tier,
                        mode: EntryMode::Add,
                        buckets: buckets.into_values().collect(),
                    })?;
                }
            }
            let path = shared.seg_dir.join(format!("{:016x}.seg", files.seq));
            written.push(path.clone());
            let (meta, bytes) = files.segment.finish(&path)?;
            report.segments += 1;
            report.points += meta.points;
            report.bytes += bytes;
            segments.push(Arc::new(super::open_segment(&path, &shared.block_cache)?));
            for (writer, projection) in [(files.rollups, false), (projected, true)] {
                if writer.is_empty() {
                    continue;
                }
                let path = shared
                    .rollup_dir
                    .join(super::rollup_file_name(files.seq, projection));
                written.push(path.clone());
                let (_, bytes) = writer.finish(&path)?;
                report.rollup_files += 1;
                report.bytes += bytes;
                rollups.push(Arc::new(super::open_rollup(&path, &shared.block_cache)?));
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
