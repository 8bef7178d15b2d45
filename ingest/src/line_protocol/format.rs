//! Writing points as line protocol, escaped so that [`super::parse_line`] reads back exactly
//! what was written.
//!
//! Not representable in line protocol, so callers must avoid them: a newline or carriage return
//! anywhere, an empty measurement, key or tag value, a measurement starting with `#` (the line
//! would be a comment) or with a tab, and non-finite floats.

use super::token::{CLASS, KEY, MEAS, STR};
use std::io::Write;
use tally_engine::FieldValueRef;

fn escape(out: &mut Vec<u8>, s: &str, class: u8) {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| CLASS[b as usize] & class != 0) {
        out.extend_from_slice(bytes);
        return;
    }
    for &b in bytes {
        if CLASS[b as usize] & class != 0 {
            out.push(b'\\');
        }
        out.push(b);
    }
}

/// Appends a measurement name, escaping `,`, space and `\`.
pub fn escape_measurement(out: &mut Vec<u8>, s: &str) {
    escape(out, s, MEAS);
}

/// Appends a tag key, tag value or field key, escaping `,`, `=`, space and `\`.
pub fn escape_key(out: &mut Vec<u8>, s: &str) {
    escape(out, s, KEY);
}

/// Appends a string field value in double quotes, escaping `"` and `\`.
pub fn escape_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escape(out, s, STR);
    out.push(b'"');
}

/// Appends one field value: floats in the shortest form that reads back to the same bits
/// (`12.3`, `1e-7`), integers with `i`, unsigned with `u`, booleans as `true`/`false`.
/// Returns `false` (and appends nothing) for a NaN or infinite float, which line protocol cannot
/// express.
pub fn format_value(out: &mut Vec<u8>, value: FieldValueRef<'_>) -> bool {
    // Writing to a Vec cannot fail.
    let _ = match value {
        FieldValueRef::Float(v) if !v.is_finite() => return false,
        FieldValueRef::Float(v) => write!(out, "{v:?}"),
        FieldValueRef::Integer(v) => write!(out, "{v}i"),
        FieldValueRef::Unsigned(v) => write!(out, "{v}u"),
        FieldValueRef::Boolean(v) => {
            out.extend_from_slice(if v { b"true" } else { b"false" });
            Ok(())
        }
        FieldValueRef::String(s) => {
            escape_string(out, s);
            Ok(())
        }
    };
    true
}

/// Appends one point as a line of line protocol, ending in `\n`; `ts` is written as is (in
/// whatever precision the reader will be told). Tags are written in the order given.
/// Non-finite float fields are left out (line protocol cannot express them).
///
/// ```
/// use tally_engine::FieldValueRef;
/// use tally_ingest::line_protocol::format_line;
/// let mut out = Vec::new();
/// format_line(
///     &mut out,
///     "requests",
///     &[("endpoint", "/api/a b"), ("method", "GET")],
///     &[("latency_ms", FieldValueRef::Float(12.3)), ("note", FieldValueRef::String("say \"hi\""))],
///     Some(1_700_000_000_000_000_000),
/// );
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "requests,endpoint=/api/a\\ b,method=GET latency_ms=12.3,note=\"say \\\"hi\\\"\" 1700000000000000000\n"
/// );
/// ```
pub fn format_line(
    out: &mut Vec<u8>,
    measurement: &str,
    tags: &[(&str, &str)],
    fields: &[(&str, FieldValueRef<'_>)],
    ts: Option<i64>,
) {
    escape_measurement(out, measurement);
    for (k, v) in tags {
        out.push(b',');
        escape_key(out, k);
        out.push(b'=');
        escape_key(out, v);
    }
    let mut sep = b' ';
    for (k, v) in fields {
        if matches!(v, FieldValueRef::Float(f) if !f.is_finite()) {
            continue;
        }
        out.push(sep);
        sep = b',';
        escape_key(out, k);
        out.push(b'=');
        format_value(out, *v);
    }
    if let Some(ts) = ts {
        let _ = write!(out, " {ts}");
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn escapes_per_position() {
        assert_eq!(s(|o| escape_measurement(o, r"a,b c=d\e")), r"a\,b\ c=d\\e");
        assert_eq!(s(|o| escape_key(o, r"a,b c=d\e")), r"a\,b\ c\=d\\e");
        assert_eq!(s(|o| escape_string(o, r#"a,"b"\c"#)), r#""a,\"b\"\\c""#);
    }

    #[test]
    fn values() {
        let v = |x| s(|o| assert!(format_value(o, x)));
        assert_eq!(v(FieldValueRef::Float(1.0)), "1.0");
        assert_eq!(v(FieldValueRef::Float(-1.5e-7)), "-1.5e-7");
        assert_eq!(v(FieldValueRef::Integer(i64::MIN)), "-9223372036854775808i");
        assert_eq!(
            v(FieldValueRef::Unsigned(u64::MAX)),
            "18446744073709551615u"
        );
        assert_eq!(v(FieldValueRef::Boolean(false)), "false");
        assert!(!format_value(
            &mut Vec::new(),
            FieldValueRef::Float(f64::NAN)
        ));
    }

    #[test]
    fn non_finite_floats_are_left_out() {
        let line = s(|o| {
            format_line(
                o,
                "m",
                &[],
                &[
                    ("a", FieldValueRef::Float(f64::INFINITY)),
                    ("b", FieldValueRef::Integer(1)),
                ],
                None,
            )
        });
        assert_eq!(line, "m b=1i\n");
    }
}
