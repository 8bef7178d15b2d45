//! Long columns cut into chunks, so a read of a short range decodes only the chunks around it.
//!
//! Why: one series of a busy endpoint holds tens of thousands of points per day partition, and
//! the unaligned edge of a rollup query (under a minute) needs a few of them. Whole-column
//! encodings must be decoded from the start; a chunked column lists each chunk's point count,
//! first timestamp and byte length up front, so the reader jumps to the chunks that can hold
//! the range (the idea of Prometheus' 120-sample chunks, kept inside one column so the segment
//! index and every old file stay as they are).
//!
//! Layout (`docs/format.md`, "Chunked columns"), after the tag byte [`TAG_CHUNKED`]:
//! - timestamps: `chunks` uvarint (at least 2), the first chunk's first timestamp as i64 LE,
//!   then per chunk `points` uvarint, `first - previous first` uvarint (0 for the first chunk)
//!   and `len` uvarint; then the chunks' own encodings back to back. Only sorted columns are
//!   chunked, so chunk `k` holds timestamps in `[first_k, first_{k+1}]`.
//! - values: `chunks` uvarint, per chunk `points` and `len` uvarints, then the encodings. A
//!   value column is cut where its series' timestamp column is.
//!
//! Each chunk is an ordinary encoding of its type (never itself chunked).

use super::varint::{put_uvarint, Reader};
use super::CodecError;
use crate::types::{Nanos, TimeRange};
use std::ops::Range;

/// Tag of a chunked column, timestamps or values (outside every plain variant's tags).
pub(crate) const TAG_CHUNKED: u8 = 0x80;

/// One chunk, as its header describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunk {
    /// Index of its first point in the column.
    pub(crate) first_point: usize,
    /// Points it holds.
    pub(crate) points: usize,
    /// Its first timestamp (timestamp columns only; 0 for values).
    pub(crate) first_ts: Nanos,
    /// Where its encoding lies in the column's bytes.
    pub(crate) bytes: Range<usize>,
}

/// Writes `n` points as chunks of at most `chunk` points: `encode(range, out)` appends the plain
/// encoding of the points in `range`. With `first_ts` (a sorted timestamp column) the header
/// carries each chunk's first timestamp.
pub(crate) fn encode(
    n: usize,
    chunk: usize,
    first_ts: Option<&[Nanos]>,
    out: &mut Vec<u8>,
    mut encode: impl FnMut(Range<usize>, &mut Vec<u8>),
) {
    let chunk = chunk.max(1);
    let ranges: Vec<Range<usize>> = (0..n)
        .step_by(chunk)
        .map(|s| s..(s + chunk).min(n))
        .collect();
    let mut bodies: Vec<Vec<u8>> = Vec::with_capacity(ranges.len());
    for r in &ranges {
        let mut b = Vec::new();
        encode(r.clone(), &mut b);
        bodies.push(b);
    }
    out.push(TAG_CHUNKED);
    put_uvarint(out, ranges.len() as u64);
    if let Some(ts) = first_ts {
        out.extend_from_slice(&ts.first().copied().unwrap_or(0).to_le_bytes());
    }
    let mut prev_first = first_ts.and_then(|ts| ts.first().copied()).unwrap_or(0);
    for (r, b) in ranges.iter().zip(&bodies) {
        put_uvarint(out, r.len() as u64);
        if let Some(ts) = first_ts {
            let first = ts[r.start];
            put_uvarint(out, first.wrapping_sub(prev_first) as u64);
            prev_first = first;
        }
        put_uvarint(out, b.len() as u64);
    }
    for b in &bodies {
        out.extend_from_slice(b);
    }
}

