//! Parameters of saved queries: the `$name`s a statement uses ([`params_used`]), the types a
//! saved query declares for them ([`ParamType`]), and turning a value given over HTTP (JSON) or
//! on the command line (text) into the [`ParamValue`] the executor binds ([`coerce`]).
//!
//! ```
//! use tally_query::params::{coerce, params_used, ParamType};
//! use tally_query::{parse_statements, ParamValue};
//!
//! let stmts = parse_statements(
//!     "SELECT count(*) FROM requests WHERE key = $key AND time > now() - $window",
//! )
//! .unwrap();
//! let used: Vec<String> = params_used(&stmts).into_iter().map(|(name, _)| name).collect();
//! assert_eq!(used, ["key", "window"]);
//! assert_eq!(
//!     coerce("window", ParamType::Duration, "7d").unwrap(),
//!     ParamValue::Duration(7 * 86_400 * 1_000_000_000)
//! );
//! ```

use crate::ast::{Arg, Expr, GroupItem, Select, SelectItem, Span, Statement};
use crate::ParamValue;
use chrono_tz::Tz;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// The type a saved query declares for one of its parameters; a value given when the query
/// runs is converted to it by [`coerce`]. Written `string`, `integer`, `float`, `boolean`,
/// `time` or `duration`.
///
/// ```
/// use tally_query::params::ParamType;
/// let ty: ParamType = "duration".parse().unwrap();
/// assert_eq!(ty, ParamType::Duration);
/// assert_eq!(ty.to_string(), "duration");
/// assert!("str".parse::<ParamType>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamType {
    /// Text, such as a tag value.
    String,
    /// A whole number (64-bit signed).
    Integer,
    /// A number with a fraction (finite).
    Float,
    /// `true` or `false`.
    Boolean,
    /// An instant: RFC 3339, a date (midnight in the query's zone) or nanoseconds since the
    /// epoch.
    Time,
    /// A length of time: `7d`, `90m`, `1h30m` or nanoseconds.
    Duration,
}

impl ParamType {
    /// Every type, in the order the documentation lists them.
    ///
    /// ```
    /// assert_eq!(tally_query::params::ParamType::ALL.len(), 6);
    /// ```
    pub const ALL: [ParamType; 6] = [
        ParamType::String,
        ParamType::Integer,
        ParamType::Float,
        ParamType::Boolean,
        ParamType::Time,
        ParamType::Duration,
    ];

    /// The name the type is written with.
    ///
    /// ```
    /// assert_eq!(tally_query::params::ParamType::Boolean.name(), "boolean");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Float => "float",
            ParamType::Boolean => "boolean",
            ParamType::Time => "time",
            ParamType::Duration => "duration",
        }
    }

    /// Values of this type as a person would write them, for error messages.
    ///
    /// ```
    /// assert_eq!(tally_query::params::ParamType::Integer.example(), "42");
    /// ```
    pub fn example(self) -> &'static str {
        match self {
            ParamType::String => "'api-7'",
            ParamType::Integer => "42",
            ParamType::Float => "0.95",
            ParamType::Boolean => "true or false",
            ParamType::Time => {
                "'2026-10-01T00:00:00Z', a date such as '2026-10-01' or nanoseconds since the \
                 epoch"
            }
            ParamType::Duration => "'7d', '90m', '1h30m' or a number of nanoseconds",
        }
    }

    /// "a string", "an integer": the name with its article.
    fn with_article(self) -> String {
        let article = match self {
            ParamType::Integer => "an",
            _ => "a",
        };
        format!("{article} {}", self.name())
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ParamType {
    type Err = ParamError;

    /// A type by its name, ignoring case.
    fn from_str(s: &str) -> Result<ParamType, ParamError> {
        ParamType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParamError::UnknownType {
                given: s.to_owned(),
            })
    }
}

