//! `GET /query?q=...` and `POST /query`: run query text (one or more `;`-separated statements)
//! and answer the tables.
//!
//! Where the query comes from:
//! - `GET /query?q=SHOW+MEASUREMENTS`
//! - `POST /query` with `Content-Type: application/x-www-form-urlencoded` and `q=...` (what
//!   InfluxDB 1.x clients send); the other parameters below may be in the body too.
//! - `POST /query` with `Content-Type: application/json` and
//!   `{"q": "...", "params": {"key": "abc", "from": "2026-01-01T00:00:00Z"}, "now": "..."}`
//!   (`epoch` and `format` are accepted there as well).
//! - `POST /query` with any other type (`text/plain`): the body is the query text.
//!
//! Parameters (query string, or form body):
//! - `params`: a JSON object binding `$name` parameters: a whole number is an integer, a number
//!   with a fraction a float, `true`/`false` a boolean, a string a string (the executor turns a
//!   string into a time or duration where one is needed).
//! - `now`: the instant `now()` means, RFC 3339 or nanoseconds since the epoch (default: the
//!   server clock).
//! - `epoch=ns|us|ms|s`: times as integers since the epoch instead of RFC 3339 strings.
//! - `format=json|csv|table`: the answer's format. Default JSON, or CSV when `Accept` names
//!   `text/csv`; `table` is the aligned text `tally query` prints.
//!
//! Answers: 200 with the tables in the shape of [`tally_query::format`]; 400
//! `{"error", "line", "column", "detail"}` for a query that does not parse or cannot run
//! (`detail` is the message with the line and a caret under the spot); 400 `{"error"}` for a bad
//! request; 413 for a query over its time, memory or row budget (`[query]` in the config);
//! 503 when too many queries are running for this one to start within its time budget; 500 when
//! the storage cannot be read.

use super::params::Params;
use super::reply::{self, Body};
use crate::app::App;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::header::{ACCEPT, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tally_query::format::{self, EpochUnit, TimeFormat};
use tally_query::{ParamValue, ParseError, QueryError, QueryOptions, MAX_QUERY_LEN};
use tracing::{debug, error};

/// Largest request body: the longest query text the parser takes plus room for parameters.
const MAX_BODY_BYTES: usize = MAX_QUERY_LEN + (64 << 10);

/// How long past a query's own time budget the handler waits before answering without it. The
/// executor checks its budget as it goes; this only catches a statement that does not.
const BACKSTOP_SLACK: Duration = Duration::from_secs(2);

/// The answer's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Json,
    Csv,
    Table,
}

impl Output {
    fn parse(name: &str) -> Result<Output, String> {
        match name {
            "json" => Ok(Output::Json),
            "csv" => Ok(Output::Csv),
            "table" | "text" => Ok(Output::Table),
            other => Err(format!(
                "unknown format '{other}'; use format=json (the default), format=csv or format=table"
            )),
        }
    }
}

/// The parameters a query request reads itself; any other is left in
/// [`QueryRequest::others`].
const OPTIONS: [&str; 5] = ["q", "params", "now", "epoch", "format"];

/// Everything a query request asks for, from the query string and the body. `/query` and
/// `/queries/NAME/run` read requests the same way.
#[derive(Debug, Default)]
pub(super) struct QueryRequest {
    /// The query text (`q` or the body).
    pub(super) text: Option<String>,
    /// The `params` object's values as sent (a later object overrides an earlier one's keys).
    pub(super) params: BTreeMap<String, Value>,
    /// Query-string (and form body) parameters that are not options of the request, in order:
    /// ignored by `/query` (InfluxDB clients send `db`, `u`, `p`...), parameter values for a
    /// saved query's run.
    pub(super) others: Vec<(String, String)>,
    now: Option<i64>,
    epoch: Option<EpochUnit>,
    format: Option<Output>,
}

