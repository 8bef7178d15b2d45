//! Rollups through the database: every tier's answer equals a brute-force computation over the
//! raw points (with late, duplicate and last-write-wins writes, across flushes, compactions and
//! a reopen); quantiles from merged sketches stay within the configured accuracy; retention per
//! tier hides data at once and compaction removes it from disk.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;
use tally_engine::rollup::{exact_quantile, Tier};
use tally_engine::{
    ColumnValues, Db, FieldValueRef, Keep, Level, Options, PointScratch, RetentionPolicy,
    RollupQuery, Selector, Source, TimeRange, WriteBatch,
};

const S: i64 = 1_000_000_000;
const M: i64 = 60 * S;
const H: i64 = 60 * M;
const D: i64 = 24 * H;
/// 2024-10-03T03:00:17Z: not aligned to any tier.
const BASE: i64 = 20_000 * D + 3 * H + 17 * S;

fn opts() -> Options {
    Options {
        retention: RetentionPolicy::forever(),
        ..Options::default()
    }
}

/// (series tag, field value, timestamp)
type Pt = (u8, i64, i64);

fn batch(measurement: &str, points: &[Pt]) -> WriteBatch {
    let mut b = WriteBatch::new();
    let mut s = PointScratch::new();
    for &(series, v, ts) in points {
        let tag = format!("s{series}");
        let mut p = b.point(&mut s, measurement);
        p.tag("s", &tag);
        p.field("v", FieldValueRef::Integer(v));
        p.finish(ts).unwrap();
    }
    b
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Agg {
    count: u64,
    sum: i128,
    min: i64,
    max: i64,
}

impl Agg {
    const EMPTY: Agg = Agg {
        count: 0,
        sum: 0,
        min: i64::MAX,
        max: i64::MIN,
    };

    fn add(&mut self, x: i64) {
        self.count += 1;
        self.sum += i128::from(x);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    /// A rollup bucket's aggregate; its sum must have stayed exact.
    fn of(b: &tally_engine::rollup::RollupBucket) -> Agg {
        Agg {
            count: b.agg.count,
            sum: b.agg.int_sum.expect("integer sums stay exact"),
            min: b.agg.min as i64,
            max: b.agg.max as i64,
        }
    }
}

/// Per group (series tag values joined by ','), per output bucket start: an integer field's
/// aggregate.
type Answer = BTreeMap<String, BTreeMap<i64, Agg>>;

fn out_start(range: TimeRange, width: Option<i64>, t: i64) -> i64 {
    match width {
        None => range.start,
        Some(w) => t - t.rem_euclid(w),
    }
}

fn brute(db: &Db, m: &str, range: TimeRange, width: Option<i64>) -> Answer {
    brute_by(db, &Selector::measurement(m), "v", range, width, &["s"])
}

/// Brute force over raw points: per group (the `by` tag values joined by ','), per output bucket,
/// the aggregate of integer field `field`.
fn brute_by(
    db: &Db,
    sel: &Selector,
    field: &str,
    range: TimeRange,
    width: Option<i64>,
    by: &[&str],
) -> Answer {
    let mut keys: Vec<&str> = by.to_vec();
    keys.sort_unstable();
    let mut out = Answer::new();
    for s in db.read(sel, range, Some(&[field])).unwrap() {
        let name: Vec<&str> = keys
            .iter()
            .map(|k| {
                s.series
                    .tags
                    .iter()
                    .find(|(t, _)| t == k)
                    .map_or("", |(_, v)| v.as_str())
            })
            .collect();
        for c in s.fields {
            let ColumnValues::Integer(v) = c.values else {
                panic!("{field} is an integer field")
            };
            for (t, x) in c.ts.into_iter().zip(v) {
                out.entry(name.join(","))
                    .or_default()
                    .entry(out_start(range, width, t))
                    .or_insert(Agg::EMPTY)
                    .add(x);
            }
        }
    }
    out
}

fn rolled(db: &Db, m: &str, range: TimeRange, width: Option<i64>) -> (Answer, Vec<Source>) {
    let sel = Selector::measurement(m);
    let a = db
        .rollup(&RollupQuery {
            selector: &sel,
            range,
            width: width.map(|w| Duration::from_nanos(w as u64)),
            fields: Some(&["v"]),
            group_by: None,
        })
        .unwrap();
    let mut out = Answer::new();
    for s in a.groups {
        let tag = s.tags[0].1.clone();
        for f in s.fields {
            assert_eq!(f.name, "v");
            for b in f.buckets {
                out.entry(tag.clone())
                    .or_default()
                    .insert(b.start, Agg::of(&b));
            }
        }
    }
    (out, a.sources.into_iter().map(|(_, s)| s).collect())
}

fn check_all(db: &Db, m: &str, ranges: &[TimeRange]) -> Result<(), TestCaseError> {
    for &range in ranges {
        for width in [None, Some(M), Some(5 * M), Some(H), Some(D), Some(90 * S)] {
            let want = brute(db, m, range, width);
            let (got, sources) = rolled(db, m, range, width);
            prop_assert_eq!(
                &got,
                &want,
                "{} range {:?} width {:?} sources {:?}",
                m,
                range,
                width,
                sources
            );
        }
    }
    Ok(())
}

/// A write step: a batch of points, then maybe a flush and a compaction.
#[derive(Debug, Clone)]
struct Step {
    points: Vec<Pt>,
    flush: bool,
    compact: bool,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let point = (0u8..3, -1000i64..1000, 0i64..(3 * D / S)).prop_map(|(s, v, sec)| {
        // Seconds, so rewrites of the same timestamp are common enough.
        (s, v, BASE + sec * S)
    });
    let step = (
        prop::collection::vec(point, 1..60),
        any::<bool>(),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(points, flush, compact)| Step {
            points,
            flush,
            compact,
        });
    prop::collection::vec(step, 1..8)
}

fn run_steps(db: &Db, m: &str, steps: &[Step], replay: bool) {
    let mut prev: &[Pt] = &[];
    for st in steps {
        db.write(batch(m, &st.points)).unwrap();
        if replay {
            // Half of the previous step's points again with new values, usually after a flush
            // committed them: a retried batch (events: counted twice, as sent) or a re-ingest
            // (metrics: replaces the stored points).
            let again: Vec<Pt> = prev.iter().map(|&(s, v, t)| (s, v + 7, t)).collect();
            if !again.is_empty() {
                db.write(batch(m, &again[..again.len().div_ceil(2)]))
                    .unwrap();
            }
        }
        if st.flush {
            db.flush().unwrap();
        }
        if st.compact {
            db.compact().unwrap();
        }
        prev = &st.points;
    }
}

fn ranges(extra: (i64, i64)) -> Vec<TimeRange> {
    let (a, b) = (extra.0.min(extra.1), extra.0.max(extra.1) + 1);
    vec![
        TimeRange::new(BASE - H, BASE + 3 * D + H),
        TimeRange::new(BASE + a * S, BASE + b * S),
        // A whole aligned day and hour.
        TimeRange::new(20_001 * D, 20_002 * D),
        TimeRange::new(20_001 * D + 5 * H, 20_001 * D + 6 * H),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Metrics (last write wins) and events (every point counts): every tier and width equals
    /// the brute force, before and after a reopen and a final compaction.
    #[test]
    fn every_tier_equals_brute_force(
        steps in steps(),
        replay in any::<bool>(),
        extra in (0i64..(3 * D / S), 0i64..(3 * D / S)),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let ranges = ranges(extra);
        {
            let db = Db::open(dir.path(), opts()).unwrap();
            for m in ["metric", "requests"] {
                run_steps(&db, m, &steps, replay);
                check_all(&db, m, &ranges)?;
            }
            db.close().unwrap();
        }
        let db = Db::open(dir.path(), opts()).unwrap();
        db.compact().unwrap();
        for m in ["metric", "requests"] {
            check_all(&db, m, &ranges)?;
        }
    }
}

#[test]
fn a_full_day_is_served_by_the_day_tier_and_edges_by_finer_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let pts: Vec<Pt> = (0..2000).map(|i| (0, i, BASE + i * 97 * S)).collect();
    db.write(batch("requests", &pts)).unwrap();
    db.flush().unwrap();
    let range = TimeRange::new(20_000 * D + 30 * S, 20_002 * D + H + M + 5 * S);
    let (got, sources) = rolled(&db, "requests", range, None);
    assert_eq!(
        sources,
        [
            Source::Raw,
            Source::Rollup(Tier::Minute),
            Source::Rollup(Tier::Hour),
            Source::Rollup(Tier::Day),
            Source::Rollup(Tier::Hour),
            Source::Rollup(Tier::Minute),
            Source::Raw,
        ]
    );
    assert_eq!(got, brute(&db, "requests", range, None));
}

#[test]
fn unflushed_rewrites_of_flushed_metric_points_are_not_double_counted() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let pts: Vec<Pt> = (0..100).map(|i| (0, i, BASE + i * M)).collect();
    db.write(batch("cost", &pts)).unwrap();
    db.flush().unwrap();
    // Rewrite ten points (vendor re-ingest) and leave them in the head.
    let again: Vec<Pt> = (0..10).map(|i| (0, 1000 + i, BASE + i * M)).collect();
    db.write(batch("cost", &again)).unwrap();
    let range = TimeRange::new(BASE - D, BASE + D);
    let sel = Selector::measurement("cost");
    let a = db
        .rollup(&RollupQuery {
            selector: &sel,
            range,
            width: None,
            fields: None,
            group_by: None,
        })
        .unwrap();
    assert!(a.recomputed_buckets > 0, "{a:?}");
    assert_eq!(
        rolled(&db, "cost", range, None).0,
        brute(&db, "cost", range, None)
    );
    let total = &rolled(&db, "cost", range, None).0["s0"][&range.start];
    assert_eq!(total.count, 100);
    assert_eq!(
        total.sum,
        (10..100).sum::<i128>() + (1000..1010).sum::<i128>()
    );
    // Flushed, the rewrite becomes replacement buckets; still exact.
    db.flush().unwrap();
    assert_eq!(
        rolled(&db, "cost", range, None).0,
        brute(&db, "cost", range, None)
    );
    db.compact().unwrap();
    assert_eq!(
        rolled(&db, "cost", range, None).0,
        brute(&db, "cost", range, None)
    );
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-300), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Draws the i-th value of a distribution.
type Shape = fn(&mut Rng, usize) -> f64;

#[test]
fn quantiles_of_merged_sketches_are_within_the_relative_accuracy() {
    let shapes: [(&str, Shape); 4] = [
        ("log-normal", |r, _| (4.0 + r.normal()).exp()),
        ("bimodal", |r, i| {
            if i % 3 == 0 {
                800.0 + 50.0 * r.normal()
            } else {
                20.0 + 2.0 * r.normal().abs()
            }
        }),
        ("constant", |_, _| 42.0),
        ("one huge outlier", |r, i| {
            if i == 777 {
                1e9
            } else {
                10.0 + r.next() * 5.0
            }
        }),
    ];
    for (name, shape) in shapes {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), opts()).unwrap();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut all = Vec::new();
        // Four endpoints, six flushes: the answer merges many sketches across series and files.
        for round in 0..6 {
            let mut b = WriteBatch::new();
            let mut s = PointScratch::new();
            for i in 0..2000usize {
                let v = shape(&mut rng, round * 2000 + i);
                all.push(v);
                let ep = format!("/e{}", i % 4);
                let mut p = b.point(&mut s, "requests");
                p.tag("endpoint", &ep);
                p.field("latency_ms", FieldValueRef::Float(v));
                p.finish(BASE + (round as i64 * 2000 + i as i64) * 7 * S)
                    .unwrap();
            }
            db.write(b).unwrap();
            db.flush().unwrap();
        }
        let sel = Selector::measurement("requests");
        let a = db
            .rollup(&RollupQuery {
                selector: &sel,
                range: TimeRange::new(BASE - D, BASE + 2 * D),
                width: None,
                fields: Some(&["latency_ms"]),
                group_by: None,
            })
            .unwrap();
        let mut merged: Option<tally_engine::rollup::Distribution> = None;
        for s in &a.groups {
            for b in &s.fields[0].buckets {
                let d = b.dist.clone().expect("latency fields carry a sketch");
                match &mut merged {
                    None => merged = Some(d),
                    Some(m) => m.merge(&d).unwrap(),
                }
            }
        }
        let merged = merged.unwrap();
        assert_eq!(merged.count(), all.len() as u64, "{name}");
        for q in [0.5, 0.95, 0.99] {
            let exact = exact_quantile(&all, q).unwrap();
            let est = merged.quantile(q).unwrap();
            assert!(
                (est - exact).abs() <= 0.01 * exact.abs() + 1e-9,
                "{name} p{}: {est} vs exact {exact}",
                q * 100.0
            );
        }
    }
}

