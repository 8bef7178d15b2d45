//! The server's own counters and their Prometheus text rendering for `GET /metrics`.
//!
//! Counters are plain atomics bumped on the request path; nothing here allocates per request
//! except the first request of a new (route, status) pair.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;
use tally_engine::rollup::Tier;
use tally_engine::Stats;

/// Where points arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// `POST /write` and `/api/v2/write`.
    Http,
    /// The TCP line-protocol listener.
    Tcp,
}

impl Source {
    fn index(self) -> usize {
        self as usize
    }

    fn label(self) -> &'static str {
        match self {
            Source::Http => "http",
            Source::Tcp => "tcp",
        }
    }

    const ALL: [Source; 2] = [Source::Http, Source::Tcp];
}

/// Upper bounds of the write-latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A fixed-bucket histogram of durations.
#[derive(Debug, Default)]
pub(crate) struct Histogram {
    /// Observations per bucket (not cumulative); the last slot is `+Inf`.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Histogram {
    /// Records one duration.
    pub(crate) fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = LATENCY_BUCKETS
            .iter()
            .position(|&b| secs <= b)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[i].fetch_add(1, Relaxed);
        self.count.fetch_add(1, Relaxed);
        self.sum_ns
            .fetch_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            cumulative += b.load(Relaxed);
            let le = LATENCY_BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), |b| b.to_string());
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let sum = self.sum_ns.load(Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {}", self.count.load(Relaxed));
    }
}

/// The server's counters.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// Requests by (route label, status code). Route labels are a fixed set, so this stays small.
    http_requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    lines_accepted: [AtomicU64; 2],
    lines_rejected: [AtomicU64; 2],
    bytes_received: [AtomicU64; 2],
    write_errors: [AtomicU64; 2],
    tcp_connections: AtomicU64,
    tcp_connections_open: AtomicU64,
    /// Time from a parsed-ready body to the engine's acknowledgement (parse + WAL + head).
    pub(crate) write_latency: Histogram,
}

impl Metrics {
    /// Counts one answered HTTP request.
    pub(crate) fn http_request(&self, route: &'static str, status: u16) {
        let mut m = self
            .http_requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *m.entry((route, status)).or_insert(0) += 1;
    }

    /// Counts the outcome of one parsed body or TCP batch.
    pub(crate) fn lines(&self, source: Source, accepted: u64, rejected: u64) {
        self.lines_accepted[source.index()].fetch_add(accepted, Relaxed);
        self.lines_rejected[source.index()].fetch_add(rejected, Relaxed);
    }

    /// Counts bytes read off the wire (before decompression).
    pub(crate) fn bytes(&self, source: Source, n: u64) {
        self.bytes_received[source.index()].fetch_add(n, Relaxed);
    }

    /// Counts a batch the engine refused.
    pub(crate) fn write_error(&self, source: Source) {
        self.write_errors[source.index()].fetch_add(1, Relaxed);
    }

    /// Counts an accepted TCP connection; call [`Metrics::tcp_closed`] when it ends.
    pub(crate) fn tcp_opened(&self) {
        self.tcp_connections.fetch_add(1, Relaxed);
        self.tcp_connections_open.fetch_add(1, Relaxed);
    }

    /// Counts a TCP connection that ended.
    pub(crate) fn tcp_closed(&self) {
        self.tcp_connections_open.fetch_sub(1, Relaxed);
    }

    /// Lines accepted so far from `source`.
    #[cfg(test)]
    pub(crate) fn accepted(&self, source: Source) -> u64 {
        self.lines_accepted[source.index()].load(Relaxed)
    }

    /// Lines rejected so far from `source`.
    #[cfg(test)]
    pub(crate) fn rejected(&self, source: Source) -> u64 {
        self.lines_rejected[source.index()].load(Relaxed)
    }

