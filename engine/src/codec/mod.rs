//! Column codecs: how timestamps and values are packed before a segment block is zstd-compressed.
//!
//! PLACEHOLDER: raw little-endian encoding, to be replaced by delta-of-delta timestamps,
//! Gorilla/decimal floats, delta+zigzag integers, bit-packed booleans.

use crate::types::{ColumnValues, FieldType, Nanos};
use thiserror::Error;

/// A column that does not decode.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// The buffer ended before the column did.
    #[error("column data truncated: {0}")]
    Truncated(&'static str),
    /// The buffer holds something no encoder writes.
    #[error("column data invalid: {0}")]
    Invalid(&'static str),
}

/// Appends the encoding of `ts` to `out`.
pub fn encode_timestamps(ts: &[Nanos], out: &mut Vec<u8>) {
    out.extend_from_slice(&(ts.len() as u64).to_le_bytes());
    for t in ts {
        out.extend_from_slice(&t.to_le_bytes());
    }
}

/// Decodes a buffer written by [`encode_timestamps`], appending to `out`.
pub fn decode_timestamps(buf: &[u8], out: &mut Vec<Nanos>) -> Result<(), CodecError> {
    let n = read_u64(buf, 0)? as usize;
    if buf.len() < 8 + n.saturating_mul(8) {
        return Err(CodecError::Truncated("timestamps"));
    }
    out.reserve(n);
    for i in 0..n {
        out.push(read_u64(buf, 8 + i * 8)? as i64);
    }
    Ok(())
}

/// Appends the encoding of `values` to `out`.
pub fn encode_values(values: &ColumnValues, out: &mut Vec<u8>) {
    out.extend_from_slice(&(values.len() as u64).to_le_bytes());
    match values {
        ColumnValues::Float(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        ColumnValues::Integer(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        ColumnValues::Unsigned(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        ColumnValues::Boolean(v) => v.iter().for_each(|x| out.push(*x as u8)),
        ColumnValues::String(v) => v.iter().for_each(|s| {
            out.extend_from_slice(&(s.len() as u64).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }),
    }
}

/// Decodes a buffer written by [`encode_values`] for a column of type `ty`.
pub fn decode_values(ty: FieldType, buf: &[u8]) -> Result<ColumnValues, CodecError> {
    let n = read_u64(buf, 0)? as usize;
    let mut off = 8;
    let mut col = ColumnValues::empty(ty);
    for _ in 0..n {
        match &mut col {
            ColumnValues::Float(v) => {
                v.push(f64::from_bits(read_u64(buf, off)?));
                off += 8;
            }
            ColumnValues::Integer(v) => {
                v.push(read_u64(buf, off)? as i64);
                off += 8;
            }
            ColumnValues::Unsigned(v) => {
                v.push(read_u64(buf, off)?);
                off += 8;
            }
            ColumnValues::Boolean(v) => {
                v.push(*buf.get(off).ok_or(CodecError::Truncated("bool"))? != 0);
                off += 1;
            }
            ColumnValues::String(v) => {
                let len = read_u64(buf, off)? as usize;
                off += 8;
                let s = buf
                    .get(off..off.saturating_add(len))
                    .ok_or(CodecError::Truncated("string"))?;
                v.push(
                    std::str::from_utf8(s)
                        .map_err(|_| CodecError::Invalid("string not UTF-8"))?
                        .to_owned(),
                );
                off += len;
            }
        }
    }
    Ok(col)
}

fn read_u64(buf: &[u8], off: usize) -> Result<u64, CodecError> {
    let b = buf
        .get(off..off + 8)
        .ok_or(CodecError::Truncated("u64"))?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(u64::from_le_bytes(a))
}
