//! The grammar of one line, one function per rule, writing byte spans into a reusable
//! [`Record`] instead of allocating tokens.
//!
//! Offsets are relative to the start of the line as received (leading blanks included), so an
//! error's offset + 1 is its column. The line given here never holds the `\n` (nor the `\r` of a
//! `\r\n`) that ended it.

use super::number::{parse_number, parse_timestamp, Number, NumberError};
use super::token::{CLASS, KEY, MEAS, STR};

/// A token's bytes in the line, plus where its unescaped text was put (filled by the caller
/// that unescapes, only when `escaped`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) escaped: bool,
    pub(crate) unescaped: (usize, usize),
}

impl Span {
    fn new(start: usize, end: usize, escaped: bool) -> Self {
        Span {
            start,
            end,
            escaped,
            unescaped: (0, 0),
        }
    }
}

/// A field value; strings stay a span of the line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum FieldVal {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    Boolean(bool),
    Str(Span),
}

/// The parts of one point, as spans into its line. Reused from line to line.
#[derive(Debug, Default)]
pub(crate) struct Record {
    pub(crate) measurement: Span,
    pub(crate) tags: Vec<(Span, Span)>,
    pub(crate) fields: Vec<(Span, FieldVal)>,
    /// The timestamp as written (before precision) and the offset where it starts.
    pub(crate) timestamp: Option<(i64, usize)>,
    /// Whether any token of the point holds an escape.
    pub(crate) any_escape: bool,
}

impl Record {
    fn clear(&mut self) {
        self.measurement = Span::default();
        self.tags.clear();
        self.fields.clear();
        self.timestamp = None;
        self.any_escape = false;
    }
}

/// A syntax error: the byte offset in the line it points at and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) at: usize,
    pub(crate) message: String,
}

fn err<T>(at: usize, message: String) -> Result<T, SyntaxError> {
    Err(SyntaxError { at, message })
}

/// Per-point limits the grammar enforces as it goes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ItemLimits {
    pub(crate) max_tags: usize,
    pub(crate) max_fields: usize,
}

