//! Group keys derived from a point's time ([`KeyFn`]): fixed `time(interval, offset)` buckets,
//! calendar days, weeks and months in the query's time zone, and the hour-of-week and
//! day-of-week numbers heatmaps use.

use super::names::at;
use super::timerange::{duration, TimeContext};
use crate::ast::{Arg, Call, Expr};
use crate::table::ColumnType;
use crate::ParseError;
use chrono::{Datelike, NaiveDate, TimeZone as _, Timelike};
use chrono_tz::Tz;

/// A function of a point's time that groups points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFn {
    /// `time(every, offset)`: buckets of `every` ns starting at `offset` past the epoch.
    Interval { every: i64, offset: i64 },
    /// `day(time)`: local calendar days.
    Day,
    /// `week(time)`: local weeks starting on Monday.
    Week,
    /// `month(time)`: local calendar months.
    Month,
    /// `hour_of_week(time)`: 0 (Monday 00:00-01:00 local) to 167.
    HourOfWeek,
    /// `day_of_week(time)`: 0 (Monday) to 6 (Sunday).
    DayOfWeek,
}

impl KeyFn {
    /// The key function a `GROUP BY` call names, `None` when the call is no key function.
    pub(crate) fn of_call(
        c: &Call,
        text: &str,
        cx: &TimeContext<'_>,
    ) -> Result<Option<KeyFn>, ParseError> {
        let name = c.name.name.to_ascii_lowercase();
        let time_arg = |c: &Call| -> Result<(), ParseError> {
            match c.args.as_slice() {
                [Arg::Expr(Expr::Ident(i))] if i.name == "time" => Ok(()),
                _ => Err(at(text, c.span, format!("write {name}(time)"))),
            }
        };
        let k = match name.as_str() {
            "time" => {
                let args: Vec<&Expr> = c
                    .args
                    .iter()
                    .filter_map(|a| match a {
                        Arg::Expr(e) => Some(e),
                        _ => None,
                    })
                    .collect();
                if args.is_empty() || args.len() > 2 || args.len() != c.args.len() {
                    return Err(at(
                        text,
                        c.span,
                        "write time(interval) or time(interval, offset), e.g. time(5m)".into(),
                    ));
                }
                let every = duration(args[0], cx)?;
                if every <= 0 {
                    return Err(at(
                        text,
                        args[0].span(),
                        "the interval must be positive".into(),
                    ));
                }
                let offset = match args.get(1) {
                    Some(e) => duration(e, cx)?.rem_euclid(every),
                    None => 0,
                };
                KeyFn::Interval { every, offset }
            }
            "day" => {
                time_arg(c)?;
                KeyFn::Day
            }
            "week" => {
                time_arg(c)?;
                KeyFn::Week
            }
            "month" => {
                time_arg(c)?;
                KeyFn::Month
            }
            "hour_of_week" => {
                time_arg(c)?;
                KeyFn::HourOfWeek
            }
            "day_of_week" => {
                time_arg(c)?;
                KeyFn::DayOfWeek
            }
            _ => return Ok(None),
        };
        Ok(Some(k))
    }

    /// Whether the key is a time bucket (its value is the bucket's start instant).
    pub(crate) fn is_time_bucket(&self) -> bool {
        matches!(
            self,
            KeyFn::Interval { .. } | KeyFn::Day | KeyFn::Week | KeyFn::Month
        )
    }

    /// The column the key is shown in.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            KeyFn::HourOfWeek => "hour_of_week",
            KeyFn::DayOfWeek => "day_of_week",
            _ => "time",
        }
    }

    /// The column type of the key.
    pub(crate) fn column_type(&self) -> ColumnType {
        if self.is_time_bucket() {
            ColumnType::Time
        } else {
            ColumnType::Integer
        }
    }

    /// The key of instant `t`.
    pub(crate) fn key(&self, t: i64, tz: Tz) -> i64 {
        match *self {
            KeyFn::Interval { every, offset } => t - (t - offset).rem_euclid(every),
            KeyFn::Day | KeyFn::Week | KeyFn::Month => {
                let local = tz.timestamp_nanos(t);
                let date = local.date_naive();
                let start = match self {
                    KeyFn::Day => date,
                    KeyFn::Week => {
                        date - chrono::Days::new(u64::from(date.weekday().num_days_from_monday()))
                    }
                    _ => date.with_day(1).unwrap_or(date),
                };
                midnight(start, tz)
            }
            KeyFn::HourOfWeek => {
                let local = tz.timestamp_nanos(t);
                i64::from(local.weekday().num_days_from_monday()) * 24 + i64::from(local.hour())
            }
            KeyFn::DayOfWeek => i64::from(tz.timestamp_nanos(t).weekday().num_days_from_monday()),
        }
    }

    /// For time buckets: the start of the bucket after the one starting at `start`.
    pub(crate) fn next(&self, start: i64, tz: Tz) -> i64 {
        match *self {
            KeyFn::Interval { every, .. } => start.saturating_add(every),
            KeyFn::Day | KeyFn::Week | KeyFn::Month => {
                let date = tz.timestamp_nanos(start).date_naive();
                let next = match self {
                    KeyFn::Day => date.succ_opt(),
                    KeyFn::Week => date.checked_add_days(chrono::Days::new(7)),
                    _ => date.checked_add_months(chrono::Months::new(1)),
                };
                next.map_or(i64::MAX, |d| midnight(d, tz))
            }
            KeyFn::HourOfWeek | KeyFn::DayOfWeek => start.saturating_add(1),
        }
    }
}

/// The instant a local date starts in `tz` (the first valid local time if midnight is skipped
/// by a DST change).
fn midnight(date: NaiveDate, tz: Tz) -> i64 {
    for hour in 0..4 {
        if let Some(dt) = date.and_hms_opt(hour, 0, 0) {
            if let Some(t) = tz.from_local_datetime(&dt).earliest() {
                return t.timestamp_nanos_opt().unwrap_or(i64::MAX);
            }
        }
    }
    i64::MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000_000;

    #[test]
    fn keys_follow_the_calendar_of_the_zone() {
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        // 2026-11-02T07:30Z is Sunday 23:30 in Los Angeles (PST, UTC-8).
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-02T07:30:00Z")
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap();
        assert_eq!(KeyFn::HourOfWeek.key(t, la), 6 * 24 + 23);
        assert_eq!(KeyFn::DayOfWeek.key(t, la), 6);
        assert_eq!(KeyFn::HourOfWeek.key(t, chrono_tz::UTC), 7);
        // That Sunday, 2026-11-01, is when daylight saving time ends: it started at 07:00Z
        // (midnight PDT) and is 25 hours long.
        let day = KeyFn::Day.key(t, la);
        assert_eq!(day, t - 24 * H - 30 * 60_000_000_000);
        assert_eq!(KeyFn::Day.next(day, la), day + 25 * H);
        // The week of Sunday 2026-11-01 started on Monday 2026-10-26, in PDT (UTC-7); the
        // DST change on 2026-11-01 makes that week 169 hours long.
        let week = KeyFn::Week.key(t, la);
        assert_eq!(KeyFn::Week.next(week, la) - week, 169 * H);
        let month = KeyFn::Month.key(t, la);
        assert_eq!(KeyFn::Month.key(month, la), month);
        let i = KeyFn::Interval {
            every: H,
            offset: 15 * 60_000_000_000,
        };
        assert_eq!(i.key(t, la), t - 15 * 60_000_000_000);
    }
}
