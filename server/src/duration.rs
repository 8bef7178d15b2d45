//! Durations as people write them in the config and the HTTP API: `90s`, `15m`, `12h`, `7d`,
//! `2w`, `2y`.

use std::time::Duration;

/// Seconds per unit, largest first (the order [`format`] tries them in). A year is 365 days: a
/// retention of `2y` is 730 days whatever the calendar says.
const UNITS: [(&str, u64); 6] = [
    ("y", 365 * 86_400),
    ("w", 604_800),
    ("d", 86_400),
    ("h", 3_600),
    ("m", 60),
    ("s", 1),
];

/// Parses `<n><unit>` with unit `s`, `m`, `h`, `d`, `w` or `y` (365 days) and `n` at least 1;
/// the error says what is accepted.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let unit_at = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| {
        format!("'{text}' has no unit; write a number and s, m, h, d, w or y, e.g. 7d")
    })?;
    let (n, unit) = t.split_at(unit_at);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("'{text}' does not start with a number; write e.g. 7d or 12h"))?;
    let Some(&(_, secs)) = UNITS.iter().find(|(u, _)| *u == unit) else {
        return Err(format!(
            "'{text}' has unit '{unit}'; use s, m, h, d, w or y (e.g. 90d)"
        ));
    };
    if n == 0 {
        return Err(format!(
            "'{text}' is zero; give at least 1 of the unit, e.g. 1d"
        ));
    }
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("'{text}' is too long"))
}

/// The shortest exact spelling of `d` in the largest unit that divides it (whole seconds; a
/// fraction of a second is dropped).
pub(crate) fn format(d: Duration) -> String {
    let s = d.as_secs();
    for (unit, secs) in UNITS {
        if s > 0 && s.is_multiple_of(secs) {
            return format!("{}{unit}", s / secs);
        }
    }
    "0s".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    #[test]
    fn parses_and_formats() {
        assert_eq!(parse("7d").unwrap(), Duration::from_secs(7 * DAY));
        assert_eq!(parse(" 90s ").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("2w").unwrap(), Duration::from_secs(14 * DAY));
        assert_eq!(parse("2y").unwrap(), Duration::from_secs(730 * DAY));
        assert_eq!(parse("7y").unwrap(), Duration::from_secs(7 * 365 * DAY));
        assert_eq!(format(Duration::from_secs(7 * DAY)), "1w");
        assert_eq!(format(Duration::from_secs(90 * DAY)), "90d");
        assert_eq!(format(Duration::from_secs(730 * DAY)), "2y");
        assert_eq!(format(Duration::from_secs(364 * DAY)), "52w");
        assert_eq!(format(Duration::from_secs(366 * DAY)), "366d");
        assert_eq!(format(Duration::from_secs(90)), "90s");
        assert_eq!(format(Duration::from_secs(3_600)), "1h");
        assert_eq!(format(Duration::ZERO), "0s");
        for bad in [
            "7",
            "d",
            "7x",
            "0d",
            "-1d",
            "",
            "1.5d",
            "99999999999999999y",
        ] {
            assert!(parse(bad).is_err(), "{bad} accepted");
        }
        assert!(parse("7x").unwrap_err().contains("use s, m, h, d, w or y"));
    }

    proptest::proptest! {
        #[test]
        fn format_round_trips_through_parse(secs in 1..u64::MAX) {
            let d = Duration::from_secs(secs);
            proptest::prop_assert_eq!(parse(&format(d)), Ok(d));
        }

        #[test]
        fn parse_never_panics_and_accepts_only_positive_whole_units(text in "\\PC{0,12}|[ 0-9]{0,21}[smhdwyq]{0,2} ?") {
            if let Ok(d) = parse(&text) {
                proptest::prop_assert!(d.as_secs() >= 1);
                proptest::prop_assert!(UNITS.iter().any(|(u, _)| text.trim().ends_with(u)));
            }
        }
    }
}
