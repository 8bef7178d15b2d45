//! Parse errors: the internal failure the nom rules pass around ([`Fail`]) and the public
//! [`ParseError`] a user sees, with line, column, what was found, what was expected and a caret
//! under the spot.

use std::borrow::Cow;
use std::fmt;

use nom::error::ErrorKind;

use crate::lexical::Input;

/// What went wrong, for callers that react to specific mistakes. The rendered text of every kind
/// is in [`ParseError`]'s `Display`.
///
/// ```
/// use tally_query::{parse_statement, ParseErrorKind};
/// let err = parse_statement("SELECT FROM m").unwrap_err();
/// assert_eq!(err.kind, ParseErrorKind::EmptySelectList);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Something else was expected here; see [`ParseError::expected`].
    Expected,
    /// A `'` string is never closed (the error points at the opening quote).
    UnclosedString,
    /// A `"` quoted identifier is never closed (points at the opening quote).
    UnclosedIdentifier,
    /// A `/` regex is never closed (points at the opening slash).
    UnclosedRegex,
    /// A `(` is never closed (points at the opening parenthesis).
    UnclosedParen,
    /// A duration has a unit that is not ns, u, µ, ms, s, m, h, d or w.
    UnknownDurationUnit(String),
    /// A duration with a fraction, such as `1.5h`.
    FractionalDuration,
    /// More text after a complete statement.
    TrailingInput,
    /// `SELECT FROM ...`.
    EmptySelectList,
    /// A reserved word where a name or expression belongs.
    ReservedWord(String),
    /// A number that does not fit its type; the text says which.
    NumberOutOfRange(&'static str),
    /// A clause given twice, such as two `FILL`s.
    Duplicate(&'static str),
    /// The query text is longer than the limit.
    TooLong {
        /// Length of the text in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// Parentheses, calls, `NOT` or `-` nest deeper than the limit.
    TooNested {
        /// The limit in levels.
        max: usize,
    },
    /// An expression tree is taller than the limit (a very long operator chain).
    TooDeep {
        /// The limit in levels.
        max: usize,
    },
    /// The query parses but cannot run as written (an unknown field, an aggregate where a tag
    /// belongs...); the message says what and how to fix it. Raised by the planner.
    Semantic(String),
}

/// A query that does not parse: where, what was found, what was expected.
///
/// `Display` renders the message, the offending line and a caret under the spot:
///
/// ```
/// let err = tally_query::parse_statement("SELECT count(*) FORM requests").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "error at line 1, column 17: expected FROM, found `FORM`\n  \
///      SELECT count(*) FORM requests\n                  ^^^^"
/// );
/// assert_eq!((err.line, err.column), (1, 17));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// 1-based line of the spot the caret points at.
    pub line: usize,
    /// 1-based column of that spot, in characters.
    pub column: usize,
    /// Byte offset of that spot.
    pub offset: usize,
    /// How many characters the caret underlines (at least 1).
    pub len: usize,
    /// The token where parsing stopped, in backticks, or `end of input`.
    pub found: String,
    /// What would have been accepted there: keywords (`FROM`), symbols (`` `)` ``) or
    /// descriptions (`an expression`). May be empty for kinds that say it themselves.
    pub expected: Vec<String>,
    /// The kind of mistake.
    pub kind: ParseErrorKind,
    /// The source line to show under the message (boxed: errors travel in `Result`s, keep
    /// them small).
    excerpt: Box<Excerpt>,
}

/// The line of query text the caret points into (tabs shown as spaces, long lines cut) and the
/// caret's 1-based column in it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Excerpt {
    source_line: String,
    caret_column: usize,
}

