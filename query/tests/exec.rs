//! The executor against a real store: the DESIGN.md example queries and every construct give
//! what a brute-force evaluation over the generated points gives (quantiles from rollups within
//! the sketches' 1%), and bad queries fail with messages that say what and where.
#![allow(clippy::unwrap_used)]

mod common;
use common::Rng;
use std::collections::BTreeMap;
use tally_engine::{Db, FieldValueRef, PointScratch, WriteBatch};
use tally_query::{run, Cell, ColumnType, ParamValue, QueryError, QueryOptions, Table};

const S: i64 = 1_000_000_000;
const M: i64 = 60 * S;
const H: i64 = 60 * M;
const D: i64 = 24 * H;
/// "now" for every query: 2026-11-25T13:07:13Z (a Wednesday), not aligned to any bucket.
const NOW: i64 = 1_795_000_000 * S + 7 * M + 13 * S;

const ENDPOINTS: [&str; 5] = [
    "/api/segments",
    "/api/metadata",
    "/api/keys",
    "/api/usage",
    "/api/export",
];
const KEYS: [&str; 4] = ["render-farm", "acme-prod", "beta", "ci"];
const STATUSES: [i64; 6] = [200, 200, 201, 404, 500, 503];

#[derive(Debug, Clone)]
struct Req {
    t: i64,
    endpoint: &'static str,
    key: &'static str,
    method: &'static str,
    status: i64,
    latency: f64,
    bytes: i64,
}

impl Req {
    fn class(&self) -> String {
        format!("{}xx", self.status / 100)
    }
}

fn requests() -> Vec<Req> {
    let mut rng = Rng(0x5eed_1234_abcd);
    let mut out = Vec::new();
    // 30 days ending just before NOW; denser in the last day.
    let mut t = NOW - 30 * D;
    while t < NOW {
        let step = if t > NOW - D { 20 * S } else { 7 * M };
        t += step / 2 + (rng.next() % step as u64) as i64;
        if t >= NOW {
            break;
        }
        let endpoint = ENDPOINTS[rng.below(ENDPOINTS.len() as u64) as usize];
        let status = STATUSES[rng.below(STATUSES.len() as u64) as usize];
        // Log-normal-ish latencies: 5 ms to a few seconds.
        let latency = (5.0 * (rng.unit() * 6.0).exp() * 100.0).round() / 100.0;
        out.push(Req {
            t,
            endpoint,
            key: KEYS[rng.below(KEYS.len() as u64) as usize],
            method: if rng.below(3) == 0 { "POST" } else { "GET" },
            status,
            latency,
            bytes: (rng.below(50_000)) as i64,
        });
    }
    out
}

struct Fixture {
    db: Db,
    reqs: Vec<Req>,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let (db, dir) = common::open_db();
    let reqs = requests();
    let mut scratch = PointScratch::new();
    for (n, chunk) in reqs.chunks(2000).enumerate() {
        let mut b = WriteBatch::new();
        for r in chunk {
            let status = r.status.to_string();
            let class = r.class();
            let mut p = b.point(&mut scratch, "requests");
            p.tag("endpoint", r.endpoint)
                .tag("key", r.key)
                .tag("method", r.method)
                .tag("status", &status)
                .tag("status_class", &class)
                .field("bytes_out", FieldValueRef::Integer(r.bytes))
                .field("latency_ms", FieldValueRef::Float(r.latency));
            p.finish(r.t).unwrap();
        }
        db.write(b).unwrap();
        // Half the points in segments and rollups, half in the head.
        if n % 3 == 1 {
            db.flush().unwrap();
        }
    }
    // Daily AI cost (a metric measurement), October and November 2026.
    let mut b = WriteBatch::new();
    let oct1 = 1_790_812_800 * S; // 2026-10-01T00:00:00Z
    for day in 0..55 {
        for (platform, user, cost) in [
            ("claude_api", "ana", 12.5),
            ("claude_api", "bo", 3.25),
            ("cursor", "ana", 1.75),
        ] {
            let mut p = b.point(&mut scratch, "ai_cost");
            p.tag("platform", platform)
                .tag("user", user)
                .field("cost_usd", FieldValueRef::Float(cost + day as f64));
            p.finish(oct1 + day * D).unwrap();
        }
    }
    db.write(b).unwrap();
    Fixture {
        db,
        reqs,
        _dir: dir,
    }
}

