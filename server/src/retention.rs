//! Retention as people write it in the config file and the admin API: a keep value is a
//! duration (`90d`, `2y`, see [`crate::duration`]) or `forever`, and a policy is shown as
//! `{"default": {"raw": "1w", "1m": "90d", "1h": "2y", "1d": "forever"},
//! "measurements": {"cost": {"raw": "forever"}}}` (levels by [`Level::name`], a measurement
//! listing only the levels it overrides).

use serde_json::{json, Map, Value};
use tally_engine::{Keep, Level, RetentionPolicy};

/// Parses a keep value: `forever` or a duration such as `90d`; the error says what is accepted.
pub(crate) fn parse_keep(text: &str) -> Result<Keep, String> {
    if text.trim() == "forever" {
        return Ok(Keep::Forever);
    }
    crate::duration::parse(text)
        .map(Keep::For)
        .map_err(|e| format!("{e}; or write \"forever\" to never expire"))
}

/// The spelling [`parse_keep`] reads back: `forever` or the shortest exact duration.
pub(crate) fn format_keep(keep: Keep) -> String {
    match keep {
        Keep::Forever => "forever".to_owned(),
        Keep::For(d) => crate::duration::format(d),
    }
}

/// `policy` as JSON (the shape in the module doc).
pub(crate) fn policy_json(policy: &RetentionPolicy) -> Value {
    let default: Map<String, Value> = Level::ALL
        .iter()
        .map(|&l| {
            (
                l.name().to_owned(),
                json!(format_keep(policy.default.get(l))),
            )
        })
        .collect();
    let measurements: Map<String, Value> = policy
        .measurements
        .iter()
        .map(|(m, o)| {
            let levels: Map<String, Value> = Level::ALL
                .iter()
                .filter_map(|&l| {
                    o.get(l)
                        .map(|k| (l.name().to_owned(), json!(format_keep(k))))
                })
                .collect();
            (m.clone(), Value::Object(levels))
        })
        .collect();
    json!({ "default": default, "measurements": measurements })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn keep_values_parse_and_format() {
        assert_eq!(parse_keep("forever").unwrap(), Keep::Forever);
        assert_eq!(
            parse_keep("2y").unwrap(),
            Keep::For(Duration::from_secs(730 * 86_400))
        );
        assert_eq!(format_keep(Keep::Forever), "forever");
        assert_eq!(
            format_keep(Keep::For(Duration::from_secs(7 * 86_400))),
            "1w"
        );
        let e = parse_keep("never").unwrap_err();
        assert!(e.contains("'never'") && e.contains("forever"), "{e}");
    }

    #[test]
    fn policy_json_lists_defaults_and_only_the_overridden_levels() {
        let mut p = RetentionPolicy::default();
        p.set(Some("cost"), Level::Raw, Some(Keep::Forever));
        assert_eq!(
            policy_json(&p),
            json!({
                "default": {"raw": "1w", "1m": "90d", "1h": "2y", "1d": "forever"},
                "measurements": {"cost": {"raw": "forever"}}
            })
        );
        assert_eq!(
            policy_json(&RetentionPolicy::forever())["measurements"],
            json!({})
        );
    }
}
