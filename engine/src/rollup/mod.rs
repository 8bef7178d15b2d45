//! Pre-aggregated rollups: per series, field and time bucket (1 minute, 1 hour, 1 day), the
//! count, sum, min and max of the values ([`Aggregate`]) and, for distribution fields such as
//! latency, a mergeable quantile summary ([`Distribution`]).
//!
//! This module holds the data model, its math and its byte encoding; it does not read or write
//! files (the segment layer stores the encoded bytes).
//!
//! Invariants:
//! - A bucket `[start, start + width)` holds every value of one field of one series whose
//!   timestamp `t` has `tier.bucket_start(t) == start`; buckets are never empty.
//! - Merging is exact for count, min, max and integer sums and order independent: a 1 h bucket
//!   built by [`coarsen`] from its 1 m buckets equals the 1 h bucket built from the raw points
//!   (float sums may differ in the last bits; distributions are equal as exact values, or as
//!   sketches whose quantiles agree within the relative accuracy).
//! - When a bucket has a distribution, `dist.count() == agg.count` (both skip non-finite values).
//! - Rollups only ever add: replacing a raw point (last write wins) cannot be undone by merging,
//!   so the caller rebuilds the affected buckets from raw data instead.
//!
//! # Encoding of a `Vec<RollupBucket>` (version 1)
//!
//! Little-endian throughout; `uvarint` is unsigned LEB128 (at most 10 bytes), `ivarint` a zigzag
//! LEB128 of an i64; `f64` is 8 bytes of IEEE bits.
//!
//! ```text
//! BUCKETS  := tag:u8 = 0x01  accuracy:u16  n:uvarint  BUCKET{n}
//!               accuracy: default relative accuracy of the distributions below, in units of
//!               1e-4 (100 = 1%), 10..=5000
//! BUCKET   := start:ivarint  AGG  DIST
//!               start: the first bucket's start; each later one is the wrapping difference to the
//!               previous start (any order round-trips; encoders write ascending starts)
//! AGG      := count:uvarint  min:f64  max:f64  SUM
//!               count >= 1 (encoders leave empty buckets out)
//!               min <= max, both finite
//! SUM      := 0x00 sum:f64                   (float sum; any bits)
//!           | 0x01 int_sum:i128 (16 bytes)   (exact integer sum; the f64 sum is int_sum as f64)
//! DIST     := 0x00                           (no distribution)
//!           | kind:u8 [accuracy:u16] BODY    kind & 0x7f: 1 = exact, 2 = sketch; bit 0x80 set
//!                                            means an accuracy follows that overrides the header's
//! BODY(1)  := value:f64{count}               the exact values in order; count = AGG.count <= 32
//! BODY(2)  := min:f64 max:f64 zero_count:uvarint STORE(positive) STORE(negative)
//!               min <= max finite; zero_count + both stores' counts = AGG.count (> 32)
//! STORE    := 0x00                           (empty store)
//!           | flags:u8 (0x01 = present, 0x02 = collapsed) min_key:ivarint nbins:uvarint
//!             count:uvarint{nbins}
//!               counts of the DDSketch keys min_key, min_key + 1, ...; first and last non-zero;
//!               1 <= nbins <= max_bins(a); |min_key|, |min_key + nbins - 1| <= 2^24. The
//!               negative store holds keys of -v for v < 0. Keys map to values as in
//!               sketches-ddsketch 0.3: gamma = 1 + 2a/(1-a), key(v) = ceil(ln v / ln gamma), value(key) =
//!               gamma^key * 2/(1+gamma); magnitudes below 1e-9 count as zero_count;
//!               max_bins(a) = max(2048, 128 * ceil(ceil(64 ln 2 / ln gamma) / 128)).
//! ```
//! The decoder reads exactly one `BUCKETS` spanning the whole buffer and refuses trailing bytes;
//! it never panics and allocates at most a small multiple of the input's length.

mod aggregate;
mod distribution;
mod encoding;
pub mod file;
mod points;
mod sketch;

#[cfg(test)]
mod tests;

pub use aggregate::Aggregate;
pub use distribution::{exact_quantile, Distribution, RelativeAccuracy, EXACT_LIMIT};
pub(crate) use encoding::decode_buckets_in;
pub use encoding::{decode_buckets, encode_buckets, ENCODING_V1};
pub use file::{
    EntryMode, RollupEntry, RollupFile, RollupFileError, RollupFileMeta, RollupFileWriter,
};
pub use points::{points_column, POINTS_FIELD};