    /// The Prometheus text exposition of the server's counters and the engine's `stats`.
    pub(crate) fn render(&self, stats: &Stats, uptime: Duration) -> String {
        let mut out = String::with_capacity(4096);
        let version = env!("CARGO_PKG_VERSION");
        let _ = writeln!(
            out,
            "# HELP tally_build_info Tally version, as a label.\n\
             # TYPE tally_build_info gauge\ntally_build_info{{version=\"{version}\"}} 1"
        );
        let _ = writeln!(
            out,
            "# HELP tally_uptime_seconds Seconds since the server started.\n\
             # TYPE tally_uptime_seconds gauge\ntally_uptime_seconds {}",
            uptime.as_secs_f64()
        );

        // Engine.
        counter(
            &mut out,
            "tally_points_written_total",
            "Points the engine accepted since start.",
            stats.points_written,
        );
        counter(
            &mut out,
            "tally_batches_written_total",
            "Batches the engine accepted since start.",
            stats.batches_written,
        );
        counter(
            &mut out,
            "tally_flushes_total",
            "Head flushes completed since start.",
            stats.flushes,
        );
        counter(
            &mut out,
            "tally_flush_errors_total",
            "Head flushes that failed since start (they are retried).",
            stats.flush_errors,
        );
        counter(
            &mut out,
            "tally_compactions_total",
            "Partitions whose segments were merged into one since start.",
            stats.compactions,
        );
        counter(
            &mut out,
            "tally_compaction_errors_total",
            "Compactions that failed since start (retried after the next flush).",
            stats.compaction_errors,
        );
        counter(
            &mut out,
            "tally_points_rejected_total",
            "Points the engine refused since start (a field written with another type).",
            stats.points_rejected,
        );
        counter(
            &mut out,
            "tally_quarantined_files_total",
            "Files moved to quarantine since start, including at start-up.",
            stats.quarantined,
        );
        gauge1(
            &mut out,
            "tally_wal_bytes",
            "Bytes in WAL files on disk.",
            stats.wal_bytes,
        );
        gauge1(
            &mut out,
            "tally_head_points",
            "Points in the in-memory head.",
            stats.head_points,
        );
        gauge1(
            &mut out,
            "tally_head_bytes",
            "Estimated bytes of the in-memory head.",
            stats.head_bytes,
        );
        gauge1(
            &mut out,
            "tally_segments",
            "Segment files serving.",
            stats.segments,
        );
        gauge1(
            &mut out,
            "tally_segment_bytes",
            "Bytes of segment files on disk.",
            stats.segment_bytes,
        );
        gauge1(
            &mut out,
            "tally_rollup_files",
            "Rollup files serving (each holds the 1m, 1h and 1d tiers of one partition).",
            stats.rollup_files,
        );
        let by_tier: Vec<(String, u64)> = Tier::ALL
            .iter()
            .zip(stats.rollup_bytes)
            .map(|(t, b)| (format!("tier=\"{}\"", t.name()), b))
            .collect();
        labelled(
            &mut out,
            "tally_rollup_bytes",
            "gauge",
            "Compressed bytes of each rollup tier on disk.",
            &by_tier,
        );
        counter(
            &mut out,
            "tally_compaction_bytes_total",
            "Bytes compaction read and wrote since start.",
            stats.compaction_bytes,
        );
        counter(
            &mut out,
            "tally_block_cache_hits_total",
            "Rollup block reads served from the decompressed-block cache.",
            stats.block_cache.hits,
        );
        counter(
            &mut out,
            "tally_block_cache_misses_total",
            "Rollup block reads that decompressed from disk.",
            stats.block_cache.misses,
        );
        gauge1(
            &mut out,
            "tally_block_cache_bytes",
            "Bytes of decompressed rollup blocks held in the cache.",
            stats.block_cache.bytes,
        );
        gauge1(&mut out, "tally_series", "Series known.", stats.series);
        gauge1(
            &mut out,
            "tally_write_queue_depth",
            "Batches waiting for the engine's writer.",
            stats.write_queue_depth,
        );

        // HTTP.
        {
            let m = self
                .http_requests
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let _ = writeln!(
                out,
                "# HELP tally_http_requests_total HTTP requests answered, by route and status code.\n\
                 # TYPE tally_http_requests_total counter"
            );
            for ((route, code), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "tally_http_requests_total{{route=\"{route}\",code=\"{code}\"}} {n}"
                );
            }
        }

