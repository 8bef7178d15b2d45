//! Column codecs: how timestamps and values are packed before a segment block is zstd-compressed.
//!
//! Invariants (the byte layouts are in `docs/format.md` ("Column codecs")):
//! - Every encoded column starts with one tag byte naming its variant, so later versions can add
//!   variants and still read every old one. Tags are numbered per column type; tag 0 is the empty
//!   column for every type, and tag 0x80 a column cut into chunks (`chunked.rs`) of plain
//!   encodings, so a short range decodes only the chunks around it.
//! - The encoder picks, per column, the variant that is smallest before zstd; the decoder accepts
//!   exactly one encoding spanning the whole buffer and refuses trailing bytes.
//! - Round trips are exact: timestamps and integers through wrapping arithmetic (any `i64`/`u64`,
//!   in any order, duplicates included), floats bit for bit (NaN payloads, `-0.0`, infinities,
//!   subnormals).
//! - Decoders never panic and never reserve more than the input justifies: a count is checked
//!   against what the rest of the buffer can hold before anything is allocated, and the variants
//!   that expand (constants, runs, dictionaries) are capped at [`MAX_RUN_LEN`] values; encoders
//!   fall back to a non-expanding variant for longer columns.
//!
//! The segment layer compresses each block with zstd afterwards. zstd squeezes byte-aligned
//! varints of repetitive data well and bit streams hardly at all, but noisy numbers are smaller
//! bit-packed or Rice-coded even after zstd; so runs of integers pick their layout per column
//! (see `offsets.rs`), and headers stay byte-aligned.

mod bits;
mod boolean;
mod chunked;
mod float;
mod integer;
mod offsets;
mod string;
mod timestamp;
mod varint;

#[cfg(test)]
mod robustness_tests;
#[cfg(test)]
mod size_tests;

use crate::types::{ColumnValues, FieldType, Nanos, TimeRange};
use thiserror::Error;

/// Most values a constant, run or run-length column may expand to on decoding (4 Mi values).
///
/// Columns longer than this are still encoded, just with a variant whose size grows with the
/// column, so a few corrupt bytes can never ask the decoder for gigabytes.
pub const MAX_RUN_LEN: usize = 1 << 22;

/// The tag of an empty column, whatever its type.
pub(crate) const TAG_EMPTY: u8 = 0;

/// A column that does not decode.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// The buffer ended before the column did.
    #[error("column data truncated: {0}")]
    Truncated(&'static str),
    /// The buffer holds something no encoder writes.
    #[error("column data invalid: {0}")]
    Invalid(&'static str),
    /// The column was written with a variant this version does not know, probably by a newer
    /// Tally.
    #[error("unknown {what} column encoding {tag}: written by a newer version of Tally? upgrade to read it")]
    UnknownTag {
        /// The column type.
        what: &'static str,
        /// The tag byte found.
        tag: u8,
    },
}

/// Appends the encoding of `ts` to `out`.
///
/// Timestamps may be in any order and repeat; they come back exactly.
///
/// ```
/// use tally_engine::codec::{decode_timestamps, encode_timestamps};
/// let ts = [1_000_000_000, 2_000_000_000, 3_000_000_000, 3_000_000_000, 2_500_000_000];
/// let mut buf = Vec::new();
/// encode_timestamps(&ts, &mut buf);
/// let mut back = Vec::new();
/// decode_timestamps(&buf, &mut back).unwrap();
/// assert_eq!(back, ts);
/// ```
pub fn encode_timestamps(ts: &[Nanos], out: &mut Vec<u8>) {
    timestamp::encode(ts, out);
}

/// Decodes a buffer written by [`encode_timestamps`] or [`encode_timestamps_chunked`] (exactly
/// that, no more), appending to `out`.
///
/// On error `out` may hold part of the column.
pub fn decode_timestamps(buf: &[u8], out: &mut Vec<Nanos>) -> Result<(), CodecError> {
    if buf.first() != Some(&chunked::TAG_CHUNKED) {
        return timestamp::decode(buf, out);
    }
    for c in chunked::chunks(buf, true)? {
        let before = out.len();
        timestamp::decode(&buf[c.bytes.clone()], out)?;
        check_chunk_len(out.len() - before, &c)?;
    }
    Ok(())
}

/// Points per chunk the segment writer cuts long columns into: small enough that a short range
/// decodes a few thousand values at most, large enough that chunk headers cost about 1%.
pub const CHUNK_POINTS: usize = 1024;

/// Appends `ts` encoded in chunks of `chunk` points when there are more and they are sorted
/// ascending (the segment writer's columns), else as [`encode_timestamps`] does. A chunked
/// column lets [`decode_timestamps_in`] decode only the chunks around a range.
pub fn encode_timestamps_chunked(ts: &[Nanos], chunk: usize, out: &mut Vec<u8>) {
    if ts.len() <= chunk.max(1) || ts.windows(2).any(|w| w[0] > w[1]) {
        return timestamp::encode(ts, out);
    }
    chunked::encode(ts.len(), chunk, Some(ts), out, |r, b| {
        timestamp::encode(&ts[r], b)
    });
}

/// Where the timestamps [`decode_timestamps_in`] returned sit in their column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Index in the column of the first timestamp returned.
    pub first: usize,
    /// Whether the decode reached the column's end (only then are the last chunk's trailing
    /// bytes checked).
    pub to_end: bool,
}