fn opts() -> QueryOptions {
    QueryOptions {
        now: Some(NOW),
        ..QueryOptions::default()
    }
}

fn query(f: &Fixture, q: &str) -> Table {
    match run(&f.db, q, &opts()) {
        Ok(mut t) => t.remove(0),
        Err(e) => panic!("{q}\n{e}"),
    }
}

fn error(f: &Fixture, q: &str) -> String {
    match run(&f.db, q, &opts()) {
        Ok(t) => panic!("{q} ran: {t:?}"),
        Err(e) => e.to_string(),
    }
}

fn int(c: &Cell) -> i64 {
    match c {
        Cell::Integer(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

fn float(c: &Cell) -> Option<f64> {
    match c {
        Cell::Float(f) => Some(*f),
        Cell::Integer(i) => Some(*i as f64),
        Cell::Null => None,
        other => panic!("not a number: {other:?}"),
    }
}

fn text(c: &Cell) -> &str {
    match c {
        Cell::String(s) => s,
        other => panic!("not text: {other:?}"),
    }
}

fn exact_quantile(mut v: Vec<f64>, q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((q * (v.len() as f64 - 1.0)) as usize).min(v.len() - 1)]
}

#[test]
fn design_examples_match_brute_force() {
    let f = fixture();
    let day = |r: &&Req| r.t > NOW - D && r.t <= NOW;

    // 1. Requests per endpoint over 24 h, most first (from the rollups' point counts).
    let plan = query(
        &f,
        "EXPLAIN SELECT count(*) FROM requests WHERE time > now() - 24h GROUP BY endpoint",
    );
    assert!(plan
        .rows
        .iter()
        .any(|r| text(&r[0]).starts_with("served by: rollups")));
    let t = query(
        &f,
        "SELECT count(*) FROM requests WHERE time > now() - 24h GROUP BY endpoint ORDER BY count DESC LIMIT 10",
    );
    let mut want: BTreeMap<&str, i64> = BTreeMap::new();
    for r in f.reqs.iter().filter(day) {
        *want.entry(r.endpoint).or_default() += 1;
    }
    assert_eq!(t.columns[0].name, "endpoint");
    assert_eq!(t.columns[0].ty, ColumnType::Tag);
    assert_eq!(t.columns[1].name, "count");
    assert_eq!(t.rows.len(), want.len());
    let got: BTreeMap<&str, i64> = t.rows.iter().map(|r| (text(&r[0]), int(&r[1]))).collect();
    assert_eq!(got, want);
    assert!(t.rows.windows(2).all(|w| int(&w[0][1]) >= int(&w[1][1])));

    // 2. p50/p95/p99 of one endpoint per hour (rollups, within 1%).
    let t = query(
        &f,
        "SELECT p50(latency_ms), p95(latency_ms), p99(latency_ms) FROM requests WHERE endpoint = '/api/segments' GROUP BY time(1h)",
    );
    assert_eq!(
        t.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["time", "p50", "p95", "p99"]
    );
    // The default range is the last 24 h: 25 hour buckets touch it.
    assert_eq!(t.rows.len(), 25);
    for row in &t.rows {
        let Cell::Time(start) = row[0] else { panic!() };
        let values: Vec<f64> = f
            .reqs
            .iter()
            .filter(|r| r.endpoint == "/api/segments")
            .filter(|r| r.t >= start.max(NOW + 1 - D) && r.t < (start + H).min(NOW + 1))
            .map(|r| r.latency)
            .collect();
        for (i, q) in [0.5, 0.95, 0.99].into_iter().enumerate() {
            match float(&row[i + 1]) {
                None => assert!(values.is_empty()),
                Some(got) => {
                    let want = exact_quantile(values.clone(), q);
                    assert!(
                        (got - want).abs() <= want * 0.01 + 1e-9,
                        "p{q} at {start}: {got} vs {want}"
                    );
                }
            }
        }
    }

    // 3. Error rate per key per 5 minutes; empty buckets divide by zero and give null. The
    // filtered count reads the key + status_class projection.
    let plan = query(
        &f,
        "EXPLAIN ANALYZE SELECT count(*) FILTER (WHERE status_class = '5xx') / count(*) FROM requests WHERE time > now() - 2h GROUP BY key, time(5m)",
    );
    assert!(
        plan.rows
            .iter()
            .any(|r| text(&r[0]).ends_with("projection by key+status_class")),
        "{plan:?}"
    );
    let t = query(
        &f,
        "SELECT count(*) FILTER (WHERE status_class = '5xx') / count(*) AS error_rate FROM requests WHERE time > now() - 2h GROUP BY key, time(5m)",
    );
    assert_eq!(t.columns[2].name, "error_rate");
    assert_eq!(t.rows.len(), KEYS.len() * 25);
    for row in &t.rows {
        let Cell::Time(start) = row[0] else { panic!() };
        let key = text(&row[1]);
        let in_bucket: Vec<&Req> = f
            .reqs
            .iter()
            .filter(|r| r.key == key && r.t > NOW - 2 * H && r.t >= start && r.t < start + 5 * M)
            .collect();
        let errors = in_bucket.iter().filter(|r| r.status >= 500).count();
        match float(&row[2]) {
            None => assert!(in_bucket.is_empty()),
            Some(rate) => {
                assert!((rate - errors as f64 / in_bucket.len() as f64).abs() < 1e-12)
            }
        }
    }

    // 4. Cost per platform and user in October.
    let t = query(
        &f,
        "SELECT sum(cost_usd) FROM ai_cost WHERE time >= '2026-10-01' AND time < '2026-11-01' GROUP BY platform, user",
    );
    assert_eq!(t.rows.len(), 3);
    let base: f64 = (0..31).map(|d| d as f64).sum();
    let want = [
        ("claude_api", "ana", 12.5 * 31.0 + base),
        ("claude_api", "bo", 3.25 * 31.0 + base),
        ("cursor", "ana", 1.75 * 31.0 + base),
    ];
    for (row, (p, u, sum)) in t.rows.iter().zip(want) {
        assert_eq!((text(&row[0]), text(&row[1])), (p, u));
        assert!((float(&row[2]).unwrap() - sum).abs() < 1e-9);
    }

    // 5. Hour-of-week heatmap per endpoint over 28 days.
    let t = query(
        &f,
        "SELECT count(*) FROM requests WHERE time > now() - 28d GROUP BY endpoint, hour_of_week(time)",
    );
    assert_eq!(t.columns[1].name, "hour_of_week");
    let mut want: BTreeMap<(&str, i64), i64> = BTreeMap::new();
    for r in f.reqs.iter().filter(|r| r.t > NOW - 28 * D) {
        let dt = chrono::DateTime::from_timestamp_nanos(r.t);
        use chrono::{Datelike, Timelike};
        let how = i64::from(dt.weekday().num_days_from_monday()) * 24 + i64::from(dt.hour());
        *want.entry((r.endpoint, how)).or_default() += 1;
    }
    let got: BTreeMap<(&str, i64), i64> = t
        .rows
        .iter()
        .map(|r| ((text(&r[0]), int(&r[1])), int(&r[2])))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn rollups_and_raw_points_agree() {
    let f = fixture();
    // Served by rollups (EXPLAIN ANALYZE says so) ...
    let q = "SELECT count(latency_ms), sum(bytes_out), min(bytes_out), max(latency_ms), mean(latency_ms) FROM requests WHERE time >= now() - 3d AND method = 'GET' GROUP BY endpoint, time(1h) FILL(none)";
    let plan = query(&f, &format!("EXPLAIN ANALYZE {q}"));
    let lines: Vec<&str> = plan.rows.iter().map(|r| text(&r[0])).collect();
    assert!(
        lines.iter().any(|l| l.starts_with("served by: rollups")),
        "{lines:#?}"
    );
    let t = query(&f, q);
    // ... equal to brute force.
    /// count, sum of bytes, min of bytes, max of latency, sum of latency
    type Row = (i64, i64, i64, f64, f64);
    let mut want: BTreeMap<(&str, i64), Row> = BTreeMap::new();
    for r in f
        .reqs
        .iter()
        .filter(|r| r.t >= NOW - 3 * D && r.method == "GET")
    {
        let e = want
            .entry((r.endpoint, r.t - r.t.rem_euclid(H)))
            .or_insert((0, 0, i64::MAX, f64::MIN, 0.0));
        e.0 += 1;
        e.1 += r.bytes;
        e.2 = e.2.min(r.bytes);
        e.3 = e.3.max(r.latency);
        e.4 += r.latency;
    }
    assert_eq!(t.rows.len(), want.len());
    for row in &t.rows {
        let Cell::Time(start) = row[0] else { panic!() };
        let w = want[&(text(&row[1]), start)];
        assert_eq!(int(&row[2]), w.0);
        assert_eq!(int(&row[3]), w.1);
        assert_eq!(int(&row[4]), w.2);
        assert_eq!(float(&row[5]), Some(w.3));
        assert!((float(&row[6]).unwrap() - w.4 / w.0 as f64).abs() < 1e-9);
    }
    // The same query forced onto raw points (a per-point filter) gives the same numbers.
    let raw = query(
        &f,
        &q.replace("method = 'GET'", "method = 'GET' AND bytes_out >= 0"),
    );
    assert_eq!(raw.rows.len(), t.rows.len());
    for (a, b) in raw.rows.iter().zip(&t.rows) {
        assert_eq!(a[..6], b[..6]);
        // Means may differ in the last bits: the sums are added in another order.
        assert!(
            (float(&a[6]).unwrap() - float(&b[6]).unwrap()).abs() < 1e-9,
            "{a:?} {b:?}"
        );
    }
}

#[test]
fn column_scans_equal_point_by_point_scans_and_brute_force() {
    let f = fixture();
    let raw = QueryOptions {
        raw_only: true,
        ..opts()
    };
    let run_raw = |q: &str| match run(&f.db, q, &raw) {
        Ok(mut t) => t.remove(0),
        Err(e) => panic!("{q}\n{e}"),
    };
    let aggs = "count(latency_ms), sum(bytes_out), min(bytes_out), max(latency_ms), mean(latency_ms), p90(bytes_out), sum(latency_ms) FILTER (WHERE method = 'POST')";
    for group in [
        "",
        " GROUP BY endpoint",
        " GROUP BY key, time(90s) FILL(none)",
        " GROUP BY day_of_week(time)",
    ] {
        // Unaligned ends: columns straddle the range and are cut by timestamp.
        let q = format!(
            "SELECT {aggs} FROM requests WHERE time >= now() - 3d - 17s AND time < now() - 1h + 3s AND endpoint != '/health'{group}"
        );
        let plan = run_raw(&format!("EXPLAIN {q}"));
        assert!(
            plan.rows
                .iter()
                .any(|r| text(&r[0]) == "served by: raw points (column scan)"),
            "{q}: {:?}",
            plan.rows
        );
        let columns = run_raw(&q);
        // A condition on a field makes the scan rebuild points; it holds for every point.
        let points_q = q.replace(
            "endpoint != '/health'",
            "endpoint != '/health' AND bytes_out >= 0",
        );
        let by_point = run_raw(&format!("EXPLAIN {points_q}"));
        assert!(by_point
            .rows
            .iter()
            .any(|r| text(&r[0]) == "served by: raw points"));
        let points = run_raw(&points_q);
        assert_eq!(columns.rows.len(), points.rows.len(), "{q}");
        assert!(!columns.rows.is_empty());
        for (a, b) in columns.rows.iter().zip(&points.rows) {
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(b) {
                match (x, y) {
                    // Float sums may differ in the last bits: added in another order.
                    (Cell::Float(x), Cell::Float(y)) => {
                        assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{q}: {a:?} {b:?}")
                    }
                    _ => assert_eq!(x, y, "{q}"),
                }
            }
        }
    }
    // One group: brute force over the fixture's points.
    let t = run_raw(
        "SELECT count(latency_ms), sum(bytes_out), min(bytes_out), max(bytes_out) FROM requests WHERE time >= now() - 10d",
    );
    let sel: Vec<&Req> = f.reqs.iter().filter(|r| r.t >= NOW - 10 * D).collect();
    assert_eq!(int(&t.rows[0][0]), sel.len() as i64);
    assert_eq!(int(&t.rows[0][1]), sel.iter().map(|r| r.bytes).sum::<i64>());
    assert_eq!(
        int(&t.rows[0][2]),
        sel.iter().map(|r| r.bytes).min().unwrap()
    );
    assert_eq!(
        int(&t.rows[0][3]),
        sel.iter().map(|r| r.bytes).max().unwrap()
    );
}

#[test]
fn conditions_on_tags_fields_and_time() {
    let f = fixture();
    let count = |q: &str| -> i64 { int(&query(&f, q).rows[0][0]) };
    let since = |r: &Req| r.t > NOW - 7 * D;
    let brute = |p: &dyn Fn(&Req) -> bool| -> i64 {
        f.reqs.iter().filter(|r| since(r) && p(r)).count() as i64
    };
    let w = "time > now() - 7d";
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM requests WHERE {w} AND status >= 500"
        )),
        brute(&|r| r.status >= 500)
    );
    assert_eq!(
        count(&format!("SELECT count(*) FROM requests WHERE {w} AND (endpoint = '/api/keys' OR key =~ /^acme/) AND NOT method = 'POST'")),
        brute(&|r| (r.endpoint == "/api/keys" || r.key.starts_with("acme")) && r.method != "POST")
    );
    assert_eq!(
        count(&format!("SELECT count(*) FROM requests WHERE {w} AND key NOT IN ('ci', 'beta') AND latency_ms > 100")),
        brute(&|r| r.key != "ci" && r.key != "beta" && r.latency > 100.0)
    );
    assert_eq!(
        count(&format!("SELECT count(*) FROM requests WHERE {w} AND endpoint !~ /meta/ AND bytes_out * 2 < 30000")),
        brute(&|r| !r.endpoint.contains("meta") && r.bytes * 2 < 30000)
    );
    // Absolute times and parameters.
    let from = NOW - 2 * D;
    let mut o = opts();
    o.params.insert("from".into(), ParamValue::Time(from));
    o.params
        .insert("key".into(), ParamValue::String("beta".into()));
    let t = run(&f.db, "SELECT count(*), count_distinct(endpoint) FROM requests WHERE time >= $from AND key = $key", &o).unwrap();
    let n = f
        .reqs
        .iter()
        .filter(|r| r.t >= from && r.t <= NOW && r.key == "beta")
        .count();
    assert_eq!(int(&t[0].rows[0][0]), n as i64);
    assert_eq!(int(&t[0].rows[0][1]), ENDPOINTS.len() as i64);
    // No match at all: a count of 0 and a null mean.
    let t = query(
        &f,
        "SELECT count(*), mean(latency_ms) FROM requests WHERE key = 'nobody'",
    );
    assert_eq!(t.rows, vec![vec![Cell::Integer(0), Cell::Null]]);
}

