//! Crash consistency of the real binary: two writer threads stream identifiable points while the
//! server is killed with SIGKILL at random moments; after every restart each acknowledged point
//! must be there exactly once, and no point may ever be there twice.
//!
//! Every point carries its sequence number `seq`:
//! - `crash,w=w{seq%4} seq={seq}i,v={seq}.5 {BASE + seq*STEP}`: a metric with one timestamp per
//!   seq. Timestamps advance one minute per seq, so the data spans several daily partitions and
//!   flushes write several segments.
//! - `requests,key=k{seq%2},endpoint=/crash seq={seq}i {BASE + (seq/4)*STEP}`: an event stream
//!   where every series holds two points per timestamp. Events are never deduplicated, so a WAL
//!   record replayed twice, or a point both in a segment and in the replayed WAL, shows up as a
//!   duplicate here.
//!
//! Some rounds flush (`/admin/flush`) between or during the writes, so the kill also lands in the
//! middle of flushes and WAL trimming; a few rounds stop gracefully (SIGTERM) instead.
//!
//! `TALLY_CRASH_SEED` and `TALLY_CRASH_ROUNDS` override the seed and the number of rounds.

// Test code: a panic with the failed call's error is the failure report, helpers included
// (clippy's allow-unwrap-in-tests only covers #[test] functions themselves).
#![allow(clippy::unwrap_used)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use tally_tests::{request, Series, Tally};

/// 2023-11-14T22:13:20Z.
const BASE: i64 = 1_700_000_000_000_000_000;
/// One minute.
const STEP: i64 = 60_000_000_000;
/// SIGKILL rounds; the graceful rounds come on top.
const DEFAULT_KILL_ROUNDS: u32 = 24;
/// Concurrent writer threads.
const WRITERS: usize = 2;
/// Every this many rounds, stop with SIGTERM instead of SIGKILL.
const GRACEFUL_EVERY: u32 = 9;

/// What became of one batch the writer sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// 204 received: every point in it must be there exactly once.
    Acked,
    /// Sent (perhaps partly) but not acknowledged: each point there at most once.
    Unknown,
}

#[derive(Debug, Clone, Copy)]
struct Batch {
    first: u64,
    len: u64,
    fate: Fate,
}

fn lines_for(first: u64, len: u64) -> String {
    let mut body = String::new();
    for seq in first..first + len {
        let ts = BASE + seq as i64 * STEP;
        let ets = BASE + (seq / 4) as i64 * STEP;
        let _ = writeln!(body, "crash,w=w{} seq={seq}i,v={seq}.5 {ts}", seq % 4);
        let _ = writeln!(
            body,
            "requests,key=k{},endpoint=/crash seq={seq}i {ets}",
            seq % 2
        );
    }
    body
}

/// Writes batches until `stop` is set or the server stops answering; returns every batch sent
/// and any unexpected HTTP answer. Several writers share `next_seq`, so their batches interleave
/// in the WAL and one fsync may cover batches of both (group commit).
fn writer(
    tally_addr: std::net::SocketAddr,
    next_seq: Arc<AtomicU64>,
    seed: u64,
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicU64>,
) -> (Vec<Batch>, Vec<String>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut batches = Vec::new();
    let mut problems = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let len = rng.gen_range(1..=40u64);
        let first = next_seq.fetch_add(len, Ordering::SeqCst);
        let body = lines_for(first, len);
        let res = request(
            tally_addr,
            "POST",
            "/write",
            &[],
            body.as_bytes(),
            Duration::from_secs(30),
        );
        let fate = match &res {
            Ok(r) if r.status == 204 => Fate::Acked,
            _ => Fate::Unknown,
        };
        batches.push(Batch { first, len, fate });
        match res {
            Ok(r) if r.status == 204 => {
                acked.fetch_add(1, Ordering::SeqCst);
            }
            // A graceful stop may refuse writes that arrive while it drains.
            Ok(r) if r.status == 503 && stop.load(Ordering::SeqCst) => break,
            Ok(r) => {
                problems.push(format!("/write answered {}: {}", r.status, r.text()));
                break;
            }
            // The server was killed under us (or the connection broke): stop writing.
            Err(_) => break,
        }
    }
    (batches, problems)
}

