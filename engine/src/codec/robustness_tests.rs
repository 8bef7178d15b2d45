//! Whole-API properties: every column type round-trips through the public functions, and no
//! byte string (random, truncated or mutated) makes a decoder panic.

use super::size_tests::Rng;
use super::*;
use crate::types::ColumnValues;
use proptest::collection::vec;
use proptest::prelude::*;

const TYPES: [FieldType; 5] = FieldType::ALL;

/// Compares columns with floats by bit pattern, so NaN equals itself and `-0.0` differs from `0.0`.
fn same(a: &ColumnValues, b: &ColumnValues) -> bool {
    match (a, b) {
        (ColumnValues::Float(x), ColumnValues::Float(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        _ => a == b,
    }
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<u64>().prop_map(f64::from_bits),
        prop::sample::select(vec![
            f64::NAN,
            f64::from_bits(0x7ff8_0000_0000_0001),
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::from_bits(1),
            f64::MAX,
        ]),
        (0i64..100_000).prop_map(|m| m as f64 / 10.0),
    ]
}

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MAX),
        -100i64..100,
        0i64..1_000_000,
    ]
}

fn uint() -> impl Strategy<Value = u64> {
    prop_oneof![any::<u64>(), Just(u64::MAX), Just(0), 0u64..1_000_000]
}

/// A column of any type, each type also as a constant and as a single value.
fn column() -> impl Strategy<Value = ColumnValues> {
    prop_oneof![
        vec(float(), 0..60).prop_map(ColumnValues::Float),
        (float(), 1usize..60).prop_map(|(v, n)| ColumnValues::Float(vec![v; n])),
        vec(int(), 0..60).prop_map(ColumnValues::Integer),
        (int(), 1usize..60).prop_map(|(v, n)| ColumnValues::Integer(vec![v; n])),
        vec(uint(), 0..60).prop_map(ColumnValues::Unsigned),
        (uint(), 1usize..60).prop_map(|(v, n)| ColumnValues::Unsigned(vec![v; n])),
        vec(any::<bool>(), 0..100).prop_map(ColumnValues::Boolean),
        (any::<bool>(), 1usize..100).prop_map(|(v, n)| ColumnValues::Boolean(vec![v; n])),
        vec(".{0,12}", 0..30).prop_map(ColumnValues::String),
        vec(prop::sample::select(vec!["GET", "POST", "é"]), 0..60)
            .prop_map(|v| ColumnValues::String(v.into_iter().map(String::from).collect())),
    ]
}

fn timestamps() -> impl Strategy<Value = Vec<Nanos>> {
    prop_oneof![
        vec(int(), 0..60),
        (int(), vec(-2i64..1000, 0..60)).prop_map(|(start, gaps)| {
            let mut t = start;
            let mut v = vec![t];
            for g in gaps {
                t = t.wrapping_add(g * 1_000_000);
                v.push(t);
            }
            v
        }),
    ]
}

/// Bytes that start with a plausible tag, so the fuzzing reaches past the first byte.
fn junk() -> impl Strategy<Value = Vec<u8>> {
    (0u8..6, vec(any::<u8>(), 0..200)).prop_map(|(tag, mut rest)| {
        rest.insert(0, tag);
        rest
    })
}

proptest! {
    #[test]
    fn values_round_trip_and_append(col in column(), prefix in vec(any::<u8>(), 0..4)) {
        let mut buf = prefix.clone();
        encode_values(&col, &mut buf);
        prop_assert_eq!(&buf[..prefix.len()], &prefix[..], "encode appends");
        let back = decode_values(col.field_type(), &buf[prefix.len()..]).unwrap();
        prop_assert!(same(&col, &back), "{:?} != {:?}", col, back);
    }

    #[test]
    fn timestamps_round_trip(ts in timestamps()) {
        let mut buf = Vec::new();
        encode_timestamps(&ts, &mut buf);
        let mut back = Vec::new();
        decode_timestamps(&buf, &mut back).unwrap();
        prop_assert_eq!(back, ts);
    }

    #[test]
    fn every_truncation_is_an_error(col in column(), ts in timestamps()) {
        let mut buf = Vec::new();
        encode_values(&col, &mut buf);
        for cut in 0..buf.len() {
            prop_assert!(decode_values(col.field_type(), &buf[..cut]).is_err(), "cut at {}", cut);
        }
        buf.clear();
        encode_timestamps(&ts, &mut buf);
        for cut in 0..buf.len() {
            prop_assert!(decode_timestamps(&buf[..cut], &mut Vec::new()).is_err(), "cut at {}", cut);
        }
    }

    #[test]
    fn mutations_never_panic(col in column(), ts in timestamps(), at in any::<prop::sample::Index>(), xor in 1u8..=255) {
        let mut buf = Vec::new();
        encode_values(&col, &mut buf);
        let i = at.index(buf.len());
        buf[i] ^= xor;
        let _ = decode_values(col.field_type(), &buf);
        buf.clear();
        encode_timestamps(&ts, &mut buf);
        let i = at.index(buf.len());
        buf[i] ^= xor;
        let _ = decode_timestamps(&buf, &mut Vec::new());
    }

    #[test]
    fn junk_never_panics_and_what_decodes_re_encodes(buf in junk()) {
        for ty in TYPES {
            if let Ok(col) = decode_values(ty, &buf) {
                // Anything accepted is a real column: it survives its own round trip.
                prop_assert!(col.len() <= buf.len() * 8 || col.len() <= MAX_RUN_LEN);
                let mut again = Vec::new();
                encode_values(&col, &mut again);
                let back = decode_values(ty, &again).unwrap();
                prop_assert!(same(&col, &back));
            }
        }
        let mut ts = Vec::new();
        if decode_timestamps(&buf, &mut ts).is_ok() {
            let mut again = Vec::new();
            encode_timestamps(&ts, &mut again);
            let mut back = Vec::new();
            decode_timestamps(&again, &mut back).unwrap();
            prop_assert_eq!(back, ts);
        }
    }
}