#[test]
fn raw_selects_fill_order_and_limits() {
    let f = fixture();
    let t = query(
        &f,
        "SELECT * FROM requests WHERE time > now() - 1h LIMIT 3 OFFSET 1",
    );
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "time",
            "bytes_out",
            "latency_ms",
            "endpoint",
            "key",
            "method",
            "status",
            "status_class"
        ]
    );
    let mut last_hour: Vec<&Req> = f.reqs.iter().filter(|r| r.t > NOW - H).collect();
    last_hour.sort_by_key(|r| r.t);
    assert_eq!(t.rows.len(), 3);
    for (row, r) in t.rows.iter().zip(&last_hour[1..]) {
        assert_eq!(row[0], Cell::Time(r.t));
        assert_eq!(row[1], Cell::Integer(r.bytes));
    }
    let t = query(&f, "SELECT latency_ms AS l, key FROM requests WHERE time > now() - 1h ORDER BY time DESC LIMIT 2");
    assert_eq!(t.rows[0][0], Cell::Time(last_hour[last_hour.len() - 1].t));
    assert_eq!(t.columns[1].name, "l");

    // FILL variants over buckets without data (no POST to /api/export in some 1 m buckets).
    let base = "SELECT sum(bytes_out) FROM requests WHERE time > now() - 30m AND key = 'ci' AND endpoint = '/api/export' GROUP BY time(1m)";
    let nulls = query(&f, base);
    let zero = query(&f, &format!("{base} FILL(0)"));
    let none = query(&f, &format!("{base} FILL(none)"));
    let prev = query(&f, &format!("{base} FILL(previous)"));
    assert_eq!(nulls.rows.len(), 31);
    let empty = nulls.rows.iter().filter(|r| r[1] == Cell::Null).count();
    assert!(empty > 0, "the fixture should leave some minutes empty");
    assert_eq!(none.rows.len(), 31 - empty);
    assert!(zero.rows.iter().all(|r| r[1] != Cell::Null));
    for (i, r) in prev.rows.iter().enumerate() {
        if nulls.rows[i][1] == Cell::Null && i > 0 {
            assert_eq!(r[1], prev.rows[i - 1][1]);
        }
    }
    // ORDER BY an aggregate, OFFSET and LIMIT.
    let t = query(
        &f,
        "SELECT sum(bytes_out) AS b FROM requests GROUP BY key ORDER BY b DESC LIMIT 2 OFFSET 1",
    );
    assert_eq!(t.rows.len(), 2);
    assert!(int(&t.rows[0][1]) >= int(&t.rows[1][1]));
}