impl QueryRequest {
    /// Takes `q`, `params`, `now`, `epoch` and `format` from query-string style parameters,
    /// over what is already set, and keeps the others.
    fn apply_params(&mut self, p: &Params) -> Result<(), String> {
        if let Some(q) = p.get("q") {
            self.text = Some(q.to_owned());
        }
        let mut seen = Vec::new();
        for key in p.keys().filter(|k| !OPTIONS.contains(k)) {
            // `all` yields every value of a repeated key: take each key's values once.
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            for v in p.all(key) {
                self.others.push((key.to_owned(), v.to_owned()));
            }
        }
        if let Some(text) = p.get("params").filter(|t| !t.is_empty()) {
            let value: Value = serde_json::from_str(text).map_err(|e| {
                format!(
                    "params is not JSON ({e}); give an object such as params={{\"key\":\"abc\",\"limit\":10}}"
                )
            })?;
            self.apply_json_params(&value)?;
        }
        if let Some(now) = p.get("now").filter(|t| !t.is_empty()) {
            self.now = Some(parse_now(&Value::String(now.to_owned()))?);
        }
        self.apply_epoch(p.get("epoch"))?;
        if let Some(f) = p.get("format").filter(|t| !t.is_empty()) {
            self.format = Some(Output::parse(f)?);
        }
        Ok(())
    }

    fn apply_epoch(&mut self, epoch: Option<&str>) -> Result<(), String> {
        if let Some(e) = epoch.filter(|t| !t.is_empty()) {
            self.epoch = Some(e.parse::<EpochUnit>().map_err(|e| e.to_string())?);
        }
        Ok(())
    }

    fn apply_json_params(&mut self, value: &Value) -> Result<(), String> {
        let Value::Object(map) = value else {
            return Err(format!(
                "params must be a JSON object such as {{\"key\": \"abc\"}}, not {value}"
            ));
        };
        for (name, v) in map {
            self.params.insert(name.clone(), v.clone());
        }
        Ok(())
    }

    /// The `params` values typed as JSON types them (what `/query` binds).
    fn typed_params(&self) -> Result<BTreeMap<String, ParamValue>, String> {
        self.params
            .iter()
            .map(|(name, v)| Ok((name.clone(), param_value(name, v)?)))
            .collect()
    }

    /// Takes what a POST body holds, by its content type.
    fn apply_body(&mut self, content_type: &str, body: &[u8]) -> Result<(), String> {
        let text = std::str::from_utf8(body)
            .map_err(|e| format!("the request body is not UTF-8 ({e}); send UTF-8 text"))?;
        match content_type {
            "application/x-www-form-urlencoded" => self.apply_params(&Params::parse(Some(text))),
            "application/json" => {
                let b: JsonBody = serde_json::from_str(text).map_err(|e| {
                    format!(
                        "the JSON body is not valid ({e}); send {{\"q\": \"SHOW MEASUREMENTS\", \"params\": {{...}}, \"now\": \"2026-01-01T00:00:00Z\"}}"
                    )
                })?;
                if let Some(q) = b.q {
                    self.text = Some(q);
                }
                if let Some(params) = b.params {
                    self.apply_json_params(&params)?;
                }
                if let Some(now) = b.now {
                    self.now = Some(parse_now(&now)?);
                }
                self.apply_epoch(b.epoch.as_deref())?;
                if let Some(f) = b.format {
                    self.format = Some(Output::parse(&f)?);
                }
                Ok(())
            }
            _ => {
                if !text.trim().is_empty() {
                    self.text = Some(text.to_owned());
                }
                Ok(())
            }
        }
    }
}

/// A JSON request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonBody {
    q: Option<String>,
    params: Option<Value>,
    now: Option<Value>,
    epoch: Option<String>,
    format: Option<String>,
}

/// A parameter's value from JSON: integer, float, boolean or string.
fn param_value(name: &str, v: &Value) -> Result<ParamValue, String> {
    match v {
        Value::String(s) => Ok(ParamValue::String(s.clone())),
        Value::Bool(b) => Ok(ParamValue::Boolean(*b)),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(ParamValue::Integer(i))
            } else if n.is_u64() {
                Err(format!(
                    "parameter ${name} = {n} does not fit a 64-bit signed integer"
                ))
            } else {
                n.as_f64().map(ParamValue::Float).ok_or_else(|| {
                    format!("parameter ${name} = {n} is not a number tally can hold")
                })
            }
        }
        other => Err(format!(
            "parameter ${name} is {other}; give a string, a number or true/false"
        )),
    }
}

