//! Times the DESIGN.md example queries through the query language (`tally_query::run`) over
//! 24 h and 90 d of a store loaded by `rollup_report`, says which level served each, and
//! measures raw scan speed (values per second per core) for a sum over one column.
//!
//! ```sh
//! ./target/release/rollup_report --dir /tmp/rr/full            # load 100 M points once
//! ./target/release/query_report --dir /tmp/rr/full
//! ```

use clap::Parser;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tally_benches::{command_line, median_max, print_machine, thousands, BenchError};
use tally_engine::{
    Db, FieldValueRef, Options, PointScratch, RetentionPolicy, Selector, TimeRange, WriteBatch,
};
use tally_query::{run, Cell, ExecLimits, QueryOptions, Table};

#[derive(Debug, Parser)]
#[command(about = "Time the DESIGN.md example queries over 24 h and 90 d, and raw scan speed")]
struct Args {
    /// A database loaded by rollup_report (it is opened for reading; an `ai_cost` measurement
    /// is added if absent, for the cost example).
    #[arg(long)]
    dir: PathBuf,
    /// Timed runs per query after a warm-up (fewer when a run takes over 20 s).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Time budget per query, seconds.
    #[arg(long, default_value_t = 900)]
    timeout_secs: u64,
}

const DAY: i64 = 86_400_000_000_000;

fn main() {
    let args = Args::parse();
    if let Err(e) = run_report(&args) {
        eprintln!("query_report: {e}");
        std::process::exit(1);
    }
}

/// Daily AI cost over two years ending today: 3 platforms x 15 users.
fn add_ai_cost(db: &Db, now: i64) -> Result<(), BenchError> {
    if db.measurements().iter().any(|m| m == "ai_cost") {
        return Ok(());
    }
    let today = now - now.rem_euclid(DAY);
    let mut scratch = PointScratch::new();
    let mut b = WriteBatch::new();
    for day in 0..730i64 {
        for (pi, platform) in ["claude_api", "claude_code", "cursor"].iter().enumerate() {
            for user in 0..15 {
                let name = format!("user{user:02}");
                let mut p = b.point(&mut scratch, "ai_cost");
                p.tag("platform", platform).tag("user", &name).field(
                    "cost_usd",
                    FieldValueRef::Float(
                        1.0 + (day % 7) as f64 + pi as f64 * 2.5 + user as f64 * 0.1,
                    ),
                );
                p.finish(today - day * DAY)
                    .map_err(|e| BenchError::Data(e.to_string()))?;
            }
        }
    }
    db.write(b)?;
    db.flush()?;
    Ok(())
}

fn limits(args: &Args) -> ExecLimits {
    ExecLimits {
        timeout: Duration::from_secs(args.timeout_secs),
        max_memory_bytes: 8 << 30,
        max_rows: 50_000_000,
    }
}

