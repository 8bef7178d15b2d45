//! The body-level parser: splits a request body into lines, lexes each, and appends the good
//! points to a [`WriteBatch`] while listing the bad lines (InfluxDB's partial writes).
//!
//! Nothing here allocates per line or per field once the parser is warm: spans go into a reused
//! [`Record`], escaped tokens are unescaped into one reused string, and points are built in a
//! reused [`PointScratch`]. Only rejected lines allocate (their [`LineError`]).

use super::error::LineError;
use super::lexer::{lex_line, FieldVal, ItemLimits, Record, Span};
use super::precision::Precision;
use super::token::{unescape_into, KEY, MEAS, STR};
use tally_engine::{BatchError, FieldValueRef, PointScratch, WriteBatch};

/// At most this many [`LineError`]s are kept in a [`ParseReport`]; further bad lines are only
/// counted, so a large body of garbage cannot make the report huge.
pub const MAX_REPORTED_ERRORS: usize = 1000;

/// Per-line limits. A line over a limit is rejected with a message naming the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted line in bytes, without its line ending (default 64 KiB).
    pub max_line_bytes: usize,
    /// Most tags on one point (default 64).
    pub max_tags: usize,
    /// Most fields on one point (default 256).
    pub max_fields: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: 64 * 1024,
            max_tags: 64,
            max_fields: 256,
        }
    }
}

impl Limits {
    pub(crate) fn items(&self) -> ItemLimits {
        ItemLimits {
            max_tags: self.max_tags,
            max_fields: self.max_fields,
        }
    }
}

/// What became of a body: how many points were appended, and which lines were not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseReport {
    /// Points appended to the batch.
    pub accepted: usize,
    /// The rejected lines in body order; at most [`MAX_REPORTED_ERRORS`] of them.
    pub rejected: Vec<LineError>,
    /// How many lines were rejected in all (can exceed `rejected.len()`).
    pub rejected_total: usize,
}

impl ParseReport {
    /// Whether every point-bearing line was accepted.
    pub fn is_clean(&self) -> bool {
        self.rejected_total == 0
    }

    fn reject(&mut self, e: LineError) {
        self.rejected_total += 1;
        if self.rejected.len() < MAX_REPORTED_ERRORS {
            self.rejected.push(e);
        }
    }
}

/// A reusable line-protocol parser. Keep one per writer thread: its buffers stay warm.
///
/// ```
/// use tally_engine::WriteBatch;
/// use tally_ingest::line_protocol::{Limits, Parser, Precision};
/// let mut parser = Parser::new(Limits::default());
/// let mut batch = WriteBatch::new();
/// let body = b"cpu,host=a usage=0.5 1700000000\ncpu,host=b usage=oops\n";
/// let report = parser.parse_into(body, Precision::Seconds, 0, &mut batch);
/// assert_eq!(report.accepted, 1);
/// assert_eq!(report.rejected[0].line, 2);
/// assert_eq!(batch.len(), 1);
/// ```
#[derive(Debug, Default)]
pub struct Parser {
    limits: Limits,
    rec: Record,
    unescaped: String,
    scratch: PointScratch,
}

