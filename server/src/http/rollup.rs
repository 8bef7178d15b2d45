//! `GET /debug/rollup`: aggregates through the rollup tiers, as the query layer will see them.
//!
//! `?measurement=M[&field=F ...][&tag=KEY:VALUE ...][&from=NS][&to=NS][&width=5m][&group_by=K,K]`
//! answers `{"sources": [{"from": ns, "to": ns, "level": "1h"}, ...], "recomputed_buckets": n,
//! "projection": ["endpoint"]|null, "groups": [{"tags": {..}, "fields": {"F": [{"start": ns,
//! "count": n, "sum": x, "min": x, "max": x, "p50": x|null, "p95": x|null, "p99": x|null}]}}]}`.
//! Without `group_by` every series is its own group (its tags); with it, groups are the values of
//! those tag keys, and `projection` names the reduced-dimension rollups that served them, if any.
//!
//! `field` left out means every numeric field; `from`/`to` (ns, `[from, to)`) left out mean
//! unbounded; `width` (a duration: `90s`, `5m`, `1h`, `1d`) left out means one bucket for the
//! whole range, starting at `from`. Buckets are aligned to the Unix epoch. Quantiles are `null`
//! for fields without a sketch (only `latency*` and `[storage] distribution_fields` have one).
//! `sources` says which level served each piece of the range: rollup tiers inside, raw points
//! at unaligned edges.

use super::debug::float_json;
use super::params::Params;
use super::reply::{self, Body};
use crate::app::App;
use hyper::{Response, StatusCode};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tally_engine::rollup::RollupBucket;
use tally_engine::{EngineError, RollupAnswer, RollupQuery, Selector, TimeRange};

/// The parameters `/debug/rollup` accepts.
const PARAMS: [&str; 7] = [
    "measurement",
    "field",
    "tag",
    "from",
    "to",
    "width",
    "group_by",
];

/// Quantiles reported per bucket, with their JSON keys.
const QUANTILES: [(&str, f64); 3] = [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)];

/// A checked `/debug/rollup` request.
#[derive(Debug)]
struct Request {
    measurement: String,
    selector: Selector,
    range: TimeRange,
    width: Option<Duration>,
    fields: Vec<String>,
    group_by: Option<Vec<String>>,
}

/// Answers `/debug/rollup`.
pub(crate) async fn rollup(app: &Arc<App>, params: Params) -> Response<Body> {
    let req = match parse(&params) {
        Ok(r) => r,
        Err(msg) => return reply::error(StatusCode::BAD_REQUEST, msg),
    };
    let db = Arc::clone(&app.db);
    let measurement = req.measurement.clone();
    let answer = tokio::task::spawn_blocking(move || -> Result<Value, EngineError> {
        let names: Vec<&str> = req.fields.iter().map(String::as_str).collect();
        let by: Option<Vec<&str>> = req
            .group_by
            .as_ref()
            .map(|g| g.iter().map(String::as_str).collect());
        let a = db.rollup(&RollupQuery {
            selector: &req.selector,
            range: req.range,
            width: req.width,
            fields: (!names.is_empty()).then_some(&names[..]),
            group_by: by.as_deref(),
        })?;
        Ok(answer_json(&a))
    })
    .await;
    match answer {
        Ok(Ok(v)) => reply::json(StatusCode::OK, &v),
        Ok(Err(EngineError::InvalidQuery(msg))) => reply::error(
            StatusCode::BAD_REQUEST,
            format!("cannot answer /debug/rollup for {measurement}: {msg}"),
        ),
        Ok(Err(e)) => reply::error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("reading the rollups of {measurement} failed: {e}; see the server log"),
        ),
        Err(join) => reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error while reading rollups ({join}); this is a bug in tally, please report it with the server log"),
        ),
    }
}

/// Checks the parameters; the error names the parameter and how to write it.
fn parse(params: &Params) -> Result<Request, String> {
    const EXAMPLE: &str =
        "e.g. /debug/rollup?measurement=requests&field=latency_ms&from=1700000000000000000&to=1700003600000000000&width=5m";
    if let Some(k) = params.keys().find(|k| !PARAMS.contains(k)) {
        let hint = match k {
            "start" | "end" => "; the range here is from=NS&to=NS",
            _ => "",
        };
        return Err(format!(
            "unknown parameter '{k}' on /debug/rollup{hint}; it takes measurement, field, tag, from, to, width and group_by ({EXAMPLE})"
        ));
    }
    let measurement = match params.get("measurement") {
        Some(m) if !m.is_empty() => m.to_owned(),
        _ => {
            return Err(format!(
                "missing measurement; name one, see /debug/measurements ({EXAMPLE})"
            ))
        }
    };
    let selector = params.selector(&measurement)?;
    let range = params.time_range("from", "to")?;
    if range.start >= range.end {
        return Err(format!(
            "from ({}) is not before to ({}); the range is [from, to) in nanoseconds",
            range.start, range.end
        ));
    }
    let width = match params.get("width") {
        None => None,
        Some(w) => Some(crate::duration::parse(w).map_err(|e| {
            format!("bad width: {e}; e.g. width=5m, or leave width out for one bucket over the whole range")
        })?),
    };
    let fields: Vec<String> = params.all("field").map(str::to_owned).collect();
    if fields.iter().any(String::is_empty) {
        return Err(format!(
            "an empty field parameter; write field=NAME, or leave field out for every numeric field ({EXAMPLE})"
        ));
    }
    let group_by = match params.get("group_by") {
        None => None,
        Some(g) => {
            let keys: Vec<String> = g.split(',').map(|k| k.trim().to_owned()).collect();
            if keys.iter().any(String::is_empty) {
                return Err(format!(
                    "group_by '{g}' has an empty tag key; write group_by=endpoint or group_by=endpoint,status_class ({EXAMPLE})"
                ));
            }
            Some(keys)
        }
    };
    Ok(Request {
        measurement,
        selector,
        range,
        width,
        fields,
        group_by,
    })
}

