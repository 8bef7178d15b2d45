//! Query-string parameters (`?precision=ms&tag=host:a`), percent-decoded, repeats kept in order,
//! and the parameters the read endpoints share: tag filters and a time range.

use tally_engine::{Selector, TagPredicate, TimeRange};

/// The decoded `key=value` pairs of a query string.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `query` (the part after `?`), `None` meaning no parameters.
    pub(crate) fn parse(query: Option<&str>) -> Params {
        let Some(q) = query else {
            return Params::default();
        };
        Params(
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    /// The first value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every key, in order (repeats included).
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// The selector for `measurement` and the `tag=key:value` parameters (`key=value` also
    /// works), or what is wrong with a tag filter.
    pub(crate) fn selector(&self, measurement: &str) -> Result<Selector, String> {
        let mut sel = Selector::measurement(measurement);
        for t in self.all("tag") {
            let Some((key, value)) = t.split_once(':').or_else(|| t.split_once('=')) else {
                return Err(format!(
                    "bad tag filter '{t}'; write it as tag=KEY:VALUE, e.g. tag=host:a"
                ));
            };
            sel = sel.with(TagPredicate::Eq {
                key: key.to_owned(),
                value: value.to_owned(),
            });
        }
        Ok(sel)
    }

    /// `[start, end)` from the parameters named `start` and `end` (nanoseconds since the epoch;
    /// absent or empty means unbounded), or which one is not a number.
    pub(crate) fn time_range(&self, start: &str, end: &str) -> Result<TimeRange, String> {
        let bound = |name: &str, default: i64| -> Result<i64, String> {
            match self.get(name) {
                None | Some("") => Ok(default),
                Some(v) => v.parse().map_err(|_| {
                    format!("bad {name} '{v}'; give nanoseconds since the epoch, e.g. {name}=1700000000000000000")
                }),
            }
        };
        Ok(TimeRange::new(
            bound(start, TimeRange::ALL.start)?,
            bound(end, TimeRange::ALL.end)?,
        ))
    }

    /// Every value of `key`, in order.
    pub(crate) fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; a malformed
/// escape is kept as written. Invalid UTF-8 becomes U+FFFD.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Encodes `s` for a query-string value (the inverse of the decoding above).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~') {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_repeats_and_escapes() {
        let p = Params::parse(Some(
            "measurement=cpu&tag=host%3Aa&tag=dc:x+y&precision=ms&flag&x=%zz%4",
        ));
        assert_eq!(p.get("measurement"), Some("cpu"));
        assert_eq!(p.all("tag").collect::<Vec<_>>(), vec!["host:a", "dc:x y"]);
        assert_eq!(p.get("flag"), Some(""));
        assert_eq!(p.get("x"), Some("%zz%4"));
        assert_eq!(p.get("nope"), None);
        assert_eq!(Params::parse(None), Params::default());
    }

    #[test]
    fn tag_filters_and_ranges_parse_or_explain() {
        let p = Params::parse(Some("tag=host:a&tag=dc=x&start=5&end=9&from=1&to=2"));
        let sel = p.selector("cpu").unwrap();
        assert_eq!(sel.predicates.len(), 2);
        assert!(sel.predicates[1].matches("x"));
        assert_eq!(p.time_range("start", "end").unwrap(), TimeRange::new(5, 9));
        assert_eq!(p.time_range("from", "to").unwrap(), TimeRange::new(1, 2));
        assert_eq!(
            Params::default().time_range("start", "end").unwrap(),
            TimeRange::ALL
        );
        let bad = Params::parse(Some("tag=hosta&start=yesterday&to=soon"));
        assert!(bad.selector("cpu").unwrap_err().contains("hosta"));
        assert!(bad
            .time_range("start", "end")
            .unwrap_err()
            .contains("bad start 'yesterday'"));
        assert!(bad
            .time_range("from", "to")
            .unwrap_err()
            .contains("bad to 'soon'"));
        assert_eq!(bad.keys().collect::<Vec<_>>(), vec!["tag", "start", "to"]);
    }

    #[test]
    fn encode_round_trips() {
        for s in ["a b", "host:a=b&c", "π/%+", ""] {
            let q = format!("v={}", encode(s));
            assert_eq!(Params::parse(Some(&q)).get("v"), Some(s));
        }
    }
}
