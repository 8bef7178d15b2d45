//! Prints the rollup figures for `docs/benchmarks.md` (issue 3): loads `--points` points of the
//! seeded `requests` workload spread over the `--days` days that end now, flushing every few
//! simulated hours, compacts, and reports ingest, flush and compaction throughput and the disk
//! bytes of raw segments and of each rollup tier per day of traffic. Then it answers "p99 of
//! `latency_ms` per endpoint" over the last 24 h, 7 d and 90 d twice: from the rollups
//! (`Db::rollup`, one bucket per series, sketches merged per endpoint) and from a raw scan
//! (`Db::read`, exact p99 per endpoint), and prints both times, their ratio and how far the p99s
//! differ.
//!
//! `cargo run --release -p tally-benches --bin rollup_report -- [--points N] [--days D] [--dir P]`
//! (see `--help`). With `--dir` the database stays in `P` and `--query-only` re-runs the
//! queries on it without loading again.

use clap::Parser as _;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};
use tally_benches::{
    command_line, disk_usage, exact_quantile_in_place, median_max, points_per_day_for,
    print_machine, relative_difference, thousands, thread_cpu_time, threads_cpu, timed, utc,
    BenchError, WorkloadBatches,
};
use tally_engine::retention::now_nanos;
use tally_engine::rollup::Distribution;
use tally_engine::{
    ColumnValues, CompactReport, Db, Options, RetentionPolicy, RollupQuery, Selector, SeriesInfo,
    Source, SyncPolicy, TimeRange,
};
use tally_ingest::workload::WorkloadConfig;

const MINUTE_NS: i64 = 60 * 1_000_000_000;
const HOUR_NS: i64 = 60 * MINUTE_NS;
const DAY_NS: i64 = 24 * HOUR_NS;
/// Points per `Db::write` while loading: large batches, as a bulk loader sends them.
const LOAD_BATCH_POINTS: usize = 50_000;
const MEASUREMENT: &str = "requests";
const FIELD: &str = "latency_ms";
const GROUP_TAG: &str = "endpoint";
const QUANTILE: f64 = 0.99;
/// The sketches' configured relative accuracy (the engine's default, 1%).
const ACCURACY: f64 = 0.01;

/// A query range ending now, with the target of issue 3 if it sets one.
struct QueryRange {
    label: &'static str,
    span: i64,
    target: Option<Duration>,
}

const RANGES: [QueryRange; 3] = [
    QueryRange {
        label: "24 h",
        span: DAY_NS,
        target: Some(Duration::from_millis(50)),
    },
    QueryRange {
        label: "7 d",
        span: 7 * DAY_NS,
        target: None,
    },
    QueryRange {
        label: "90 d",
        span: 90 * DAY_NS,
        target: Some(Duration::from_millis(200)),
    },
];

