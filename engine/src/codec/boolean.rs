//! Boolean columns: constant, bit-packed, or run-length, whichever is smallest.

use super::varint::{put_uvarint, uvarint_len, Reader};
use super::{CodecError, MAX_RUN_LEN, TAG_EMPTY};

/// Count and the one value (0 or 1).
pub(crate) const TAG_CONST: u8 = 1;
/// Count, then one bit per value, least significant bit first.
pub(crate) const TAG_BITS: u8 = 2;
/// Count, the first value, then the lengths of alternating runs.
pub(crate) const TAG_RLE: u8 = 3;

/// Appends the smallest encoding of `values`.
pub(crate) fn encode(values: &[bool], out: &mut Vec<u8>) {
    let Some(&first) = values.first() else {
        out.push(TAG_EMPTY);
        return;
    };
    let n = values.len();
    if n > MAX_RUN_LEN {
        encode_bits(values, out);
        return;
    }
    let mut rle_len = 0usize;
    let mut runs = 0usize;
    for run in runs_of(values) {
        rle_len += uvarint_len(run as u64);
        runs += 1;
    }
    if runs == 1 {
        encode_const(n, first, out);
    } else if rle_len + 1 < n.div_ceil(8) {
        encode_rle(values, out);
    } else {
        encode_bits(values, out);
    }
}

/// Lengths of the runs of equal values.
fn runs_of(values: &[bool]) -> impl Iterator<Item = usize> + '_ {
    values.chunk_by(|a, b| a == b).map(<[bool]>::len)
}

/// Writes the constant variant: `n` copies of `v`.
pub(crate) fn encode_const(n: usize, v: bool, out: &mut Vec<u8>) {
    out.push(TAG_CONST);
    put_uvarint(out, n as u64);
    out.push(u8::from(v));
}

/// Writes the bit-packed variant.
pub(crate) fn encode_bits(values: &[bool], out: &mut Vec<u8>) {
    out.push(TAG_BITS);
    put_uvarint(out, values.len() as u64);
    for chunk in values.chunks(8) {
        let byte = chunk
            .iter()
            .enumerate()
            .fold(0u8, |b, (i, &v)| b | (u8::from(v) << i));
        out.push(byte);
    }
}

/// Writes the run-length variant.
pub(crate) fn encode_rle(values: &[bool], out: &mut Vec<u8>) {
    out.push(TAG_RLE);
    put_uvarint(out, values.len() as u64);
    let Some(&first) = values.first() else {
        return;
    };
    out.push(u8::from(first));
    for run in runs_of(values) {
        put_uvarint(out, run as u64);
    }
}

/// Decodes a buffer holding exactly one encoding.
pub(crate) fn decode(buf: &[u8]) -> Result<Vec<bool>, CodecError> {
    let mut r = Reader::new(buf);
    let values = match r.u8("boolean encoding tag")? {
        TAG_EMPTY => Vec::new(),
        TAG_CONST => {
            let n = r.count(MAX_RUN_LEN, "boolean constant count too large")?;
            vec![read_bool(&mut r)?; n]
        }
        TAG_BITS => {
            let n = r.count(
                r.remaining().saturating_mul(8),
                "boolean count exceeds the data",
            )?;
            let bytes = r.bytes(n.div_ceil(8), "packed booleans")?;
            let mut values = Vec::with_capacity(bytes.len() * 8);
            for &byte in bytes {
                for i in 0..8 {
                    values.push((byte >> i) & 1 == 1);
                }
            }
            // Padding bits past `n` must be zero, as the encoder writes them.
            if values.drain(n..).any(|v| v) {
                return Err(CodecError::Invalid(
                    "non-zero padding after packed booleans",
                ));
            }
            values
        }
        TAG_RLE => {
            let n = r.count(MAX_RUN_LEN, "boolean run-length count too large")?;
            let mut values = Vec::with_capacity(n);
            // The first value is written only when there is one.
            let mut v = n > 0 && read_bool(&mut r)?;
            // Each run takes at least one byte, so this loop ends with the buffer.
            while values.len() < n {
                let run = r.uvarint("boolean run length")?;
                if run == 0 || run > (n - values.len()) as u64 {
                    return Err(CodecError::Invalid("boolean run length out of range"));
                }
                values.resize(values.len() + run as usize, v);
                v = !v;
            }
            values
        }
        tag => {
            return Err(CodecError::UnknownTag {
                what: "boolean",
                tag,
            })
        }
    };
    r.finish("trailing bytes after boolean column")?;
    Ok(values)
}

fn read_bool(r: &mut Reader<'_>) -> Result<bool, CodecError> {
    match r.u8("boolean value")? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(CodecError::Invalid("boolean value other than 0 or 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Random values and long runs.
    fn columns() -> impl Strategy<Value = Vec<bool>> {
        prop_oneof![
            prop::collection::vec(any::<bool>(), 0..300),
            prop::collection::vec((any::<bool>(), 1usize..200), 0..20)
                .prop_map(|runs| { runs.into_iter().flat_map(|(v, n)| vec![v; n]).collect() }),
        ]
    }

    proptest! {
        #[test]
        fn chosen_round_trips(values in columns()) {
            let mut buf = Vec::new();
            encode(&values, &mut buf);
            prop_assert_eq!(decode(&buf).unwrap(), values);
        }

        #[test]
        fn bits_and_rle_round_trip(values in columns()) {
            let mut buf = Vec::new();
            encode_bits(&values, &mut buf);
            prop_assert_eq!(buf[0], TAG_BITS);
            prop_assert_eq!(decode(&buf).unwrap(), values.clone());
            buf.clear();
            encode_rle(&values, &mut buf);
            prop_assert_eq!(buf[0], TAG_RLE);
            prop_assert_eq!(decode(&buf).unwrap(), values);
        }

        #[test]
        fn constants_use_the_constant_variant(v in any::<bool>(), n in 1usize..1000) {
            let values = vec![v; n];
            let mut buf = Vec::new();
            encode(&values, &mut buf);
            prop_assert_eq!(buf[0], TAG_CONST);
            prop_assert_eq!(decode(&buf).unwrap(), values);
        }
    }

    #[test]
    fn long_runs_use_rle_and_noise_uses_bits() {
        let mut values = vec![false; 500];
        values.extend(vec![true; 500]);
        let mut buf = Vec::new();
        encode(&values, &mut buf);
        assert_eq!(buf[0], TAG_RLE);
        let noise: Vec<bool> = (0..100u32)
            .map(|i| i.wrapping_mul(2_654_435_761) >> 31 == 1)
            .collect();
        buf.clear();
        encode(&noise, &mut buf);
        assert_eq!(buf[0], TAG_BITS);
        assert_eq!(decode(&buf).unwrap(), noise);
    }

    #[test]
    fn huge_constant_columns_fall_back_to_bits() {
        let values = vec![true; MAX_RUN_LEN + 1];
        let mut buf = Vec::new();
        encode(&values, &mut buf);
        assert_eq!(buf[0], TAG_BITS);
        assert_eq!(decode(&buf).unwrap(), values);
    }
}
