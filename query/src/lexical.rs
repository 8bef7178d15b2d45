//! Lexical rules: whitespace and comments, keywords, symbols, identifiers, strings, numbers,
//! durations, regex literals and parameters. Every token rule skips leading whitespace and
//! comments itself, so a failure is reported at the token, not at the blank before it.

use nom::bytes::complete::{tag, tag_no_case, take_while};
use nom::{InputTake, Slice};
use nom_locate::LocatedSpan;

use crate::ast::{Duration, Ident, Param, Regex, Span, Value};
use crate::error::{Fail, ParseErrorKind};
use crate::limits::Limits;

/// Parser input: the rest of the query text, its position, and the limits of this parse.
pub(crate) type Input<'a> = LocatedSpan<&'a str, Limits>;

/// Result of every rule.
pub(crate) type PResult<'a, T> = nom::IResult<Input<'a>, T, Fail>;

/// Words that cannot be bare identifiers (they may be double-quoted). Only words that start a
/// clause or act as operators or literals are reserved, so common tag names such as `key`,
/// `user`, `time` and `values` stay usable bare.
pub(crate) const RESERVED: &[&str] = &[
    "AND", "AS", "ASC", "BY", "DESC", "DISTINCT", "EXPLAIN", "FALSE", "FROM", "GROUP", "IN",
    "LIMIT", "NOT", "NULL", "OFFSET", "OR", "ORDER", "SELECT", "SHOW", "SLIMIT", "SOFFSET", "TRUE",
    "WHERE",
];

/// Is `word` reserved (case-insensitive)?
pub(crate) fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

/// Can `name` be written without double quotes?
pub(crate) fn is_bare_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_reserved(name)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The span from `start` up to (not including) `end`.
pub(crate) fn span_between(start: &Input<'_>, end: &Input<'_>) -> Span {
    Span {
        offset: start.location_offset(),
        line: start.location_line() as usize,
        column: start.get_utf8_column(),
        len: end.location_offset() - start.location_offset(),
    }
}

/// A recoverable failure: `what` was expected at `i`.
pub(crate) fn expected<'a, T>(i: &Input<'_>, what: &'static str) -> PResult<'a, T> {
    Err(nom::Err::Error(Fail::expected(i, what)))
}

/// Make a recoverable failure final: used once a rule has committed (after `WHERE` an
/// expression must follow), so the error names the real problem instead of an outer rule
/// trying something else.
pub(crate) fn must<'a, T>(result: PResult<'a, T>) -> PResult<'a, T> {
    result.map_err(|e| match e {
        nom::Err::Error(f) => nom::Err::Failure(f),
        other => other,
    })
}

/// Whitespace and `-- comments` (to end of line), possibly none.
pub(crate) fn ws(mut i: Input<'_>) -> PResult<'_, ()> {
    loop {
        let (rest, _) = take_while(char::is_whitespace)(i)?;
        i = rest;
        if i.fragment().starts_with("--") {
            let len = i.fragment().find('\n').unwrap_or(i.fragment().len());
            i = i.take_split(len).0;
        } else {
            return Ok((i, ()));
        }
    }
}

/// True if only whitespace and comments are left.
pub(crate) fn at_end(i: &Input<'_>) -> bool {
    ws(*i)
        .map(|(rest, _)| rest.fragment().is_empty())
        .unwrap_or(false)
}

/// A keyword, case-insensitive, not followed by a word character. `kw` is given upper-case and
/// is what the error says was expected.
pub(crate) fn keyword(kw: &'static str) -> impl Fn(Input<'_>) -> PResult<'_, Span> {
    move |i| {
        let (i, _) = ws(i)?;
        let matched: PResult<'_, Input<'_>> = tag_no_case(kw)(i);
        match matched {
            Ok((rest, _)) if !rest.fragment().starts_with(is_word_char) => {
                Ok((rest, span_between(&i, &rest)))
            }
            _ => expected(&i, kw),
        }
    }
}

/// A punctuation symbol such as `(` or `<=`; the error names it in backticks.
pub(crate) fn symbol(sym: &'static str) -> impl Fn(Input<'_>) -> PResult<'_, Span> {
    move |i| {
        let (i, _) = ws(i)?;
        let matched: PResult<'_, Input<'_>> = tag(sym)(i);
        match matched {
            Ok((rest, _)) => Ok((rest, span_between(&i, &rest))),
            Err(_) => Err(nom::Err::Error(Fail::expected(&i, format!("`{sym}`")))),
        }
    }
}

