//! `GET /metrics`: the engine's stats and the server's counters in Prometheus text format.

use super::reply::{self, Body};
use crate::app::App;
use hyper::{Response, StatusCode};

/// Answers `GET /metrics`.
pub(crate) fn handle(app: &App) -> Response<Body> {
    let text = app.metrics.render(&app.db.stats(), app.started.elapsed());
    reply::bytes(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        text,
    )
}
