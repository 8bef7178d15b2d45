//! The InfluxDB 1.x line protocol: a zero-copy parser into [`tally_engine::WriteBatch`], and a
//! formatter that writes points back as lines.
//!
//! # Grammar
//!
//! ```text
//! body        = { line ( "\n" | "\r\n" ) } [ line ] ;
//! line        = blank* [ comment | point ] ;              (* blank lines are skipped *)
//! blank       = " " | "\t" ;
//! comment     = "#" { any byte but "\n" } ;
//! point       = measurement { "," tag_key "=" tag_value } " "+ field { "," field }
//!               [ " "+ timestamp ] blank* ;
//! field       = field_key "=" field_value ;
//! measurement = m_char { m_char } ;                      (* must not start with "#" or a blank *)
//! tag_key     = k_char { k_char } ;   tag_value = k_char { k_char } ;   field_key = tag_key ;
//! m_char      = any char but "," " " "\n" | "\," | "\ " | "\\" ;
//! k_char      = any char but "," "=" " " "\n" | "\," | "\=" | "\ " | "\\" ;
//! field_value = float | integer | unsigned | boolean | string ;
//! float       = [ "-" ] ( digits [ "." { digit } ] | "." digits ) [ ( "e" | "E" ) [ "+" | "-" ] digits ] ;
//! integer     = [ "-" ] digits "i" ;                     (* -2^63 ..= 2^63-1 *)
//! unsigned    = digits "u" ;                             (* 0 ..= 2^64-1 *)
//! boolean     = "t" | "T" | "true" | "True" | "TRUE" | "f" | "F" | "false" | "False" | "FALSE" ;
//! string      = '"' { any char but '"' "\" "\n" | '\"' | "\\" | "\" } '"' ;
//! timestamp   = [ "-" ] digits ;                         (* in the precision's unit *)
//! digits      = digit { digit } ;
//! ```
//!
//! Escapes: a backslash escapes the bytes that are special where it stands (listed above);
//! `\\` is one backslash, as InfluxDB 2.x+ and the client libraries write it, so any text can be
//! expressed. A backslash before any other character is kept as written (`a\b` is `a\b`).
//! Newlines cannot appear inside any token. A number without a suffix is a float (`1` is 1.0).
//!
//! Each error names its line, byte column and what was expected; see [`LineError`].

mod error;
mod format;
mod lexer;
mod number;
mod parser;
mod precision;
mod token;

pub use error::{LineError, EXCERPT_CHARS};
pub use format::{escape_key, escape_measurement, escape_string, format_line, format_value};
pub use parser::{Limits, ParseReport, Parser, MAX_REPORTED_ERRORS};
pub use precision::{Precision, PrecisionError};
pub use token::{Token, TokenKind};

use lexer::{lex_line, FieldVal, Record, Span};
use tally_engine::{BatchError, FieldValue, FieldValueRef};

/// One parsed point, borrowing every name and string from the input line.
#[derive(Debug, Clone, PartialEq)]
pub struct Line<'a> {
    /// The measurement.
    pub measurement: Token<'a>,
    /// Tag keys and values, in line order.
    pub tags: Vec<(Token<'a>, Token<'a>)>,
    /// Field keys and values, in line order.
    pub fields: Vec<(Token<'a>, Value<'a>)>,
    /// The timestamp as written, in the unit of the write's precision.
    pub timestamp: Option<i64>,
}

/// A field value; a string stays a token of the line until asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// A float.
    Float(f64),
    /// A signed integer (`i` suffix).
    Integer(i64),
    /// An unsigned integer (`u` suffix).
    Unsigned(u64),
    /// A boolean.
    Boolean(bool),
    /// A string, as written between the quotes.
    String(Token<'a>),
}

impl<'a> Value<'a> {
    /// The value for the engine; a string with escapes is unescaped into `buf`.
    pub fn as_field_value<'s>(&self, buf: &'s mut String) -> FieldValueRef<'s>
    where
        'a: 's,
    {
        match *self {
            Value::Float(v) => FieldValueRef::Float(v),
            Value::Integer(v) => FieldValueRef::Integer(v),
            Value::Unsigned(v) => FieldValueRef::Unsigned(v),
            Value::Boolean(v) => FieldValueRef::Boolean(v),
            Value::String(t) => FieldValueRef::String(t.unescape(buf)),
        }
    }

    /// The value, copied and unescaped.
    pub fn to_field_value(&self) -> FieldValue {
        let mut buf = String::new();
        self.as_field_value(&mut buf).to_owned_value()
    }
}