#[test]
fn tier_retention_hides_at_once_and_compaction_removes_from_disk() {
    let now = tally_engine::retention::now_nanos();
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let old = now - 5 * D;
    let pts: Vec<Pt> = vec![(0, 1, old), (0, 2, old + S), (0, 3, now - H)];
    db.write(batch("requests", &pts)).unwrap();
    db.flush().unwrap();
    let range = TimeRange::new(now - 10 * D, now);
    let minutes = |db: &Db| -> u64 {
        rolled(db, "requests", range, Some(M)).0["s0"]
            .values()
            .map(|a| a.count)
            .sum()
    };
    assert_eq!(minutes(&db), 3);
    // Minute rollups of `requests` kept 2 days; raw kept 1 day; hours forever.
    let two_days = Keep::For(Duration::from_secs(2 * 86_400));
    db.set_retention(
        Some("requests"),
        Level::Rollup(Tier::Minute),
        Some(two_days),
    )
    .unwrap();
    db.set_retention(
        Some("requests"),
        Level::Raw,
        Some(Keep::For(Duration::from_secs(86_400))),
    )
    .unwrap();
    assert_eq!(minutes(&db), 1, "old minutes hidden at once");
    let hours = rolled(&db, "requests", range, Some(H)).0;
    assert_eq!(
        hours["s0"].values().map(|a| a.count).sum::<u64>(),
        3,
        "hours stay"
    );
    assert_eq!(
        db.read(&Selector::measurement("requests"), range, None)
            .unwrap()[0]
            .fields[0]
            .ts
            .len(),
        1
    );

    db.compact().unwrap();
    // On disk: lift the retention again and the expired data does not come back.
    db.set_retention(Some("requests"), Level::Rollup(Tier::Minute), None)
        .unwrap();
    db.set_retention(Some("requests"), Level::Raw, None)
        .unwrap();
    assert_eq!(
        minutes(&db),
        1,
        "old minute buckets were deleted by compaction"
    );
    assert_eq!(
        db.read(&Selector::measurement("requests"), range, None)
            .unwrap()[0]
            .fields[0]
            .ts
            .len(),
        1,
        "old raw points were deleted by compaction"
    );
    let hours = rolled(&db, "requests", range, Some(H)).0;
    assert_eq!(hours["s0"].values().map(|a| a.count).sum::<u64>(), 3);
}

