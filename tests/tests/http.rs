//! The HTTP contract of the real binary: `/write` (partial writes, body limit, gzip, precision),
//! `/health`, `/metrics`, and the error a user sees when the port is taken.

// Test code: a panic with the failed call's error is the failure report, helpers included
// (clippy's allow-unwrap-in-tests only covers #[test] functions themselves).
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tally_tests::{free_port, gzip, tally_bin, Tally, TallyOptions};

#[test]
fn health_says_ok_and_reports_recovery() {
    let tally = Tally::start().unwrap();
    let h = tally.health().unwrap();
    assert_eq!(h["status"], "ok", "{h}");
    assert!(h["recovery"].is_object(), "no recovery object in {h}");
    assert!(
        tally
            .stdout()
            .contains(&tally.http_addr().port().to_string()),
        "stdout does not name the HTTP port: {:?}",
        tally.stdout()
    );
}

#[test]
fn partial_write_reports_rejected_lines_and_keeps_the_valid_ones() {
    let tally = Tally::start().unwrap();
    let body = "# a comment line counts as a line\n\
                pw,host=a v=1 1000\n\
                pw,host=a v=oops 2000\n\
                pw,host=b v=2 3000\n\
                pw,host=a 4000\n\
                \n\
                pw,host=c v=3 5000\n";
    let r = tally.write(body).unwrap();
    assert_eq!(
        r.status,
        400,
        "partial write answered {}: {}",
        r.status,
        r.text()
    );
    let j = r.json().unwrap();
    assert!(
        j["error"].as_str().is_some_and(|e| !e.is_empty()),
        "no error text in {j}"
    );
    assert_eq!(j["written"], 3, "{j}");
    let rejected = j["rejected"].as_array().expect("rejected is an array");
    assert_eq!(rejected.len(), 2, "{j}");
    assert_eq!(rejected[0]["line"], 3, "{j}");
    assert_eq!(rejected[0]["text"], "pw,host=a v=oops 2000", "{j}");
    assert_eq!(rejected[1]["line"], 5, "{j}");
    assert_eq!(rejected[1]["text"], "pw,host=a 4000", "{j}");
    for rej in rejected {
        assert!(rej["column"].as_u64().is_some_and(|c| c >= 1), "{rej}");
        assert!(
            rej["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{rej}"
        );
    }
    // The column points into the bad value: `v=oops` starts at byte 11, the value at 13.
    let col = rejected[0]["column"].as_u64().unwrap();
    assert!(
        (11..=14).contains(&col),
        "column {col} does not point at v=oops"
    );

    assert_eq!(
        tally.column("pw", "host", "a", "v").unwrap(),
        vec![(1000, serde_json::json!(1.0))]
    );
    assert_eq!(
        tally.column("pw", "host", "b", "v").unwrap(),
        vec![(3000, serde_json::json!(2.0))]
    );
    assert_eq!(
        tally.column("pw", "host", "c", "v").unwrap(),
        vec![(5000, serde_json::json!(3.0))]
    );
}

#[test]
fn a_body_with_only_bad_lines_writes_nothing() {
    let tally = Tally::start().unwrap();
    let r = tally.write("bad line without fields\n").unwrap();
    assert_eq!(r.status, 400, "{}", r.text());
    let j = r.json().unwrap();
    assert_eq!(j["written"], 0, "{j}");
    assert!(tally.points("bad").unwrap().is_empty());
}

#[test]
fn oversize_bodies_get_413_and_write_nothing() {
    let tally = Tally::start_with(TallyOptions {
        config: Some(
            "[server]\nmax_body_bytes = 4096\n[limits]\nmax_line_bytes = 1024\n".to_owned(),
        ),
        ..TallyOptions::default()
    })
    .unwrap();
    let line = |i: usize| format!("big,host=h{} value={i} {}\n", i % 7, 1_000 + i);
    let small: String = (0..20).map(line).collect();
    assert!(small.len() < 4096);
    tally.write_ok(&small).unwrap();

    let large: String = (100..1100).map(line).collect();
    assert!(large.len() > 4096 * 4);
    let r = tally.write(&large).unwrap();
    assert_eq!(
        r.status,
        413,
        "oversize body answered {}: {}",
        r.status,
        r.text()
    );

    // Small on the wire, large once unpacked: the limit holds after decompression too.
    let bomb = "x".repeat(64 << 10);
    let bomb = format!("big,host=bomb s=\"{bomb}\" 5\n");
    let packed = gzip(bomb.as_bytes());
    assert!(packed.len() < 4096);
    let r = tally
        .http("POST", "/write", &[("Content-Encoding", "gzip")], &packed)
        .unwrap();
    assert_eq!(
        r.status,
        413,
        "gzip bomb answered {}: {}",
        r.status,
        r.text()
    );

    let series = tally.points("big").unwrap();
    let total: usize = series
        .iter()
        .filter_map(|s| s.field("value"))
        .map(|c| c.ts.len())
        .sum();
    assert_eq!(total, 20, "only the small body may be written");
    assert!(series.iter().all(|s| s.tag("host") != Some("bomb")));
    // The server still works after refusing.
    tally.write_ok(&line(5000)).unwrap();
}

#[test]
fn gzip_bodies_are_accepted() {
    let tally = Tally::start().unwrap();
    let body: String = (0..100)
        .map(|i| format!("gz,host=h{} n={i}i {}\n", i % 3, 10_000 + i))
        .collect();
    let r = tally
        .http(
            "POST",
            "/write",
            &[("Content-Encoding", "gzip")],
            &gzip(body.as_bytes()),
        )
        .unwrap();
    assert_eq!(
        r.status,
        204,
        "gzip write answered {}: {}",
        r.status,
        r.text()
    );
    let series = tally.points("gz").unwrap();
    assert_eq!(series.len(), 3);
    let mut ns: Vec<i64> = series
        .iter()
        .flat_map(|s| s.field("n").unwrap().i64s().unwrap())
        .collect();
    ns.sort();
    assert_eq!(ns, (0..100).collect::<Vec<_>>());

    // A body that claims gzip but is not: a clear 400, not a crash.
    let r = tally
        .http(
            "POST",
            "/write",
            &[("Content-Encoding", "gzip")],
            b"gz n=1i 1\n",
        )
        .unwrap();
    assert_eq!(
        r.status,
        400,
        "bad gzip answered {}: {}",
        r.status,
        r.text()
    );
}

#[test]
fn precision_scales_timestamps_to_nanoseconds() {
    let tally = Tally::start().unwrap();
    let t = 1_700_000_000i64;
    for (p, ts, want) in [
        ("s", t, t * 1_000_000_000),
        ("ms", t * 1_000 + 1, t * 1_000_000_000 + 1_000_000),
        ("us", t * 1_000_000 + 2, t * 1_000_000_000 + 2_000),
        ("ns", t * 1_000_000_000 + 3, t * 1_000_000_000 + 3),
    ] {
        let r = tally
            .post(
                &format!("/write?precision={p}"),
                format!("prec,p={p} v=1 {ts}\n").as_bytes(),
            )
            .unwrap();
        assert_eq!(r.status, 204, "precision={p}: {} {}", r.status, r.text());
        let got: Vec<i64> = tally
            .column("prec", "p", p, "v")
            .unwrap()
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(got, vec![want], "precision={p}");
    }
    // No precision means nanoseconds.
    tally.write_ok("prec,p=default v=1 42\n").unwrap();
    assert_eq!(tally.column("prec", "p", "default", "v").unwrap().len(), 1);
    assert_eq!(tally.column("prec", "p", "default", "v").unwrap()[0].0, 42);

    let r = tally
        .post("/write?precision=fortnight", b"prec,p=x v=1 1\n")
        .unwrap();
    assert_eq!(
        r.status,
        400,
        "unknown precision answered {}: {}",
        r.status,
        r.text()
    );
    assert!(tally.column("prec", "p", "x", "v").unwrap().is_empty());
}

#[test]
fn a_point_without_timestamp_gets_the_server_time() {
    let tally = Tally::start().unwrap();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as i64
    };
    let before = now();
    tally.write_ok("nots,host=a v=1\n").unwrap();
    let after = now();
    let col = tally.column("nots", "host", "a", "v").unwrap();
    assert_eq!(col.len(), 1);
    assert!(
        (before..=after).contains(&col[0].0),
        "timestamp {} not between {before} and {after}",
        col[0].0
    );
}

