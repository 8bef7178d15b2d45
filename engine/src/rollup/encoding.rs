//! The byte encoding of a list of [`RollupBucket`]s; the layout is documented in `mod.rs`.
//!
//! The decoder checks every count against what the rest of the buffer can hold before it
//! allocates (a sketch bin takes at least one byte, and bins are held exactly as stored), so
//! arbitrary bytes can neither panic it nor make it allocate more than a small multiple of them.

use super::distribution::EXACT_LIMIT;
use super::sketch::{Sketch, StoreBins};
use super::{Aggregate, Distribution, RelativeAccuracy, RollupBucket, RollupError};
use crate::types::TimeRange;

/// Tag byte of encoding version 1, the first byte of every encoded bucket list.
pub const ENCODING_V1: u8 = 1;

const SUM_FLOAT: u8 = 0;
const SUM_INT: u8 = 1;
const DIST_NONE: u8 = 0;
const DIST_EXACT: u8 = 1;
const DIST_SKETCH: u8 = 2;
const DIST_OWN_ACCURACY: u8 = 0x80;
const STORE_PRESENT: u8 = 0x01;
const STORE_COLLAPSED: u8 = 0x02;
/// Sketch keys beyond this magnitude never come from a finite f64 at an accepted accuracy
/// (|ln f64::MAX| / ln(1 + 2e-3) is about 3.6e5), and keeping them small rules out overflow in the
/// sketch's key arithmetic (`rollup::sketch`).
const MAX_KEY: i64 = 1 << 24;
/// Fewest bytes a bucket takes: start, count, min, max, sum kind, sum, dist kind.
const MIN_BUCKET_BYTES: usize = 1 + 1 + 8 + 8 + 1 + 8 + 1;

/// Encodes `buckets` (layout in the module doc of `rollup`). Empty buckets are left out.
///
/// ```
/// use tally_engine::rollup::{decode_buckets, encode_buckets, rollup_column, Tier};
/// use tally_engine::ColumnValues;
/// let b = rollup_column(&[0, 5], &ColumnValues::Float(vec![1.5, 2.5]), Tier::Minute, true);
/// let bytes = encode_buckets(&b);
/// let back = decode_buckets(&bytes).unwrap();
/// assert_eq!(back[0].agg, b[0].agg);
/// ```
pub fn encode_buckets(buckets: &[RollupBucket]) -> Vec<u8> {
    let header_accuracy = buckets
        .iter()
        .find_map(|b| b.dist.as_ref().map(Distribution::accuracy))
        .unwrap_or_default();
    let live: Vec<&RollupBucket> = buckets.iter().filter(|b| b.agg.count > 0).collect();
    let mut out = Vec::with_capacity(4 + live.len() * 32);
    out.push(ENCODING_V1);
    out.extend_from_slice(&header_accuracy.units().to_le_bytes());
    put_uvarint(&mut out, live.len() as u64);
    let mut prev = 0i64;
    for (i, b) in live.into_iter().enumerate() {
        let delta = if i == 0 {
            b.start
        } else {
            b.start.wrapping_sub(prev)
        };
        prev = b.start;
        put_ivarint(&mut out, delta);
        put_aggregate(&mut out, &b.agg);
        put_distribution(&mut out, b.dist.as_ref(), header_accuracy);
    }
    out
}

fn put_aggregate(out: &mut Vec<u8>, a: &Aggregate) {
    put_uvarint(out, a.count);
    out.extend_from_slice(&a.min.to_le_bytes());
    out.extend_from_slice(&a.max.to_le_bytes());
    match a.int_sum {
        Some(s) => {
            out.push(SUM_INT);
            out.extend_from_slice(&s.to_le_bytes());
        }
        None => {
            out.push(SUM_FLOAT);
            out.extend_from_slice(&a.sum.to_le_bytes());
        }
    }
}

fn put_distribution(out: &mut Vec<u8>, d: Option<&Distribution>, header: RelativeAccuracy) {
    let Some(d) = d else {
        out.push(DIST_NONE);
        return;
    };
    let kind = if d.exact_values().is_some() {
        DIST_EXACT
    } else {
        DIST_SKETCH
    };
    if d.accuracy() == header {
        out.push(kind);
    } else {
        out.push(kind | DIST_OWN_ACCURACY);
        out.extend_from_slice(&d.accuracy().units().to_le_bytes());
    }
    if let Some(values) = d.exact_values() {
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
        return;
    }
    let Some(parts) = d.sketch() else {
        return;
    };
    out.extend_from_slice(&parts.min.to_le_bytes());
    out.extend_from_slice(&parts.max.to_le_bytes());
    put_uvarint(out, parts.zero_count);
    put_store(out, &parts.positive);
    put_store(out, &parts.negative);
}

