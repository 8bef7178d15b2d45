//! Handler tests against a real database in a temporary directory, through the router (no
//! sockets): the `/write` answers, the debug reads, `/health`, `/metrics`.

use super::router::route;
use crate::app::App;
use crate::config::Settings;
use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use serde_json::Value;
use std::io::Write;
use std::sync::Arc;
use tally_engine::{Db, RetentionPolicy};
use tempfile::TempDir;

fn app_with(settings: impl FnOnce(&mut Settings)) -> (TempDir, Arc<App>) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Settings {
        data_dir: dir.path().to_path_buf(),
        ..Settings::default()
    };
    // The tests write timestamps near 1970; the default retention would hide them at once.
    s.engine.retention = RetentionPolicy::forever();
    settings(&mut s);
    let db = Db::open(dir.path(), s.engine.clone()).unwrap();
    (dir, App::new(Arc::new(db), s))
}

fn app() -> (TempDir, Arc<App>) {
    app_with(|_| {})
}

struct Answer {
    status: StatusCode,
    headers: hyper::HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
}

async fn call(
    app: &Arc<App>,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(body.into())).unwrap();
    let resp = route(req, app).await;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body,
    }
}

async fn write(app: &Arc<App>, uri: &str, body: &str) -> Answer {
    call(app, Method::POST, uri, &[], body.to_owned()).await
}