/// A bare word `[A-Za-z_][A-Za-z0-9_]*` at `i` (no whitespace skipped), reserved or not.
pub(crate) fn bare_word(i: Input<'_>) -> PResult<'_, Input<'_>> {
    if !i
        .fragment()
        .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
    {
        return Err(nom::Err::Error(Fail::expected(&i, "a name")));
    }
    take_while(is_word_char)(i)
}

/// An identifier, bare or double-quoted. `what` names it in errors ("a measurement name"). A
/// reserved word here is a final error that suggests double quotes.
pub(crate) fn identifier(what: &'static str) -> impl Fn(Input<'_>) -> PResult<'_, Ident> {
    move |i| {
        let (i, _) = ws(i)?;
        if i.fragment().starts_with('"') {
            let (rest, name) = quoted(i, '"', ParseErrorKind::UnclosedIdentifier)?;
            return Ok((
                rest,
                Ident {
                    name,
                    span: span_between(&i, &rest),
                },
            ));
        }
        let (rest, word) = bare_word(i).map_err(|_| nom::Err::Error(Fail::expected(&i, what)))?;
        if is_reserved(word.fragment()) {
            let mut fail = Fail::kind(&i, ParseErrorKind::ReservedWord(word.to_string()));
            fail.expected.push(what.into());
            return Err(nom::Err::Failure(fail));
        }
        Ok((
            rest,
            Ident {
                name: word.to_string(),
                span: span_between(&i, &rest),
            },
        ))
    }
}

/// The body of a quoted token starting at `i` with `quote`, unescaped: `\quote` and `\\` stand
/// for themselves, any other backslash is kept as written, and for single-quoted strings `''`
/// is one quote (SQL style).
fn quoted(i: Input<'_>, quote: char, unclosed: ParseErrorKind) -> PResult<'_, String> {
    let text = *i.fragment();
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&(_, next)) if next == quote || next == '\\' => {
                    out.push(next);
                    chars.next();
                }
                _ => out.push('\\'),
            },
            c if c == quote => {
                if quote == '\'' && matches!(chars.peek(), Some(&(_, '\''))) {
                    out.push('\'');
                    chars.next();
                } else {
                    return Ok((i.take_split(at + 1).0, out));
                }
            }
            c => out.push(c),
        }
    }
    let end = i.take_split(text.len()).0;
    let fail = Fail::kind(&end, unclosed).anchored(i.location_offset(), 1);
    Err(nom::Err::Failure(fail))
}

/// A single-quoted string literal and its span.
pub(crate) fn string_literal(i: Input<'_>) -> PResult<'_, (String, Span)> {
    let (i, _) = ws(i)?;
    if !i.fragment().starts_with('\'') {
        return expected(&i, "a string");
    }
    let (rest, s) = quoted(i, '\'', ParseErrorKind::UnclosedString)?;
    Ok((rest, (s, span_between(&i, &rest))))
}

/// A regex literal `/.../`; `\/` is a slash, every other escape is kept for the regex engine.
pub(crate) fn regex_literal(i: Input<'_>) -> PResult<'_, Regex> {
    let (i, _) = ws(i)?;
    if !i.fragment().starts_with('/') {
        return expected(&i, "a regex like /^api/");
    }
    let text = *i.fragment();
    let mut pattern = String::new();
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, '/')) => pattern.push('/'),
                Some((_, next)) => {
                    pattern.push('\\');
                    pattern.push(next);
                }
                None => pattern.push('\\'),
            },
            '/' => {
                let rest = i.take_split(at + 1).0;
                let span = span_between(&i, &rest);
                return Ok((rest, Regex { pattern, span }));
            }
            c => pattern.push(c),
        }
    }
    let end = i.take_split(text.len()).0;
    let fail = Fail::kind(&end, ParseErrorKind::UnclosedRegex).anchored(i.location_offset(), 1);
    Err(nom::Err::Failure(fail))
}

/// A bind parameter `$name`.
pub(crate) fn param(i: Input<'_>) -> PResult<'_, Param> {
    let (i, _) = ws(i)?;
    let (after, _) = symbol("$")(i)?;
    let (rest, word) = must(
        bare_word(after).map_err(|_| nom::Err::Error(Fail::expected(&after, "a parameter name"))),
    )?;
    Ok((
        rest,
        Param {
            name: word.to_string(),
            span: span_between(&i, &rest),
        },
    ))
}

/// A number as written, before a sign is applied: the magnitude of an integer or a duration
/// (in nanoseconds), or a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Integer(u64),
    Float(f64),
    Duration(u128),
}