#[derive(Debug, clap::Parser)]
#[command(
    about = "Load the seeded workload over many days, compact, and time p99-per-endpoint queries from rollups against a raw scan"
)]
struct Args {
    /// Points to generate in total.
    #[arg(long, default_value_t = 100_000_000)]
    points: u64,
    /// Days of traffic, ending now.
    #[arg(long, default_value_t = 90)]
    days: u32,
    /// Database directory, kept after the run (default: a temporary directory, deleted). Must
    /// not exist yet or be empty, unless --query-only.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Skip loading: run the disk report and the queries on the database in --dir.
    #[arg(long, requires = "dir")]
    query_only: bool,
    /// Workload seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Flush the head every this many hours of simulated traffic (a divisor of 24, so day
    /// partitions collect 24/H files and the compactor merges them).
    #[arg(long, default_value_t = 6)]
    flush_hours: u32,
    /// Timed runs of each rollup query, after one warm-up.
    #[arg(long, default_value_t = 9)]
    runs: usize,
    /// Skip a raw scan expected to take longer than this many seconds.
    #[arg(long, default_value_t = 120)]
    raw_budget_secs: u64,
    /// Memory for decompressed rollup blocks shared by queries, in MiB (the server's
    /// `[storage] block_cache_mb`); 0 measures every query cold.
    #[arg(long, default_value_t = 128)]
    block_cache_mb: u64,
    /// Query only these ranges (of "24h", "7d", "90d"; default all three), e.g. to profile one.
    #[arg(long, value_delimiter = ',')]
    ranges: Vec<String>,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("rollup_report: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), BenchError> {
    if args.flush_hours == 0 || 24 % args.flush_hours != 0 {
        return Err(BenchError::Data(format!(
            "--flush-hours {} does not divide a day: use 1, 2, 3, 4, 6, 8, 12 or 24",
            args.flush_hours
        )));
    }
    let tmp;
    let dir: PathBuf = match &args.dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir().map_err(|source| BenchError::Io {
                path: std::env::temp_dir(),
                source,
            })?;
            tmp.path().join("db")
        }
    };
    print_machine();
    println!("command: rollup_report {}\n", command_line());
    if args.query_only {
        if !dir.join("MANIFEST").exists() {
            return Err(BenchError::Data(format!(
                "{} holds no database (no MANIFEST): run without --query-only first",
                dir.display()
            )));
        }
    } else {
        let occupied = std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some());
        if occupied {
            return Err(BenchError::Data(format!(
                "{} is not empty: remove it, pick another --dir, or pass --query-only to query the database in it",
                dir.display()
            )));
        }
        load(args, &dir)?;
    }
    let mut opts = options(Some(64 << 20));
    opts.block_cache_bytes = args.block_cache_mb << 20;
    let (db, t) = timed(|| Db::open(&dir, opts));
    let db = db?;
    let stats = db.stats();
    println!(
        "\nreopened for queries in {:.2} s ({} segments, {} rollup files, {} series)",
        t.wall.as_secs_f64(),
        stats.segments,
        stats.rollup_files,
        thousands(stats.series as f64)
    );
    disk_report(args, &db, &dir)?;
    query_report(args, &db)?;
    db.close()?;
    Ok(())
}

/// Engine settings: everything kept (the raw scan needs 90 days of raw points), a head that
/// only the benchmark's own flushes empty, and the given compaction rate.
fn options(compaction_bytes_per_sec: Option<u64>) -> Options {
    Options {
        // A bulk load: fsync the WAL at most every 100 ms rather than per batch.
        sync: SyncPolicy::Interval(Duration::from_millis(100)),
        retention: RetentionPolicy::forever(),
        head_max_bytes: 4 << 30,
        flush_interval: Duration::from_secs(7 * 86_400),
        compaction_bytes_per_sec,
        ..Options::default()
    }
}

/// Totals of the load phase.
#[derive(Debug, Default)]
struct Load {
    points: u64,
    bytes: u64,
    write_wall: Duration,
    flush_wall: Duration,
    flushes: u64,
    flushed_points: u64,
    flushed_bytes: u64,
    segments_written: u64,
    rollup_files_written: u64,
    generate_cpu: Duration,
}

