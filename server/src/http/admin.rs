//! `POST /admin/flush`: write the in-memory head to segments now (tests, backups, before an
//! upgrade). `/admin/retention`: read and change raw retention per measurement at run time.

use super::params::Params;
use super::reply::{self, Body};
use crate::app::App;
use hyper::{Response, StatusCode};
use serde_json::json;
use std::sync::Arc;
use tracing::{error, info};

/// Runs a flush and answers `{"segments", "points", "bytes"}` of what it wrote.
pub(crate) async fn flush(app: &Arc<App>) -> Response<Body> {
    let db = Arc::clone(&app.db);
    match tokio::task::spawn_blocking(move || db.flush()).await {
        Ok(Ok(r)) => {
            info!(segments = r.segments, points = r.points, bytes = r.bytes, "flushed on request");
            reply::json(
                StatusCode::OK,
                &json!({ "segments": r.segments, "points": r.points, "bytes": r.bytes }),
            )
        }
        Ok(Err(e)) => {
            error!(error = %e, "flush on request failed");
            reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("flush failed: {e}; the data stays in the WAL and head, check disk space and permissions of {}", app.settings.data_dir.display()),
            )
        }
        Err(join) => reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error during flush ({join}); this is a bug in tally, please report it with the server log"),
        ),
    }
}

/// `GET /admin/retention`: `{"retention": {"<measurement>": "90d", ...}}` (measurements not
/// listed keep their points forever).
pub(crate) fn retention(app: &Arc<App>) -> Response<Body> {
    let map: serde_json::Map<String, serde_json::Value> = app
        .db
        .retention()
        .into_iter()
        .map(|(m, d)| (m, json!(crate::duration::format(d))))
        .collect();
    reply::json(StatusCode::OK, &json!({ "retention": map }))
}

/// `PUT /admin/retention?measurement=M&keep=7d` (`keep=forever` removes it): takes effect at
/// once for reads; the next compaction removes expired points from disk.
pub(crate) fn set_retention(app: &Arc<App>, params: &Params) -> Response<Body> {
    let Some(m) = params.get("measurement").filter(|m| !m.is_empty()) else {
        return reply::error(
            StatusCode::BAD_REQUEST,
            "missing measurement: PUT /admin/retention?measurement=requests&keep=90d".to_owned(),
        );
    };
    let keep = match params.get("keep") {
        Some("forever") => None,
        Some(text) => match crate::duration::parse(text) {
            Ok(d) => Some(d),
            Err(e) => return reply::error(StatusCode::BAD_REQUEST, format!("bad keep: {e}")),
        },
        None => {
            return reply::error(
                StatusCode::BAD_REQUEST,
                "missing keep: give a duration such as keep=90d, or keep=forever".to_owned(),
            )
        }
    };
    app.db.set_retention(m, keep);
    info!(measurement = m, keep = ?keep, "retention changed");
    retention(app)
}
