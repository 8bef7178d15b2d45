//! Prints the ingest figures for `docs/benchmarks.md`: generator speed, parse-only throughput,
//! parse + WAL + head throughput under both sync policies (per wall-clock second and per CPU
//! second, i.e. per core), and bytes on disk per point and per field value after a flush.
//!
//! `cargo run --release -p tally-benches --bin ingest_report` (see `--help`).

use clap::Parser as _;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tally_benches::{
    disk_usage, ingest_all, parse_all, parse_batches, parser, thousands, timed, write_batches,
    BenchError, Bodies, DiskUsage, SeriesColumns, Timing, BATCH_POINTS,
};
use tally_engine::segment::DEFAULT_BLOCK_SIZE;
use tally_engine::{Db, FlushReport, Options, SyncPolicy};
use tally_ingest::workload::WorkloadConfig;

/// Fields per point of the `requests` measurement (latency_ms, bytes_in, bytes_out).
const FIELDS_PER_POINT: u64 = 3;

#[derive(Debug, clap::Parser)]
#[command(about = "Measure Tally's ingest path on the seeded workload and print a figures table")]
struct Args {
    /// Workload seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Mean requests per weekday.
    #[arg(long, default_value_t = 1_000_000)]
    points_per_day: u64,
    /// Days to generate, from Monday 2026-01-05 00:00 UTC.
    #[arg(long, default_value_t = 1)]
    days: u32,
    /// Parse-only rounds (the median is reported).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Interval of the interval sync policy, in milliseconds.
    #[arg(long, default_value_t = 100)]
    interval_ms: u64,
    /// Skip the measurements through `Db` (parse, codecs and segment writer only).
    #[arg(long)]
    no_db: bool,
    /// zstd level of segment blocks (the engine's default is 3).
    #[arg(long, default_value_t = 3)]
    zstd_level: i32,
    /// Directory for the throw-away databases (default: a temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("ingest_report: {e}");
        std::process::exit(1);
    }
}

fn row(what: &str, points: u64, t: Timing) {
    println!(
        "| {what} | {} | {:.2} | {:.2} | {} | {} |",
        thousands(points as f64),
        t.wall.as_secs_f64(),
        t.cpu.as_secs_f64(),
        thousands(t.per_sec(points)),
        thousands(t.per_cpu_sec(points)),
    );
}

/// Per-column codec figures, and one segment written straight through `SegmentWriter`.
fn codecs(
    args: &Args,
    parser: &mut tally_ingest::line_protocol::Parser,
    bodies: &Bodies,
    base: &Path,
) -> Result<(), BenchError> {
    let cols = SeriesColumns::from_bodies(parser, bodies)?;
    let sizes = cols.column_sizes(args.zstd_level)?;
    println!(
        "\ncolumn codecs on the workload ({} series, {} points, {} field values; zstd level {}, blocks of {} KiB per column):\n",
        thousands(cols.series.len() as f64),
        thousands(cols.points as f64),
        thousands(cols.values as f64),
        args.zstd_level,
        DEFAULT_BLOCK_SIZE / 1024,
    );
    println!("| column | values | codec bytes | bytes/value | + zstd bytes | bytes/value |");
    println!("|---|---:|---:|---:|---:|---:|");
    for c in &sizes {
        println!(
            "| {} | {} | {} | {:.3} | {} | {:.3} |",
            c.name,
            thousands(c.values as f64),
            thousands(c.encoded_bytes as f64),
            c.encoded_bytes as f64 / c.values.max(1) as f64,
            thousands(c.zstd_bytes as f64),
            c.zstd_bytes as f64 / c.values.max(1) as f64,
        );
    }
    let path = base.join("direct.seg");
    let (written, t) = timed(|| cols.write_segment(&path, args.zstd_level));
    let (_, bytes) = written?;
    let _ = std::fs::remove_file(&path);
    println!(
        "\none segment of every series written by SegmentWriter in {:.2} s: {} bytes = {:.3} bytes/point, {:.3} bytes/field value (timestamps and index included; series keys live in the series log)",
        t.wall.as_secs_f64(),
        thousands(bytes as f64),
        bytes as f64 / cols.points.max(1) as f64,
        bytes as f64 / cols.values.max(1) as f64,
    );
    Ok(())
}