/// `now` as RFC 3339 text or nanoseconds since the epoch (a JSON number or digits).
fn parse_now(v: &Value) -> Result<i64, String> {
    const HOW: &str = "give RFC 3339 such as 2026-01-01T00:00:00Z, or nanoseconds since the epoch";
    match v {
        Value::Number(n) => n.as_i64().ok_or_else(|| format!("bad now {n}; {HOW}")),
        Value::String(s) => {
            if let Ok(ns) = s.parse::<i64>() {
                return Ok(ns);
            }
            chrono::DateTime::parse_from_rfc3339(s)
                .ok()
                .and_then(|t| t.timestamp_nanos_opt())
                .ok_or_else(|| format!("bad now '{s}'; {HOW}"))
        }
        other => Err(format!("bad now {other}; {HOW}")),
    }
}

/// The media type of a `Content-Type` value, lower-cased, without parameters.
fn media_type(value: Option<&hyper::header::HeaderValue>) -> String {
    value
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Answers a query request.
pub(crate) async fn handle<B>(req: Request<B>, app: &Arc<App>) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let request = match read_request(req).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let Some(text) = request.text.clone().filter(|t| !t.trim().is_empty()) else {
        return reply::error(
            StatusCode::BAD_REQUEST,
            "missing query: pass it as q, e.g. GET /query?q=SHOW+MEASUREMENTS, or POST the text \
             (text/plain, form field q, or JSON {\"q\": \"...\"})",
        );
    };
    let params = match request.typed_params() {
        Ok(p) => p,
        Err(msg) => return reply::error(StatusCode::BAD_REQUEST, msg),
    };
    answer(app, text, params, &request).await
}

/// Runs `text` with `params` and the request's `now`, and answers in the request's format:
/// the tables, or the error of a query that did not run (see the module doc).
pub(super) async fn answer(
    app: &Arc<App>,
    text: String,
    params: BTreeMap<String, ParamValue>,
    request: &QueryRequest,
) -> Response<Body> {
    let time = request.epoch.map_or(TimeFormat::Rfc3339, TimeFormat::Epoch);
    let output = request.format.unwrap_or(Output::Json);
    let limits = app.settings.query;
    let opts = QueryOptions {
        now: request.now,
        params,
        limits,
        ..QueryOptions::default()
    };

    let Ok(Ok(permit)) = tokio::time::timeout(
        limits.timeout,
        Arc::clone(&app.query_permits).acquire_owned(),
    )
    .await
    else {
        return reply::error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "too many queries are running: this one could not start within its time budget of \
                 {} s; retry later, or make the running queries cheaper (narrower time ranges)",
                limits.timeout.as_secs()
            ),
        );
    };
    // A budget per statement; `;` also counts any inside strings, which only lengthens it.
    let statements = text.matches(';').count() as u32 + 1;
    let backstop = limits.timeout.saturating_mul(statements) + BACKSTOP_SLACK;
    let started = Instant::now();
    let db = Arc::clone(&app.db);
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let tables = tally_query::run(&db, &text, &opts)?;
        let rows: usize = tables.iter().map(|t| t.rows.len()).sum();
        Ok::<_, QueryError>((tables, rows))
    });
    let result = tokio::time::timeout(backstop, task).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
    match result {
        Ok(Ok(Ok((tables, rows)))) => {
            debug!(rows, elapsed_ms, "query answered");
            if rows > STREAM_ROWS && output != Output::Table {
                return stream(tables, output, time);
            }
            let (content_type, body) = render(&tables, output, time);
            reply::bytes(StatusCode::OK, content_type, body)
        }
        Ok(Ok(Err(e))) => {
            debug!(error = %e, elapsed_ms, "query failed");
            query_error(&e)
        }
        Ok(Err(join)) => {
            error!(error = %join, "a query worker panicked");
            reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("internal error while running the query ({join}); this is a bug in tally, please report it with the query and the server log"),
            )
        }
        Err(_) => {
            error!(
                elapsed_ms,
                "a query ran past its time budget without stopping; answered without it"
            );
            reply::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "query over budget: still running after {} s, past its time budget of {} s \
                     per statement ([query] timeout_s); narrow the time range or the series it reads",
                    backstop.as_secs(),
                    limits.timeout.as_secs()
                ),
            )
        }
    }
}

