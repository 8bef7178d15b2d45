//! Admin calls:
//! - `POST /admin/flush`: write the in-memory head to segments now (tests, backups, before an
//!   upgrade); answers `{"segments", "rollup_files", "points", "bytes"}`.
//! - `POST /admin/compact`: run a compaction round now (merge segments, drop expired data,
//!   rebuild rollups); answers `{"partitions", "files_replaced", "bytes_read", "bytes_written"}`.
//! - `GET /admin/retention`: the retention in force, in the shape of [`crate::retention`].
//! - `PUT /admin/retention?level=raw|1m|1h|1d&keep=7d|forever|default[&measurement=M]`: change
//!   it at run time (not written back to the config file), answered like `GET`.

use super::params::Params;
use super::reply::{self, Body};
use crate::app::App;
use hyper::{Response, StatusCode};
use serde_json::json;
use std::sync::Arc;
use tally_engine::{EngineError, Level};
use tracing::{error, info};

/// Runs a flush and answers what it wrote.
pub(crate) async fn flush(app: &Arc<App>) -> Response<Body> {
    let db = Arc::clone(&app.db);
    match tokio::task::spawn_blocking(move || db.flush()).await {
        Ok(Ok(r)) => {
            info!(
                segments = r.segments,
                rollup_files = r.rollup_files,
                points = r.points,
                bytes = r.bytes,
                "flushed on request"
            );
            reply::json(
                StatusCode::OK,
                &json!({
                    "segments": r.segments,
                    "rollup_files": r.rollup_files,
                    "points": r.points,
                    "bytes": r.bytes,
                }),
            )
        }
        Ok(Err(e)) => {
            error!(error = %e, "flush on request failed");
            reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("flush failed: {e}; the data stays in the WAL and head, check disk space and permissions of {}", app.settings.data_dir.display()),
            )
        }
        Err(join) => internal("flush", &join),
    }
}

/// Runs a compaction round and answers what it did.
pub(crate) async fn compact(app: &Arc<App>) -> Response<Body> {
    let db = Arc::clone(&app.db);
    match tokio::task::spawn_blocking(move || db.compact()).await {
        Ok(Ok(r)) => {
            info!(
                partitions = r.partitions,
                files_replaced = r.files_replaced,
                bytes_read = r.bytes_read,
                bytes_written = r.bytes_written,
                "compacted on request"
            );
            reply::json(
                StatusCode::OK,
                &json!({
                    "partitions": r.partitions,
                    "files_replaced": r.files_replaced,
                    "bytes_read": r.bytes_read,
                    "bytes_written": r.bytes_written,
                }),
            )
        }
        Ok(Err(e)) => {
            error!(error = %e, "compaction on request failed");
            let how = match e {
                EngineError::Closed(_) => "the server is shutting down; retry once it runs again".to_owned(),
                _ => format!(
                    "the files it would replace keep serving; check disk space and permissions of {} and the server log, then retry",
                    app.settings.data_dir.display()
                ),
            };
            reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("POST /admin/compact failed: {e}; {how}"),
            )
        }
        Err(join) => internal("compaction", &join),
    }
}

fn internal(what: &str, join: &tokio::task::JoinError) -> Response<Body> {
    reply::error(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("internal error during {what} ({join}); this is a bug in tally, please report it with the server log"),
    )
}

/// `GET /admin/retention`: the policy in force, plus the run-time changes that override the
/// config file (kept in the data directory across restarts).
pub(crate) fn retention(app: &Arc<App>) -> Response<Body> {
    let mut body = crate::retention::policy_json(&app.db.retention());
    let changes: Vec<serde_json::Value> = app
        .db
        .retention_layers()
        .changes
        .iter()
        .map(|((m, level), keep)| {
            json!({
                "measurement": m,
                "level": level.name(),
                "keep": crate::retention::format_keep(*keep),
            })
        })
        .collect();
    if let Some(obj) = body.as_object_mut() {
        obj.insert("changed_at_run_time".to_owned(), json!(changes));
    }
    reply::json(StatusCode::OK, &body)
}

/// The parameters `PUT /admin/retention` accepts.
const SET_PARAMS: [&str; 3] = ["level", "keep", "measurement"];

