//! Integer columns (signed and unsigned) and the mantissas of decimal floats.
//!
//! Both signednesses share one implementation over raw 64-bit patterns: all arithmetic wraps, so
//! every `i64`/`u64` (including `i64::MIN`, `i64::MAX`, `u64::MAX`) round-trips exactly; the
//! signedness only decides how the base value is written and which value is the minimum.
//!
//! Variants (layouts in `docs/format.md` ("Column codecs")): empty, constant, frame-of-reference
//! (`value - min`) and delta frame-of-reference (`delta - min_delta`), the offsets laid out by
//! [`offsets`]. The encoder writes the variant expected to be smallest after zstd.

use super::offsets::{self, Layout};
use super::varint::{ivarint_len, put_ivarint, put_uvarint, uvarint_len, Reader};
use super::{CodecError, MAX_RUN_LEN, TAG_EMPTY};

/// Every value equal: count and the value.
pub(crate) const TAG_CONST: u8 = 1;
/// Frame of reference: count, minimum, then each `value - min` as offsets.
pub(crate) const TAG_FOR: u8 = 2;
/// Delta frame of reference: count, first value, minimum delta, then each
/// `delta - min_delta` as offsets.
pub(crate) const TAG_DELTA: u8 = 3;

/// How the 64-bit patterns are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sign {
    /// As `i64`: the base is written zigzag.
    Signed,
    /// As `u64`: the base is written plain.
    Unsigned,
}

impl Sign {
    fn lt(self, a: u64, b: u64) -> bool {
        match self {
            Sign::Signed => (a as i64) < (b as i64),
            Sign::Unsigned => a < b,
        }
    }

    fn put_base(self, out: &mut Vec<u8>, v: u64) {
        match self {
            Sign::Signed => put_ivarint(out, v as i64),
            Sign::Unsigned => put_uvarint(out, v),
        }
    }

    fn base_len(self, v: u64) -> usize {
        match self {
            Sign::Signed => ivarint_len(v as i64),
            Sign::Unsigned => uvarint_len(v),
        }
    }

    fn read_base(self, r: &mut Reader<'_>, what: &'static str) -> Result<u64, CodecError> {
        match self {
            Sign::Signed => r.ivarint(what).map(|v| v as u64),
            Sign::Unsigned => r.uvarint(what),
        }
    }
}

/// Appends the smallest encoding of `vals`.
pub(crate) fn encode(vals: &[u64], sign: Sign, out: &mut Vec<u8>) {
    let Some(&first) = vals.first() else {
        out.push(TAG_EMPTY);
        return;
    };
    let min = vals
        .iter()
        .copied()
        .fold(first, |m, v| if sign.lt(v, m) { v } else { m });
    if vals.len() <= MAX_RUN_LEN && vals.iter().all(|&v| v == first) {
        encode_const(vals.len(), first, sign, out);
        return;
    }
    let for_offsets = frame_offsets(vals, min);
    let (for_layout, for_cost) = offsets::plan(&for_offsets);
    let (min_delta, delta_offsets) = delta_offsets(vals);
    let (delta_layout, delta_cost) = offsets::plan(&delta_offsets);
    if delta_cost + sign.base_len(first) + ivarint_len(min_delta) < for_cost + sign.base_len(min) {
        write_delta(
            first,
            min_delta,
            &delta_offsets,
            delta_layout,
            sign,
            vals.len(),
            out,
        );
    } else {
        write_for(min, &for_offsets, for_layout, sign, out);
    }
}

/// Each value minus the minimum; no wrap is possible since every value is at least `min`.
fn frame_offsets(vals: &[u64], min: u64) -> Vec<u64> {
    vals.iter().map(|&v| v.wrapping_sub(min)).collect()
}

/// The least wrapping delta (0 for fewer than two values) and each delta minus it.
fn delta_offsets(vals: &[u64]) -> (i64, Vec<u64>) {
    let deltas = || vals.windows(2).map(|w| w[1].wrapping_sub(w[0]) as i64);
    let min_delta = deltas().min().unwrap_or(0);
    let offs = deltas().map(|d| d.wrapping_sub(min_delta) as u64).collect();
    (min_delta, offs)
}

/// Writes the constant variant; `n` copies of `v`.
pub(crate) fn encode_const(n: usize, v: u64, sign: Sign, out: &mut Vec<u8>) {
    out.push(TAG_CONST);
    put_uvarint(out, n as u64);
    sign.put_base(out, v);
}

/// Writes the frame-of-reference variant with the offsets in `layout`.
#[cfg(test)]
pub(crate) fn encode_for(vals: &[u64], sign: Sign, layout: Layout, out: &mut Vec<u8>) {
    let min = vals
        .iter()
        .copied()
        .reduce(|m, v| if sign.lt(v, m) { v } else { m })
        .unwrap_or(0);
    write_for(min, &frame_offsets(vals, min), layout, sign, out);
}

fn write_for(min: u64, offs: &[u64], layout: Layout, sign: Sign, out: &mut Vec<u8>) {
    out.push(TAG_FOR);
    put_uvarint(out, offs.len() as u64);
    sign.put_base(out, min);
    offsets::write(offs, layout, out);
}

/// Writes the delta variant with the offsets in `layout`; `vals` is not empty.
#[cfg(test)]
pub(crate) fn encode_delta(vals: &[u64], sign: Sign, layout: Layout, out: &mut Vec<u8>) {
    let (min_delta, offs) = delta_offsets(vals);
    let first = vals.first().copied().unwrap_or(0);
    write_delta(first, min_delta, &offs, layout, sign, vals.len(), out);
}