impl ParseError {
    /// The one-line message, without position or source line.
    ///
    /// ```
    /// let err = tally_query::parse_statement("SELECT a FROM m LIMIT 5x").unwrap_err();
    /// assert_eq!(err.message(), "unknown duration unit `x`; use ns, u, ms, s, m, h, d or w");
    /// ```
    pub fn message(&self) -> String {
        let expected = || expected_list(&self.expected);
        let found = &self.found;
        match &self.kind {
            ParseErrorKind::Expected if self.expected.is_empty() => format!("unexpected {found}"),
            ParseErrorKind::Expected => format!("expected {}, found {found}", expected()),
            ParseErrorKind::UnclosedString => {
                "unclosed string: the `'` here has no closing `'`".to_string()
            }
            ParseErrorKind::UnclosedIdentifier => {
                "unclosed quoted name: the `\"` here has no closing `\"`".to_string()
            }
            ParseErrorKind::UnclosedRegex => {
                "unclosed regex: the `/` here has no closing `/` (write `\\/` for a slash inside it)"
                    .to_string()
            }
            ParseErrorKind::UnclosedParen => {
                format!("unclosed `(`: expected {}, found {found}", expected())
            }
            ParseErrorKind::UnknownDurationUnit(unit) => {
                let mut text = if unit.is_empty() {
                    "missing duration unit".to_string()
                } else {
                    format!("unknown duration unit `{unit}`")
                };
                text.push_str("; use ns, u, ms, s, m, h, d or w");
                let lower = unit.to_ascii_lowercase();
                if ["mo", "mon", "month", "months", "y", "yr", "year", "years"]
                    .contains(&lower.as_str())
                {
                    text.push_str(
                        " (months and years vary in length: group by month(time) instead)",
                    );
                }
                text
            }
            ParseErrorKind::FractionalDuration => {
                "a duration needs a whole number before its unit; write 90m, not 1.5h".to_string()
            }
            ParseErrorKind::TrailingInput => format!(
                "unexpected {found} after the end of the statement; \
                 separate statements with `;`"
            ),
            ParseErrorKind::EmptySelectList => {
                "empty SELECT list: name what to select (an expression or `*`) before FROM"
                    .to_string()
            }
            ParseErrorKind::ReservedWord(word) => format!(
                "expected {}, found reserved word `{word}`; write \"{word}\" in double quotes to \
                 use it as a name",
                expected()
            ),
            ParseErrorKind::NumberOutOfRange(what) => {
                format!("number out of range: {found} does not fit {what}")
            }
            ParseErrorKind::Duplicate(clause) => format!("{clause} is given twice; keep one"),
            ParseErrorKind::TooLong { len, max } => {
                format!("query too long: {len} bytes, the limit is {max}")
            }
            ParseErrorKind::TooNested { max } => format!(
                "expression nested too deeply: more than {max} levels of parentheses, calls, \
                 NOT or minus inside each other; simplify it"
            ),
            ParseErrorKind::Semantic(message) => message.clone(),
            ParseErrorKind::TooDeep { max } => format!(
                "expression too long: more than {max} levels of operators; use IN (...) or a \
                 regex instead of a long OR chain"
            ),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "error at line {}, column {}: {}\n  {}\n  {}{}",
            self.line,
            self.column,
            self.message(),
            self.excerpt.source_line,
            " ".repeat(self.excerpt.caret_column - 1),
            "^".repeat(self.len)
        )
    }
}

impl ParseError {
    /// An error about the `len` bytes of `text` at `offset` (clamped to the text), with
    /// `message` as its text: how the planner reports a query that parses but cannot run.
    ///
    /// ```
    /// use tally_query::ParseError;
    /// let e = ParseError::semantic("SELECT x FROM m", 7, 1, "unknown field `x`".into());
    /// assert_eq!(e.to_string(), "error at line 1, column 8: unknown field `x`\n  SELECT x FROM m\n         ^");
    /// ```
    pub fn semantic(text: &str, offset: usize, len: usize, message: String) -> ParseError {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let chars = text[offset..]
            .char_indices()
            .take_while(|(i, _)| *i < len.max(1))
            .count()
            .max(1);
        Fail {
            at: offset,
            expected: Vec::new(),
            kind: ParseErrorKind::Semantic(message),
            anchor: Some((offset, chars)),
        }
        .into_parse_error(text)
    }
}