/// Counts, per seq, how often it appears in each measurement, checking each point's timestamp,
/// tags and values against what was written.
fn census(tally: &Tally, round: u32) -> (HashMap<u64, u32>, HashMap<u64, u32>) {
    let crash = tally
        .points("crash")
        .unwrap_or_else(|e| panic!("round {round}: reading crash: {e:#}"));
    let requests = tally
        .points("requests")
        .unwrap_or_else(|e| panic!("round {round}: reading requests: {e:#}"));
    let mut metric = HashMap::new();
    for s in &crash {
        check_metric_series(s, round, &mut metric);
    }
    let mut events = HashMap::new();
    for s in &requests {
        check_event_series(s, round, &mut events);
    }
    (metric, events)
}

fn check_metric_series(s: &Series, round: u32, counts: &mut HashMap<u64, u32>) {
    let Some(seqs) = s.field("seq") else {
        panic!("round {round}: crash series {:?} has no seq column", s.tags);
    };
    let vals = seqs.i64s().expect("seq is an integer column");
    let v: HashMap<i64, f64> = s
        .field("v")
        .map(|c| {
            c.ts.iter()
                .copied()
                .zip(c.f64s().expect("v is float"))
                .collect()
        })
        .unwrap_or_default();
    for (ts, seq) in seqs.ts.iter().copied().zip(vals) {
        let seq = u64::try_from(seq).expect("seq >= 0");
        assert_eq!(
            ts,
            BASE + seq as i64 * STEP,
            "round {round}: seq {seq} at wrong time"
        );
        assert_eq!(
            s.tag("w"),
            Some(format!("w{}", seq % 4).as_str()),
            "round {round}: seq {seq} in wrong series"
        );
        assert_eq!(
            v.get(&ts).copied(),
            Some(seq as f64 + 0.5),
            "round {round}: seq {seq} has a wrong or missing v"
        );
        *counts.entry(seq).or_default() += 1;
    }
}

fn check_event_series(s: &Series, round: u32, counts: &mut HashMap<u64, u32>) {
    let Some(seqs) = s.field("seq") else {
        panic!(
            "round {round}: requests series {:?} has no seq column",
            s.tags
        );
    };
    let vals = seqs.i64s().expect("seq is an integer column");
    for (ts, seq) in seqs.ts.iter().copied().zip(vals) {
        let seq = u64::try_from(seq).expect("seq >= 0");
        assert_eq!(
            ts,
            BASE + (seq / 4) as i64 * STEP,
            "round {round}: event seq {seq} at wrong time"
        );
        assert_eq!(
            s.tag("key"),
            Some(format!("k{}", seq % 2).as_str()),
            "round {round}: event seq {seq} in wrong series"
        );
        *counts.entry(seq).or_default() += 1;
    }
}

