//! Property and table tests of rollups against brute-force computations over the raw points.

use super::*;
use crate::types::TimeRange;
use proptest::prelude::*;
use std::collections::BTreeMap;

const MIN: i64 = 60_000_000_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
/// A Monday in 2026, so day buckets are not all at the epoch.
const BASE: i64 = 1_790_000_000 * 1_000_000_000;

/// Count, exact sum (i128 for integers), min, max of the raw points per bucket start.
#[derive(Debug, Clone, PartialEq)]
struct Brute {
    count: u64,
    int_sum: Option<i128>,
    sum: f64,
    min: f64,
    max: f64,
    values: Vec<f64>,
}

fn brute(points: &[(i64, ColumnValuePoint)], width: i64) -> BTreeMap<i64, Brute> {
    let mut out: BTreeMap<i64, Brute> = BTreeMap::new();
    for &(t, v) in points {
        let start = t.div_euclid(width) * width;
        let (f, i) = match v {
            ColumnValuePoint::F(f) => (f, None),
            ColumnValuePoint::I(i) => (i as f64, Some(i128::from(i))),
        };
        let e = out.entry(start).or_insert(Brute {
            count: 0,
            int_sum: i.map(|_| 0),
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            values: Vec::new(),
        });
        e.count += 1;
        e.int_sum = e.int_sum.zip(i).map(|(a, b)| a + b);
        e.sum += f;
        e.min = e.min.min(f);
        e.max = e.max.max(f);
        e.values.push(f);
    }
    out
}

#[derive(Debug, Clone, Copy)]
enum ColumnValuePoint {
    F(f64),
    I(i64),
}

fn column(points: &[(i64, ColumnValuePoint)]) -> (Vec<i64>, ColumnValues) {
    let ts = points.iter().map(|p| p.0).collect();
    let values = match points.first().map(|p| p.1) {
        Some(ColumnValuePoint::I(_)) => ColumnValues::Integer(
            points
                .iter()
                .map(|p| match p.1 {
                    ColumnValuePoint::I(i) => i,
                    ColumnValuePoint::F(_) => unreachable!(),
                })
                .collect(),
        ),
        _ => ColumnValues::Float(
            points
                .iter()
                .map(|p| match p.1 {
                    ColumnValuePoint::F(f) => f,
                    ColumnValuePoint::I(_) => unreachable!(),
                })
                .collect(),
        ),
    };
    (ts, values)
}

/// The independent definition of the quantile the tests hold `Distribution` to.
fn brute_quantile(values: &[f64], q: f64) -> f64 {
    let mut s = values.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    s[(q * (s.len() as f64 - 1.0)).floor() as usize]
}

fn assert_matches_brute(buckets: &[RollupBucket], want: &BTreeMap<i64, Brute>, what: &str) {
    let starts: Vec<i64> = buckets.iter().map(|b| b.start).collect();
    let want_starts: Vec<i64> = want.keys().copied().collect();
    assert_eq!(starts, want_starts, "{what}: bucket starts");
    for b in buckets {
        let w = &want[&b.start];
        assert_eq!(b.agg.count, w.count, "{what}: count at {}", b.start);
        assert_eq!(b.agg.min, w.min, "{what}: min at {}", b.start);
        assert_eq!(b.agg.max, w.max, "{what}: max at {}", b.start);
        assert_eq!(b.agg.int_sum, w.int_sum, "{what}: int sum at {}", b.start);
        match w.int_sum {
            Some(s) => assert_eq!(b.agg.sum, s as f64, "{what}: sum at {}", b.start),
            // The generated floats are dyadic and small, so every order of addition is exact.
            None => assert_eq!(b.agg.sum, w.sum, "{what}: sum at {}", b.start),
        }
        if let Some(d) = &b.dist {
            assert_eq!(d.count(), w.count, "{what}: dist count at {}", b.start);
            if let Some(vals) = d.exact_values() {
                let mut got = vals.to_vec();
                let mut exp = w.values.clone();
                got.sort_by(f64::total_cmp);
                exp.sort_by(f64::total_cmp);
                assert_eq!(got, exp, "{what}: exact values at {}", b.start);
            }
        }
    }
}