#[test]
fn a_width_no_tier_divides_is_served_from_raw_and_a_zero_width_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    db.write(batch("requests", &[(0, 5, BASE)])).unwrap();
    db.flush().unwrap();
    let range = TimeRange::new(BASE - H, BASE + H);
    let (got, sources) = rolled(&db, "requests", range, Some(90 * S));
    assert_eq!(sources, [Source::Raw]);
    assert_eq!(got, brute(&db, "requests", range, Some(90 * S)));
    let sel = Selector::measurement("requests");
    let err = db
        .rollup(&RollupQuery {
            selector: &sel,
            range,
            width: Some(Duration::ZERO),
            fields: None,
            group_by: None,
        })
        .unwrap_err();
    assert!(err.to_string().contains("width must be positive"), "{err}");
}

fn request_batch(points: &[(u8, u8, u8, i64, i64)]) -> WriteBatch {
    let mut b = WriteBatch::new();
    let mut s = PointScratch::new();
    for &(ep, key, status, n, ts) in points {
        let (ep, key) = (format!("/e{ep}"), format!("k{key}"));
        let class = if status == 0 { "2xx" } else { "5xx" };
        let method = if n % 2 == 0 { "GET" } else { "POST" };
        let mut p = b.point(&mut s, "requests");
        p.tag("endpoint", &ep)
            .tag("key", &key)
            .tag("method", method)
            .tag("status_class", class);
        p.field("n", FieldValueRef::Integer(n));
        p.finish(ts).unwrap();
    }
    b
}

