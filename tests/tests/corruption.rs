//! Damaged files on disk: the server starts anyway, says what it quarantined or truncated, and
//! serves everything the damage did not touch.
//!
//! - A flipped byte in a segment file: the file is moved to `<data>/quarantine/` with a log line
//!   naming it; the other segments and the WAL keep serving.
//! - A flipped byte in, or a cut through, the last record of the newest WAL file: the tail is
//!   truncated with a log line naming the file; the records before it are served, new writes are
//!   accepted and survive another SIGKILL (so the cut really happened on disk).

// Test code: a panic with the failed call's error is the failure report, helpers included
// (clippy's allow-unwrap-in-tests only covers #[test] functions themselves).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use tally_tests::{corrupt_byte, newest_file, segment_files, wal_files, Tally};

const DAY: i64 = 86_400_000_000_000;
/// 2024-01-01T00:00:00Z.
const BASE: i64 = 1_704_067_200_000_000_000;

/// `n` points of measurement `m`, tag `part=part`, one per minute of day `day`, field `n`
/// counting from `first`.
fn day_lines(m: &str, part: &str, day: i64, first: i64, n: i64) -> String {
    let mut s = String::new();
    for i in 0..n {
        let ts = BASE + day * DAY + i * 60_000_000_000;
        let _ = writeln!(
            s,
            "{m},part={part} n={}i,x={}.25 {ts}",
            first + i,
            first + i
        );
    }
    s
}

/// The values of field `n` of measurement `m` for tag `part`.
fn ns(tally: &Tally, m: &str, part: &str) -> BTreeSet<i64> {
    let series = tally.points(m).unwrap();
    let mut out = BTreeSet::new();
    for s in series.iter().filter(|s| s.tag("part") == Some(part)) {
        let col = s.field("n").expect("series has an n column");
        for v in col.i64s().unwrap() {
            assert!(out.insert(v), "{m} part={part} n={v} is served twice");
        }
    }
    out
}

fn range(first: i64, n: i64) -> BTreeSet<i64> {
    (first..first + n).collect()
}