fn points_strategy() -> impl Strategy<Value = Vec<(i64, ColumnValuePoint)>> {
    let ts = 0i64..(2 * DAY + 3 * HOUR);
    prop_oneof![
        prop::collection::vec(
            (ts.clone(), any::<i64>().prop_map(ColumnValuePoint::I)),
            1..300
        ),
        prop::collection::vec(
            (
                ts.clone(),
                (-(1i64 << 40)..(1i64 << 40)).prop_map(|k| ColumnValuePoint::F(k as f64 / 1024.0))
            ),
            1..300
        ),
        // Dense minutes, so some buckets become sketches.
        prop::collection::vec(
            (
                0i64..(3 * MIN),
                (1i64..1_000_000).prop_map(|k| ColumnValuePoint::F(k as f64 / 1024.0))
            ),
            1..300
        ),
    ]
    .prop_map(|v| v.into_iter().map(|(t, x)| (BASE + t - DAY, x)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Minute buckets, hour buckets coarsened from them, hour buckets built directly, and day
    /// buckets both ways all equal the brute force, also when the points arrive in two batches
    /// (the second late and possibly repeating timestamps) whose rollups are merged.
    #[test]
    fn every_tier_equals_brute_force(points in points_strategy(), split in 0usize..300) {
        let (ts, values) = column(&points);
        let minutes = rollup_column(&ts, &values, Tier::Minute, true);
        assert_matches_brute(&minutes, &brute(&points, MIN), "1m");
        let hours_from_minutes = coarsen(&minutes, Tier::Hour).unwrap();
        let hours = rollup_column(&ts, &values, Tier::Hour, true);
        let want_hours = brute(&points, HOUR);
        assert_matches_brute(&hours_from_minutes, &want_hours, "1h from 1m");
        assert_matches_brute(&hours, &want_hours, "1h direct");
        let want_days = brute(&points, DAY);
        assert_matches_brute(&coarsen(&hours_from_minutes, Tier::Day).unwrap(), &want_days, "1d from 1h");
        assert_matches_brute(&rollup_column(&ts, &values, Tier::Day, false), &want_days, "1d direct");

        let split = split.min(points.len());
        let (first, late) = points.split_at(split);
        let mut both = Vec::new();
        for part in [first, late] {
            if part.is_empty() {
                continue;
            }
            let (t, v) = column(part);
            both.extend(rollup_column(&t, &v, Tier::Minute, true));
        }
        let merged = coarsen(&both, Tier::Minute).unwrap();
        assert_matches_brute(&merged, &brute(&points, MIN), "1m merged with a late batch");
    }

    /// Arbitrary floats: count, min, max exact; the sum within rounding of the brute force.
    #[test]
    fn float_sums_are_within_rounding(
        points in prop::collection::vec((0i64..(2 * HOUR), -1e12f64..1e12), 1..200)
    ) {
        let ts: Vec<i64> = points.iter().map(|p| p.0).collect();
        let values = ColumnValues::Float(points.iter().map(|p| p.1).collect());
        let minutes = rollup_column(&ts, &values, Tier::Minute, false);
        let hours = coarsen(&minutes, Tier::Hour).unwrap();
        let mut want: BTreeMap<i64, (u64, f64, f64, f64, f64)> = BTreeMap::new();
        for &(t, v) in &points {
            let e = want.entry(Tier::Hour.bucket_start(t))
                .or_insert((0, 0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY));
            e.0 += 1;
            e.1 += v;
            e.2 += v.abs();
            e.3 = e.3.min(v);
            e.4 = e.4.max(v);
        }
        prop_assert_eq!(hours.len(), want.len());
        for b in &hours {
            let (count, sum, abs, lo, hi) = want[&b.start];
            prop_assert_eq!((b.agg.count, b.agg.min, b.agg.max), (count, lo, hi));
            prop_assert!((b.agg.sum - sum).abs() <= abs * count as f64 * f64::EPSILON);
        }
    }
}

/// splitmix64: a seeded generator, so every table case is the same on every run.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        (-2.0 * self.unit().ln()).sqrt() * (2.0 * std::f64::consts::PI * self.unit()).cos()
    }
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    LogNormal,
    Bimodal,
    Constant,
    HugeOutlier,
    SignedAndZero,
}

