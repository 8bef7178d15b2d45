//! Rollup file round trips, partial reads, the writer's contract, and damaged files.

use super::*;
use crate::cache::BlockCache;
use crate::rollup::{encode_buckets, rollup_column_with, RelativeAccuracy};
use crate::types::ColumnValues;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const MIN: i64 = 60_000_000_000;
const DAY: i64 = 24 * 60 * MIN;
/// A UTC day in 2024, so every tier's buckets lie inside the partition.
const BASE: i64 = 19_800 * DAY;
const FIELDS: [&str; 4] = ["bytes_out", "cost_usd", "latency_ms", "ok"];

fn partition() -> TimeRange {
    TimeRange::new(BASE, BASE + DAY)
}

/// Buckets of one field at `tier` from `points` random points in the partition: integers or
/// floats, with a distribution when `dist` (exact for small buckets, sketched above 32 values).
fn buckets(seed: u64, tier: Tier, points: usize, dist: bool) -> Vec<RollupBucket> {
    let mut rng = Rng(seed | 1);
    // Clustered in a few hours so some buckets get many values.
    let hours = 1 + rng.below(6) as i64;
    let first = rng.below(24 - hours as u64) as i64;
    let mut ts: Vec<i64> = (0..points)
        .map(|_| BASE + first * 60 * MIN + rng.below((hours * 60 * MIN) as u64) as i64)
        .collect();
    ts.sort_unstable();
    let values = if seed.is_multiple_of(2) {
        ColumnValues::Integer((0..points).map(|_| rng.below(10_000) as i64 - 50).collect())
    } else {
        ColumnValues::Float(
            (0..points)
                .map(|_| rng.below(1_000_000) as f64 / 7.0)
                .collect(),
        )
    };
    let accuracy = if seed.is_multiple_of(3) {
        RelativeAccuracy::DEFAULT
    } else {
        RelativeAccuracy::from_units(50).unwrap()
    };
    rollup_column_with(&ts, &values, tier, dist.then_some(accuracy))
}

/// What a file should hold: (tier, series, field) -> entry.
type Model = BTreeMap<(Tier, u32, String), RollupEntry>;

fn entry(
    series: u32,
    field: &str,
    tier: Tier,
    mode: EntryMode,
    b: Vec<RollupBucket>,
) -> RollupEntry {
    RollupEntry {
        series: SeriesId(series),
        field: field.to_owned(),
        tier,
        mode,
        buckets: b,
    }
}

/// Many series with 1-4 fields each at every tier, mixed modes, some with distributions.
fn model(seed: u64, series: u32) -> Model {
    let mut rng = Rng(seed | 1);
    let mut m = Model::new();
    for s in 0..series {
        let id = s * 3 + rng.below(3) as u32;
        for field in FIELDS {
            if rng.below(4) == 0 {
                continue;
            }
            let points = 1 + rng.below(120) as usize;
            let dist = field == "latency_ms";
            let mode = if rng.below(3) == 0 {
                EntryMode::Replace
            } else {
                EntryMode::Add
            };
            let fseed = rng.next();
            for tier in Tier::ALL {
                if rng.below(8) == 0 {
                    continue; // not every tier of every field
                }
                let b = buckets(fseed, tier, points, dist);
                m.insert(
                    (tier, id, field.to_owned()),
                    entry(id, field, tier, mode, b),
                );
            }
        }
    }
    m
}

