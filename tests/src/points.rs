//! The answer of `GET /debug/points`, parsed into plain structs.
//!
//! Shape: `{"series":[{"id":1,"measurement":"m","tags":{"k":"v"},
//! "fields":{"f":{"type":"float","ts":[...],"values":[...]}}}]}`.

use anyhow::{anyhow, Context, Result};
use serde_json::Value;
use std::collections::BTreeMap;

/// One series with its columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Series id.
    pub id: u64,
    /// Measurement.
    pub measurement: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Columns by field name.
    pub fields: BTreeMap<String, Column>,
}

/// One field column: parallel timestamps and values.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// `float`, `integer`, `unsigned`, `boolean` or `string`.
    pub ty: String,
    /// Timestamps in ns, ascending.
    pub ts: Vec<i64>,
    /// Values as JSON.
    pub values: Vec<Value>,
}

impl Series {
    /// The tag `key`, if set.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }

    /// The column of `field`, if the series has points of it.
    pub fn field(&self, field: &str) -> Option<&Column> {
        self.fields.get(field)
    }
}

impl Column {
    /// The values as i64 (integer, unsigned within range, or integral floats).
    pub fn i64s(&self) -> Result<Vec<i64>> {
        self.values
            .iter()
            .map(|v| {
                v.as_i64()
                    .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                    .ok_or_else(|| anyhow!("value {v} is not an integer"))
            })
            .collect()
    }

    /// The values as f64.
    pub fn f64s(&self) -> Result<Vec<f64>> {
        self.values
            .iter()
            .map(|v| {
                v.as_f64()
                    .ok_or_else(|| anyhow!("value {v} is not a number"))
            })
            .collect()
    }

    /// `(timestamp, value)` pairs.
    pub fn pairs(&self) -> impl Iterator<Item = (i64, &Value)> {
        self.ts.iter().copied().zip(self.values.iter())
    }
}

/// Parses a `/debug/points` (or `/debug/series`, which has no `fields`) answer.
pub(crate) fn parse_series_list(v: &Value) -> Result<Vec<Series>> {
    let list = v
        .get("series")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("no \"series\" array in {v}"))?;
    list.iter()
        .map(|s| parse_series(s).with_context(|| format!("series {s}")))
        .collect()
}

fn parse_series(s: &Value) -> Result<Series> {
    let id = s.get("id").and_then(Value::as_u64).unwrap_or_default();
    let measurement = s
        .get("measurement")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("no measurement"))?
        .to_owned();
    let mut tags = BTreeMap::new();
    if let Some(obj) = s.get("tags").and_then(Value::as_object) {
        for (k, v) in obj {
            let v = v
                .as_str()
                .ok_or_else(|| anyhow!("tag {k} is not a string"))?;
            tags.insert(k.clone(), v.to_owned());
        }
    }
    let mut fields = BTreeMap::new();
    if let Some(obj) = s.get("fields").and_then(Value::as_object) {
        for (name, col) in obj {
            fields.insert(
                name.clone(),
                parse_column(col).with_context(|| format!("field {name}"))?,
            );
        }
    }
    Ok(Series {
        id,
        measurement,
        tags,
        fields,
    })
}

fn parse_column(c: &Value) -> Result<Column> {
    let ty = c
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let ts = c
        .get("ts")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("no ts array"))?
        .iter()
        .map(|t| {
            t.as_i64()
                .ok_or_else(|| anyhow!("timestamp {t} is not an i64"))
        })
        .collect::<Result<Vec<_>>>()?;
    let values = c
        .get("values")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("no values array"))?
        .clone();
    if ts.len() != values.len() {
        return Err(anyhow!(
            "{} timestamps but {} values",
            ts.len(),
            values.len()
        ));
    }
    Ok(Column { ty, ts, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shape() {
        let v: Value = serde_json::from_str(
            r#"{"series":[{"id":1,"measurement":"m","tags":{"k":"v"},
                "fields":{"f":{"type":"float","ts":[1,2],"values":[0.5,2.0]}}}]}"#,
        )
        .unwrap();
        let s = parse_series_list(&v).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].tag("k"), Some("v"));
        let f = s[0].field("f").unwrap();
        assert_eq!(f.ts, vec![1, 2]);
        assert_eq!(f.f64s().unwrap(), vec![0.5, 2.0]);
        assert!(f.i64s().is_err());
        let bad: Value = serde_json::from_str(
            r#"{"series":[{"measurement":"m","fields":{"f":{"ts":[1],"values":[]}}}]}"#,
        )
        .unwrap();
        assert!(parse_series_list(&bad).is_err());
    }
}
