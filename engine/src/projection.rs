//! Projections: rollups kept at reduced dimensions.
//!
//! Per-request event streams have many sparse series (key x endpoint x method x status), so a
//! dashboard question such as "p99 latency per endpoint over 90 days" would merge one rollup per
//! raw series per day: tens of thousands of sketches per day. A projection of a measurement by a
//! set of tag keys keeps, next to the per-series rollups, rollups summed over every series with
//! the same values of those keys: a handful of series per endpoint instead of thousands.
//!
//! Projection series are ordinary series of a hidden measurement named
//! `<measurement>U+0001<key>,<key>...` whose tags are the raw series' tags restricted to the
//! keys, so they reuse the registry, the tag index and the rollup files unchanged. They have
//! rollups only, never raw points; the write path refuses measurement names containing U+0001,
//! and listings hide them. Projections exist for event measurements only: their rollups only
//! ever add, whereas a metric's last-write-wins rewrite would have to be subtracted from a sum
//! over series.

use crate::batch::{encode_series_key, SeriesKeyRef};
use std::collections::BTreeSet;

/// Separates a measurement from its projection's keys in a projection measurement name.
pub(crate) const MARK: char = '\u{1}';

/// The hidden measurement holding the projection of `measurement` by `keys` (sorted, unique).
pub(crate) fn measurement_name(measurement: &str, keys: &[String]) -> String {
    format!("{measurement}{MARK}{}", keys.join(","))
}

/// The measurement a (possibly projection) measurement name belongs to, for retention.
pub(crate) fn base_measurement(name: &str) -> &str {
    name.split(MARK).next().unwrap_or(name)
}

/// The key of the projection series that raw series `raw` rolls up into.
pub(crate) fn series_key(
    raw: SeriesKeyRef<'_>,
    projection_measurement: &str,
    keys: &[String],
) -> Vec<u8> {
    // Raw tags are sorted by key, so the kept ones are too.
    let tags: Vec<(&str, &str)> = raw
        .tags()
        .filter(|(k, _)| keys.iter().any(|p| p == k))
        .collect();
    encode_series_key(projection_measurement, &tags)
}

/// The smallest projection whose keys cover every key in `needed`, if any.
pub(crate) fn choose<'a>(
    projections: &'a [Vec<String>],
    needed: &BTreeSet<&str>,
) -> Option<&'a [String]> {
    projections
        .iter()
        .filter(|keys| needed.iter().all(|n| keys.iter().any(|k| k == n)))
        .min_by_key(|keys| keys.len())
        .map(Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_covering_projection_is_chosen() {
        let p = vec![
            vec!["endpoint".to_owned(), "status_class".to_owned()],
            vec!["endpoint".to_owned()],
            vec!["key".to_owned()],
        ];
        let needed = |k: &[&'static str]| k.iter().copied().collect::<BTreeSet<&str>>();
        assert_eq!(choose(&p, &needed(&["endpoint"])), Some(&p[1][..]));
        assert_eq!(choose(&p, &needed(&["status_class"])), Some(&p[0][..]));
        assert_eq!(choose(&p, &needed(&["key", "endpoint"])), None);
        assert_eq!(choose(&p, &needed(&[])), Some(&p[1][..]));
    }

    #[test]
    fn names_round_trip_to_their_base_measurement() {
        let keys = vec!["a".to_owned(), "b".to_owned()];
        let name = measurement_name("requests", &keys);
        assert_eq!(base_measurement(&name), "requests");
        assert_eq!(base_measurement("cost"), "cost");
        let raw = encode_series_key("requests", &[("a", "1"), ("c", "3")]);
        let key = series_key(SeriesKeyRef::parse(&raw).unwrap(), &name, &keys);
        let key = SeriesKeyRef::parse(&key).unwrap();
        assert_eq!(key.measurement(), name);
        assert_eq!(key.tags().collect::<Vec<_>>(), [("a", "1")]);
    }
}