use crate::types::{ColumnValues, Nanos};
use std::collections::BTreeMap;
use thiserror::Error;

/// What can go wrong building, merging or decoding rollups.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RollupError {
    /// A relative accuracy outside what Tally accepts.
    #[error(
        "relative accuracy {alpha} is out of range: use a value from 0.001 to 0.5 (0.01 is 1%)"
    )]
    InvalidAccuracy {
        /// The value given.
        alpha: f64,
    },
    /// Two distributions of different accuracy cannot be merged.
    #[error("cannot merge distributions of relative accuracy {left} and {right}: rebuild the older rollups at the configured accuracy")]
    AccuracyMismatch {
        /// Accuracy of the distribution merged into.
        left: f64,
        /// Accuracy of the other.
        right: f64,
    },
    /// Rollup bytes written by a newer Tally.
    #[error(
        "rollup encoding {tag} is unknown: written by a newer version of Tally? upgrade to read it"
    )]
    UnknownEncoding {
        /// The tag byte read.
        tag: u8,
    },
    /// Rollup bytes that no encoder writes.
    #[error("corrupt rollup data at byte {offset}: {what}; the segment should be quarantined and its rollups rebuilt from raw data")]
    Corrupt {
        /// Byte offset in the encoded buffer.
        offset: usize,
        /// What was being read or what is wrong.
        what: &'static str,
    },
}

/// A rollup tier: the width of its buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// 1 minute buckets.
    Minute,
    /// 1 hour buckets.
    Hour,
    /// 1 day (UTC) buckets.
    Day,
}

impl Tier {
    /// Every tier, finest first.
    pub const ALL: [Tier; 3] = [Tier::Minute, Tier::Hour, Tier::Day];

    /// Bucket width in nanoseconds.
    pub const fn width_ns(self) -> i64 {
        const MINUTE: i64 = 60 * 1_000_000_000;
        match self {
            Tier::Minute => MINUTE,
            Tier::Hour => 60 * MINUTE,
            Tier::Day => 24 * 60 * MINUTE,
        }
    }

    /// Start of the bucket holding `ts`: `ts` rounded down to a multiple of the width (also for
    /// instants before 1970). Instants before the first aligned start representable in an i64
    /// (in 1677) all map to `i64::MIN`.
    ///
    /// ```
    /// use tally_engine::rollup::Tier;
    /// assert_eq!(Tier::Minute.bucket_start(61_000_000_000), 60_000_000_000);
    /// assert_eq!(Tier::Minute.bucket_start(-1), -60_000_000_000);
    /// ```
    pub fn bucket_start(self, ts: Nanos) -> Nanos {
        ts.saturating_sub(ts.rem_euclid(self.width_ns()))
    }

    /// Lower-case name for logs and APIs ("1m", "1h", "1d").
    pub fn name(self) -> &'static str {
        match self {
            Tier::Minute => "1m",
            Tier::Hour => "1h",
            Tier::Day => "1d",
        }
    }
}

/// The rollup of one field of one series over one bucket.
#[derive(Debug, Clone)]
pub struct RollupBucket {
    /// Start of the bucket (a multiple of its tier's width), ns.
    pub start: Nanos,
    /// Count, sum, min, max.
    pub agg: Aggregate,
    /// Quantile summary, for distribution fields only.
    pub dist: Option<Distribution>,
}

impl RollupBucket {
    /// Folds `other` in (the caller decides that both belong to the same bucket). A distribution
    /// survives only when both sides have one, since half a distribution would answer wrongly.
    pub fn merge(&mut self, other: &RollupBucket) -> Result<(), RollupError> {
        match (&mut self.dist, &other.dist) {
            (Some(a), Some(b)) => a.merge(b)?,
            (Some(_), None) => self.dist = None,
            _ => {}
        }
        self.agg.merge(&other.agg);
        Ok(())
    }
}

/// Builds the buckets of one field column at `tier`, with a distribution at the default 1%
/// accuracy when `with_distribution`. See [`rollup_column_with`].
pub fn rollup_column(
    ts: &[Nanos],
    values: &ColumnValues,
    tier: Tier,
    with_distribution: bool,
) -> Vec<RollupBucket> {
    rollup_column_with(
        ts,
        values,
        tier,
        with_distribution.then_some(RelativeAccuracy::DEFAULT),
    )
}

