//! Column codecs: how timestamps and values are packed before a segment block is zstd-compressed.
//!
//! Invariants (the byte layouts are in `docs/format.md` ("Column codecs")):
//! - Every encoded column starts with one tag byte naming its variant, so later versions can add
//!   variants and still read every old one. Tags are numbered per column type; tag 0 is the empty
//!   column for every type.
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

use crate::types::{ColumnValues, FieldType, Nanos};
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

/// Decodes a buffer written by [`encode_timestamps`] (exactly that, no more), appending to `out`.
///
/// On error `out` may hold part of the column.
pub fn decode_timestamps(buf: &[u8], out: &mut Vec<Nanos>) -> Result<(), CodecError> {
    timestamp::decode(buf, out)
}

/// Decodes a column written by [`encode_timestamps`] from timestamps sorted ascending only as
/// far as `end` needs: appends every timestamp before `end` and at most one more, and returns
/// whether the whole column was decoded (only then are its trailing bytes checked). A read of
/// a short range early in a long column stops there instead of decoding the rest. `None`
/// decodes everything, like [`decode_timestamps`].
pub fn decode_timestamps_before(
    buf: &[u8],
    end: Option<Nanos>,
    out: &mut Vec<Nanos>,
) -> Result<bool, CodecError> {
    timestamp::decode_before(buf, end, out)
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

/// Decodes a buffer written by [`encode_values`] (exactly that, no more) for a column of type
/// `ty`.
pub fn decode_values(ty: FieldType, buf: &[u8]) -> Result<ColumnValues, CodecError> {
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