/// What is at `i`, for messages: `'x'` or `end of line`.
fn found(line: &str, i: usize) -> String {
    match line.get(i..).and_then(|s| s.chars().next()) {
        None => "end of line".to_owned(),
        Some(c) => format!("{c:?}"),
    }
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Lexes one line into `rec`. `Ok(false)` means the line holds no point (blank or comment).
pub(crate) fn lex_line(
    line: &str,
    rec: &mut Record,
    limits: ItemLimits,
) -> Result<bool, SyntaxError> {
    rec.clear();
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() && is_blank(b[i]) {
        i += 1;
    }
    if i == b.len() || b[i] == b'#' {
        return Ok(false);
    }
    i = measurement(line, i, rec)?;
    if b.get(i) == Some(&b',') {
        i = tag_set(line, i, rec, limits.max_tags)?;
    }
    // Here b[i] is a space or the line ended: the measurement and tag rules stop only there.
    if i >= b.len() {
        let what = if rec.tags.is_empty() {
            "the measurement"
        } else {
            "the tags"
        };
        return err(
            i,
            format!(
                "expected a space and a field set after {what}, found end of line; \
                 a point needs at least one field, e.g. `{} value=1`",
                &line[rec.measurement.start..rec.measurement.end]
            ),
        );
    }
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    i = field_set(line, i, rec, limits.max_fields)?;
    // Here the field set ended at a space or the end of the line.
    while i < b.len() && is_blank(b[i]) {
        i += 1;
    }
    if i < b.len() {
        i = timestamp(line, i, rec)?;
        while i < b.len() && is_blank(b[i]) {
            i += 1;
        }
        if i < b.len() {
            return err(
                i,
                format!(
                    "expected end of line after the timestamp, found {}",
                    found(line, i)
                ),
            );
        }
    }
    Ok(true)
}

/// Scans a token from `i` until an unescaped byte of `class`; returns its end and whether it
/// holds escapes. A backslash escapes the next byte only if that byte is special in `class`.
#[inline(always)]
fn scan(b: &[u8], mut i: usize, class: u8) -> (usize, bool) {
    let mut escaped = false;
    loop {
        i = find_special(b, i, class);
        if b.get(i) != Some(&b'\\') {
            return (i, escaped);
        }
        match b.get(i + 1) {
            Some(&n) if CLASS[n as usize] & class != 0 => {
                escaped = true;
                i += 2;
            }
            _ => i += 1,
        }
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `w` equal to `c`. Bits above a true match may be false
/// positives (borrows), but the lowest set bit is always a true match, which is all we use.
#[inline(always)]
fn eq_mask(w: u64, c: u8) -> u64 {
    let y = w ^ (LO * c as u64);
    y.wrapping_sub(LO) & !y & HI
}

/// Offset of the first byte at or after `i` that is special in `class` (or `b.len()`).
/// Names are mostly short runs of plain bytes, so eight bytes are tested per step without a
/// branch per byte.
#[inline(always)]
fn find_special(b: &[u8], mut i: usize, class: u8) -> usize {
    debug_assert!(
        class == MEAS || class == KEY,
        "strings are scanned with memchr"
    );
    while i + 8 <= b.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[i..i + 8]);
        let w = u64::from_le_bytes(word);
        let mut m = eq_mask(w, b',') | eq_mask(w, b' ') | eq_mask(w, b'\\');
        if class & KEY != 0 {
            m |= eq_mask(w, b'=');
        }
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && CLASS[b[i] as usize] & class == 0 {
        i += 1;
    }
    i
}

/// `measurement = name` (ends at an unescaped `,` or space).
fn measurement(line: &str, start: usize, rec: &mut Record) -> Result<usize, SyntaxError> {
    let (end, escaped) = scan(line.as_bytes(), start, MEAS);
    if end == start {
        return err(
            start,
            format!(
                "expected a measurement name at the start of the line, found {}",
                found(line, start)
            ),
        );
    }
    rec.measurement = Span::new(start, end, escaped);
    rec.any_escape |= escaped;
    Ok(end)
}

/// `tag_set = { "," tag_key "=" tag_value }`; `i` is at the first `,`. Returns the offset of the
/// space that ends the tags, or the end of the line.
fn tag_set(
    line: &str,
    mut i: usize,
    rec: &mut Record,
    max_tags: usize,
) -> Result<usize, SyntaxError> {
    let b = line.as_bytes();
    while b.get(i) == Some(&b',') {
        i += 1;
        if rec.tags.len() == max_tags {
            return err(
                i,
                format!(
                    "too many tags: this point has more than {max_tags} (max_tags); \
                     drop some tags or raise the limit"
                ),
            );
        }
        let key_start = i;
        let (key_end, key_esc) = scan(b, i, KEY);
        let key = || &line[key_start..key_end];
        if key_end == key_start {
            return err(
                key_start,
                format!(
                    "expected a tag key after ',', found {}",
                    found(line, key_start)
                ),
            );
        }
        if b.get(key_end) != Some(&b'=') {
            return err(
                key_end,
                format!(
                    "expected '=' after tag key {:?}, found {}; tags are written key=value \
                     (escape a literal ',', '=' or space with a backslash)",
                    key(),
                    found(line, key_end)
                ),
            );
        }
        let val_start = key_end + 1;
        let (val_end, val_esc) = scan(b, val_start, KEY);
        if val_end == val_start {
            return err(
                val_start,
                format!(
                    "expected a value for tag key {:?}, found {}; tag values cannot be \
                     empty (leave the tag out instead)",
                    key(),
                    found(line, val_start)
                ),
            );
        }
        if b.get(val_end) == Some(&b'=') {
            return err(
                val_end,
                format!(
                    "unexpected '=' in the value of tag {:?}; escape it as \\= \
                     (or is a ',' missing before the next tag?)",
                    key()
                ),
            );
        }
        rec.tags.push((
            Span::new(key_start, key_end, key_esc),
            Span::new(val_start, val_end, val_esc),
        ));
        rec.any_escape |= key_esc | val_esc;
        i = val_end;
    }
    Ok(i)
}

/// `field_set = field { "," field }`; returns the offset just after the last value.
fn field_set(
    line: &str,
    mut i: usize,
    rec: &mut Record,
    max_fields: usize,
) -> Result<usize, SyntaxError> {
    let b = line.as_bytes();
    if i >= b.len() {
        return err(
            i,
            "expected a field set (e.g. value=1) after the space, found end of line".to_owned(),
        );
    }
    loop {
        if rec.fields.len() == max_fields {
            return err(
                i,
                format!(
                    "too many fields: this point has more than {max_fields} (max_fields); \
                     split it into several points or raise the limit"
                ),
            );
        }
        i = field(line, i, rec)?;
        match b.get(i) {
            Some(b',') => i += 1,
            None | Some(b' ') => return Ok(i),
            Some(_) => {
                let key = rec.fields[rec.fields.len() - 1].0;
                let name = &line[key.start..key.end];
                return err(
                    i,
                    format!(
                        "expected ',' or a space after the value of field {name:?}, found {}",
                        found(line, i)
                    ),
                );
            }
        }
    }
}

/// `field = field_key "=" field_value`.
fn field(line: &str, start: usize, rec: &mut Record) -> Result<usize, SyntaxError> {
    let b = line.as_bytes();
    let (key_end, key_esc) = scan(b, start, KEY);
    if key_end == start {
        return err(
            start,
            format!("expected a field key, found {}", found(line, start)),
        );
    }
    let key = &line[start..key_end];
    if b.get(key_end) != Some(&b'=') {
        return err(
            key_end,
            format!(
                "expected '=' after field key {key:?}, found {}; fields are written key=value \
                 (escape a literal ',', '=' or space with a backslash)",
                found(line, key_end)
            ),
        );
    }
    let vs = key_end + 1;
    let (value, end) = field_value(line, vs, key)?;
    rec.fields.push((Span::new(start, key_end, key_esc), value));
    rec.any_escape |= key_esc;
    if let FieldVal::Str(s) = value {
        rec.any_escape |= s.escaped;
    }
    Ok(end)
}

/// End of an unquoted value: the next `,` or space, or the end of the line.
fn value_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b',' || c == b' ')
        .map_or(b.len(), |p| i + p)
}

