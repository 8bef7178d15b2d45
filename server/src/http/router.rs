//! Which handler answers which path, and the per-route request counters.

use super::params::Params;
use super::reply::{self, Body};
use super::{admin, debug, health, metrics, query, rollup, saved, write};
use crate::app::App;
use bytes::Bytes;
use hyper::header::{HeaderValue, CACHE_CONTROL};
use hyper::{Method, Request, Response, StatusCode};
use std::sync::Arc;
use std::time::Instant;

/// Answers one request and counts it under its route.
pub(crate) async fn route<B>(req: Request<B>, app: &Arc<App>) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let get = method == Method::GET || method == Method::HEAD;
    let params = Params::parse(req.uri().query());
    let (label, resp) = match path.as_str() {
        "/write" => ("/write", write::handle(req, app).await),
        "/api/v2/write" => ("/api/v2/write", write::handle(req, app).await),
        "/query" if get || method == Method::POST => ("/query", query::handle(req, app).await),
        "/query" => (
            "/query",
            reply::method_not_allowed(&method, &path, "GET, POST"),
        ),
        p if p == "/queries" || p.starts_with("/queries/") => saved::route(req, app, p).await,
        "/health" if get => ("/health", health::handle(app)),
        "/metrics" if get => ("/metrics", metrics::handle(app)),
        "/ping" if get => ("/ping", ping()),
        "/debug/points" if get => ("/debug/points", debug::points(app, params).await),
        "/debug/series" if get => ("/debug/series", debug::series(app, params).await),
        "/debug/measurements" if get => ("/debug/measurements", debug::measurements(app).await),
        "/debug/rollup" if get => ("/debug/rollup", rollup::rollup(app, params).await),
        "/admin/flush" if method == Method::POST => ("/admin/flush", admin::flush(app).await),
        "/admin/flush" => (
            "/admin/flush",
            reply::method_not_allowed(&method, &path, "POST"),
        ),
        "/admin/compact" if method == Method::POST => ("/admin/compact", admin::compact(app).await),
        "/admin/compact" => (
            "/admin/compact",
            reply::method_not_allowed(&method, &path, "POST"),
        ),
        "/admin/retention" if get => ("/admin/retention", admin::retention(app)),
        "/admin/retention" if method == Method::PUT || method == Method::POST => {
            ("/admin/retention", admin::set_retention(app, &params))
        }
        "/admin/retention" => (
            "/admin/retention",
            reply::method_not_allowed(&method, &path, "GET, PUT"),
        ),
        "/health"
        | "/metrics"
        | "/ping"
        | "/debug/points"
        | "/debug/series"
        | "/debug/measurements"
        | "/debug/rollup" => {
            let label = known_label(&path);
            (
                label,
                reply::method_not_allowed(&method, &path, "GET, HEAD"),
            )
        }
        _ => match tally_ui::asset(&path).filter(|_| get) {
            Some(asset) => ("static", static_asset(asset)),
            None => ("other", not_found(&method, &path)),
        },
    };
    app.metrics.http_request(label, resp.status().as_u16());
    tracing::debug!(
        method = %method,
        path = %path,
        status = resp.status().as_u16(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
        "request"
    );
    resp
}

fn known_label(path: &str) -> &'static str {
    match path {
        "/health" => "/health",
        "/metrics" => "/metrics",
        "/ping" => "/ping",
        "/debug/points" => "/debug/points",
        "/debug/series" => "/debug/series",
        "/debug/rollup" => "/debug/rollup",
        _ => "/debug/measurements",
    }
}

/// `GET /ping`: 204, as InfluxDB answers it, for clients that check the server is up.
fn ping() -> Response<Body> {
    let mut r = reply::no_content();
    r.headers_mut().insert(
        "X-Tally-Version",
        HeaderValue::from_static(env!("CARGO_PKG_VERSION")),
    );
    r
}

fn static_asset(asset: &tally_ui::Asset) -> Response<Body> {
    let mut r = reply::bytes(
        StatusCode::OK,
        asset.content_type,
        Bytes::from_static(asset.body),
    );
    // Assets change with the binary; revalidating each load is cheap on loopback.
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

fn not_found(method: &Method, path: &str) -> Response<Body> {
    reply::error(
        StatusCode::NOT_FOUND,
        format!(
            "no route for {method} {path}; tally serves the dashboard at /, POST /write, \
             GET|POST /query?q=QUERY, GET /queries (saved queries), GET /health, GET /metrics, \
             GET /debug/points?measurement=NAME, \
             GET /debug/rollup?measurement=NAME, GET|PUT /admin/retention, POST /admin/flush, \
             POST /admin/compact"
        ),
    )
}
