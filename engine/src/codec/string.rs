//! String columns: constant, plain (lengths then bytes), or a dictionary, whichever is smallest.
//!
//! Lengths are stored apart from the text so zstd sees long stretches of similar bytes.
//! Constant and dictionary columns expand on decoding, so both are bounded by
//! [`MAX_EXPANDED_BYTES`] of decoded text: the encoder falls back to plain beyond it, and the
//! decoder refuses more.

use std::collections::HashMap;

use super::varint::{put_uvarint, uvarint_len, Reader};
use super::{CodecError, MAX_RUN_LEN, TAG_EMPTY};

/// Count, then one string: length and bytes.
pub(crate) const TAG_CONST: u8 = 1;
/// Count, each length, then all the bytes.
pub(crate) const TAG_PLAIN: u8 = 2;
/// Dictionary size, each entry's length, all entry bytes, count, then each value's entry index.
pub(crate) const TAG_DICT: u8 = 3;

/// Most text a constant or dictionary column may expand to when decoded (64 MiB).
pub(crate) const MAX_EXPANDED_BYTES: usize = 64 << 20;

/// Appends the smallest encoding of `values`.
pub(crate) fn encode(values: &[String], out: &mut Vec<u8>) {
    let Some(first) = values.first() else {
        out.push(TAG_EMPTY);
        return;
    };
    let n = values.len();
    let text: usize = values.iter().map(String::len).sum();
    if text > MAX_EXPANDED_BYTES {
        encode_plain(values, out);
        return;
    }
    if n <= MAX_RUN_LEN && values.iter().all(|s| s == first) {
        encode_const(n, first, out);
        return;
    }
    let plain_len = text
        + values
            .iter()
            .map(|s| uvarint_len(s.len() as u64))
            .sum::<usize>();
    let (entries, indices) = dictionary(values);
    let dict_len = uvarint_len(entries.len() as u64)
        + entries
            .iter()
            .map(|s| uvarint_len(s.len() as u64) + s.len())
            .sum::<usize>()
        + indices
            .iter()
            .map(|&i| uvarint_len(u64::from(i)))
            .sum::<usize>();
    if dict_len < plain_len {
        write_dict(&entries, &indices, out);
    } else {
        encode_plain(values, out);
    }
}

/// Distinct values in order of first appearance, and each value's index among them.
fn dictionary(values: &[String]) -> (Vec<&str>, Vec<u32>) {
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let mut entries = Vec::new();
    let indices = values
        .iter()
        .map(|s| {
            *ids.entry(s.as_str()).or_insert_with(|| {
                entries.push(s.as_str());
                (entries.len() - 1) as u32
            })
        })
        .collect();
    (entries, indices)
}

/// Writes the constant variant: `n` copies of `s`.
pub(crate) fn encode_const(n: usize, s: &str, out: &mut Vec<u8>) {
    out.push(TAG_CONST);
    put_uvarint(out, n as u64);
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Writes the plain variant.
pub(crate) fn encode_plain(values: &[String], out: &mut Vec<u8>) {
    out.push(TAG_PLAIN);
    put_uvarint(out, values.len() as u64);
    for s in values {
        put_uvarint(out, s.len() as u64);
    }
    for s in values {
        out.extend_from_slice(s.as_bytes());
    }
}

/// Writes the dictionary variant; the caller keeps the expanded text within
/// [`MAX_EXPANDED_BYTES`].
#[cfg(test)]
pub(crate) fn encode_dict(values: &[String], out: &mut Vec<u8>) {
    let (entries, indices) = dictionary(values);
    write_dict(&entries, &indices, out);
}

fn write_dict(entries: &[&str], indices: &[u32], out: &mut Vec<u8>) {
    out.push(TAG_DICT);
    put_uvarint(out, entries.len() as u64);
    for s in entries {
        put_uvarint(out, s.len() as u64);
    }
    for s in entries {
        out.extend_from_slice(s.as_bytes());
    }
    put_uvarint(out, indices.len() as u64);
    for &i in indices {
        put_uvarint(out, u64::from(i));
    }
}

/// Decodes a buffer holding exactly one encoding.
pub(crate) fn decode(buf: &[u8]) -> Result<Vec<String>, CodecError> {
    let mut r = Reader::new(buf);
    let values = match r.u8("string encoding tag")? {
        TAG_EMPTY => Vec::new(),
        TAG_CONST => {
            let n = r.count(MAX_RUN_LEN, "string constant count too large")?;
            let len = r.count(r.remaining(), "string length exceeds the data")?;
            if n.saturating_mul(len) > MAX_EXPANDED_BYTES {
                return Err(CodecError::Invalid(
                    "constant string column expands too far",
                ));
            }
            let s = utf8(r.bytes(len, "string")?)?;
            vec![s.to_owned(); n]
        }
        TAG_PLAIN => {
            let (text, bounds) = read_strings(&mut r)?;
            bounds
                .windows(2)
                .map(|w| slice(text, w[0], w[1]).map(str::to_owned))
                .collect::<Result<Vec<String>, CodecError>>()?
        }
        TAG_DICT => {
            let (text, bounds) = read_strings(&mut r)?;
            let entries = bounds
                .windows(2)
                .map(|w| slice(text, w[0], w[1]))
                .collect::<Result<Vec<&str>, CodecError>>()?;
            let n = r.count(r.remaining(), "string count exceeds the data")?;
            let mut values = Vec::with_capacity(n);
            let mut expanded = 0usize;
            for _ in 0..n {
                let i = r.uvarint("string dictionary index")?;
                let s = usize::try_from(i)
                    .ok()
                    .and_then(|i| entries.get(i))
                    .ok_or(CodecError::Invalid("string dictionary index out of range"))?;
                expanded += s.len();
                if expanded > MAX_EXPANDED_BYTES {
                    return Err(CodecError::Invalid(
                        "dictionary string column expands too far",
                    ));
                }
                values.push((*s).to_owned());
            }
            values
        }
        tag => {
            return Err(CodecError::UnknownTag {
                what: "string",
                tag,
            })
        }
    };
    r.finish("trailing bytes after string column")?;
    Ok(values)
}

/// Reads a count, that many lengths and the bytes they add up to; returns the bytes as text and
/// the `count + 1` boundaries between strings.
fn read_strings<'a>(r: &mut Reader<'a>) -> Result<(&'a str, Vec<usize>), CodecError> {
    let n = r.count(r.remaining(), "string count exceeds the data")?;
    let mut bounds = Vec::with_capacity(n + 1);
    let mut end = 0usize;
    bounds.push(end);
    for _ in 0..n {
        let len = r.count(r.remaining(), "string length exceeds the data")?;
        end = end
            .checked_add(len)
            .ok_or(CodecError::Invalid("string lengths overflow"))?;
        bounds.push(end);
    }
    let text = utf8(r.bytes(end, "string bytes")?)?;
    Ok((text, bounds))
}