/// `field_value = float | integer | unsigned | boolean | string`.
fn field_value(line: &str, i: usize, key: &str) -> Result<(FieldVal, usize), SyntaxError> {
    let b = line.as_bytes();
    match b.get(i) {
        Some(b'"') => string_value(line, i, key),
        Some(b'-' | b'.' | b'0'..=b'9') => number_value(line, i, key),
        Some(b't' | b'T' | b'f' | b'F') => {
            let end = value_end(b, i);
            let v = match &line[i..end] {
                "t" | "T" | "true" | "True" | "TRUE" => true,
                "f" | "F" | "false" | "False" | "FALSE" => false,
                other => return err(i, invalid_value(key, other)),
            };
            Ok((FieldVal::Boolean(v), end))
        }
        None | Some(b',' | b' ') => err(
            i,
            format!(
                "expected a value for field {key:?}, found {}; e.g. {key}=1.5",
                found(line, i)
            ),
        ),
        Some(_) => err(i, invalid_value(key, &line[i..value_end(b, i)])),
    }
}

fn invalid_value(key: &str, text: &str) -> String {
    format!(
        "invalid value {text:?} for field {key:?}: expected a float (1.5, 1e3), an integer \
         (12i), an unsigned integer (12u), a boolean (t, true, f, false) or a double-quoted \
         string (\"...\")"
    )
}

