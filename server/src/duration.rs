//! Durations as people write them in the config and the admin API: `90s`, `15m`, `12h`, `7d`,
//! `2w`.

use std::time::Duration;

/// Parses `<n><unit>` with unit `s`, `m`, `h`, `d` or `w`; the error says what is accepted.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let unit_at = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| {
        format!("'{text}' has no unit; write a number and s, m, h, d or w, e.g. 7d")
    })?;
    let (n, unit) = t.split_at(unit_at);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("'{text}' does not start with a number; write e.g. 7d or 12h"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => {
            return Err(format!(
                "'{text}' has unit '{unit}'; use s, m, h, d or w (e.g. 90d)"
            ))
        }
    };
    if n == 0 {
        return Err(format!("'{text}' is zero; a retention must keep something"));
    }
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("'{text}' is too long"))
}

/// The shortest exact spelling of `d` in the largest unit that divides it.
pub(crate) fn format(d: Duration) -> String {
    let s = d.as_secs();
    for (unit, secs) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] {
        if s > 0 && s.is_multiple_of(secs) {
            return format!("{}{unit}", s / secs);
        }
    }
    format!("{s}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        assert_eq!(parse("7d").unwrap(), Duration::from_secs(7 * 86_400));
        assert_eq!(parse(" 90s ").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("2w").unwrap(), Duration::from_secs(14 * 86_400));
        assert_eq!(format(Duration::from_secs(7 * 86_400)), "1w");
        assert_eq!(format(Duration::from_secs(90 * 86_400)), "90d");
        assert_eq!(format(Duration::from_secs(90)), "90s");
        for bad in ["7", "d", "7y", "0d", "-1d", "", "99999999999999999w"] {
            assert!(parse(bad).is_err(), "{bad} accepted");
        }
        assert!(parse("7y").unwrap_err().contains("use s, m, h, d or w"));
    }
}
