//! Float columns: constant, decimal (scaled integers), Gorilla XOR, or raw, whichever is smallest.
//!
//! Most measured floats are decimals with few fractional digits (a latency of `12.3` ms, a cost
//! of `0.0042` USD). Such a column is stored, as VictoriaMetrics does, as integer mantissas with
//! one shared power-of-ten exponent, then through the integer codec. A column is taken as decimal
//! only if every value comes back bit for bit from `mantissa as f64 / 10^exponent` (one correctly
//! rounded IEEE division, so the result is the same on every platform); anything else (NaN,
//! infinities, `-0.0`, subnormals, values with long binary fractions) goes to Gorilla XOR, or raw
//! bytes when XOR would not save anything. Every variant is bit-exact, NaN payloads included.

use super::bits::{BitReader, BitWriter};
use super::integer::{self, Sign};
use super::varint::{put_uvarint, uvarint_len, Reader};
use super::{CodecError, MAX_RUN_LEN, TAG_EMPTY};

/// Every value has the same bit pattern: count and the bits.
pub(crate) const TAG_CONST: u8 = 1;
/// Exponent byte, then the mantissas as an integer column.
pub(crate) const TAG_DECIMAL: u8 = 2;
/// Count, then the Gorilla XOR bit stream.
pub(crate) const TAG_GORILLA: u8 = 3;
/// Count, then each value's bits as eight little-endian bytes.
pub(crate) const TAG_RAW: u8 = 4;

/// Largest decimal exponent: `10^18` is exact in an `f64` and mantissas stay within an `i64`.
pub(crate) const MAX_DECIMAL_EXP: u8 = 18;

/// Powers of ten, all exactly representable.
const POW10: [f64; MAX_DECIMAL_EXP as usize + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];

/// A decimal column this many bytes per value or smaller is taken without trying Gorilla: XOR
/// needs at least that much for values that are not (nearly) constant.
const DECIMAL_GOOD_ENOUGH: usize = 2;

/// Appends the smallest encoding of `values`.
pub(crate) fn encode(values: &[f64], out: &mut Vec<u8>) {
    let Some(&first) = values.first() else {
        out.push(TAG_EMPTY);
        return;
    };
    let n = values.len();
    if n <= MAX_RUN_LEN && values.iter().all(|v| v.to_bits() == first.to_bits()) {
        encode_const(n, first, out);
        return;
    }
    let start = out.len();
    if let Some((exp, mantissas)) = decimal_mantissas(values) {
        encode_decimal(exp, &mantissas, out);
        if out.len() - start <= n * DECIMAL_GOOD_ENOUGH {
            return;
        }
    }
    let mut xor = Vec::new();
    encode_gorilla(values, &mut xor);
    let raw_len = 1 + uvarint_len(n as u64) + 8 * n;
    if xor.len() >= raw_len {
        xor.clear();
        encode_raw(values, &mut xor);
    }
    if out.len() == start || xor.len() < out.len() - start {
        out.truncate(start);
        out.extend_from_slice(&xor);
    }
}

/// Writes the constant variant: `n` copies of `v`.
pub(crate) fn encode_const(n: usize, v: f64, out: &mut Vec<u8>) {
    out.push(TAG_CONST);
    put_uvarint(out, n as u64);
    out.extend_from_slice(&v.to_bits().to_le_bytes());
}

/// The mantissa of `v` at scale `p = 10^e`, if `v` is exactly `mantissa / p` as decoded.
#[inline]
fn mantissa(v: f64, p: f64) -> Option<i64> {
    let x = v * p;
    // Round to nearest by hand: `f64::round` is a libm call on baseline x86-64. The candidate
    // need not be perfect (the `as` cast saturates, NaN becomes 0): the check below, which is
    // exactly what the decoder computes, is the proof.
    let m = (x + 0.5f64.copysign(x)) as i64;
    ((m as f64 / p).to_bits() == v.to_bits()).then_some(m)
}

/// The smallest shared exponent at which every value is an exact decimal, and the mantissas.
pub(crate) fn decimal_mantissas(values: &[f64]) -> Option<(u8, Vec<i64>)> {
    let mut e = 0usize;
    for &v in values {
        while mantissa(v, POW10[e]).is_none() {
            e += 1;
            if e > MAX_DECIMAL_EXP as usize {
                return None;
            }
        }
    }
    // A value checked at a smaller exponent almost always holds at the final one too, but only
    // the final check is proof.
    let p = POW10[e];
    let mantissas = values
        .iter()
        .map(|&v| mantissa(v, p))
        .collect::<Option<Vec<i64>>>()?;
    Some((e as u8, mantissas))
}

/// Writes the decimal variant: each value is `mantissa / 10^exp`.
pub(crate) fn encode_decimal(exp: u8, mantissas: &[i64], out: &mut Vec<u8>) {
    out.push(TAG_DECIMAL);
    out.push(exp);
    let bits: Vec<u64> = mantissas.iter().map(|&m| m as u64).collect();
    integer::encode(&bits, Sign::Signed, out);
}