fn put_store(out: &mut Vec<u8>, s: &StoreBins) {
    if s.counts.is_empty() {
        out.push(0);
        return;
    }
    out.push(STORE_PRESENT | if s.collapsed { STORE_COLLAPSED } else { 0 });
    put_ivarint(out, i64::from(s.min_key));
    put_uvarint(out, s.counts.len() as u64);
    for &c in &s.counts {
        put_uvarint(out, c);
    }
}

fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_ivarint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Decodes what [`encode_buckets`] wrote. Never panics; refuses anything no encoder writes.
pub fn decode_buckets(bytes: &[u8]) -> Result<Vec<RollupBucket>, RollupError> {
    decode_buckets_in(bytes, TimeRange::ALL).map(|(b, _)| b)
}

/// Like [`decode_buckets`], but returns only the buckets starting in `range`. Buckets before it
/// are checked, not built (a read of one hour of a day's minute buckets allocates one hour's
/// sketches), and decoding stops at the first bucket starting at or after its end: starts
/// ascend, as the writer lays them out (the caller checks the order of what it gets). Also
/// returns how many buckets the bytes hold when decoding reached their end, `None` when it
/// stopped early.
pub(crate) fn decode_buckets_in(
    bytes: &[u8],
    range: TimeRange,
) -> Result<(Vec<RollupBucket>, Option<u64>), RollupError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let tag = r.u8("encoding tag")?;
    if tag != ENCODING_V1 {
        return Err(RollupError::UnknownEncoding { tag });
    }
    let header = r.accuracy()?;
    let n = r.uvarint("bucket count")?;
    if n > (r.remaining() / MIN_BUCKET_BYTES) as u64 {
        return Err(r.corrupt("bucket count larger than the data"));
    }
    let mut out = Vec::new();
    let mut prev = 0i64;
    for i in 0..n {
        let delta = r.ivarint("bucket start")?;
        let start = if i == 0 {
            delta
        } else {
            prev.wrapping_add(delta)
        };
        prev = start;
        if start >= range.end {
            return Ok((out, None));
        }
        let agg = r.aggregate()?;
        let wanted = start >= range.start;
        let dist = r.distribution(&agg, header, wanted)?;
        if wanted {
            out.push(RollupBucket { start, agg, dist });
        }
    }
    if r.remaining() != 0 {
        return Err(r.corrupt("trailing bytes after the last bucket"));
    }
    Ok((out, Some(n)))
}