fn utf8(b: &[u8]) -> Result<&str, CodecError> {
    std::str::from_utf8(b).map_err(|_| CodecError::Invalid("string is not UTF-8"))
}

/// `text[start..end]`, refused if it splits a character.
fn slice(text: &str, start: usize, end: usize) -> Result<&str, CodecError> {
    text.get(start..end).ok_or(CodecError::Invalid(
        "string boundary inside a UTF-8 character",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn few_distinct() -> impl Strategy<Value = Vec<String>> {
        (
            prop::collection::vec(".{0,30}", 1..6),
            prop::collection::vec(any::<prop::sample::Index>(), 0..300),
        )
            .prop_map(|(dict, picks)| picks.iter().map(|i| i.get(&dict).clone()).collect())
    }

    fn columns() -> impl Strategy<Value = Vec<String>> {
        prop_oneof![prop::collection::vec(".{0,40}", 0..100), few_distinct()]
    }

    proptest! {
        #[test]
        fn chosen_round_trips(values in columns()) {
            let mut buf = Vec::new();
            encode(&values, &mut buf);
            prop_assert_eq!(decode(&buf).unwrap(), values);
        }

        #[test]
        fn plain_and_dict_round_trip(values in columns()) {
            let mut buf = Vec::new();
            encode_plain(&values, &mut buf);
            prop_assert_eq!(buf[0], TAG_PLAIN);
            prop_assert_eq!(decode(&buf).unwrap(), values.clone());
            buf.clear();
            encode_dict(&values, &mut buf);
            prop_assert_eq!(buf[0], TAG_DICT);
            prop_assert_eq!(decode(&buf).unwrap(), values);
        }

        #[test]
        fn constants_use_the_constant_variant(s in ".{0,40}", n in 1usize..300) {
            let values = vec![s; n];
            let mut buf = Vec::new();
            encode(&values, &mut buf);
            prop_assert_eq!(buf[0], TAG_CONST);
            prop_assert_eq!(decode(&buf).unwrap(), values);
        }
    }

    #[test]
    fn repeated_names_use_the_dictionary() {
        let endpoints = ["/api/segments", "/api/users", "/health"];
        let values: Vec<String> = (0..300).map(|i| endpoints[i % 3].to_owned()).collect();
        let mut buf = Vec::new();
        encode(&values, &mut buf);
        assert_eq!(buf[0], TAG_DICT);
        assert!(buf.len() < 300 + 40, "{} bytes", buf.len());
        assert_eq!(decode(&buf).unwrap(), values);
    }

    #[test]
    fn expansion_is_bounded() {
        // One 1 KiB entry referenced 70,000 times would expand past 64 MiB.
        let mut buf = vec![TAG_DICT, 1, 0x80, 0x08];
        buf.extend_from_slice(&[b'a'; 1024]);
        put_uvarint(&mut buf, 70_000);
        buf.resize(buf.len() + 70_000, 0);
        assert!(matches!(decode(&buf), Err(CodecError::Invalid(_))));
        let mut c = vec![TAG_CONST];
        put_uvarint(&mut c, MAX_RUN_LEN as u64);
        put_uvarint(&mut c, 100);
        c.extend_from_slice(&[b'a'; 100]);
        assert!(matches!(decode(&c), Err(CodecError::Invalid(_))));
    }

    #[test]
    fn split_characters_are_refused() {
        // "é" is two bytes; lengths 1 + 1 split it.
        let buf = [TAG_PLAIN, 2, 1, 1, 0xc3, 0xa9];
        assert!(matches!(decode(&buf), Err(CodecError::Invalid(_))));
    }
}