/// Adds the model's entries in a scrambled order and writes the file.
fn write(m: &Model, seed: u64, block_size: usize, path: &Path) -> (RollupFileMeta, u64) {
    let mut all: Vec<&RollupEntry> = m.values().collect();
    let mut rng = Rng(seed | 1);
    for i in (1..all.len()).rev() {
        all.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let mut w = RollupFileWriter::new(seed, partition(), 3).with_block_size(block_size);
    for e in all {
        w.add(e.clone()).unwrap();
    }
    w.finish(path).unwrap()
}

/// Comparable form: keys and the canonical encoding of the buckets.
type Flat = Vec<(SeriesId, String, Tier, EntryMode, Vec<u8>)>;

fn flat(entries: &[RollupEntry]) -> Flat {
    entries
        .iter()
        .map(|e| {
            (
                e.series,
                e.field.clone(),
                e.tier,
                e.mode,
                encode_buckets(&e.buckets),
            )
        })
        .collect()
}

/// What `read` should return, from the model.
fn expect_read(
    m: &Model,
    series: &[SeriesId],
    fields: Option<&[&str]>,
    tier: Tier,
    range: TimeRange,
) -> Vec<RollupEntry> {
    m.values()
        .filter(|e| e.tier == tier && series.contains(&e.series))
        .filter(|e| fields.is_none_or(|f| f.contains(&e.field.as_str())))
        .filter_map(|e| {
            let b: Vec<RollupBucket> = e
                .buckets
                .iter()
                .filter(|b| range.contains(b.start))
                .cloned()
                .collect();
            (!b.is_empty()).then(|| RollupEntry {
                buckets: b,
                ..e.clone()
            })
        })
        .collect()
}

#[test]
fn round_trip_every_tier_mode_and_distribution() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("1.trup");
    let m = model(7, 60);
    let (meta, size) = write(&m, 7, 4096, &path);
    let f = RollupFile::open(&path).unwrap();
    assert_eq!(f.meta(), &meta);
    assert_eq!(f.size_bytes(), size);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), size);
    assert_eq!(f.path(), path.as_path());

    let want: Vec<RollupEntry> = m.values().cloned().collect();
    assert_eq!(flat(&f.read_all().unwrap()), flat(&want));

    // The model must exercise what it claims to.
    assert!(want.iter().any(|e| e.mode == EntryMode::Replace));
    assert!(want.iter().any(|e| e
        .buckets
        .iter()
        .any(|b| b.dist.as_ref().is_some_and(|d| d.exact_values().is_none()))));
    assert!(want.iter().any(|e| e
        .buckets
        .iter()
        .any(|b| b.dist.as_ref().is_some_and(|d| d.exact_values().is_some()))));

    assert_eq!(meta.seq, 7);
    assert_eq!(meta.partition, partition());
    assert_eq!(meta.entries, m.len() as u64);
    for (ti, tier) in Tier::ALL.into_iter().enumerate() {
        let n: usize = want
            .iter()
            .filter(|e| e.tier == tier)
            .map(|e| e.buckets.len())
            .sum();
        assert_eq!(meta.buckets[ti], n as u64, "{tier:?}");
        assert!(meta.bytes[ti] > 0);
    }
    let starts = want.iter().flat_map(|e| e.buckets.iter().map(|b| b.start));
    assert_eq!(meta.min_start, starts.clone().min().unwrap());
    assert_eq!(meta.max_start, starts.max().unwrap());

    // Per-tier bytes are exactly the blocks: with header, table, index and footer, the file.
    let blocks: u64 = f.blocks.iter().map(|b| u64::from(b.compressed_len)).sum();
    assert_eq!(meta.bytes.iter().sum::<u64>(), blocks);
    assert!(
        f.blocks.len() > 6,
        "small blocks should give several per tier"
    );

    let ids: Vec<u32> = m.values().map(|e| e.series.0).collect();
    let mut ids_sorted = ids.clone();
    ids_sorted.sort_unstable();
    ids_sorted.dedup();
    assert_eq!(f.series_ids().iter().collect::<Vec<_>>(), ids_sorted);

    // The same through from_bytes.
    let g = RollupFile::from_bytes(std::fs::read(&path).unwrap(), "mem".into()).unwrap();
    assert_eq!(g.meta(), &meta);
    assert_eq!(flat(&g.read_all().unwrap()), flat(&want));
}

