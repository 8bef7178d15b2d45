//! `POST /write` (and `/api/v2/write`): line protocol in, InfluxDB's answers out.
//!
//! - all lines stored: 204; an empty body too.
//! - some lines malformed: the valid ones are stored and the answer is 400 with
//!   `{"error": "partial write: 2 of 10 lines rejected", "written": 8, "rejected": [{line, column,
//!   message, text}, ...]}` (InfluxDB's partial-write semantics).
//! - body over `max_body_bytes`, before or after gunzip: 413.
//! - the engine cannot store the batch: 503 (nothing of the request was stored; retry).
//!
//! Query parameters: `precision` (ns default; us, ms, s, and InfluxDB 1.x's n, u, m, h); `db`,
//! `rp`, `bucket`, `org` are accepted and ignored (one database for now).

use super::params::Params;
use super::reply::{self, Body};
use crate::app::App;
use crate::lines::{self, StoreFailed};
use crate::metrics::Source;
use bytes::Bytes;
use flate2::read::MultiGzDecoder;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::header::{HeaderMap, CONTENT_ENCODING, CONTENT_LENGTH};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;
use tally_ingest::line_protocol::Precision;
use tracing::{debug, error, warn};

/// Rejected lines listed in one answer; the count in `error` covers all of them.
const MAX_REJECTED_LISTED: usize = 100;

/// Answers a write request.
pub(crate) async fn handle<B>(req: Request<B>, app: &Arc<App>) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if req.method() != Method::POST {
        return reply::method_not_allowed(req.method(), req.uri().path(), "POST");
    }
    let params = Params::parse(req.uri().query());
    let precision = match params.get("precision").unwrap_or("ns").parse::<Precision>() {
        Ok(p) => p,
        Err(e) => return reply::error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let gzip = match content_encoding(req.headers()) {
        Ok(g) => g,
        Err(msg) => return reply::error(StatusCode::UNSUPPORTED_MEDIA_TYPE, msg),
    };
    let max = app.settings.max_body_bytes;
    if content_length(req.headers()).is_some_and(|len| len > max as u64) {
        return too_large(max, false);
    }

    // Wait for a slot before reading the body, so waiting writers cost no memory and slow
    // their clients down through TCP.
    let _permit = match app.write_permits.acquire().await {
        Ok(p) => p,
        Err(_) => return shutting_down(),
    };
    let body = match Limited::new(req.into_body(), max).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => return too_large(max, false),
        Err(e) => {
            debug!(error = %e, "reading a /write body failed");
            return reply::error(
                StatusCode::BAD_REQUEST,
                format!("could not read the request body: {e}; send the whole body with a correct Content-Length"),
            );
        }
    };
    app.metrics.bytes(Source::Http, body.len() as u64);

    let started = Instant::now();
    let worker = Arc::clone(app);
    let now = lines::now_ns();
    let result = tokio::task::spawn_blocking(move || {
        let text = if gzip { gunzip(&body, max)? } else { body };
        lines::parse_and_write(&worker.db, worker.settings.limits, &text, precision, now)
            .map_err(Failure::Store)
    })
    .await;
    app.metrics.write_latency.observe(started.elapsed());

    match result {
        Ok(Ok(outcome)) => {
            let rejected = outcome.rejected_total;
            app.metrics
                .lines(Source::Http, outcome.accepted as u64, rejected as u64);
            if rejected == 0 {
                return reply::no_content();
            }
            let total = outcome.accepted + rejected;
            let mut message = format!("partial write: {rejected} of {total} lines rejected");
            if rejected > MAX_REJECTED_LISTED {
                message.push_str(&format!(" (the first {MAX_REJECTED_LISTED} are listed)"));
            }
            let listed: Vec<_> = outcome
                .rejected
                .iter()
                .take(MAX_REJECTED_LISTED)
                .map(|e| {
                    json!({
                        "line": e.line,
                        "column": e.column,
                        "message": e.message,
                        "text": e.text,
                    })
                })
                .collect();
            reply::json(
                StatusCode::BAD_REQUEST,
                &json!({ "error": message, "written": outcome.accepted, "rejected": listed }),
            )
        }
        Ok(Err(Failure::TooLarge)) => too_large(max, true),
        Ok(Err(Failure::BadGzip(e))) => reply::error(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid gzip ({e}); send it uncompressed, or compressed with gzip and Content-Encoding: gzip"),
        ),
        Ok(Err(Failure::Store(StoreFailed { accepted, error }))) => {
            app.metrics.write_error(Source::Http);
            if lines::is_client_error(&error) {
                return reply::json(
                    StatusCode::BAD_REQUEST,
                    &json!({ "error": format!("{error}; nothing from this request was written"), "written": 0 }),
                );
            }
            error!(error = %error, lines = accepted, "storing a write failed");
            reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "could not store the write: {error}; nothing from this request was written. \
                     Retry later; if this persists check free disk space and permissions of the \
                     data directory {}",
                    app.settings.data_dir.display()
                ),
            )
        }
        Err(join) => {
            error!(error = %join, "the write worker panicked");
            reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("internal error while writing ({join}); this is a bug in tally, please report it with the server log"),
            )
        }
    }
}