/// A parameter value as it arrived: a JSON value (an HTTP body or `params=` object) or text (a
/// query-string value, a command-line flag). A JSON string is read like text.
///
/// ```
/// use tally_query::params::RawParam;
/// let json = serde_json::json!(10);
/// assert_eq!(RawParam::from(&json).to_string(), "10");
/// assert_eq!(RawParam::from("abc").to_string(), "abc");
/// let json = serde_json::json!("abc");
/// assert_eq!(RawParam::from(&json).to_string(), "abc");
/// ```
#[derive(Debug, Clone, Copy)]
pub enum RawParam<'a> {
    /// From JSON.
    Json(&'a serde_json::Value),
    /// From text.
    Text(&'a str),
}

impl RawParam<'_> {
    /// The text to read, when the value is text or a JSON string.
    fn text(&self) -> Option<&str> {
        match self {
            RawParam::Text(t) => Some(t),
            RawParam::Json(serde_json::Value::String(s)) => Some(s),
            RawParam::Json(_) => None,
        }
    }
}

impl<'a> From<&'a serde_json::Value> for RawParam<'a> {
    fn from(v: &'a serde_json::Value) -> Self {
        RawParam::Json(v)
    }
}

impl<'a> From<&'a str> for RawParam<'a> {
    fn from(t: &'a str) -> Self {
        RawParam::Text(t)
    }
}

impl<'a> From<&'a String> for RawParam<'a> {
    fn from(t: &'a String) -> Self {
        RawParam::Text(t)
    }
}

impl fmt::Display for RawParam<'_> {
    /// Text and JSON strings as written (a query-string value and the same value in a JSON
    /// body read alike); other JSON as JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.text() {
            Some(t) => f.write_str(t),
            None => match self {
                RawParam::Json(v) => write!(f, "{v}"),
                RawParam::Text(t) => f.write_str(t),
            },
        }
    }
}

/// Why a parameter type or value was not accepted. The message names the parameter, the type
/// and an example of a good value.
///
/// ```
/// use tally_query::params::{coerce, ParamType};
/// let err = coerce("limit", ParamType::Integer, "ten").unwrap_err();
/// assert_eq!(err.to_string(), "parameter $limit must be an integer such as 42, not `ten`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParamError {
    /// A type name that is not one of [`ParamType::ALL`].
    #[error(
        "unknown parameter type `{given}`; use string, integer, float, boolean, time or duration"
    )]
    UnknownType {
        /// The name as given.
        given: String,
    },
    /// A value that is not of the parameter's type.
    #[error("parameter ${name} must be {} such as {}, not `{got}`{}",
        .ty.with_article(), .ty.example(), .reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    Mismatch {
        /// The parameter, without `$`.
        name: String,
        /// Its declared type.
        ty: ParamType,
        /// The value as given.
        got: String,
        /// Why it is not one, when the type alone does not say (out of range...).
        reason: Option<String>,
    },
}

/// Every distinct `$name` the statements use, each with the span of its first use, in the
/// order they first appear in the text (in tree order for trees built in code, whose spans are
/// all empty).
///
/// ```
/// use tally_query::{params::params_used, parse_statements};
/// let stmts = parse_statements(
///     "SELECT sum(usd) FILTER (WHERE team = $team) FROM cost WHERE time >= $from; \
///      SHOW TAG VALUES FROM cost WITH KEY = user WHERE team = $team",
/// )
/// .unwrap();
/// let used = params_used(&stmts);
/// assert_eq!(used.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["team", "from"]);
/// assert_eq!((used[0].1.line, used[0].1.column), (1, 38));
/// ```
pub fn params_used(stmts: &[Statement]) -> Vec<(String, Span)> {
    let mut all = Vec::new();
    for stmt in stmts {
        statement_params(stmt, &mut all);
    }
    // Stable: trees built in code (every span empty) keep the walk order.
    all.sort_by_key(|(_, span)| span.offset);
    let mut seen = std::collections::HashSet::new();
    all.retain(|(name, _)| seen.insert(name.clone()));
    all
}

fn statement_params(stmt: &Statement, out: &mut Vec<(String, Span)>) {
    match stmt {
        Statement::Select(s) => select_params(s, out),
        Statement::Explain(e) => select_params(&e.select, out),
        Statement::ShowTagValues(s) => {
            if let Some(c) = &s.condition {
                expr_params(c, out);
            }
        }
        Statement::ShowMeasurements(_)
        | Statement::ShowTagKeys(_)
        | Statement::ShowFieldKeys(_) => {}
    }
}