/// "A", "A or B", "A, B or C".
fn expected_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// A failure inside the parser, before it is tied to the query text. Offsets are byte offsets
/// into the whole text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fail {
    /// Where parsing stopped: the found token starts here.
    pub(crate) at: usize,
    /// What would have been accepted at `at`.
    pub(crate) expected: Vec<Cow<'static, str>>,
    pub(crate) kind: ParseErrorKind,
    /// Where the caret points and how many characters it covers, when that is not the found
    /// token (an unclosed quote points at the quote, not at the end of input).
    pub(crate) anchor: Option<(usize, usize)>,
}

impl Fail {
    /// `what` was expected at `at`.
    pub(crate) fn expected(at: &Input<'_>, what: impl Into<Cow<'static, str>>) -> Fail {
        Fail {
            at: at.location_offset(),
            expected: vec![what.into()],
            kind: ParseErrorKind::Expected,
            anchor: None,
        }
    }

    /// A specific mistake found at `at`.
    pub(crate) fn kind(at: &Input<'_>, kind: ParseErrorKind) -> Fail {
        Fail {
            at: at.location_offset(),
            expected: Vec::new(),
            kind,
            anchor: None,
        }
    }

    /// Point the caret at `offset` for `len` characters instead of at the found token.
    pub(crate) fn anchored(mut self, offset: usize, len: usize) -> Fail {
        self.anchor = Some((offset, len));
        self
    }

    /// Tie the failure to the text it came from.
    pub(crate) fn into_parse_error(self, text: &str) -> ParseError {
        let at = self.at.min(text.len());
        let (found, found_len) = token_at(text, at);
        let (offset, len) = match self.anchor {
            Some((offset, len)) => (offset.min(text.len()), len.max(1)),
            // "found end of input" after trailing blanks: point just after the last token, on
            // its line, rather than at an empty last line.
            None if at >= text.trim_end().len() => (text.trim_end().len(), 1),
            None => (at, found_len),
        };
        let (line, column) = line_column(text, offset);
        let (source_line, caret_column) = display_line(text, offset, column);
        let shown_chars = source_line.chars().count();
        let len = len.min(shown_chars + 2 - caret_column).max(1);
        ParseError {
            line,
            column,
            offset,
            len,
            found,
            expected: self.expected.into_iter().map(Cow::into_owned).collect(),
            kind: self.kind,
            excerpt: Box::new(Excerpt {
                source_line,
                caret_column,
            }),
        }
    }
}

impl<'a> nom::error::ParseError<Input<'a>> for Fail {
    fn from_error_kind(input: Input<'a>, _kind: ErrorKind) -> Fail {
        Fail {
            at: input.location_offset(),
            expected: Vec::new(),
            kind: ParseErrorKind::Expected,
            anchor: None,
        }
    }

    fn append(_input: Input<'a>, _kind: ErrorKind, other: Fail) -> Fail {
        other
    }

    /// Of two failed alternatives keep the one that got further; at the same spot, list what
    /// either expected ("expected SELECT, SHOW or EXPLAIN").
    fn or(mut self, other: Fail) -> Fail {
        if other.at > self.at {
            return other;
        }
        if other.at == self.at
            && self.kind == ParseErrorKind::Expected
            && other.kind == ParseErrorKind::Expected
        {
            for what in other.expected {
                if !self.expected.contains(&what) {
                    self.expected.push(what);
                }
            }
        }
        self
    }
}