fn sample(shape: Shape, n: usize, rng: &mut Rng) -> Vec<f64> {
    let mut v: Vec<f64> = (0..n)
        .map(|_| match shape {
            Shape::LogNormal => (100f64.ln() + rng.normal()).exp(),
            Shape::Bimodal => {
                if rng.unit() < 0.8 {
                    (20.0 + 2.0 * rng.normal()).abs()
                } else {
                    (800.0 + 50.0 * rng.normal()).abs()
                }
            }
            Shape::Constant => 42.0,
            Shape::HugeOutlier => 50.0 + rng.normal(),
            Shape::SignedAndZero => match rng.next_u64() % 3 {
                0 => 0.0,
                1 => -(rng.unit() * 1000.0),
                _ => rng.unit() * 1000.0,
            },
        })
        .collect();
    if let (Shape::HugeOutlier, Some(last)) = (shape, v.last_mut()) {
        *last = 1e12;
    }
    v
}

fn within(est: f64, exact: f64, alpha: f64) -> bool {
    // 1e-9 absolute: magnitudes below it are counted as zero; 1e-12 relative: float rounding of
    // the bin's representative value.
    (est - exact).abs() <= exact.abs() * (alpha + 1e-12) + 1e-9
}

/// Spreads `values` over `series` series and minutes, rolls each series up into minute buckets,
/// coarsens to hours and merges every bucket of every series, as a query over a long range does.
fn merged_distribution(values: &[f64], series: usize, acc: RelativeAccuracy) -> Distribution {
    let mut total = Distribution::new(acc);
    for s in 0..series {
        let mine: Vec<f64> = values.iter().skip(s).step_by(series).copied().collect();
        // A few points per minute, as in per-request series.
        let ts: Vec<i64> = (0..mine.len() as i64)
            .map(|i| BASE + i * (MIN / 7))
            .collect();
        let minutes = rollup_column_with(&ts, &ColumnValues::Float(mine), Tier::Minute, Some(acc));
        for h in coarsen(&minutes, Tier::Hour).unwrap() {
            total.merge(h.dist.as_ref().unwrap()).unwrap();
        }
    }
    total
}

#[test]
fn merged_quantiles_are_within_the_relative_accuracy() {
    let shapes = [
        Shape::LogNormal,
        Shape::Bimodal,
        Shape::Constant,
        Shape::HugeOutlier,
        Shape::SignedAndZero,
    ];
    for (seed, shape) in shapes.iter().enumerate() {
        for alpha in [0.01, 0.005, 0.02, 0.001] {
            let acc = RelativeAccuracy::new(alpha).unwrap();
            let mut rng = Rng(seed as u64 * 7919 + 1);
            let values = sample(*shape, 5000, &mut rng);
            let d = merged_distribution(&values, 13, acc);
            assert_eq!(d.count(), 5000);
            assert!(d.exact_values().is_none());
            for q in [0.5, 0.95, 0.99] {
                let exact = brute_quantile(&values, q);
                let est = d.quantile(q).unwrap();
                assert!(
                    within(est, exact, alpha),
                    "{shape:?} alpha {alpha} q {q}: {est} vs exact {exact}"
                );
            }
        }
    }
}

#[test]
fn small_merged_distributions_are_exact() {
    let mut rng = Rng(99);
    let values = sample(Shape::LogNormal, EXACT_LIMIT, &mut rng);
    let d = merged_distribution(&values, 4, RelativeAccuracy::DEFAULT);
    assert!(d.exact_values().is_some());
    for q in [0.0, 0.5, 0.95, 0.99, 1.0] {
        assert_eq!(d.quantile(q), Some(brute_quantile(&values, q)));
    }
}

