//! Line protocol over the TCP listener (Telegraf's `socket_listener` style): newline-separated
//! lines on a plain connection, no answers. The points must become readable over HTTP.

// Test code: a panic with the failed call's error is the failure report, helpers included
// (clippy's allow-unwrap-in-tests only covers #[test] functions themselves).
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tally_tests::Tally;

/// Polls until `m` holds `want` values of field `n` (TCP has no acknowledgement), or 30 s pass.
fn wait_for_points(tally: &Tally, m: &str, want: usize) -> Vec<i64> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut got: Vec<i64> = tally
            .points(m)
            .unwrap()
            .iter()
            .filter_map(|s| s.field("n"))
            .flat_map(|c| c.i64s().unwrap())
            .collect();
        got.sort();
        if got.len() >= want || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn tcp_lines_become_readable() {
    let tally = Tally::start().unwrap();
    let body: String = (0..500)
        .map(|i| format!("tcp,host=h{} n={i}i {}\n", i % 5, 1_000_000 + i))
        .collect();
    let mut conn = TcpStream::connect(tally.tcp_addr()).unwrap();
    // Send in uneven pieces so lines are split across reads on the server side.
    let bytes = body.as_bytes();
    let mut at = 0;
    let mut piece = 1;
    while at < bytes.len() {
        let end = (at + piece).min(bytes.len());
        conn.write_all(&bytes[at..end]).unwrap();
        at = end;
        piece = piece * 3 % 1013 + 7;
    }
    conn.flush().unwrap();
    drop(conn);
    let got = wait_for_points(&tally, "tcp", 500);
    assert_eq!(got, (0..500).collect::<Vec<_>>());
    assert_eq!(tally.series("tcp").unwrap().len(), 5);
}

#[test]
fn a_bad_tcp_line_is_skipped_and_the_connection_keeps_working() {
    let tally = Tally::start().unwrap();
    let mut conn = TcpStream::connect(tally.tcp_addr()).unwrap();
    conn.write_all(b"tcpbad n=1i 1\nthis is not line protocol\ntcpbad n=2i 2\n")
        .unwrap();
    conn.flush().unwrap();
    let got = wait_for_points(&tally, "tcpbad", 2);
    assert_eq!(got, vec![1, 2]);
    // The same connection still delivers.
    conn.write_all(b"tcpbad n=3i 3\n").unwrap();
    conn.flush().unwrap();
    let got = wait_for_points(&tally, "tcpbad", 3);
    assert_eq!(got, vec![1, 2, 3]);
}

#[test]
fn tcp_points_survive_a_graceful_restart() {
    let mut tally = Tally::start().unwrap();
    let mut conn = TcpStream::connect(tally.tcp_addr()).unwrap();
    conn.write_all(b"tcpkeep,host=a n=7i 70\ntcpkeep,host=b n=8i 80\n")
        .unwrap();
    drop(conn);
    assert_eq!(wait_for_points(&tally, "tcpkeep", 2), vec![7, 8]);
    let status = tally.terminate().unwrap();
    assert!(status.success(), "exit status {status}");
    tally.restart().unwrap();
    assert_eq!(wait_for_points(&tally, "tcpkeep", 2), vec![7, 8]);
}
