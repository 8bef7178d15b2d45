//! Tally's benchmarks: the measured ingest paths over the seeded workload, shared by the criterion
//! benches (`benches/ingest.rs`) and the figures report (`src/bin/ingest_report.rs`), and the
//! streamed loading, quantile and CPU-accounting helpers of the rollup report
//! (`src/bin/rollup_report.rs`).
//!
//! Every figure is taken on [`tally_ingest::workload`] output, so numbers from different commits
//! are comparable; `docs/benchmarks.md` records them with the machine and the commands.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tally_engine::codec::{encode_timestamps, encode_values};
use tally_engine::rollup::RollupError;
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
    /// Merging rollups failed (distributions of different accuracy).
    #[error("rollup: {0}")]
    Rollup(#[from] RollupError),
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

/// One parsed write of the streamed workload (see [`WorkloadBatches`]).
#[derive(Debug)]
pub struct LoadBatch {
    /// The points, ready for [`Db::write`].
    pub batch: WriteBatch,
    /// Points in the batch.
    pub points: u64,
    /// Bytes of line protocol the batch was parsed from.
    pub bytes: u64,
    /// Timestamp of the first point (the workload is in time order).
    pub first_ts: i64,
    /// Timestamp of the last point.
    pub last_ts: i64,
}

/// The workload generated and parsed chunk by chunk, for volumes that do not fit in memory as
/// [`Bodies`] (a hundred million points are 16 GB of line protocol).
#[derive(Debug)]
pub struct WorkloadBatches {
    workload: Workload,
    parser: Parser,
    body: Vec<u8>,
    batch_points: usize,
}

impl WorkloadBatches {
    /// Streams `cfg`'s window in writes of `batch_points` points.
    pub fn new(cfg: WorkloadConfig, batch_points: usize) -> Self {
        WorkloadBatches {
            workload: Workload::new(cfg),
            parser: parser(),
            body: Vec::with_capacity(batch_points.max(1) * 180),
            batch_points: batch_points.max(1),
        }
    }

    /// The next write, or `None` once the window is done.
    pub fn next_batch(&mut self) -> Result<Option<LoadBatch>, BenchError> {
        self.body.clear();
        let n = self.workload.next_chunk(&mut self.body, self.batch_points);
        if n == 0 {
            return Ok(None);
        }
        let (first_ts, last_ts) = body_time_span(&self.body).ok_or_else(|| {
            BenchError::Data("a generated body has a line without a timestamp".into())
        })?;
        let mut batch = WriteBatch::with_capacity(self.body.len() * 6 / 5);
        let points = parse_body(&mut self.parser, &self.body, &mut batch)? as u64;
        Ok(Some(LoadBatch {
            batch,
            points,
            bytes: self.body.len() as u64,
            first_ts,
            last_ts,
        }))
    }
}

/// Timestamps of the first and last line of a line-protocol body whose every line ends in one
/// (as the workload's do); `None` if the body is empty or either line has none.
pub fn body_time_span(body: &[u8]) -> Option<(i64, i64)> {
    let mut lines = body
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty() && l.first() != Some(&b'#'));
    let first = lines.next()?;
    let last = body
        .split(|&c| c == b'\n')
        .rev()
        .find(|l| !l.is_empty() && l.first() != Some(&b'#'))?;
    Some((line_timestamp(first)?, line_timestamp(last)?))
}

/// The trailing integer timestamp of one line-protocol line.
fn line_timestamp(line: &[u8]) -> Option<i64> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let at = line.iter().rposition(|&c| c == b' ')?;
    std::str::from_utf8(&line[at + 1..]).ok()?.parse().ok()
}

/// The `points_per_day` that makes `cfg`'s window (its start, duration and seed) hold about
/// `points` points.
///
/// The generator's volume follows weekdays, weekends and the Monday surge, so a window's total is
/// not `days * points_per_day`. Volume scales linearly with `points_per_day`, so one pass at a
/// 32nd of the rate measures the ratio (Poisson noise at that size is about 0.1%).
pub fn points_per_day_for(cfg: &WorkloadConfig, points: u64) -> u64 {
    let days = (cfg.duration_ns as f64 / 86_400e9).max(1.0 / 24.0);
    let probe = ((points as f64 / days / 32.0) as u64).max(10_000);
    let mut w = Workload::new(WorkloadConfig {
        points_per_day: probe,
        ..cfg.clone()
    });
    let mut sink = Vec::with_capacity(BATCH_POINTS * 180);
    let mut n = 0u64;
    loop {
        sink.clear();
        let k = w.next_chunk(&mut sink, BATCH_POINTS);
        if k == 0 {
            break;
        }
        n += k as u64;
    }
    ((points as f64 * probe as f64 / n.max(1) as f64).round() as u64).max(1)
}

