//! Building responses: JSON bodies, the `{"error": "..."}` shape every error uses, plain text.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Frame, SizeHint};
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// The body of every response: whole bytes, or chunks that a producer sends while it writes
/// the answer (a large query result is streamed, never held serialized in full).
#[derive(Debug)]
pub(crate) enum Body {
    Full(Full<Bytes>),
    Chunks(mpsc::Receiver<Bytes>),
}

impl Default for Body {
    fn default() -> Self {
        Body::Full(Full::default())
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Full(f) => Pin::new(f).poll_frame(cx),
            // The producer dropping its sender ends the body.
            Body::Chunks(rx) => rx.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(f) => f.is_end_stream(),
            Body::Chunks(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(f) => f.size_hint(),
            Body::Chunks(_) => SizeHint::default(),
        }
    }
}

/// `status` with a body of type `content_type` whose chunks arrive on `chunks` (sent with
/// chunked transfer encoding; the body ends when the sender is dropped).
pub(crate) fn stream(
    status: StatusCode,
    content_type: &'static str,
    chunks: mpsc::Receiver<Bytes>,
) -> Response<Body> {
    let mut r = Response::new(Body::Chunks(chunks));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

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
    let mut r = Response::new(Body::Full(Full::new(body.into())));
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