async fn points(app: &Arc<App>, query: &str) -> Vec<Value> {
    let a = call(
        app,
        Method::GET,
        &format!("/debug/points?{query}"),
        &[],
        Bytes::new(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    a.json()["series"].as_array().unwrap().clone()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_then_read_back() {
    let (_d, app) = app();
    let a = write(
        &app,
        "/write",
        "cpu,host=a v=1.5 10\ncpu,host=b v=2 20\ncpu,host=a v=3 30\n",
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{:?}", a.body);
    assert!(a.body.is_empty());
    let s = points(&app, "measurement=cpu&tag=host:a").await;
    assert_eq!(s.len(), 1);
    assert_eq!(s[0]["measurement"], "cpu");
    assert_eq!(s[0]["tags"]["host"], "a");
    assert!(s[0]["id"].is_u64());
    assert_eq!(s[0]["fields"]["v"]["type"], "float");
    assert_eq!(s[0]["fields"]["v"]["ts"], serde_json::json!([10, 30]));
    assert_eq!(s[0]["fields"]["v"]["values"], serde_json::json!([1.5, 3.0]));
    assert_eq!(points(&app, "measurement=cpu").await.len(), 2);
    assert_eq!(
        points(&app, "measurement=cpu&start=15&end=25").await[0]["fields"]["v"]["ts"],
        serde_json::json!([20])
    );
    assert!(points(&app, "measurement=nope").await.is_empty());
    assert_eq!(app.metrics.accepted(crate::metrics::Source::Http), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_write_stores_the_valid_lines_and_lists_the_rest() {
    let (_d, app) = app();
    let mut body = String::new();
    for i in 1..=10 {
        if i == 3 || i == 7 {
            body.push_str(&format!("cpu,host=a v=oops{i} {i}\n"));
        } else {
            body.push_str(&format!("cpu,host=a v={i} {i}\n"));
        }
    }
    let a = write(&app, "/write", &body).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let j = a.json();
    assert_eq!(j["error"], "partial write: 2 of 10 lines rejected");
    assert_eq!(j["written"], 8);
    let rejected = j["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0]["line"], 3);
    assert_eq!(rejected[1]["line"], 7);
    assert!(rejected[0]["column"].as_u64().unwrap() >= 1);
    assert!(!rejected[0]["message"].as_str().unwrap().is_empty());
    assert_eq!(rejected[0]["text"], "cpu,host=a v=oops3 3");
    let s = points(&app, "measurement=cpu").await;
    assert_eq!(s[0]["fields"]["v"]["ts"].as_array().unwrap().len(), 8);
    assert_eq!(app.metrics.rejected(crate::metrics::Source::Http), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_body_and_comments_are_204() {
    let (_d, app) = app();
    assert_eq!(
        write(&app, "/write", "").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        write(&app, "/write", "# nothing\n\n").await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn precision_scales_timestamps_and_bad_precision_is_400() {
    let (_d, app) = app();
    let a = write(&app, "/write?precision=s&db=ignored", "m v=1i 2\n").await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let s = points(&app, "measurement=m").await;
    assert_eq!(
        s[0]["fields"]["v"]["ts"],
        serde_json::json!([2_000_000_000i64])
    );
    assert_eq!(s[0]["fields"]["v"]["type"], "integer");
    let a = write(&app, "/api/v2/write?precision=fortnights", "m v=1i 2\n").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.json()["error"].as_str().unwrap().contains("fortnights"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_without_timestamp_get_the_server_time() {
    let (_d, app) = app();
    let before = crate::lines::now_ns();
    assert_eq!(
        write(&app, "/write", "m v=1\n").await.status,
        StatusCode::NO_CONTENT
    );
    let after = crate::lines::now_ns();
    let ts = points(&app, "measurement=m").await[0]["fields"]["v"]["ts"][0]
        .as_i64()
        .unwrap();
    assert!(before <= ts && ts <= after, "{before} <= {ts} <= {after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_over_the_limit_is_413_json() {
    let (_d, app) = app_with(|s| {
        s.max_body_bytes = 64;
        s.limits.max_line_bytes = 64;
    });
    let big = "m v=1 1\n".repeat(20);
    let a = write(&app, "/write", &big).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(a.json()["error"]
        .as_str()
        .unwrap()
        .contains("max_body_bytes"));
    // Without Content-Length the streamed body is cut at the limit too (Full sets no header
    // here, so this is the streaming path); a gzip body that expands past it as well.
    let a = call(
        &app,
        Method::POST,
        "/write",
        &[("Content-Encoding", "gzip")],
        gz(big.as_bytes()),
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(a.json()["error"].as_str().unwrap().contains("decompressed"));
    let a = call(
        &app,
        Method::POST,
        "/write",
        &[("Content-Length", "1000000")],
        Bytes::new(),
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        points(&app, "measurement=m").await.is_empty(),
        "nothing of a refused body is stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bodies_are_decompressed() {
    let (_d, app) = app();
    let a = call(
        &app,
        Method::POST,
        "/write",
        &[("Content-Encoding", "gzip")],
        gz(b"g v=1 1\ng v=2 2\n"),
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{:?}", a.body);
    assert_eq!(
        points(&app, "measurement=g").await[0]["fields"]["v"]["ts"],
        serde_json::json!([1, 2])
    );
    let a = call(
        &app,
        Method::POST,
        "/write",
        &[("Content-Encoding", "gzip")],
        "g v=3 3",
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.json()["error"].as_str().unwrap().contains("gzip"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_methods_and_unknown_paths_are_json_errors() {
    let (_d, app) = app();
    let a = call(&app, Method::GET, "/write", &[], Bytes::new()).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.headers["allow"], "POST");
    assert!(a.json()["error"].is_string());
    let a = call(&app, Method::GET, "/nope", &[], Bytes::new()).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.json()["error"].as_str().unwrap().contains("/nope"));
    let a = call(&app, Method::GET, "/", &[], Bytes::new()).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let a = call(&app, Method::GET, "/debug/points", &[], Bytes::new()).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.json()["error"].as_str().unwrap().contains("measurement"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_series_and_flush() {
    let (_d, app) = app();
    write(&app, "/write", "cpu,host=a v=1 1\nmem,host=a free=2i 1\n").await;
    let h = call(&app, Method::GET, "/health", &[], Bytes::new()).await;
    assert_eq!(h.status, StatusCode::OK);
    let h = h.json();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["points_written"], 2);
    assert_eq!(h["series"], 2);
    for key in ["version", "uptime_s", "segments", "wal_bytes", "recovery"] {
        assert!(!h[key].is_null(), "health lacks {key}: {h}");
    }

    let s = call(&app, Method::GET, "/debug/series", &[], Bytes::new())
        .await
        .json();
    assert_eq!(s["series"].as_array().unwrap().len(), 2);
    let s = call(
        &app,
        Method::GET,
        "/debug/series?measurement=mem",
        &[],
        Bytes::new(),
    )
    .await
    .json();
    assert_eq!(s["series"][0]["tags"]["host"], "a");
    let m = call(&app, Method::GET, "/debug/measurements", &[], Bytes::new())
        .await
        .json();
    assert_eq!(m["measurements"], serde_json::json!(["cpu", "mem"]));

    let f = call(&app, Method::POST, "/admin/flush", &[], Bytes::new()).await;
    assert_eq!(f.status, StatusCode::OK);
    assert_eq!(f.json()["points"], 2);
    assert_eq!(
        points(&app, "measurement=cpu").await.len(),
        1,
        "flushed points still read back"
    );

    let m = call(&app, Method::GET, "/metrics", &[], Bytes::new()).await;
    assert_eq!(m.status, StatusCode::OK);
    let text = String::from_utf8(m.body.to_vec()).unwrap();
    assert!(
        text.contains("tally_http_requests_total{route=\"/write\",code=\"204\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("tally_write_lines_accepted_total{source=\"http\"} 2"),
        "{text}"
    );
    assert!(text.contains("tally_points_written_total 2"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_type_conflict_is_a_rejected_line_and_the_rest_is_stored() {
    let (_d, app) = app();
    assert_eq!(
        write(&app, "/write", "ft v=1 1\n").await.status,
        StatusCode::NO_CONTENT
    );
    let a = write(&app, "/write", "# c\nft v=2i 2\nft v=3 3\nft v=x 4\n").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let j = a.json();
    assert_eq!(j["error"], "partial write: 2 of 3 lines rejected", "{j}");
    assert_eq!(j["written"], 1);
    assert_eq!(j["rejected"][0]["line"], 2, "{j}");
    assert_eq!(j["rejected"][0]["text"], "ft v=2i 2");
    assert!(
        j["rejected"][0]["message"]
            .as_str()
            .unwrap()
            .contains("'v'"),
        "{j}"
    );
    assert_eq!(j["rejected"][1]["line"], 4);
    let s = points(&app, "measurement=ft").await;
    assert_eq!(s[0]["fields"]["v"]["ts"], serde_json::json!([1, 3]));
}

async fn get_json(app: &Arc<App>, uri: &str) -> (StatusCode, Value) {
    let a = call(app, Method::GET, uri, &[], Bytes::new()).await;
    (a.status, a.json())
}

async fn put_json(app: &Arc<App>, uri: &str) -> (StatusCode, Value) {
    let a = call(app, Method::PUT, uri, &[], Bytes::new()).await;
    (a.status, a.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_is_read_and_changed_per_level_and_measurement() {
    let (_d, app) = app();
    let (status, j) = get_json(&app, "/admin/retention").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        j,
        serde_json::json!({
            "default": {"raw": "forever", "1m": "forever", "1h": "forever", "1d": "forever"},
            "measurements": {},
            "changed_at_run_time": []
        })
    );

    let now = crate::lines::now_ns();
    let day = 86_400_000_000_000i64;
    let body = format!(
        "ret,host=a v=1i {}\nret,host=a v=2i {}\n",
        now - 10 * day,
        now - day / 24
    );
    assert_eq!(
        write(&app, "/write", &body).await.status,
        StatusCode::NO_CONTENT
    );
    let count = |s: Vec<Value>| s[0]["fields"]["v"]["ts"].as_array().unwrap().len();
    assert_eq!(count(points(&app, "measurement=ret").await), 2);

    let (status, j) = put_json(&app, "/admin/retention?level=raw&keep=7d&measurement=ret").await;
    assert_eq!(status, StatusCode::OK, "{j}");
    assert_eq!(j["measurements"], serde_json::json!({"ret": {"raw": "1w"}}));
    assert_eq!(count(points(&app, "measurement=ret").await), 1, "at once");

    let (_, j) = put_json(&app, "/admin/retention?level=1h&keep=2y").await;
    assert_eq!(j["default"]["1h"], "2y");
    assert_eq!(j["measurements"]["ret"]["raw"], "1w");
    let (_, j) = put_json(&app, "/admin/retention?measurement=ret&keep=default").await;
    assert_eq!(j["measurements"], serde_json::json!({}));
    assert_eq!(count(points(&app, "measurement=ret").await), 2);
    assert_eq!(get_json(&app, "/admin/retention").await.1, j);
    // keep=default on the default drops the run-time change: the configured value is back.
    let (_, j) = put_json(&app, "/admin/retention?level=1h&keep=default").await;
    assert_eq!(j["default"]["1h"], "forever");
    assert_eq!(j["changed_at_run_time"], serde_json::json!([]));

    for (uri, needle) in [
        ("/admin/retention?level=raw", "missing keep"),
        ("/admin/retention?level=2m&keep=1d", "bad level '2m'"),
        ("/admin/retention?keep=7q", "use s, m, h, d, w or y"),
        (
            "/admin/retention?measurment=ret&keep=1d",
            "unknown parameter 'measurment'",
        ),
    ] {
        let (status, j) = put_json(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {j}");
        assert!(j["error"].as_str().unwrap().contains(needle), "{uri}: {j}");
    }
    let a = call(&app, Method::DELETE, "/admin/retention", &[], Bytes::new()).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compact_runs_on_request() {
    let (_d, app) = app();
    for i in 0..3 {
        write(&app, "/write", &format!("c,host=a v={i} {i}\n")).await;
        call(&app, Method::POST, "/admin/flush", &[], Bytes::new()).await;
    }
    let a = call(&app, Method::POST, "/admin/compact", &[], Bytes::new()).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let j = a.json();
    for key in [
        "partitions",
        "files_replaced",
        "bytes_read",
        "bytes_written",
    ] {
        assert!(j[key].is_u64(), "{key} missing in {j}");
    }
    assert_eq!(
        points(&app, "measurement=c").await[0]["fields"]["v"]["ts"],
        serde_json::json!([0, 1, 2])
    );
    let a = call(&app, Method::GET, "/admin/compact", &[], Bytes::new()).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.headers["allow"], "POST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollup_reads_totals_from_the_tiers() {
    let (_d, app) = app();
    const H: i64 = 3_600_000_000_000;
    let t0 = 1_700_000_000_000_000_000 / H * H;
    let mut body = String::new();
    for i in 0..30i64 {
        let ep = if i % 3 == 0 { "/a" } else { "/b" };
        body.push_str(&format!("req,ep={ep} lat={i}i {}\n", t0 + i * H / 10));
    }
    assert_eq!(
        write(&app, "/write", &body).await.status,
        StatusCode::NO_CONTENT
    );
    call(&app, Method::POST, "/admin/flush", &[], Bytes::new()).await;

    let uri = format!(
        "/debug/rollup?measurement=req&field=lat&tag=ep:/a&from={t0}&to={}",
        t0 + 3 * H
    );
    let (status, j) = get_json(&app, &uri).await;
    assert_eq!(status, StatusCode::OK, "{j}");
    assert_eq!(
        j["sources"],
        serde_json::json!([{"from": t0, "to": t0 + 3 * H, "level": "1h"}])
    );
    let b = &j["groups"][0]["fields"]["lat"];
    assert_eq!(b.as_array().unwrap().len(), 1, "{j}");
    let want: Vec<i64> = (0..30).filter(|i| i % 3 == 0).collect();
    assert_eq!(b[0]["start"], t0);
    assert_eq!(b[0]["count"], want.len());
    assert_eq!(b[0]["sum"], want.iter().sum::<i64>());
    assert_eq!(
        (b[0]["min"].as_f64(), b[0]["max"].as_f64()),
        (Some(0.0), Some(27.0))
    );
    assert!(b[0]["p50"].is_null(), "lat is not a distribution field");

    let (_, j) = get_json(&app, &format!("{uri}&width=1h")).await;
    let b = j["groups"][0]["fields"]["lat"].as_array().unwrap().clone();
    let counts: Vec<u64> = b.iter().map(|b| b["count"].as_u64().unwrap()).collect();
    assert_eq!(counts, vec![4, 3, 3]);

    for (uri, needle) in [
        ("/debug/rollup?field=lat", "missing measurement"),
        ("/debug/rollup?measurement=req&start=1", "from=NS&to=NS"),
        ("/debug/rollup?measurement=req&width=fast", "bad width"),
    ] {
        let (status, j) = get_json(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {j}");
        assert!(j["error"].as_str().unwrap().contains(needle), "{uri}: {j}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_rollup_tiers_and_compaction() {
    let (_d, app) = app();
    write(&app, "/write", "m v=1 1\n").await;
    call(&app, Method::POST, "/admin/flush", &[], Bytes::new()).await;
    let m = call(&app, Method::GET, "/metrics", &[], Bytes::new()).await;
    let text = String::from_utf8(m.body.to_vec()).unwrap();
    for want in [
        "tally_rollup_files ",
        "tally_rollup_bytes{tier=\"1m\"} ",
        "tally_rollup_bytes{tier=\"1h\"} ",
        "tally_rollup_bytes{tier=\"1d\"} ",
        "tally_compaction_bytes_total ",
    ] {
        assert!(text.contains(want), "missing {want} in\n{text}");
    }
    let files = text
        .lines()
        .find_map(|l| l.strip_prefix("tally_rollup_files "))
        .unwrap();
    assert_ne!(files, "0", "a flush writes a rollup file");
}

// ---- /query ----

async fn query(
    app: &Arc<App>,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    call(app, method, uri, headers, body.to_owned()).await
}

async fn app_with_two_measurements() -> (TempDir, Arc<App>) {
    let (d, app) = app();
    let a = write(
        &app,
        "/write",
        "cpu,host=a,dc=x v=1.5 10\ncpu,host=b v=2 20\nmem,host=a free=3i 30\n",
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{:?}", a.body);
    (d, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_answers_stream_the_same_bytes_small_ones_carry_a_length() {
    let (_d, app) = app();
    let lines: String = (0..25_000)
        .map(|i| format!("cpu,host=h{} v={}.25 {}\n", i % 3, i, 1_000_000_000 + i))
        .collect();
    let a = write(&app, "/write", &lines).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{:?}", a.body);
    let q = "SELECT v, host FROM cpu WHERE time >= '1970-01-01T00:00:00Z'";
    let direct = tally_query::run(&app.db, q, &tally_query::QueryOptions::default()).unwrap();
    assert_eq!(direct[0].rows.len(), 25_000);
    let uri = "/query?epoch=ns";
    let ns = tally_query::format::TimeFormat::Epoch(tally_query::format::EpochUnit::Nanoseconds);
    // JSON: streamed (no length known up front), byte for byte what the value tree gives.
    let a = query(&app, Method::POST, uri, &[], q).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert!(
        !length_known(&app, uri, q).await,
        "a large answer is streamed"
    );
    let mut want = serde_json::to_vec(&tally_query::format::json(&direct, ns)).unwrap();
    want.push(b'\n');
    assert_eq!(a.body.len(), want.len());
    assert!(a.body == want, "streamed JSON differs");
    // CSV too.
    let a = query(&app, Method::POST, &format!("{uri}&format=csv"), &[], q).await;
    assert_eq!(a.headers["content-type"], "text/csv; charset=utf-8");
    assert!(a.body == tally_query::format::csv(&direct, ns).as_bytes());
    // A small answer is sent whole, with its length.
    assert!(length_known(&app, "/query", "SHOW MEASUREMENTS").await);
    let limited = format!("{q} LIMIT 10");
    assert!(length_known(&app, "/query", &limited).await);
}

/// Whether the answer to a POST of `body` to `uri` has its length known before it is sent
/// (sent whole rather than streamed in chunks).
async fn length_known(app: &Arc<App>, uri: &str, body: &str) -> bool {
    use hyper::body::Body as _;
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let resp = route(req, app).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.body().size_hint().exact().is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_answers_get_and_every_kind_of_post_as_json() {
    let (_d, app) = app_with_two_measurements().await;
    let want = serde_json::json!({
        "columns": [{"name": "name", "type": "string"}],
        "rows": [["cpu"], ["mem"]],
    });
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let json_type = [("content-type", "application/json; charset=utf-8")];
    for (method, uri, headers, body) in [
        (Method::GET, "/query?q=SHOW+MEASUREMENTS", &[][..], ""),
        (Method::GET, "/query?q=show%20measurements%3B", &[][..], ""),
        (
            Method::POST,
            "/query",
            &[("content-type", "text/plain")][..],
            "SHOW MEASUREMENTS",
        ),
        (Method::POST, "/query", &[][..], "SHOW MEASUREMENTS;\n"),
        (Method::POST, "/query", &form[..], "q=SHOW+MEASUREMENTS"),
        (
            Method::POST,
            "/query",
            &json_type[..],
            r#"{"q": "SHOW MEASUREMENTS", "params": {"k": "v"}}"#,
        ),
        (Method::POST, "/query?q=SHOW+MEASUREMENTS", &[][..], ""),
    ] {
        let a = query(&app, method.clone(), uri, headers, body).await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "{method} {uri} {body}: {:?}",
            a.body
        );
        assert_eq!(a.headers["content-type"], "application/json");
        assert_eq!(a.json(), want, "{method} {uri} {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_answers_show_statements_and_several_at_once() {
    let (_d, app) = app_with_two_measurements().await;
    let a = query(
        &app,
        Method::POST,
        "/query",
        &[],
        "SHOW TAG KEYS FROM cpu; SHOW FIELD KEYS FROM mem; SHOW TAG VALUES FROM cpu WITH KEY = host",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let j = a.json();
    let results = j["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{j}");
    assert_eq!(
        results[0]["columns"],
        serde_json::json!([{"name": "measurement", "type": "string"}, {"name": "tagKey", "type": "string"}])
    );
    assert_eq!(
        results[0]["rows"],
        serde_json::json!([["cpu", "dc"], ["cpu", "host"]])
    );
    assert_eq!(
        results[1]["rows"],
        serde_json::json!([["mem", "free", "integer"]])
    );
    assert_eq!(
        results[2]["rows"],
        serde_json::json!([["cpu", "host", "a"], ["cpu", "host", "b"]])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_answers_csv_by_accept_or_format_and_text_by_format() {
    let (_d, app) = app_with_two_measurements().await;
    for (uri, headers) in [
        ("/query?q=SHOW+TAG+KEYS", &[("accept", "text/csv")][..]),
        ("/query?q=SHOW+TAG+KEYS&format=csv", &[][..]),
        (
            "/query?q=SHOW+TAG+KEYS&format=csv",
            &[("accept", "application/json")][..],
        ),
    ] {
        let a = query(&app, Method::GET, uri, headers, "").await;
        assert_eq!(a.status, StatusCode::OK, "{uri}: {:?}", a.body);
        assert_eq!(a.headers["content-type"], "text/csv; charset=utf-8");
        assert_eq!(
            String::from_utf8(a.body.to_vec()).unwrap(),
            "measurement,tagKey\ncpu,dc\ncpu,host\nmem,host\n",
            "{uri}"
        );
    }
    let a = query(
        &app,
        Method::GET,
        "/query?q=SHOW+MEASUREMENTS&format=json",
        &[("accept", "text/csv")],
        "",
    )
    .await;
    assert_eq!(
        a.headers["content-type"], "application/json",
        "format wins over Accept"
    );
    let a = query(
        &app,
        Method::GET,
        "/query?q=SHOW+MEASUREMENTS&format=table",
        &[],
        "",
    )
    .await;
    assert_eq!(
        String::from_utf8(a.body.to_vec()).unwrap(),
        "name\n----\ncpu\nmem\n(2 rows)\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_parse_errors_are_400_with_line_column_and_caret() {
    let (_d, app) = app_with_two_measurements().await;
    let a = query(
        &app,
        Method::POST,
        "/query",
        &[],
        "SHOW MEASUREMENTS;\nSHOW TAG KEYZ",
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{:?}", a.body);
    let j = a.json();
    assert_eq!(j["line"], 2, "{j}");
    assert_eq!(j["column"], 10, "{j}");
    let error = j["error"].as_str().unwrap();
    assert!(error.contains("KEYZ") && !error.contains('\n'), "{j}");
    let detail = j["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("error at line 2, column 10: "),
        "{detail}"
    );
    assert!(
        detail.ends_with("\n  SHOW TAG KEYZ\n           ^^^^"),
        "{detail}"
    );
    // A statement that parses but cannot run is reported the same way.
    let a = query(
        &app,
        Method::GET,
        "/query?q=SHOW+TAG+KEYS+FROM+nope",
        &[],
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{:?}", a.body);
    let j = a.json();
    assert!(j["detail"].as_str().unwrap().contains('^'), "{j}");
    assert_eq!(j["line"], 1, "{j}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_query_requests_say_what_to_send() {
    let (_d, app) = app();
    let json_type = [("content-type", "application/json")];
    for (method, uri, headers, body, needle) in [
        (Method::GET, "/query", &[][..], "", "missing query"),
        (Method::GET, "/query?q=%20", &[][..], "", "missing query"),
        (Method::POST, "/query", &[][..], "", "missing query"),
        (
            Method::GET,
            "/query?q=SHOW+MEASUREMENTS&params=nope",
            &[][..],
            "",
            "params is not JSON",
        ),
        (
            Method::GET,
            "/query?q=SHOW+MEASUREMENTS&params=%5B%5D",
            &[][..],
            "",
            "JSON object",
        ),
        (
            Method::GET,
            "/query?q=SHOW+MEASUREMENTS&epoch=h",
            &[][..],
            "",
            "unknown epoch unit",
        ),
        (
            Method::GET,
            "/query?q=SHOW+MEASUREMENTS&now=soon",
            &[][..],
            "",
            "bad now",
        ),
        (
            Method::GET,
            "/query?q=SHOW+MEASUREMENTS&format=xml",
            &[][..],
            "",
            "unknown format",
        ),
        (
            Method::POST,
            "/query",
            &json_type[..],
            "{\"q\": ",
            "not valid",
        ),
        (
            Method::POST,
            "/query",
            &json_type[..],
            r#"{"q": "SHOW MEASUREMENTS", "params": {"x": {}}}"#,
            "$x",
        ),
    ] {
        let a = query(&app, method.clone(), uri, headers, body).await;
        assert_eq!(
            a.status,
            StatusCode::BAD_REQUEST,
            "{method} {uri} {body}: {:?}",
            a.body
        );
        let j = a.json();
        assert!(
            j["error"].as_str().unwrap().contains(needle),
            "{method} {uri} {body}: {j}"
        );
    }
    let a = query(&app, Method::PUT, "/query?q=SHOW+MEASUREMENTS", &[], "").await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.headers["allow"], "GET, POST");
    let big = "x".repeat(200 << 10);
    let a = query(&app, Method::POST, "/query", &[], &big).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(a.json()["error"].as_str().unwrap().contains("bytes"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_are_counted_in_metrics() {
    let (_d, app) = app();
    query(&app, Method::GET, "/query?q=SHOW+MEASUREMENTS", &[], "").await;
    query(&app, Method::GET, "/query?q=SHOW", &[], "").await;
    let m = call(&app, Method::GET, "/metrics", &[], Bytes::new()).await;
    let text = String::from_utf8(m.body.to_vec()).unwrap();
    for want in [
        "tally_http_requests_total{route=\"/query\",code=\"200\"} 1",
        "tally_http_requests_total{route=\"/query\",code=\"400\"} 1",
    ] {
        assert!(text.contains(want), "missing {want} in\n{text}");
    }
}

/// Needs the executor's SELECT (being built): enable by removing the `ignore`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_select_answers_typed_rows_epochs_and_budgets() {
    let (_d, app) = app_with(|s| s.query.max_rows = 2);
    write(
        &app,
        "/write",
        "cpu,host=a v=1.5 1000000000\ncpu,host=b v=2 2000000000\ncpu,host=a v=3 3000000000\n",
    )
    .await;
    let q = "SELECT v FROM cpu WHERE host = 'a' AND time >= 0 AND time < 10s";
    let a = query(&app, Method::POST, "/query", &[], q).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let j = a.json();
    assert_eq!(
        j["columns"],
        serde_json::json!([{"name": "time", "type": "time"}, {"name": "v", "type": "float"}])
    );
    assert_eq!(
        j["rows"],
        serde_json::json!([["1970-01-01T00:00:01Z", 1.5], ["1970-01-01T00:00:03Z", 3.0]])
    );
    let a = query(&app, Method::POST, "/query?epoch=ms", &[], q).await;
    assert_eq!(
        a.json()["rows"],
        serde_json::json!([[1000, 1.5], [3000, 3.0]])
    );
    // Parameters and `now` from a JSON body.
    let body = r#"{"q": "SELECT count(v) FROM cpu WHERE host = $h AND time > now() - 1h", "params": {"h": "b"}, "now": "1970-01-01T00:00:05Z"}"#;
    let a = query(
        &app,
        Method::POST,
        "/query",
        &[("content-type", "application/json")],
        body,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.json()["rows"][0].as_array().unwrap().last().unwrap(), 1);
    // Three rows are over `max_rows = 2`.
    let a = query(
        &app,
        Method::POST,
        "/query",
        &[],
        "SELECT v FROM cpu WHERE time >= 0 AND time < 10s",
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", a.body);
    assert!(a.json()["error"]
        .as_str()
        .unwrap()
        .starts_with("query over budget"));
}