fn grouped(
    db: &Db,
    sel: &Selector,
    range: TimeRange,
    width: Option<i64>,
    by: &[&str],
) -> (Answer, Option<Vec<String>>) {
    let a = db
        .rollup(&RollupQuery {
            selector: sel,
            range,
            width: width.map(|w| Duration::from_nanos(w as u64)),
            fields: Some(&["n"]),
            group_by: Some(by),
        })
        .unwrap();
    let mut out = Answer::new();
    for g in a.groups {
        let name: Vec<&str> = g.tags.iter().map(|(_, v)| v.as_str()).collect();
        for f in g.fields {
            for b in f.buckets {
                out.entry(name.join(","))
                    .or_default()
                    .insert(b.start, Agg::of(&b));
            }
        }
    }
    (out, a.projection)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Answer reads served by a projection (rollups summed over series at write time) equal the
    /// brute force over raw points, across flushes, compactions, unflushed points and a reopen;
    /// a filter on a key outside every projection falls back to per-series rollups, also exact.
    #[test]
    fn projections_answer_grouped_reads_exactly(
        batches in prop::collection::vec(
            (
                prop::collection::vec(
                    (0u8..3, 0u8..4, 0u8..2, -50i64..50, 0i64..(2 * D / S)),
                    1..80,
                ),
                any::<bool>(),
            ),
            1..6,
        ),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let range = TimeRange::new(BASE - H, BASE + 2 * D + H);
        let all = Selector::measurement("requests");
        let post = Selector::measurement("requests").with(tally_engine::TagPredicate::Eq {
            key: "method".into(),
            value: "POST".into(),
        });
        let check = |db: &Db| -> Result<(), TestCaseError> {
            for width in [None, Some(H), Some(D)] {
                for by in [&["endpoint"][..], &["key"], &["status_class", "endpoint"]] {
                    let (got, proj) = grouped(db, &all, range, width, by);
                    prop_assert!(proj.is_some(), "{:?} should use a projection", by);
                    prop_assert_eq!(&got, &brute_by(db, &all, "n", range, width, by), "by {:?}", by);
                }
                let (got, proj) = grouped(db, &post, range, width, &["endpoint"]);
                prop_assert!(proj.is_none(), "method is in no projection");
                prop_assert_eq!(&got, &brute_by(db, &post, "n", range, width, &["endpoint"]));
            }
            Ok(())
        };
        {
            let db = Db::open(dir.path(), opts()).unwrap();
            for (points, flush) in &batches {
                let pts: Vec<_> = points.iter().map(|&(e, k, st, n, sec)| (e, k, st, n, BASE + sec * S)).collect();
                db.write(request_batch(&pts)).unwrap();
                if *flush {
                    db.flush().unwrap();
                }
            }
            check(&db)?;
            db.compact().unwrap();
            check(&db)?;
            db.close().unwrap();
        }
        let db = Db::open(dir.path(), opts()).unwrap();
        check(&db)?;
        prop_assert!(!db.measurements().iter().any(|m| m.contains('\u{1}')), "projections stay hidden");
    }
}

