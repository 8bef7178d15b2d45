//! Tally's benchmarks: the measured ingest paths over the seeded workload, shared by the criterion
//! benches (`benches/ingest.rs`) and the figures report (`src/bin/ingest_report.rs`).
//!
//! Every figure is taken on [`tally_ingest::workload`] output, so numbers from different commits
//! are comparable; `docs/benchmarks.md` records them with the machine and the commands.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tally_engine::codec::{encode_timestamps, encode_values};
use tally_engine::segment::{SegmentError, SegmentMeta, SegmentWriter, DEFAULT_BLOCK_SIZE};
use tally_engine::{ColumnValues, Db, EngineError, FieldValueRef, SeriesId, TimeRange, WriteBatch};
use tally_ingest::line_protocol::{Limits, Parser, Precision};
use tally_ingest::workload::{Workload, WorkloadConfig};
use thiserror::Error;

/// Points per request body and per engine write, as a batching client sends them.
pub const BATCH_POINTS: usize = 5_000;

/// Why a benchmark could not run.
#[derive(Debug, Error)]
pub enum BenchError {
    /// The parser refused lines of the generated workload (a generator or parser bug).
    #[error("the parser rejected {rejected} of {total} generated lines (first: {first}); the workload and the parser disagree")]
    Rejected {
        /// Lines rejected.
        rejected: usize,
        /// Lines in the body.
        total: usize,
        /// The first rejection.
        first: String,
    },
    /// The engine failed.
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    /// Writing a segment failed.
    #[error("segment: {0}")]
    Segment(#[from] SegmentError),
    /// A stored batch did not decode, or a field changed type within a series.
    #[error("{0}")]
    Data(String),
    /// zstd failed.
    #[error("zstd: {0}")]
    Zstd(std::io::Error),
    /// Reading the data directory failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The workload cut into line-protocol request bodies of [`BATCH_POINTS`] lines.
#[derive(Debug, Clone)]
pub struct Bodies {
    /// The bodies, in time order.
    pub bodies: Vec<Vec<u8>>,
    /// Lines over all bodies.
    pub points: u64,
    /// Bytes over all bodies.
    pub bytes: u64,
    /// Time the generator took.
    pub generate_time: Duration,
}

impl Bodies {
    /// Generates `cfg`'s whole window, or its first `max_points` lines.
    pub fn generate(cfg: WorkloadConfig, max_points: Option<u64>) -> Bodies {
        let start = Instant::now();
        let mut w = Workload::new(cfg);
        let mut bodies = Vec::new();
        let mut left = max_points.unwrap_or(u64::MAX);
        let (mut points, mut bytes) = (0u64, 0u64);
        while left > 0 {
            let mut body = Vec::with_capacity(BATCH_POINTS * 180);
            let want = BATCH_POINTS.min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = w.next_chunk(&mut body, want);
            if n == 0 {
                break;
            }
            left -= n as u64;
            points += n as u64;
            bytes += body.len() as u64;
            bodies.push(body);
        }
        Bodies {
            bodies,
            points,
            bytes,
            generate_time: start.elapsed(),
        }
    }
}

/// A parser with the server's default limits (bodies here stay far below them).
pub fn parser() -> Parser {
    Parser::new(Limits::default())
}

/// Parses `body` into `batch` (appending); every line must be accepted.
pub fn parse_body(
    parser: &mut Parser,
    body: &[u8],
    batch: &mut WriteBatch,
) -> Result<usize, BenchError> {
    let report = parser.parse_into(body, Precision::Nanoseconds, 0, batch);
    if !report.is_clean() {
        return Err(BenchError::Rejected {
            rejected: report.rejected_total,
            total: report.accepted + report.rejected_total,
            first: report
                .rejected
                .first()
                .map(|e| e.to_string())
                .unwrap_or_default(),
        });
    }
    Ok(report.accepted)
}

/// Wall-clock and CPU time of a measured stretch.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    /// Elapsed wall-clock time.
    pub wall: Duration,
    /// CPU time (user + system) of the whole process, every thread included.
    pub cpu: Duration,
}

impl Timing {
    /// Points per wall-clock second.
    pub fn per_sec(&self, points: u64) -> f64 {
        points as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// Points per CPU second: the throughput one core sustains.
    pub fn per_cpu_sec(&self, points: u64) -> f64 {
        points as f64 / self.cpu.as_secs_f64().max(1e-9)
    }
}

/// Runs `f` and reports its wall-clock and process CPU time.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Timing) {
    let cpu0 = process_cpu_time();
    let t0 = Instant::now();
    let out = f();
    let wall = t0.elapsed();
    let cpu = process_cpu_time().saturating_sub(cpu0);
    (out, Timing { wall, cpu })
}

/// User plus system CPU time of this process so far (all threads).
pub fn process_cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct we pass, which is a plain-old-data C struct for
    // which all-zero bytes are a valid value.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return Duration::ZERO;
        }
        usage
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Parses every body into a reused batch; returns the points parsed.
pub fn parse_all(parser: &mut Parser, bodies: &Bodies) -> Result<u64, BenchError> {
    let mut batch = WriteBatch::with_capacity(BATCH_POINTS * 200);
    let mut n = 0u64;
    for body in &bodies.bodies {
        batch.clear();
        n += parse_body(parser, body, &mut batch)? as u64;
    }
    Ok(n)
}