fn name_of(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Writes `lines` and flushes; returns the segment files the flush created.
fn write_and_flush(tally: &Tally, lines: &str) -> Vec<PathBuf> {
    let before: BTreeSet<PathBuf> = segment_files(tally.data_dir())
        .unwrap()
        .into_iter()
        .collect();
    tally.write_ok(lines).unwrap();
    tally.flush().unwrap();
    let after = segment_files(tally.data_dir()).unwrap();
    let new: Vec<PathBuf> = after.into_iter().filter(|p| !before.contains(p)).collect();
    assert!(
        !new.is_empty(),
        "a flush of new points created no segment file under {}",
        tally.data_dir().join("segments").display()
    );
    new
}

#[test]
fn corrupt_segment_is_quarantined_and_the_rest_is_served() {
    corrupt_segment_scenario("middle", |len| len / 2);
}

#[test]
fn segment_with_a_damaged_footer_is_quarantined() {
    corrupt_segment_scenario("last byte", |len| len - 1);
}

#[test]
fn segment_with_a_damaged_header_is_quarantined() {
    corrupt_segment_scenario("magic", |_| 0);
}

/// Three flushed days and some WAL-only points; one day's segment gets the byte at
/// `offset(len)` inverted while the server is down.
fn corrupt_segment_scenario(what: &str, offset: fn(u64) -> u64) {
    eprintln!("segment damaged at: {what}");
    let mut tally = Tally::start().unwrap();
    let seg_a = write_and_flush(&tally, &day_lines("seg", "a", 0, 0, 300));
    let seg_b = write_and_flush(&tally, &day_lines("seg", "b", 3, 1000, 300));
    let seg_c = write_and_flush(&tally, &day_lines("seg", "c", 6, 2000, 300));
    // Still in the WAL only: must survive the kill and the quarantine next door.
    tally
        .write_ok(&day_lines("seg", "wal", 9, 3000, 50))
        .unwrap();
    tally.kill();

    assert_eq!(
        seg_b.len(),
        1,
        "one day of points should make one segment: {seg_b:?}"
    );
    let victim = seg_b[0].clone();
    let len = fs::metadata(&victim).unwrap().len();
    corrupt_byte(&victim, offset(len)).unwrap();

    tally.restart().unwrap();
    let name = name_of(&victim);
    let lines = tally.warnings(&["quarantined", &victim.display().to_string()]);
    assert!(
        !lines.is_empty(),
        "no WARN/ERROR log line says {} was quarantined; log:\n{}",
        victim.display(),
        tally.stderr()
    );
    assert!(!victim.exists(), "{} is still in place", victim.display());
    let qdir = tally.data_dir().join("quarantine");
    let moved: Vec<String> = fs::read_dir(&qdir)
        .unwrap_or_else(|e| panic!("{}: {e}", qdir.display()))
        .map(|e| name_of(&e.unwrap().path()))
        .collect();
    assert!(
        moved.iter().any(|m| m.starts_with(&name)),
        "{name} is not in {}: {moved:?}",
        qdir.display()
    );
    let health = tally.health().unwrap();
    assert_eq!(health["status"], "ok", "/health: {health}");

    assert_eq!(
        ns(&tally, "seg", "a"),
        range(0, 300),
        "segment {seg_a:?} lost points"
    );
    assert_eq!(
        ns(&tally, "seg", "c"),
        range(2000, 300),
        "segment {seg_c:?} lost points"
    );
    assert_eq!(ns(&tally, "seg", "wal"), range(3000, 50), "WAL points lost");
    let b = ns(&tally, "seg", "b");
    assert!(
        b.is_subset(&range(1000, 300)),
        "the quarantined segment's day serves points never written: {b:?}"
    );

    // New writes still work, and a clean restart does not quarantine anything again.
    tally
        .write_ok(&day_lines("seg", "after", 12, 4000, 10))
        .unwrap();
    let status = tally.terminate().unwrap();
    assert!(status.success(), "SIGTERM exit status {status}");
    tally.restart().unwrap();
    assert!(
        tally.warnings(&["quarantined"]).is_empty(),
        "second start quarantined again:\n{}",
        tally.stderr()
    );
    assert_eq!(ns(&tally, "seg", "a"), range(0, 300));
    assert_eq!(ns(&tally, "seg", "c"), range(2000, 300));
    assert_eq!(ns(&tally, "seg", "wal"), range(3000, 50));
    assert_eq!(ns(&tally, "seg", "after"), range(4000, 10));
}

/// How the newest WAL file is damaged before the restart.
#[derive(Debug, Clone, Copy)]
enum WalDamage {
    /// Invert one byte inside the last record.
    FlipNearEnd,
    /// Cut the file in the middle of the last record.
    TruncateMidRecord,
}

fn damaged_wal_tail_is_truncated_and_the_rest_is_served(damage: WalDamage) {
    let mut tally = Tally::start().unwrap();
    // Five small batches (five WAL records), then a large last one that the damage lands in.
    for k in 0..5 {
        tally
            .write_ok(&day_lines("walt", "early", k, k * 100, 20))
            .unwrap();
    }
    tally
        .write_ok(&day_lines("walt", "last", 5, 10_000, 400))
        .unwrap();
    tally.kill();

    let wals = wal_files(tally.data_dir()).unwrap();
    let wal = newest_file(&wals).unwrap_or_else(|| {
        panic!(
            "no non-empty *.wal file under {}",
            tally.data_dir().join("wal").display()
        )
    });
    let len = fs::metadata(&wal).unwrap().len();
    assert!(
        len > 200,
        "{} is only {len} bytes after 500 points",
        wal.display()
    );
    match damage {
        WalDamage::FlipNearEnd => corrupt_byte(&wal, len - 20).unwrap(),
        WalDamage::TruncateMidRecord => {
            let f = fs::OpenOptions::new().write(true).open(&wal).unwrap();
            f.set_len(len - 40).unwrap();
            f.sync_all().unwrap();
        }
    }

    tally.restart().unwrap();
    assert!(
        !tally
            .warnings(&["truncated", &wal.display().to_string()])
            .is_empty(),
        "{damage:?}: no WARN/ERROR log line says {} was truncated; log:\n{}",
        wal.display(),
        tally.stderr()
    );
    let health = tally.health().unwrap();
    assert_eq!(health["status"], "ok", "/health: {health}");
    let reported = &health["recovery"]["wal_truncated"];
    assert!(
        reported
            .as_array()
            .is_some_and(|a| a.iter().any(|t| t["file"] == wal.display().to_string())),
        "{damage:?}: /health recovery does not list {} as truncated: {health}",
        wal.display()
    );
    let mut early = BTreeSet::new();
    for k in 0..5 {
        early.extend(range(k * 100, 20));
    }
    assert_eq!(
        ns(&tally, "walt", "early"),
        early,
        "{damage:?}: records before the damage were not all served"
    );
    assert_eq!(
        ns(&tally, "walt", "last"),
        BTreeSet::new(),
        "{damage:?}: the damaged record was (partly) served"
    );

    // New writes land behind the cut and survive another crash.
    tally
        .write_ok(&day_lines("walt", "after", 7, 50_000, 30))
        .unwrap();
    assert_eq!(ns(&tally, "walt", "after"), range(50_000, 30));
    tally.kill();
    tally.restart().unwrap();
    assert_eq!(
        ns(&tally, "walt", "after"),
        range(50_000, 30),
        "{damage:?}: writes acknowledged after the truncation were lost by the next crash; log:\n{}",
        tally.stderr()
    );
    assert_eq!(ns(&tally, "walt", "early"), early);
    assert!(
        tally.warnings(&["truncated"]).is_empty(),
        "{damage:?}: the WAL was truncated again on the second start:\n{}",
        tally.stderr()
    );
}

#[test]
fn flipped_byte_in_wal_tail_is_truncated() {
    damaged_wal_tail_is_truncated_and_the_rest_is_served(WalDamage::FlipNearEnd);
}

#[test]
fn torn_wal_record_is_truncated() {
    damaged_wal_tail_is_truncated_and_the_rest_is_served(WalDamage::TruncateMidRecord);
}