fn load(args: &Args, dir: &Path) -> Result<(), BenchError> {
    let end = now_nanos();
    let duration = i64::from(args.days) * DAY_NS;
    let start = end - duration;
    let probe = WorkloadConfig {
        seed: args.seed,
        start_ns: start,
        duration_ns: duration,
        ..WorkloadConfig::default()
    };
    let (ppd, cal) = timed(|| points_per_day_for(&probe, args.points));
    let cfg = WorkloadConfig {
        points_per_day: ppd,
        ..probe
    };
    println!(
        "workload: seed {}, {} keys, {} endpoints, {} days ending now ({} .. {} UTC), {} requests per weekday (calibrated in {:.1} s for {} points in total); writes of {} points",
        cfg.seed,
        cfg.keys,
        cfg.endpoints,
        args.days,
        utc(start),
        utc(end),
        thousands(ppd as f64),
        cal.wall.as_secs_f64(),
        thousands(args.points as f64),
        thousands(LOAD_BATCH_POINTS as f64),
    );
    let db = Db::open(dir, options(None))?;
    let bar = progress(args.points);
    let flush_every = i64::from(args.flush_hours) * HOUR_NS;
    let mut next_flush = start.div_euclid(flush_every) * flush_every + flush_every;
    let mut load = Load::default();
    let t0 = Instant::now();
    let cpu0 = tally_benches::process_cpu_time();
    let mut last_note = 0u64;
    std::thread::scope(|s| -> Result<(), BenchError> {
        let (tx, rx) = sync_channel(4);
        let producer = std::thread::Builder::new()
            .name("load-generator".into())
            .spawn_scoped(s, move || {
                let cpu = thread_cpu_time();
                let mut stream = WorkloadBatches::new(cfg, LOAD_BATCH_POINTS);
                loop {
                    let next = stream.next_batch().transpose();
                    let stop = !matches!(next, Some(Ok(_)));
                    if let Some(item) = next {
                        if tx.send(item).is_err() {
                            break;
                        }
                    }
                    if stop {
                        break;
                    }
                }
                thread_cpu_time().saturating_sub(cpu)
            })
            .map_err(|source| BenchError::Io {
                path: dir.to_owned(),
                source,
            })?;
        for item in rx {
            let b = item?;
            // Flush at each boundary of simulated time, so day partitions fill as a server's do.
            if b.first_ts >= next_flush {
                flush(&db, &mut load)?;
                while next_flush <= b.first_ts {
                    next_flush += flush_every;
                }
            }
            load.points += b.points;
            load.bytes += b.bytes;
            let (summary, t) = timed(|| db.write(b.batch));
            let summary = summary?;
            if let Some(r) = summary.rejected.first() {
                return Err(BenchError::Data(format!(
                    "the engine refused {} points of a generated batch (first: {})",
                    summary.rejected.len(),
                    r.reason
                )));
            }
            load.write_wall += t.wall;
            bar.set_position(load.points);
            bar.set_message(format!(
                "day {}/{}",
                (b.last_ts - start) / DAY_NS + 1,
                args.days
            ));
            if bar.is_hidden() && load.points >= last_note + args.points / 20 {
                last_note = load.points;
                eprintln!(
                    "loaded {} of {} points in {:.0} s",
                    thousands(load.points as f64),
                    thousands(args.points as f64),
                    t0.elapsed().as_secs_f64()
                );
            }
        }
        load.generate_cpu = producer
            .join()
            .map_err(|_| BenchError::Data("the workload generator thread panicked".into()))?;
        Ok(())
    })?;
    flush(&db, &mut load)?;
    let load_wall = t0.elapsed();
    let load_cpu = tally_benches::process_cpu_time().saturating_sub(cpu0);
    bar.finish_and_clear();
    let during = db.stats();
    let compactor_during = thread_cpu("tally-compactor");
    eprintln!("compacting ...");
    let (report, t_compact) = timed(|| db.compact());
    let report = report?;
    let compactor_final = thread_cpu("tally-compactor").saturating_sub(compactor_during);
    let threads = threads_cpu();
    let (closed, t_close) = timed(|| db.close());
    closed?;

    println!("\n| load phase | points | wall s | CPU s | points/s (wall) | points/s per CPU s |");
    println!("|---|---:|---:|---:|---:|---:|");
    let row = |what: &str, points: u64, wall: Option<Duration>, cpu: Option<Duration>| {
        let secs =
            |d: Option<Duration>| d.map_or("-".to_owned(), |d| format!("{:.1}", d.as_secs_f64()));
        let rate = |d: Option<Duration>| {
            d.map_or("-".to_owned(), |d| {
                thousands(points as f64 / d.as_secs_f64().max(1e-9))
            })
        };
        println!(
            "| {what} | {} | {} | {} | {} | {} |",
            thousands(points as f64),
            secs(wall),
            secs(cpu),
            rate(wall),
            rate(cpu)
        );
    };
    let engine_cpu = |name: &str| threads.iter().find(|(n, _)| n == name).map(|(_, cpu)| *cpu);
    row(
        "whole load: generate + parse + write + flush (+ background compaction)",
        load.points,
        Some(load_wall),
        Some(load_cpu),
    );
    row(
        "generate + parse (load thread, overlapped with writes)",
        load.points,
        None,
        Some(load.generate_cpu),
    );
    row(
        "`Db::write` (caller waiting; WAL + head in the writer thread)",
        load.points,
        Some(load.write_wall),
        engine_cpu("tally-writer"),
    );
    row(
        &format!("`Db::flush` x {} (segments + rollup files)", load.flushes),
        load.flushed_points,
        Some(load.flush_wall),
        engine_cpu("tally-flusher"),
    );
    println!(
        "\n{} points, {:.1} GB of line protocol; flushes wrote {} segments and {} rollup files, {} bytes; closing took {:.2} s",
        thousands(load.points as f64),
        load.bytes as f64 / 1e9,
        load.segments_written,
        load.rollup_files_written,
        thousands(load.flushed_bytes as f64),
        t_close.wall.as_secs_f64()
    );

    println!("\n| compaction | partitions | bytes read + written | time s | MB/s |");
    println!("|---|---:|---:|---:|---:|");
    let mbps = |bytes: u64, d: Duration| bytes as f64 / 1e6 / d.as_secs_f64().max(1e-9);
    println!(
        "| background, during the load (unthrottled; compactor thread CPU time) | {} | {} | {:.1} | {:.1} |",
        during.compactions,
        thousands(during.compaction_bytes as f64),
        compactor_during.as_secs_f64(),
        mbps(during.compaction_bytes, compactor_during),
    );
    compact_row(&report, t_compact.wall, compactor_final);
    Ok(())
}