/// Writes the Gorilla XOR variant.
///
/// Stream: the first value's 64 bits; then per value a `0` bit if it equals the previous one,
/// else `1` and the XOR with the previous value either as `0` + the bits inside the previous
/// window, or as `1` + 6 bits of leading zeros + 6 bits of window length (0 meaning 64) + the
/// bits of the new window.
pub(crate) fn encode_gorilla(values: &[f64], out: &mut Vec<u8>) {
    out.push(TAG_GORILLA);
    put_uvarint(out, values.len() as u64);
    let Some((&first, rest)) = values.split_first() else {
        return;
    };
    let mut w = BitWriter::new(out);
    let mut prev = first.to_bits();
    w.write(prev, 64);
    // No window until the first full one is written.
    let mut window: Option<(u32, u32)> = None;
    for &v in rest {
        let bits = v.to_bits();
        let x = bits ^ prev;
        prev = bits;
        if x == 0 {
            w.write(0, 1);
            continue;
        }
        let lead = x.leading_zeros();
        let trail = x.trailing_zeros();
        match window {
            Some((wl, wt)) if lead >= wl && trail >= wt => {
                w.write(0b10, 2);
                w.write(x >> wt, 64 - wl - wt);
            }
            _ => {
                let len = 64 - lead - trail;
                w.write(0b11, 2);
                w.write(u64::from(lead), 6);
                w.write(u64::from(len & 63), 6);
                w.write(x >> trail, len);
                window = Some((lead, trail));
            }
        }
    }
    w.finish();
}