/// The request's parameters and body, or the answer to a request that cannot be read.
pub(super) async fn read_request<B>(req: Request<B>) -> Result<QueryRequest, Response<Body>>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let bad = |msg: String| reply::error(StatusCode::BAD_REQUEST, msg);
    let mut request = QueryRequest::default();
    request
        .apply_params(&Params::parse(req.uri().query()))
        .map_err(bad)?;
    if request.format.is_none() && accepts_csv(req.headers()) {
        request.format = Some(Output::Csv);
    }
    if req.method() != Method::POST {
        return Ok(request);
    }
    let content_type = media_type(req.headers().get(CONTENT_TYPE));
    let body = read_body(req.into_body()).await?;
    request.apply_body(&content_type, &body).map_err(bad)?;
    Ok(request)
}

/// The whole body of a request that carries query text, or the answer when it is too long or
/// cannot be read.
pub(super) async fn read_body<B>(body: B) -> Result<Bytes, Response<Body>>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is over {MAX_BODY_BYTES} bytes; a query may be at most \
                 {MAX_QUERY_LEN} bytes long"
            ),
        )),
        Err(e) => Err(reply::error(
            StatusCode::BAD_REQUEST,
            format!(
                "could not read the request body: {e}; send the whole body with a correct Content-Length"
            ),
        )),
    }
}

/// Whether `Accept` names `text/csv`.
fn accepts_csv(headers: &hyper::HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("text/csv")
        })
}

/// Answers with more rows than this are streamed: serialized a chunk at a time on a blocking
/// thread while the client reads, never held serialized in full (a JSON answer is several
/// times the size of the table it comes from).
const STREAM_ROWS: usize = 10_000;

/// Bytes per streamed chunk.
const CHUNK_BYTES: usize = 64 * 1024;

/// A streamed answer (JSON or CSV; the aligned table needs every row for its widths).
fn stream(tables: Vec<tally_query::Table>, output: Output, time: TimeFormat) -> Response<Body> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let content_type = match output {
        Output::Csv => "text/csv; charset=utf-8",
        _ => "application/json",
    };
    tokio::task::spawn_blocking(move || {
        let mut w = ChunkWriter {
            tx,
            buf: Vec::with_capacity(CHUNK_BYTES),
        };
        let written = match output {
            Output::Csv => format::write_csv(&tables, time, &mut w),
            _ => format::write_json(&tables, time, &mut w).and_then(|()| w.write_all(b"\n")),
        };
        if let Err(e) = written.and_then(|()| w.flush()) {
            // The only failure is the client going away mid-answer.
            debug!(error = %e, "a streamed query answer was not read to its end");
        }
    });
    reply::stream(StatusCode::OK, content_type, rx)
}

/// Sends what is written to a response body in chunks of about [`CHUNK_BYTES`], waiting while
/// the client is slower than the writer (the channel holds a few chunks).
struct ChunkWriter {
    tx: tokio::sync::mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.send()
    }
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES));
        self.tx.blocking_send(chunk.into()).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the client closed the connection",
            )
        })
    }
}

/// The body of a successful answer and its content type.
fn render(
    tables: &[tally_query::Table],
    output: Output,
    time: TimeFormat,
) -> (&'static str, Vec<u8>) {
    match output {
        Output::Json => {
            let mut body =
                serde_json::to_vec(&format::json(tables, time)).unwrap_or_else(|_| b"{}".to_vec());
            body.push(b'\n');
            ("application/json", body)
        }
        Output::Csv => (
            "text/csv; charset=utf-8",
            format::csv(tables, time).into_bytes(),
        ),
        Output::Table => (
            "text/plain; charset=utf-8",
            format::text(tables, time).into_bytes(),
        ),
    }
}

/// The answer to a query that did not run.
fn query_error(e: &QueryError) -> Response<Body> {
    match e {
        QueryError::Invalid(p) => parse_error(p),
        QueryError::Budget(msg) => reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("query over budget: {msg}"),
        ),
        QueryError::Engine(engine) => {
            error!(error = %engine, "a query could not read the storage");
            reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the query could not read the data: {engine}; the server log has details"),
            )
        }
    }
}