fn distribution_of(values: &[f64], acc: RelativeAccuracy) -> Distribution {
    let mut d = Distribution::new(acc);
    for &v in values {
        d.push(v);
    }
    d
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any seed: p50/p95/p99 of the merged summary are within the accuracy of the exact ones.
    #[test]
    fn quantiles_within_accuracy_for_any_seed(
        seed in any::<u64>(),
        shape in prop_oneof![
            Just(Shape::LogNormal), Just(Shape::Bimodal), Just(Shape::Constant),
            Just(Shape::HugeOutlier), Just(Shape::SignedAndZero)
        ],
        n in 1usize..1500,
        series in 1usize..20,
    ) {
        let values = sample(shape, n, &mut Rng(seed));
        let d = merged_distribution(&values, series, RelativeAccuracy::DEFAULT);
        prop_assert_eq!(d.count(), n as u64);
        for q in [0.5, 0.95, 0.99] {
            let exact = brute_quantile(&values, q);
            let est = d.quantile(q).unwrap();
            prop_assert!(within(est, exact, 0.01), "q {}: {} vs {}", q, est, exact);
        }
    }

    /// Merging parts, in either association, equals building from the whole: the same values
    /// when exact, the same bins (so the same quantiles) when sketched.
    #[test]
    fn merge_of_parts_equals_the_whole(
        values in prop::collection::vec(prop_oneof![-1e6f64..-1e-3, Just(0.0), 1e-3f64..1e6], 0..200),
        cuts in (0usize..200, 0usize..200),
    ) {
        let acc = RelativeAccuracy::DEFAULT;
        let (a, b) = (cuts.0.min(cuts.1).min(values.len()), cuts.0.max(cuts.1).min(values.len()));
        let parts = [&values[..a], &values[a..b], &values[b..]].map(|p| distribution_of(p, acc));
        let whole = distribution_of(&values, acc);
        let mut left = parts[0].clone();
        left.merge(&parts[1]).unwrap();
        left.merge(&parts[2]).unwrap();
        let mut right_tail = parts[1].clone();
        right_tail.merge(&parts[2]).unwrap();
        let mut right = parts[0].clone();
        right.merge(&right_tail).unwrap();
        for m in [&left, &right] {
            prop_assert_eq!(m.count(), whole.count());
            prop_assert_eq!(m.exact_values().is_some(), whole.exact_values().is_some());
            if let (Some(x), Some(y)) = (m.exact_values(), whole.exact_values()) {
                prop_assert_eq!(x, y);
            }
            for q in [0.0, 0.01, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0] {
                prop_assert_eq!(m.quantile(q), whole.quantile(q));
                if !values.is_empty() {
                    let exact = brute_quantile(&values, q);
                    prop_assert!(within(m.quantile(q).unwrap(), exact, 0.01));
                }
            }
        }
        let mut agg_parts = [Aggregate::new(), Aggregate::new(), Aggregate::new()];
        let mut agg_whole = Aggregate::new();
        for (i, &v) in values.iter().enumerate() {
            let k = if i < a { 0 } else if i < b { 1 } else { 2 };
            let iv = (v * 1000.0) as i64;
            agg_parts[k].push_i64(iv);
            agg_whole.push_i64(iv);
        }
        let mut l = agg_parts[0];
        l.merge(&agg_parts[1]);
        l.merge(&agg_parts[2]);
        let mut r = agg_parts[1];
        r.merge(&agg_parts[2]);
        let mut r2 = agg_parts[0];
        r2.merge(&r);
        prop_assert_eq!(l, agg_whole);
        prop_assert_eq!(r2, agg_whole);
    }
}

fn buckets_strategy() -> impl Strategy<Value = Vec<RollupBucket>> {
    (
        prop::collection::vec((0i64..(5 * MIN), -1e9f64..1e9), 0..400),
        prop::collection::vec((0i64..(3 * HOUR), any::<i64>()), 0..100),
        10u16..=5000,
        any::<bool>(),
    )
        .prop_map(|(floats, ints, units, dist)| {
            let acc = RelativeAccuracy::from_units(units).unwrap();
            let mut out = Vec::new();
            let (t, v): (Vec<i64>, Vec<f64>) = floats.into_iter().unzip();
            out.extend(rollup_column_with(
                &t,
                &ColumnValues::Float(v),
                Tier::Minute,
                Some(acc),
            ));
            let (t, v): (Vec<i64>, Vec<i64>) = ints.into_iter().unzip();
            let other = RelativeAccuracy::DEFAULT;
            out.extend(rollup_column_with(
                &t,
                &ColumnValues::Integer(v),
                Tier::Hour,
                dist.then_some(other),
            ));
            out
        })
}

