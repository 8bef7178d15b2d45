//! [`Sketch`]: a DDSketch whose bins Tally owns.
//!
//! Why not the crate's `DDSketch` itself: its stores are private, so reading bins for the file
//! encoding and rebuilding a sketch from stored bins went through a `serde_json::Value` round trip,
//! which was a quarter of a rollup query's CPU. This type keeps the same bins in the open and uses
//! the crate's [`Config`] for the only part that is real math, the key <-> value mapping, so keys,
//! values and quantiles are exactly the crate's (a property test in this module checks them
//! against `DDSketch` itself).
//!
//! Invariants:
//! - A non-empty store's first and last count are non-zero and it spans at most `limit` keys;
//!   an empty store has no counts.
//! - A store that would span more than `limit` keys collapses its lowest keys into the lowest
//!   kept one and stays marked collapsed (the crate's "collapsing lowest dense store"): high
//!   quantiles, the ones latency dashboards ask for, keep their accuracy.
//! - `count()` equals the zero count plus both stores' counts.

use super::RelativeAccuracy;
use sketches_ddsketch::Config;

/// The counts of consecutive sketch keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct StoreBins {
    /// Keys below the kept range were folded into `min_key`.
    pub(crate) collapsed: bool,
    /// The key of `counts[0]`.
    pub(crate) min_key: i32,
    /// Counts of the keys `min_key ..`.
    pub(crate) counts: Vec<u64>,
}

impl StoreBins {
    fn max_key(&self) -> i32 {
        self.min_key + self.counts.len() as i32 - 1
    }

    fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Adds `n` at `key`, growing or collapsing to stay within `limit` keys.
    fn add(&mut self, key: i32, n: u64, limit: usize) {
        if self.counts.is_empty() {
            self.min_key = key;
            self.counts.push(n);
            return;
        }
        let lo = key.min(self.min_key);
        let hi = key.max(self.max_key());
        self.reshape(lo, hi, limit);
        let at = (key.max(self.min_key) - self.min_key) as usize;
        self.counts[at] += n;
    }

    /// Makes the store cover `lo..=hi` (which includes its current range), collapsing the lowest
    /// keys when that is more than `limit` keys.
    fn reshape(&mut self, lo: i32, hi: i32, limit: usize) {
        let max = self.max_key();
        let lo = if self.collapsed {
            lo.max(self.min_key)
        } else {
            lo
        };
        let (lo, collapse) = if (hi - lo) as usize + 1 > limit {
            (hi - limit as i32 + 1, true)
        } else {
            (lo, false)
        };
        if lo < self.min_key {
            let grow = (self.min_key - lo) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
        } else if lo > self.min_key {
            // Fold the keys below `lo` into `lo`.
            let cut = ((lo - self.min_key) as usize).min(self.counts.len());
            let folded: u64 = self.counts.drain(..cut).sum();
            if self.counts.is_empty() {
                self.counts.push(0);
            }
            self.counts[0] += folded;
        }
        self.min_key = lo;
        self.collapsed |= collapse;
        if hi > max.max(lo) {
            let len = (hi - lo) as usize + 1;
            self.counts.resize(len, 0);
        }
    }

    /// Adds every count of `other`.
    fn merge(&mut self, other: &StoreBins, limit: usize) {
        if other.counts.is_empty() {
            return;
        }
        if self.counts.is_empty() {
            *self = other.clone();
            return;
        }
        let lo = self.min_key.min(other.min_key);
        let hi = self.max_key().max(other.max_key());
        self.reshape(lo, hi, limit);
        self.collapsed |= other.collapsed;
        for (i, &c) in other.counts.iter().enumerate() {
            let key = (other.min_key + i as i32).max(self.min_key);
            self.counts[(key - self.min_key) as usize] += c;
        }
    }

    /// The key holding the value of 0-based `rank` in ascending key order.
    fn key_at_rank(&self, rank: u64) -> i32 {
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen > rank {
                return self.min_key + i as i32;
            }
        }
        self.max_key()
    }
}