/// `PUT /admin/retention`: takes effect at once for reads; the next compaction removes expired
/// data from disk.
pub(crate) fn set_retention(app: &Arc<App>, params: &Params) -> Response<Body> {
    match parse_set(params) {
        Ok((measurement, level, keep)) => {
            if let Err(e) = app.db.set_retention(measurement, level, keep) {
                error!(error = %e, "saving a retention change failed");
                return reply::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("the retention change was not applied: {e}; check that the data directory {} is writable", app.settings.data_dir.display()),
                );
            }
            info!(
                measurement = measurement.unwrap_or("(default)"),
                level = level.name(),
                keep = keep.map_or_else(|| "default".to_owned(), crate::retention::format_keep),
                "retention changed"
            );
            retention(app)
        }
        Err(msg) => reply::error(StatusCode::BAD_REQUEST, msg),
    }
}

/// The measurement (`None`: the default of all), level and keep (`None`: drop the override) of
/// a `PUT /admin/retention`, or what is wrong with it.
fn parse_set(params: &Params) -> Result<(Option<&str>, Level, Option<tally_engine::Keep>), String> {
    const EXAMPLE: &str = "e.g. PUT /admin/retention?level=raw&keep=30d&measurement=requests";
    if let Some(unknown) = params.keys().find(|k| !SET_PARAMS.contains(k)) {
        // A misspelt `measurement` would otherwise change the default of every measurement.
        return Err(format!(
            "unknown parameter '{unknown}' on /admin/retention; it takes level, keep and measurement ({EXAMPLE})"
        ));
    }
    let measurement = match params.get("measurement") {
        None => None,
        Some("") => {
            return Err(format!(
                "measurement is empty; name one, or leave measurement out to change the default of every measurement ({EXAMPLE})"
            ))
        }
        Some(m) => Some(m),
    };
    let level = match params.get("level") {
        None => Level::Raw,
        Some(l) => Level::parse(l).ok_or_else(|| {
            format!("bad level '{l}'; use raw, 1m, 1h or 1d (raw when left out) ({EXAMPLE})")
        })?,
    };
    let keep = match params.get("keep") {
        None | Some("") => {
            return Err(format!(
                "missing keep: give a duration such as keep=90d or keep=2y, keep=forever, or keep=default to drop the run-time change so the config file's value applies again ({EXAMPLE})"
            ))
        }
        Some("default") => None,
        Some(text) => Some(
            crate::retention::parse_keep(text).map_err(|e| format!("bad keep: {e} ({EXAMPLE})"))?,
        ),
    };
    Ok((measurement, level, keep))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tally_engine::Keep;

    fn parse(q: &str) -> Result<(Option<String>, Level, Option<Keep>), String> {
        let p = Params::parse(Some(q));
        parse_set(&p).map(|(m, l, k)| (m.map(str::to_owned), l, k))
    }

    #[test]
    fn set_parameters_parse() {
        let days = |n: u64| Keep::For(Duration::from_secs(n * 86_400));
        assert_eq!(parse("keep=7d").unwrap(), (None, Level::Raw, Some(days(7))));
        assert_eq!(
            parse("level=1h&keep=2y&measurement=cost").unwrap(),
            (Some("cost".into()), Level::ALL[2], Some(days(730)))
        );
        assert_eq!(
            parse("level=1d&keep=forever").unwrap(),
            (None, Level::ALL[3], Some(Keep::Forever))
        );
        assert_eq!(
            parse("measurement=cost&keep=default&level=1m").unwrap(),
            (Some("cost".into()), Level::ALL[1], None)
        );
        assert_eq!(parse("keep=default").unwrap(), (None, Level::Raw, None));
    }

    #[test]
    fn each_bad_parameter_is_named() {
        for (q, needle) in [
            ("keep=7d&measurment=cost", "measurment"),
            ("keep=7d&level=week", "bad level 'week'"),
            ("keep=7q", "bad keep"),
            ("level=raw", "missing keep"),
            ("keep=", "missing keep"),
            ("keep=7d&measurement=", "measurement is empty"),
        ] {
            let e = parse(q).unwrap_err();
            assert!(e.contains(needle), "{q}: {e}");
        }
    }
}
