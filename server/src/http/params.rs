//! Query-string parameters (`?precision=ms&tag=host:a`), percent-decoded, repeats kept in order.

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
    fn encode_round_trips() {
        for s in ["a b", "host:a=b&c", "π/%+", ""] {
            let q = format!("v={}", encode(s));
            assert_eq!(Params::parse(Some(&q)).get("v"), Some(s));
        }
    }
}