/// The token starting at `offset`, in backticks, and its length in characters; or
/// `end of input`.
fn token_at(text: &str, offset: usize) -> (String, usize) {
    let rest = text.get(offset..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return ("end of input".to_string(), 1);
    };
    let word_char = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let token: &str = if first.is_alphanumeric() || first == '_' {
        let end = rest.find(|c| !word_char(c)).unwrap_or(rest.len());
        &rest[..end]
    } else if first == '\'' || first == '"' {
        let body = &rest[1..];
        match body.find([first, '\n']) {
            Some(end) if body[end..].starts_with(first) => &rest[..end + 2],
            _ => &rest[..1],
        }
    } else if ["<=", ">=", "!=", "<>", "=~", "!~"]
        .iter()
        .any(|op| rest.starts_with(op))
    {
        &rest[..2]
    } else {
        &rest[..first.len_utf8()]
    };
    const MAX_SHOWN: usize = 40;
    let chars = token.chars().count();
    if chars > MAX_SHOWN {
        let cut: String = token.chars().take(MAX_SHOWN).collect();
        (format!("`{cut}…`"), MAX_SHOWN)
    } else {
        (format!("`{token}`"), chars)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The line containing `offset`, ready to print under the message, and the caret's column in
/// it. Tabs become spaces so the caret lines up; a very long line is cut to a window around the
/// spot, with `…` where text was left out.
fn display_line(text: &str, offset: usize, column: usize) -> (String, usize) {
    const WINDOW_BEFORE: usize = 50;
    const WINDOW: usize = 100;
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let chars: Vec<char> = text[line_start..line_end]
        .trim_end_matches('\r')
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    if chars.len() <= WINDOW {
        return (chars.into_iter().collect(), column);
    }
    let from = (column - 1).saturating_sub(WINDOW_BEFORE);
    let to = (from + WINDOW).min(chars.len());
    let mut shown = String::new();
    let mut caret = column - from;
    if from > 0 {
        shown.push('…');
        caret += 1;
    }
    shown.extend(&chars[from..to]);
    if to < chars.len() {
        shown.push('…');
    }
    (shown, caret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str, fail: Fail) -> String {
        fail.into_parse_error(text).to_string()
    }

    fn fail_at(at: usize, expected: &[&'static str]) -> Fail {
        Fail {
            at,
            expected: expected.iter().map(|e| Cow::Borrowed(*e)).collect(),
            kind: ParseErrorKind::Expected,
            anchor: None,
        }
    }

    #[test]
    fn renders_the_found_token_with_a_caret() {
        let text = "SELECT count(*) FORM requests";
        assert_eq!(
            render(text, fail_at(16, &["FROM"])),
            "error at line 1, column 17: expected FROM, found `FORM`\n  \
             SELECT count(*) FORM requests\n                  ^^^^"
        );
    }

    #[test]
    fn lists_several_expectations() {
        let err = fail_at(0, &["SELECT", "SHOW", "EXPLAIN"]).into_parse_error("SELEC x");
        assert_eq!(
            err.message(),
            "expected SELECT, SHOW or EXPLAIN, found `SELEC`"
        );
    }

    #[test]
    fn end_of_input_points_after_the_last_token() {
        let err = fail_at(14, &["FROM"]).into_parse_error("SELECT a\n  \n");
        assert_eq!((err.line, err.column), (1, 9));
        assert_eq!(err.found, "end of input");
    }

    #[test]
    fn positions_count_characters_on_later_lines() {
        let text = "SELECT 'é'\nFROM µ x";
        let err = fail_at(text.find('x').unwrap(), &[]).into_parse_error(text);
        assert_eq!((err.line, err.column), (2, 8));
        assert!(err.to_string().ends_with("\n  FROM µ x\n         ^"));
    }

    #[test]
    fn long_lines_are_cut_around_the_spot() {
        let text = format!("{}bad{}", "a ".repeat(200), " b".repeat(200));
        let err = fail_at(400, &["x"]).into_parse_error(&text);
        let rendered = err.to_string();
        let lines: Vec<&str> = rendered.lines().collect();
        assert!(lines[1].chars().count() < 110, "{}", lines[1]);
        let caret_at = lines[2].find('^').unwrap();
        let shown: Vec<char> = lines[1].chars().collect();
        assert_eq!(
            shown[caret_at..caret_at + 3].iter().collect::<String>(),
            "bad"
        );
    }

    #[test]
    fn merging_keeps_the_furthest_failure() {
        use nom::error::ParseError as _;
        let merged = fail_at(3, &["a"]).or(fail_at(5, &["b"]));
        assert_eq!(merged.at, 5);
        let merged = fail_at(5, &["a"]).or(fail_at(5, &["b"]));
        assert_eq!(merged.expected, vec!["a", "b"]);
    }
}