fn select_params(s: &Select, out: &mut Vec<(String, Span)>) {
    for item in &s.items {
        if let SelectItem::Expr { expr, .. } = item {
            expr_params(expr, out);
        }
    }
    if let Some(c) = &s.condition {
        expr_params(c, out);
    }
    for g in &s.group_by {
        if let GroupItem::Expr(e) = g {
            expr_params(e, out);
        }
    }
    for o in &s.order_by {
        expr_params(&o.expr, out);
    }
}

fn expr_params(e: &Expr, out: &mut Vec<(String, Span)>) {
    match e {
        Expr::Param(p) => out.push((p.name.clone(), p.span)),
        Expr::Ident(_) | Expr::Literal(_) => {}
        Expr::Call(c) => {
            for a in &c.args {
                match a {
                    Arg::Wildcard(_) => {}
                    Arg::Distinct(x) | Arg::Expr(x) => expr_params(x, out),
                }
            }
            if let Some(f) = &c.filter {
                expr_params(f, out);
            }
        }
        Expr::Binary { left, right, .. } => {
            expr_params(left, out);
            expr_params(right, out);
        }
        Expr::Neg(x) | Expr::Not(x) => expr_params(x, out),
        Expr::InList { expr, list, .. } => {
            expr_params(expr, out);
            for x in list {
                expr_params(x, out);
            }
        }
        Expr::Match { expr, .. } => expr_params(expr, out),
    }
}

/// The zone dates in the statements are read in: that of the first `TZ('...')` naming a known
/// zone, else UTC. Give it to [`coerce_in`] so a `time` parameter given as a date means
/// midnight where a date written in the query would.
///
/// ```
/// use tally_query::{params::query_zone, parse_statements};
/// let stmts = parse_statements("SELECT sum(usd) FROM cost GROUP BY day(time) TZ('Europe/Paris')")
///     .unwrap();
/// assert_eq!(query_zone(&stmts).name(), "Europe/Paris");
/// assert_eq!(query_zone(&[]).name(), "UTC");
/// ```
pub fn query_zone(stmts: &[Statement]) -> Tz {
    stmts
        .iter()
        .filter_map(|s| match s {
            Statement::Select(s) => s.tz.as_ref(),
            Statement::Explain(e) => e.select.tz.as_ref(),
            _ => None,
        })
        .find_map(|tz| tz.name.parse::<Tz>().ok())
        .unwrap_or(Tz::UTC)
}

/// Converts `raw` to a value of type `ty` for the parameter `name`, reading dates (and times
/// without an offset) in UTC. See [`coerce_in`] for what each type accepts.
///
/// ```
/// use serde_json::json;
/// use tally_query::{params::{coerce, ParamType}, ParamValue};
/// assert_eq!(coerce("limit", ParamType::Integer, &json!(10)).unwrap(), ParamValue::Integer(10));
/// assert_eq!(coerce("limit", ParamType::Integer, "10").unwrap(), ParamValue::Integer(10));
/// assert_eq!(coerce("from", ParamType::Time, "1970-01-02").unwrap(),
///            ParamValue::Time(86_400_000_000_000));
/// assert!(coerce("key", ParamType::String, &json!(10)).is_err());
/// ```
pub fn coerce<'a>(
    name: &str,
    ty: ParamType,
    raw: impl Into<RawParam<'a>>,
) -> Result<ParamValue, ParamError> {
    coerce_in(name, ty, raw, Tz::UTC)
}