/// Parses each body and writes it to `db` as one batch, as the `/write` path does; returns the
/// points written.
pub fn ingest_all(parser: &mut Parser, bodies: &Bodies, db: &Db) -> Result<u64, BenchError> {
    let mut n = 0u64;
    for body in &bodies.bodies {
        let mut batch = WriteBatch::with_capacity(body.len() * 6 / 5);
        n += parse_body(parser, body, &mut batch)? as u64;
        db.write(batch)?;
    }
    Ok(n)
}

/// Parses every body into its own batch, for measuring `Db::write` alone.
pub fn parse_batches(parser: &mut Parser, bodies: &Bodies) -> Result<Vec<WriteBatch>, BenchError> {
    bodies
        .bodies
        .iter()
        .map(|body| {
            let mut batch = WriteBatch::with_capacity(body.len() * 6 / 5);
            parse_body(parser, body, &mut batch).map(|_| batch)
        })
        .collect()
}

/// Writes pre-parsed batches to `db`; returns the points written.
pub fn write_batches(batches: Vec<WriteBatch>, db: &Db) -> Result<u64, BenchError> {
    let mut n = 0u64;
    for batch in batches {
        n += batch.len() as u64;
        db.write(batch)?;
    }
    Ok(n)
}

/// Bytes on disk of a data directory, by kind of file.
#[derive(Debug, Clone, Default)]
pub struct DiskUsage {
    /// Segment files (`segments/`).
    pub segment_bytes: u64,
    /// Segment files counted.
    pub segment_files: u64,
    /// Write-ahead log files (`wal/`).
    pub wal_bytes: u64,
    /// Every other file (series log, manifest, index).
    pub other_bytes: u64,
    /// The other files, by path relative to the directory, with their sizes.
    pub other_files: Vec<(String, u64)>,
}

/// Sums file sizes under `dir`, split into segments, WAL and the rest.
pub fn disk_usage(dir: &Path) -> Result<DiskUsage, BenchError> {
    let mut usage = DiskUsage::default();
    walk(dir, dir, &mut usage)?;
    Ok(usage)
}

fn walk(root: &Path, dir: &Path, usage: &mut DiskUsage) -> Result<(), BenchError> {
    let io = |source| BenchError::Io {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let meta = entry.metadata().map_err(io)?;
        let path = entry.path();
        if meta.is_dir() {
            walk(root, &path, usage)?;
            continue;
        }
        let top = path
            .strip_prefix(root)
            .ok()
            .and_then(|p| p.components().next())
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("");
        match top {
            "segments" => {
                usage.segment_bytes += meta.len();
                usage.segment_files += 1;
            }
            "wal" => usage.wal_bytes += meta.len(),
            _ => {
                usage.other_bytes += meta.len();
                let rel = path.strip_prefix(root).unwrap_or(&path);
                usage
                    .other_files
                    .push((rel.to_string_lossy().into_owned(), meta.len()));
            }
        }
    }
    Ok(())
}

/// One field of one series: its timestamps and values, in time order.
#[derive(Debug, Clone)]
pub struct FieldData {
    /// Field name.
    pub name: String,
    /// Timestamps, ascending.
    pub ts: Vec<i64>,
    /// Values, one per timestamp.
    pub values: ColumnValues,
}

/// Parsed points grouped into per-series columns, in order of first appearance (the order the
/// engine gives series ids in): what a flush hands to the segment writer.
#[derive(Debug, Clone, Default)]
pub struct SeriesColumns {
    /// Per series: its encoded key and its fields, sorted by name.
    pub series: Vec<(Vec<u8>, Vec<FieldData>)>,
    /// Points over all series.
    pub points: u64,
    /// Field values over all series.
    pub values: u64,
}

