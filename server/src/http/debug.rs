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
use tally_engine::{
    ColumnValues, Db, EngineError, FieldColumn, Selector, SeriesInfo, TagPredicate, TimeRange,
};

/// Answers `/debug/points`.
pub(crate) async fn points(app: &Arc<App>, params: Params) -> Response<Body> {
    let Some(measurement) = params.get("measurement").filter(|m| !m.is_empty()) else {
        return reply::error(
            StatusCode::BAD_REQUEST,
            "missing measurement; call /debug/points?measurement=NAME (see /debug/measurements)",
        );
    };
    let sel = match selector(measurement, &params) {
        Ok(s) => s,
        Err(msg) => return reply::error(StatusCode::BAD_REQUEST, msg),
    };
    let range = match time_range(&params) {
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
        Some(m) => match selector(m, &params) {
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

/// The selector for `measurement` and the `tag=key:value` parameters (`key=value` also works).
fn selector(measurement: &str, params: &Params) -> Result<Selector, String> {
    let mut sel = Selector::measurement(measurement);
    for t in params.all("tag") {
        let Some((key, value)) = t.split_once(':').or_else(|| t.split_once('=')) else {
            return Err(format!(
                "bad tag filter '{t}'; write it as tag=KEY:VALUE, e.g. tag=host:a"
            ));
        };
        sel = sel.with(TagPredicate::Eq {
            key: key.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(sel)
}

/// `[start, end)` from the `start` and `end` parameters (ns; absent means unbounded).
fn time_range(params: &Params) -> Result<TimeRange, String> {
    let bound = |name: &str, default: i64| -> Result<i64, String> {
        match params.get(name) {
            None | Some("") => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                format!("bad {name} '{v}'; give nanoseconds since the epoch, e.g. {name}=1700000000000000000")
            }),
        }
    };
    Ok(TimeRange::new(
        bound("start", TimeRange::ALL.start)?,
        bound("end", TimeRange::ALL.end)?,
    ))
}

/// `{"id", "measurement", "tags"}` of a series.
fn series_json(s: &SeriesInfo) -> Map<String, Value> {
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
fn float_json(f: f64) -> Value {
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

    #[test]
    fn tag_filters_and_ranges_parse_or_explain() {
        let p = Params::parse(Some("tag=host:a&tag=dc=x&start=5&end=9"));
        let sel = selector("cpu", &p).unwrap();
        assert_eq!(sel.predicates.len(), 2);
        assert!(sel.predicates[1].matches("x"));
        assert_eq!(time_range(&p).unwrap(), TimeRange::new(5, 9));
        assert_eq!(time_range(&Params::default()).unwrap(), TimeRange::ALL);
        let bad = Params::parse(Some("tag=hosta&start=yesterday"));
        assert!(selector("cpu", &bad).unwrap_err().contains("hosta"));
        assert!(time_range(&bad).unwrap_err().contains("yesterday"));
    }
}
