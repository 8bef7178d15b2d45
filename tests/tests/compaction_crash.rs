//! Crash safety of compaction in the real binary: every round writes acknowledged points into
//! three day partitions, flushing four times (each flush adds a segment and a rollup file to
//! every partition it touches, so every round leaves partitions to merge), asks for a compaction
//! and SIGKILLs the server a random moment after the first merge starts (before, during or
//! between the partitions' commits). Compaction is
//! throttled to 20 KiB/s so a merge takes long enough to be interrupted; the test counts the
//! rounds whose kill landed mid-merge from the killed run's log and requires enough of them.
//!
//! After every restart: every acknowledged point is there exactly once (metric and event
//! measurements), and every series' rollup totals (count, sum, min, max over the whole range,
//! served by the tiers) equal the totals of its raw points.
//!
//! `TALLY_COMPACT_CRASH_SEED` and `TALLY_COMPACT_CRASH_ROUNDS` override the seed and rounds.
#![allow(clippy::unwrap_used)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::thread;
use std::time::{Duration, Instant};
use tally_tests::{request, Tally};

/// 2023-11-14T22:13:20Z.
const BASE: i64 = 1_700_000_000_000_000_000;
const DAY: i64 = 86_400_000_000_000;
const SECOND: i64 = 1_000_000_000;
/// Enough that at least 20 kills land mid-merge (about 85% do).
const DEFAULT_ROUNDS: u32 = 30;
const POINTS_PER_ROUND: u64 = 1200;

/// Series `seq % 3` lives in day `seq % 3`; metric timestamps are unique per seq, event
/// timestamps shared by two seqs (events keep both).
fn lines_for(first: u64, len: u64) -> String {
    let mut body = String::new();
    for seq in first..first + len {
        let day = BASE + (seq % 3) as i64 * DAY;
        let _ = writeln!(
            body,
            "cm,w=w{} seq={seq}i {}",
            seq % 3,
            day + (seq / 3) as i64 * SECOND
        );
        let _ = writeln!(
            body,
            "requests,endpoint=/e{} seq={seq}i,latency_ms={}.5 {}",
            seq % 3,
            seq % 500,
            day + (seq / 6) as i64 * SECOND
        );
    }
    body
}

/// Per series tag value: the seqs stored, from `/debug/points`.
fn raw_seqs(tally: &Tally, measurement: &str, tag: &str, round: u32) -> BTreeMap<String, Vec<i64>> {
    let mut out = BTreeMap::new();
    for s in tally
        .points(measurement)
        .unwrap_or_else(|e| panic!("round {round}: reading {measurement}: {e:#}"))
    {
        let key = s.tag(tag).unwrap().to_owned();
        let seqs = s.field("seq").unwrap().i64s().unwrap();
        out.entry(key).or_insert_with(Vec::new).extend(seqs);
    }
    out
}

/// Per series tag value: (count, sum, min, max) of `seq` from `/debug/rollup` over everything.
fn rollup_totals(
    tally: &Tally,
    measurement: &str,
    tag: &str,
    round: u32,
) -> BTreeMap<String, (u64, i64, i64, i64)> {
    let path = format!(
        "/debug/rollup?measurement={measurement}&field=seq&from={}&to={}",
        BASE - DAY,
        BASE + 10 * DAY
    );
    let r = tally.get(&path).unwrap();
    assert_eq!(r.status, 200, "round {round}: {}", r.text());
    let v: Value = r.json().unwrap();
    let served: Vec<&str> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["level"].as_str())
        .collect();
    assert!(
        served.iter().any(|l| *l != "raw"),
        "round {round}: no rollup tier served {measurement}: {served:?}"
    );
    let mut out = BTreeMap::new();
    for s in v["groups"].as_array().unwrap() {
        let key = s["tags"][tag].as_str().unwrap().to_owned();
        let buckets = s["fields"]["seq"].as_array().unwrap();
        assert_eq!(
            buckets.len(),
            1,
            "round {round}: one bucket for the whole range"
        );
        let b = &buckets[0];
        out.insert(
            key,
            (
                b["count"].as_u64().unwrap(),
                b["sum"].as_f64().unwrap() as i64,
                b["min"].as_f64().unwrap() as i64,
                b["max"].as_f64().unwrap() as i64,
            ),
        );
    }
    out
}