impl SeriesColumns {
    /// Parses every body and groups its points by series and field.
    pub fn from_bodies(parser: &mut Parser, bodies: &Bodies) -> Result<SeriesColumns, BenchError> {
        let mut out = SeriesColumns::default();
        let mut ids: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut batch = WriteBatch::with_capacity(BATCH_POINTS * 200);
        for body in &bodies.bodies {
            batch.clear();
            parse_body(parser, body, &mut batch)?;
            for p in batch.iter() {
                let p = p.map_err(|e| BenchError::Data(e.to_string()))?;
                let key = p.key.as_bytes();
                let id = match ids.get(key) {
                    Some(&id) => id,
                    None => {
                        ids.insert(key.to_vec(), out.series.len());
                        out.series.push((key.to_vec(), Vec::new()));
                        out.series.len() - 1
                    }
                };
                let fields = &mut out.series[id].1;
                for (name, v) in p.fields() {
                    let i = match fields.iter().position(|f| f.name == name) {
                        Some(i) => i,
                        None => {
                            fields.push(FieldData {
                                name: name.to_owned(),
                                ts: Vec::new(),
                                values: ColumnValues::empty(v.field_type()),
                            });
                            fields.len() - 1
                        }
                    };
                    let f = &mut fields[i];
                    if !f.values.push_ref(v) {
                        return Err(BenchError::Data(format!(
                            "field {name} changes type within series {}",
                            p.key
                        )));
                    }
                    f.ts.push(p.ts);
                    out.values += 1;
                }
                out.points += 1;
            }
        }
        for (_, fields) in &mut out.series {
            fields.sort_by(|a, b| a.name.cmp(&b.name));
            for f in fields.iter_mut() {
                if f.ts.windows(2).any(|w| w[0] > w[1]) {
                    sort_by_time(f);
                }
            }
        }
        Ok(out)
    }

    /// Writes every series into one segment file at `path`, as a flush of one partition would;
    /// returns the segment's metadata and size.
    pub fn write_segment(
        &self,
        path: &Path,
        zstd_level: i32,
    ) -> Result<(SegmentMeta, u64), BenchError> {
        let mut w = SegmentWriter::new(1, TimeRange::ALL, zstd_level);
        for (id, (_, fields)) in self.series.iter().enumerate() {
            let id = u32::try_from(id).map_err(|_| BenchError::Data("over 2^32 series".into()))?;
            for f in fields {
                w.add(SeriesId(id), &f.name, &f.ts, &f.values)?;
            }
        }
        Ok(w.finish(path)?)
    }

    /// What the column codecs make of each column over all series: encoded bytes, and bytes
    /// after zstd of the column's encodings laid back to back in blocks of the segment's size.
    /// Timestamps are counted once per series (fields written together share them, as in a
    /// segment); series keys are listed as their raw bytes.
    pub fn column_sizes(&self, zstd_level: i32) -> Result<Vec<ColumnSize>, BenchError> {
        // (column name, values, encoded bytes of every series back to back)
        let mut streams: Vec<(String, u64, Vec<u8>)> = Vec::new();
        fn stream(streams: &mut Vec<(String, u64, Vec<u8>)>, name: &str) -> usize {
            match streams.iter().position(|s| s.0 == name) {
                Some(i) => i,
                None => {
                    streams.push((name.to_owned(), 0, Vec::new()));
                    streams.len() - 1
                }
            }
        }
        let ts_i = stream(&mut streams, "(timestamps)");
        let key_i = stream(&mut streams, "(series keys)");
        let mut positions = Vec::new();
        for (key, fields) in &self.series {
            positions.clear();
            for f in fields {
                positions.push(stream(&mut streams, &f.name));
            }
            streams[key_i].1 += 1;
            streams[key_i].2.extend_from_slice(key);
            let mut seen: Vec<&[i64]> = Vec::new();
            for (f, &i) in fields.iter().zip(&positions) {
                if !seen.contains(&f.ts.as_slice()) {
                    seen.push(&f.ts);
                    streams[ts_i].1 += f.ts.len() as u64;
                    encode_timestamps(&f.ts, &mut streams[ts_i].2);
                }
                streams[i].1 += f.values.len() as u64;
                encode_values(&f.values, &mut streams[i].2);
            }
        }
        let mut out = Vec::with_capacity(streams.len());
        for (name, values, bytes) in streams {
            let mut compressed = 0u64;
            for block in bytes.chunks(DEFAULT_BLOCK_SIZE) {
                compressed += zstd::bulk::compress(block, zstd_level)
                    .map_err(BenchError::Zstd)?
                    .len() as u64;
            }
            out.push(ColumnSize {
                name,
                values,
                encoded_bytes: bytes.len() as u64,
                zstd_bytes: compressed,
            });
        }
        Ok(out)
    }
}

