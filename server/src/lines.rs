//! Line-protocol text into the database: parse a body with this thread's parser, then hand the
//! valid points to the engine in one batch. Shared by `POST /write` and the TCP listener.
//!
//! Runs on a blocking thread (parsing is CPU work and `Db::write` blocks while the engine's queue
//! is full), so each worker thread of tokio's blocking pool keeps one warm parser.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};
use tally_engine::{Db, EngineError, PointRejection, WriteBatch};
use tally_ingest::line_protocol::{Limits, LineError, Parser, Precision, EXCERPT_CHARS};

/// What became of one body.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Lines parsed into points and written.
    pub(crate) accepted: usize,
    /// Lines refused by the parser or the engine (a field type conflict), in line order, with
    /// where and why; at most the parser's reporting limit of parse errors.
    pub(crate) rejected: Vec<LineError>,
    /// Lines refused in all, listed or not.
    pub(crate) rejected_total: usize,
}

/// Why the valid lines of a body were not stored.
#[derive(Debug)]
pub(crate) struct StoreFailed {
    /// Lines that parsed but were not written.
    pub(crate) accepted: usize,
    /// The engine's error.
    pub(crate) error: EngineError,
}

thread_local! {
    /// The parser of this thread (rebuilt if asked for other limits).
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses `body` and writes its valid points to `db`; lines without a timestamp get `now_ns`.
///
/// Blocks (parsing, and the engine's back-pressure): call from a blocking thread.
pub(crate) fn parse_and_write(
    db: &Db,
    limits: Limits,
    body: &[u8],
    precision: Precision,
    now_ns: i64,
) -> Result<Outcome, StoreFailed> {
    let mut batch = WriteBatch::with_capacity(body.len().saturating_add(body.len() / 2));
    let report = with_parser(limits, |p| {
        p.parse_into(body, precision, now_ns, &mut batch)
    });
    let mut outcome = Outcome {
        accepted: report.accepted,
        rejected: report.rejected,
        rejected_total: report.rejected_total,
    };
    if batch.is_empty() {
        return Ok(outcome);
    }
    let accepted = outcome.accepted;
    let summary = db
        .write(batch)
        .map_err(|error| StoreFailed { accepted, error })?;
    if !summary.rejected.is_empty() {
        outcome.accepted = summary.written;
        add_engine_rejections(body, &mut outcome, &summary.rejected);
    }
    Ok(outcome)
}

/// Adds the points the engine refused (by index in the batch) to `outcome` as rejected lines.
///
/// The batch holds the body's point lines in order, minus blank lines, comments and the lines
/// the parser rejected, so walking the body recovers each point's line. That needs the full list
/// of parse errors; when the parser stopped listing them (a body with very many bad lines), the
/// line is unknown and reported as 0.
fn add_engine_rejections(body: &[u8], outcome: &mut Outcome, refused: &[PointRejection]) {
    let complete = outcome.rejected.len() == outcome.rejected_total;
    let mut want: Vec<&PointRejection> = refused.iter().collect();
    want.sort_by_key(|r| r.index);
    let mut found = Vec::with_capacity(want.len());
    if complete {
        let parse_errors: Vec<usize> = outcome.rejected.iter().map(|e| e.line).collect();
        let mut next = want.iter().peekable();
        let mut point = 0;
        for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
            let line = i + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let first = raw.iter().find(|&&b| b != b' ' && b != b'\t');
            let blank_or_comment = !matches!(first, Some(&b) if b != b'#');
            if blank_or_comment || parse_errors.binary_search(&line).is_ok() {
                continue;
            }
            while let Some(r) = next.next_if(|r| r.index == point) {
                found.push(line_error(line, &r.reason, raw));
            }
            if next.peek().is_none() {
                break;
            }
            point += 1;
        }
    }
    // Whatever could not be placed (see above) is still reported.
    for r in want.iter().skip(found.len()) {
        found.push(line_error(0, &r.reason, b""));
    }
    outcome.rejected_total += refused.len();
    outcome.rejected.extend(found);
    outcome.rejected.sort_by_key(|e| e.line);
}

fn line_error(line: usize, reason: &str, raw: &[u8]) -> LineError {
    LineError {
        line,
        column: 1,
        message: reason.to_owned(),
        text: String::from_utf8_lossy(raw)
            .chars()
            .take(EXCERPT_CHARS)
            .collect(),
    }
}

/// Runs `f` with this thread's parser for `limits`, building it on first use.
fn with_parser<R>(limits: Limits, f: impl FnOnce(&mut Parser) -> R) -> R {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_some_and(|p| p.limits() != limits) {
            *slot = None;
        }
        f(slot.get_or_insert_with(|| Parser::new(limits)))
    })
}

/// The server's clock in nanoseconds since the epoch: the timestamp of lines that carry none.
pub(crate) fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Whether an engine error is the client's fault (a field written with another type than it has)
/// rather than the server's (disk, shutdown).
pub(crate) fn is_client_error(e: &EngineError) -> bool {
    matches!(e, EngineError::FieldTypeConflict { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejection(index: usize) -> PointRejection {
        PointRejection {
            index,
            reason: format!("conflict {index}"),
        }
    }

    #[test]
    fn engine_rejections_are_placed_on_their_lines() {
        // Points: line 2 -> 0, line 5 -> 1, line 7 -> 2 (line 4 is a parse error).
        let body = b"# comment\na v=1 1\n\nbad\r\na v=2i 2\r\n  \na v=3 3";
        let mut outcome = Outcome {
            accepted: 3,
            rejected: vec![line_error(4, "parse", b"bad")],
            rejected_total: 1,
        };
        add_engine_rejections(body, &mut outcome, &[rejection(2), rejection(1)]);
        let got: Vec<_> = outcome
            .rejected
            .iter()
            .map(|e| (e.line, e.message.as_str(), e.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (4, "parse", "bad"),
                (5, "conflict 1", "a v=2i 2"),
                (7, "conflict 2", "a v=3 3"),
            ]
        );
        assert_eq!(outcome.rejected_total, 3);
    }

    #[test]
    fn without_the_full_error_list_lines_are_unknown_but_reported() {
        let mut outcome = Outcome {
            accepted: 1,
            rejected: vec![],
            rejected_total: 5000,
        };
        add_engine_rejections(b"a v=1 1\n", &mut outcome, &[rejection(0)]);
        assert_eq!(outcome.rejected.len(), 1);
        assert_eq!(outcome.rejected[0].line, 0);
        assert_eq!(outcome.rejected[0].message, "conflict 0");
        assert_eq!(outcome.rejected_total, 5001);
    }
}