/// Converts `raw` to a value of type `ty` for the parameter `name`, reading dates (and times
/// without an offset) in `zone` (see [`query_zone`]).
///
/// Text and JSON strings are read by the type: `string` takes them as they are; `integer`,
/// `float` and `boolean` parse them (`42`, `0.5`, `true`); `time` takes RFC 3339
/// (`2026-10-01T00:00:00Z`), `YYYY-MM-DD HH:MM:SS`, a date (`2026-10-01`) or integer
/// nanoseconds since the epoch; `duration` takes a duration literal of the language (`7d`,
/// `90m`, `1h30m`, `-15m`) or integer nanoseconds. JSON numbers and booleans are taken by the
/// types they fit (a whole number is also a `float`, a `time` or a `duration` in nanoseconds);
/// a `string` parameter takes only JSON strings, and `null` fits no type.
///
/// ```
/// use tally_query::{params::{coerce_in, ParamType}, ParamValue};
/// let la: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap();
/// let hour = 3_600_000_000_000;
/// assert_eq!(coerce_in("from", ParamType::Time, "1970-01-02", la).unwrap(),
///            ParamValue::Time(24 * hour + 8 * hour));
/// ```
pub fn coerce_in<'a>(
    name: &str,
    ty: ParamType,
    raw: impl Into<RawParam<'a>>,
    zone: Tz,
) -> Result<ParamValue, ParamError> {
    let raw = raw.into();
    let bad = |reason: Option<&str>| ParamError::Mismatch {
        name: name.to_owned(),
        ty,
        got: raw.to_string(),
        reason: reason.map(str::to_owned),
    };
    if let Some(text) = raw.text() {
        return from_text(ty, text, zone).map_err(bad);
    }
    let RawParam::Json(value) = raw else {
        return Err(bad(None));
    };
    use serde_json::Value as J;
    match (ty, value) {
        (ParamType::Boolean, J::Bool(b)) => Ok(ParamValue::Boolean(*b)),
        (ParamType::Float, J::Number(n)) => n
            .as_f64()
            .filter(|f| f.is_finite())
            .map(ParamValue::Float)
            .ok_or_else(|| bad(Some("out of range"))),
        (ParamType::Integer | ParamType::Time | ParamType::Duration, J::Number(n)) => {
            let Some(i) = n.as_i64() else {
                let reason = if n.is_u64() {
                    "out of range"
                } else {
                    "not a whole number"
                };
                return Err(bad(Some(reason)));
            };
            Ok(match ty {
                ParamType::Time => ParamValue::Time(i),
                ParamType::Duration => ParamValue::Duration(i),
                _ => ParamValue::Integer(i),
            })
        }
        (ParamType::String, J::Number(_) | J::Bool(_)) => {
            Err(bad(Some("write it as a JSON string")))
        }
        _ => Err(bad(None)),
    }
}

/// `text` as a value of `ty`; `Err` carries the reason when the type alone does not say it.
fn from_text(ty: ParamType, text: &str, zone: Tz) -> Result<ParamValue, Option<&'static str>> {
    let t = text.trim();
    match ty {
        ParamType::String => Ok(ParamValue::String(text.to_owned())),
        ParamType::Integer => integer(t).map(ParamValue::Integer),
        ParamType::Float => match t.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(ParamValue::Float(f)),
            Ok(_) => Err(Some("out of range")),
            Err(_) => Err(None),
        },
        ParamType::Boolean => {
            if t.eq_ignore_ascii_case("true") {
                Ok(ParamValue::Boolean(true))
            } else if t.eq_ignore_ascii_case("false") {
                Ok(ParamValue::Boolean(false))
            } else {
                Err(None)
            }
        }
        ParamType::Time => {
            if looks_like_integer(t) {
                return integer(t).map(ParamValue::Time);
            }
            crate::exec::parse_instant(t, zone)
                .map(ParamValue::Time)
                .ok_or(None)
        }
        ParamType::Duration => {
            if looks_like_integer(t) {
                return integer(t).map(ParamValue::Duration);
            }
            crate::exec::parse_duration(t)
                .map(ParamValue::Duration)
                .ok_or(None)
        }
    }
}

