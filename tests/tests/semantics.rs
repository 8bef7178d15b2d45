//! Point identity through the real binary: metrics are last-write-wins per (series, field,
//! timestamp) across the head, segments and restarts; `requests` is an event stream that keeps
//! every point. Also the debug read's tag and time filters the other tests rely on.

// Test code: a panic with the failed call's error is the failure report, helpers included
// (clippy's allow-unwrap-in-tests only covers #[test] functions themselves).
#![allow(clippy::unwrap_used)]

use serde_json::json;
use tally_tests::Tally;

#[test]
fn metrics_are_last_write_wins_across_head_segments_and_restarts() {
    let mut tally = Tally::start().unwrap();
    tally.write_ok("lww,host=a v=1,w=10i 100\n").unwrap();
    tally.write_ok("lww,host=a v=2 100\n").unwrap();
    // Same write twice in one body: still one point.
    tally
        .write_ok("lww,host=a v=3 200\nlww,host=a v=4 200\n")
        .unwrap();
    assert_eq!(
        tally.column("lww", "host", "a", "v").unwrap(),
        vec![(100, json!(2.0)), (200, json!(4.0))]
    );
    // Field by field: w written once at 100 stays.
    assert_eq!(
        tally.column("lww", "host", "a", "w").unwrap(),
        vec![(100, json!(10))]
    );

    tally.flush().unwrap();
    // Overwrite a flushed point from the head.
    tally.write_ok("lww,host=a v=5 100\n").unwrap();
    assert_eq!(
        tally.column("lww", "host", "a", "v").unwrap(),
        vec![(100, json!(5.0)), (200, json!(4.0))]
    );
    tally.flush().unwrap();
    assert_eq!(
        tally.column("lww", "host", "a", "v").unwrap(),
        vec![(100, json!(5.0)), (200, json!(4.0))],
        "two segments hold ts 100; the newer must win"
    );
    tally.write_ok("lww,host=a v=6 200\n").unwrap();
    tally.kill();
    tally.restart().unwrap();
    assert_eq!(
        tally.column("lww", "host", "a", "v").unwrap(),
        vec![(100, json!(5.0)), (200, json!(6.0))],
        "after replaying the WAL over the segments"
    );
    assert_eq!(
        tally.column("lww", "host", "a", "w").unwrap(),
        vec![(100, json!(10))]
    );
}

#[test]
fn request_events_keep_every_point_with_equal_timestamps() {
    let mut tally = Tally::start().unwrap();
    let line = "requests,key=k1,endpoint=/a latency_ms=5 1000\n";
    tally.write_ok(&line.repeat(3)).unwrap();
    tally.write_ok(line).unwrap();
    assert_eq!(
        tally
            .column("requests", "key", "k1", "latency_ms")
            .unwrap()
            .len(),
        4
    );
    tally.flush().unwrap();
    tally.write_ok(line).unwrap();
    assert_eq!(
        tally
            .column("requests", "key", "k1", "latency_ms")
            .unwrap()
            .len(),
        5
    );
    tally.kill();
    tally.restart().unwrap();
    let col = tally.column("requests", "key", "k1", "latency_ms").unwrap();
    assert_eq!(col.len(), 5, "events after flush + WAL replay: {col:?}");
    assert!(col.iter().all(|(t, v)| *t == 1000 && *v == json!(5.0)));
}

#[test]
fn debug_read_filters_by_tag_and_time() {
    let tally = Tally::start().unwrap();
    tally
        .write_ok("flt,host=a,dc=x v=1 10\nflt,host=a,dc=x v=2 20\nflt,host=b,dc=x v=3 30\nflt,host=c,dc=y v=4 40\n")
        .unwrap();
    let by_host = tally.points_query("measurement=flt&tag=host:a").unwrap();
    assert_eq!(by_host.len(), 1);
    assert_eq!(by_host[0].field("v").unwrap().ts, vec![10, 20]);
    let by_dc = tally.points_query("measurement=flt&tag=dc:x").unwrap();
    assert_eq!(by_dc.len(), 2);
    let ranged = tally
        .points_query("measurement=flt&start=20&end=40")
        .unwrap();
    let mut ts: Vec<i64> = ranged
        .iter()
        .filter_map(|s| s.field("v"))
        .flat_map(|c| c.ts.clone())
        .collect();
    ts.sort();
    assert_eq!(ts, vec![20, 30], "start is inclusive, end exclusive");
    let series = tally.series("flt").unwrap();
    assert_eq!(series.len(), 3);
    assert!(series.iter().all(|s| s.measurement == "flt"));
    assert!(tally.points("nothing_here").unwrap().is_empty());
}

#[test]
fn field_types_round_trip() {
    let mut tally = Tally::start().unwrap();
    tally
        .write_ok(
            "types,host=a f=1.5,i=-7i,u=7u,b=true,s=\"say \\\"hi\\\"\" 1\n\
             types,host=a f=-0.25,i=9223372036854775807i,u=18446744073709551615u,b=F,s=\"\" 2\n",
        )
        .unwrap();
    let check = |tally: &Tally| {
        let s = tally.points("types").unwrap();
        assert_eq!(s.len(), 1);
        let s = &s[0];
        let vals = |f: &str| s.field(f).unwrap().values.clone();
        assert_eq!(s.field("f").unwrap().ty, "float");
        assert_eq!(vals("f"), vec![json!(1.5), json!(-0.25)]);
        assert_eq!(s.field("i").unwrap().ty, "integer");
        assert_eq!(vals("i"), vec![json!(-7), json!(i64::MAX)]);
        assert_eq!(s.field("u").unwrap().ty, "unsigned");
        assert_eq!(vals("u"), vec![json!(7u64), json!(u64::MAX)]);
        assert_eq!(s.field("b").unwrap().ty, "boolean");
        assert_eq!(vals("b"), vec![json!(true), json!(false)]);
        assert_eq!(s.field("s").unwrap().ty, "string");
        assert_eq!(vals("s"), vec![json!("say \"hi\""), json!("")]);
    };
    check(&tally);
    tally.flush().unwrap();
    check(&tally);
    tally.kill();
    tally.restart().unwrap();
    check(&tally);
}

#[test]
fn retention_set_at_run_time_hides_expired_points_at_once() {
    let tally = Tally::start().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let body = format!(
        "ret,host=a v=1i {}\nret,host=a v=2i {}\n",
        (now - 10 * 86_400) * 1_000_000_000,
        (now - 3_600) * 1_000_000_000
    );
    tally.write_ok(&body).unwrap();
    assert_eq!(tally.column("ret", "host", "a", "v").unwrap().len(), 2);

    let r = tally
        .http("PUT", "/admin/retention?measurement=ret&keep=7d", &[], b"")
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json().unwrap(), json!({"retention": {"ret": "1w"}}));
    assert_eq!(tally.column("ret", "host", "a", "v").unwrap().len(), 1);

    let bad = tally
        .http("PUT", "/admin/retention?measurement=ret&keep=7y", &[], b"")
        .unwrap();
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("use s, m, h, d or w"), "{}", bad.text());

    let r = tally
        .http(
            "PUT",
            "/admin/retention?measurement=ret&keep=forever",
            &[],
            b"",
        )
        .unwrap();
    assert_eq!(r.json().unwrap(), json!({"retention": {}}));
    assert_eq!(
        tally.get("/admin/retention").unwrap().json().unwrap(),
        json!({"retention": {}})
    );
}