/// Decodes from a column sorted ascending only what a read of `range` needs: the chunks that
/// can hold points in it (all of a plain column), stopping after the first timestamp at or past
/// `range.end`. Appends a run of consecutive timestamps holding every one in `range`, and says
/// where the run starts in the column.
pub fn decode_timestamps_in(
    buf: &[u8],
    range: TimeRange,
    out: &mut Vec<Nanos>,
) -> Result<Window, CodecError> {
    if buf.first() != Some(&chunked::TAG_CHUNKED) {
        let to_end = timestamp::decode_before(buf, Some(range.end), out)?;
        return Ok(Window { first: 0, to_end });
    }
    let chunks = chunked::chunks(buf, true)?;
    let pick = chunked::overlapping(&chunks, range);
    let first = chunks.get(pick.start).map_or(0, |c| c.first_point);
    for c in &chunks[pick.clone()] {
        let before = out.len();
        let whole = timestamp::decode_before(&buf[c.bytes.clone()], Some(range.end), out)?;
        if !whole {
            return Ok(Window {
                first,
                to_end: false,
            });
        }
        check_chunk_len(out.len() - before, c)?;
    }
    Ok(Window {
        first,
        to_end: pick.end == chunks.len(),
    })
}

/// A chunk decoded to a different number of points than its header gives is corrupt.
fn check_chunk_len(got: usize, c: &chunked::Chunk) -> Result<(), CodecError> {
    if got == c.points {
        Ok(())
    } else {
        Err(CodecError::Invalid(
            "chunk holds a different number of points than its header",
        ))
    }
}

/// Appends the encoding of `values` to `out`.
///
/// ```
/// use tally_engine::codec::{decode_values, encode_values};
/// use tally_engine::{ColumnValues, FieldType};
/// let latencies = ColumnValues::Float(vec![12.3, 4.5, 230.0, f64::NAN]);
/// let mut buf = Vec::new();
/// encode_values(&latencies, &mut buf);
/// let back = decode_values(FieldType::Float, &buf).unwrap();
/// assert_eq!(back.len(), 4);
/// ```
pub fn encode_values(values: &ColumnValues, out: &mut Vec<u8>) {
    match values {
        ColumnValues::Float(v) => float::encode(v, out),
        ColumnValues::Integer(v) => {
            let bits: Vec<u64> = v.iter().map(|&x| x as u64).collect();
            integer::encode(&bits, integer::Sign::Signed, out);
        }
        ColumnValues::Unsigned(v) => integer::encode(v, integer::Sign::Unsigned, out),
        ColumnValues::Boolean(v) => boolean::encode(v, out),
        ColumnValues::String(v) => string::encode(v, out),
    }
}

/// Appends `values` encoded in chunks of `chunk` points when there are more, else as
/// [`encode_values`] does. The segment writer cuts a series' value columns where it cuts their
/// timestamps (both by point count), so [`decode_values_in`] can decode the same chunks.
pub fn encode_values_chunked(values: &ColumnValues, chunk: usize, out: &mut Vec<u8>) {
    if values.len() <= chunk.max(1) {
        return encode_values(values, out);
    }
    chunked::encode(values.len(), chunk, None, out, |r, b| {
        encode_values(&values.slice(r), b)
    });
}