#[test]
fn metrics_expose_prometheus_counters() {
    let tally = Tally::start().unwrap();
    tally
        .write_ok("met,host=a v=1 1\nmet,host=a v=2 2\nmet,host=b v=3 3\n")
        .unwrap();
    let r = tally.get("/metrics").unwrap();
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain")),
        "content-type {:?}",
        r.header("content-type")
    );
    let text = r.text();
    for name in [
        "tally_points_written_total",
        "tally_series",
        "tally_wal_bytes",
        "tally_head_points",
        "tally_segments",
        "tally_http_requests_total",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "/metrics has no {name}:\n{text}"
        );
        assert!(
            text.contains(&format!("# TYPE {name}")),
            "/metrics has no TYPE line for {name}"
        );
    }
    let written: f64 = text
        .lines()
        .find(|l| l.starts_with("tally_points_written_total"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .expect("tally_points_written_total has a value");
    assert!(written >= 3.0, "tally_points_written_total = {written}");
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(tally_bin().unwrap())
        .arg("serve")
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--http-addr")
        .arg(addr.to_string())
        .arg("--tcp-addr")
        .arg(format!("127.0.0.1:{}", free_port().unwrap()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tally kept running although {addr} is taken");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!status.success(), "exit status {status} for a taken port");
    assert!(
        text.contains(&addr.to_string()),
        "the error does not name {addr}:\n{text}"
    );
    assert!(
        text.to_ascii_lowercase().contains("in use"),
        "the error does not say the address is in use:\n{text}"
    );
    drop(taken);
}
