//! Tally's dashboard assets, embedded into the binary at build time so `tally serve` needs no
//! front-end server or network. The full dashboard lands with issue 8; until then the landing page
//! says where the API lives.

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// Path under `/`, e.g. `index.html`.
    pub path: &'static str,
    /// MIME type for the `Content-Type` header.
    pub content_type: &'static str,
    /// File contents.
    pub body: &'static [u8],
}

const ASSETS: &[Asset] = &[Asset {
    path: "index.html",
    content_type: "text/html; charset=utf-8",
    body: include_bytes!("../assets/index.html"),
}];

/// The asset served at `path` (`""` and `"/"` mean `index.html`), if any.
pub fn asset(path: &str) -> Option<&'static Asset> {
    let p = path.trim_start_matches('/');
    let p = if p.is_empty() { "index.html" } else { p };
    ASSETS.iter().find(|a| a.path == p)
}

#[cfg(test)]
mod tests {
    #[test]
    fn index_is_served_for_root() {
        assert_eq!(super::asset("/").unwrap().path, "index.html");
        assert!(super::asset("/nope.js").is_none());
    }
}