#[test]
fn read_returns_exactly_the_selected_series_fields_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("2.trup");
    let m = model(11, 40);
    write(&m, 11, 2048, &path);
    let f = RollupFile::open(&path).unwrap();
    let all: Vec<SeriesId> = f.series_ids().iter().map(SeriesId).collect();
    let some: Vec<SeriesId> = all.iter().copied().step_by(3).collect();
    let with_missing: Vec<SeriesId> = (0..200).map(SeriesId).collect();
    let ranges = [
        TimeRange::ALL,
        partition(),
        TimeRange::new(BASE + 3 * 60 * MIN, BASE + 9 * 60 * MIN + 17),
        TimeRange::new(BASE + 5 * 60 * MIN, BASE + 5 * 60 * MIN + 1),
        // Bucket-aligned ends: the bucket at `end` is outside.
        TimeRange::new(BASE + 2 * 60 * MIN, BASE + 8 * 60 * MIN),
        TimeRange::new(BASE + 61 * MIN, BASE + 62 * MIN),
        TimeRange::new(BASE - DAY, BASE),
        TimeRange::new(BASE + DAY, i64::MAX),
    ];
    let field_sets: [Option<&[&str]>; 4] = [
        None,
        Some(&["latency_ms"]),
        Some(&["ok", "bytes_out", "nope"]),
        Some(&[]),
    ];
    let mut nonempty = 0;
    for tier in Tier::ALL {
        for series in [&all, &some, &with_missing, &Vec::new()] {
            for fields in field_sets {
                for range in ranges {
                    let got = f.read(series, fields, tier, range).unwrap();
                    let want = expect_read(&m, series, fields, tier, range);
                    assert_eq!(
                        flat(&got),
                        flat(&want),
                        "{tier:?} {} series {fields:?} {range:?}",
                        series.len()
                    );
                    nonempty += usize::from(!got.is_empty());
                }
            }
        }
    }
    assert!(nonempty > 30, "{nonempty}");
}

#[test]
fn a_read_decompresses_only_its_tiers_blocks_and_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("3.trup");
    let m = model(13, 80);
    write(&m, 13, 1024, &path);
    let f = RollupFile::open(&path).unwrap();
    let all: Vec<SeriesId> = f.series_ids().iter().map(SeriesId).collect();
    for (ti, tier) in Tier::ALL.into_iter().enumerate() {
        let tier_blocks = (f.tier_start[ti + 1] - f.tier_start[ti]) as u64;
        assert!(tier_blocks > 2, "{tier:?}: {tier_blocks}");
        let before = f.decompressed.load(Ordering::Relaxed);
        let got = f.read(&all, None, tier, TimeRange::ALL).unwrap();
        assert!(got.iter().all(|e| e.tier == tier));
        assert_eq!(
            f.decompressed.load(Ordering::Relaxed) - before,
            tier_blocks,
            "{tier:?}"
        );
        // Unsorted, repeated ids read the same and still decompress each block once.
        let mut scrambled = all.clone();
        scrambled.reverse();
        scrambled.extend_from_slice(&all[..5]);
        let before = f.decompressed.load(Ordering::Relaxed);
        let again = f.read(&scrambled, None, tier, TimeRange::ALL).unwrap();
        assert_eq!(flat(&again), flat(&got));
        assert_eq!(f.decompressed.load(Ordering::Relaxed) - before, tier_blocks);
    }
    // A range outside the file reads nothing at all.
    let before = f.decompressed.load(Ordering::Relaxed);
    let got = f
        .read(&all, None, Tier::Hour, TimeRange::new(0, BASE))
        .unwrap();
    assert!(got.is_empty());
    assert_eq!(f.decompressed.load(Ordering::Relaxed), before);
    // read_all decompresses every block once.
    let before = f.decompressed.load(Ordering::Relaxed);
    f.read_all().unwrap();
    assert_eq!(
        f.decompressed.load(Ordering::Relaxed) - before,
        f.blocks.len() as u64
    );
}