fn run(args: &Args) -> Result<(), BenchError> {
    let cfg = WorkloadConfig {
        seed: args.seed,
        points_per_day: args.points_per_day,
        duration_ns: i64::from(args.days) * 86_400 * 1_000_000_000,
        ..WorkloadConfig::default()
    };
    let (bodies, gen) = timed(|| Bodies::generate(cfg.clone(), None));
    let points = bodies.points;
    println!(
        "workload: seed {}, {} keys, {} endpoints, {} day(s) from 2026-01-05 (a Monday), {} points, {:.1} MB of line protocol ({:.1} bytes/line), bodies of {} points\n",
        cfg.seed,
        cfg.keys,
        cfg.endpoints,
        args.days,
        thousands(points as f64),
        bodies.bytes as f64 / 1e6,
        bodies.bytes as f64 / points.max(1) as f64,
        BATCH_POINTS,
    );
    println!(
        "| measurement | points | wall s | CPU s | points/s (wall) | points/s per core (CPU) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    row("generate (workload)", points, gen);

    let mut parser = parser();
    let mut runs = Vec::new();
    for _ in 0..args.rounds.max(1) {
        let (n, t) = timed(|| parse_all(&mut parser, &bodies));
        n?;
        runs.push(t);
    }
    runs.sort_by_key(|t| t.wall);
    row("parse only (median)", points, runs[runs.len() / 2]);

    let tmp;
    let base: &Path = match &args.dir {
        Some(d) => d,
        None => {
            tmp = tempfile::tempdir().map_err(|source| BenchError::Io {
                path: std::env::temp_dir(),
                source,
            })?;
            tmp.path()
        }
    };
    let storage = if args.no_db {
        None
    } else {
        Some(engine_runs(args, &mut parser, &bodies, base)?)
    };
    if let Some((before, after, report)) = storage {
        let values = points * FIELDS_PER_POINT;
        println!();
        println!("| on disk after flush | bytes | bytes/point | bytes/field value |");
        println!("|---|---:|---:|---:|");
        let line = |what: &str, b: u64| {
            println!(
                "| {what} | {} | {:.3} | {:.3} |",
                thousands(b as f64),
                b as f64 / points.max(1) as f64,
                b as f64 / values.max(1) as f64
            )
        };
        line(
            &format!("segment files ({} files)", after.segment_files),
            after.segment_bytes,
        );
        line(
            "other files (series log, manifest, index)",
            after.other_bytes,
        );
        let mut others = after.other_files.clone();
        others.sort();
        for (name, b) in &others {
            line(&format!("- {name}"), *b);
        }
        line("WAL after flush", after.wal_bytes);
        line("WAL before flush (for scale)", before.wal_bytes);
        line("line protocol (for scale)", bodies.bytes);
        println!(
            "\nflush report (Db::flush): {} segments, {} points, {} bytes",
            report.segments,
            thousands(report.points as f64),
            thousands(report.bytes as f64)
        );
    }
    codecs(args, &mut parser, &bodies, base)
}

/// The measurements through `Db`, printed as rows of the throughput table: parse + write under
/// both sync policies, write alone, and the flush. Returns the disk usage before and after the
/// flush of the first run.
fn engine_runs(
    args: &Args,
    parser: &mut tally_ingest::line_protocol::Parser,
    bodies: &Bodies,
    base: &Path,
) -> Result<(DiskUsage, DiskUsage, FlushReport), BenchError> {
    let points = bodies.points;
    let open = |name: &str, sync: SyncPolicy| {
        let opts = Options {
            sync,
            zstd_level: args.zstd_level,
            ..Options::default()
        };
        let dir = base.join(name);
        Db::open(&dir, opts).map(|db| (db, dir))
    };
    let interval = SyncPolicy::Interval(Duration::from_millis(args.interval_ms));

    let (db, dir) = open("interval", interval)?;
    let (n, t) = timed(|| ingest_all(parser, bodies, &db));
    n?;
    let every = format!("parse + write, sync every {} ms", args.interval_ms);
    row(&every, points, t);
    let before = disk_usage(&dir)?;
    let (report, t) = timed(|| db.flush());
    let report = report?;
    row("flush (head -> segments)", report.points, t);
    let after = disk_usage(&dir)?;
    db.close()?;
    let _ = std::fs::remove_dir_all(&dir);

    let (db, dir) = open("every-batch", SyncPolicy::EveryBatch)?;
    let (n, t) = timed(|| ingest_all(parser, bodies, &db));
    n?;
    row("parse + write, sync every batch", points, t);
    db.close()?;
    let _ = std::fs::remove_dir_all(&dir);

    let batches = parse_batches(parser, bodies)?;
    let (db, dir) = open("write-only", interval)?;
    let (n, t) = timed(|| write_batches(batches, &db));
    n?;
    let only = format!(
        "write only (pre-parsed batches), sync every {} ms",
        args.interval_ms
    );
    row(&only, points, t);
    db.close()?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((before, after, report))
}
