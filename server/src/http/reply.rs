//! Building responses: JSON bodies, the `{"error": "..."}` shape every error uses, plain text.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode};
use serde_json::{json, Value};

/// The body type of every response.
pub(crate) type Body = Full<Bytes>;

/// `status` with a JSON body.
pub(crate) fn json(status: StatusCode, value: &Value) -> Response<Body> {
    let mut body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    body.push(b'\n');
    bytes(status, "application/json", body)
}

/// `status` with `{"error": message}`. The message says what happened and how to fix it.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response<Body> {
    json(status, &json!({ "error": message.into() }))
}

/// 204 No Content.
pub(crate) fn no_content() -> Response<Body> {
    let mut r = Response::new(Body::default());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

/// `status` with `body` of type `content_type`.
pub(crate) fn bytes(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// 405 with an `Allow` header, for a known path called with the wrong method.
pub(crate) fn method_not_allowed(
    method: &Method,
    path: &str,
    allowed: &'static str,
) -> Response<Body> {
    let mut r = error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not supported on {path}; use {allowed}"),
    );
    r.headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allowed));
    r
}