#[test]
fn a_shared_cache_serves_blocks_again_and_never_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let (p1, p2) = (dir.path().join("5.trup"), dir.path().join("6.trup"));
    let (m1, m2) = (model(19, 60), model(23, 60));
    write(&m1, 19, 1024, &p1);
    write(&m2, 23, 1024, &p2);
    let cache = Arc::new(BlockCache::new(64 << 20));
    let f1 = RollupFile::open(&p1)
        .unwrap()
        .with_cache(Arc::clone(&cache));
    let f2 = RollupFile::open(&p2)
        .unwrap()
        .with_cache(Arc::clone(&cache));
    let ids = |f: &RollupFile| -> Vec<SeriesId> { f.series_ids().iter().map(SeriesId).collect() };
    let first = f1
        .read(&ids(&f1), None, Tier::Minute, TimeRange::ALL)
        .unwrap();
    let cold = f1.decompressed.load(Ordering::Relaxed);
    assert!(cold > 0);
    let again = f1
        .read(&ids(&f1), None, Tier::Minute, TimeRange::ALL)
        .unwrap();
    assert_eq!(flat(&again), flat(&first));
    assert_eq!(
        f1.decompressed.load(Ordering::Relaxed),
        cold,
        "second read decompressed"
    );
    // The other file's blocks have the same numbers but are its own.
    let other = f2
        .read(&ids(&f2), None, Tier::Minute, TimeRange::ALL)
        .unwrap();
    assert!(f2.decompressed.load(Ordering::Relaxed) > 0);
    let uncached = RollupFile::open(&p2).unwrap();
    let want = uncached
        .read(&ids(&f2), None, Tier::Minute, TimeRange::ALL)
        .unwrap();
    assert_eq!(flat(&other), flat(&want));
    assert!(cache.stats().hits > 0);
}

#[test]
fn a_series_stays_in_one_block_when_it_fits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("4.trup");
    let m = model(17, 50);
    write(&m, 17, 64 * 1024, &path);
    let f = RollupFile::open(&path).unwrap();
    assert!(f.blocks.len() > 3, "{}", f.blocks.len());
    for ((tier, series, _), _) in m.iter().filter(|(k, _)| k.2 == FIELDS[0]) {
        let before = f.decompressed.load(Ordering::Relaxed);
        let got = f
            .read(&[SeriesId(*series)], None, *tier, TimeRange::ALL)
            .unwrap();
        assert!(!got.is_empty());
        assert_eq!(f.decompressed.load(Ordering::Relaxed) - before, 1);
    }
}

#[test]
fn large_blocks_decompress_through_the_streaming_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("5.trup");
    let mut m = Model::new();
    let mut rng = Rng(99);
    // 1440 minute buckets of 32 exact values each: about 400 KiB per entry.
    let ts: Vec<i64> = (0..1440 * 32).map(|i| BASE + i * (MIN / 32)).collect();
    for s in 0..4u32 {
        let v = ColumnValues::Float((0..ts.len()).map(|_| rng.below(1 << 40) as f64).collect());
        let b = rollup_column_with(&ts, &v, Tier::Minute, Some(RelativeAccuracy::DEFAULT));
        assert_eq!(b.len(), 1440);
        m.insert(
            (Tier::Minute, s, "latency_ms".into()),
            entry(s, "latency_ms", Tier::Minute, EntryMode::Add, b),
        );
    }
    write(&m, 1, 8 << 20, &path);
    let f = RollupFile::open(&path).unwrap();
    assert_eq!(f.blocks.len(), 1);
    assert!(f.blocks[0].raw_len as usize > 1 << 20);
    let want: Vec<RollupEntry> = m.values().cloned().collect();
    assert_eq!(flat(&f.read_all().unwrap()), flat(&want));
}

#[test]
fn empty_file_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.trup");
    let mut w = RollupFileWriter::new(3, partition(), 1);
    assert!(w.is_empty());
    w.add(entry(1, "x", Tier::Hour, EntryMode::Add, Vec::new()))
        .unwrap();
    assert!(w.is_empty(), "an entry without buckets is skipped");
    let (meta, size) = w.finish(&path).unwrap();
    assert_eq!(
        meta,
        RollupFileMeta {
            seq: 3,
            partition: partition(),
            entries: 0,
            buckets: [0; 3],
            bytes: [0; 3],
            min_start: i64::MAX,
            max_start: i64::MIN,
        }
    );
    assert!(size < 200, "{size}");
    let f = RollupFile::open(&path).unwrap();
    assert_eq!(f.meta(), &meta);
    assert!(f.read_all().unwrap().is_empty());
    assert!(f.series_ids().is_empty());
    let got = f
        .read(&[SeriesId(1)], None, Tier::Hour, TimeRange::ALL)
        .unwrap();
    assert!(got.is_empty());
}

