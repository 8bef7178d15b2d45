//! `POST /admin/flush`: write the in-memory head to segments now (tests, backups, before an
//! upgrade).

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