fn assert_same_buckets(a: &[RollupBucket], b: &[RollupBucket]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.start, y.start);
        assert_eq!(x.agg, y.agg);
        assert_eq!(x.dist.is_some(), y.dist.is_some());
        if let (Some(dx), Some(dy)) = (&x.dist, &y.dist) {
            assert_eq!(dx.accuracy(), dy.accuracy());
            assert_eq!(dx.count(), dy.count());
            assert_eq!(dx.exact_values(), dy.exact_values());
            for q in [0.0, 0.1, 0.5, 0.9, 0.99, 1.0] {
                assert_eq!(dx.quantile(q), dy.quantile(q));
            }
        }
    }
}

/// Uses a decoded bucket the way queries will, so a decoded sketch with broken internals panics
/// here rather than in production.
fn exercise(buckets: &[RollupBucket]) {
    for b in buckets {
        if let Some(d) = &b.dist {
            let mut m = d.clone();
            let _ = m.merge(d);
            m.push(1.0);
            m.push(-1e300);
            m.push(1e300);
            for q in [0.0, 0.3, 0.5, 0.99, 1.0] {
                let _ = m.quantile(q);
            }
        }
    }
    let _ = coarsen(buckets, Tier::Day);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn encoding_round_trips(buckets in buckets_strategy()) {
        let bytes = encode_buckets(&buckets);
        let back = decode_buckets(&bytes).unwrap();
        assert_same_buckets(&back, &buckets);
        // Canonical: what was decoded encodes to the same bytes.
        prop_assert_eq!(encode_buckets(&back), bytes);
    }

    #[test]
    fn a_partial_decode_keeps_exactly_the_buckets_asked_for(
        buckets in buckets_strategy(),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = encode_buckets(&buckets);
        let all = decode_buckets(&bytes).unwrap();
        let pivot = all.get(cut.index(all.len().max(1))).map_or(0, |b| b.start);
        let (some, n) = decode_buckets_in(&bytes, TimeRange::new(pivot, i64::MAX)).unwrap();
        prop_assert_eq!(n, Some(all.len() as u64));
        let want: Vec<RollupBucket> = all.iter().filter(|b| b.start >= pivot).cloned().collect();
        assert_same_buckets(&some, &want);
        // A range ending before the last bucket stops there, with exactly the buckets inside.
        let end = all.last().map_or(0, |b| b.start);
        let (inside, n) = decode_buckets_in(&bytes, TimeRange::new(pivot, end)).unwrap();
        let want: Vec<RollupBucket> =
            all.iter().filter(|b| b.start >= pivot && b.start < end).cloned().collect();
        assert_same_buckets(&inside, &want);
        prop_assert_eq!(n, if all.is_empty() { Some(0) } else { None });
        // Skipped buckets are still checked: truncations fail whatever is kept.
        for len in 0..bytes.len() {
            prop_assert!(decode_buckets_in(&bytes[..len], TimeRange::new(i64::MAX, i64::MAX)).is_err());
        }
    }

    #[test]
    fn decoder_survives_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(b) = decode_buckets(&bytes) {
            exercise(&b);
        }
        let mut tagged = bytes.clone();
        tagged.splice(0..0, [ENCODING_V1, 100, 0]);
        if let Ok(b) = decode_buckets(&tagged) {
            exercise(&b);
        }
    }

    #[test]
    fn decoder_refuses_truncations_and_survives_corruption(
        buckets in buckets_strategy(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let bytes = encode_buckets(&buckets);
        for len in 0..bytes.len() {
            prop_assert!(decode_buckets(&bytes[..len]).is_err(), "prefix of {} bytes decoded", len);
        }
        let mut bad = bytes.clone();
        for (i, x) in flips {
            let i = i.index(bad.len());
            bad[i] ^= x;
        }
        if let Ok(b) = decode_buckets(&bad) {
            exercise(&b);
        }
    }
}

/// `n` hand-written buckets of 33 values, each a sketch whose positive store is `store`
/// (`flags, min_key, nbins, counts...`) and whose negative store is empty.
fn sketch_buckets(n: u8, store: &[u8]) -> Vec<u8> {
    let mut b = vec![ENCODING_V1, 100, 0, n];
    for _ in 0..n {
        b.push(2); // start delta 1
        b.push(33); // count
        b.extend_from_slice(&1f64.to_le_bytes());
        b.extend_from_slice(&1f64.to_le_bytes());
        b.push(0);
        b.extend_from_slice(&33f64.to_le_bytes());
        b.push(2); // sketch
        b.extend_from_slice(&1f64.to_le_bytes());
        b.extend_from_slice(&1f64.to_le_bytes());
        b.push(0); // zero count
        b.extend_from_slice(store);
        b.push(0); // empty negative store
    }
    b
}

