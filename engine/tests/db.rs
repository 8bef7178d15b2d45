//! The database end to end inside one process: write, read, flush, reopen, last-write-wins.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use tally_engine::{
    ColumnValues, Db, FieldValueRef, Keep, Level, Options, PointScratch, RetentionPolicy, Selector,
    TagPredicate, TimeRange, WriteBatch,
};

/// Default options, except that nothing expires: these tests write timestamps near 1970.
fn opts() -> Options {
    Options {
        retention: RetentionPolicy::forever(),
        ..Options::default()
    }
}

/// (measurement, tags, field, value, timestamp)
type Pt<'a> = (
    &'a str,
    &'a [(&'a str, &'a str)],
    &'a str,
    FieldValueRef<'a>,
    i64,
);

fn batch(points: &[Pt<'_>]) -> WriteBatch {
    let mut b = WriteBatch::new();
    let mut s = PointScratch::new();
    for (m, tags, f, v, ts) in points {
        let mut p = b.point(&mut s, m);
        for (k, val) in *tags {
            p.tag(k, val);
        }
        p.field(f, *v);
        p.finish(*ts).unwrap();
    }
    b
}

fn ints(db: &Db, m: &str, field: &str) -> Vec<(i64, i64)> {
    let data = db
        .read(&Selector::measurement(m), TimeRange::ALL, Some(&[field]))
        .unwrap();
    let mut out = Vec::new();
    for s in data {
        for c in s.fields {
            if let ColumnValues::Integer(v) = c.values {
                out.extend(c.ts.into_iter().zip(v));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn write_read_flush_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), opts()).unwrap();
        let s = db
            .write(batch(&[
                ("cpu", &[("host", "a")], "v", FieldValueRef::Integer(1), 10),
                ("cpu", &[("host", "b")], "v", FieldValueRef::Integer(2), 10),
                ("cpu", &[("host", "a")], "v", FieldValueRef::Integer(3), 20),
            ]))
            .unwrap();
        assert_eq!(s.written, 3);
        assert_eq!(ints(&db, "cpu", "v"), [(10, 1), (10, 2), (20, 3)]);
        let r = db.flush().unwrap();
        assert_eq!(r.segments, 1);
        db.write(batch(&[(
            "cpu",
            &[("host", "a")],
            "v",
            FieldValueRef::Integer(4),
            30,
        )]))
        .unwrap();
        assert_eq!(ints(&db, "cpu", "v"), [(10, 1), (10, 2), (20, 3), (30, 4)]);
        let a = db
            .read(
                &Selector::measurement("cpu").with(TagPredicate::Eq {
                    key: "host".into(),
                    value: "a".into(),
                }),
                TimeRange::new(15, 100),
                None,
            )
            .unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].fields[0].ts, [20, 30]);
        db.close().unwrap();
    }
    // Reopen: segment + whatever the final flush wrote.
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(ints(&db, "cpu", "v"), [(10, 1), (10, 2), (20, 3), (30, 4)]);
    assert_eq!(db.measurements(), ["cpu"]);
    assert_eq!(db.tag_values("cpu", "host"), ["a", "b"]);
}

#[test]
fn wal_replay_restores_unflushed_points_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    db.write(batch(&[("m", &[], "v", FieldValueRef::Integer(1), 1)]))
        .unwrap();
    db.flush().unwrap();
    db.write(batch(&[("m", &[], "v", FieldValueRef::Integer(2), 2)]))
        .unwrap();
    // Simulate a crash: the handle is leaked, so nothing is flushed or closed.
    std::mem::forget(db);
    // The lock is held by the leaked handle's file; a real crash releases it. Copy the store.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), copy.path());
    let db = Db::open(copy.path(), opts()).unwrap();
    assert_eq!(db.recovery().wal_points, 1);
    assert_eq!(ints(&db, "m", "v"), [(1, 1), (2, 2)]);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_dir(&e.path(), &dest);
        } else if e.file_name() != "LOCK" {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn last_write_wins_for_metrics_across_head_and_segments_events_keep_all() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    db.write(batch(&[
        ("cost", &[("p", "x")], "usd", FieldValueRef::Integer(1), 100),
        (
            "requests",
            &[("k", "a")],
            "n",
            FieldValueRef::Integer(1),
            100,
        ),
    ]))
    .unwrap();
    db.flush().unwrap();
    db.write(batch(&[
        ("cost", &[("p", "x")], "usd", FieldValueRef::Integer(2), 100),
        (
            "requests",
            &[("k", "a")],
            "n",
            FieldValueRef::Integer(2),
            100,
        ),
    ]))
    .unwrap();
    assert_eq!(
        ints(&db, "cost", "usd"),
        [(100, 2)],
        "the re-ingest replaces"
    );
    assert_eq!(
        ints(&db, "requests", "n"),
        [(100, 1), (100, 2)],
        "events keep both"
    );
    db.write(batch(&[
        ("cost", &[("p", "x")], "usd", FieldValueRef::Integer(3), 100),
        ("cost", &[("p", "x")], "usd", FieldValueRef::Integer(4), 100),
    ]))
    .unwrap();
    assert_eq!(ints(&db, "cost", "usd"), [(100, 4)]);
    db.flush().unwrap();
    assert_eq!(ints(&db, "cost", "usd"), [(100, 4)], "newest segment wins");
    assert_eq!(ints(&db, "requests", "n"), [(100, 1), (100, 2)]);
}