/// Why a body was not parsed and stored.
#[derive(Debug)]
enum Failure {
    /// Decompressed size over the limit.
    TooLarge,
    /// Not gzip.
    BadGzip(std::io::Error),
    /// The engine refused the batch.
    Store(StoreFailed),
}

/// Decompresses a gzip body (several members allowed), refusing output past `max` bytes so a
/// small compressed body cannot expand into gigabytes.
fn gunzip(body: &[u8], max: usize) -> Result<Bytes, Failure> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(max));
    MultiGzDecoder::new(body)
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(Failure::BadGzip)?;
    if out.len() > max {
        return Err(Failure::TooLarge);
    }
    Ok(Bytes::from(out))
}

/// Whether the body is gzip; an error message for encodings we do not speak.
fn content_encoding(headers: &HeaderMap) -> Result<bool, String> {
    let Some(v) = headers.get(CONTENT_ENCODING) else {
        return Ok(false);
    };
    let v = v.to_str().unwrap_or("").trim().to_ascii_lowercase();
    match v.as_str() {
        "" | "identity" => Ok(false),
        "gzip" | "x-gzip" => Ok(true),
        other => {
            warn!(
                encoding = other,
                "refused a /write body with an unsupported Content-Encoding"
            );
            Err(format!(
                "Content-Encoding '{other}' is not supported; send the body uncompressed or with \
                 Content-Encoding: gzip"
            ))
        }
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn too_large(max: usize, decompressed: bool) -> Response<Body> {
    let what = if decompressed {
        "the decompressed request body"
    } else {
        "the request body"
    };
    reply::error(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "{what} is larger than {max} bytes; split the write into smaller batches, or raise \
             max_body_bytes in the [server] section of the config file"
        ),
    )
}

fn shutting_down() -> Response<Body> {
    reply::error(
        StatusCode::SERVICE_UNAVAILABLE,
        "the server is shutting down; retry against it once it is back",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gunzip_round_trips_and_concatenated_members_are_read() {
        let mut two = gz(b"a v=1 1\n");
        two.extend(gz(b"b v=2 2\n"));
        assert_eq!(&gunzip(&two, 1000).unwrap()[..], b"a v=1 1\nb v=2 2\n");
    }

    #[test]
    fn gzip_bomb_is_too_large_not_read_whole() {
        let bomb = gz(&vec![b'a'; 10 << 20]);
        assert!(
            bomb.len() < 100 << 10,
            "the test input should compress well"
        );
        assert!(matches!(gunzip(&bomb, 1 << 20), Err(Failure::TooLarge)));
        // Exactly at the limit is fine.
        assert_eq!(gunzip(&gz(&[b'x'; 100]), 100).unwrap().len(), 100);
        assert!(matches!(
            gunzip(&gz(&[b'x'; 101]), 100),
            Err(Failure::TooLarge)
        ));
    }

    #[test]
    fn not_gzip_is_an_error() {
        assert!(matches!(gunzip(b"cpu v=1", 100), Err(Failure::BadGzip(_))));
    }

    #[test]
    fn content_encodings() {
        let mut h = HeaderMap::new();
        assert_eq!(content_encoding(&h).ok(), Some(false));
        h.insert(CONTENT_ENCODING, "GZIP".parse().unwrap());
        assert_eq!(content_encoding(&h).ok(), Some(true));
        h.insert(CONTENT_ENCODING, "br".parse().unwrap());
        assert!(content_encoding(&h).unwrap_err().contains("'br'"));
    }
}