#[test]
fn writes_to_a_projection_name_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let s = db
        .write(batch("requests\u{1}endpoint", &[(0, 1, BASE)]))
        .unwrap();
    assert_eq!(s.written, 0);
    assert!(s.rejected[0].reason.contains("U+0001"), "{:?}", s.rejected);
}

#[test]
fn writes_of_a_field_named_with_the_internal_mark_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let mut b = WriteBatch::new();
    let mut s = PointScratch::new();
    let mut p = b.point(&mut s, "m");
    p.field("\u{1}points", FieldValueRef::Integer(1));
    p.finish(BASE).unwrap();
    let r = db.write(b).unwrap();
    assert_eq!(r.written, 0);
    assert!(r.rejected[0].reason.contains("U+0001"), "{:?}", r.rejected);
}

/// (timestamp, which fields: 1 = a, 2 = b, 3 = both)
fn mixed_batch(measurement: &str, points: &[(i64, u8)]) -> WriteBatch {
    let mut b = WriteBatch::new();
    let mut s = PointScratch::new();
    for &(ts, which) in points {
        let mut p = b.point(&mut s, measurement);
        p.tag("s", "x");
        if which & 1 != 0 {
            p.field("a", FieldValueRef::Integer(ts % 97));
        }
        if which & 2 != 0 {
            p.field("b", FieldValueRef::Float(1.5));
        }
        p.finish(ts).unwrap();
    }
    b
}