/// Parses a single line (a trailing `\n` or `\r\n` is allowed) with the default [`Limits`].
/// `Ok(None)` means the line is blank or a comment. Errors report line 1. A line accepted here
/// is accepted by [`Parser::parse_into`] too, and refused at the same column otherwise (apart
/// from timestamps out of range for a precision, which only `parse_into` knows).
///
/// This builds a [`Line`] of tokens, which allocates its two vectors; the bulk path,
/// [`Parser::parse_into`], shares the grammar but allocates nothing per line.
///
/// ```
/// use tally_ingest::line_protocol::{parse_line, Value};
/// let line = parse_line(b"cpu,host=a usage=0.5,cores=8i 1700000000").unwrap().unwrap();
/// assert_eq!(line.measurement.raw(), "cpu");
/// assert_eq!(line.fields[1].1, Value::Integer(8));
/// assert_eq!(line.timestamp, Some(1_700_000_000));
/// let err = parse_line(b"cpu,host usage=0.5").unwrap_err();
/// assert_eq!((err.line, err.column), (1, 9));
/// ```
pub fn parse_line(line: &[u8]) -> Result<Option<Line<'_>>, LineError> {
    let limits = Limits::default();
    let mut raw = line;
    if let [rest @ .., b'\n'] = raw {
        raw = rest;
    }
    if let [rest @ .., b'\r'] = raw {
        raw = rest;
    }
    let fail = |column: usize, message: String| Err(LineError::new(1, column, message, raw));
    if let Some(at) = memchr::memchr(b'\n', raw) {
        return fail(
            at + 1,
            "found a newline inside the line; give one point per line (use Parser::parse_into \
             for a body of many lines)"
                .to_owned(),
        );
    }
    match raw.iter().position(|&b| b != b' ' && b != b'\t') {
        None => return Ok(None),
        Some(i) if raw[i] == b'#' => return Ok(None),
        Some(_) => {}
    }
    if raw.len() > limits.max_line_bytes {
        return fail(
            limits.max_line_bytes + 1,
            parser::too_long_message(raw.len(), limits.max_line_bytes),
        );
    }
    let text = match std::str::from_utf8(raw) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            return fail(at + 1, parser::utf8_message(raw[at]));
        }
    };
    let mut rec = Record::default();
    match lex_line(text, &mut rec, limits.items()) {
        Ok(false) => return Ok(None),
        Ok(true) => {}
        Err(e) => return fail(e.at + 1, e.message),
    }
    let token = |s: Span, kind| Token::new(&text[s.start..s.end], kind, s.escaped);
    // The same checks the batch builder makes in `Parser::parse_into`, so both agree.
    let dup = |keys: &mut dyn Iterator<Item = Token<'_>>| {
        let mut seen: Vec<String> = Vec::new();
        for (i, k) in keys.enumerate() {
            let name = k.to_string();
            if seen.contains(&name) {
                return Some((i, name));
            }
            seen.push(name);
        }
        None
    };
    let tag_keys = &mut rec.tags.iter().map(|&(k, _)| token(k, TokenKind::TagKey));
    if let Some((i, name)) = dup(tag_keys) {
        return fail(
            rec.tags[i].0.start + 1,
            BatchError::DuplicateTag(name).to_string(),
        );
    }
    let field_keys = &mut rec
        .fields
        .iter()
        .map(|&(k, _)| token(k, TokenKind::FieldKey));
    if let Some((i, name)) = dup(field_keys) {
        return fail(
            rec.fields[i].0.start + 1,
            BatchError::DuplicateField(name).to_string(),
        );
    }
    Ok(Some(Line {
        measurement: token(rec.measurement, TokenKind::Measurement),
        tags: rec
            .tags
            .iter()
            .map(|&(k, v)| (token(k, TokenKind::TagKey), token(v, TokenKind::TagValue)))
            .collect(),
        fields: rec
            .fields
            .iter()
            .map(|&(k, v)| {
                let v = match v {
                    FieldVal::Float(x) => Value::Float(x),
                    FieldVal::Integer(x) => Value::Integer(x),
                    FieldVal::Unsigned(x) => Value::Unsigned(x),
                    FieldVal::Boolean(x) => Value::Boolean(x),
                    FieldVal::Str(s) => Value::String(token(s, TokenKind::StringValue)),
                };
                (token(k, TokenKind::FieldKey), v)
            })
            .collect(),
        timestamp: rec.timestamp.map(|(t, _)| t),
    }))
}
