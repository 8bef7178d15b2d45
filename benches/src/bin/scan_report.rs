//! Prints the raw scan figures for `docs/benchmarks.md` (issue 4: "points scanned per second
//! for raw scans, target >= 200 million values/s per core for a simple sum over one column").
//!
//! Loads `--points` points into `--series` long series of the event measurement `requests`
//! over the `--days` days ending now (few series with many points each, so the figure measures
//! decoding and folding values, not per-column overhead; `query_report` measures the 60 k-series
//! workload), flushes them into segments, then times a sum over one column:
//! - `Db::scan_field` on one thread (the engine's column scan, values folded by the caller);
//! - `SELECT sum(..)` through the query language with rollups bypassed (`raw_only`), which scans
//!   day partitions on all cores with the column scan;
//! - the same query with a condition on a field, which rebuilds points one by one (the path
//!   any query with a per-point condition takes), for the ratio.
//!
//! `cargo run --release -p tally-benches --bin scan_report -- [--points N] [--series S]`

use clap::Parser as _;
use std::time::{Duration, Instant};
use tally_benches::{command_line, median_max, print_machine, thousands, BenchError};
use tally_engine::retention::now_nanos;
use tally_engine::{
    ColumnValues, Db, FieldValueRef, Options, PointScratch, RetentionPolicy, Selector, SeriesId,
    SyncPolicy, TimeRange, WriteBatch,
};
use tally_query::{run, Cell, QueryOptions};

const DAY_NS: i64 = 86_400_000_000_000;

#[derive(Debug, clap::Parser)]
#[command(
    about = "Time sums over one raw column: engine column scan, query column scan, point-by-point scan"
)]
struct Args {
    /// Points to load in total.
    #[arg(long, default_value_t = 20_000_000)]
    points: u64,
    /// Series (values of the `endpoint` tag) the points are spread over.
    #[arg(long, default_value_t = 16)]
    series: u64,
    /// Days of traffic, ending now.
    #[arg(long, default_value_t = 2)]
    days: u32,
    /// Timed runs of each scan, after one warm-up.
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = report(&args) {
        eprintln!("scan_report: {e}");
        std::process::exit(1);
    }
}

