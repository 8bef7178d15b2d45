//! The HTTP API: accepting connections (HTTP/1.1 and HTTP/2), routing, and the handlers.
//!
//! Routes: `POST /write` and `/api/v2/write` ([`write`]), `GET|POST /query` ([`query`]),
//! saved queries under `/queries` ([`saved`]), `GET /health` ([`health`]),
//! `GET /metrics` ([`metrics`]), `GET /ping`, `GET /debug/points|series|measurements`
//! ([`debug`]), `GET /debug/rollup` ([`rollup`]), `POST /admin/flush|compact` and
//! `GET|PUT /admin/retention` ([`admin`]), and the embedded dashboard at `/`.
//! Every error answer is JSON `{"error": "..."}`.

mod admin;
mod debug;
mod health;
mod metrics;
mod params;
mod query;
mod reply;
mod rollup;
mod router;
mod saved;
mod write;

pub(crate) use params::encode as encode_param;

use crate::app::App;
use crate::shutdown::Shutdown;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tracing::{debug, info, warn};

/// Serves HTTP on `listener` until `shutdown` fires, then stops accepting and waits up to
/// `grace` for in-flight requests to finish.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    mut shutdown: Shutdown,
    grace: Duration,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A timer lets hyper drop connections that never finish sending their headers.
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Usually out of file descriptors; back off instead of spinning.
                        warn!(error = %e, "accepting an HTTP connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = Arc::clone(&app);
                let service = service_fn(move |req| {
                    let app = Arc::clone(&app);
                    async move { Ok::<_, Infallible>(router::route(req, &app).await) }
                });
                let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        debug!(peer = %peer, error = %e, "HTTP connection ended with an error");
                    }
                });
            }
            _ = shutdown.wait() => break,
        }
    }
    drop(listener);
    info!(
        connections = graceful.count(),
        "HTTP: stopped accepting; finishing in-flight requests"
    );
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        warn!(
            grace_s = grace.as_secs(),
            "HTTP: requests still running after the shutdown timeout; closing their connections"
        );
    }
}

#[cfg(test)]
mod tests;