/// A DDSketch: values mapped to keys of relative width `accuracy`, counts per key, one store for
/// positive values, one for negative values (by magnitude), and a count of values near zero.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sketch {
    pub(crate) accuracy: RelativeAccuracy,
    pub(crate) positive: StoreBins,
    pub(crate) negative: StoreBins,
    pub(crate) zero_count: u64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl Sketch {
    /// An empty sketch.
    pub(crate) fn new(accuracy: RelativeAccuracy) -> Self {
        Sketch {
            accuracy,
            positive: StoreBins::default(),
            negative: StoreBins::default(),
            zero_count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    fn config(&self) -> Config {
        self.accuracy.config()
    }

    fn limit(&self) -> usize {
        self.accuracy.max_bins() as usize
    }

    /// Values summarised.
    pub(crate) fn count(&self) -> u64 {
        self.zero_count + self.positive.total() + self.negative.total()
    }

    /// Adds finite values (callers skip the others).
    pub(crate) fn extend(&mut self, values: &[f64]) {
        let config = self.config();
        let limit = self.limit();
        let min_value = config.min_possible();
        for &v in values {
            if v > min_value {
                self.positive.add(config.key(v), 1, limit);
            } else if v < -min_value {
                self.negative.add(config.key(-v), 1, limit);
            } else {
                self.zero_count += 1;
            }
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
    }

    /// Adds every value of `other`, which has the same accuracy (callers check).
    pub(crate) fn merge(&mut self, other: &Sketch) {
        let limit = self.limit();
        self.positive.merge(&other.positive, limit);
        self.negative.merge(&other.negative, limit);
        self.zero_count += other.zero_count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// The crate's quantile: min at 0, max at 1, otherwise the representative value of the key
    /// holding rank `floor(q (n - 1))`. `None` when empty; `q` must be within `[0, 1]`.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        if q == 0.0 {
            return Some(self.min);
        }
        if q == 1.0 {
            return Some(self.max);
        }
        let config = self.config();
        let rank = (q * (n as f64 - 1.0)) as u64;
        let negatives = self.negative.total();
        Some(if rank < negatives {
            -config.value(self.negative.key_at_rank(negatives - rank - 1))
        } else if rank < negatives + self.zero_count {
            0.0
        } else {
            config.value(
                self.positive
                    .key_at_rank(rank - negatives - self.zero_count),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sketches_ddsketch::DDSketch;

    fn crate_sketch(values: &[f64]) -> DDSketch {
        let mut s = DDSketch::new(RelativeAccuracy::DEFAULT.config());
        for &v in values {
            s.add(v);
        }
        s
    }

    fn ours(values: &[f64]) -> Sketch {
        let mut s = Sketch::new(RelativeAccuracy::DEFAULT);
        s.extend(values);
        s
    }

    const QS: [f64; 9] = [0.0, 0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0];

    proptest! {
        // Without collapsing (values within a factor 1e12 of each other per sign), every
        // quantile is bit-for-bit the crate's, built by adding or by merging in pieces.
        #[test]
        fn quantiles_equal_the_crates(
            values in prop::collection::vec(
                prop_oneof![1e-6f64..1e6, -1e6f64..-1e-6, Just(0.0)], 1..400),
            split in 0usize..400,
        ) {
            let c = crate_sketch(&values);
            let whole = ours(&values);
            let split = split.min(values.len());
            let mut merged = ours(&values[..split]);
            merged.merge(&ours(&values[split..]));
            prop_assert_eq!(whole.count(), values.len() as u64);
            for q in QS {
                let want = c.quantile(q).unwrap();
                prop_assert_eq!(whole.quantile(q), want, "q {}", q);
                prop_assert_eq!(merged.quantile(q), want, "merged, q {}", q);
            }
            prop_assert_eq!(&merged, &whole);
        }
    }

    #[test]
    fn a_huge_range_collapses_the_lowest_keys_and_keeps_the_high_quantiles() {
        // 2e-9 to 1e12 spans more than the 2^64 the stores cover at 1%.
        let mut values: Vec<f64> = (1..=1000).map(|i| i as f64).collect();
        values.push(2e-9);
        values.push(1e12);
        let s = ours(&values);
        assert!(s.positive.collapsed);
        assert!(s.positive.counts.len() <= RelativeAccuracy::DEFAULT.max_bins() as usize);
        assert_eq!(s.count(), 1002);
        let p99 = s.quantile(0.99).unwrap();
        assert!((p99 - 990.0).abs() / 990.0 <= 0.01, "{p99}");
        assert_eq!(s.quantile(0.0), Some(2e-9));
        assert_eq!(s.quantile(1.0), Some(1e12));
        // Merging collapsed pieces agrees with adding everything at once.
        let mut m = ours(&values[..500]);
        m.merge(&ours(&values[500..]));
        assert_eq!(m.count(), 1002);
        assert_eq!(m.quantile(0.99), Some(p99));
    }

    #[test]
    fn empty_sketch_has_no_quantile() {
        assert_eq!(ours(&[]).quantile(0.5), None);
        let mut a = ours(&[]);
        a.merge(&ours(&[3.0]));
        assert_eq!(a.quantile(0.5).map(|v| (v - 3.0).abs() < 0.03), Some(true));
    }
}