#[test]
fn bucket_starts_at_the_extremes_round_trip() {
    // bucket_start saturates to i64::MIN before 1677; the largest aligned start is near i64::MAX.
    let top = Tier::Day.bucket_start(i64::MAX);
    for (tier, ts) in [
        (Tier::Minute, vec![i64::MIN, i64::MIN + 1, -1, 0, 1]),
        (Tier::Day, vec![i64::MIN, 0, i64::MAX]),
    ] {
        let b = rollup_column_with(
            &ts,
            &ColumnValues::Integer(vec![1; ts.len()]),
            tier,
            Some(RelativeAccuracy::DEFAULT),
        );
        let mut w = RollupFileWriter::new(1, TimeRange::ALL, 1);
        w.add(entry(0, "f", tier, EntryMode::Replace, b.clone()))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.trup");
        let (meta, _) = w.finish(&path).unwrap();
        assert_eq!(meta.min_start, i64::MIN);
        if tier == Tier::Day {
            assert_eq!(meta.max_start, top);
        }
        let f = RollupFile::open(&path).unwrap();
        let want = [entry(0, "f", tier, EntryMode::Replace, b)];
        assert_eq!(flat(&f.read_all().unwrap()), flat(&want));
    }
}

#[test]
fn writer_rejects_contract_violations() {
    let good = buckets(4, Tier::Minute, 50, true);
    assert!(good.len() > 2);
    let mut w = RollupFileWriter::new(1, partition(), 1);
    w.add(entry(1, "f", Tier::Minute, EntryMode::Add, good.clone()))
        .unwrap();
    let bad_input = |e: RollupFileError, needle: &str| {
        assert!(matches!(e, RollupFileError::BadInput { .. }), "{e}");
        assert!(!e.is_corruption());
        let msg = e.to_string();
        assert!(msg.contains(needle), "{msg}");
        assert!(msg.contains("series 1 field 'f' tier 1m"), "{msg}");
    };
    // The same (series, field, tier) twice, whatever the mode.
    let e = w
        .add(entry(
            1,
            "f",
            Tier::Minute,
            EntryMode::Replace,
            good.clone(),
        ))
        .unwrap_err();
    bad_input(e, "added twice");
    // Other tiers, fields and series are other entries.
    w.add(entry(
        1,
        "f",
        Tier::Hour,
        EntryMode::Add,
        buckets(4, Tier::Hour, 50, true),
    ))
    .unwrap();
    w.add(entry(1, "g", Tier::Minute, EntryMode::Add, good.clone()))
        .unwrap();
    w.add(entry(2, "f", Tier::Minute, EntryMode::Add, good.clone()))
        .unwrap();

    let mut unsorted = good.clone();
    unsorted.swap(0, 1);
    let mut repeated = good.clone();
    repeated[1].start = repeated[0].start;
    let mut unaligned = good.clone();
    unaligned[1].start += 1;
    let mut empty = good.clone();
    empty[1].agg = crate::rollup::Aggregate::new();
    let mut nan = good.clone();
    nan[0].agg.max = f64::NAN;
    let mut short_dist = good.clone();
    short_dist[0].agg.count += 1;
    let mut outside = good.clone();
    let b = outside
        .iter_mut()
        .find(|b| b.dist.as_ref().is_some_and(|d| d.exact_values().is_some()))
        .unwrap();
    let lo = b.agg.min; // every exact value is at least this
    b.agg.min = lo - 10.0;
    b.agg.max = lo - 5.0;
    let mut wrong_tier = buckets(5, Tier::Minute, 50, false);
    wrong_tier.retain(|b| Tier::Hour.bucket_start(b.start) != b.start);
    for (buckets, needle) in [
        (unsorted, "not strictly ascending"),
        (repeated, "not strictly ascending"),
        (unaligned, "not aligned to the 1m tier"),
        (empty, "is empty"),
        (nan, "must be finite"),
        (short_dist, "the distribution holds"),
        (outside, "outside the aggregate"),
    ] {
        let e = w
            .add(entry(1, "f", Tier::Minute, EntryMode::Add, buckets))
            .unwrap_err();
        bad_input(e, needle);
    }
    let e = w
        .add(entry(1, "f", Tier::Hour, EntryMode::Add, wrong_tier))
        .unwrap_err();
    assert!(e.to_string().contains("not aligned to the 1h tier"), "{e}");

    // Rejected entries left nothing behind: the file holds the four good ones.
    let dir = tempfile::tempdir().unwrap();
    let (meta, _) = w.finish(&dir.path().join("w.trup")).unwrap();
    assert_eq!(meta.entries, 4);
}

