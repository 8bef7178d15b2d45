//! Point identity through the real binary: metrics are last-write-wins per (series, field,
//! timestamp) across the head, segments and restarts; `requests` is an event stream that keeps
//! every point. Also the debug read's tag and time filters the other tests rely on, retention
//! changed at run time, and rollup totals read through `/debug/rollup`.

// Test code: a panic with the failed call's error is the failure report, helpers included
// (clippy's allow-unwrap-in-tests only covers #[test] functions themselves).
#![allow(clippy::unwrap_used)]

use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tally_tests::{Tally, TallyOptions};

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

const SEC: i64 = 1_000_000_000;
const HOUR: i64 = 3_600 * SEC;
const DAY: i64 = 24 * HOUR;

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

/// `PUT /admin/retention?<query>`: status and JSON answer.
fn put_retention(tally: &Tally, query: &str) -> (u16, Value) {
    let r = tally
        .http("PUT", &format!("/admin/retention?{query}"), &[], b"")
        .unwrap();
    (r.status, r.json().unwrap())
}

/// `GET /debug/rollup?<query>`, which must answer 200.
fn rollup(tally: &Tally, query: &str) -> Value {
    let r = tally.get(&format!("/debug/rollup?{query}")).unwrap();
    assert_eq!(r.status, 200, "/debug/rollup?{query}: {}", r.text());
    r.json().unwrap()
}

#[test]
fn retention_set_at_run_time_hides_expired_points_at_once() {
    let mut tally = Tally::start().unwrap();
    let now = now_ns();
    let (old, recent) = (now - 10 * DAY, now - HOUR);
    let body = format!(
        "ret,host=a v=1i {old}\nret,host=a v=2i {recent}\nlvl,host=a v=1i {old}\nlvl,host=a v=2i {recent}\n"
    );
    tally.write_ok(&body).unwrap();
    assert_eq!(tally.column("ret", "host", "a", "v").unwrap().len(), 2);
    let forever = json!({"raw": "forever", "1m": "forever", "1h": "forever", "1d": "forever"});
    assert_eq!(
        tally.get("/admin/retention").unwrap().json().unwrap(),
        json!({"default": forever, "measurements": {}, "changed_at_run_time": []}),
        "the harness keeps every level forever"
    );

    // Raw retention of one measurement (level defaults to raw).
    let (status, j) = put_retention(&tally, "measurement=ret&keep=7d");
    assert_eq!(status, 200, "{j}");
    assert_eq!(
        j,
        json!({
            "default": forever,
            "measurements": {"ret": {"raw": "1w"}},
            "changed_at_run_time": [{"measurement": "ret", "level": "raw", "keep": "1w"}],
        })
    );
    assert_eq!(
        tally.column("ret", "host", "a", "v").unwrap(),
        vec![(recent, json!(2))],
        "the 10 day old point is hidden at once"
    );
    assert_eq!(tally.column("lvl", "host", "a", "v").unwrap().len(), 2);

    let (status, bad) = put_retention(&tally, "measurement=ret&keep=7q");
    assert_eq!(status, 400);
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("use s, m, h, d, w or y"),
        "{bad}"
    );
    let (status, bad) = put_retention(&tally, "measurement=ret&level=2h&keep=7d");
    assert_eq!(status, 400);
    assert!(bad["error"].as_str().unwrap().contains("level"), "{bad}");

    // Per level: raw kept 1 day for `lvl`, its rollups 2 years; flushed first, so compaction
    // has segments to rewrite.
    tally.flush().unwrap();
    let (_, j) = put_retention(&tally, "measurement=lvl&level=raw&keep=1d");
    let (status, j2) = put_retention(&tally, "measurement=lvl&level=1h&keep=2y");
    assert_eq!(status, 200, "{j2}");
    assert_eq!(j["measurements"]["lvl"], json!({"raw": "1d"}));
    assert_eq!(j2["measurements"]["lvl"], json!({"raw": "1d", "1h": "2y"}));
    assert_eq!(
        tally.column("lvl", "host", "a", "v").unwrap(),
        vec![(recent, json!(2))],
        "raw points 10 days old vanish from /debug/points"
    );
    let r = tally.post("/admin/compact", b"").unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let c = r.json().unwrap();
    for key in [
        "partitions",
        "files_replaced",
        "bytes_read",
        "bytes_written",
    ] {
        assert!(c[key].is_u64(), "{key} missing in {c}");
    }
    assert_eq!(
        tally.column("lvl", "host", "a", "v").unwrap(),
        vec![(recent, json!(2))],
        "after compaction"
    );
    // The day tier (kept forever) still counts the expired raw point.
    let day = old - old.rem_euclid(DAY);
    let j = rollup(
        &tally,
        &format!("measurement=lvl&field=v&from={day}&to={}", day + DAY),
    );
    assert_eq!(
        j["sources"],
        json!([{"from": day, "to": day + DAY, "level": "1d"}])
    );
    assert_eq!(j["groups"][0]["fields"]["v"][0]["count"], 1, "{j}");
    assert_eq!(j["groups"][0]["fields"]["v"][0]["sum"], 1, "{j}");

    // keep=default drops an override; the default itself changes per level too.
    let (_, j) = put_retention(&tally, "measurement=ret&keep=default");
    assert_eq!(j["measurements"], json!({"lvl": {"raw": "1d", "1h": "2y"}}));
    let (_, j) = put_retention(&tally, "level=1m&keep=90d");
    assert_eq!(j["default"]["1m"], "90d");
    assert_eq!(
        tally.get("/admin/retention").unwrap().json().unwrap(),
        j,
        "GET answers what PUT did"
    );
    // Run-time changes are kept in the data directory: a restart (which rereads the config
    // file) keeps them.
    tally.terminate().unwrap();
    tally.restart().unwrap();
    assert_eq!(tally.get("/admin/retention").unwrap().json().unwrap(), j);
    // keep=default on the default drops that run-time change: the config's value is back.
    let (_, j) = put_retention(&tally, "level=1m&keep=default");
    assert_eq!(j["default"]["1m"], "forever");
}