#[test]
fn unknown_tags_name_the_type() {
    let err = decode_values(FieldType::Float, &[200]).unwrap_err();
    assert_eq!(
        err,
        CodecError::UnknownTag {
            what: "float",
            tag: 200
        }
    );
    assert!(err.to_string().contains("newer version"), "{err}");
    assert!(decode_timestamps(&[9], &mut Vec::new()).is_err());
    assert!(decode_timestamps(&[], &mut Vec::new()).is_err());
}

#[test]
fn trailing_bytes_are_refused() {
    for col in [
        ColumnValues::Float(vec![1.5, 2.5]),
        ColumnValues::Integer(vec![1, 5]),
        ColumnValues::Unsigned(vec![]),
        ColumnValues::Boolean(vec![true, false]),
        ColumnValues::String(vec!["a".into()]),
    ] {
        let mut buf = Vec::new();
        encode_values(&col, &mut buf);
        buf.push(0);
        assert!(decode_values(col.field_type(), &buf).is_err(), "{col:?}");
    }
}

#[test]
fn huge_counts_in_tiny_buffers_are_refused_before_allocating() {
    // Tag, then a count of 2^63 and little else, for every type and every tag.
    for tag in 0u8..8 {
        let mut buf = vec![tag];
        buf.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        buf.extend_from_slice(&[0; 16]);
        for ty in TYPES {
            assert!(decode_values(ty, &buf).is_err(), "{ty} tag {tag}");
        }
        assert!(
            decode_timestamps(&buf, &mut Vec::new()).is_err(),
            "tag {tag}"
        );
    }
}

/// Realistic columns big enough to take every layout (varint, packed, Rice), each mutated many
/// times: one to three bytes changed, or cut short. Decoding may fail or not, but never panics.
#[test]
fn mutated_realistic_columns_never_panic() {
    let mut rng = Rng(7);
    let mut t = 1_767_225_600_000_000_000i64;
    let ts: Vec<Nanos> = (0..300)
        .map(|_| {
            t += rng.range(5_000, 15_000) * 1_000_000;
            t
        })
        .collect();
    let cols = [
        ColumnValues::Float(
            (0..300)
                .map(|_| (rng.log_normal(40.0, 0.8) * 10.0).round() / 10.0)
                .collect(),
        ),
        ColumnValues::Float((0..300).map(|_| rng.unit()).collect()),
        ColumnValues::Integer(
            (0..300)
                .map(|_| rng.log_normal(2000.0, 1.2) as i64)
                .collect(),
        ),
        ColumnValues::Unsigned((0..300).map(|_| rng.range(0, 8191) as u64).collect()),
        ColumnValues::Boolean((0..300).map(|i| i % 50 < 3).collect()),
        ColumnValues::String(
            (0..300)
                .map(|i| ["a", "bb", "ccc"][i % 3].to_owned())
                .collect(),
        ),
    ];
    let mut encoded: Vec<(Option<FieldType>, Vec<u8>)> = cols
        .iter()
        .map(|c| {
            let mut buf = Vec::new();
            encode_values(c, &mut buf);
            (Some(c.field_type()), buf)
        })
        .collect();
    let mut buf = Vec::new();
    encode_timestamps(&ts, &mut buf);
    encoded.push((None, buf));
    for (ty, orig) in &encoded {
        for _ in 0..1500 {
            let mut buf = orig.clone();
            if rng.unit() < 0.2 {
                buf.truncate(rng.range(0, buf.len() as i64) as usize);
            } else {
                for _ in 0..rng.range(1, 3) {
                    let i = rng.range(0, buf.len() as i64 - 1) as usize;
                    buf[i] = rng.next() as u8;
                }
            }
            match ty {
                Some(ty) => {
                    let _ = decode_values(*ty, &buf);
                }
                None => {
                    let _ = decode_timestamps(&buf, &mut Vec::new());
                }
            }
        }
    }
}
