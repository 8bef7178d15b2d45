//! Timestamp columns: a run (first + fixed step), scaled delta frame-of-reference, or scaled
//! delta-of-delta, whichever is smallest.
//!
//! Deltas are divided by their greatest common divisor (the *scale*) first, so timestamps that
//! are whole milliseconds or seconds in nanoseconds cost what their real precision needs. All
//! arithmetic wraps, so out-of-order, duplicate and extreme (`i64::MIN`/`MAX`) timestamps
//! round-trip exactly.

use super::offsets::{self, Layout};
use super::varint::{ivarint_len, put_ivarint, put_uvarint, unzigzag, zigzag, Reader};
use super::{CodecError, MAX_RUN_LEN, TAG_EMPTY};
use crate::types::Nanos;

/// `first + i * delta`: count, first, delta.
pub(crate) const TAG_RUN: u8 = 1;
/// Count, first, scale, minimum scaled delta, then each `delta / scale - min` as offsets.
pub(crate) const TAG_DELTA: u8 = 2;
/// Count, first, scale, then each change of scaled delta (the first against 0), zigzag, as
/// offsets.
pub(crate) const TAG_DOD: u8 = 3;

/// Appends the smallest encoding of `ts`.
pub(crate) fn encode(ts: &[Nanos], out: &mut Vec<u8>) {
    let [first, second, ..] = *ts else {
        match ts.first() {
            None => out.push(TAG_EMPTY),
            Some(&t) => encode_run(1, t, 0, out),
        }
        return;
    };
    let step = second.wrapping_sub(first);
    let mut regular = true;
    let mut gcd = 0u64;
    for w in ts.windows(2) {
        let d = w[1].wrapping_sub(w[0]);
        regular &= d == step;
        let a = d.unsigned_abs();
        // Most deltas are multiples of the gcd so far; one division is cheaper than Stein's.
        if gcd != 1 && (gcd == 0 || a % gcd != 0) {
            gcd = binary_gcd(gcd, a);
        }
    }
    if regular && ts.len() <= MAX_RUN_LEN {
        encode_run(ts.len(), first, step, out);
        return;
    }
    let scale = usable_scale(gcd);
    let q: Vec<i64> = scaled_deltas(ts, scale).collect();
    let (min_q, delta_offs) = delta_offsets(&q);
    let (delta_layout, delta_cost) = offsets::plan(&delta_offs);
    let dod_offs = dod_offsets(&q);
    let (dod_layout, dod_cost) = offsets::plan(&dod_offs);
    if dod_cost < delta_cost + ivarint_len(min_q) {
        write_dod(ts, scale, &dod_offs, dod_layout, out);
    } else {
        write_delta(ts, scale, min_q, &delta_offs, delta_layout, out);
    }
}

/// The least scaled delta and each scaled delta minus it.
fn delta_offsets(q: &[i64]) -> (i64, Vec<u64>) {
    let min_q = q.iter().copied().min().unwrap_or(0);
    (
        min_q,
        q.iter().map(|&d| d.wrapping_sub(min_q) as u64).collect(),
    )
}

/// Each change of scaled delta (the first against 0), zigzag.
fn dod_offsets(q: &[i64]) -> Vec<u64> {
    let mut prev = 0i64;
    q.iter()
        .map(|&d| {
            let z = zigzag(d.wrapping_sub(prev));
            prev = d;
            z
        })
        .collect()
}

/// The scale actually used for a gcd of deltas: 1 when there is nothing to divide by (all deltas
/// zero) or when the gcd (2^63) does not fit an `i64`.
fn usable_scale(gcd: u64) -> i64 {
    match i64::try_from(gcd) {
        Ok(g) if g > 0 => g,
        _ => 1,
    }
}

/// Each wrapping delta divided by `scale`, which must divide all of them exactly.
fn scaled_deltas(ts: &[Nanos], scale: i64) -> impl Iterator<Item = i64> + '_ {
    ts.windows(2).map(move |w| w[1].wrapping_sub(w[0]) / scale)
}

/// Stein's algorithm; `gcd(0, x) = x`.
fn binary_gcd(mut a: u64, mut b: u64) -> u64 {
    if a == 0 {
        return b;
    }
    if b == 0 {
        return a;
    }
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
}

