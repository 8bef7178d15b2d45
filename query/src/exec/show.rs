//! `SHOW MEASUREMENTS`, `SHOW TAG KEYS`, `SHOW TAG VALUES`, `SHOW FIELD KEYS`: tables built
//! from the engine's index and field types.

use super::names::{compile_regex, Schema};
use super::tags::TagCond;
use super::{QueryError, QueryOptions};
use crate::ast::{ShowFieldKeys, ShowMeasurements, ShowTagKeys, ShowTagValues, Source, TagKeys};
use crate::table::{Cell, Column, ColumnType, Table};
use tally_engine::{Db, FieldType, Selector};

fn column(name: &str, ty: ColumnType) -> Column {
    Column {
        name: name.to_owned(),
        ty,
    }
}

/// The measurements a `FROM` names (checked), or all of them.
fn measurements(db: &Db, from: Option<&Source>, text: &str) -> Result<Vec<String>, QueryError> {
    match from {
        Some(source) => Ok(vec![Schema::load(db, source, text)?.measurement]),
        None => Ok(db.measurements()),
    }
}

/// `SHOW MEASUREMENTS [WITH MEASUREMENT =~ /re/] [LIMIT n]`: one column, `name`.
pub(crate) fn show_measurements(
    db: &Db,
    s: &ShowMeasurements,
    text: &str,
) -> Result<Table, QueryError> {
    let regex = match &s.matching {
        Some(r) => Some(compile_regex(r, text)?),
        None => None,
    };
    let mut t = Table::new(vec![column("name", ColumnType::String)]);
    t.rows = db
        .measurements()
        .into_iter()
        .filter(|m| regex.as_ref().is_none_or(|r| r.is_match(m)))
        .take(limit(s.limit))
        .map(|m| vec![Cell::String(m)])
        .collect();
    Ok(t)
}

fn limit(l: Option<u64>) -> usize {
    l.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX))
}

/// `SHOW TAG KEYS [FROM m]`: `measurement`, `tagKey`.
pub(crate) fn show_tag_keys(db: &Db, s: &ShowTagKeys, text: &str) -> Result<Table, QueryError> {
    let mut t = Table::new(vec![
        column("measurement", ColumnType::String),
        column("tagKey", ColumnType::String),
    ]);
    for m in measurements(db, s.from.as_ref(), text)? {
        for k in db.tag_keys(&m) {
            t.rows.push(vec![Cell::String(m.clone()), Cell::String(k)]);
        }
    }
    Ok(t)
}

/// `SHOW FIELD KEYS [FROM m]`: `measurement`, `fieldKey`, `fieldType` (InfluxDB's type names).
pub(crate) fn show_field_keys(db: &Db, s: &ShowFieldKeys, text: &str) -> Result<Table, QueryError> {
    let mut t = Table::new(vec![
        column("measurement", ColumnType::String),
        column("fieldKey", ColumnType::String),
        column("fieldType", ColumnType::String),
    ]);
    for m in measurements(db, s.from.as_ref(), text)? {
        for (f, ty) in db.field_keys(&m) {
            let ty = match ty {
                FieldType::Float => "float",
                FieldType::Integer => "integer",
                FieldType::Unsigned => "unsigned",
                FieldType::Boolean => "boolean",
                FieldType::String => "string",
            };
            t.rows.push(vec![
                Cell::String(m.clone()),
                Cell::String(f),
                Cell::String(ty.into()),
            ]);
        }
    }
    Ok(t)
}

/// `SHOW TAG VALUES [FROM m] WITH KEY ... [WHERE tag condition]`: `measurement`, `key`,
/// `value`, the values of series matching the condition.
pub(crate) fn show_tag_values(
    db: &Db,
    s: &ShowTagValues,
    text: &str,
    opts: &QueryOptions,
) -> Result<Table, QueryError> {
    let keys: Vec<&crate::ast::Ident> = match &s.keys {
        TagKeys::Eq(k) => vec![k],
        TagKeys::In(ks) => ks.iter().collect(),
    };
    let mut t = Table::new(vec![
        column("measurement", ColumnType::String),
        column("key", ColumnType::String),
        column("value", ColumnType::String),
    ]);
    for m in measurements(db, s.from.as_ref(), text)? {
        let schema = Schema {
            measurement: m.clone(),
            tags: db.tag_keys(&m),
            fields: db.field_keys(&m),
        };
        let cond = match &s.condition {
            Some(c) => Some(TagCond::compile(c, &schema, text, &opts.params)?),
            None => None,
        };
        let mut keys_here: Vec<&str> = keys
            .iter()
            .map(|k| k.name.as_str())
            .filter(|k| schema.tags.iter().any(|t| t == k))
            .collect();
        keys_here.sort_unstable();
        keys_here.dedup();
        if keys_here.is_empty() {
            continue;
        }
        let sel = Selector {
            measurement: m.clone(),
            predicates: cond.as_ref().map(TagCond::predicates).unwrap_or_default(),
        };
        let mut values: Vec<std::collections::BTreeSet<String>> =
            vec![Default::default(); keys_here.len()];
        for series in db.series(&sel) {
            if cond.as_ref().is_some_and(|c| !c.matches(&series.tags)) {
                continue;
            }
            for (i, k) in keys_here.iter().enumerate() {
                if let Some((_, v)) = series.tags.iter().find(|(tk, _)| tk == k) {
                    values[i].insert(v.clone());
                }
            }
        }
        for (k, vs) in keys_here.iter().zip(values) {
            for v in vs {
                t.rows.push(vec![
                    Cell::String(m.clone()),
                    Cell::String((*k).to_owned()),
                    Cell::String(v),
                ]);
            }
        }
    }
    Ok(t)
}