#[test]
fn arithmetic_rates_first_last_and_calendar_buckets() {
    let f = fixture();
    let t = query(&f, "SELECT rate(*, 1m), first(latency_ms), last(latency_ms), 2 * count(*) + 1 FROM requests WHERE time > now() - 1h");
    let hour: Vec<&Req> = f.reqs.iter().filter(|r| r.t > NOW - H).collect();
    let rate = float(&t.rows[0][0]).unwrap();
    assert!((rate - hour.len() as f64 / 60.0).abs() < 1e-9, "{rate}");
    let first = hour.iter().min_by_key(|r| r.t).unwrap();
    let last = hour.iter().max_by_key(|r| r.t).unwrap();
    assert_eq!(float(&t.rows[0][1]), Some(first.latency));
    assert_eq!(float(&t.rows[0][2]), Some(last.latency));
    assert_eq!(int(&t.rows[0][3]), 2 * hour.len() as i64 + 1);
    // Days in Los Angeles: 8 buckets over 7 days, each starting at local midnight.
    let t = query(&f, "SELECT count(*) FROM requests WHERE time > now() - 7d GROUP BY day(time) TZ('America/Los_Angeles')");
    assert_eq!(t.rows.len(), 8);
    let total: i64 = t.rows.iter().map(|r| int(&r[1])).sum();
    assert_eq!(
        total,
        f.reqs.iter().filter(|r| r.t > NOW - 7 * D).count() as i64
    );
    for r in &t.rows {
        let Cell::Time(start) = r[0] else { panic!() };
        // PST in late November: midnight local is 08:00 UTC.
        assert_eq!(start.rem_euclid(D), 8 * H);
    }
}