/// Writes the raw variant.
pub(crate) fn encode_raw(values: &[f64], out: &mut Vec<u8>) {
    out.push(TAG_RAW);
    put_uvarint(out, values.len() as u64);
    out.reserve(values.len() * 8);
    for v in values {
        out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
}

/// Decodes a buffer holding exactly one encoding.
pub(crate) fn decode(buf: &[u8]) -> Result<Vec<f64>, CodecError> {
    let mut out = Vec::new();
    decode_into(buf, &mut out)?;
    Ok(out)
}

/// Decodes a buffer holding exactly one encoding, appending to `out` (the chunks of a long
/// column land in one vector without a copy each).
pub(crate) fn decode_into(buf: &[u8], out: &mut Vec<f64>) -> Result<(), CodecError> {
    let mut r = Reader::new(buf);
    match r.u8("float encoding tag")? {
        TAG_EMPTY => {}
        TAG_CONST => {
            let n = r.count(MAX_RUN_LEN, "float constant count too large")?;
            let v = f64::from_bits(r.u64_le("float constant")?);
            out.resize(out.len() + n, v);
        }
        TAG_DECIMAL => {
            let exp = r.u8("float decimal exponent")?;
            let p = *POW10
                .get(usize::from(exp))
                .ok_or(CodecError::Invalid("float decimal exponent above 18"))?;
            let mut mantissas = Vec::new();
            integer::decode(&mut r, Sign::Signed, &mut mantissas)?;
            out.extend(mantissas.into_iter().map(|m| m as i64 as f64 / p));
            return Ok(());
        }
        TAG_GORILLA => {
            let n = r.count(
                r.remaining().saturating_mul(8),
                "float count exceeds the data",
            )?;
            let values = decode_gorilla(n, r.rest())?;
            if out.is_empty() {
                *out = values;
            } else {
                out.extend_from_slice(&values);
            }
        }
        TAG_RAW => {
            let n = r.count(r.remaining() / 8, "float count exceeds the data")?;
            let bytes = r.bytes(n * 8, "raw floats")?;
            out.extend(bytes.chunks_exact(8).map(|c| {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                f64::from_bits(u64::from_le_bytes(a))
            }));
        }
        tag => return Err(CodecError::UnknownTag { what: "float", tag }),
    }
    r.finish("trailing bytes after float column")
}

fn decode_gorilla(n: usize, stream: &[u8]) -> Result<Vec<f64>, CodecError> {
    let mut values = Vec::with_capacity(n);
    if n == 0 {
        if !stream.is_empty() {
            return Err(CodecError::Invalid("trailing data after float bit stream"));
        }
        return Ok(values);
    }
    let mut r = BitReader::new(stream);
    let mut prev = r.read(64)?;
    values.push(f64::from_bits(prev));
    let mut window: Option<(u32, u32)> = None;
    for _ in 1..n {
        if r.bit()? {
            let x = if r.bit()? {
                let lead = r.read(6)? as u32;
                let len = match r.read(6)? as u32 {
                    0 => 64,
                    l => l,
                };
                if lead + len > 64 {
                    return Err(CodecError::Invalid("float XOR window wider than 64 bits"));
                }
                let trail = 64 - lead - len;
                window = Some((lead, trail));
                r.read(len)? << trail
            } else {
                let (lead, trail) =
                    window.ok_or(CodecError::Invalid("float XOR reuses a window never set"))?;
                r.read(64 - lead - trail)? << trail
            };
            prev ^= x;
        }
        values.push(f64::from_bits(prev));
    }
    r.finish()?;
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same_bits(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    fn check(values: &[f64], buf: &[u8]) -> Result<(), TestCaseError> {
        let got = decode(buf).unwrap();
        prop_assert!(same_bits(values, &got), "{:?} != {:?}", values, got);
        Ok(())
    }

    fn special() -> impl Strategy<Value = f64> {
        prop_oneof![
            Just(f64::NAN),
            Just(-f64::NAN),
            // A NaN with a payload.
            Just(f64::from_bits(0x7ff0_0000_dead_beef)),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(0.0),
            Just(-0.0),
            Just(f64::MIN_POSITIVE / 3.0),
            Just(f64::from_bits(1)),
            Just(f64::MAX),
            Just(f64::MIN),
            Just(f64::EPSILON),
        ]
    }

    /// Numbers as a person or a meter writes them: up to 4 fractional digits.
    fn decimal() -> impl Strategy<Value = f64> {
        (-1_000_000_000i64..1_000_000_000, 0u32..5)
            .prop_map(|(m, e)| format!("{}e-{}", m, e).parse::<f64>().unwrap())
    }

    fn any_float() -> impl Strategy<Value = f64> {
        prop_oneof![any::<u64>().prop_map(f64::from_bits), special(), decimal()]
    }

    proptest! {
        #[test]
        fn chosen_round_trips(values in prop::collection::vec(any_float(), 0..200)) {
            let mut buf = Vec::new();
            encode(&values, &mut buf);
            check(&values, &buf)?;
        }

        #[test]
        fn gorilla_and_raw_round_trip(values in prop::collection::vec(any_float(), 0..200)) {
            let mut buf = Vec::new();
            encode_gorilla(&values, &mut buf);
            check(&values, &buf)?;
            buf.clear();
            encode_raw(&values, &mut buf);
            check(&values, &buf)?;
        }

        #[test]
        fn slowly_changing_floats_use_gorilla(
            base in 1e-6f64..1e-4,
            steps in prop::collection::vec(prop_oneof![Just(0.0f64), 1e-9f64..1e-7], 20..200),
        ) {
            // Non-decimal values (a gauge computed by division) that rarely change; small enough
            // that 18 fractional digits cannot hold them (17 significant digits would).
            let mut v = base / 3.0;
            let values: Vec<f64> = steps.iter().map(|s| { v += s * v; v }).collect();
            prop_assume!(decimal_mantissas(&values).is_none());
            let mut buf = Vec::new();
            encode(&values, &mut buf);
            prop_assert_eq!(buf[0], TAG_GORILLA);
            check(&values, &buf)?;
        }

        #[test]
        fn decimals_use_the_decimal_variant(values in prop::collection::vec(decimal(), 2..200)) {
            prop_assume!(values.iter().any(|v| v.to_bits() != values[0].to_bits()));
            prop_assume!(values.iter().all(|v| v.to_bits() != (-0.0f64).to_bits()));
            let (_, mantissas) = decimal_mantissas(&values).unwrap();
            let mut buf = Vec::new();
            encode(&values, &mut buf);
            check(&values, &buf)?;
            // Forced, whatever the sizes say.
            let mut forced = Vec::new();
            encode_decimal(decimal_mantissas(&values).unwrap().0, &mantissas, &mut forced);
            check(&values, &forced)?;
            // The encoder keeps the smallest variant: decimal unless another is no larger (a
            // mix like [-219902326.0, 9.1501] needs 13-digit mantissas, and raw wins).
            prop_assert!(
                buf[0] == TAG_DECIMAL || buf.len() <= forced.len(),
                "variant {} of {} bytes chosen over decimal of {} bytes",
                buf[0],
                buf.len(),
                forced.len()
            );
        }

        #[test]
        fn constants_use_the_constant_variant(v in any_float(), n in 1usize..300) {
            let values = vec![v; n];
            let mut buf = Vec::new();
            encode(&values, &mut buf);
            prop_assert_eq!(buf[0], TAG_CONST);
            check(&values, &buf)?;
        }

        #[test]
        fn random_bits_use_raw(values in prop::collection::vec(any::<u64>().prop_map(f64::from_bits), 50..100)) {
            let mut buf = Vec::new();
            encode(&values, &mut buf);
            prop_assert_eq!(buf[0], TAG_RAW);
            check(&values, &buf)?;
        }
    }

    #[test]
    fn one_decimal_latencies_are_scaled_by_ten() {
        let values = [12.3, 0.1, 1500.0, 7.7, 0.0];
        let (exp, m) = decimal_mantissas(&values).unwrap();
        assert_eq!(exp, 1);
        assert_eq!(m, [123, 1, 15000, 77, 0]);
    }

    #[test]
    fn specials_are_not_decimal() {
        for v in [
            f64::NAN,
            f64::INFINITY,
            -0.0,
            f64::from_bits(1),
            1e300,
            1e-10 / 3.0,
        ] {
            assert!(decimal_mantissas(&[1.5, v]).is_none(), "{v:?}");
        }
    }

    #[test]
    fn huge_constant_columns_fall_back_to_a_bounded_variant() {
        let values = vec![2.5; MAX_RUN_LEN + 1];
        let mut buf = Vec::new();
        encode(&values, &mut buf);
        assert_ne!(buf[0], TAG_CONST);
        check(&values, &buf).unwrap();
    }
}