/// Writes the run variant: `n` timestamps `first + i * delta`.
pub(crate) fn encode_run(n: usize, first: Nanos, delta: i64, out: &mut Vec<u8>) {
    out.push(TAG_RUN);
    put_uvarint(out, n as u64);
    out.extend_from_slice(&first.to_le_bytes());
    put_ivarint(out, delta);
}

/// Writes the delta variant in `layout`; `scale` (at least 1) must divide every delta. `ts` is
/// not empty.
#[cfg(test)]
pub(crate) fn encode_delta(ts: &[Nanos], scale: i64, layout: Layout, out: &mut Vec<u8>) {
    let q: Vec<i64> = scaled_deltas(ts, scale).collect();
    let (min_q, offs) = delta_offsets(&q);
    write_delta(ts, scale, min_q, &offs, layout, out);
}

fn write_delta(
    ts: &[Nanos],
    scale: i64,
    min_q: i64,
    offs: &[u64],
    layout: Layout,
    out: &mut Vec<u8>,
) {
    write_head(TAG_DELTA, ts, scale, out);
    put_ivarint(out, min_q);
    offsets::write(offs, layout, out);
}

/// Writes the delta-of-delta variant in `layout`; `scale` (at least 1) must divide every delta.
/// `ts` holds at least two timestamps.
#[cfg(test)]
pub(crate) fn encode_dod(ts: &[Nanos], scale: i64, layout: Layout, out: &mut Vec<u8>) {
    let q: Vec<i64> = scaled_deltas(ts, scale).collect();
    write_dod(ts, scale, &dod_offsets(&q), layout, out);
}

fn write_dod(ts: &[Nanos], scale: i64, offs: &[u64], layout: Layout, out: &mut Vec<u8>) {
    write_head(TAG_DOD, ts, scale, out);
    offsets::write(offs, layout, out);
}

/// Tag, count, first timestamp, scale.
fn write_head(tag: u8, ts: &[Nanos], scale: i64, out: &mut Vec<u8>) {
    out.push(tag);
    put_uvarint(out, ts.len() as u64);
    out.extend_from_slice(&ts.first().copied().unwrap_or(0).to_le_bytes());
    put_uvarint(out, scale as u64);
}

/// Decodes a buffer holding exactly one encoding, appending to `out`.
pub(crate) fn decode(buf: &[u8], out: &mut Vec<Nanos>) -> Result<(), CodecError> {
    decode_before(buf, None, out).map(|_| ())
}

/// Decodes a column sorted ascending only as far as needed for the timestamps before `end`:
/// appends them and at most one more, and returns whether the whole column was decoded (only
/// a whole column has its trailing bytes checked). `end = None` decodes everything, in any
/// order.
pub(crate) fn decode_before(
    buf: &[u8],
    end: Option<Nanos>,
    out: &mut Vec<Nanos>,
) -> Result<bool, CodecError> {
    let (bounded, end) = (end.is_some(), end.unwrap_or(Nanos::MAX));
    let mut r = Reader::new(buf);
    match r.u8("timestamp encoding tag")? {
        TAG_EMPTY => {}
        TAG_RUN => {
            let n = r.count(MAX_RUN_LEN, "timestamp run count too large")?;
            if n == 0 {
                return Err(CodecError::Invalid("timestamp run with no values"));
            }
            let mut t = r.u64_le("first timestamp")? as i64;
            let delta = r.ivarint("timestamp run delta")?;
            out.reserve(n);
            for i in 1..=n {
                out.push(t);
                if bounded && t >= end && i < n {
                    return Ok(false);
                }
                t = t.wrapping_add(delta);
            }
        }
        TAG_DELTA => {
            let n = r.count(
                r.remaining().saturating_mul(8),
                "timestamp count exceeds the data",
            )?;
            if n == 0 {
                return Err(CodecError::Invalid(
                    "delta-encoded timestamps with no values",
                ));
            }
            let mut t = r.u64_le("first timestamp")? as i64;
            let scale = read_scale(&mut r)?;
            let min_q = r.ivarint("minimum timestamp delta")?;
            out.push(t);
            if bounded && t >= end && n > 1 {
                return Ok(false);
            }
            out.reserve(n - 1);
            return offsets::decode_while(&mut r, n - 1, |o| {
                t = t.wrapping_add(min_q.wrapping_add(o as i64).wrapping_mul(scale));
                out.push(t);
                !bounded || t < end
            });
        }
        TAG_DOD => {
            let n = r.count(
                r.remaining().saturating_mul(8),
                "timestamp count exceeds the data",
            )?;
            if n < 2 {
                return Err(CodecError::Invalid(
                    "delta-of-delta timestamps with fewer than two values",
                ));
            }
            let mut t = r.u64_le("first timestamp")? as i64;
            let scale = read_scale(&mut r)?;
            out.push(t);
            if bounded && t >= end && n > 1 {
                return Ok(false);
            }
            out.reserve(n - 1);
            let mut q = 0i64;
            return offsets::decode_while(&mut r, n - 1, |o| {
                q = q.wrapping_add(unzigzag(o));
                t = t.wrapping_add(q.wrapping_mul(scale));
                out.push(t);
                !bounded || t < end
            });
        }
        tag => {
            return Err(CodecError::UnknownTag {
                what: "timestamp",
                tag,
            })
        }
    }
    r.finish("trailing bytes after timestamp column")?;
    Ok(true)
}