/// Nanoseconds per duration unit, longest unit names first where one is a prefix of another.
const UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("u", 1_000),
    ("µ", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
    ("w", 604_800_000_000_000),
];

/// Does a number start at `i` (a digit, or `.` and a digit)?
pub(crate) fn starts_number(i: &Input<'_>) -> bool {
    let mut chars = i.fragment().chars();
    match chars.next() {
        Some(c) if c.is_ascii_digit() => true,
        Some('.') => matches!(chars.next(), Some(c) if c.is_ascii_digit()),
        _ => false,
    }
}

fn digits(i: Input<'_>) -> PResult<'_, Input<'_>> {
    take_while(|c: char| c.is_ascii_digit())(i)
}

fn unit_chars(i: Input<'_>) -> PResult<'_, Input<'_>> {
    take_while(|c: char| c.is_alphabetic() || c == '_')(i)
}

/// A number: integer, float (`1.5`, `.5`, `1e3`) or duration (`5m`, `1h30m`). Out-of-range
/// values and unknown units are final errors.
pub(crate) fn number(i: Input<'_>) -> PResult<'_, (Number, Span)> {
    let (i, _) = ws(i)?;
    if !starts_number(&i) {
        return expected(&i, "a number");
    }
    let (mut rest, _) = digits(i)?;
    let mut float = false;
    if rest.fragment().starts_with('.')
        && rest.fragment()[1..].starts_with(|c: char| c.is_ascii_digit())
    {
        rest = digits(rest.slice(1..))?.0;
        float = true;
    }
    let exponent = rest.fragment().strip_prefix(['e', 'E']).map(|e| {
        let sign = usize::from(e.starts_with(['+', '-']));
        (sign, e[sign..].starts_with(|c: char| c.is_ascii_digit()))
    });
    if let Some((sign, true)) = exponent {
        rest = digits(rest.slice(1 + sign..))?.0;
        float = true;
    }
    let text = &i.fragment()[..rest.location_offset() - i.location_offset()];
    let out_of_range = |what| {
        let fail = Fail::kind(&i, ParseErrorKind::NumberOutOfRange(what));
        let chars = rest.location_offset() - i.location_offset();
        nom::Err::Failure(fail.anchored(i.location_offset(), chars))
    };
    let unit_start = rest;
    let (after_unit, unit) = unit_chars(rest)?;
    if float {
        if !unit.fragment().is_empty() {
            let kind = if UNITS.iter().any(|(u, _)| u == unit.fragment()) {
                ParseErrorKind::FractionalDuration
            } else {
                ParseErrorKind::UnknownDurationUnit(unit.to_string())
            };
            let len = after_unit.location_offset() - i.location_offset();
            let fail = Fail::kind(&i, kind).anchored(i.location_offset(), len);
            return Err(nom::Err::Failure(fail));
        }
        let value: f64 = text.parse().map_err(|_| out_of_range("a 64-bit float"))?;
        if !value.is_finite() {
            return Err(out_of_range("a 64-bit float"));
        }
        return Ok((rest, (Number::Float(value), span_between(&i, &rest))));
    }
    if unit.fragment().is_empty() {
        let value: u64 = text.parse().map_err(|_| out_of_range("a 64-bit integer"))?;
        return Ok((rest, (Number::Integer(value), span_between(&i, &rest))));
    }
    // A duration: one or more <digits><unit> segments.
    let mut total: u128 = 0;
    let mut segment_start = i;
    let mut unit_at = unit_start;
    loop {
        let amount_text = &segment_start.fragment()
            [..unit_at.location_offset() - segment_start.location_offset()];
        let (after, unit) = unit_chars(unit_at)?;
        let Some(&(_, nanos)) = UNITS.iter().find(|(u, _)| u == unit.fragment()) else {
            let chars = unit.fragment().chars().count();
            let fail = Fail::kind(
                &unit_at,
                ParseErrorKind::UnknownDurationUnit(unit.to_string()),
            );
            return Err(nom::Err::Failure(
                fail.anchored(unit_at.location_offset(), chars),
            ));
        };
        let amount: u128 = amount_text
            .parse::<u64>()
            .map_err(|_| out_of_range("a duration (at most about 292 years)"))?
            .into();
        total = total.saturating_add(amount.saturating_mul(nanos));
        if !after.fragment().starts_with(|c: char| c.is_ascii_digit()) {
            rest = after;
            break;
        }
        segment_start = after;
        let (after_digits, _) = digits(after)?;
        unit_at = after_digits;
    }
    if total > 1 << 63 {
        let fail = Fail::kind(
            &i,
            ParseErrorKind::NumberOutOfRange("a duration (at most about 292 years)"),
        );
        let len = rest.location_offset() - i.location_offset();
        return Err(nom::Err::Failure(fail.anchored(i.location_offset(), len)));
    }
    Ok((rest, (Number::Duration(total), span_between(&i, &rest))))
}

/// Apply a sign to a number: `-9223372036854775808` fits although its magnitude alone does not.
/// On overflow, the error points at `span`.
pub(crate) fn signed(number: Number, negative: bool, span: Span) -> Result<Value, Fail> {
    let out_of_range = |what| Fail {
        at: span.offset,
        expected: Vec::new(),
        kind: ParseErrorKind::NumberOutOfRange(what),
        anchor: Some((span.offset, span.len.max(1))),
    };
    let apply = |magnitude: u128, what| {
        let value = if negative {
            -(magnitude as i128)
        } else {
            magnitude as i128
        };
        i64::try_from(value).map_err(|_| out_of_range(what))
    };
    Ok(match number {
        Number::Integer(n) => Value::Integer(apply(n.into(), "a 64-bit integer")?),
        Number::Float(f) => Value::Float(if negative { -f } else { f }),
        Number::Duration(n) => Value::Duration(Duration::from_nanos(apply(
            n,
            "a duration (at most about 292 years)",
        )?)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &str) -> Input<'_> {
        Input::new_extra(text, Limits::default())
    }

    fn rest<'a>(r: &PResult<'a, impl std::fmt::Debug>) -> &'a str {
        r.as_ref().unwrap().0.fragment()
    }

    fn kind<T: std::fmt::Debug>(r: PResult<'_, T>) -> ParseErrorKind {
        match r.unwrap_err() {
            nom::Err::Error(f) | nom::Err::Failure(f) => f.kind,
            nom::Err::Incomplete(_) => unreachable!(),
        }
    }

    #[test]
    fn ws_skips_blanks_and_comments() {
        assert_eq!(rest(&ws(input("  -- note\n\t-- more\n x"))), "x");
        assert_eq!(rest(&ws(input("-- to the end"))), "");
        assert_eq!(rest(&ws(input("x"))), "x");
        assert!(at_end(&input(" -- c\n ")));
    }

    #[test]
    fn keyword_is_case_insensitive_and_whole_words() {
        assert_eq!(rest(&keyword("SELECT")(input(" select *"))), " *");
        assert!(keyword("AS")(input("ascending")).is_err());
        assert!(keyword("FROM")(input("FORM")).is_err());
    }

    #[test]
    fn symbol_names_itself_on_failure() {
        let Err(nom::Err::Error(f)) = symbol(")")(input(" x")) else {
            panic!()
        };
        assert_eq!((f.at, f.expected[0].as_ref()), (1, "`)`"));
    }

    #[test]
    fn identifiers_bare_quoted_and_reserved() {
        let (_, id) = identifier("a name")(input(" latency_ms ")).unwrap();
        assert_eq!(id.name, "latency_ms");
        assert_eq!((id.span.offset, id.span.column, id.span.len), (1, 2, 10));
        let (_, id) = identifier("a name")(input(r#""status \"code\" \\ \n""#)).unwrap();
        assert_eq!(id.name, r#"status "code" \ \n"#);
        let (_, id) = identifier("a name")(input(r#""select""#)).unwrap();
        assert_eq!(id.name, "select");
        assert_eq!(
            kind(identifier("a name")(input("Select"))),
            ParseErrorKind::ReservedWord("Select".into())
        );
        assert_eq!(
            kind(identifier("a name")(input("\"abc"))),
            ParseErrorKind::UnclosedIdentifier
        );
        assert!(identifier("a name")(input("9lives")).is_err());
    }

    #[test]
    fn bare_identifier_rule_matches_the_printer() {
        assert!(is_bare_identifier("hour_of_week"));
        assert!(is_bare_identifier("_x1"));
        assert!(is_bare_identifier("key"));
        assert!(!is_bare_identifier("from"));
        assert!(!is_bare_identifier("1x"));
        assert!(!is_bare_identifier("a-b"));
        assert!(!is_bare_identifier(""));
    }

    #[test]
    fn strings_and_their_escapes() {
        let (_, (s, span)) = string_literal(input(r"'it\'s' x")).unwrap();
        assert_eq!((s.as_str(), span.len), ("it's", 7));
        let (_, (s, _)) = string_literal(input("'it''s'")).unwrap();
        assert_eq!(s, "it's");
        let (_, (s, _)) = string_literal(input(r"'a\\b\nc'")).unwrap();
        assert_eq!(s, r"a\b\nc");
        let (_, (s, _)) = string_literal(input("'2026-10-01T00:00:00Z'")).unwrap();
        assert_eq!(s, "2026-10-01T00:00:00Z");
        assert_eq!(
            kind(string_literal(input("'abc"))),
            ParseErrorKind::UnclosedString
        );
        assert_eq!(
            kind(string_literal(input(r"'abc\'"))),
            ParseErrorKind::UnclosedString
        );
    }

    #[test]
    fn regexes_unescape_only_slashes() {
        let (_, re) = regex_literal(input(r"/^\/api\/v\d+/ x")).unwrap();
        assert_eq!(re.pattern, r"^/api/v\d+");
        let (_, re) = regex_literal(input(r"/a\\/")).unwrap();
        assert_eq!(re.pattern, r"a\\");
        assert_eq!(
            kind(regex_literal(input("/abc"))),
            ParseErrorKind::UnclosedRegex
        );
    }

    #[test]
    fn params() {
        let (_, p) = param(input(" $from")).unwrap();
        assert_eq!((p.name.as_str(), p.span.len), ("from", 5));
        assert!(matches!(param(input("$ x")), Err(nom::Err::Failure(_))));
    }

    fn num(text: &str) -> Number {
        number(input(text)).unwrap().1 .0
    }

    #[test]
    fn numbers() {
        assert_eq!(num("42"), Number::Integer(42));
        assert_eq!(num("18446744073709551615"), Number::Integer(u64::MAX));
        assert_eq!(num("1.5"), Number::Float(1.5));
        assert_eq!(num(".5"), Number::Float(0.5));
        assert_eq!(num("1e3"), Number::Float(1000.0));
        assert_eq!(num("2.5E-3"), Number::Float(0.0025));
        assert_eq!(rest(&number(input("1.x"))), ".x");
        assert_eq!(
            kind(number(input("18446744073709551616"))),
            ParseErrorKind::NumberOutOfRange("a 64-bit integer")
        );
        assert_eq!(
            kind(number(input("1e999"))),
            ParseErrorKind::NumberOutOfRange("a 64-bit float")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(num("5m"), Number::Duration(300_000_000_000));
        assert_eq!(num("100ms"), Number::Duration(100_000_000));
        assert_eq!(num("7ns"), Number::Duration(7));
        assert_eq!(num("3u"), Number::Duration(3_000));
        assert_eq!(num("3µ"), Number::Duration(3_000));
        assert_eq!(num("2w"), Number::Duration(1_209_600_000_000_000));
        assert_eq!(num("1h30m"), Number::Duration(5_400_000_000_000));
        assert_eq!(
            kind(number(input("5x"))),
            ParseErrorKind::UnknownDurationUnit("x".into())
        );
        assert_eq!(
            kind(number(input("1mo"))),
            ParseErrorKind::UnknownDurationUnit("mo".into())
        );
        assert_eq!(
            kind(number(input("1h30"))),
            ParseErrorKind::UnknownDurationUnit(String::new())
        );
        assert_eq!(
            kind(number(input("1.5h"))),
            ParseErrorKind::FractionalDuration
        );
        assert!(matches!(
            kind(number(input("999999999999w"))),
            ParseErrorKind::NumberOutOfRange(_)
        ));
    }

    #[test]
    fn signs_apply_with_the_full_range() {
        let span = Span::default();
        let min = signed(Number::Integer(1 << 63), true, span).unwrap();
        assert_eq!(min, Value::Integer(i64::MIN));
        assert!(signed(Number::Integer(1 << 63), false, span).is_err());
        assert_eq!(
            signed(Number::Duration(60_000_000_000), true, span).unwrap(),
            Value::Duration(Duration::from_nanos(-60_000_000_000))
        );
        assert_eq!(
            signed(Number::Float(1.5), true, span).unwrap(),
            Value::Float(-1.5)
        );
    }
}
