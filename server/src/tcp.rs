//! The TCP line-protocol listener, as Telegraf's `socket_listener` speaks it: newline-delimited
//! line protocol, no answers.
//!
//! Lines are collected per connection and written in batches of [`BATCH_LINES`] lines (or
//! [`BATCH_BYTES`]), or [`BATCH_DELAY`] after the first waiting line, whichever comes first. A
//! connection reads nothing more until its batch is stored, so a slow disk slows the sender down
//! through TCP instead of filling memory. Bad lines are counted and logged (at most one log line
//! per [`LOG_EVERY`] for the whole listener) and never close the connection; a line longer than
//! `max_line_bytes` is skipped up to its newline without being buffered.

use crate::app::App;
use crate::lines::{self, StoreFailed};
use crate::metrics::Source;
use crate::shutdown::{Shutdown, TaskGuard, Tracker};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tally_engine::EngineError;
use tally_ingest::line_protocol::Precision;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, error, info, warn};

/// Lines per batch.
const BATCH_LINES: usize = 5_000;
/// Bytes per batch.
const BATCH_BYTES: usize = 1 << 20;
/// Longest a complete line waits before its batch is written.
const BATCH_DELAY: Duration = Duration::from_millis(100);
/// Read buffer per connection.
const READ_BUF: usize = 64 << 10;
/// At most one bad-line log line per this interval, across all connections.
const LOG_EVERY: Duration = Duration::from_secs(5);
/// Bytes of a bad line quoted in the log.
const QUOTE_BYTES: usize = 120;

/// Accepts line-protocol connections on `listener` until `shutdown` fires, then stops
/// accepting and waits up to `grace` for each connection to store what it has read.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    mut shutdown: Shutdown,
    grace: Duration,
) {
    let tracker = Tracker::new();
    let limiter = Arc::new(Mutex::new(LogLimiter::new(LOG_EVERY)));
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let conn = Connection {
                        app: Arc::clone(&app),
                        peer,
                        limiter: Arc::clone(&limiter),
                        _guard: tracker.guard(),
                    };
                    tokio::spawn(conn.run(stream, shutdown.clone()));
                }
                Err(e) => {
                    warn!(error = %e, "accepting a TCP line-protocol connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = shutdown.wait() => break,
        }
    }
    drop(listener);
    info!("TCP: stopped accepting; storing what open connections have sent");
    if tokio::time::timeout(grace, tracker.idle()).await.is_err() {
        warn!(
            grace_s = grace.as_secs(),
            "TCP: connections still storing after the shutdown timeout"
        );
    }
}

/// One client connection.
struct Connection {
    app: Arc<App>,
    peer: SocketAddr,
    limiter: Arc<Mutex<LogLimiter>>,
    _guard: TaskGuard,
}

impl Connection {
    async fn run(self, mut stream: TcpStream, mut shutdown: Shutdown) {
        let metrics = &self.app.metrics;
        metrics.tcp_opened();
        debug!(peer = %self.peer, "TCP connection opened");
        let mut splitter = LineSplitter::new(self.app.settings.limits.max_line_bytes);
        let mut buf = vec![0u8; READ_BUF];
        let mut overlong = Vec::new();
        let mut first_waiting: Option<Instant> = None;
        let mut open = true;
        while open {
            let deadline = first_waiting.map(|t| tokio::time::Instant::from_std(t + BATCH_DELAY));
            let read = async {
                match deadline {
                    Some(d) => tokio::time::timeout_at(d, stream.read(&mut buf)).await.ok(),
                    None => Some(stream.read(&mut buf).await),
                }
            };
            let mut store_now = false;
            tokio::select! {
                r = read => match r {
                    None => store_now = true,
                    Some(Ok(0)) => {
                        splitter.finish();
                        open = false;
                    }
                    Some(Ok(n)) => {
                        metrics.bytes(Source::Tcp, n as u64);
                        splitter.push(&buf[..n], &mut overlong);
                        if splitter.lines() > 0 && first_waiting.is_none() {
                            first_waiting = Some(Instant::now());
                        }
                        store_now = splitter.lines() >= BATCH_LINES || splitter.waiting_bytes() >= BATCH_BYTES;
                    }
                    Some(Err(e)) => {
                        debug!(peer = %self.peer, error = %e, "TCP read failed; closing");
                        open = false;
                    }
                },
                // A line cut off by shutdown is dropped: the sender never finished it.
                _ = shutdown.wait() => open = false,
            }
            if !overlong.is_empty() {
                self.report_overlong(&mut overlong);
            }
            if (store_now || !open) && splitter.lines() > 0 {
                first_waiting = None;
                if !self.store(splitter.take_lines()).await {
                    open = false;
                }
            }
        }
        metrics.tcp_closed();
        debug!(peer = %self.peer, "TCP connection closed");
    }