#[test]
fn finish_leaves_no_temp_file_behind_and_replaces_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("9.trup");
    std::fs::write(&path, b"old").unwrap();
    let m = model(21, 5);
    write(&m, 21, 4096, &path);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("9.trup")]);
    RollupFile::open(&path).unwrap();

    let missing = dir.path().join("nope").join("r.trup");
    let e = RollupFileWriter::new(1, partition(), 1)
        .finish(&missing)
        .unwrap_err();
    assert!(matches!(e, RollupFileError::Io { .. }), "{e}");
    assert!(!e.is_corruption());
    assert!(e.to_string().contains("nope"), "{e}");
}

/// A small valid file with several blocks per tier, for the damage tests.
fn small_file() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.trup");
    let m = model(5, 3);
    write(&m, 5, 200, &path);
    std::fs::read(&path).unwrap()
}

/// Recomputes both checksums so damage reaches the structural checks.
fn refresh_checksums(b: &mut [u8]) {
    let fs = b.len() - FOOTER_LEN;
    let data_crc = crc32fast::hash(&b[..fs]);
    b[fs + FOOTER_CRC_COVERS - 4..fs + FOOTER_CRC_COVERS].copy_from_slice(&data_crc.to_le_bytes());
    let footer_crc = crc32fast::hash(&b[fs..fs + FOOTER_CRC_COVERS]);
    b[fs + FOOTER_CRC_COVERS..fs + FOOTER_CRC_COVERS + 4]
        .copy_from_slice(&footer_crc.to_le_bytes());
}

/// Reads everything a file claims to hold, every way; must not panic whatever the file was.
fn read_everything(f: &RollupFile) {
    let _ = f.read_all();
    let ids: Vec<SeriesId> = f.series_ids().iter().map(SeriesId).collect();
    for tier in Tier::ALL {
        let _ = f.read(&ids, None, tier, TimeRange::ALL);
        let _ = f.read(&ids, Some(&["latency_ms"]), tier, partition());
    }
}

#[test]
fn every_truncation_fails_cleanly() {
    let good = small_file();
    for len in 0..good.len() {
        let e = RollupFile::from_bytes(good[..len].to_vec(), "t".into()).unwrap_err();
        assert!(e.is_corruption(), "length {len}: {e}");
    }
    // Through open too, including the empty file (which cannot be mapped).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.trup");
    for len in [0, 1, 40, good.len() / 2, good.len() - 1] {
        std::fs::write(&path, &good[..len]).unwrap();
        let e = RollupFile::open(&path).unwrap_err();
        assert!(e.is_corruption(), "length {len}: {e}");
        assert!(e.to_string().contains("t.trup"), "{e}");
    }
    let e = RollupFile::open(&dir.path().join("missing.trup")).unwrap_err();
    assert!(matches!(e, RollupFileError::Io { op: "open", .. }), "{e}");
    assert!(!e.is_corruption());
}

#[test]
fn every_flipped_bit_fails_open_as_corruption() {
    let good = small_file();
    let f = RollupFile::from_bytes(good.clone(), "good".into()).unwrap();
    assert!(f.blocks.len() >= 6, "{}", f.blocks.len());
    for off in 0..good.len() {
        for bit in [0, 7, off % 8] {
            let mut bad = good.clone();
            bad[off] ^= 1 << bit;
            let e = RollupFile::from_bytes(bad, "x".into()).unwrap_err();
            assert!(e.is_corruption(), "flip at {off} bit {bit}: {e}");
        }
    }
}