/// Checks the store against `history`; `settled` remembers, for unacknowledged seqs, whether
/// they were there at the first look: after that they must neither vanish nor reappear.
fn verify(
    tally: &Tally,
    round: u32,
    history: &[Batch],
    sent_up_to: u64,
    settled: &mut HashMap<u64, (bool, bool)>,
) {
    let (metric, events) = census(tally, round);
    let mut fate_of = HashMap::new();
    for b in history {
        for seq in b.first..b.first + b.len {
            fate_of.insert(seq, b.fate);
        }
    }
    for (what, counts) in [("crash", &metric), ("requests", &events)] {
        for (&seq, &n) in counts {
            assert!(
                seq < sent_up_to && fate_of.contains_key(&seq),
                "round {round}: {what} seq {seq} is there but was never sent"
            );
            assert_eq!(n, 1, "round {round}: {what} seq {seq} is there {n} times");
        }
    }
    let mut missing = Vec::new();
    let mut changed = Vec::new();
    for (&seq, &fate) in &fate_of {
        let now = (metric.contains_key(&seq), events.contains_key(&seq));
        if fate == Fate::Unknown {
            let first = *settled.entry(seq).or_insert(now);
            if first != now {
                changed.push(format!(
                    "seq {seq}: (crash, requests) present {first:?} before, {now:?} now"
                ));
            }
        }
        if fate == Fate::Acked {
            if !metric.contains_key(&seq) {
                missing.push(format!("crash seq {seq}"));
            }
            if !events.contains_key(&seq) {
                missing.push(format!("requests seq {seq}"));
            }
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "round {round}: {} acknowledged points lost, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    changed.sort();
    assert!(
        changed.is_empty(),
        "round {round}: {} unacknowledged points changed presence across restarts, e.g. {:?}",
        changed.len(),
        &changed[..changed.len().min(10)]
    );
}

#[test]
fn every_acknowledged_point_survives_sigkill_exactly_once() {
    let seed: u64 = std::env::var("TALLY_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x7A11_2026);
    let kill_rounds: u32 = std::env::var("TALLY_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_KILL_ROUNDS);
    eprintln!("crash test: seed {seed}, {kill_rounds} SIGKILL rounds (TALLY_CRASH_SEED to replay)");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tally = Tally::start().unwrap();
    let mut history: Vec<Batch> = Vec::new();
    let next_seq = Arc::new(AtomicU64::new(0));
    let mut settled = HashMap::new();
    let (mut kills, mut graceful, mut flushes) = (0u32, 0u32, 0u32);
    let started = Instant::now();

    let mut round = 0;
    while kills < kill_rounds {
        round += 1;
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicU64::new(0));
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                let (addr, stop, acked) = (tally.http_addr(), stop.clone(), acked.clone());
                let (next_seq, wseed) = (next_seq.clone(), rng.gen());
                thread::spawn(move || writer(addr, next_seq, wseed, stop, acked))
            })
            .collect();
        // Let at least one batch land so every round has something at stake.
        let wait_until = Instant::now() + Duration::from_secs(30);
        while acked.load(Ordering::SeqCst) == 0
            && Instant::now() < wait_until
            && !writers.iter().all(|w| w.is_finished())
        {
            thread::sleep(Duration::from_millis(2));
        }
        let delay = Duration::from_millis(rng.gen_range(0..400));
        // Sometimes flush while writing, so the kill can land mid-flush.
        let flusher = if rng.gen_ratio(1, 3) {
            let addr = tally.http_addr();
            let after = Duration::from_millis(rng.gen_range(0..=delay.as_millis() as u64));
            Some(thread::spawn(move || {
                thread::sleep(after);
                let _ = request(
                    addr,
                    "POST",
                    "/admin/flush",
                    &[],
                    b"",
                    Duration::from_secs(60),
                );
            }))
        } else {
            None
        };
        thread::sleep(delay);
        assert!(
            tally.is_running(),
            "round {round}: tally died on its own while writing; stderr:\n{}",
            tally.stderr()
        );
        let is_graceful = round % GRACEFUL_EVERY == 0;
        if is_graceful {
            stop.store(true, Ordering::SeqCst);
            let status = tally.terminate().unwrap();
            assert!(
                status.success(),
                "round {round}: SIGTERM exit status {status}"
            );
            graceful += 1;
        } else {
            tally.kill();
            kills += 1;
        }
        stop.store(true, Ordering::SeqCst);
        for w in writers {
            let (batches, problems) = w.join().expect("writer thread panicked");
            assert!(problems.is_empty(), "round {round}: {problems:?}");
            history.extend(batches);
        }
        if let Some(f) = flusher {
            let _ = f.join();
        }
        let next = next_seq.load(Ordering::SeqCst);

        tally
            .restart()
            .unwrap_or_else(|e| panic!("round {round}: restart failed: {e:#}"));
        verify(&tally, round, &history, next, &mut settled);

        // Acknowledged state is now known exactly; unknown batches are settled too (present or
        // not), so a second check after a flush must find the same.
        if rng.gen_ratio(1, 3) {
            tally
                .flush()
                .unwrap_or_else(|e| panic!("round {round}: flush failed: {e:#}"));
            flushes += 1;
            verify(&tally, round, &history, next, &mut settled);
        }
    }
    let acked_batches = history.iter().filter(|b| b.fate == Fate::Acked).count();
    let compactions = tally.log_lines_all_runs(&["compacted a partition"]).len();
    eprintln!(
        "crash test: {round} rounds ({kills} SIGKILL, {graceful} SIGTERM), {flushes} flushes \
         between rounds, {compactions} compactions, {acked_batches}/{} batches acknowledged, \
         {} seqs, {:?}",
        history.len(),
        next_seq.load(Ordering::SeqCst),
        started.elapsed()
    );
    assert!(
        acked_batches >= kill_rounds as usize,
        "too few writes were acknowledged to mean anything"
    );
}