#[test]
fn sighup_reloads_retention_from_the_config_file() {
    let mut tally = Tally::start().unwrap();
    let now = now_ns();
    let (old, recent) = (now - 10 * DAY, now - HOUR);
    tally
        .write_ok(&format!(
            "hup,host=a v=1i {old}\nhup,host=a v=2i {recent}\n"
        ))
        .unwrap();
    assert_eq!(tally.column("hup", "host", "a", "v").unwrap().len(), 2);
    tally
        .set_options(TallyOptions {
            config: Some("[retention.measurements.hup]\nraw = \"1d\"\n".to_owned()),
            ..TallyOptions::default()
        })
        .unwrap();
    let pid = i32::try_from(tally.pid().unwrap()).unwrap();
    // SAFETY: sending a signal to the child this test started; no memory is involved.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while tally.column("hup", "host", "a", "v").unwrap().len() != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "SIGHUP did not apply the new retention; log:\n{}",
            tally.stderr()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let j = tally.get("/admin/retention").unwrap().json().unwrap();
    assert_eq!(j["measurements"]["hup"], json!({"raw": "1d"}), "{j}");
    assert!(tally.is_running());
    assert_eq!(tally.log_lines(&["config reloaded on SIGHUP"]).len(), 1);
}

/// One written `requests` point.
struct Req {
    endpoint: &'static str,
    ts: i64,
    latency_ms: f64,
}

/// count, sum, min, max of `latency_ms` per endpoint over the points `keep` selects.
fn totals(
    points: &[Req],
    keep: impl Fn(&Req) -> bool,
) -> BTreeMap<&'static str, (u64, f64, f64, f64)> {
    let mut out: BTreeMap<&'static str, (u64, f64, f64, f64)> = BTreeMap::new();
    for p in points.iter().filter(|p| keep(p)) {
        let t = out
            .entry(p.endpoint)
            .or_insert((0, 0.0, f64::INFINITY, f64::NEG_INFINITY));
        t.0 += 1;
        t.1 += p.latency_ms;
        t.2 = t.2.min(p.latency_ms);
        t.3 = t.3.max(p.latency_ms);
    }
    out
}

/// count, sum, min, max per endpoint of the bucket starting at `start` in a rollup answer.
fn answered(j: &Value, start: i64) -> BTreeMap<String, (u64, f64, f64, f64)> {
    let mut out = BTreeMap::new();
    for s in j["groups"].as_array().unwrap() {
        let endpoint = s["tags"]["endpoint"].as_str().unwrap().to_owned();
        for b in s["fields"]["latency_ms"].as_array().unwrap() {
            if b["start"] == start {
                let f = |k: &str| b[k].as_f64().unwrap_or_else(|| panic!("{k} in {b}"));
                out.insert(
                    endpoint.clone(),
                    (b["count"].as_u64().unwrap(), f("sum"), f("min"), f("max")),
                );
            }
        }
    }
    out
}

