//! The time range of a query: the `time` comparisons ANDed at the top of its `WHERE`, read as
//! instants (`now()`, durations from it, RFC 3339 strings, dates, epoch durations such as
//! Grafana's `1700000000000ms`, parameters), defaulting to the last 24 hours.

use super::names::at;
use super::ParamValue;
use crate::ast::{BinaryOp, Expr, Value};
use crate::ParseError;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone as _};
use chrono_tz::Tz;
use std::collections::BTreeMap;

/// Nanoseconds in a day.
pub(crate) const DAY_NS: i64 = 86_400_000_000_000;

/// What evaluating time expressions needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeContext<'a> {
    pub(crate) now: i64,
    pub(crate) params: &'a BTreeMap<String, ParamValue>,
    /// The zone dates without an offset are read in (`TZ(...)`, else UTC).
    pub(crate) tz: Tz,
    pub(crate) text: &'a str,
}

/// The half-open range `[start, end)` being built from conditions.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Bounds {
    pub(crate) start: Option<i64>,
    pub(crate) end: Option<i64>,
    /// The instants the conditions name, before exclusive bounds move them by 1 ns: the length
    /// of `time > now() - 1h` is an hour (rates divide by it).
    pub(crate) named_start: Option<i64>,
    pub(crate) named_end: Option<i64>,
}

impl Bounds {
    /// Narrows by `time op value`.
    fn apply(&mut self, op: BinaryOp, v: i64) -> bool {
        let lower = |b: &mut Bounds, s: i64| {
            b.start = Some(b.start.map_or(s, |x| x.max(s)));
            b.named_start = Some(b.named_start.map_or(v, |x| x.max(v)));
        };
        let upper = |b: &mut Bounds, e: i64| {
            b.end = Some(b.end.map_or(e, |x| x.min(e)));
            b.named_end = Some(b.named_end.map_or(v, |x| x.min(v)));
        };
        match op {
            BinaryOp::Gt => lower(self, v.saturating_add(1)),
            BinaryOp::GtEq => lower(self, v),
            BinaryOp::Lt => upper(self, v),
            BinaryOp::LtEq => upper(self, v.saturating_add(1)),
            BinaryOp::Eq => {
                lower(self, v);
                upper(self, v.saturating_add(1));
            }
            _ => return false,
        }
        true
    }
}

/// Whether `e` mentions the `time` column.
pub(crate) fn mentions_time(e: &Expr) -> bool {
    match e {
        Expr::Ident(i) => i.name == "time",
        Expr::Literal(_) | Expr::Param(_) | Expr::Call(_) => false,
        Expr::Binary { left, right, .. } => mentions_time(left) || mentions_time(right),
        Expr::Neg(x) | Expr::Not(x) => mentions_time(x),
        Expr::InList { expr, list, .. } => mentions_time(expr) || list.iter().any(mentions_time),
        Expr::Match { expr, .. } => mentions_time(expr),
    }
}

fn is_time(e: &Expr) -> bool {
    matches!(e, Expr::Ident(i) if i.name == "time")
}

/// Applies one top-level conjunct that mentions `time` to `b`; an error when it is not a
/// comparison of `time` with an instant.
pub(crate) fn apply_conjunct(
    e: &Expr,
    b: &mut Bounds,
    cx: &TimeContext<'_>,
) -> Result<(), ParseError> {
    let wrong = || {
        at(
            cx.text,
            e.span(),
            "time conditions must compare `time` with an instant and be joined by AND at the top \
             of WHERE, e.g. time >= now() - 7d AND time < '2026-11-01'"
                .into(),
        )
    };
    let Expr::Binary { left, op, right } = e else {
        return Err(wrong());
    };
    let (op, value) = if is_time(left) && !mentions_time(right) {
        (*op, right)
    } else if is_time(right) && !mentions_time(left) {
        let flipped = match op {
            BinaryOp::Lt => BinaryOp::Gt,
            BinaryOp::LtEq => BinaryOp::GtEq,
            BinaryOp::Gt => BinaryOp::Lt,
            BinaryOp::GtEq => BinaryOp::LtEq,
            other => *other,
        };
        (flipped, left)
    } else {
        return Err(wrong());
    };
    let v = instant(value, cx)?;
    if b.apply(op, v) {
        Ok(())
    } else {
        Err(wrong())
    }
}