fn read_scale(r: &mut Reader<'_>) -> Result<i64, CodecError> {
    match i64::try_from(r.uvarint("timestamp scale")?) {
        Ok(s) if s > 0 => Ok(s),
        _ => Err(CodecError::Invalid("timestamp scale out of range")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(ts: &[Nanos], buf: &[u8]) -> Result<(), TestCaseError> {
        let mut got = vec![42];
        decode(buf, &mut got).unwrap();
        prop_assert_eq!(got[0], 42, "decode appends");
        prop_assert_eq!(&got[1..], ts);
        Ok(())
    }

    fn gcd_of(ts: &[Nanos]) -> i64 {
        usable_scale(ts.windows(2).fold(0, |g, w| {
            binary_gcd(g, w[1].wrapping_sub(w[0]).unsigned_abs())
        }))
    }

    /// Sorted timestamps at a given precision with jittered gaps, some duplicates and a few
    /// steps backwards.
    fn jittery() -> impl Strategy<Value = Vec<Nanos>> {
        (
            any::<i64>(),
            prop_oneof![
                Just(1i64),
                Just(1_000),
                Just(1_000_000),
                Just(1_000_000_000)
            ],
            prop::collection::vec(-3i64..20_000, 0..300),
        )
            .prop_map(|(start, unit, gaps)| {
                let mut t = start;
                let mut v = vec![t];
                for g in gaps {
                    // Mostly forward, sometimes equal (g in 0..=0) or backwards (g < 0).
                    t = t.wrapping_add(g.wrapping_mul(unit));
                    v.push(t);
                }
                v
            })
    }

    fn edgy() -> impl Strategy<Value = Vec<Nanos>> {
        prop::collection::vec(
            prop_oneof![
                any::<i64>(),
                Just(i64::MIN),
                Just(i64::MAX),
                Just(0),
                Just(-1),
            ],
            0..100,
        )
    }

    proptest! {
        #[test]
        fn chosen_round_trips(ts in prop_oneof![jittery(), edgy()]) {
            let mut buf = Vec::new();
            encode(&ts, &mut buf);
            check(&ts, &buf)?;
        }

        #[test]
        fn decoding_before_an_end_stops_right_after_it(
            ts in prop_oneof![jittery(), edgy()],
            pick in any::<prop::sample::Index>(),
            k in 0u32..64,
        ) {
            let mut ts = ts;
            ts.sort_unstable();
            // An end at a stored timestamp, one past it, or beyond everything.
            let end = if ts.is_empty() {
                0
            } else {
                let t = ts[pick.index(ts.len())];
                if k % 2 == 0 { t } else { t.saturating_add(1) }
            };
            let mut bufs = Vec::new();
            let mut chosen = Vec::new();
            encode(&ts, &mut chosen);
            bufs.push(chosen);
            if ts.len() >= 2 {
                for layout in [Layout::Varint, Layout::Packed, Layout::Rice(k)] {
                    let mut b = Vec::new();
                    encode_delta(&ts, 1, layout, &mut b);
                    bufs.push(b);
                    let mut b = Vec::new();
                    encode_dod(&ts, 1, layout, &mut b);
                    bufs.push(b);
                }
            }
            let before = ts.partition_point(|&t| t < end);
            for buf in &bufs {
                let mut got = Vec::new();
                let whole = decode_before(buf, Some(end), &mut got)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                // A prefix of the column, holding everything before `end` and at most one more.
                prop_assert_eq!(&got[..], &ts[..got.len()]);
                prop_assert!(got.len() >= before && got.len() <= before + 1);
                prop_assert_eq!(whole, got.len() == ts.len());
                let mut all = Vec::new();
                prop_assert!(decode_before(buf, None, &mut all).unwrap_or(false));
                prop_assert_eq!(&all, &ts);
            }
        }

        #[test]
        fn delta_and_dod_round_trip_in_every_layout(ts in prop_oneof![jittery(), edgy()], k in 0u32..64) {
            prop_assume!(ts.len() >= 2);
            for layout in [Layout::Varint, Layout::Packed, Layout::Rice(k)] {
                for scale in [gcd_of(&ts), 1] {
                    let mut buf = Vec::new();
                    encode_delta(&ts, scale, layout, &mut buf);
                    prop_assert_eq!(buf[0], TAG_DELTA);
                    check(&ts, &buf)?;
                    buf.clear();
                    encode_dod(&ts, scale, layout, &mut buf);
                    prop_assert_eq!(buf[0], TAG_DOD);
                    check(&ts, &buf)?;
                }
            }
        }

        #[test]
        fn regular_series_are_runs(first in any::<i64>(), step in any::<i64>(), n in 1usize..1000) {
            let ts: Vec<Nanos> = (0..n as i64).map(|i| first.wrapping_add(step.wrapping_mul(i))).collect();
            let mut buf = Vec::new();
            encode(&ts, &mut buf);
            prop_assert_eq!(buf[0], TAG_RUN);
            prop_assert!(buf.len() <= 1 + 2 + 8 + 10);
            check(&ts, &buf)?;
        }

        #[test]
        fn drifting_intervals_use_delta_of_delta(
            first in any::<i64>(),
            jitter in prop::collection::vec(-10i64..10, 10..200),
        ) {
            // Intervals that grow by about 40 µs each time (a back-off, a slowing producer):
            // the spread of deltas is wide, their changes stay small.
            let mut t = first;
            let mut ts = vec![t];
            for (i, j) in jitter.iter().enumerate() {
                t = t.wrapping_add((10_000 + 40 * i as i64 + j) * 1_000);
                ts.push(t);
            }
            let mut buf = Vec::new();
            encode(&ts, &mut buf);
            prop_assert_eq!(buf[0], TAG_DOD);
            check(&ts, &buf)?;
        }
    }

    #[test]
    fn gcd_works() {
        assert_eq!(binary_gcd(0, 0), 0);
        assert_eq!(binary_gcd(0, 12), 12);
        assert_eq!(binary_gcd(12, 18), 6);
        assert_eq!(binary_gcd(1 << 63, 1 << 62), 1 << 62);
        assert_eq!(usable_scale(1 << 63), 1);
        assert_eq!(usable_scale(0), 1);
    }

    #[test]
    fn millisecond_timestamps_are_scaled() {
        let ts: Vec<Nanos> = (0..100i64)
            .map(|i| 1_767_225_600_000_000_000 + i * i * 1_000_000)
            .collect();
        let mut buf = Vec::new();
        encode(&ts, &mut buf);
        let mut r = Reader::new(&buf[1..]);
        r.uvarint("n").unwrap();
        r.u64_le("first").unwrap();
        assert_eq!(r.uvarint("scale").unwrap(), 1_000_000);
        check(&ts, &buf).unwrap();
    }

    #[test]
    fn extreme_wraps_round_trip() {
        let ts = [i64::MAX, i64::MIN, i64::MAX, 0, i64::MIN, i64::MIN];
        let mut buf = Vec::new();
        encode(&ts, &mut buf);
        check(&ts, &buf).unwrap();
    }

    #[test]
    fn huge_constant_columns_fall_back_to_a_bounded_variant() {
        let ts = vec![5; MAX_RUN_LEN + 1];
        let mut buf = Vec::new();
        encode(&ts, &mut buf);
        assert_ne!(buf[0], TAG_RUN);
        check(&ts, &buf).unwrap();
    }
}