/// Parses the header of a chunked column (`buf` starts with [`TAG_CHUNKED`]); `timestamps`
/// says whether it carries first timestamps. Every length is checked against the buffer, and
/// the chunks must cover it exactly.
pub(crate) fn chunks(buf: &[u8], timestamps: bool) -> Result<Vec<Chunk>, CodecError> {
    let mut r = Reader::new(buf);
    if r.u8("chunked column tag")? != TAG_CHUNKED {
        return Err(CodecError::Invalid("not a chunked column"));
    }
    // Every chunk header takes at least two bytes (three with a first timestamp).
    let n = r.count(r.remaining() / 2, "chunk count exceeds the data")?;
    if n < 2 {
        return Err(CodecError::Invalid(
            "chunked column with fewer than two chunks",
        ));
    }
    let mut first_ts = if timestamps {
        r.u64_le("first chunk timestamp")? as i64
    } else {
        0
    };
    let mut out = Vec::with_capacity(n);
    let (mut point, mut byte) = (0usize, 0usize);
    for i in 0..n {
        let points = r.uvarint("chunk point count")?;
        if points == 0 {
            return Err(CodecError::Invalid("chunk with no points"));
        }
        if timestamps {
            let step = r.uvarint("chunk first timestamp")?;
            if i == 0 && step != 0 {
                return Err(CodecError::Invalid("first chunk offset from itself"));
            }
            first_ts = first_ts
                .checked_add_unsigned(step)
                .ok_or(CodecError::Invalid("chunk first timestamps overflow"))?;
        }
        let len = r.uvarint("chunk length")?;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| byte.checked_add(l))
            .ok_or(CodecError::Invalid("chunk lengths overflow"))?;
        let points = usize::try_from(points)
            .ok()
            .filter(|&p| p <= 8 * buf.len().max(1) + super::MAX_RUN_LEN)
            .ok_or(CodecError::Invalid("chunk point count too large"))?;
        out.push(Chunk {
            first_point: point,
            points,
            first_ts,
            bytes: byte..end,
        });
        point = point
            .checked_add(points)
            .ok_or(CodecError::Invalid("chunk point counts overflow"))?;
        byte = end;
    }
    let body = r.rest();
    if byte != body.len() {
        return Err(CodecError::Invalid(
            "chunk lengths differ from the column's",
        ));
    }
    let base = buf.len() - body.len();
    for c in &mut out {
        c.bytes = c.bytes.start + base..c.bytes.end + base;
    }
    Ok(out)
}

/// The chunks of a sorted timestamp column that can hold points in `range`: chunk `k` holds
/// timestamps in `[first_k, first_{k+1}]`, the last one from `first` on.
pub(crate) fn overlapping(chunks: &[Chunk], range: TimeRange) -> Range<usize> {
    // First chunk whose successor starts at or after `range.start` (it may hold the start).
    let lo = chunks
        .partition_point(|c| c.first_ts < range.start)
        .saturating_sub(1);
    // Chunks starting before `range.end` may hold points inside.
    let hi = chunks.partition_point(|c| c.first_ts < range.end).max(lo);
    lo..hi
}

