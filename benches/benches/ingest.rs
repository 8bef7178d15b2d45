//! Criterion benchmarks of the ingest path on the seeded workload:
//! - `generate/workload_line_protocol`: the generator itself, points/s.
//! - `parse/line_protocol_to_write_batch`: line protocol -> `WriteBatch`, points/s.
//! - `write/<sync policy>`: parse + `Db::write` (WAL + head) in batches of 5,000 points.
//!
//! Run: `cargo bench -p tally-benches --bench ingest` (add `-- ^parse` for one group). Runs are kept
//! short (10 samples, 3 s); `src/bin/ingest_report.rs` gives the per-core and on-disk figures.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use std::time::Duration;
use tally_benches::{ingest_all, parse_all, parser, Bodies};
use tally_engine::{Db, Options, SyncPolicy};
use tally_ingest::workload::{Workload, WorkloadConfig};

/// Points per measured iteration: 20 bodies of 5,000.
const POINTS: u64 = 100_000;

fn configure<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(POINTS));
    g
}

fn generate(c: &mut Criterion) {
    let mut g = configure(c, "generate");
    let mut out = Vec::with_capacity(POINTS as usize * 200);
    g.bench_function("workload_line_protocol", |b| {
        b.iter(|| {
            let mut w = Workload::new(WorkloadConfig::default());
            out.clear();
            w.next_chunk(&mut out, POINTS as usize)
        })
    });
    g.finish();
}

fn parse(c: &mut Criterion) {
    let bodies = Bodies::generate(WorkloadConfig::default(), Some(POINTS));
    let mut parser = parser();
    let mut g = configure(c, "parse");
    g.bench_function("line_protocol_to_write_batch", |b| {
        b.iter(|| parse_all(&mut parser, &bodies).expect("the workload parses"))
    });
    g.finish();
}

fn write(c: &mut Criterion) {
    let bodies = Bodies::generate(WorkloadConfig::default(), Some(POINTS));
    let mut parser = parser();
    let mut g = configure(c, "write");
    for (name, sync) in [
        (
            "sync_interval_100ms",
            SyncPolicy::Interval(Duration::from_millis(100)),
        ),
        ("sync_every_batch", SyncPolicy::EveryBatch),
    ] {
        // Opened on first use, so a filter that skips this benchmark never touches the engine.
        let mut open: Option<(tempfile::TempDir, Db)> = None;
        g.bench_function(name, |b| {
            let (_, db) = open.get_or_insert_with(|| {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let opts = Options {
                    sync,
                    ..Options::default()
                };
                let db = Db::open(dir.path(), opts).expect("the engine opens");
                (dir, db)
            });
            b.iter(|| ingest_all(&mut parser, &bodies, db).expect("the engine takes the workload"))
        });
        if let Some((_dir, db)) = open {
            db.close().expect("the engine closes");
        }
    }
    g.finish();
}

// What criterion_group!/criterion_main! expand to, written out because the macros generate an
// undocumented public function that the workspace's missing_docs lint refuses.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    generate(&mut c);
    parse(&mut c);
    write(&mut c);
    c.final_summary();
}