#[test]
fn conflicting_field_type_is_refused_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    db.write(batch(&[("m", &[], "v", FieldValueRef::Integer(1), 1)]))
        .unwrap();
    let s = db
        .write(batch(&[
            ("m", &[], "v", FieldValueRef::Float(1.5), 2),
            ("m", &[], "v", FieldValueRef::Integer(3), 3),
        ]))
        .unwrap();
    assert_eq!(s.written, 1);
    assert_eq!(s.rejected.len(), 1);
    assert_eq!(s.rejected[0].index, 0);
    assert!(
        s.rejected[0].reason.contains("integer"),
        "{}",
        s.rejected[0].reason
    );
    assert_eq!(ints(&db, "m", "v"), [(1, 1), (3, 3)]);
}

#[test]
fn field_types_survive_a_restart_through_segments_and_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), opts()).unwrap();
        db.write(batch(&[(
            "m",
            &[("s", "a")],
            "flushed",
            FieldValueRef::Integer(1),
            1,
        )]))
        .unwrap();
        db.flush().unwrap();
        db.write(batch(&[(
            "m",
            &[("s", "b")],
            "walled",
            FieldValueRef::Float(1.0),
            2,
        )]))
        .unwrap();
        std::mem::forget(db);
    }
    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), copy.path());
    let db = Db::open(copy.path(), opts()).unwrap();
    // Another series of the same measurement: the measurement's types still apply.
    let s = db
        .write(batch(&[
            ("m", &[("s", "c")], "flushed", FieldValueRef::Float(2.0), 3),
            ("m", &[("s", "c")], "walled", FieldValueRef::Integer(2), 4),
            ("m", &[("s", "c")], "flushed", FieldValueRef::Integer(5), 5),
        ]))
        .unwrap();
    assert_eq!(s.written, 1);
    let idx: Vec<usize> = s.rejected.iter().map(|r| r.index).collect();
    assert_eq!(idx, [0, 1]);
}

#[test]
fn points_span_partitions_and_concurrent_writers() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(dir.path(), opts()).unwrap());
    let day = 86_400_000_000_000i64;
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                for i in 0..50i64 {
                    let host = format!("h{t}");
                    db.write(batch(&[(
                        "m",
                        &[("host", host.as_str())],
                        "v",
                        FieldValueRef::Integer(i),
                        i * day / 7,
                    )]))
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let r = db.flush().unwrap();
    assert!(
        r.segments >= 7,
        "one segment per day touched, got {}",
        r.segments
    );
    assert_eq!(ints(&db, "m", "v").len(), 200);
    assert_eq!(db.stats().series, 4);
}

#[test]
fn second_process_is_refused_by_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let _db = Db::open(dir.path(), opts()).unwrap();
    let err = Db::open(dir.path(), opts()).unwrap_err();
    assert!(err.to_string().contains("in use"), "{err}");
}

