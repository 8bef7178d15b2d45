//! A rejected line: where it is, what is wrong, and the line itself.

use thiserror::Error;

/// How many characters of an offending line a [`LineError`] keeps.
pub const EXCERPT_CHARS: usize = 200;

/// One line of a body that was not written, and why.
///
/// Displays as `line 3, column 17: expected '=' after tag key "host", found ' '; ...`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}, column {column}: {message}")]
pub struct LineError {
    /// Line number in the body, from 1.
    pub line: usize,
    /// Byte column in that line, from 1 (leading blanks count).
    pub column: usize,
    /// What was found, what was expected, and how to fix it.
    pub message: String,
    /// The offending line (without its line ending), cut to its first 200 characters;
    /// bytes that are not UTF-8 are shown as U+FFFD.
    pub text: String,
}

impl LineError {
    /// An error for `raw`, line `line`, column `column` (both from 1).
    pub(crate) fn new(line: usize, column: usize, message: String, raw: &[u8]) -> Self {
        LineError {
            line,
            column,
            message,
            text: excerpt(raw),
        }
    }
}

/// The first [`EXCERPT_CHARS`] characters of `raw`. Decoding is bounded: 200 characters never
/// take more than 800 bytes, and a lossy decode yields at least one character per byte.
fn excerpt(raw: &[u8]) -> String {
    let head = &raw[..raw.len().min(EXCERPT_CHARS * 4)];
    String::from_utf8_lossy(head)
        .chars()
        .take(EXCERPT_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_line_and_column_first() {
        let e = LineError::new(
            3,
            17,
            "expected '=' after tag key \"host\", found ' '".into(),
            b"x",
        );
        assert_eq!(
            e.to_string(),
            "line 3, column 17: expected '=' after tag key \"host\", found ' '"
        );
    }

    #[test]
    fn excerpt_is_cut_to_200_chars_and_survives_bad_utf8() {
        let long = "é".repeat(500);
        let e = LineError::new(1, 1, String::new(), long.as_bytes());
        assert_eq!(e.text.chars().count(), 200);
        assert!(e.text.chars().all(|c| c == 'é'));
        let e = LineError::new(1, 1, String::new(), b"m v=\xff1");
        assert_eq!(e.text, "m v=\u{fffd}1");
    }
}
