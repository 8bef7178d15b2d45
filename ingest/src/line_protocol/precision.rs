//! The unit of the timestamps in a write (`precision` query parameter), converted to nanoseconds.

use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// The unit of the timestamps in a line-protocol body.
///
/// Accepts the InfluxDB 2.x names (`ns`, `us`, `ms`, `s`) and the 1.x ones (`n`, `u`, `ms`, `s`,
/// `m`, `h`):
/// ```
/// use tally_ingest::line_protocol::Precision;
/// let p: Precision = "ms".parse().unwrap();
/// assert_eq!(p.to_nanos(1_700_000_000_000), Some(1_700_000_000_000_000_000));
/// assert!("years".parse::<Precision>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    /// Nanoseconds (`ns`, `n`); the default.
    #[default]
    Nanoseconds,
    /// Microseconds (`us`, `u`, `µs`).
    Microseconds,
    /// Milliseconds (`ms`).
    Milliseconds,
    /// Seconds (`s`).
    Seconds,
    /// Minutes (`m`, InfluxDB 1.x only).
    Minutes,
    /// Hours (`h`, InfluxDB 1.x only).
    Hours,
}

impl Precision {
    /// Every precision, finest first.
    pub const ALL: [Precision; 6] = [
        Precision::Nanoseconds,
        Precision::Microseconds,
        Precision::Milliseconds,
        Precision::Seconds,
        Precision::Minutes,
        Precision::Hours,
    ];

    /// Nanoseconds in one unit.
    pub fn nanos_per_unit(self) -> i64 {
        match self {
            Precision::Nanoseconds => 1,
            Precision::Microseconds => 1_000,
            Precision::Milliseconds => 1_000_000,
            Precision::Seconds => 1_000_000_000,
            Precision::Minutes => 60_000_000_000,
            Precision::Hours => 3_600_000_000_000,
        }
    }

    /// `ts` (in this unit) in nanoseconds, or `None` if that is outside the i64 nanosecond
    /// range (about the years 1677 to 2262).
    pub fn to_nanos(self, ts: i64) -> Option<i64> {
        ts.checked_mul(self.nanos_per_unit())
    }

    /// The canonical short name (`ns`, `us`, `ms`, `s`, `m`, `h`).
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Nanoseconds => "ns",
            Precision::Microseconds => "us",
            Precision::Milliseconds => "ms",
            Precision::Seconds => "s",
            Precision::Minutes => "m",
            Precision::Hours => "h",
        }
    }

    /// The unit's name in words, for messages ("seconds").
    pub fn unit_name(self) -> &'static str {
        match self {
            Precision::Nanoseconds => "nanoseconds",
            Precision::Microseconds => "microseconds",
            Precision::Milliseconds => "milliseconds",
            Precision::Seconds => "seconds",
            Precision::Minutes => "minutes",
            Precision::Hours => "hours",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `precision` value that is not one of the accepted names.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "unknown precision {0:?}; use one of ns (or n), us (or u), ms, s, m (minutes) or h (hours)"
)]
pub struct PrecisionError(pub String);

impl FromStr for Precision {
    type Err = PrecisionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "ns" | "n" => Precision::Nanoseconds,
            "us" | "u" | "µs" | "µ" => Precision::Microseconds,
            "ms" => Precision::Milliseconds,
            "s" => Precision::Seconds,
            "m" => Precision::Minutes,
            "h" => Precision::Hours,
            other => return Err(PrecisionError(other.to_owned())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_parses_and_round_trips() {
        for (s, p) in [
            ("ns", Precision::Nanoseconds),
            ("n", Precision::Nanoseconds),
            ("us", Precision::Microseconds),
            ("u", Precision::Microseconds),
            ("µs", Precision::Microseconds),
            ("ms", Precision::Milliseconds),
            ("s", Precision::Seconds),
            ("m", Precision::Minutes),
            ("h", Precision::Hours),
        ] {
            assert_eq!(s.parse::<Precision>(), Ok(p), "{s}");
        }
        for p in Precision::ALL {
            assert_eq!(p.as_str().parse::<Precision>(), Ok(p));
        }
        assert_eq!(Precision::default(), Precision::Nanoseconds);
    }

    #[test]
    fn unknown_precision_names_the_accepted_values() {
        let e = "sec".parse::<Precision>().unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("\"sec\"") && msg.contains("ns") && msg.contains("ms"),
            "{msg}"
        );
        assert!("NS".parse::<Precision>().is_err());
        assert!("".parse::<Precision>().is_err());
    }

    #[test]
    fn conversion_checks_overflow() {
        assert_eq!(
            Precision::Seconds.to_nanos(1_700_000_000),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(Precision::Hours.to_nanos(-2), Some(-7_200_000_000_000));
        assert_eq!(Precision::Seconds.to_nanos(9_223_372_037), None);
        assert_eq!(
            Precision::Seconds.to_nanos(9_223_372_036),
            Some(9_223_372_036_000_000_000)
        );
        assert_eq!(Precision::Nanoseconds.to_nanos(i64::MIN), Some(i64::MIN));
        assert_eq!(Precision::Microseconds.to_nanos(i64::MIN), None);
    }
}