#[test]
fn rollup_totals_per_endpoint_equal_what_was_written() {
    let tally = Tally::start().unwrap();
    // 2024-03-01T00:00:00Z, a day boundary; three hours of traffic after it.
    let t0: i64 = 1_709_251_200 * SEC;
    let endpoints = ["/v1/chat", "/v1/embed", "/v1/models"];
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x7a11);
    let points: Vec<Req> = (0..900)
        .map(|_| Req {
            endpoint: endpoints[rng.gen_range(0..endpoints.len())],
            ts: t0 + rng.gen_range(0..3 * HOUR),
            // Quarter milliseconds: every sum is exact in f64, whatever the order of addition.
            latency_ms: f64::from(rng.gen_range(4..40_000u32)) / 4.0,
        })
        .collect();
    for chunk in points.chunks(300) {
        let body: String = chunk
            .iter()
            .map(|p| {
                format!(
                    "requests,endpoint={} latency_ms={} {}\n",
                    p.endpoint, p.latency_ms, p.ts
                )
            })
            .collect();
        tally.write_ok(&body).unwrap();
    }
    tally.flush().unwrap();
    let want = |from: i64, to: i64| {
        totals(&points, |p| from <= p.ts && p.ts < to)
            .into_iter()
            .map(|(e, t)| (e.to_owned(), t))
            .collect::<BTreeMap<_, _>>()
    };

    // The whole range in one bucket, from the 1 hour tier.
    let q = format!(
        "measurement=requests&field=latency_ms&from={t0}&to={}",
        t0 + 3 * HOUR
    );
    let j = rollup(&tally, &q);
    assert_eq!(
        j["sources"],
        json!([{"from": t0, "to": t0 + 3 * HOUR, "level": "1h"}]),
        "{j}"
    );
    assert_eq!(j["groups"].as_array().unwrap().len(), endpoints.len());
    assert_eq!(answered(&j, t0), want(t0, t0 + 3 * HOUR));

    // Quantiles come from the merged sketches, within their 1% relative accuracy.
    for s in j["groups"].as_array().unwrap() {
        let endpoint = s["tags"]["endpoint"].as_str().unwrap();
        let mut values: Vec<f64> = points
            .iter()
            .filter(|p| p.endpoint == endpoint)
            .map(|p| p.latency_ms)
            .collect();
        values.sort_by(f64::total_cmp);
        let b = &s["fields"]["latency_ms"][0];
        for (key, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)] {
            let exact = values[(q * (values.len() - 1) as f64) as usize];
            let got = b[key].as_f64().unwrap_or_else(|| panic!("{key} in {b}"));
            assert!(
                (got - exact).abs() <= exact * 0.01 + 1e-9,
                "{endpoint} {key}: {got} vs exact {exact}"
            );
        }
    }

    // Hourly buckets.
    let j = rollup(&tally, &format!("{q}&width=1h"));
    assert!(
        j["sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["level"] == "1h"),
        "{j}"
    );
    for h in 0..3 {
        let start = t0 + h * HOUR;
        assert_eq!(answered(&j, start), want(start, start + HOUR), "hour {h}");
    }

    // Unaligned edges: raw points and finer tiers serve them, the totals stay exact.
    let (from, to) = (t0 + 90 * SEC + 7, t0 + 3 * HOUR - 61 * SEC);
    let j = rollup(
        &tally,
        &format!("measurement=requests&field=latency_ms&from={from}&to={to}"),
    );
    let levels: Vec<&str> = j["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["level"].as_str().unwrap())
        .collect();
    assert!(
        levels.contains(&"raw") && levels.contains(&"1h"),
        "{levels:?}"
    );
    assert_eq!(answered(&j, from), want(from, to));

    // One endpoint through the tag filter.
    let j = rollup(&tally, &format!("{q}&tag=endpoint:%2Fv1%2Fchat"));
    assert_eq!(j["groups"].as_array().unwrap().len(), 1);
    let mut chat = want(t0, t0 + 3 * HOUR);
    chat.retain(|e, _| e == "/v1/chat");
    assert_eq!(answered(&j, t0), chat);

    let r = tally
        .get("/debug/rollup?measurement=requests&start=1")
        .unwrap();
    assert_eq!(r.status, 400);
    assert!(r.text().contains("from=NS&to=NS"), "{}", r.text());
}
