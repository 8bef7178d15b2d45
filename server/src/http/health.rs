//! `GET /health`: liveness plus the numbers a person checks first, and what start-up repaired.

use super::reply::{self, Body};
use crate::app::App;
use hyper::{Response, StatusCode};
use serde_json::{json, Value};
use tally_engine::RecoveryReport;

/// Answers `GET /health` with `{"status":"ok", "version", "uptime_s", "points_written",
/// "series", "segments", "wal_bytes", "recovery": {...}}`.
pub(crate) fn handle(app: &App) -> Response<Body> {
    let stats = app.db.stats();
    reply::json(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "uptime_s": app.started.elapsed().as_secs(),
            "points_written": stats.points_written,
            "series": stats.series,
            "segments": stats.segments,
            "wal_bytes": stats.wal_bytes,
            "head_points": stats.head_points,
            "recovery": recovery_json(app.db.recovery()),
        }),
    )
}

/// The recovery report as JSON: counts, and each truncated or quarantined file with the reason.
pub(crate) fn recovery_json(r: &RecoveryReport) -> Value {
    json!({
        "wal_records": r.wal_records,
        "wal_points": r.wal_points,
        "wal_truncated": r.wal_truncated.iter().map(|(file, kept, reason)| json!({
            "file": file.display().to_string(),
            "bytes_kept": kept,
            "reason": reason,
        })).collect::<Vec<_>>(),
        "quarantined": r.quarantined.iter().map(|(from, to, reason)| json!({
            "path": from.display().to_string(),
            "moved_to": to.display().to_string(),
            "reason": reason,
        })).collect::<Vec<_>>(),
        "segments": r.segments,
        "series": r.series,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn recovery_lists_files_and_reasons() {
        let r = RecoveryReport {
            wal_records: 3,
            wal_truncated: vec![(PathBuf::from("/d/wal/1.wal"), 10, "bad crc".into())],
            quarantined: vec![(
                PathBuf::from("/d/seg/a.seg"),
                PathBuf::from("/d/quarantine/a.seg"),
                "checksum".into(),
            )],
            ..RecoveryReport::default()
        };
        let v = recovery_json(&r);
        assert_eq!(v["wal_records"], 3);
        assert_eq!(v["wal_truncated"][0]["file"], "/d/wal/1.wal");
        assert_eq!(v["wal_truncated"][0]["bytes_kept"], 10);
        assert_eq!(v["quarantined"][0]["moved_to"], "/d/quarantine/a.seg");
        assert_eq!(v["quarantined"][0]["reason"], "checksum");
    }
}
