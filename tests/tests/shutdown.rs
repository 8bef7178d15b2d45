//! Start and stop as a user sees them: SIGTERM and SIGINT stop cleanly and flush the head to
//! segments, and `tally serve` without `--data-dir` keeps its data in `./data`.

// Test code: a panic with the failed call's error is the failure report, helpers included
// (clippy's allow-unwrap-in-tests only covers #[test] functions themselves).
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tally_tests::{free_port, request, segment_files, tally_bin, wal_files, Tally};

fn graceful_stop_flushes(signal_name: &str) {
    let mut tally = Tally::start().unwrap();
    let body: String = (0..200)
        .map(|i| format!("stop,host=h{} n={i}i {}\n", i % 4, 1_000 + i))
        .collect();
    tally.write_ok(&body).unwrap();
    assert!(segment_files(tally.data_dir()).unwrap().is_empty());
    let status = match signal_name {
        "SIGTERM" => tally.terminate().unwrap(),
        _ => tally.interrupt().unwrap(),
    };
    assert!(status.success(), "{signal_name}: exit status {status}");
    assert!(
        !segment_files(tally.data_dir()).unwrap().is_empty(),
        "{signal_name}: shutdown did not flush the head to a segment; files: {:?}",
        tally_tests::files_under(tally.data_dir()).unwrap()
    );
    tally.restart().unwrap();
    let mut got: Vec<i64> = tally
        .points("stop")
        .unwrap()
        .iter()
        .flat_map(|s| s.field("n").unwrap().i64s().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, (0..200).collect::<Vec<_>>(), "{signal_name}");
    let replayed = &tally.health().unwrap()["recovery"];
    assert!(replayed.is_object(), "no recovery report in /health");
}

#[test]
fn sigterm_flushes_and_exits_zero() {
    graceful_stop_flushes("SIGTERM");
}

#[test]
fn sigint_flushes_and_exits_zero() {
    graceful_stop_flushes("SIGINT");
}

#[test]
fn data_goes_to_dot_data_by_default() {
    let cwd = tempfile::tempdir().unwrap();
    let http = format!("127.0.0.1:{}", free_port().unwrap());
    let mut child = Command::new(tally_bin().unwrap())
        .current_dir(cwd.path())
        .args([
            "serve",
            "--http-addr",
            &http,
            "--tcp-addr",
            &format!("127.0.0.1:{}", free_port().unwrap()),
        ])
        .env_remove("TALLY_DATA_DIR")
        .env_remove("TALLY_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = http.parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let healthy = loop {
        match request(addr, "GET", "/health", &[], b"", Duration::from_secs(5)) {
            Ok(r) if r.status == 200 => break true,
            _ if Instant::now() > deadline => break false,
            _ => std::thread::sleep(Duration::from_millis(25)),
        }
    };
    let wrote = healthy
        && request(
            addr,
            "POST",
            "/write",
            &[],
            b"dflt v=1 1\n",
            Duration::from_secs(30),
        )
        .is_ok_and(|r| r.status == 204);
    let _ = child.kill();
    let _ = child.wait();
    assert!(healthy, "tally serve without --data-dir did not start");
    assert!(wrote, "write failed");
    let data = cwd.path().join("data");
    assert!(data.is_dir(), "./data was not created");
    assert!(
        !wal_files(&data).unwrap().is_empty(),
        "no WAL file under ./data: {:?}",
        tally_tests::files_under(&data).unwrap()
    );
}