fn sort_by_time(f: &mut FieldData) {
    let mut order: Vec<usize> = (0..f.ts.len()).collect();
    order.sort_by_key(|&i| f.ts[i]);
    let mut values = ColumnValues::empty(f.values.field_type());
    for &i in &order {
        if let Some(v) = f.values.get(i) {
            let r = match &v {
                tally_engine::FieldValue::Float(x) => FieldValueRef::Float(*x),
                tally_engine::FieldValue::Integer(x) => FieldValueRef::Integer(*x),
                tally_engine::FieldValue::Unsigned(x) => FieldValueRef::Unsigned(*x),
                tally_engine::FieldValue::Boolean(x) => FieldValueRef::Boolean(*x),
                tally_engine::FieldValue::String(x) => FieldValueRef::String(x),
            };
            values.push_ref(r);
        }
    }
    f.ts = order.iter().map(|&i| f.ts[i]).collect();
    f.values = values;
}

/// The size of one column over all series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSize {
    /// Field name, or `(timestamps)` / `(series keys)`.
    pub name: String,
    /// Values in the column (series, for the keys).
    pub values: u64,
    /// Bytes after the column codec.
    pub encoded_bytes: u64,
    /// Bytes after the codec and zstd.
    pub zstd_bytes: u64,
}

/// Formats `v` with thousands separators, e.g. `1,234,567`.
pub fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v.max(0.0));
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1_000.0), "1,000");
        assert_eq!(thousands(1_234_567.4), "1,234,567");
    }

    #[test]
    fn bodies_hold_batch_sized_chunks_of_the_workload() {
        let cfg = WorkloadConfig {
            points_per_day: 50_000,
            ..Default::default()
        };
        let b = Bodies::generate(cfg, Some(12_345));
        assert_eq!(b.points, 12_345);
        assert_eq!(b.bodies.len(), 3);
        let lines: usize = b
            .bodies
            .iter()
            .map(|x| x.iter().filter(|&&c| c == b'\n').count())
            .sum();
        assert_eq!(lines, 12_345);
    }

    #[test]
    fn generated_bodies_parse_completely() {
        let b = Bodies::generate(WorkloadConfig::default(), Some(20_000));
        let n = parse_all(&mut parser(), &b).unwrap();
        assert_eq!(n, 20_000);
    }

    #[test]
    fn columns_group_points_by_series_and_sizes_add_up() {
        let b = Bodies::generate(WorkloadConfig::default(), Some(20_000));
        let cols = SeriesColumns::from_bodies(&mut parser(), &b).unwrap();
        assert_eq!(cols.points, 20_000);
        assert_eq!(cols.values, 60_000);
        assert!(cols.series.len() > 100);
        for (_, fields) in &cols.series {
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(names, ["bytes_in", "bytes_out", "latency_ms"]);
        }
        let sizes = cols.column_sizes(3).unwrap();
        let by = |n: &str| sizes.iter().find(|c| c.name == n).unwrap().clone();
        assert_eq!(by("(timestamps)").values, 20_000);
        assert_eq!(by("latency_ms").values, 20_000);
        assert_eq!(by("(series keys)").values, cols.series.len() as u64);
        for c in &sizes {
            assert!(
                c.zstd_bytes > 0 && c.zstd_bytes <= c.encoded_bytes + 64,
                "{c:?}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let (meta, bytes) = cols.write_segment(&dir.path().join("1.seg"), 3).unwrap();
        assert_eq!(meta.points, 20_000);
        assert_eq!(meta.values, 60_000);
        assert_eq!(
            bytes,
            std::fs::metadata(dir.path().join("1.seg")).unwrap().len()
        );
    }

    #[test]
    fn disk_usage_splits_by_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("segments")).unwrap();
        std::fs::create_dir_all(dir.path().join("wal")).unwrap();
        std::fs::write(dir.path().join("segments/1.seg"), [0u8; 100]).unwrap();
        std::fs::write(dir.path().join("wal/1.wal"), [0u8; 10]).unwrap();
        std::fs::write(dir.path().join("MANIFEST"), [0u8; 1]).unwrap();
        let u = disk_usage(dir.path()).unwrap();
        assert_eq!(
            (u.segment_bytes, u.segment_files, u.wal_bytes, u.other_bytes),
            (100, 1, 10, 1)
        );
    }
}