fn run_report(args: &Args) -> Result<(), BenchError> {
    if !args.dir.join("MANIFEST").exists() {
        return Err(BenchError::Data(format!(
            "{} holds no database: load one with rollup_report --dir {} first",
            args.dir.display(),
            args.dir.display()
        )));
    }
    print_machine();
    println!("command: query_report {}\n", command_line());
    let db = Db::open(
        &args.dir,
        Options {
            retention: RetentionPolicy::forever(),
            compaction_bytes_per_sec: Some(64 << 20),
            ..Options::default()
        },
    )?;
    let now = tally_engine::retention::now_nanos();
    add_ai_cost(&db, now)?;
    // The busiest endpoint, for the per-endpoint example.
    let busiest = {
        let t = one(&db, "SELECT count(latency_ms) AS n FROM requests WHERE time > now() - 1d GROUP BY endpoint ORDER BY n DESC LIMIT 1", now, args)?;
        match t.rows.first().map(|r| &r[0]) {
            Some(Cell::String(s)) => s.clone(),
            _ => return Err(BenchError::Data("no requests in the last day".into())),
        }
    };
    let queries = [
        ("requests per endpoint, top 10", "SELECT count(*) FROM requests WHERE time > now() - {R} GROUP BY endpoint ORDER BY count DESC LIMIT 10".to_owned()),
        ("p50/p95/p99 of one endpoint per hour", format!("SELECT p50(latency_ms), p95(latency_ms), p99(latency_ms) FROM requests WHERE time > now() - {{R}} AND endpoint = '{busiest}' GROUP BY time(1h)")),
        ("error rate per key per 5 min", "SELECT count(*) FILTER (WHERE status_class = '5xx') / count(*) AS error_rate FROM requests WHERE time > now() - {R} GROUP BY key, time(5m)".to_owned()),
        ("cost per platform and user", "SELECT sum(cost_usd) FROM ai_cost WHERE time > now() - {R} GROUP BY platform, user".to_owned()),
        ("hour-of-week heatmap per endpoint", "SELECT count(*) FROM requests WHERE time > now() - {R} GROUP BY endpoint, hour_of_week(time)".to_owned()),
    ];
    println!("| query | range | served by | rows | first run ms | median ms (max) | runs |");
    println!("|---|---|---|---:|---:|---:|---:|");
    for (label, q) in &queries {
        for range in ["24h", "90d"] {
            let text = q.replace("{R}", range);
            let plan = one(&db, &format!("EXPLAIN {text}"), now, args)?;
            let served = plan
                .rows
                .iter()
                .filter_map(|r| match &r[0] {
                    Cell::String(s) => s.strip_prefix("served by: ").map(str::to_owned),
                    _ => None,
                })
                .next()
                .unwrap_or_default();
            let started = Instant::now();
            let first = one(&db, &text, now, args)?;
            let first_time = started.elapsed();
            let mut times = Vec::new();
            while times.len() < args.runs
                && (times.is_empty() || times.iter().sum::<Duration>() < Duration::from_secs(20))
                && first_time < Duration::from_secs(20)
            {
                let s = Instant::now();
                one(&db, &text, now, args)?;
                times.push(s.elapsed());
            }
            let (median, max) = if times.is_empty() {
                (first_time, first_time)
            } else {
                median_max(&times)
            };
            println!(
                "| {label} | {range} | {served} | {} | {:.1} | {:.1} ({:.1}) | {} |",
                thousands(first.rows.len() as f64),
                ms(first_time),
                ms(median),
                ms(max),
                times.len()
            );
        }
    }
    println!("\nThe queries (24 h shown; 90 d replaces the range):\n");
    for (label, q) in &queries {
        println!("- {label}: `{}`", q.replace("{R}", "24h"));
    }
    scan_report(&db, now, args)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn one(db: &Db, text: &str, now: i64, args: &Args) -> Result<Table, BenchError> {
    query(db, text, now, args, false)
}

/// Runs one statement (`raw_only`: rollups bypassed) and returns its first table.
fn query(db: &Db, text: &str, now: i64, args: &Args, raw_only: bool) -> Result<Table, BenchError> {
    let opts = QueryOptions {
        now: Some(now),
        limits: limits(args),
        raw_only,
        ..QueryOptions::default()
    };
    let mut tables = run(db, text, &opts).map_err(|e| BenchError::Data(format!("{text}: {e}")))?;
    tables
        .pop()
        .ok_or_else(|| BenchError::Data(format!("{text}: no result")))
}

/// Raw scan speed: the engine reading one float column of every series over a day, summed in a
/// plain loop; and the same sum through the query language forced onto raw points.
fn scan_report(db: &Db, now: i64, args: &Args) -> Result<(), BenchError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let range = TimeRange::new(now - DAY, now);
    let sel = Selector {
        measurement: "requests".into(),
        predicates: Vec::new(),
    };
    let ids: Vec<_> = db.series(&sel).into_iter().map(|s| s.id).collect();
    let mut best = Duration::MAX;
    let mut values = 0usize;
    let mut sum = 0.0;
    for _ in 0..3 {
        let started = Instant::now();
        let cols = db.read_series("requests", &ids, range, Some(&["latency_ms"]))?;
        values = 0;
        sum = 0.0;
        for c in cols.iter().flatten() {
            if let tally_engine::ColumnValues::Float(v) = &c.values {
                values += v.len();
                sum += v.iter().sum::<f64>();
            }
        }
        best = best.min(started.elapsed());
    }
    println!(
        "\nRaw scan, one float column (`latency_ms`) of {} series over the last 24 h: {} values in {:.1} ms (best of 3, one thread) = {} values/s (sum {:.0})",
        thousands(ids.len() as f64),
        thousands(values as f64),
        ms(best),
        thousands(values as f64 / best.as_secs_f64()),
        sum
    );
    let q = "SELECT sum(latency_ms) FROM requests WHERE time > now() - 24h AND latency_ms >= 0";
    let started = Instant::now();
    one(db, q, now, args)?;
    let t = started.elapsed();
    println!(
        "Through the query language, forced onto raw points by a per-point condition (`{q}`): {:.1} ms = {} values/s on {cores} cores, {} per core",
        ms(t),
        thousands(values as f64 / t.as_secs_f64()),
        thousands(values as f64 / t.as_secs_f64() / cores as f64)
    );
    // The same sum folded a stored column at a time (no per-point condition), rollups bypassed.
    for days in [1, 7] {
        let q = format!(
            "SELECT count(latency_ms), sum(latency_ms) FROM requests WHERE time > now() - {days}d"
        );
        query(db, &q, now, args, true)?;
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..3 {
            let started = Instant::now();
            let t = query(db, &q, now, args, true)?;
            times.push(started.elapsed());
            n = match t.rows.first().and_then(|r| r.first()) {
                Some(tally_query::Cell::Integer(n)) => *n,
                _ => 0,
            };
        }
        let (median, _) = tally_benches::median_max(&times);
        println!(
            "Column scan through the query language (`{q}`, `raw_only`): {} values in {:.1} ms (median of 3) = {} values/s on {cores} cores, {} per core",
            thousands(n as f64),
            ms(median),
            thousands(n as f64 / median.as_secs_f64()),
            thousands(n as f64 / median.as_secs_f64() / cores as f64)
        );
    }
    Ok(())
}
