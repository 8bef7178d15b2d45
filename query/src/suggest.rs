//! "Did you mean ...?": the closest known name to a misspelt one.

/// The candidate closest to `name` by edit distance (two swapped letters count as one edit), if
/// close enough to be a likely typo: at most a third of the name's length, at least 1; a
/// difference in case alone counts as the closest.
///
/// ```
/// use tally_query::suggest::closest;
/// let names = ["latency_ms", "endpoint", "key"];
/// assert_eq!(closest("latncy_ms", names.into_iter()), Some("latency_ms"));
/// assert_eq!(closest("kye", names.into_iter()), Some("key"));
/// assert_eq!(closest("cost", names.into_iter()), None);
/// ```
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .map(|c| {
            let d = if c.eq_ignore_ascii_case(name) {
                0
            } else {
                strsim::osa_distance(name, c)
            };
            (d, c)
        })
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}
