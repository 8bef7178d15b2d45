//! Tokens borrowed from the request buffer, and the escaping rules of each place a token can be.
//!
//! A token keeps the text exactly as written (escapes included). Most tokens have no escapes, so
//! they are used as they are; the few that do are unescaped on demand into a caller's buffer.

use std::fmt;

/// Byte class bit: ends a measurement, or starts an escape in one.
pub(crate) const MEAS: u8 = 1;
/// Byte class bit: ends a tag key, tag value or field key, or starts an escape in one.
pub(crate) const KEY: u8 = 2;
/// Byte class bit: ends a string field value, or starts an escape in one.
pub(crate) const STR: u8 = 4;

/// For every byte, the contexts in which it is special. A byte special in a context is also what
/// a backslash may escape there, so one table answers both "does the token end here" and "is
/// this backslash an escape".
pub(crate) static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b',' as usize] = MEAS | KEY;
    t[b' ' as usize] = MEAS | KEY;
    t[b'=' as usize] = KEY;
    t[b'"' as usize] = STR;
    t[b'\\' as usize] = MEAS | KEY | STR;
    t
};

/// Where a token stands in a line, which decides its escaping rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// The measurement: `\,` `\ ` and `\\` are escapes.
    Measurement,
    /// A tag key: `\,` `\=` `\ ` and `\\` are escapes.
    TagKey,
    /// A tag value: same escapes as a tag key.
    TagValue,
    /// A field key: same escapes as a tag key.
    FieldKey,
    /// The inside of a double-quoted string field value: `\"` and `\\` are escapes.
    StringValue,
}

impl TokenKind {
    /// The class bit of this kind in [`CLASS`].
    pub(crate) fn class(self) -> u8 {
        match self {
            TokenKind::Measurement => MEAS,
            TokenKind::TagKey | TokenKind::TagValue | TokenKind::FieldKey => KEY,
            TokenKind::StringValue => STR,
        }
    }
}

/// A piece of a line (measurement, key, tag value or string contents) borrowed from the request
/// buffer, as written, escapes included.
///
/// ```
/// use tally_ingest::line_protocol::parse_line;
/// let line = parse_line(br"cpu\ load,host=a\,b v=1").unwrap().unwrap();
/// assert_eq!(line.measurement.raw(), r"cpu\ load");
/// assert_eq!(line.measurement.to_string(), "cpu load");
/// let mut buf = String::new();
/// assert_eq!(line.tags[0].1.unescape(&mut buf), "a,b");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token<'a> {
    raw: &'a str,
    kind: TokenKind,
    escaped: bool,
}

impl<'a> Token<'a> {
    /// A token over `raw`; `escaped` must say whether `raw` holds an escape sequence of `kind`.
    pub(crate) fn new(raw: &'a str, kind: TokenKind, escaped: bool) -> Self {
        Token { raw, kind, escaped }
    }

    /// The text as written in the line, escapes included.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Where the token stands, which decides its escapes.
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// Whether the raw text holds escape sequences (so unescaping would change it).
    pub fn has_escapes(&self) -> bool {
        self.escaped
    }

    /// The unescaped text: the raw text itself when it has no escapes, otherwise the unescaped
    /// text written into `buf` (which is cleared first). Allocates only if `buf` must grow.
    pub fn unescape<'s>(&self, buf: &'s mut String) -> &'s str
    where
        'a: 's,
    {
        if !self.escaped {
            return self.raw;
        }
        buf.clear();
        unescape_into(self.raw, self.kind.class(), buf);
        buf.as_str()
    }
}

impl fmt::Display for Token<'_> {
    /// Writes the unescaped text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.escaped {
            return f.write_str(self.raw);
        }
        let mut buf = String::with_capacity(self.raw.len());
        unescape_into(self.raw, self.kind.class(), &mut buf);
        f.write_str(&buf)
    }
}

/// Appends `raw` to `out`, replacing each backslash that escapes a byte special under `class`
/// with that byte. A backslash before any other byte is kept as written.
pub(crate) fn unescape_into(raw: &str, class: u8, out: &mut String) {
    let bytes = raw.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'\\', &bytes[i..]) {
        let at = i + off;
        match bytes.get(at + 1) {
            Some(&next) if CLASS[next as usize] & class != 0 => {
                // Both `at` and `at + 1` are ASCII, so these are char boundaries.
                out.push_str(&raw[copied..at]);
                copied = at + 1;
                i = at + 2;
            }
            _ => i = at + 1,
        }
    }
    out.push_str(&raw[copied..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unescape(raw: &str, kind: TokenKind) -> String {
        let mut s = String::new();
        unescape_into(raw, kind.class(), &mut s);
        s
    }

    #[test]
    fn measurement_escapes_comma_space_and_backslash_only() {
        assert_eq!(unescape(r"a\,b\ c", TokenKind::Measurement), "a,b c");
        assert_eq!(unescape(r"a\=b", TokenKind::Measurement), r"a\=b");
        assert_eq!(unescape(r"a\\b", TokenKind::Measurement), r"a\b");
        assert_eq!(unescape(r"a\x", TokenKind::Measurement), r"a\x");
        assert_eq!(unescape(r"a\", TokenKind::Measurement), r"a\");
    }

    #[test]
    fn keys_escape_comma_equals_space_and_backslash() {
        assert_eq!(
            unescape(r"a\,b\=c\ d\\e\f", TokenKind::TagKey),
            r"a,b=c d\e\f"
        );
        assert_eq!(unescape(r"\\\\", TokenKind::FieldKey), r"\\");
        assert_eq!(unescape(r"\\\", TokenKind::TagValue), r"\\");
    }

    #[test]
    fn strings_escape_quote_and_backslash_only() {
        assert_eq!(
            unescape(r#"say \"hi\" \\ \n"#, TokenKind::StringValue),
            r#"say "hi" \ \n"#
        );
        assert_eq!(unescape(r"a\,b", TokenKind::StringValue), r"a\,b");
    }

    #[test]
    fn token_unescape_borrows_when_there_is_nothing_to_do() {
        let mut buf = String::from("left over");
        let t = Token::new("plain", TokenKind::TagValue, false);
        assert_eq!(t.unescape(&mut buf), "plain");
        let t = Token::new(r"a\ b", TokenKind::TagValue, true);
        assert_eq!(t.unescape(&mut buf), "a b");
        assert_eq!(t.to_string(), "a b");
    }
}