    /// Parses and stores `text`; `false` when the database refuses all writes (closing down).
    async fn store(&self, text: Vec<u8>) -> bool {
        // The same permits as HTTP writes: they bound the blocking threads and bodies in flight.
        let Ok(_permit) = self.app.write_permits.acquire().await else {
            return false;
        };
        let app = Arc::clone(&self.app);
        let started = Instant::now();
        let now = lines::now_ns();
        let result = tokio::task::spawn_blocking(move || {
            lines::parse_and_write(
                &app.db,
                app.settings.limits,
                &text,
                Precision::Nanoseconds,
                now,
            )
        })
        .await;
        let metrics = &self.app.metrics;
        metrics.write_latency.observe(started.elapsed());
        match result {
            Ok(Ok(outcome)) => {
                metrics.lines(
                    Source::Tcp,
                    outcome.accepted as u64,
                    outcome.rejected_total as u64,
                );
                if let Some(first) = outcome.rejected.first() {
                    if let Some(suppressed) = self.log_allowed() {
                        warn!(
                            peer = %self.peer,
                            column = first.column,
                            error = %first.message,
                            text = %quote(first.text.as_bytes()),
                            rejected_in_batch = outcome.rejected_total,
                            suppressed_since_last_log = suppressed,
                            "bad line-protocol line from a TCP client skipped: {}",
                            first.message
                        );
                    }
                }
                true
            }
            Ok(Err(StoreFailed { accepted, error })) => {
                metrics.write_error(Source::Tcp);
                let closed = matches!(error, EngineError::Closed(_));
                if let Some(suppressed) = self.log_allowed() {
                    error!(
                        peer = %self.peer,
                        lines = accepted,
                        error = %error,
                        suppressed_since_last_log = suppressed,
                        "storing lines from a TCP client failed; they are lost"
                    );
                }
                !closed
            }
            Err(join) => {
                error!(peer = %self.peer, error = %join, "the TCP write worker panicked; closing the connection");
                false
            }
        }
    }

    fn report_overlong(&self, overlong: &mut Vec<Overlong>) {
        let max = self.app.settings.limits.max_line_bytes;
        self.app
            .metrics
            .lines(Source::Tcp, 0, overlong.len() as u64);
        if let Some(suppressed) = self.log_allowed() {
            warn!(
                peer = %self.peer,
                max_line_bytes = max,
                text = %overlong[0].start,
                skipped_lines = overlong.len(),
                suppressed_since_last_log = suppressed,
                "a line from a TCP client is longer than max_line_bytes ({max}) and was skipped; \
                 send shorter lines or raise [limits] max_line_bytes"
            );
        }
        overlong.clear();
    }

    /// Whether to log now, with how many log lines were suppressed since the last one.
    fn log_allowed(&self) -> Option<u64> {
        self.limiter
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .check(Instant::now())
    }
}