#[test]
fn compaction_merges_a_partitions_segments_keeping_every_answer() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    // Five flushes into one day: after the fourth the partition has four segments to merge
    // (the compactor runs in the background; `compact` waits for a round).
    for round in 0..5i64 {
        db.write(batch(&[
            (
                "cost",
                &[("p", "x")],
                "usd",
                FieldValueRef::Integer(round),
                100,
            ),
            (
                "cost",
                &[("p", "y")],
                "usd",
                FieldValueRef::Integer(round),
                100 + round,
            ),
            (
                "requests",
                &[("k", "a")],
                "n",
                FieldValueRef::Integer(round),
                100,
            ),
        ]))
        .unwrap();
        db.flush().unwrap();
        if round == 3 {
            db.compact().unwrap();
        }
    }
    db.compact().unwrap();
    let stats = db.stats();
    assert_eq!(stats.compactions, 1);
    assert_eq!(
        stats.segments, 2,
        "the merged segment and the fifth flush's"
    );
    assert_eq!(ints(&db, "cost", "usd").len(), 6);
    let x = db
        .read(
            &Selector::measurement("cost").with(TagPredicate::Eq {
                key: "p".into(),
                value: "x".into(),
            }),
            TimeRange::ALL,
            None,
        )
        .unwrap();
    assert_eq!(x[0].fields[0].ts, [100]);
    assert_eq!(
        x[0].fields[0].values,
        ColumnValues::Integer(vec![4]),
        "last write wins"
    );
    assert_eq!(
        ints(&db, "requests", "n"),
        [(100, 0), (100, 1), (100, 2), (100, 3), (100, 4)],
        "events keep every point, none twice"
    );
    db.close().unwrap();
    drop(db);
    let files = std::fs::read_dir(dir.path().join("segments"))
        .unwrap()
        .count();
    assert_eq!(files, 2, "replaced segments are deleted");
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(ints(&db, "requests", "n").len(), 5);
    assert_eq!(ints(&db, "cost", "usd").len(), 6);
}

#[test]
fn writes_after_close_are_refused_and_reopening_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    db.write(batch(&[("m", &[], "v", FieldValueRef::Integer(1), 1)]))
        .unwrap();
    db.close().unwrap();
    db.close().unwrap(); // a second close does nothing
    let err = db
        .write(batch(&[("m", &[], "v", FieldValueRef::Integer(2), 2)]))
        .unwrap_err();
    assert!(err.to_string().contains("closed"), "{err}");
    assert!(db.flush().is_err());
    drop(db);
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(db.recovery().wal_points, 0, "close flushed everything");
    assert_eq!(ints(&db, "m", "v"), [(1, 1)]);
}

#[test]
fn retention_hides_expired_points_at_once_and_compaction_removes_them() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let day = 86_400_000_000_000i64;
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    db.write(batch(&[
        (
            "cost",
            &[],
            "usd",
            FieldValueRef::Integer(1),
            now - 10 * day,
        ),
        ("cost", &[], "usd", FieldValueRef::Integer(2), now - day),
        ("other", &[], "v", FieldValueRef::Integer(3), now - 10 * day),
    ]))
    .unwrap();
    db.flush().unwrap();
    assert_eq!(ints(&db, "cost", "usd").len(), 2);
    let week = Keep::For(std::time::Duration::from_secs(7 * 86_400));
    db.set_retention(Some("cost"), Level::Raw, Some(week))
        .unwrap();
    assert_eq!(db.retention().keep("cost", Level::Raw), week);
    assert_eq!(db.retention().keep("other", Level::Raw), Keep::Forever);
    assert_eq!(ints(&db, "cost", "usd"), [(now - day, 2)], "hidden at once");
    assert_eq!(
        ints(&db, "other", "v").len(),
        1,
        "other measurements keep theirs"
    );
    // The next compaction rewrites the expired day without the expired points.
    db.write(batch(&[(
        "cost",
        &[],
        "usd",
        FieldValueRef::Integer(4),
        now,
    )]))
    .unwrap();
    db.flush().unwrap();
    // The flush nudged the compactor already; `compact` returns after a round that started
    // after the call, so the store is settled either way.
    db.compact().unwrap();
    assert!(db.stats().compactions >= 1);
    db.set_retention(Some("cost"), Level::Raw, None).unwrap();
    assert_eq!(
        ints(&db, "cost", "usd"),
        [(now - day, 2), (now, 4)],
        "gone from disk, not only hidden"
    );
    assert_eq!(ints(&db, "other", "v").len(), 1);
}

/// One sorted list per series.
type PerSeries<T> = Vec<Vec<T>>;