/// The answer as JSON (the shape in the module doc).
fn answer_json(a: &RollupAnswer) -> Value {
    let sources: Vec<Value> = a
        .sources
        .iter()
        .map(|(r, s)| json!({ "from": r.start, "to": r.end, "level": s.name() }))
        .collect();
    let groups: Vec<Value> = a
        .groups
        .iter()
        .map(|s| {
            let mut m = Map::new();
            let tags: Map<String, Value> = s
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            m.insert("tags".to_owned(), Value::Object(tags));
            let fields: Map<String, Value> = s
                .fields
                .iter()
                .map(|f| {
                    let buckets = f.buckets.iter().map(bucket_json).collect();
                    (f.name.clone(), Value::Array(buckets))
                })
                .collect();
            m.insert("fields".to_owned(), Value::Object(fields));
            Value::Object(m)
        })
        .collect();
    json!({
        "sources": sources,
        "recomputed_buckets": a.recomputed_buckets,
        "projection": a.projection,
        "groups": groups,
    })
}

/// One bucket: `start`, `count`, `sum` (an exact integer when every value was one and it fits
/// in 64 bits), `min`, `max` and the quantiles (`null` without a sketch).
fn bucket_json(b: &RollupBucket) -> Value {
    let agg = &b.agg;
    let sum = agg
        .int_sum
        .and_then(|s| serde_json::Number::from_i128(s).map(Value::Number))
        .unwrap_or_else(|| float_json(agg.sum));
    let mut m = Map::new();
    m.insert("start".to_owned(), json!(b.start));
    m.insert("count".to_owned(), json!(agg.count));
    m.insert("sum".to_owned(), sum);
    m.insert("min".to_owned(), float_json(agg.min));
    m.insert("max".to_owned(), float_json(agg.max));
    for (key, q) in QUANTILES {
        let v = b
            .dist
            .as_ref()
            .and_then(|d| d.quantile(q))
            .map_or(Value::Null, float_json);
        m.insert(key.to_owned(), v);
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_engine::rollup::{exact_quantile, Aggregate, Distribution, RelativeAccuracy};

    #[test]
    fn parameters_parse_or_say_which_is_wrong() {
        let p = Params::parse(Some(
            "measurement=requests&field=latency_ms&field=bytes&tag=endpoint:/a&from=10&to=20&width=1h",
        ));
        let r = parse(&p).unwrap();
        assert_eq!(r.measurement, "requests");
        assert_eq!(r.fields, vec!["latency_ms", "bytes"]);
        assert_eq!(r.selector.predicates.len(), 1);
        assert_eq!(r.range, TimeRange::new(10, 20));
        assert_eq!(r.width, Some(Duration::from_secs(3_600)));
        let r = parse(&Params::parse(Some("measurement=m"))).unwrap();
        assert_eq!((r.range, r.width), (TimeRange::ALL, None));
        assert!(r.fields.is_empty());

        for (q, needle) in [
            ("field=x", "missing measurement"),
            ("measurement=", "missing measurement"),
            ("measurement=m&start=1", "from=NS&to=NS"),
            ("measurement=m&fields=x", "unknown parameter 'fields'"),
            ("measurement=m&from=x", "bad from 'x'"),
            ("measurement=m&to=1.5", "bad to '1.5'"),
            ("measurement=m&from=5&to=5", "not before"),
            ("measurement=m&width=5", "bad width"),
            ("measurement=m&width=0m", "bad width"),
            ("measurement=m&tag=nocolon", "bad tag filter"),
            ("measurement=m&field=", "empty field"),
        ] {
            let e = parse(&Params::parse(Some(q))).unwrap_err();
            assert!(e.contains(needle), "{q}: {e}");
        }
    }

    #[test]
    fn buckets_render_exact_integer_sums_and_quantiles() {
        let mut agg = Aggregate::new();
        agg.push_i64(i64::MAX);
        agg.push_i64(1);
        let b = RollupBucket {
            start: 60,
            agg,
            dist: None,
        };
        let j = bucket_json(&b);
        assert_eq!(j["sum"], json!(i64::MAX as i128 + 1));
        assert_eq!(
            (j["count"].clone(), j["p50"].clone()),
            (json!(2), Value::Null)
        );

        let mut agg = Aggregate::new();
        let mut dist = Distribution::new(RelativeAccuracy::DEFAULT);
        for v in [1.5, 2.5, 10.0] {
            agg.push(v);
            dist.push(v);
        }
        let j = bucket_json(&RollupBucket {
            start: 0,
            agg,
            dist: Some(dist),
        });
        assert_eq!(j["sum"], json!(14.0));
        assert_eq!(
            (j["min"].clone(), j["max"].clone()),
            (json!(1.5), json!(10.0))
        );
        for (key, q) in QUANTILES {
            let want = exact_quantile(&[1.5, 2.5, 10.0], q).unwrap();
            let got = j[key].as_f64().unwrap();
            assert!((got - want).abs() <= want * 0.01, "{key}: {got} vs {want}");
        }
    }
}