fn compact_row(r: &CompactReport, wall: Duration, cpu: Duration) {
    let bytes = r.bytes_read + r.bytes_written;
    println!(
        "| final `Db::compact()`: {} files replaced, {} read, {} written (wall; compactor CPU {:.1} s) | {} | {} | {:.1} | {:.1} |",
        r.files_replaced,
        thousands(r.bytes_read as f64),
        thousands(r.bytes_written as f64),
        cpu.as_secs_f64(),
        r.partitions,
        thousands(bytes as f64),
        wall.as_secs_f64(),
        bytes as f64 / 1e6 / wall.as_secs_f64().max(1e-9),
    );
}

fn flush(db: &Db, load: &mut Load) -> Result<(), BenchError> {
    let (r, t) = timed(|| db.flush());
    let r = r?;
    load.flush_wall += t.wall;
    load.flushes += 1;
    load.flushed_points += r.points;
    load.flushed_bytes += r.bytes;
    load.segments_written += r.segments as u64;
    load.rollup_files_written += r.rollup_files as u64;
    Ok(())
}

/// CPU time of the live threads called `name`.
fn thread_cpu(name: &str) -> Duration {
    threads_cpu()
        .into_iter()
        .filter(|(n, _)| n == name)
        .map(|(_, cpu)| cpu)
        .sum()
}