/// Builds the buckets of one field column at `tier`, ascending by start, with a distribution of
/// the given accuracy when `distribution` is `Some`.
///
/// `ts` should be ascending (unsorted input is sorted first). Floats, integers and unsigned
/// integers roll up as numbers, booleans as 0 and 1 (so the sum counts the `true`s); string
/// columns have no rollup and give no buckets. Points past the shorter of `ts` and `values` are
/// ignored; non-finite floats are skipped.
///
/// ```
/// use tally_engine::rollup::{rollup_column, Tier};
/// use tally_engine::ColumnValues;
/// let min = 60_000_000_000;
/// let b = rollup_column(&[0, 1, min], &ColumnValues::Integer(vec![1, 2, 3]), Tier::Minute, true);
/// assert_eq!(b.len(), 2);
/// assert_eq!((b[0].agg.count, b[0].agg.int_sum), (2, Some(3)));
/// assert_eq!(b[1].dist.as_ref().unwrap().quantile(0.5), Some(3.0));
/// ```
pub fn rollup_column_with(
    ts: &[Nanos],
    values: &ColumnValues,
    tier: Tier,
    distribution: Option<RelativeAccuracy>,
) -> Vec<RollupBucket> {
    rollup_column_by(ts, values, |t| tier.bucket_start(t), distribution)
}

/// Like [`rollup_column_with`], with buckets given by `bucket_of` (a timestamp's bucket start),
/// which must be non-decreasing in the timestamp: a floor to any width, or a constant for one
/// bucket over everything.
pub fn rollup_column_by(
    ts: &[Nanos],
    values: &ColumnValues,
    bucket_of: impl Fn(Nanos) -> Nanos,
    distribution: Option<RelativeAccuracy>,
) -> Vec<RollupBucket> {
    let d = distribution;
    match values {
        ColumnValues::Float(v) => build(ts, v, &bucket_of, d, |a, x| a.push(x), |x| x),
        ColumnValues::Integer(v) => build(ts, v, &bucket_of, d, |a, x| a.push_i64(x), |x| x as f64),
        ColumnValues::Unsigned(v) => {
            build(ts, v, &bucket_of, d, |a, x| a.push_u64(x), |x| x as f64)
        }
        ColumnValues::Boolean(v) => build(
            ts,
            v,
            &bucket_of,
            d,
            |a, x| a.push_u64(u64::from(x)),
            |x| f64::from(u8::from(x)),
        ),
        ColumnValues::String(_) => Vec::new(),
    }
}

fn build<T: Copy>(
    ts: &[Nanos],
    values: &[T],
    bucket_of: &impl Fn(Nanos) -> Nanos,
    distribution: Option<RelativeAccuracy>,
    push: impl Fn(&mut Aggregate, T),
    as_f64: impl Fn(T) -> f64,
) -> Vec<RollupBucket> {
    let n = ts.len().min(values.len());
    let mut order: Vec<usize> = (0..n).collect();
    if !ts[..n].windows(2).all(|w| w[0] <= w[1]) {
        order.sort_by_key(|&i| ts[i]);
    }
    let mut out: Vec<RollupBucket> = Vec::new();
    for i in order {
        let v = values[i];
        let f = as_f64(v);
        if !f.is_finite() {
            continue;
        }
        let start = bucket_of(ts[i]);
        if out.last().map(|b| b.start) != Some(start) {
            out.push(RollupBucket {
                start,
                agg: Aggregate::new(),
                dist: distribution.map(Distribution::new),
            });
        }
        let Some(bucket) = out.last_mut() else {
            continue;
        };
        push(&mut bucket.agg, v);
        if let Some(d) = &mut bucket.dist {
            d.push(f);
        }
    }
    out
}

/// Merges `buckets` (of a finer tier, aligned to it) into buckets of the coarser tier `to`,
/// ascending by start: 1 m -> 1 h -> 1 d. Also merges buckets of equal start, so the
/// concatenation of two bucket lists (say, old rollups and those of a late batch) coarsened to
/// their own tier is their merge. Fails only when distributions of different accuracy meet.
pub fn coarsen(buckets: &[RollupBucket], to: Tier) -> Result<Vec<RollupBucket>, RollupError> {
    let mut out: BTreeMap<Nanos, RollupBucket> = BTreeMap::new();
    for b in buckets {
        let start = to.bucket_start(b.start);
        match out.get_mut(&start) {
            Some(acc) => acc.merge(b)?,
            None => {
                let mut first = b.clone();
                first.start = start;
                out.insert(start, first);
            }
        }
    }
    Ok(out.into_values().collect())
}