/// Evaluates an instant: `now()`, `now() - 1h`, `'2026-10-01'`, `'2026-10-01T12:00:00Z'`,
/// `1700000000000ms` (since the epoch), an integer (ns since the epoch), `$param`.
pub(crate) fn instant(e: &Expr, cx: &TimeContext<'_>) -> Result<i64, ParseError> {
    match e {
        Expr::Call(c) if c.name.name.eq_ignore_ascii_case("now") && c.args.is_empty() => Ok(cx.now),
        Expr::Literal(l) => match &l.value {
            Value::String(s) => parse_instant(s, cx.tz).ok_or_else(|| {
                at(
                    cx.text,
                    l.span,
                    format!(
                        "`{s}` is not a time; write an RFC 3339 time such as \
                         '2026-10-01T00:00:00Z' or a date such as '2026-10-01'"
                    ),
                )
            }),
            Value::Integer(i) => Ok(*i),
            Value::Duration(d) => Ok(d.nanos()),
            _ => Err(at(cx.text, l.span, "expected an instant here".into())),
        },
        Expr::Param(p) => match cx.params.get(&p.name) {
            Some(ParamValue::Time(t)) => Ok(*t),
            Some(ParamValue::Integer(i)) => Ok(*i),
            Some(ParamValue::String(s)) => parse_instant(s, cx.tz).ok_or_else(|| {
                at(
                    cx.text,
                    p.span,
                    format!(
                        "parameter ${} = `{s}` is not a time (RFC 3339 or a date)",
                        p.name
                    ),
                )
            }),
            Some(_) => Err(at(
                cx.text,
                p.span,
                format!("parameter ${} must be a time here", p.name),
            )),
            None => Err(at(
                cx.text,
                p.span,
                format!("parameter ${} has no value; pass it with the query", p.name),
            )),
        },
        Expr::Binary { left, op, right } if matches!(op, BinaryOp::Add | BinaryOp::Sub) => {
            let base = instant(left, cx)?;
            let d = duration(right, cx)?;
            let r = if *op == BinaryOp::Add {
                base.checked_add(d)
            } else {
                base.checked_sub(d)
            };
            r.ok_or_else(|| at(cx.text, e.span(), "time out of range".into()))
        }
        _ => Err(at(
            cx.text,
            e.span(),
            "expected an instant: now(), now() - 24h, '2026-10-01' or an RFC 3339 time".into(),
        )),
    }
}

/// Evaluates a duration: `24h`, `$window` (a duration or a string such as '7d').
pub(crate) fn duration(e: &Expr, cx: &TimeContext<'_>) -> Result<i64, ParseError> {
    match e {
        Expr::Literal(l) => match &l.value {
            Value::Duration(d) => Ok(d.nanos()),
            _ => Err(at(
                cx.text,
                l.span,
                "expected a duration such as 24h or 7d".into(),
            )),
        },
        Expr::Param(p) => match cx.params.get(&p.name) {
            Some(ParamValue::Duration(d)) => Ok(*d),
            Some(ParamValue::String(s)) => parse_duration(s).ok_or_else(|| {
                at(
                    cx.text,
                    p.span,
                    format!(
                        "parameter ${} = `{s}` is not a duration such as 24h",
                        p.name
                    ),
                )
            }),
            _ => Err(at(
                cx.text,
                p.span,
                format!("parameter ${} must be a duration such as 24h", p.name),
            )),
        },
        _ => Err(at(
            cx.text,
            e.span(),
            "expected a duration such as 24h or 7d".into(),
        )),
    }
}

/// A duration literal of the language (`90m`, `1h30m`, `7d`, `-15m`) in nanoseconds.
///
/// ```
/// assert_eq!(tally_query::exec::parse_duration("-1h30m"), Some(-5_400_000_000_000));
/// assert_eq!(tally_query::exec::parse_duration("soon"), None);
/// ```
pub fn parse_duration(s: &str) -> Option<i64> {
    match crate::parse_expression(s).ok()? {
        Expr::Literal(l) => match l.value {
            Value::Duration(d) => Some(d.nanos()),
            _ => None,
        },
        Expr::Neg(x) => match *x {
            Expr::Literal(crate::ast::Literal {
                value: Value::Duration(d),
                ..
            }) => d.nanos().checked_neg(),
            _ => None,
        },
        _ => None,
    }
}

/// An RFC 3339 time, `YYYY-MM-DD HH:MM:SS[.f]` (in `tz`) or a date (midnight in `tz`), in ns
/// since the Unix epoch: the times a query may write as strings.
///
/// ```
/// let utc = chrono_tz::UTC;
/// assert_eq!(tally_query::exec::parse_instant("1970-01-02", utc), Some(86_400_000_000_000));
/// assert_eq!(tally_query::exec::parse_instant("tomorrow", utc), None);
/// ```
pub fn parse_instant(s: &str, tz: Tz) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return t.timestamp_nanos_opt();
    }
    let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    tz.from_local_datetime(&local)
        .earliest()
        .and_then(|t| t.timestamp_nanos_opt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_parse_in_every_form() {
        let utc = chrono_tz::UTC;
        assert_eq!(parse_instant("1970-01-02", utc), Some(DAY_NS));
        assert_eq!(
            parse_instant("1970-01-01T00:00:01Z", utc),
            Some(1_000_000_000)
        );
        assert_eq!(
            parse_instant("1970-01-01 00:00:01.5", utc),
            Some(1_500_000_000)
        );
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        assert_eq!(
            parse_instant("1970-01-02", la),
            Some(DAY_NS + 8 * 3_600_000_000_000)
        );
        assert_eq!(parse_instant("yesterday", utc), None);
        assert_eq!(parse_duration("1h30m"), Some(5_400_000_000_000));
    }
}