fn progress(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    if let Ok(style) = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} points, {per_sec}, eta {eta} {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn disk_report(args: &Args, db: &Db, dir: &Path) -> Result<(), BenchError> {
    let stats = db.stats();
    let usage = disk_usage(dir)?;
    let all = TimeRange::new(i64::MIN + 1, i64::MAX);
    let answer = rollup_p99(db, &Selector::measurement(MEASUREMENT), all)?;
    let points: u64 = answer.by_endpoint.values().map(|e| e.count).sum();
    let days = f64::from(args.days.max(1));
    let rollup_files: u64 = usage
        .other_files
        .iter()
        .filter(|(name, _)| name.starts_with("rollups"))
        .map(|(_, b)| b)
        .sum();
    println!(
        "\non disk after compaction ({} points of `{MEASUREMENT}` over {} days, {} series):\n",
        thousands(points as f64),
        args.days,
        thousands(stats.series as f64)
    );
    println!("| level | bytes | bytes per day of traffic | bytes/point |");
    println!("|---|---:|---:|---:|");
    let line = |what: &str, b: u64| {
        println!(
            "| {what} | {} | {} | {:.3} |",
            thousands(b as f64),
            thousands(b as f64 / days),
            b as f64 / points.max(1) as f64
        )
    };
    line(
        &format!("raw segments ({} files)", stats.segments),
        stats.segment_bytes,
    );
    for (i, tier) in ["1m", "1h", "1d"].iter().enumerate() {
        line(&format!("rollup tier {tier}"), stats.rollup_bytes[i]);
    }
    line(
        &format!(
            "rollup files ({} files: the tiers + index, names, footers)",
            stats.rollup_files
        ),
        rollup_files,
    );
    line(
        "series log, manifest, WAL",
        usage.other_bytes - rollup_files + usage.wal_bytes,
    );
    line(
        "whole data directory",
        usage.segment_bytes + usage.wal_bytes + usage.other_bytes,
    );
    Ok(())
}

/// Count and p99 of one endpoint.
#[derive(Debug, Clone, Copy)]
struct EndpointP99 {
    count: u64,
    p99: Option<f64>,
}

fn endpoint(series: &SeriesInfo) -> &str {
    series
        .tags
        .iter()
        .find(|(k, _)| k == GROUP_TAG)
        .map_or("", |(_, v)| v.as_str())
}

/// What the rollup path answered.
struct RollupP99 {
    by_endpoint: BTreeMap<String, EndpointP99>,
    /// The pieces of the range and the level that served each, in time order.
    sources: Vec<(TimeRange, Source)>,
    /// Time spent in `Db::rollup` (the rest is merging per endpoint).
    engine: Duration,
}

/// The rollup path: one bucket per series over `range`, sketches merged per endpoint.
fn rollup_p99(db: &Db, sel: &Selector, range: TimeRange) -> Result<RollupP99, BenchError> {
    let fields = [FIELD];
    let t0 = Instant::now();
    let answer = db.rollup(&RollupQuery {
        selector: sel,
        range,
        width: None,
        fields: Some(&fields),
        group_by: Some(&["endpoint"]),
    })?;
    let engine = t0.elapsed();
    let mut merged: BTreeMap<&str, (u64, Option<Distribution>)> = BTreeMap::new();
    for s in &answer.groups {
        let ep = s
            .tags
            .iter()
            .find(|(k, _)| k == "endpoint")
            .map_or("", |(_, v)| v.as_str());
        let acc = merged.entry(ep).or_insert((0, None));
        for b in s
            .fields
            .iter()
            .filter(|f| f.name == FIELD)
            .flat_map(|f| &f.buckets)
        {
            acc.0 += b.agg.count;
            let Some(d) = &b.dist else {
                return Err(BenchError::Data(format!(
                    "a rollup bucket of {FIELD} has no distribution: is the field configured as a distribution field?"
                )));
            };
            match &mut acc.1 {
                Some(m) => m.merge(d)?,
                None => acc.1 = Some(d.clone()),
            }
        }
    }
    let by_endpoint = merged
        .into_iter()
        .map(|(ep, (count, d))| {
            let p99 = d.and_then(|d| d.quantile(QUANTILE));
            (ep.to_owned(), EndpointP99 { count, p99 })
        })
        .collect();
    Ok(RollupP99 {
        by_endpoint,
        sources: answer.sources,
        engine,
    })
}

/// The raw path: every point of `range` read back, grouped by endpoint, exact p99. Reads a day
/// partition at a time so a 90-day scan holds only the latency values, not every timestamp.
fn raw_p99(
    db: &Db,
    sel: &Selector,
    range: TimeRange,
) -> Result<BTreeMap<String, EndpointP99>, BenchError> {
    let mut values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let fields = [FIELD];
    let mut t = range.start;
    while t < range.end {
        let next = (t.div_euclid(DAY_NS) * DAY_NS + DAY_NS).min(range.end);
        for s in db.read(sel, TimeRange::new(t, next), Some(&fields))? {
            let ep = endpoint(&s.series);
            let out = match values.get_mut(ep) {
                Some(v) => v,
                None => values.entry(ep.to_owned()).or_default(),
            };
            for col in s.fields.iter().filter(|c| c.name == FIELD) {
                match &col.values {
                    ColumnValues::Float(v) => out.extend_from_slice(v),
                    other => {
                        return Err(BenchError::Data(format!(
                            "{FIELD} is stored as {}, not as floats: the workload changed?",
                            other.field_type().name()
                        )))
                    }
                }
            }
        }
        t = next;
    }
    Ok(values
        .into_iter()
        .map(|(ep, mut v)| {
            let count = v.len() as u64;
            let p99 = exact_quantile_in_place(&mut v, QUANTILE);
            (ep, EndpointP99 { count, p99 })
        })
        .collect())
}

/// How the rollup answers compare with the exact ones: the largest relative difference of the
/// p99s, and whether every endpoint's count agrees.
fn compare(
    rollup: &BTreeMap<String, EndpointP99>,
    raw: &BTreeMap<String, EndpointP99>,
) -> (f64, bool) {
    let mut worst = 0.0f64;
    let mut counts_equal = rollup.len() == raw.len();
    for (ep, exact) in raw {
        let Some(r) = rollup.get(ep) else {
            counts_equal = false;
            continue;
        };
        counts_equal &= r.count == exact.count;
        let diff = match (r.p99, exact.p99) {
            (Some(a), Some(b)) => relative_difference(a, b),
            (None, None) => 0.0,
            _ => f64::INFINITY,
        };
        worst = worst.max(diff);
    }
    (worst, counts_equal)
}

fn query_report(args: &Args, db: &Db) -> Result<(), BenchError> {
    let sel = Selector::measurement(MEASUREMENT);
    // A dashboard's now(): never minute-aligned, so both ends need the raw and finer tiers.
    let mut end = now_nanos();
    if end.rem_euclid(MINUTE_NS) == 0 {
        end += 1_234_567_891;
    }
    println!(
        "\np{} of {FIELD} per {GROUP_TAG}, ranges ending {} UTC; rollup: median and max of {} runs after a warm-up (`Db::rollup` with one bucket per series, then sketches merged per endpoint); raw: `Db::read` a day at a time, exact p99 by selection (same rank rule as the sketches)\n",
        (QUANTILE * 100.0).round(),
        utc(end),
        args.runs.max(1),
    );
    println!("| range | series | pieces (level of each) | rollup ms first run | rollup ms median (max) | of which `Db::rollup` ms | raw ms (runs) | raw / rollup | max p99 difference | counts equal | target | met |");
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|---|");
    let budget = Duration::from_secs(args.raw_budget_secs);
    // Raw time per day of range of the previous raw scan, to predict the next one.
    let mut raw_per_day: Option<Duration> = None;
    let mut notes = Vec::new();
    let mut breakdown = Vec::new();
    for r in RANGES.iter().filter(|r| {
        args.ranges.is_empty() || args.ranges.iter().any(|a| *a == r.label.replace(' ', ""))
    }) {
        let range = TimeRange::new(end - r.span, end);
        let series = db.series(&sel).len();
        eprintln!("rollup queries over {} ...", r.label);
        let (first, first_time) = timed(|| rollup_p99(db, &sel, range));
        let mut answer = first?;
        let pieces = std::mem::take(&mut answer.sources);
        let sources = pieces
            .iter()
            .map(|(_, s)| s.name())
            .collect::<Vec<_>>()
            .join(" ");
        breakdown.push((r.label, pieces));
        let mut times = Vec::with_capacity(args.runs);
        let mut engine_times = Vec::with_capacity(args.runs);
        for _ in 0..args.runs.max(1) {
            let (a, t) = timed(|| rollup_p99(db, &sel, range));
            answer = a?;
            times.push(t.wall);
            engine_times.push(answer.engine);
        }
        let answer = answer.by_endpoint;
        let (median, max) = median_max(&times);
        let (engine_median, _) = median_max(&engine_times);
        let days = r.span as f64 / DAY_NS as f64;
        let predicted = raw_per_day.map(|d| d.mul_f64(days));
        let raw = if predicted.is_some_and(|p| p > budget) {
            notes.push(format!(
                "raw scan over {} skipped: predicted {:.0} s from the previous range, over the {} s budget",
                r.label,
                predicted.map_or(0.0, |p| p.as_secs_f64()),
                args.raw_budget_secs
            ));
            None
        } else {
            eprintln!("raw scan over {} ...", r.label);
            let (first, t) = timed(|| raw_p99(db, &sel, range));
            let mut exact = first?;
            let mut runs = vec![t.wall];
            // Slow scans run once: their spread is small next to their length.
            while runs.len() < 3 && runs.iter().sum::<Duration>() < Duration::from_secs(20) {
                let (a, t) = timed(|| raw_p99(db, &sel, range));
                exact = a?;
                runs.push(t.wall);
            }
            let (m, _) = median_max(&runs);
            raw_per_day = Some(m.div_f64(days));
            Some((m, runs.len(), exact))
        };
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let (raw_cell, ratio_cell, diff_cell, counts_cell) = match &raw {
            Some((m, n, exact)) => {
                let (worst, counts_equal) = compare(&answer, exact);
                // The sketches guarantee the accuracy; the slack only absorbs float rounding.
                let verdict = if worst <= ACCURACY * (1.0 + 1e-9) {
                    ""
                } else {
                    " OVER 1%"
                };
                (
                    format!("{:.0} ({n})", ms(*m)),
                    format!("{:.1}x", m.as_secs_f64() / median.as_secs_f64().max(1e-9)),
                    format!("{:.3}%{verdict}", worst * 100.0),
                    if counts_equal { "yes" } else { "NO" }.to_owned(),
                )
            }
            None => ("skipped".into(), "-".into(), "-".into(), "-".into()),
        };
        let (target_cell, met_cell) = match r.target {
            Some(t) => (
                format!("< {} ms", t.as_millis()),
                if median < t {
                    "yes".to_owned()
                } else {
                    format!("no ({:.1}x over)", median.as_secs_f64() / t.as_secs_f64())
                },
            ),
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {} | {} | {sources} | {:.1} | {:.1} ({:.1}) | {:.1} | {raw_cell} | {ratio_cell} | {diff_cell} | {counts_cell} | {target_cell} | {met_cell} |",
            r.label,
            thousands(series as f64),
            ms(first_time.wall),
            ms(median),
            ms(max),
            ms(engine_median),
        );
    }
    for n in notes {
        println!("\n{n}");
    }
    piece_report(db, &sel, &breakdown)
}

/// Times `Db::rollup` on each piece of each range alone, to show which level costs what.
fn piece_report(
    db: &Db,
    sel: &Selector,
    breakdown: &[(&str, Vec<(TimeRange, Source)>)],
) -> Result<(), BenchError> {
    const RUNS: usize = 3;
    println!("\n`Db::rollup` on each piece of the range alone (median of {RUNS} runs after a warm-up):\n");
    println!("| range | piece | served by | length | ms |");
    println!("|---|---:|---|---:|---:|");
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..=RUNS {
        let (series, t) = timed(|| db.series(sel));
        std::hint::black_box(series);
        times.push(t.wall);
    }
    println!(
        "| any | - | `Db::series` (the selector's series with their tags; every query pays it once) | - | {:.1} |",
        median_max(&times[1..]).0.as_secs_f64() * 1e3
    );
    let fields = [FIELD];
    for (label, pieces) in breakdown {
        for (i, (piece, source)) in pieces.iter().enumerate() {
            let q = RollupQuery {
                selector: sel,
                range: *piece,
                width: None,
                fields: Some(&fields),
                group_by: Some(&["endpoint"]),
            };
            db.rollup(&q)?;
            let mut times = Vec::with_capacity(RUNS);
            for _ in 0..RUNS {
                let (a, t) = timed(|| db.rollup(&q));
                a?;
                times.push(t.wall);
            }
            println!(
                "| {label} | {} | {} | {} | {:.1} |",
                i + 1,
                source.name(),
                span(piece.end - piece.start),
                median_max(&times).0.as_secs_f64() * 1e3
            );
        }
    }
    Ok(())
}

/// A length of time in its largest whole unit, e.g. `22 h` or `59 min`.
fn span(ns: i64) -> String {
    match ns {
        n if n >= DAY_NS => format!("{:.1} d", n as f64 / DAY_NS as f64),
        n if n >= HOUR_NS => format!("{:.1} h", n as f64 / HOUR_NS as f64),
        n if n >= MINUTE_NS => format!("{:.1} min", n as f64 / MINUTE_NS as f64),
        n => format!("{:.1} s", n as f64 / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_flags_count_and_quantile_differences() {
        let e = |count, p99| EndpointP99 {
            count,
            p99: Some(p99),
        };
        let exact: BTreeMap<String, EndpointP99> = [
            ("/a".to_owned(), e(10, 100.0)),
            ("/b".to_owned(), e(5, 50.0)),
        ]
        .into();
        let mut approx = exact.clone();
        approx.insert("/a".into(), e(10, 100.5));
        let (worst, counts) = compare(&approx, &exact);
        assert!((worst - 0.005).abs() < 1e-12 && counts);
        approx.insert("/b".into(), e(6, 50.0));
        assert!(!compare(&approx, &exact).1);
        approx.remove("/b");
        assert!(!compare(&approx, &exact).1);
    }

    #[test]
    fn rollup_and_raw_paths_agree_on_a_small_store() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), options(None)).unwrap();
        let day = 1_767_571_200 * 1_000_000_000;
        let cfg = WorkloadConfig {
            start_ns: day,
            duration_ns: 2 * HOUR_NS,
            points_per_day: 200_000,
            ..Default::default()
        };
        let mut stream = WorkloadBatches::new(cfg, 5_000);
        while let Some(b) = stream.next_batch().unwrap() {
            db.write(b.batch).unwrap();
        }
        db.flush().unwrap();
        let sel = Selector::measurement(MEASUREMENT);
        let range = TimeRange::new(day + 7 * MINUTE_NS + 123, day + 2 * HOUR_NS - 999);
        let approx = rollup_p99(&db, &sel, range).unwrap();
        let sources: Vec<&str> = approx.sources.iter().map(|(_, s)| s.name()).collect();
        let exact = raw_p99(&db, &sel, range).unwrap();
        assert!(
            sources.contains(&"1m") && sources.contains(&"raw"),
            "{sources:?}"
        );
        assert!(exact.len() > 10);
        let (worst, counts_equal) = compare(&approx.by_endpoint, &exact);
        assert!(counts_equal);
        assert!(worst <= ACCURACY, "{worst}");
    }
}