fn verify(tally: &Tally, round: u32, written: u64) {
    for (m, tag) in [("cm", "w"), ("requests", "endpoint")] {
        let raw = raw_seqs(tally, m, tag, round);
        let mut seen = vec![0u32; written as usize];
        for seqs in raw.values() {
            for &s in seqs {
                let s = usize::try_from(s).unwrap();
                assert!(
                    s < seen.len(),
                    "round {round}: {m} seq {s} was never written"
                );
                seen[s] += 1;
            }
        }
        let wrong: Vec<(usize, u32)> = seen
            .iter()
            .enumerate()
            .filter(|(_, &n)| n != 1)
            .map(|(s, &n)| (s, n))
            .take(10)
            .collect();
        assert!(
            wrong.is_empty(),
            "round {round}: {m} acknowledged seqs not there exactly once (seq, times): {wrong:?}"
        );
        let want: BTreeMap<String, (u64, i64, i64, i64)> = raw
            .iter()
            .map(|(k, seqs)| {
                (
                    k.clone(),
                    (
                        seqs.len() as u64,
                        seqs.iter().sum(),
                        *seqs.iter().min().unwrap(),
                        *seqs.iter().max().unwrap(),
                    ),
                )
            })
            .collect();
        let got = rollup_totals(tally, m, tag, round);
        assert_eq!(
            got, want,
            "round {round}: {m} rollup totals differ from raw"
        );
    }
}

#[test]
fn killing_the_server_during_compaction_loses_and_double_counts_nothing() {
    let seed: u64 = std::env::var("TALLY_COMPACT_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0xC0_4AC7);
    let rounds: u32 = std::env::var("TALLY_COMPACT_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS);
    eprintln!("compaction crash test: seed {seed}, {rounds} rounds");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tally = Tally::start_with_config("[storage]\ncompaction_mb_per_s = 0.02\n").unwrap();
    let mut written = 0u64;
    let mut mid_merge = 0;
    for round in 1..=rounds {
        // Four flushes: every partition gets four new segments and rollup files, so every
        // round has merges to do.
        for _ in 0..4 {
            tally
                .write_ok(&lines_for(written, POINTS_PER_ROUND / 4))
                .unwrap();
            written += POINTS_PER_ROUND / 4;
            let r = tally.flush().unwrap();
            assert_eq!(r.status, 200, "round {round}: flush: {}", r.text());
        }
        let before = tally.log_lines(&["compacting a partition"]).len();
        let addr = tally.http_addr();
        let compactor = thread::spawn(move || {
            let _ = request(
                addr,
                "POST",
                "/admin/compact",
                &[],
                b"",
                Duration::from_secs(60),
            );
        });
        // Wait (briefly) for a merge to start, so most kills land in one; rounds without a
        // merge to do are killed anyway.
        let deadline = Instant::now() + Duration::from_millis(400);
        while tally.log_lines(&["compacting a partition"]).len() == before
            && Instant::now() < deadline
        {
            thread::sleep(Duration::from_millis(5));
        }
        thread::sleep(Duration::from_millis(rng.gen_range(0..2500)));
        tally.kill();
        let _ = compactor.join();
        let started = tally.log_lines(&["compacting a partition"]).len();
        let finished = tally.log_lines(&["compacted a partition"]).len();
        if started > finished {
            mid_merge += 1;
        }
        eprintln!("round {round}: started {started} finished {finished}");
        tally
            .restart()
            .unwrap_or_else(|e| panic!("round {round}: restart failed: {e:#}"));
        verify(&tally, round, written);
    }
    // Settle: a full compaction after the last restart must also leave everything exact.
    let r = tally.post("/admin/compact", b"").unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    verify(&tally, rounds + 1, written);
    eprintln!("compaction crash test: {rounds} kills, {mid_merge} during a merge");
    assert!(
        mid_merge * 3 >= rounds * 2,
        "only {mid_merge} of {rounds} kills landed during a merge; the test is not exercising compaction"
    );
}