fn write_delta(
    first: u64,
    min_delta: i64,
    offs: &[u64],
    layout: Layout,
    sign: Sign,
    n: usize,
    out: &mut Vec<u8>,
) {
    out.push(TAG_DELTA);
    put_uvarint(out, n as u64);
    sign.put_base(out, first);
    put_ivarint(out, min_delta);
    offsets::write(offs, layout, out);
}

/// Decodes one encoding from `r`, which must hold exactly it, appending to `out`.
pub(crate) fn decode(r: &mut Reader<'_>, sign: Sign, out: &mut Vec<u64>) -> Result<(), CodecError> {
    match r.u8("integer encoding tag")? {
        TAG_EMPTY => r.finish("trailing bytes after integer column"),
        TAG_CONST => {
            let n = r.count(MAX_RUN_LEN, "integer constant count")?;
            let v = sign.read_base(r, "integer constant value")?;
            out.resize(out.len() + n, v);
            r.finish("trailing bytes after integer column")
        }
        TAG_FOR => {
            let n = r.count(
                r.remaining().saturating_mul(8),
                "integer count exceeds the data",
            )?;
            let min = sign.read_base(r, "integer minimum")?;
            // Decoded into place: no capacity check per value (on error `out` keeps zeros).
            let start = out.len();
            out.resize(start + n, 0);
            let mut slots = out[start..].iter_mut();
            offsets::decode(r, n, |o| {
                if let Some(s) = slots.next() {
                    *s = min.wrapping_add(o);
                }
            })
        }
        TAG_DELTA => {
            let n = r.count(
                r.remaining().saturating_mul(8),
                "integer count exceeds the data",
            )?;
            if n == 0 {
                return Err(CodecError::Invalid(
                    "delta-encoded integer column with no values",
                ));
            }
            let mut v = sign.read_base(r, "integer first value")?;
            let min_delta = r.ivarint("integer minimum delta")?;
            out.reserve(n);
            out.push(v);
            offsets::decode(r, n - 1, |o| {
                v = v.wrapping_add(min_delta.wrapping_add(o as i64) as u64);
                out.push(v);
            })
        }
        tag => Err(CodecError::UnknownTag {
            what: "integer",
            tag,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(vals: &[u64], sign: Sign, buf: &[u8]) -> Result<(), TestCaseError> {
        let mut got = Vec::new();
        decode(&mut Reader::new(buf), sign, &mut got).unwrap();
        prop_assert_eq!(got, vals);
        Ok(())
    }

    fn signs() -> impl Strategy<Value = Sign> {
        prop_oneof![Just(Sign::Signed), Just(Sign::Unsigned)]
    }

    fn edgy() -> impl Strategy<Value = u64> {
        prop_oneof![
            any::<u64>(),
            Just(0u64),
            Just(u64::MAX),
            Just(i64::MIN as u64),
            Just(i64::MAX as u64),
            (-1000i64..1000).prop_map(|v| v as u64),
        ]
    }

    proptest! {
        #[test]
        fn chosen_round_trips(vals in prop::collection::vec(edgy(), 0..200), sign in signs()) {
            let mut buf = Vec::new();
            encode(&vals, sign, &mut buf);
            round_trip(&vals, sign, &buf)?;
        }

        #[test]
        fn for_and_delta_round_trip_in_every_layout(
            vals in prop::collection::vec(edgy(), 1..200),
            sign in signs(),
            k in 0u32..64,
        ) {
            for layout in [Layout::Varint, Layout::Packed, Layout::Rice(k)] {
                let mut buf = Vec::new();
                encode_for(&vals, sign, layout, &mut buf);
                prop_assert_eq!(buf[0], TAG_FOR);
                round_trip(&vals, sign, &buf)?;
                buf.clear();
                encode_delta(&vals, sign, layout, &mut buf);
                prop_assert_eq!(buf[0], TAG_DELTA);
                round_trip(&vals, sign, &buf)?;
            }
        }

        #[test]
        fn constant_columns_use_the_constant_variant(v in edgy(), n in 1usize..500, sign in signs()) {
            let vals = vec![v; n];
            let mut buf = Vec::new();
            encode(&vals, sign, &mut buf);
            prop_assert_eq!(buf[0], TAG_CONST);
            prop_assert!(buf.len() <= 1 + 2 + 10);
            round_trip(&vals, sign, &buf)?;
        }

        #[test]
        fn counters_use_the_delta_variant(start in any::<i64>(), steps in prop::collection::vec(1000i64..1010, 10..100)) {
            let mut vals = vec![start as u64];
            for s in steps {
                let last = *vals.last().unwrap();
                vals.push(last.wrapping_add(s as u64));
            }
            let mut buf = Vec::new();
            encode(&vals, Sign::Signed, &mut buf);
            prop_assert_eq!(buf[0], TAG_DELTA);
            round_trip(&vals, Sign::Signed, &buf)?;
        }
    }

    #[test]
    fn empty_is_one_byte() {
        let mut buf = Vec::new();
        encode(&[], Sign::Signed, &mut buf);
        assert_eq!(buf, [TAG_EMPTY]);
        round_trip(&[], Sign::Signed, &buf).unwrap();
    }

    #[test]
    fn huge_constant_columns_fall_back_to_a_bounded_variant() {
        let vals = vec![7u64; MAX_RUN_LEN + 1];
        let mut buf = Vec::new();
        encode(&vals, Sign::Unsigned, &mut buf);
        assert_ne!(buf[0], TAG_CONST);
        round_trip(&vals, Sign::Unsigned, &buf).unwrap();
    }
}