#[test]
fn show_statements() {
    let f = fixture();
    let t = query(&f, "SHOW MEASUREMENTS");
    assert_eq!(
        t.rows,
        vec![
            vec![Cell::String("ai_cost".into())],
            vec![Cell::String("requests".into())]
        ]
    );
    let t = query(&f, "SHOW FIELD KEYS FROM requests");
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.rows[1][1], Cell::String("latency_ms".into()));
    assert_eq!(t.rows[1][2], Cell::String("float".into()));
    let t = query(
        &f,
        "SHOW TAG VALUES FROM requests WITH KEY = endpoint WHERE key = 'ci'",
    );
    assert_eq!(t.rows.len(), ENDPOINTS.len());
    let t = query(&f, "SHOW TAG KEYS FROM ai_cost");
    assert_eq!(t.rows.len(), 2);
}

#[test]
fn bad_queries_say_what_and_where() {
    let f = fixture();
    let cases = [
        (
            "SELECT count(*) FROM reqests",
            "error at line 1, column 22: unknown measurement `reqests`; did you mean `requests`?",
        ),
        (
            "SELECT mean(latncy_ms) FROM requests",
            "error at line 1, column 13: unknown field or tag `latncy_ms` in measurement `requests`; did you mean `latency_ms`?",
        ),
        (
            "SELECT count(*) FROM requests WHERE count(*) > 5",
            "error at line 1, column 37: aggregate `count` cannot be used per point",
        ),
        (
            "SELECT key, count(*) FROM requests",
            "error at line 1, column 8: tag `key` is selected next to aggregates but not grouped by; add it to GROUP BY",
        ),
        (
            "SELECT count(*) FROM requests GROUP BY latency_ms",
            "error at line 1, column 40: `latency_ms` is a field, not a tag",
        ),
        (
            "SELECT mean(endpoint) FROM requests",
            "error at line 1, column 13: `mean` needs a numeric field; `endpoint` is a tag",
        ),
        (
            "SELECT count(*) FROM requests WHERE time > now() - 1h OR key = 'ci'",
            "error at line 1, column 37: time conditions must compare `time` with an instant",
        ),
        (
            "SELECT count(*) FROM requests WHERE time > 'last tuesday'",
            "error at line 1, column 44: `last tuesday` is not a time",
        ),
        (
            "SELECT quantile(latency_ms, 2) FROM requests",
            "error at line 1, column 29: the quantile must be a number from 0 to 1",
        ),
        (
            "SELECT count(*) FROM requests GROUP BY time(5m) TZ('Mars/Olympus')",
            "error at line 1, column 52: unknown time zone `Mars/Olympus`",
        ),
        (
            "SELECT count(*) FROM requests ORDER BY total",
            "error at line 1, column 40: ORDER BY must name an output column: `count`",
        ),
        (
            "SELECT count(*) FROM requests WHERE key = $k",
            "error at line 1, column 43: parameter $k has no value",
        ),
        (
            "SELECT bogus(latency_ms) FROM requests",
            "error at line 1, column 8: unknown function `bogus`",
        ),
        (
            "SELECT latency_ms FROM requests GROUP BY key",
            "error at line 1, column 42: GROUP BY needs an aggregate",
        ),
    ];
    for (q, want) in cases {
        let got = error(&f, q);
        assert!(got.starts_with(want), "{q}\n got: {got}\nwant: {want}");
        assert!(got.contains('^'), "no caret: {got}");
    }
    // Budgets stop a query with a clear error.
    let mut o = opts();
    o.limits.max_rows = 10;
    match run(&f.db, "SELECT * FROM requests", &o) {
        Err(QueryError::Budget(m)) => assert!(m.contains("max_rows"), "{m}"),
        other => panic!("{other:?}"),
    }
    o.limits.max_rows = usize::MAX;
    o.limits.max_memory_bytes = 1000;
    match run(
        &f.db,
        "SELECT p99(latency_ms) FROM requests WHERE bytes_out > 0",
        &o,
    ) {
        Err(QueryError::Budget(m)) => assert!(m.contains("memory"), "{m}"),
        other => panic!("{other:?}"),
    }
}