impl Parser {
    /// A parser enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Parser {
            limits,
            ..Parser::default()
        }
    }

    /// The limits this parser enforces.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Parses every line of `body`, appending the valid ones to `batch` (timestamp-less lines
    /// get `default_ts`, in nanoseconds), and reporting the bad ones; never stops at the first
    /// bad line (partial-write semantics). Timestamps in the body are in `precision` units.
    pub fn parse_into(
        &mut self,
        body: &[u8],
        precision: Precision,
        default_ts: i64,
        batch: &mut WriteBatch,
    ) -> ParseReport {
        let mut report = ParseReport::default();
        let mut utf8 = Utf8Window::new(body);
        let items = self.limits.items();
        let mut line_no = 0;
        let mut start = 0;
        let mut newlines = memchr::memchr_iter(b'\n', body);
        while start < body.len() {
            let next = newlines.next();
            let end = next.unwrap_or(body.len());
            line_no += 1;
            let line_start = start;
            start = end + 1;

            let mut raw = &body[line_start..end];
            if let [rest @ .., b'\r'] = raw {
                raw = rest;
            }
            // Comments and blank lines are skipped whatever their length.
            match raw.iter().position(|&b| b != b' ' && b != b'\t') {
                None => continue,
                Some(i) if raw[i] == b'#' => continue,
                Some(_) => {}
            }
            if raw.len() > self.limits.max_line_bytes {
                report.reject(LineError::new(
                    line_no,
                    self.limits.max_line_bytes + 1,
                    too_long_message(raw.len(), self.limits.max_line_bytes),
                    raw,
                ));
                continue;
            }
            let line = match utf8.line(line_start, line_start + raw.len()) {
                Ok(line) => line,
                Err(bad) => {
                    report.reject(LineError::new(
                        line_no,
                        bad - line_start + 1,
                        utf8_message(body[bad]),
                        raw,
                    ));
                    continue;
                }
            };
            match lex_line(line, &mut self.rec, items) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    report.reject(LineError::new(line_no, e.at + 1, e.message, raw));
                    continue;
                }
            }
            let ts = match self.rec.timestamp {
                None => default_ts,
                Some((t, at)) => match precision.to_nanos(t) {
                    Some(ns) => ns,
                    None => {
                        report.reject(LineError::new(
                            line_no,
                            at + 1,
                            timestamp_range_message(t, precision),
                            raw,
                        ));
                        continue;
                    }
                },
            };
            match self.emit(line, ts, batch) {
                Ok(()) => report.accepted += 1,
                Err((at, message)) => {
                    report.reject(LineError::new(line_no, at + 1, message, raw));
                }
            }
        }
        report
    }

    /// Appends the point lexed into `self.rec` from `line`. On refusal by the batch builder,
    /// returns the offset to blame and the message.
    fn emit(&mut self, line: &str, ts: i64, batch: &mut WriteBatch) -> Result<(), (usize, String)> {
        let Parser {
            rec,
            unescaped,
            scratch,
            ..
        } = self;
        unescaped.clear();
        if rec.any_escape {
            resolve(line, &mut rec.measurement, MEAS, unescaped);
            for (k, v) in &mut rec.tags {
                resolve(line, k, KEY, unescaped);
                resolve(line, v, KEY, unescaped);
            }
            for (k, v) in &mut rec.fields {
                resolve(line, k, KEY, unescaped);
                if let FieldVal::Str(s) = v {
                    resolve(line, s, STR, unescaped);
                }
            }
        }
        let unescaped = unescaped.as_str();
        let text = |s: &Span| span_text(line, unescaped, s);

        let mut point = batch.point(scratch, text(&rec.measurement));
        for (k, v) in &rec.tags {
            point.tag(text(k), text(v));
        }
        for (k, v) in &rec.fields {
            let value = match v {
                FieldVal::Float(x) => FieldValueRef::Float(*x),
                FieldVal::Integer(x) => FieldValueRef::Integer(*x),
                FieldVal::Unsigned(x) => FieldValueRef::Unsigned(*x),
                FieldVal::Boolean(x) => FieldValueRef::Boolean(*x),
                FieldVal::Str(s) => FieldValueRef::String(text(s)),
            };
            point.field(text(k), value);
        }
        let e = match point.finish(ts) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        // Point at the second occurrence of a duplicate; anything else at the measurement.
        let at = match &e {
            BatchError::DuplicateTag(name) => second(rec.tags.iter().map(|(k, _)| k), name, text),
            BatchError::DuplicateField(name) => {
                second(rec.fields.iter().map(|(k, _)| k), name, text)
            }
            _ => None,
        };
        Err((at.unwrap_or(rec.measurement.start), e.to_string()))
    }
}

/// A span's text: from the line, or from the unescape buffer if it had escapes.
fn span_text<'x>(line: &'x str, unescaped: &'x str, s: &Span) -> &'x str {
    if s.escaped {
        &unescaped[s.unescaped.0..s.unescaped.1]
    } else {
        &line[s.start..s.end]
    }
}

/// The offset of the second span whose text is `name`.
fn second<'s, 'x>(
    spans: impl Iterator<Item = &'s Span>,
    name: &str,
    text: impl Fn(&Span) -> &'x str,
) -> Option<usize> {
    spans.filter(|s| text(s) == name).nth(1).map(|s| s.start)
}

/// Unescapes an escaped span into `buf` and records where.
fn resolve(line: &str, span: &mut Span, class: u8, buf: &mut String) {
    if span.escaped {
        let a = buf.len();
        unescape_into(&line[span.start..span.end], class, buf);
        span.unescaped = (a, buf.len());
    }
}