        // Ingest, by source.
        let by_source = |a: &[AtomicU64; 2]| -> Vec<(String, u64)> {
            Source::ALL
                .iter()
                .map(|s| {
                    (
                        format!("source=\"{}\"", s.label()),
                        a[s.index()].load(Relaxed),
                    )
                })
                .collect()
        };
        labelled(
            &mut out,
            "tally_write_lines_accepted_total",
            "counter",
            "Line-protocol lines parsed and written.",
            &by_source(&self.lines_accepted),
        );
        labelled(
            &mut out,
            "tally_write_lines_rejected_total",
            "counter",
            "Line-protocol lines rejected as malformed or over a limit.",
            &by_source(&self.lines_rejected),
        );
        labelled(
            &mut out,
            "tally_bytes_received_total",
            "counter",
            "Line-protocol bytes received, before decompression.",
            &by_source(&self.bytes_received),
        );
        labelled(
            &mut out,
            "tally_write_errors_total",
            "counter",
            "Batches the engine failed to store (disk or shutdown).",
            &by_source(&self.write_errors),
        );
        counter(
            &mut out,
            "tally_tcp_connections_total",
            "TCP line-protocol connections accepted.",
            self.tcp_connections.load(Relaxed),
        );
        gauge1(
            &mut out,
            "tally_tcp_connections_open",
            "TCP line-protocol connections open now.",
            self.tcp_connections_open.load(Relaxed),
        );
        self.write_latency.render(
            &mut out,
            "tally_write_duration_seconds",
            "Time to parse a write and have the engine acknowledge it.",
        );
        out
    }
}

fn counter(out: &mut String, name: &str, help: &str, v: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
    );
}

fn gauge1(out: &mut String, name: &str, help: &str, v: u64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
}

fn labelled(out: &mut String, name: &str, ty: &str, help: &str, series: &[(String, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {ty}");
    for (labels, v) in series {
        let _ = writeln!(out, "{name}{{{labels}}} {v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks every sample line belongs to a family announced by `# TYPE` and is `name{..} value`.
    fn assert_valid_exposition(text: &str) {
        let mut typed = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut it = rest.split(' ');
                typed.insert(it.next().unwrap().to_owned());
                assert!(
                    matches!(it.next(), Some("counter" | "gauge" | "histogram")),
                    "{line}"
                );
                continue;
            }
            if line.starts_with("# HELP ") {
                continue;
            }
            let (name_labels, value) = line.rsplit_once(' ').unwrap();
            value
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("bad value in {line}"));
            let name = name_labels.split('{').next().unwrap();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains(*f)))
                .unwrap_or(name);
            assert!(typed.contains(family), "sample without # TYPE: {line}");
        }
    }

    #[test]
    fn renders_valid_prometheus_text_with_counters() {
        let m = Metrics::default();
        m.http_request("/write", 204);
        m.http_request("/write", 204);
        m.http_request("/write", 400);
        m.lines(Source::Http, 8, 2);
        m.lines(Source::Tcp, 5, 0);
        m.bytes(Source::Tcp, 100);
        m.tcp_opened();
        m.write_latency.observe(Duration::from_millis(3));
        m.write_latency.observe(Duration::from_secs(60));
        let stats = Stats {
            points_written: 13,
            series: 2,
            rollup_files: 3,
            rollup_bytes: [100, 20, 5],
            compaction_bytes: 4096,
            ..Stats::default()
        };
        let text = m.render(&stats, Duration::from_secs(5));
        assert_valid_exposition(&text);
        for want in [
            "tally_http_requests_total{route=\"/write\",code=\"204\"} 2",
            "tally_http_requests_total{route=\"/write\",code=\"400\"} 1",
            "tally_write_lines_accepted_total{source=\"http\"} 8",
            "tally_write_lines_rejected_total{source=\"http\"} 2",
            "tally_write_lines_accepted_total{source=\"tcp\"} 5",
            "tally_bytes_received_total{source=\"tcp\"} 100",
            "tally_tcp_connections_total 1",
            "tally_tcp_connections_open 1",
            "tally_points_written_total 13",
            "tally_series 2",
            "tally_rollup_files 3",
            "tally_rollup_bytes{tier=\"1m\"} 100",
            "tally_rollup_bytes{tier=\"1h\"} 20",
            "tally_rollup_bytes{tier=\"1d\"} 5",
            "tally_compaction_bytes_total 4096",
            "tally_write_duration_seconds_bucket{le=\"0.005\"} 1",
            "tally_write_duration_seconds_bucket{le=\"10\"} 1",
            "tally_write_duration_seconds_bucket{le=\"+Inf\"} 2",
            "tally_write_duration_seconds_count 2",
        ] {
            assert!(text.contains(want), "missing {want} in\n{text}");
        }
        for line in text.lines().filter(|l| l.starts_with("# TYPE")) {
            if line.ends_with(" counter") {
                assert!(
                    line.split(' ').nth(2).unwrap().ends_with("_total"),
                    "{line}"
                );
            }
        }
    }
}