/// Per series: the sorted (timestamp, value) pairs of `field` that `scan_field` visits (from
/// the pieces that carry timestamps), and all the values it visits, sorted.
fn scanned(
    db: &Db,
    m: &str,
    field: &str,
    range: TimeRange,
    need_ts: bool,
) -> (PerSeries<(i64, i64)>, PerSeries<i64>) {
    let ids: Vec<_> = db
        .series(&Selector::measurement(m))
        .iter()
        .map(|s| s.id)
        .collect();
    let mut with_ts = vec![Vec::new(); ids.len()];
    let mut values = vec![Vec::new(); ids.len()];
    db.scan_field(m, &ids, range, field, need_ts, |i, piece| {
        let ColumnValues::Integer(v) = piece.values else {
            panic!("integer field")
        };
        let v = &v[piece.rows.clone()];
        values[i].extend_from_slice(v);
        match piece.ts {
            Some(ts) => {
                assert_eq!(ts.len(), v.len());
                with_ts[i].extend(ts.iter().copied().zip(v.iter().copied()));
            }
            None => assert!(!need_ts, "timestamps were asked for"),
        }
    })
    .unwrap();
    for v in &mut with_ts {
        v.sort_unstable();
    }
    for v in &mut values {
        v.sort_unstable();
    }
    (with_ts, values)
}

#[test]
fn scan_field_visits_every_live_point_once_across_segments_and_heads() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let mut x = 7u64;
    let mut next = |n: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % n
    };
    let keys = ["a", "b", "c", "d"];
    const DAY: i64 = 86_400_000_000_000;
    for round in 0..4 {
        let mut pts: Vec<(String, i64, i64)> = Vec::new();
        for _ in 0..3000 {
            let k = keys[next(4) as usize].to_owned();
            // Three days, whole seconds so metric overwrites happen.
            let ts = (next(3 * 86_400) as i64) * 1_000_000_000;
            pts.push((k, ts, next(1000) as i64 - 200));
        }
        for m in ["requests", "cost"] {
            let batch_pts: Vec<Pt<'_>> = pts
                .iter()
                .map(|(k, ts, v)| {
                    let tags: &[(&str, &str)] = match k.as_str() {
                        "a" => &[("k", "a")],
                        "b" => &[("k", "b")],
                        "c" => &[("k", "c")],
                        _ => &[("k", "d")],
                    };
                    (m, tags, "n", FieldValueRef::Integer(*v), *ts)
                })
                .collect();
            db.write(batch(&batch_pts)).unwrap();
        }
        // The last round stays in the head.
        if round < 3 {
            db.flush().unwrap();
        }
    }
    let ranges = [
        TimeRange::ALL,
        TimeRange::new(0, DAY),
        TimeRange::new(DAY / 3, 2 * DAY + 77),
        TimeRange::new(5 * DAY, 6 * DAY),
    ];
    for m in ["requests", "cost"] {
        let ids: Vec<_> = db
            .series(&Selector::measurement(m))
            .iter()
            .map(|s| s.id)
            .collect();
        for range in ranges {
            let want: Vec<Vec<(i64, i64)>> = db
                .read_series(m, &ids, range, Some(&["n"]))
                .unwrap()
                .into_iter()
                .map(|cols| {
                    let mut v: Vec<(i64, i64)> = cols
                        .into_iter()
                        .flat_map(|c| match c.values {
                            ColumnValues::Integer(v) => c.ts.into_iter().zip(v).collect(),
                            _ => Vec::new(),
                        })
                        .collect();
                    v.sort_unstable();
                    v
                })
                .collect();
            let (with_ts, _) = scanned(&db, m, "n", range, true);
            assert_eq!(with_ts, want, "{m} {range:?} with timestamps");
            let (_, values) = scanned(&db, m, "n", range, false);
            let want_values: Vec<Vec<i64>> = want
                .iter()
                .map(|s| {
                    let mut v: Vec<i64> = s.iter().map(|p| p.1).collect();
                    v.sort_unstable();
                    v
                })
                .collect();
            assert_eq!(values, want_values, "{m} {range:?} values only");
        }
    }
    // Unknown fields visit nothing; unsorted ids are refused.
    let (_, none) = scanned(&db, "requests", "nope", TimeRange::ALL, false);
    assert!(none.iter().all(Vec::is_empty));
    let ids: Vec<_> = db
        .series(&Selector::measurement("requests"))
        .iter()
        .rev()
        .map(|s| s.id)
        .collect();
    assert!(db
        .scan_field("requests", &ids, TimeRange::ALL, "n", false, |_, _| {})
        .is_err());
}