fn number_value(line: &str, i: usize, key: &str) -> Result<(FieldVal, usize), SyntaxError> {
    let b = line.as_bytes();
    let text = || &line[i..value_end(b, i)];
    let e = match parse_number(&b[i..]) {
        Ok((n, len)) => {
            let end = i + len;
            if matches!(b.get(end), None | Some(b',' | b' ')) {
                let v = match n {
                    Number::Float(v) => FieldVal::Float(v),
                    Number::Integer(v) => FieldVal::Integer(v),
                    Number::Unsigned(v) => FieldVal::Unsigned(v),
                };
                return Ok((v, end));
            }
            NumberError::Malformed
        }
        Err(e) => e,
    };
    let text = text();
    let message = match e {
        NumberError::Malformed => format!(
            "invalid number {text:?} for field {key:?}: expected a float (12.5, -1.5e-3), an \
             integer (12i) or an unsigned integer (12u)"
        ),
        NumberError::IntegerOverflow => format!(
            "integer {text} for field {key:?} is out of range: integers (i) must lie between \
             {} and {}; write larger values with the u suffix or as a float",
            i64::MIN,
            i64::MAX
        ),
        NumberError::UnsignedOverflow => format!(
            "unsigned integer {text} for field {key:?} is out of range: at most {}; write it \
             as a float instead",
            u64::MAX
        ),
        NumberError::NegativeUnsigned => format!(
            "unsigned integer {text} for field {key:?} is negative; use the i suffix for \
             signed integers"
        ),
        NumberError::FractionalInteger => format!(
            "{text} for field {key:?} has a decimal point or exponent but an integer suffix; \
             drop the suffix for a float or write a whole number"
        ),
        NumberError::FloatOutOfRange => format!(
            "float {text} for field {key:?} is out of range of a 64-bit float (about ±1.8e308)"
        ),
    };
    err(i, message)
}

/// `string = '"' { char | '\"' | '\\' } '"'`; `i` is at the opening quote.
fn string_value(line: &str, i: usize, key: &str) -> Result<(FieldVal, usize), SyntaxError> {
    let b = line.as_bytes();
    let start = i + 1;
    let mut j = start;
    let mut escaped = false;
    while let Some(off) = memchr::memchr2(b'"', b'\\', &b[j..]) {
        let at = j + off;
        if b[at] == b'"' {
            let span = Span::new(start, at, escaped);
            return Ok((FieldVal::Str(span), at + 1));
        }
        match b.get(at + 1) {
            Some(&n) if CLASS[n as usize] & STR != 0 => {
                escaped = true;
                j = at + 2;
            }
            _ => j = at + 1,
        }
    }
    err(
        i,
        format!(
            "unterminated string for field {key:?}: no closing '\"' before the end of the \
             line; write a quote inside a string as \\\" and a backslash before it as \\\\"
        ),
    )
}