fn looks_like_integer(t: &str) -> bool {
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn integer(t: &str) -> Result<i64, Option<&'static str>> {
    t.parse::<i64>().map_err(|_| {
        if looks_like_integer(t) {
            Some("out of range")
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_statements;
    use serde_json::json;

    const NS_PER_S: i64 = 1_000_000_000;

    fn names(text: &str) -> Vec<String> {
        params_used(&parse_statements(text).unwrap())
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    }

    #[test]
    fn types_parse_by_name_and_print_back() {
        for ty in ParamType::ALL {
            assert_eq!(ty.to_string().parse::<ParamType>().unwrap(), ty);
        }
        assert_eq!("TIME".parse::<ParamType>().unwrap(), ParamType::Time);
        let err = "int".parse::<ParamType>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown parameter type `int`; use string, integer, float, boolean, time or duration"
        );
    }

    #[test]
    fn every_place_a_parameter_can_stand_is_walked() {
        assert_eq!(
            names(
                "SELECT $a + sum(x) FILTER (WHERE k = $b), count(DISTINCT $c), \
                 quantile(v, $q) FROM m WHERE k IN ($d, 'x') AND NOT -$e > 1 AND t =~ /x/ \
                 GROUP BY time($f) ORDER BY $g DESC"
            ),
            ["a", "b", "c", "q", "d", "e", "f", "g"]
        );
        assert_eq!(
            names(
                "EXPLAIN SELECT * FROM m WHERE k = $k; SHOW TAG VALUES WITH KEY = a WHERE b = $w"
            ),
            ["k", "w"]
        );
        assert!(
            names("SHOW MEASUREMENTS; SHOW TAG KEYS; SHOW FIELD KEYS; SELECT * FROM m").is_empty()
        );
    }

    #[test]
    fn repeats_are_listed_once_at_their_first_use_in_text_order() {
        // ORDER BY comes after WHERE in the text but `$z` is first used in the select list.
        let stmts =
            parse_statements("SELECT $z FROM m WHERE a = $y AND b = $z\nAND c = $x ORDER BY $y")
                .unwrap();
        let used = params_used(&stmts);
        let got: Vec<(&str, usize, usize)> = used
            .iter()
            .map(|(n, s)| (n.as_str(), s.line, s.column))
            .collect();
        assert_eq!(got, [("z", 1, 8), ("y", 1, 28), ("x", 2, 9)]);
        assert_eq!(used[0].1.len, 2, "the span covers the `$` and the name");
    }

    #[test]
    fn text_and_json_coerce_to_every_type() {
        use ParamValue as P;
        let cases: Vec<(ParamType, RawParam<'_>, ParamValue)> = vec![
            (ParamType::String, "a b".into(), P::String("a b".into())),
            (ParamType::String, "".into(), P::String("".into())),
            (ParamType::Integer, " -42 ".into(), P::Integer(-42)),
            (ParamType::Float, "0.5".into(), P::Float(0.5)),
            (ParamType::Float, "3".into(), P::Float(3.0)),
            (ParamType::Boolean, "TRUE".into(), P::Boolean(true)),
            (ParamType::Boolean, "false".into(), P::Boolean(false)),
            (
                ParamType::Time,
                "1970-01-01T00:00:01Z".into(),
                P::Time(NS_PER_S),
            ),
            (
                ParamType::Time,
                "1970-01-01T01:00:00+01:00".into(),
                P::Time(0),
            ),
            (
                ParamType::Time,
                "1970-01-01 00:00:01.5".into(),
                P::Time(1_500_000_000),
            ),
            (
                ParamType::Time,
                "1970-01-02".into(),
                P::Time(86_400 * NS_PER_S),
            ),
            (
                ParamType::Time,
                "1700000000000000000".into(),
                P::Time(1_700_000_000_000_000_000),
            ),
            (
                ParamType::Duration,
                "90m".into(),
                P::Duration(5_400 * NS_PER_S),
            ),
            (
                ParamType::Duration,
                "1h30m".into(),
                P::Duration(5_400 * NS_PER_S),
            ),
            (
                ParamType::Duration,
                "-15m".into(),
                P::Duration(-900 * NS_PER_S),
            ),
            (
                ParamType::Duration,
                "7d".into(),
                P::Duration(7 * 86_400 * NS_PER_S),
            ),
            (ParamType::Duration, "1000".into(), P::Duration(1000)),
        ];
        for (ty, raw, want) in cases {
            assert_eq!(coerce("p", ty, raw).unwrap(), want, "{ty} from {raw}");
        }
        let json_cases = [
            (ParamType::String, json!("x"), P::String("x".into())),
            (ParamType::Integer, json!(7), P::Integer(7)),
            (ParamType::Integer, json!("7"), P::Integer(7)),
            (ParamType::Float, json!(7), P::Float(7.0)),
            (ParamType::Float, json!(0.25), P::Float(0.25)),
            (ParamType::Boolean, json!(true), P::Boolean(true)),
            (ParamType::Boolean, json!("true"), P::Boolean(true)),
            (ParamType::Time, json!(5), P::Time(5)),
            (
                ParamType::Time,
                json!("1970-01-01T00:00:00.000000005Z"),
                P::Time(5),
            ),
            (ParamType::Duration, json!(5), P::Duration(5)),
            (ParamType::Duration, json!("1s"), P::Duration(NS_PER_S)),
        ];
        for (ty, raw, want) in json_cases {
            assert_eq!(coerce("p", ty, &raw).unwrap(), want, "{ty} from {raw}");
        }
    }

    #[test]
    fn dates_are_midnight_in_the_zone_given() {
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        let day = 86_400 * NS_PER_S;
        let hour = 3_600 * NS_PER_S;
        assert_eq!(
            coerce_in("from", ParamType::Time, "1970-01-02", la).unwrap(),
            ParamValue::Time(day + 8 * hour)
        );
        // An explicit offset wins over the zone.
        assert_eq!(
            coerce_in("from", ParamType::Time, "1970-01-02T00:00:00Z", la).unwrap(),
            ParamValue::Time(day)
        );
        let stmts =
            parse_statements("SELECT count(*) FROM m WHERE time > $from TZ('America/Los_Angeles')")
                .unwrap();
        assert_eq!(query_zone(&stmts), la);
        let stmts = parse_statements("SELECT count(*) FROM m TZ('Nowhere/Special')").unwrap();
        assert_eq!(
            query_zone(&stmts),
            Tz::UTC,
            "an unknown zone is the executor's to report"
        );
    }

    #[test]
    fn wrong_values_name_the_parameter_the_type_and_an_example() {
        let cases: Vec<(ParamType, RawParam<'_>, &str)> = vec![
            (ParamType::Integer, "ten".into(), "parameter $p must be an integer such as 42, not `ten`"),
            (
                ParamType::Integer,
                "99999999999999999999".into(),
                "parameter $p must be an integer such as 42, not `99999999999999999999` (out of range)",
            ),
            (ParamType::Integer, "1.5".into(), "not `1.5`"),
            (ParamType::Integer, "".into(), "not ``"),
            (ParamType::Float, "NaN".into(), "must be a float such as 0.95, not `NaN` (out of range)"),
            (ParamType::Float, "abc".into(), "not `abc`"),
            (ParamType::Boolean, "yes".into(), "must be a boolean such as true or false, not `yes`"),
            (
                ParamType::Time,
                "yesterday".into(),
                "must be a time such as '2026-10-01T00:00:00Z', a date such as '2026-10-01' or \
                 nanoseconds since the epoch, not `yesterday`",
            ),
            (ParamType::Time, "2026-13-01".into(), "not `2026-13-01`"),
            (
                ParamType::Duration,
                "1.5h".into(),
                "must be a duration such as '7d', '90m', '1h30m' or a number of nanoseconds, not `1.5h`",
            ),
            (ParamType::Duration, "3 months".into(), "not `3 months`"),
            (ParamType::Duration, "'7d'".into(), "not `'7d'`"),
        ];
        for (ty, raw, needle) in cases {
            let err = coerce("p", ty, raw).unwrap_err().to_string();
            assert!(err.contains(needle), "{ty} from {raw}: {err}");
        }
        let json_cases = [
            (
                ParamType::String,
                json!(10),
                "must be a string such as 'api-7', not `10` (write it as a JSON string)",
            ),
            (ParamType::String, json!(null), "not `null`"),
            (
                ParamType::Integer,
                json!(1.5),
                "not `1.5` (not a whole number)",
            ),
            (ParamType::Integer, json!(u64::MAX), "(out of range)"),
            (ParamType::Integer, json!(true), "not `true`"),
            (ParamType::Boolean, json!(1), "not `1`"),
            (ParamType::Time, json!([1]), "not `[1]`"),
            (ParamType::Duration, json!({"h": 1}), "not `{\"h\":1}`"),
            (ParamType::Integer, json!("ten"), "not `ten`"),
        ];
        for (ty, raw, needle) in json_cases {
            let err = coerce("p", ty, &raw).unwrap_err().to_string();
            assert!(err.contains(needle), "{ty} from {raw}: {err}");
        }
    }
}