/// A bounds-checked cursor; errors carry the byte offset.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn corrupt(&self, what: &'static str) -> RollupError {
        RollupError::Corrupt {
            offset: self.pos,
            what,
        }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], RollupError> {
        let Some(s) = self.buf.get(self.pos..self.pos + N) else {
            return Err(self.corrupt(what));
        };
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        self.pos += N;
        Ok(a)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, RollupError> {
        Ok(self.take::<1>(what)?[0])
    }

    fn f64(&mut self, what: &'static str) -> Result<f64, RollupError> {
        Ok(f64::from_le_bytes(self.take::<8>(what)?))
    }

    fn finite(&mut self, what: &'static str) -> Result<f64, RollupError> {
        let v = self.f64(what)?;
        if !v.is_finite() {
            return Err(self.corrupt(what));
        }
        Ok(v)
    }

    fn accuracy(&mut self) -> Result<RelativeAccuracy, RollupError> {
        let units = u16::from_le_bytes(self.take::<2>("relative accuracy")?);
        RelativeAccuracy::from_units(units).ok_or_else(|| self.corrupt("relative accuracy"))
    }

    fn uvarint(&mut self, what: &'static str) -> Result<u64, RollupError> {
        let mut v = 0u64;
        let mut shift = 0u32;
        loop {
            let b = self.u8(what)?;
            if shift == 63 {
                if b > 1 {
                    return Err(self.corrupt("varint longer than 64 bits"));
                }
                return Ok(v | (u64::from(b) << 63));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    fn ivarint(&mut self, what: &'static str) -> Result<i64, RollupError> {
        let u = self.uvarint(what)?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    fn aggregate(&mut self) -> Result<Aggregate, RollupError> {
        let count = self.uvarint("aggregate count")?;
        if count == 0 {
            return Err(self.corrupt("empty bucket"));
        }
        let min = self.finite("aggregate min")?;
        let max = self.finite("aggregate max")?;
        if min > max {
            return Err(self.corrupt("aggregate min above max"));
        }
        let (sum, int_sum) = match self.u8("sum kind")? {
            SUM_FLOAT => (self.f64("float sum")?, None),
            SUM_INT => {
                let s = i128::from_le_bytes(self.take::<16>("integer sum")?);
                (s as f64, Some(s))
            }
            _ => return Err(self.corrupt("unknown sum kind")),
        };
        Ok(Aggregate {
            count,
            sum,
            min,
            max,
            int_sum,
        })
    }

    fn distribution(
        &mut self,
        agg: &Aggregate,
        header: RelativeAccuracy,
        build: bool,
    ) -> Result<Option<Distribution>, RollupError> {
        let kind = self.u8("distribution kind")?;
        if kind == DIST_NONE {
            return Ok(None);
        }
        let accuracy = if kind & DIST_OWN_ACCURACY != 0 {
            self.accuracy()?
        } else {
            header
        };
        match kind & !DIST_OWN_ACCURACY {
            DIST_EXACT => {
                if agg.count > EXACT_LIMIT as u64 {
                    return Err(self.corrupt("exact distribution larger than the limit"));
                }
                let mut values = Vec::with_capacity(if build { agg.count as usize } else { 0 });
                for _ in 0..agg.count {
                    let v = self.finite("exact value")?;
                    if v < agg.min || v > agg.max {
                        return Err(self.corrupt("exact value outside the bucket's min and max"));
                    }
                    if build {
                        values.push(v);
                    }
                }
                Ok(build.then(|| Distribution::from_exact(accuracy, values)))
            }
            DIST_SKETCH => {
                if agg.count <= EXACT_LIMIT as u64 {
                    return Err(self.corrupt("sketch of a bucket small enough to be exact"));
                }
                let min = self.finite("sketch min")?;
                let max = self.finite("sketch max")?;
                if min > max {
                    return Err(self.corrupt("sketch min above max"));
                }
                let zero_count = self.uvarint("sketch zero count")?;
                let mut total = Some(zero_count);
                let positive = self.store(accuracy, build, &mut total)?;
                let negative = self.store(accuracy, build, &mut total)?;
                if !build {
                    return Ok(None);
                }
                if total != Some(agg.count) {
                    return Err(self.corrupt("sketch count differs from the bucket count"));
                }
                Ok(Some(Distribution::from_sketch(Sketch {
                    accuracy,
                    positive,
                    negative,
                    zero_count,
                    min,
                    max,
                })))
            }
            _ => Err(self.corrupt("unknown distribution kind")),
        }
    }

    /// Reads a store, adding its counts to `total` (`None` once that overflows). Without
    /// `build` the bins are only stepped over (and `total` is left meaningless).
    fn store(
        &mut self,
        accuracy: RelativeAccuracy,
        build: bool,
        total: &mut Option<u64>,
    ) -> Result<StoreBins, RollupError> {
        let limit = accuracy.max_bins();
        let flags = self.u8("sketch store flags")?;
        if flags == 0 {
            return Ok(StoreBins {
                collapsed: false,
                min_key: 0,
                counts: Vec::new(),
            });
        }
        if flags & STORE_PRESENT == 0 || flags & !(STORE_PRESENT | STORE_COLLAPSED) != 0 {
            return Err(self.corrupt("unknown sketch store flags"));
        }
        let collapsed = flags & STORE_COLLAPSED != 0;
        let min_key = self.ivarint("sketch min key")?;
        let n = self.uvarint("sketch bin count")?;
        if n == 0 || n > u64::from(limit) || n > self.remaining() as u64 {
            return Err(self.corrupt("sketch bin count out of range"));
        }
        let max_key = min_key.saturating_add(n as i64 - 1);
        if min_key.abs() > MAX_KEY || max_key.abs() > MAX_KEY {
            return Err(self.corrupt("sketch key out of range"));
        }
        if !build {
            // A bucket outside the read: find where its bins end without decoding them (the
            // file's checksums vouch for the bytes; bounds are still checked, so nothing can
            // overrun). Its counts are not added up, so the caller skips the total check.
            let mut ends = 0u64;
            let mut used = 0usize;
            for &b in &self.buf[self.pos..] {
                used += 1;
                if b < 0x80 {
                    ends += 1;
                    if ends == n {
                        break;
                    }
                }
            }
            if ends < n {
                return Err(self.corrupt("sketch bin"));
            }
            self.pos += used;
            *total = None;
            return Ok(StoreBins::default());
        }
        let mut counts = Vec::with_capacity(n as usize);
        for i in 0..n {
            let c = self.uvarint("sketch bin")?;
            if c == 0 && (i == 0 || i == n - 1) {
                return Err(self.corrupt("sketch store with an empty first or last bin"));
            }
            *total = total.and_then(|t| t.checked_add(c));
            counts.push(c);
        }
        Ok(StoreBins {
            collapsed,
            min_key: min_key as i32,
            counts,
        })
    }
}