#[test]
fn a_newer_version_is_refused_but_is_not_corruption() {
    let good = small_file();
    let fs = good.len() - FOOTER_LEN;
    let mut newer = good.clone();
    newer[8..10].copy_from_slice(&2u16.to_le_bytes());
    newer[fs + FOOTER_LEN - 2..].copy_from_slice(&2u16.to_le_bytes());
    refresh_checksums(&mut newer);
    let e = RollupFile::from_bytes(newer, "n".into()).unwrap_err();
    assert!(
        matches!(
            e,
            RollupFileError::UnsupportedVersion {
                version: 2,
                supported: 1,
                ..
            }
        ),
        "{e}"
    );
    assert!(!e.is_corruption());
    assert!(e.to_string().contains("run a Tally release"), "{e}");

    // Versions that disagree between the ends are damage.
    let mut half = good.clone();
    half[fs + FOOTER_LEN - 2..].copy_from_slice(&2u16.to_le_bytes());
    let e = RollupFile::from_bytes(half, "h".into()).unwrap_err();
    assert!(e.is_corruption(), "{e}");

    // A segment is not a rollup file.
    let mut seg = good;
    seg[..8].copy_from_slice(b"TALLYSEG");
    let e = RollupFile::from_bytes(seg, "s".into()).unwrap_err();
    assert!(e.is_corruption(), "{e}");
    assert!(e.to_string().contains("magic"), "{e}");
}

#[test]
fn damage_behind_valid_checksums_never_panics() {
    let good = small_file();
    let f = RollupFile::from_bytes(good.clone(), "g".into()).unwrap();
    let body = good.len() - FOOTER_LEN + FOOTER_CRC_COVERS - 4;
    let (mut opened, mut refused) = (0, 0);
    for off in 0..body {
        // One flipped bit everywhere; more values where the structure is (header, index, tail).
        let in_blocks = off >= HEADER_LEN
            && off
                < f.blocks
                    .last()
                    .map_or(0, |b| (b.offset + u64::from(b.compressed_len)) as usize);
        let values = if in_blocks {
            vec![good[off] ^ (1 << (off % 8))]
        } else {
            vec![0x00, 0xff, good[off] ^ 0x01, good[off].wrapping_add(1)]
        };
        for v in values {
            let mut bad = good.clone();
            bad[off] = v;
            refresh_checksums(&mut bad);
            match RollupFile::from_bytes(bad, "x".into()) {
                Ok(f) => {
                    opened += 1;
                    read_everything(&f);
                }
                Err(e) => {
                    refused += 1;
                    assert!(e.is_corruption(), "byte {off} = {v}: {e}");
                }
            }
        }
    }
    // Block bytes are only checked when read; the index and footer are checked at open.
    assert!(opened > 0 && refused > 0, "{opened} {refused}");
}

#[test]
fn damaged_blocks_fail_the_read_naming_the_entry() {
    let good = small_file();
    let f = RollupFile::from_bytes(good.clone(), "g".into()).unwrap();
    let b0 = f.blocks[0];
    let mut bad = good.clone();
    // Replace block 0 by a valid zstd frame of the right length holding garbage.
    let garbage = vec![0x5a; b0.raw_len as usize];
    let frame = zstd::bulk::compress(&garbage, 1).unwrap();
    assert!(frame.len() <= b0.compressed_len as usize);
    let mut padded = frame.clone();
    // Skippable frame to keep the block's length (zstd skips it).
    let pad = b0.compressed_len as usize - frame.len();
    if pad > 0 {
        assert!(pad >= 8, "need room for a skippable frame header");
        padded.extend_from_slice(&0x184d_2a50u32.to_le_bytes());
        padded.extend_from_slice(&((pad - 8) as u32).to_le_bytes());
        padded.resize(b0.compressed_len as usize, 0);
    }
    let start = b0.offset as usize;
    bad[start..start + padded.len()].copy_from_slice(&padded);
    refresh_checksums(&mut bad);
    let f = RollupFile::from_bytes(bad, "bad.trup".into()).unwrap();
    let e = f.read_all().unwrap_err();
    assert!(e.is_corruption(), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("bad.trup") && msg.contains("tier 1m series"),
        "{msg}"
    );
}

#[test]
fn rollup_file_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<RollupFile>();
    check::<RollupFileWriter>();
}

/// One generated entry: series, field, tier, mode, bucket seed, points, distribution.
type Spec = (u32, usize, usize, bool, u64, usize, bool);