/// At most one event per interval; counts the rest.
#[derive(Debug)]
struct LogLimiter {
    every: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl LogLimiter {
    fn new(every: Duration) -> Self {
        LogLimiter {
            every,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(suppressed count)` if an event may be logged at `now`, else `None` (and counts it).
    fn check(&mut self, now: Instant) -> Option<u64> {
        if self
            .last
            .is_some_and(|l| now.duration_since(l) < self.every)
        {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// A line skipped for being longer than the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Overlong {
    /// Its first bytes, for the log.
    start: String,
}

/// Cuts a byte stream into complete lines, dropping lines longer than a limit without
/// buffering them.
#[derive(Debug)]
struct LineSplitter {
    max: usize,
    /// Complete lines (each with its `\n`), then the start of the current line.
    buf: Vec<u8>,
    /// Where the current, incomplete line starts in `buf`.
    line_start: usize,
    /// Complete lines in `buf`.
    lines: usize,
    /// Inside an overlong line: discard up to the next newline.
    skipping: bool,
}

impl LineSplitter {
    fn new(max: usize) -> Self {
        LineSplitter {
            max,
            buf: Vec::new(),
            line_start: 0,
            lines: 0,
            skipping: false,
        }
    }

    /// Complete lines waiting.
    fn lines(&self) -> usize {
        self.lines
    }

    /// Bytes of complete lines waiting.
    fn waiting_bytes(&self) -> usize {
        self.line_start
    }

    /// Adds bytes read; each overlong line met is reported in `overlong`.
    fn push(&mut self, mut chunk: &[u8], overlong: &mut Vec<Overlong>) {
        while !chunk.is_empty() {
            let newline = chunk.iter().position(|&b| b == b'\n');
            if self.skipping {
                match newline {
                    Some(i) => {
                        self.skipping = false;
                        chunk = &chunk[i + 1..];
                        continue;
                    }
                    None => return,
                }
            }
            let current = self.buf.len() - self.line_start;
            match newline {
                Some(i) => {
                    if current + i > self.max {
                        overlong.push(self.overlong(&chunk[..i]));
                        self.buf.truncate(self.line_start);
                    } else {
                        self.buf.extend_from_slice(&chunk[..=i]);
                        self.line_start = self.buf.len();
                        self.lines += 1;
                    }
                    chunk = &chunk[i + 1..];
                }
                None => {
                    if current + chunk.len() > self.max {
                        overlong.push(self.overlong(chunk));
                        self.buf.truncate(self.line_start);
                        self.skipping = true;
                    } else {
                        self.buf.extend_from_slice(chunk);
                    }
                    return;
                }
            }
        }
    }

    /// The stream ended: an unterminated last line counts as a line.
    fn finish(&mut self) {
        if !self.skipping && self.buf.len() > self.line_start {
            self.buf.push(b'\n');
            self.line_start = self.buf.len();
            self.lines += 1;
        }
        self.skipping = false;
    }

    /// Removes and returns the complete lines, keeping the incomplete one.
    fn take_lines(&mut self) -> Vec<u8> {
        let rest = self.buf.split_off(self.line_start);
        let lines = std::mem::replace(&mut self.buf, rest);
        self.line_start = 0;
        self.lines = 0;
        lines
    }

    fn overlong(&self, more: &[u8]) -> Overlong {
        let head = &self.buf[self.line_start..];
        let mut start = head[..head.len().min(QUOTE_BYTES)].to_vec();
        let room = QUOTE_BYTES - start.len();
        start.extend_from_slice(&more[..more.len().min(room)]);
        Overlong {
            start: quote(&start),
        }
    }
}

/// The first [`QUOTE_BYTES`] of `bytes` as text, for a log line.
fn quote(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(QUOTE_BYTES)];
    let mut s = String::from_utf8_lossy(cut).into_owned();
    if bytes.len() > QUOTE_BYTES {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::shutdown;
    use tally_engine::{ColumnValues, Db, Options, Selector, TimeRange};
    use tally_ingest::line_protocol::Limits;
    use tokio::io::AsyncWriteExt;

    async fn start(
        max_line_bytes: usize,
    ) -> (
        tempfile::TempDir,
        Arc<App>,
        SocketAddr,
        shutdown::Trigger,
        tokio::task::JoinHandle<()>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        // The tests write timestamps near 1970; the default retention would hide them at once.
        let opts = Options {
            retention: tally_engine::RetentionPolicy::forever(),
            ..Options::default()
        };
        let db = Db::open(dir.path(), opts).unwrap();
        let settings = Settings {
            limits: Limits {
                max_line_bytes,
                ..Limits::default()
            },
            ..Settings::default()
        };
        let app = App::new(Arc::new(db), settings);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (trigger, stop) = shutdown::channel();
        let task = tokio::spawn(serve(
            listener,
            Arc::clone(&app),
            stop,
            Duration::from_secs(10),
        ));
        (dir, app, addr, trigger, task)
    }

    fn timestamps(app: &App, measurement: &str) -> Vec<i64> {
        let data = app
            .db
            .read(&Selector::measurement(measurement), TimeRange::ALL, None)
            .unwrap();
        data.iter()
            .flat_map(|s| s.fields.iter().flat_map(|c| c.ts.iter().copied()))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lines_are_stored_and_bad_or_long_ones_skipped_without_closing() {
        let (_dir, app, addr, trigger, task) = start(40).await;
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"t v=1 1\nthis is not line protocol\n")
            .await
            .unwrap();
        c.write_all(format!("t,k={} v=9 9\n", "x".repeat(100)).as_bytes())
            .await
            .unwrap();
        // The last line has no newline: it counts once the client closes its side.
        c.write_all(b"t v=2 2").await.unwrap();
        c.shutdown().await.unwrap();
        // The server closes its side once it has stored what it read.
        let mut end = [0u8; 1];
        assert_eq!(c.read(&mut end).await.unwrap(), 0);
        let mut ts = timestamps(&app, "t");
        ts.sort_unstable();
        assert_eq!(ts, vec![1, 2]);
        assert_eq!(app.metrics.accepted(Source::Tcp), 2);
        assert_eq!(app.metrics.rejected(Source::Tcp), 2);
        trigger.fire();
        task.await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_quiet_connection_has_its_lines_stored_without_closing() {
        let (_dir, app, addr, trigger, task) = start(1000).await;
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"q v=1i 5\n").await.unwrap();
        // Poll rather than sleep a fixed time: the batch is stored shortly after the line.
        let deadline = Instant::now() + Duration::from_secs(30);
        while timestamps(&app, "q").is_empty() {
            assert!(Instant::now() < deadline, "the line was never stored");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let data = app
            .db
            .read(&Selector::measurement("q"), TimeRange::ALL, None)
            .unwrap();
        assert_eq!(data[0].fields[0].values, ColumnValues::Integer(vec![1]));
        trigger.fire();
        task.await.unwrap();
        drop(c);
    }

    fn feed(s: &mut LineSplitter, chunks: &[&str]) -> Vec<Overlong> {
        let mut over = Vec::new();
        for c in chunks {
            s.push(c.as_bytes(), &mut over);
        }
        over
    }

    #[test]
    fn lines_split_across_reads_are_joined() {
        let mut s = LineSplitter::new(100);
        let over = feed(&mut s, &["cpu v=1 1\ncp", "u v=2", " 2\nmem v"]);
        assert!(over.is_empty());
        assert_eq!(s.lines(), 2);
        assert_eq!(s.take_lines(), b"cpu v=1 1\ncpu v=2 2\n");
        assert_eq!(s.lines(), 0);
        feed(&mut s, &["=3 3\n"]);
        assert_eq!(s.take_lines(), b"mem v=3 3\n");
    }

    #[test]
    fn overlong_line_is_skipped_to_its_newline_and_the_rest_kept() {
        let mut s = LineSplitter::new(10);
        let long = "x".repeat(25);
        // The long line arrives in pieces, none with a newline, then its end and a good line.
        let over = feed(
            &mut s,
            &["ok v=1\n", &long[..8], &long[8..], "tail\nok v=2\n"],
        );
        assert_eq!(over.len(), 1);
        assert!(over[0].start.starts_with("xxxxxxxx"));
        assert_eq!(s.take_lines(), b"ok v=1\nok v=2\n");
        // Within one read.
        let over = feed(&mut s, &[&format!("{long}\nok v=3\n")]);
        assert_eq!(over.len(), 1);
        assert_eq!(s.take_lines(), b"ok v=3\n");
    }

    #[test]
    fn a_line_of_exactly_max_bytes_passes() {
        let mut s = LineSplitter::new(6);
        let over = feed(&mut s, &["a v=12\na v=123\n"]);
        assert_eq!(over.len(), 1);
        assert_eq!(s.take_lines(), b"a v=12\n");
    }

    #[test]
    fn finish_keeps_an_unterminated_last_line() {
        let mut s = LineSplitter::new(100);
        feed(&mut s, &["a v=1\nb v=2"]);
        assert_eq!(s.lines(), 1);
        s.finish();
        assert_eq!(s.lines(), 2);
        assert_eq!(s.take_lines(), b"a v=1\nb v=2\n");
        s.finish();
        assert_eq!(s.lines(), 0, "finish on nothing adds no line");
    }

    #[test]
    fn limiter_allows_one_per_interval_and_counts_the_rest() {
        let mut l = LogLimiter::new(Duration::from_secs(5));
        let t0 = Instant::now();
        assert_eq!(l.check(t0), Some(0));
        assert_eq!(l.check(t0 + Duration::from_secs(1)), None);
        assert_eq!(l.check(t0 + Duration::from_secs(2)), None);
        assert_eq!(l.check(t0 + Duration::from_secs(6)), Some(2));
    }
}