fn report(args: &Args) -> Result<(), BenchError> {
    if args.series == 0 || args.points < args.series || args.days == 0 {
        return Err(BenchError::Data(
            "--series, --days and --points must be positive, with at least one point per series"
                .into(),
        ));
    }
    print_machine();
    println!("command: scan_report {}\n", command_line());
    let tmp = tempfile::tempdir().map_err(|source| BenchError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let opts = Options {
        sync: SyncPolicy::Interval(Duration::from_millis(100)),
        retention: RetentionPolicy::forever(),
        head_max_bytes: 4 << 30,
        flush_interval: Duration::from_secs(7 * 86_400),
        // Room for every decompressed block: the figures are for a warm cache.
        block_cache_bytes: 1 << 30,
        ..Options::default()
    };
    let db = Db::open(tmp.path().join("db"), opts)?;
    let now = now_nanos();
    let span = i64::from(args.days) * DAY_NS;
    let start = now - span;
    let load = Instant::now();
    load_points(&db, args, start, span)?;
    println!(
        "loaded {} points in {} series over {} days in {:.0} s (segments: {})\n",
        thousands(args.points as f64),
        args.series,
        args.days,
        load.elapsed().as_secs_f64(),
        db.stats().segments
    );
    let range = TimeRange::new(start, now + 1);
    let ids: Vec<SeriesId> = db
        .series(&Selector::measurement("requests"))
        .iter()
        .map(|s| s.id)
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.min(args.days as usize + 1);
    println!("| scan | column | values | threads | ms median (max of {}) | values/s | values/s per thread |", args.runs);
    println!("|---|---|---:|---:|---:|---:|---:|");
    for field in ["bytes_out", "cpu_s"] {
        let (values, times) = repeat(args.runs, || engine_sum(&db, &ids, range, field))?;
        row("`Db::scan_field`, caller sums", field, values, 1, &times);
        let q = format!(
            "SELECT count({field}), sum({field}) FROM requests WHERE time >= now() - {}d",
            args.days
        );
        let (values, times) = repeat(args.runs, || query_sum(&db, &q, now))?;
        row(
            "query, column scan (`raw_only`)",
            field,
            values,
            workers,
            &times,
        );
        let q = format!("{q} AND {field} >= 0");
        let (values, times) = repeat(args.runs.min(2), || query_sum(&db, &q, now))?;
        row(
            "query, point by point (field condition)",
            field,
            values,
            workers,
            &times,
        );
    }
    db.close()?;
    Ok(())
}

/// Writes the points in large batches, flushing every simulated 6 hours so day partitions
/// hold several segments, then compacts.
fn load_points(db: &Db, args: &Args, start: i64, span: i64) -> Result<(), BenchError> {
    let per_series = args.points / args.series;
    let step = span / per_series.max(1) as i64;
    let names: Vec<String> = (0..args.series).map(|i| format!("/v1/e{i:02}")).collect();
    let mut scratch = PointScratch::new();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next_flush = start + 6 * 3_600_000_000_000;
    let mut b = WriteBatch::new();
    for i in 0..per_series {
        let t0 = start + i as i64 * step;
        for name in &names {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let t = t0 + (x % step.max(1) as u64) as i64;
            // Log-normal-ish sizes and millisecond CPU times.
            let bytes = 200 + (x >> 40) as i64 % 4000 * ((x >> 20) % 7 + 1) as i64;
            let cpu = ((x >> 12) % 250_000) as f64 / 1000.0;
            let mut p = b.point(&mut scratch, "requests");
            p.tag("endpoint", name)
                .field("bytes_out", FieldValueRef::Integer(bytes))
                .field("cpu_s", FieldValueRef::Float(cpu));
            p.finish(t).map_err(|e| BenchError::Data(e.to_string()))?;
        }
        if b.len() >= 50_000 {
            db.write(std::mem::take(&mut b))?;
        }
        if t0 >= next_flush {
            db.write(std::mem::take(&mut b))?;
            db.flush()?;
            next_flush += 6 * 3_600_000_000_000;
        }
    }
    db.write(b)?;
    db.flush()?;
    db.compact()?;
    Ok(())
}

/// Sums one column through the engine's column scan on this thread; returns the values seen.
fn engine_sum(db: &Db, ids: &[SeriesId], range: TimeRange, field: &str) -> Result<u64, BenchError> {
    let (mut n, mut int, mut float) = (0u64, 0i128, 0f64);
    db.scan_field("requests", ids, range, field, false, |_, p| {
        n += p.rows.len() as u64;
        match p.values {
            ColumnValues::Integer(v) => {
                int += v[p.rows.clone()]
                    .iter()
                    .map(|&x| i128::from(x))
                    .sum::<i128>()
            }
            ColumnValues::Float(v) => float += v[p.rows.clone()].iter().sum::<f64>(),
            _ => {}
        }
    })?;
    std::hint::black_box((int, float));
    Ok(n)
}

/// Runs a `count(f), sum(f)` query on raw points; returns the count.
fn query_sum(db: &Db, q: &str, now: i64) -> Result<u64, BenchError> {
    let opts = QueryOptions {
        now: Some(now),
        raw_only: true,
        ..QueryOptions::default()
    };
    let t = run(db, q, &opts).map_err(|e| BenchError::Data(format!("{q}: {e}")))?;
    match t
        .first()
        .and_then(|t| t.rows.first())
        .and_then(|r| r.first())
    {
        Some(Cell::Integer(n)) => Ok(*n as u64),
        other => Err(BenchError::Data(format!("{q}: no count ({other:?})"))),
    }
}

/// One warm-up, then `runs` timed runs; the values each run saw must agree.
fn repeat(
    runs: usize,
    mut f: impl FnMut() -> Result<u64, BenchError>,
) -> Result<(u64, Vec<Duration>), BenchError> {
    let values = f()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let n = f()?;
        times.push(t.elapsed());
        if n != values {
            return Err(BenchError::Data(format!(
                "runs disagree: {n} and {values} values"
            )));
        }
    }
    Ok((values, times))
}

fn row(what: &str, field: &str, values: u64, threads: usize, times: &[Duration]) {
    let (median, max) = median_max(times);
    let per_s = values as f64 / median.as_secs_f64();
    println!(
        "| {what} | `{field}` | {} | {threads} | {:.1} ({:.1}) | {} | {} |",
        thousands(values as f64),
        median.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        thousands(per_s),
        thousands(per_s / threads as f64)
    );
}