/// The part of a body known to be UTF-8, validated once up front and again after each bad line.
#[derive(Debug)]
struct Utf8Window<'a> {
    body: &'a [u8],
    /// `body[base..valid_end]` as text.
    text: &'a str,
    base: usize,
    /// First byte not known to be UTF-8: an invalid sequence, or `body.len()`.
    valid_end: usize,
}

impl<'a> Utf8Window<'a> {
    fn new(body: &'a [u8]) -> Self {
        let mut w = Utf8Window {
            body,
            text: "",
            base: 0,
            valid_end: 0,
        };
        w.validate_from(0);
        w
    }

    fn validate_from(&mut self, at: usize) {
        let rest = &self.body[at..];
        let good = match std::str::from_utf8(rest) {
            Ok(text) => text,
            // Only on bodies with bad bytes: validate the good prefix again to borrow it as text.
            Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or_default(),
        };
        self.text = good;
        self.base = at;
        self.valid_end = at + good.len();
    }

    /// `body[start..end]` as text, or the offset of the first invalid byte in it. Lines come in
    /// body order, so a window spent on an earlier bad line is refreshed here.
    fn line(&mut self, start: usize, end: usize) -> Result<&'a str, usize> {
        if start > self.valid_end {
            self.validate_from(start);
        }
        if end <= self.valid_end {
            Ok(&self.text[start - self.base..end - self.base])
        } else {
            Err(self.valid_end)
        }
    }
}

pub(crate) fn too_long_message(len: usize, max: usize) -> String {
    format!(
        "line is {len} bytes long, over the limit of {max} bytes (max_line_bytes); split the \
         point or raise the limit"
    )
}

pub(crate) fn utf8_message(byte: u8) -> String {
    format!(
        "invalid UTF-8 (byte 0x{byte:02x}); line protocol must be UTF-8 text, so re-encode \
         the data (e.g. from Latin-1) before sending it"
    )
}

fn timestamp_range_message(ts: i64, precision: Precision) -> String {
    format!(
        "timestamp {ts} in {} is out of range: in nanoseconds it does not fit in a signed \
         64-bit integer (years 1677 to 2262); check the precision parameter",
        precision.unit_name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_window_recovers_after_a_bad_line() {
        let body = b"ok\nb\xffd\nok\n\xc3\nok";
        let mut w = Utf8Window::new(body);
        assert_eq!(w.line(0, 2), Ok("ok"));
        assert_eq!(w.line(3, 6), Err(4));
        assert_eq!(w.line(7, 9), Ok("ok"));
        assert_eq!(w.line(10, 11), Err(10));
        assert_eq!(w.line(12, 14), Ok("ok"));
    }

    #[test]
    fn builder_refusals_point_at_the_duplicate() {
        let mut p = Parser::new(Limits::default());
        let mut b = WriteBatch::new();
        let r = p.parse_into(
            b"m,a=1,b=2,a=3 v=1\nm v=1,w=2,v=3",
            Precision::Nanoseconds,
            0,
            &mut b,
        );
        assert_eq!(r.accepted, 0);
        assert_eq!((r.rejected[0].line, r.rejected[0].column), (1, 11));
        assert!(
            r.rejected[0].message.contains("'a' appears twice"),
            "{}",
            r.rejected[0].message
        );
        assert_eq!((r.rejected[1].line, r.rejected[1].column), (2, 11));
    }

    #[test]
    fn escaped_duplicates_are_found_after_unescaping() {
        let mut p = Parser::new(Limits::default());
        let mut b = WriteBatch::new();
        let r = p.parse_into(br"m,a\ b=1,a\ b=2 v=1", Precision::Nanoseconds, 0, &mut b);
        assert_eq!(r.rejected[0].column, 10);
    }

    #[test]
    fn report_keeps_a_bounded_number_of_errors() {
        let body = "bad\n".repeat(MAX_REPORTED_ERRORS + 5);
        let mut p = Parser::new(Limits::default());
        let mut b = WriteBatch::new();
        let r = p.parse_into(body.as_bytes(), Precision::Nanoseconds, 0, &mut b);
        assert_eq!(r.rejected.len(), MAX_REPORTED_ERRORS);
        assert_eq!(r.rejected_total, MAX_REPORTED_ERRORS + 5);
        assert!(!r.is_clean());
    }
}