/// `timestamp = [ "-" ] digit { digit }`.
fn timestamp(line: &str, i: usize, rec: &mut Record) -> Result<usize, SyntaxError> {
    let b = line.as_bytes();
    let text = || {
        let end = b[i..]
            .iter()
            .position(|&c| is_blank(c))
            .map_or(b.len(), |p| i + p);
        &line[i..end]
    };
    match parse_timestamp(&b[i..]) {
        Ok((Some(ts), len)) if matches!(b.get(i + len), None | Some(b' ' | b'\t')) => {
            rec.timestamp = Some((ts, i));
            Ok(i + len)
        }
        Ok((None, len)) if matches!(b.get(i + len), None | Some(b' ' | b'\t')) => err(
            i,
            format!(
                "timestamp {} does not fit in a signed 64-bit integer",
                text()
            ),
        ),
        _ => err(
            i,
            format!(
                "invalid timestamp {:?}: expected a whole number of nanoseconds (or of the \
                 unit given by the precision parameter) since the Unix epoch, or nothing",
                text()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ItemLimits = ItemLimits {
        max_tags: 64,
        max_fields: 256,
    };

    fn lex(line: &str) -> Result<Record, SyntaxError> {
        let mut r = Record::default();
        assert!(lex_line(line, &mut r, LIMITS)?);
        Ok(r)
    }

    fn text(line: &str, s: Span) -> &str {
        &line[s.start..s.end]
    }

    #[test]
    fn typical_line() {
        let l =
            "requests,key=k12,endpoint=/api/segments latency_ms=12.3,bytes_in=0i,ok=t,n=\"x\" 17";
        let r = lex(l).unwrap();
        assert_eq!(text(l, r.measurement), "requests");
        assert_eq!(r.tags.len(), 2);
        assert_eq!(text(l, r.tags[1].1), "/api/segments");
        assert_eq!(r.fields[0].1, FieldVal::Float(12.3));
        assert_eq!(r.fields[1].1, FieldVal::Integer(0));
        assert_eq!(r.fields[2].1, FieldVal::Boolean(true));
        match r.fields[3].1 {
            FieldVal::Str(s) => assert_eq!(text(l, s), "x"),
            ref other => panic!("{other:?}"),
        }
        assert_eq!(r.timestamp, Some((17, l.len() - 2)));
        assert!(!r.any_escape);
    }

    #[test]
    fn blank_and_comment_lines_hold_no_point() {
        let mut r = Record::default();
        for l in ["", "   ", "\t", "# comment", "  # indented comment"] {
            assert_eq!(lex_line(l, &mut r, LIMITS), Ok(false), "{l:?}");
        }
    }

    #[test]
    fn error_offsets() {
        let at = |l: &str| lex(l).unwrap_err().at;
        assert_eq!(at("m"), 1);
        assert_eq!(at(",t=1 v=1"), 0);
        assert_eq!(at("m,host v=1"), 6);
        assert_eq!(at("m,t= v=1"), 4);
        assert_eq!(at("m v"), 3);
        assert_eq!(at("m v="), 4);
        assert_eq!(at("m v=12x"), 4);
        assert_eq!(at("m v=\"abc"), 4);
        assert_eq!(at("m v=1 12x"), 6);
        assert_eq!(at("m v=1 1 2"), 8);
        assert_eq!(at("m v=\"a\"x"), 7);
    }

    #[test]
    fn separators_may_repeat_and_trailing_blanks_are_fine() {
        let r = lex("  m,t=1   v=1   5  ").unwrap();
        assert_eq!(r.timestamp, Some((5, 16)));
        assert!(lex("m v=1 \t").unwrap().timestamp.is_none());
    }

    proptest::proptest! {
        #[test]
        fn word_scan_matches_the_byte_table(
            b in proptest::collection::vec(proptest::sample::select(
                &b" ,=\\\"ab\x80\xff\x01\x7f"[..]), 0..40),
            i in 0usize..40,
            key in proptest::bool::ANY,
        ) {
            let class = if key { KEY } else { MEAS };
            let i = i.min(b.len());
            let want = b[i..]
                .iter()
                .position(|&c| CLASS[c as usize] & class != 0)
                .map_or(b.len(), |p| i + p);
            proptest::prop_assert_eq!(find_special(&b, i, class), want);
        }
    }

    #[test]
    fn limits_on_tags_and_fields() {
        let mut r = Record::default();
        let small = ItemLimits {
            max_tags: 1,
            max_fields: 1,
        };
        assert_eq!(lex_line("m,a=1 v=1", &mut r, small), Ok(true));
        assert_eq!(lex_line("m,a=1,b=2 v=1", &mut r, small).unwrap_err().at, 6);
        assert_eq!(lex_line("m v=1,w=2", &mut r, small).unwrap_err().at, 6);
    }
}