/// Decodes a buffer written by [`encode_values`] or [`encode_values_chunked`] (exactly that, no
/// more) for a column of type `ty`.
pub fn decode_values(ty: FieldType, buf: &[u8]) -> Result<ColumnValues, CodecError> {
    if buf.first() != Some(&chunked::TAG_CHUNKED) {
        return decode_plain_values(ty, buf);
    }
    let chunks = chunked::chunks(buf, false)?;
    decode_value_chunks(ty, buf, &chunks)
}

/// Decodes the values of the points `points` (indexes into the column) and the rest of the
/// chunks holding them (all of a plain column). Returns them with the column index of the first.
pub fn decode_values_in(
    ty: FieldType,
    buf: &[u8],
    points: std::ops::Range<usize>,
) -> Result<(ColumnValues, usize), CodecError> {
    if buf.first() != Some(&chunked::TAG_CHUNKED) {
        return Ok((decode_plain_values(ty, buf)?, 0));
    }
    let chunks = chunked::chunks(buf, false)?;
    let pick = chunked::covering(&chunks, points);
    let first = chunks.get(pick.start).map_or(0, |c| c.first_point);
    Ok((decode_value_chunks(ty, buf, &chunks[pick])?, first))
}

/// The values of `chunks` of a chunked column, concatenated: decoded straight into one vector
/// where the type's decoder appends, so a long column costs no copy per chunk.
fn decode_value_chunks(
    ty: FieldType,
    buf: &[u8],
    chunks: &[chunked::Chunk],
) -> Result<ColumnValues, CodecError> {
    let points: usize = chunks.iter().map(|c| c.points).sum();
    let each = |f: &mut dyn FnMut(&[u8]) -> Result<usize, CodecError>| {
        for c in chunks {
            check_chunk_len(f(&buf[c.bytes.clone()])?, c)?;
        }
        Ok::<(), CodecError>(())
    };
    let ints = |sign: integer::Sign| -> Result<Vec<u64>, CodecError> {
        let mut out = Vec::with_capacity(points.min(buf.len().saturating_mul(8)));
        each(&mut |b| {
            let before = out.len();
            integer::decode(&mut varint::Reader::new(b), sign, &mut out)?;
            Ok(out.len() - before)
        })?;
        Ok(out)
    };
    Ok(match ty {
        FieldType::Integer => ColumnValues::Integer(
            ints(integer::Sign::Signed)?
                .into_iter()
                .map(|b| b as i64)
                .collect(),
        ),
        FieldType::Unsigned => ColumnValues::Unsigned(ints(integer::Sign::Unsigned)?),
        FieldType::Float => {
            let mut out = Vec::with_capacity(points.min(buf.len().saturating_mul(8)));
            each(&mut |b| {
                let before = out.len();
                float::decode_into(b, &mut out)?;
                Ok(out.len() - before)
            })?;
            ColumnValues::Float(out)
        }
        FieldType::Boolean | FieldType::String => {
            let mut out = ColumnValues::empty(ty);
            each(&mut |b| {
                let v = decode_plain_values(ty, b)?;
                out.extend_from(&v);
                Ok(v.len())
            })?;
            out
        }
    })
}

/// Decodes one plain (not chunked) value encoding of type `ty`.
fn decode_plain_values(ty: FieldType, buf: &[u8]) -> Result<ColumnValues, CodecError> {
    Ok(match ty {
        FieldType::Float => ColumnValues::Float(float::decode(buf)?),
        FieldType::Integer => {
            let mut bits = Vec::new();
            integer::decode(
                &mut varint::Reader::new(buf),
                integer::Sign::Signed,
                &mut bits,
            )?;
            // Reuses the allocation.
            ColumnValues::Integer(bits.into_iter().map(|b| b as i64).collect())
        }
        FieldType::Unsigned => {
            let mut v = Vec::new();
            integer::decode(
                &mut varint::Reader::new(buf),
                integer::Sign::Unsigned,
                &mut v,
            )?;
            ColumnValues::Unsigned(v)
        }
        FieldType::Boolean => ColumnValues::Boolean(boolean::decode(buf)?),
        FieldType::String => ColumnValues::String(string::decode(buf)?),
    })
}