/// The `q`-quantile of `values` as [`tally_engine::rollup::exact_quantile`] defines it (the value
/// at 0-based rank `floor(q * (n - 1))` of the sorted values), found by selection in linear time
/// instead of a full sort; reorders `values`. `None` when empty or `q` is outside `[0, 1]`.
pub fn exact_quantile_in_place(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let rank = ((q * (values.len() as f64 - 1.0)) as usize).min(values.len() - 1);
    let (_, v, _) = values.select_nth_unstable_by(rank, f64::total_cmp);
    Some(*v)
}

/// `|approx - exact| / |exact|` (0 when both are 0, infinite when only `exact` is).
pub fn relative_difference(approx: f64, exact: f64) -> f64 {
    if approx == exact {
        0.0
    } else {
        (approx - exact).abs() / exact.abs()
    }
}

/// The median and the maximum of some durations (zero when there are none).
pub fn median_max(times: &[Duration]) -> (Duration, Duration) {
    let mut t = times.to_vec();
    t.sort();
    match t.len() {
        0 => (Duration::ZERO, Duration::ZERO),
        n => (t[n / 2], t[n - 1]),
    }
}

/// CPU time (user + system) of the calling thread so far.
pub fn thread_cpu_time() -> Duration {
    // SAFETY: clock_gettime only writes the timespec we pass, a plain-old-data C struct for which
    // all-zero bytes are a valid value.
    let ts = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        if libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) != 0 {
            return Duration::ZERO;
        }
        ts
    };
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// CPU time (user + system) of each live thread of this process, by thread name, from
/// `/proc/self/task` (Linux; empty elsewhere). Threads of one name are summed, so the engine's
/// `tally-writer`, `tally-flusher` and `tally-compactor` can be told apart from the caller's.
pub fn threads_cpu() -> Vec<(String, Duration)> {
    // SAFETY: sysconf has no memory effects.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let ticks = if ticks > 0 { ticks as f64 } else { 100.0 };
    let mut out: Vec<(String, Duration)> = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let Some((name, cpu)) = parse_task_stat(&stat, ticks) else {
            continue;
        };
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += cpu,
            None => out.push((name, cpu)),
        }
    }
    out.sort();
    out
}

/// Name and utime + stime of one `/proc/<pid>/task/<tid>/stat` line. The name sits in
/// parentheses and may itself hold spaces or parentheses, so fields are counted from the last `)`.
fn parse_task_stat(stat: &str, ticks_per_sec: f64) -> Option<(String, Duration)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_owned();
    // After ")": state(3) ppid(4) ... utime(14) stime(15), so utime is the 12th field here.
    let mut rest = stat.get(close + 1..)?.split_whitespace().skip(11);
    let utime: u64 = rest.next()?.parse().ok()?;
    let stime: u64 = rest.next()?.parse().ok()?;
    Some((
        name,
        Duration::from_secs_f64((utime + stime) as f64 / ticks_per_sec),
    ))
}

/// Prints the machine line every report starts with: CPU model, CPUs, load average, time.
pub fn print_machine() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown", str::trim);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "machine: {model}, {cores} CPUs; load average {}; {} UTC",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        utc(tally_engine::retention::now_nanos())
    );
}

/// The arguments the report was started with, for the record.
pub fn command_line() -> String {
    std::env::args().skip(1).collect::<Vec<_>>().join(" ")
}