#[test]
fn decoder_refuses_what_no_encoder_writes() {
    assert!(decode_buckets(&sketch_buckets(1, &[1, 0, 1, 33])).is_ok());
    let refused = [
        // Key 2^30: beyond any finite f64, and would overflow the sketch's key arithmetic.
        vec![1, 0x80, 0x80, 0x80, 0x80, 0x08, 1, 33],
        // Bins that do not add up to the bucket's count.
        vec![1, 0, 1, 32],
        // A zero first bin (not canonical).
        vec![1, 0, 2, 0, 33],
        // More bins than a store holds at 1%.
        vec![1, 0, 0x81, 0x12, 33],
        // Unknown store flags.
        vec![5, 0, 1, 33],
    ];
    for store in refused {
        assert!(
            matches!(
                decode_buckets(&sketch_buckets(1, &store)),
                Err(RollupError::Corrupt { .. })
            ),
            "{store:?} decoded"
        );
    }
    let mut trailing = sketch_buckets(1, &[1, 0, 1, 33]);
    trailing.push(0);
    assert!(decode_buckets(&trailing).is_err());
}

#[test]
fn decoder_bounds_what_it_allocates() {
    // A huge bucket count with no data behind it.
    let mut b = vec![ENCODING_V1, 100, 0];
    b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert!(matches!(
        decode_buckets(&b),
        Err(RollupError::Corrupt { .. })
    ));
    // Collapsed one-bin stores are held as the one bin they store, however many there are.
    let collapsed_buckets = |n: u8| sketch_buckets(n, &[3, 0, 1, 33]);
    let many = decode_buckets(&collapsed_buckets(100)).unwrap();
    assert_eq!(many.len(), 100);
    assert_eq!(
        many[1]
            .dist
            .as_ref()
            .unwrap()
            .quantile(0.5)
            .unwrap()
            .round(),
        1.0
    );
    assert!(matches!(
        decode_buckets(&[9]),
        Err(RollupError::UnknownEncoding { tag: 9 })
    ));
    assert!(decode_buckets(&[]).is_err());
}

#[test]
fn tiers_align_buckets() {
    for tier in Tier::ALL {
        let w = tier.width_ns();
        assert_eq!(tier.bucket_start(BASE) % w, 0);
        assert!(tier.bucket_start(BASE) <= BASE && BASE < tier.bucket_start(BASE) + w);
        assert_eq!(tier.bucket_start(-1), -w);
        assert_eq!(tier.bucket_start(i64::MIN), i64::MIN);
        assert!(i64::MAX - tier.bucket_start(i64::MAX) < w);
    }
    assert_eq!(Tier::Hour.width_ns() % Tier::Minute.width_ns(), 0);
    assert_eq!(Tier::Day.width_ns() % Tier::Hour.width_ns(), 0);
}

#[test]
fn booleans_count_trues_and_strings_have_no_rollup() {
    let b = rollup_column(
        &[0, 1, 2],
        &ColumnValues::Boolean(vec![true, false, true]),
        Tier::Minute,
        false,
    );
    assert_eq!((b[0].agg.count, b[0].agg.int_sum), (3, Some(2)));
    let s = rollup_column(
        &[0],
        &ColumnValues::String(vec!["x".into()]),
        Tier::Minute,
        false,
    );
    assert!(s.is_empty());
}

#[test]
fn a_bucket_loses_its_distribution_when_merged_with_one_without() {
    let ts = [0, 1];
    let with = rollup_column(
        &ts,
        &ColumnValues::Float(vec![1.0, 2.0]),
        Tier::Minute,
        true,
    );
    let without = rollup_column(
        &ts,
        &ColumnValues::Float(vec![3.0, 4.0]),
        Tier::Minute,
        false,
    );
    let merged = coarsen(&[with[0].clone(), without[0].clone()], Tier::Minute).unwrap();
    assert_eq!(merged[0].agg.count, 4);
    assert!(merged[0].dist.is_none());
}