/// 400 `{"error", "line", "column", "detail"}`: query text that does not parse or cannot run.
pub(super) fn parse_error(p: &ParseError) -> Response<Body> {
    reply::json(
        StatusCode::BAD_REQUEST,
        &json!({
            "error": p.message(),
            "line": p.line,
            "column": p.column,
            "detail": p.to_string(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_parameters_keep_their_types() {
        let mut r = QueryRequest::default();
        r.apply_json_params(
            &json!({"key": "abc", "n": 5, "f": 0.5, "b": true, "big": -9007199254740993i64}),
        )
        .unwrap();
        let params = r.typed_params().unwrap();
        assert_eq!(params["key"], ParamValue::String("abc".into()));
        assert_eq!(params["n"], ParamValue::Integer(5));
        assert_eq!(params["f"], ParamValue::Float(0.5));
        assert_eq!(params["b"], ParamValue::Boolean(true));
        assert_eq!(params["big"], ParamValue::Integer(-9007199254740993));
        for (bad, needle) in [
            (json!({"x": null}), "$x is null"),
            (json!({"x": [1]}), "$x is [1]"),
            (json!({"x": u64::MAX}), "64-bit"),
            (json!(["x"]), "JSON object"),
        ] {
            let mut r = QueryRequest::default();
            let err = r
                .apply_json_params(&bad)
                .and_then(|()| r.typed_params().map(drop))
                .unwrap_err();
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }

    #[test]
    fn now_is_rfc3339_or_nanoseconds() {
        assert_eq!(
            parse_now(&json!("1970-01-01T00:00:01Z")).unwrap(),
            1_000_000_000
        );
        assert_eq!(
            parse_now(&json!("2026-01-01T01:00:00+01:00")).unwrap(),
            1_767_225_600_000_000_000
        );
        assert_eq!(parse_now(&json!("42")).unwrap(), 42);
        assert_eq!(parse_now(&json!(-42)).unwrap(), -42);
        for bad in [json!("yesterday"), json!(1.5), json!(true)] {
            assert!(parse_now(&bad).unwrap_err().contains("RFC 3339"), "{bad}");
        }
    }

    #[test]
    fn bodies_are_read_by_content_type() {
        let mut r = QueryRequest::default();
        r.apply_body("text/plain", b"SHOW MEASUREMENTS").unwrap();
        assert_eq!(r.text.as_deref(), Some("SHOW MEASUREMENTS"));

        let mut r = QueryRequest::default();
        r.apply_body(
            "application/x-www-form-urlencoded",
            b"q=SHOW+TAG+KEYS&epoch=ms&params=%7B%22k%22%3A1%7D",
        )
        .unwrap();
        assert_eq!(r.text.as_deref(), Some("SHOW TAG KEYS"));
        assert_eq!(r.epoch, Some(EpochUnit::Milliseconds));
        assert_eq!(r.typed_params().unwrap()["k"], ParamValue::Integer(1));

        let mut r = QueryRequest::default();
        r.apply_body(
            "application/json",
            br#"{"q": "SHOW FIELD KEYS", "params": {"from": "2026-01-01T00:00:00Z"}, "now": 7, "format": "csv"}"#,
        )
        .unwrap();
        assert_eq!(r.text.as_deref(), Some("SHOW FIELD KEYS"));
        assert_eq!(
            r.typed_params().unwrap()["from"],
            ParamValue::String("2026-01-01T00:00:00Z".into())
        );
        assert_eq!(r.now, Some(7));
        assert_eq!(r.format, Some(Output::Csv));

        let err = QueryRequest::default()
            .apply_body("application/json", br#"{"query": "x"}"#)
            .unwrap_err();
        assert!(err.contains("unknown field `query`"), "{err}");
        let err = QueryRequest::default()
            .apply_body("text/plain", b"\xff")
            .unwrap_err();
        assert!(err.contains("UTF-8"), "{err}");
        let err = QueryRequest::default()
            .apply_params(&Params::parse(Some("q=x&format=xml")))
            .unwrap_err();
        assert!(err.contains("format=csv"), "{err}");
        let err = QueryRequest::default()
            .apply_params(&Params::parse(Some("q=x&epoch=h")))
            .unwrap_err();
        assert!(err.contains("ns, us, ms or s"), "{err}");
    }

    #[test]
    fn csv_is_chosen_by_accept() {
        let mut h = hyper::HeaderMap::new();
        assert!(!accepts_csv(&h));
        h.insert(ACCEPT, "application/json, text/csv;q=0.9".parse().unwrap());
        assert!(accepts_csv(&h));
        assert_eq!(
            media_type(Some(&"Application/JSON; charset=utf-8".parse().unwrap())),
            "application/json"
        );
    }
}