/// The chunks holding the points `points` (indexes into the column).
pub(crate) fn covering(chunks: &[Chunk], points: Range<usize>) -> Range<usize> {
    if points.is_empty() {
        return 0..0;
    }
    let lo = chunks
        .partition_point(|c| c.first_point + c.points <= points.start)
        .min(chunks.len());
    let hi = chunks
        .partition_point(|c| c.first_point < points.end)
        .max(lo);
    lo..hi
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{
        decode_timestamps, decode_timestamps_in, decode_values, decode_values_in,
        encode_timestamps_chunked, encode_values_chunked,
    };
    use crate::types::ColumnValues;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn chunked_columns_round_trip_and_read_any_range(
            gaps in prop::collection::vec(0i64..50, 0..200),
            chunk in 1usize..40,
            a in 0i64..6000,
            len in 0i64..3000,
        ) {
            let mut t = 1_000i64;
            let ts: Vec<Nanos> = gaps.iter().map(|g| { t += g; t }).collect();
            let vals = ColumnValues::Integer(ts.iter().map(|&x| x * 3 - 7).collect());
            let (mut tb, mut vb) = (Vec::new(), Vec::new());
            encode_timestamps_chunked(&ts, chunk, &mut tb);
            encode_values_chunked(&vals, chunk, &mut vb);
            let mut all = Vec::new();
            decode_timestamps(&tb, &mut all).unwrap();
            prop_assert_eq!(&all, &ts);
            prop_assert_eq!(&decode_values(crate::FieldType::Integer, &vb).unwrap(), &vals);
            // A range read: a consecutive run holding exactly what the range holds.
            let range = TimeRange::new(1_000 + a, 1_000 + a + len);
            let mut run = Vec::new();
            let w = decode_timestamps_in(&tb, range, &mut run).unwrap();
            prop_assert_eq!(&run[..], &ts[w.first..w.first + run.len()]);
            let lo = ts.partition_point(|&t| t < range.start);
            let hi = ts.partition_point(|&t| t < range.end).max(lo);
            prop_assert!(w.first <= lo && w.first + run.len() >= hi);
            if w.to_end {
                prop_assert_eq!(w.first + run.len(), ts.len());
            }
            if lo < hi {
                let (v, first) =
                    decode_values_in(crate::FieldType::Integer, &vb, lo..hi).unwrap();
                prop_assert!(first <= lo && first + v.len() >= hi);
                prop_assert_eq!(v.slice(lo - first..hi - first), vals.slice(lo..hi));
            }
        }

        #[test]
        fn mutated_chunked_columns_never_panic(
            n in 2usize..120,
            chunk in 1usize..20,
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            let ts: Vec<Nanos> = (0..n as i64).map(|i| i * 1_000 + i % 7).collect();
            let vals = ColumnValues::Float(ts.iter().map(|&t| t as f64 / 3.0).collect());
            let (mut tb, mut vb) = (Vec::new(), Vec::new());
            encode_timestamps_chunked(&ts, chunk, &mut tb);
            encode_values_chunked(&vals, chunk, &mut vb);
            for buf in [&mut tb, &mut vb] {
                let i = at.index(buf.len());
                buf[i] = byte;
                let mut out = Vec::new();
                let _ = decode_timestamps(buf, &mut out);
                let _ = decode_timestamps_in(buf, TimeRange::new(5_000, 9_000), &mut out);
                let _ = decode_values(crate::FieldType::Float, buf);
                let _ = decode_values_in(crate::FieldType::Float, buf, 3..9);
                for len in 0..buf.len() {
                    let _ = decode_values(crate::FieldType::Float, &buf[..len]);
                    let _ = decode_timestamps(&buf[..len], &mut out);
                }
            }
        }

        #[test]
        fn unsorted_timestamps_stay_plain(ts in prop::collection::vec(any::<i64>(), 2..50)) {
            prop_assume!(ts.windows(2).any(|w| w[0] > w[1]));
            let mut b = Vec::new();
            encode_timestamps_chunked(&ts, 1, &mut b);
            prop_assert_ne!(b[0], TAG_CHUNKED);
        }
    }

    fn column(n: usize, chunk: usize) -> (Vec<Nanos>, Vec<u8>) {
        let ts: Vec<Nanos> = (0..n as i64).map(|i| 1_000 + i * 10).collect();
        let mut out = Vec::new();
        encode(n, chunk, Some(&ts), &mut out, |r, b| {
            b.extend(ts[r].iter().flat_map(|t| t.to_le_bytes()))
        });
        (ts, out)
    }

    #[test]
    fn headers_round_trip_and_cover_the_bytes() {
        let (ts, buf) = column(25, 10);
        let c = chunks(&buf, true).unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(
            c.iter()
                .map(|c| (c.first_point, c.points, c.first_ts))
                .collect::<Vec<_>>(),
            vec![(0, 10, ts[0]), (10, 10, ts[10]), (20, 5, ts[20])]
        );
        assert_eq!(c[2].bytes.end, buf.len());
        assert_eq!(&buf[c[1].bytes.clone()][..8], &ts[10].to_le_bytes());
    }

    #[test]
    fn overlapping_picks_the_chunks_that_can_hold_the_range() {
        let (_, buf) = column(30, 10); // chunks start at 1000, 1100, 1200
        let c = chunks(&buf, true).unwrap();
        let r = |a, b| overlapping(&c, TimeRange::new(a, b));
        assert_eq!(r(0, 500), 0..0);
        assert_eq!(r(1000, 1010), 0..1);
        assert_eq!(r(1095, 1105), 0..2);
        assert_eq!(r(1100, 1101), 0..2); // a tie may sit at the end of chunk 0
        assert_eq!(r(1150, 1160), 1..2);
        assert_eq!(r(1250, 9999), 2..3);
        assert_eq!(r(0, 9999), 0..3);
        assert_eq!(covering(&c, 0..1), 0..1);
        assert_eq!(covering(&c, 9..11), 0..2);
        assert_eq!(covering(&c, 20..30), 2..3);
        assert_eq!(covering(&c, 5..5), 0..0);
    }

    #[test]
    fn bad_headers_are_refused() {
        let (_, buf) = column(25, 10);
        for len in 0..buf.len() {
            assert!(chunks(&buf[..len], true).is_err(), "prefix of {len} bytes");
        }
        let mut longer = buf.clone();
        longer.push(0);
        assert!(chunks(&longer, true).is_err());
        // One chunk is not a chunked column.
        let (_, one) = column(5, 10);
        assert!(chunks(&one, true).is_err());
    }
}