/// Point counts per bucket of `width` from the rollups of `measurement`.
fn point_counts(db: &Db, measurement: &str, width: i64) -> BTreeMap<i64, u64> {
    let sel = Selector {
        measurement: measurement.into(),
        predicates: Vec::new(),
    };
    let fields = [tally_engine::rollup::POINTS_FIELD];
    let a = db
        .rollup(&RollupQuery {
            selector: &sel,
            range: TimeRange::new(BASE - D, BASE + 3 * D),
            width: Some(Duration::from_nanos(width as u64)),
            fields: Some(&fields),
            group_by: Some(&[]),
        })
        .unwrap();
    let mut out = BTreeMap::new();
    for g in &a.groups {
        for f in &g.fields {
            assert_eq!(f.name, tally_engine::rollup::POINTS_FIELD);
            for b in &f.buckets {
                *out.entry(b.start).or_default() += b.agg.count;
            }
        }
    }
    out
}

#[test]
fn point_counts_count_points_whatever_their_fields() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    // Events: points with a, b or both; two points sharing a timestamp; late points after a
    // flush; all of it through flushes, a compaction and the head.
    let first: Vec<(i64, u8)> = (0..300)
        .map(|i| (BASE + i * 7 * S, (i % 3 + 1) as u8))
        .chain([(BASE + 14 * S, 3), (BASE + 14 * S, 1)])
        .collect();
    let late: Vec<(i64, u8)> = (0..50).map(|i| (BASE + i * 11 * S + 3, 2)).collect();
    let head: Vec<(i64, u8)> = (0..40).map(|i| (BASE + 5 * H + i * S, 1)).collect();
    db.write(mixed_batch("requests", &first)).unwrap();
    db.flush().unwrap();
    db.write(mixed_batch("requests", &late)).unwrap();
    db.flush().unwrap();
    db.compact().unwrap();
    db.write(mixed_batch("requests", &head)).unwrap();
    for width in [M, H, D] {
        let mut want: BTreeMap<i64, u64> = BTreeMap::new();
        for (t, _) in first.iter().chain(&late).chain(&head) {
            *want.entry(t - t.rem_euclid(width)).or_default() += 1;
        }
        assert_eq!(point_counts(&db, "requests", width), want, "width {width}");
    }
    // Metrics: rewriting stored points (last write wins) does not count them twice.
    let pts: Vec<(i64, u8)> = (0..100).map(|i| (BASE + i * 13 * S, 1)).collect();
    db.write(mixed_batch("m", &pts)).unwrap();
    db.flush().unwrap();
    let rewrite: Vec<(i64, u8)> = pts.iter().step_by(3).map(|&(t, _)| (t, 2)).collect();
    db.write(mixed_batch("m", &rewrite)).unwrap();
    let check = |db: &Db| {
        let mut want: BTreeMap<i64, u64> = BTreeMap::new();
        for (t, _) in &pts {
            *want.entry(t - t.rem_euclid(M)).or_default() += 1;
        }
        assert_eq!(point_counts(db, "m", M), want);
    };
    check(&db);
    db.flush().unwrap();
    check(&db);
    db.compact().unwrap();
    check(&db);
    db.close().unwrap();
    drop(db);
    let db = Db::open(dir.path(), opts()).unwrap();
    check(&db);
}