/// `YYYY-MM-DD HH:MM:SS` of a Unix-epoch instant in ns (UTC, proleptic Gregorian).
pub fn utc(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (H. Hinnant): days since 1970-01-01 to year, month, day.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3_600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_767_571_200 * 1_000_000_000), "2026-01-05 00:00:00");
        assert_eq!(utc(951_825_599 * 1_000_000_000), "2000-02-29 11:59:59");
        assert_eq!(utc(-1_000_000_000), "1969-12-31 23:59:59");
    }

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

    #[test]
    fn body_time_span_reads_the_first_and_last_timestamps() {
        let body = b"m,a=b v=1 100\nm,a=b v=2 250\r\nm,a=b v=3 300\n";
        assert_eq!(body_time_span(body), Some((100, 300)));
        assert_eq!(body_time_span(b"m v=1 7"), Some((7, 7)));
        assert_eq!(body_time_span(b""), None);
        assert_eq!(body_time_span(b"m v=1\n"), None);
    }

    #[test]
    fn streamed_batches_cover_the_window_in_time_order() {
        let cfg = WorkloadConfig {
            points_per_day: 30_000,
            ..Default::default()
        };
        let whole = Bodies::generate(cfg.clone(), None);
        let mut stream = WorkloadBatches::new(cfg.clone(), 7_000);
        let (mut points, mut bytes, mut last) = (0u64, 0u64, i64::MIN);
        while let Some(b) = stream.next_batch().unwrap() {
            assert_eq!(b.points, b.batch.len() as u64);
            assert!(
                last <= b.first_ts && b.first_ts <= b.last_ts,
                "{last} {b:?}"
            );
            assert!(b.first_ts >= cfg.start_ns && b.last_ts < cfg.start_ns + cfg.duration_ns);
            last = b.last_ts;
            points += b.points;
            bytes += b.bytes;
        }
        assert_eq!((points, bytes), (whole.points, whole.bytes));
    }

    #[test]
    fn points_per_day_for_hits_the_requested_total() {
        // Nine days from a Thursday: weekends and one Monday surge inside.
        let cfg = WorkloadConfig {
            start_ns: 1_767_571_200 * 1_000_000_000 - 4 * 86_400 * 1_000_000_000,
            duration_ns: 9 * 86_400 * 1_000_000_000,
            ..Default::default()
        };
        let want = 600_000u64;
        let ppd = points_per_day_for(&cfg, want);
        assert!(ppd > want / 9, "weekends make a weekday carry more: {ppd}");
        let got = Bodies::generate(
            WorkloadConfig {
                points_per_day: ppd,
                ..cfg
            },
            None,
        )
        .points;
        let err = relative_difference(got as f64, want as f64);
        assert!(err < 0.02, "asked {want}, got {got}");
    }

    #[test]
    fn quantile_by_selection_equals_the_engines_definition() {
        // A deterministic, unsorted spread with duplicates.
        let values: Vec<f64> = (0..10_001u64)
            .map(|i| ((i * 7_919) % 1_013) as f64 * 0.1)
            .collect();
        for q in [0.0, 0.01, 0.5, 0.95, 0.99, 0.999, 1.0] {
            let mut v = values.clone();
            assert_eq!(
                exact_quantile_in_place(&mut v, q),
                tally_engine::rollup::exact_quantile(&values, q),
                "q = {q}"
            );
        }
        assert_eq!(exact_quantile_in_place(&mut [], 0.5), None);
        assert_eq!(exact_quantile_in_place(&mut [1.0], 1.5), None);
        assert_eq!(
            exact_quantile_in_place(&mut [3.0, 1.0, 2.0], 0.99),
            Some(2.0)
        );
    }

    #[test]
    fn relative_difference_and_median_max() {
        assert_eq!(relative_difference(101.0, 100.0), 0.01);
        assert_eq!(relative_difference(99.0, 100.0), 0.01);
        assert_eq!(relative_difference(0.0, 0.0), 0.0);
        assert!(relative_difference(1.0, 0.0).is_infinite());
        let ms = Duration::from_millis;
        assert_eq!(median_max(&[ms(5), ms(1), ms(9)]), (ms(5), ms(9)));
        assert_eq!(median_max(&[ms(4), ms(2)]), (ms(4), ms(4)));
        assert_eq!(median_max(&[]), (Duration::ZERO, Duration::ZERO));
    }

    #[test]
    fn task_stat_lines_give_name_and_cpu() {
        let line = "4242 (tally-writer) S 1 2 3 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 0 0";
        assert_eq!(
            parse_task_stat(line, 100.0),
            Some(("tally-writer".to_owned(), Duration::from_secs(3)))
        );
        let odd = "7 (a) (b c) R 1 2 3 0 -1 0 0 0 0 0 10 10 0 0 20 0 1 0 1 0 0";
        assert_eq!(
            parse_task_stat(odd, 100.0),
            Some(("a) (b c".to_owned(), Duration::from_millis(200)))
        );
        assert_eq!(parse_task_stat("garbage", 100.0), None);
    }

    #[test]
    fn cpu_clocks_count_work_of_this_thread() {
        let probe = std::thread::Builder::new()
            .name("cpu-probe".into())
            .spawn(|| {
                let t0 = thread_cpu_time();
                let mut x = 0u64;
                for i in 0..20_000_000u64 {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                }
                (thread_cpu_time().saturating_sub(t0), threads_cpu(), x)
            })
            .unwrap();
        let (spent, threads, _) = probe.join().unwrap();
        assert!(spent > Duration::ZERO);
        let mine = threads.iter().find(|(n, _)| n == "cpu-probe");
        assert!(
            mine.is_some_and(|(_, cpu)| *cpu <= spent + Duration::from_millis(20)),
            "{threads:?}"
        );
    }
}