fn spec_model(specs: &[Spec]) -> Model {
    let mut m = Model::new();
    for &(series, field, tier, replace, seed, points, dist) in specs {
        let tier = Tier::ALL[tier];
        let field = FIELDS[field];
        let mode = if replace {
            EntryMode::Replace
        } else {
            EntryMode::Add
        };
        let b = buckets(seed, tier, points, dist);
        m.entry((tier, series, field.to_owned()))
            .or_insert_with(|| entry(series, field, tier, mode, b));
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_files_round_trip_and_read_subsets(
        specs in proptest::collection::vec(
            (0u32..40, 0usize..4, 0usize..3, any::<bool>(), any::<u64>(), 1usize..90, any::<bool>()),
            0..40,
        ),
        block_size in prop_oneof![Just(1usize), 64usize..4096, Just(1usize << 20)],
        pick in any::<u64>(),
        // Whole minutes, so range ends fall on bucket starts.
        range in (0i64..1440, 0i64..1440),
        tier in 0usize..3,
    ) {
        let m = spec_model(&specs);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.trup");
        let (meta, _) = write(&m, pick, block_size, &path);
        let f = RollupFile::open(&path).unwrap();
        prop_assert_eq!(f.meta(), &meta);
        let want: Vec<RollupEntry> = m.values().cloned().collect();
        prop_assert_eq!(flat(&f.read_all().unwrap()), flat(&want));

        let mut rng = Rng(pick | 1);
        let series: Vec<SeriesId> = (0..40).filter(|_| rng.below(2) == 0).map(SeriesId).collect();
        let fields: Vec<&str> = FIELDS.iter().copied().filter(|_| rng.below(2) == 0).collect();
        let (a, b) = (range.0.min(range.1), range.0.max(range.1));
        let range = TimeRange::new(BASE + a * MIN, BASE + b * MIN);
        let tier = Tier::ALL[tier];
        for fields in [None, Some(&fields[..])] {
            let got = f.read(&series, fields, tier, range).unwrap();
            prop_assert_eq!(flat(&got), flat(&expect_read(&m, &series, fields, tier, range)));
        }
    }

    #[test]
    fn arbitrary_bytes_never_open(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert!(RollupFile::from_bytes(bytes, "fuzz".into()).is_err());
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_frame_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..600),
        footer in proptest::collection::vec(any::<u8>(), FOOTER_CRC_COVERS - 4),
    ) {
        let mut b = Vec::new();
        encode_header(&mut b);
        b.extend_from_slice(&body);
        b.extend_from_slice(&footer);
        b.extend_from_slice(&[0; 4]); // data crc
        b.extend_from_slice(&[0; 4]); // footer crc
        b.extend_from_slice(&MAGIC);
        b.extend_from_slice(&VERSION.to_le_bytes());
        refresh_checksums(&mut b);
        if let Ok(f) = RollupFile::from_bytes(b, "fuzz".into()) {
            read_everything(&f);
        }
    }

    #[test]
    fn mutated_files_with_fixed_checksums_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut b = small_file();
        let body = b.len() - FOOTER_LEN + FOOTER_CRC_COVERS - 4;
        for (i, v) in edits {
            b[i.index(body)] = v;
        }
        refresh_checksums(&mut b);
        if let Ok(f) = RollupFile::from_bytes(b, "fuzz".into()) {
            read_everything(&f);
        }
    }
}

#[test]
fn footer_round_trips_and_has_fixed_length() {
    let f = Footer {
        block_table_offset: 1,
        block_count: 2,
        index_offset: 3,
        index_len: 4,
        index_raw_len: 5,
        seq: 6,
        partition: TimeRange::new(-7, 8),
        min_start: -9,
        max_start: 10,
        entries: 11,
        buckets: [12, 13, 14],
        tier_blocks: [15, 16, 17],
        data_crc: 18,
    };
    let mut out = Vec::new();
    f.encode(&mut out);
    assert_eq!(out.len(), FOOTER_LEN);
    assert_eq!(Footer::decode(&out), Some(f));
    assert_eq!(&out[FOOTER_LEN - 10..FOOTER_LEN - 2], &MAGIC);
    let mut h = Vec::new();
    encode_header(&mut h);
    assert_eq!(h.len(), HEADER_LEN);
}
