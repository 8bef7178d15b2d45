//! Debug reads until the query language lands: raw points and the series list, as JSON.
//!
//! - `GET /debug/points?measurement=M[&tag=key:value ...][&field=f ...][&start=ns][&end=ns]`
//!   answers `{"series":[{"id":1,"measurement":"m","tags":{"k":"v"},
//!   "fields":{"f":{"type":"float","ts":[...],"values":[...]}}}]}`. Floats that are not finite
//!   are the strings `"NaN"`, `"+Inf"`, `"-Inf"` (JSON has no such numbers).
//! - `GET /debug/series[?measurement=M][&tag=key:value ...]` answers the same without `fields`.
//! - `GET /debug/measurements` answers `{"measurements":[...]}`.

use super::params::Params;
use super::reply::{self, Body};
use crate::app::App;
use hyper::{Response, StatusCode};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use tally_engine::{ColumnValues, Db, EngineError, FieldColumn, Selector, SeriesInfo};

/// Answers `/debug/points`.
pub(crate) async fn points(app: &Arc<App>, params: Params) -> Response<Body> {
    let Some(measurement) = params.get("measurement").filter(|m| !m.is_empty()) else {
        return reply::error(
            StatusCode::BAD_REQUEST,
            "missing measurement; call /debug/points?measurement=NAME (see /debug/measurements)",
        );
    };
    let sel = match params.selector(measurement) {
        Ok(s) => s,
        Err(msg) => return reply::error(StatusCode::BAD_REQUEST, msg),
    };
    let range = match params.time_range("start", "end") {
        Ok(r) => r,
        Err(msg) => return reply::error(StatusCode::BAD_REQUEST, msg),
    };
    let fields: Vec<String> = params.all("field").map(str::to_owned).collect();
    let db = Arc::clone(&app.db);
    let read = tokio::task::spawn_blocking(move || -> Result<Value, EngineError> {
        let names: Vec<&str> = fields.iter().map(String::as_str).collect();
        let data = db.read(&sel, range, (!names.is_empty()).then_some(&names[..]))?;
        let series = data
            .iter()
            .map(|d| {
                let mut s = series_json(&d.series);
                let cols: Map<String, Value> = d
                    .fields
                    .iter()
                    .map(|c| (c.name.clone(), column_json(c)))
                    .collect();
                s.insert("fields".to_owned(), Value::Object(cols));
                Value::Object(s)
            })
            .collect::<Vec<_>>();
        Ok(json!({ "series": series }))
    })
    .await;
    match read {
        Ok(Ok(v)) => reply::json(StatusCode::OK, &v),
        Ok(Err(e)) => reply::error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("reading {measurement} failed: {e}"),
        ),
        Err(join) => reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error while reading ({join}); this is a bug in tally, please report it with the server log"),
        ),
    }
}

/// Answers `/debug/series`.
pub(crate) async fn series(app: &Arc<App>, params: Params) -> Response<Body> {
    let measurement = params.get("measurement").filter(|m| !m.is_empty());
    let selectors = match measurement {
        Some(m) => match params.selector(m) {
            Ok(s) => vec![s],
            Err(msg) => return reply::error(StatusCode::BAD_REQUEST, msg),
        },
        None => Vec::new(),
    };
    let db = Arc::clone(&app.db);
    let all = measurement.is_none();
    let listed = tokio::task::spawn_blocking(move || list_series(&db, selectors, all)).await;
    match listed {
        Ok(series) => reply::json(StatusCode::OK, &json!({ "series": series })),
        Err(join) => reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error while listing series ({join}); this is a bug in tally, please report it with the server log"),
        ),
    }
}

fn list_series(db: &Db, mut selectors: Vec<Selector>, all: bool) -> Vec<Value> {
    if all {
        selectors = db
            .measurements()
            .into_iter()
            .map(Selector::measurement)
            .collect();
    }
    selectors
        .iter()
        .flat_map(|sel| db.series(sel))
        .map(|s| Value::Object(series_json(&s)))
        .collect()
}

/// Answers `/debug/measurements`.
pub(crate) async fn measurements(app: &Arc<App>) -> Response<Body> {
    let db = Arc::clone(&app.db);
    match tokio::task::spawn_blocking(move || db.measurements()).await {
        Ok(m) => reply::json(StatusCode::OK, &json!({ "measurements": m })),
        Err(join) => reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error while listing measurements ({join}); this is a bug in tally, please report it with the server log"),
        ),
    }
}

/// `{"id", "measurement", "tags"}` of a series.
pub(super) fn series_json(s: &SeriesInfo) -> Map<String, Value> {
    let tags: Map<String, Value> = s
        .tags
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let mut m = Map::new();
    m.insert("id".to_owned(), json!(s.id.0));
    m.insert("measurement".to_owned(), json!(s.measurement));
    m.insert("tags".to_owned(), Value::Object(tags));
    m
}

/// `{"type", "ts", "values"}` of a column.
fn column_json(c: &FieldColumn) -> Value {
    let values: Vec<Value> = match &c.values {
        ColumnValues::Float(v) => v.iter().map(|&f| float_json(f)).collect(),
        ColumnValues::Integer(v) => v.iter().map(|&i| json!(i)).collect(),
        ColumnValues::Unsigned(v) => v.iter().map(|&u| json!(u)).collect(),
        ColumnValues::Boolean(v) => v.iter().map(|&b| json!(b)).collect(),
        ColumnValues::String(v) => v.iter().map(|s| json!(s)).collect(),
    };
    json!({
        "type": c.values.field_type().name(),
        "ts": c.ts,
        "values": values,
    })
}

/// A float as JSON: a number if finite, else `"NaN"`, `"+Inf"` or `"-Inf"`.
pub(super) fn float_json(f: f64) -> Value {
    if f.is_nan() {
        json!("NaN")
    } else if f == f64::INFINITY {
        json!("+Inf")
    } else if f == f64::NEG_INFINITY {
        json!("-Inf")
    } else {
        json!(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_engine::SeriesId;

    #[test]
    fn columns_render_every_type_and_non_finite_floats() {
        let c = FieldColumn {
            name: "f".into(),
            ts: vec![1, 2, 3, 4],
            values: ColumnValues::Float(vec![0.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY]),
        };
        assert_eq!(
            column_json(&c),
            json!({"type": "float", "ts": [1, 2, 3, 4], "values": [0.5, "NaN", "+Inf", "-Inf"]})
        );
        let c = FieldColumn {
            name: "u".into(),
            ts: vec![i64::MIN],
            values: ColumnValues::Unsigned(vec![u64::MAX]),
        };
        assert_eq!(
            column_json(&c),
            json!({"type": "unsigned", "ts": [i64::MIN], "values": [u64::MAX]})
        );
        let c = FieldColumn {
            name: "s".into(),
            ts: vec![5],
            values: ColumnValues::String(vec!["a\"b".into()]),
        };
        assert_eq!(column_json(&c)["values"][0], "a\"b");
    }

    #[test]
    fn series_json_has_id_measurement_tags() {
        let s = SeriesInfo {
            id: SeriesId(7),
            measurement: "cpu".into(),
            tags: vec![("host".into(), "a".into())],
        };
        assert_eq!(
            Value::Object(series_json(&s)),
            json!({"id": 7, "measurement": "cpu", "tags": {"host": "a"}})
        );
    }
}
