//! Builds the result [`Table`] of a `SELECT`: finishes the aggregate states of every group and
//! bucket (filling empty time buckets as `FILL` says), evaluates the output expressions, sorts
//! (`ORDER BY`), and applies `OFFSET` and `LIMIT`.

use super::agg::AggState;
use super::buckets::KeyFn;
use super::budget::Budget;
use super::plan::{AggPlan, OExpr, Plan};
use super::scalar::Scalar;
use super::scan::{GroupKey, Groups};
use super::QueryError;
use crate::ast::Fill;
use crate::table::{Cell, Column, ColumnType, Table};
use std::collections::{BTreeMap, BTreeSet};

fn eval(e: &OExpr, aggs: &[Scalar], tags: &[String], time: i64, keys: &[i64]) -> Scalar {
    match e {
        OExpr::Agg(i) => aggs.get(*i).cloned().unwrap_or(Scalar::Null),
        OExpr::Tag(i) => tags
            .get(*i)
            .map_or(Scalar::Null, |t| Scalar::Str(t.clone())),
        OExpr::Time => Scalar::Time(time),
        OExpr::Key(i) => keys.get(*i).map_or(Scalar::Null, |k| Scalar::Int(*k)),
        OExpr::Const(c) => c.clone(),
        OExpr::Binary(l, op, r) => {
            eval(l, aggs, tags, time, keys).binary(*op, &eval(r, aggs, tags, time, keys))
        }
        OExpr::Neg(x) => eval(x, aggs, tags, time, keys).neg(),
    }
}

/// The rows of an aggregate query, before sorting.
pub(crate) fn aggregate_rows(
    plan: &Plan,
    agg: &AggPlan,
    mut groups: Groups,
    budget: &Budget,
) -> Result<Vec<Vec<Scalar>>, QueryError> {
    let bucket = agg.keys.first().copied().filter(KeyFn::is_time_bucket);
    // With no tag grouping, the query has one group even when no point matched.
    if agg.tags.is_empty() && groups.combos.is_empty() {
        groups.combos.push(Vec::new());
    }
    // Which (combo, second key) pairs exist, to fill their empty buckets.
    let mut keyed: BTreeMap<GroupKey, Vec<AggState>> = BTreeMap::new();
    for (k, v) in groups.states.drain() {
        keyed.insert(k, v);
    }
    let mut series_keys: BTreeSet<(u32, i64)> = keyed.keys().map(|(c, _, k2)| (*c, *k2)).collect();
    // Groups come from the points (a tag combination without a point in the range has no
    // row, as in SQL and InfluxQL), except the one group of a query without GROUP BY tags,
    // which always answers (a count of 0), bucket by bucket when grouped by time only.
    if agg.tags.is_empty() && (agg.keys.is_empty() || (bucket.is_some() && agg.keys.len() == 1)) {
        for c in 0..groups.combos.len() as u32 {
            series_keys.insert((c, 0));
        }
    }
    let empty = || agg.new_states();
    let mut rows = Vec::new();
    let fill_empty = !matches!(plan.fill, Fill::None);
    // Combination order: by tag values.
    let mut order: Vec<u32> = (0..groups.combos.len() as u32).collect();
    order.sort_by(|a, b| groups.combos[*a as usize].cmp(&groups.combos[*b as usize]));
    let rank: BTreeMap<u32, usize> = order.iter().enumerate().map(|(r, c)| (*c, r)).collect();
    let mut todo: Vec<(usize, u32, i64)> = series_keys
        .iter()
        .map(|(c, k2)| (rank.get(c).copied().unwrap_or(0), *c, *k2))
        .collect();
    todo.sort();
    for (_, combo, k2) in todo {
        let tags = &groups.combos[combo as usize];
        let mut push = |k1: i64, states: Vec<AggState>, span: i64| -> Result<(), QueryError> {
            let finished: Vec<Scalar> = agg
                .aggs
                .iter()
                .zip(states)
                .map(|(a, s)| s.finish(a.func, span))
                .collect();
            let keys = [k1, k2];
            let mut row = Vec::with_capacity(plan.columns.len());
            let mut other_keys = Vec::new();
            for (i, k) in agg.keys.iter().enumerate() {
                if k.is_time_bucket() {
                    row.push(Scalar::Time(keys[i]));
                } else {
                    other_keys.push(keys[i]);
                }
            }
            row.extend(tags.iter().map(|t| Scalar::Str(t.clone())));
            row.extend(other_keys.iter().map(|k| Scalar::Int(*k)));
            let time = bucket.map_or(plan.range.start, |_| k1);
            for (_, e, _) in &agg.outputs {
                row.push(eval(e, &finished, tags, time, &keys));
            }
            rows.push(row);
            budget.check_rows(rows.len())
        };
        match bucket {
            Some(b) if fill_empty => {
                let mut t = b.key(plan.range.start, plan.tz);
                let end = plan.range.end;
                while t < end {
                    let next = b.next(t, plan.tz);
                    let states = keyed.remove(&(combo, t, k2)).unwrap_or_else(empty);
                    push(t, states, next - t)?;
                    if next <= t {
                        break;
                    }
                    t = next;
                }
            }
            Some(b) => {
                let here: Vec<GroupKey> = keyed
                    .range((combo, i64::MIN, i64::MIN)..=(combo, i64::MAX, i64::MAX))
                    .filter(|(k, _)| k.2 == k2)
                    .map(|(k, _)| *k)
                    .collect();
                for k in here {
                    if let Some(states) = keyed.remove(&k) {
                        push(k.1, states, b.next(k.1, plan.tz) - k.1)?;
                    }
                }
            }
            None => {
                // No time bucket: one row per (combination, other key).
                let span = plan.span;
                let here: Vec<GroupKey> = keyed
                    .range((combo, i64::MIN, i64::MIN)..=(combo, i64::MAX, i64::MAX))
                    .map(|(k, _)| *k)
                    .collect();
                if here.is_empty() && agg.keys.is_empty() {
                    push(0, empty(), span)?;
                }
                for k in here {
                    if let Some(states) = keyed.remove(&k) {
                        push(k.1, states, span)?;
                    }
                }
            }
        }
    }
    apply_fill(plan, agg, &mut rows, bucket.is_some());
    Ok(rows)
}

/// `FILL(value | previous | linear)` over the output columns of rows in one group; `FILL(null)`
/// and `FILL(none)` have nothing left to do.
fn apply_fill(plan: &Plan, agg: &AggPlan, rows: &mut [Vec<Scalar>], bucketed: bool) {
    if !bucketed {
        return;
    }
    let first_out = plan.columns.len() - agg.outputs.len();
    let group_cols = first_out;
    let same_group = |a: &[Scalar], b: &[Scalar]| a[1..group_cols] == b[1..group_cols];
    match &plan.fill {
        Fill::Integer(v) => fill_const(rows, first_out, Scalar::Int(*v)),
        Fill::Float(v) => fill_const(rows, first_out, Scalar::Float(*v)),
        Fill::Previous => {
            for i in 1..rows.len() {
                if !same_group(&rows[i - 1], &rows[i]) {
                    continue;
                }
                for c in first_out..rows[i].len() {
                    if rows[i][c] == Scalar::Null {
                        rows[i][c] = rows[i - 1][c].clone();
                    }
                }
            }
        }
        Fill::Linear => {
            for c in first_out..plan.columns.len() {
                let mut last: Option<usize> = None;
                for i in 0..rows.len() {
                    if last.is_some_and(|l| !same_group(&rows[l], &rows[i])) {
                        last = None;
                    }
                    if rows[i][c] == Scalar::Null {
                        continue;
                    }
                    if let Some(l) = last {
                        if i > l + 1 {
                            let (Some(a), Some(b)) = (rows[l][c].as_f64(), rows[i][c].as_f64())
                            else {
                                last = Some(i);
                                continue;
                            };
                            for (j, row) in rows.iter_mut().enumerate().take(i).skip(l + 1) {
                                let f = (j - l) as f64 / (i - l) as f64;
                                row[c] = Scalar::Float(a + (b - a) * f);
                            }
                        }
                    }
                    last = Some(i);
                }
            }
        }
        Fill::Null | Fill::None => {}
    }
}

fn fill_const(rows: &mut [Vec<Scalar>], from: usize, v: Scalar) {
    for r in rows {
        for c in r.iter_mut().skip(from) {
            if *c == Scalar::Null {
                *c = v.clone();
            }
        }
    }
}

/// Sorts, offsets, limits and types the rows into the result table.
pub(crate) fn finish(plan: &Plan, mut rows: Vec<Vec<Scalar>>, presorted: bool) -> Table {
    if !plan.order.is_empty() && !presorted {
        rows.sort_by(|a, b| {
            for &(c, desc) in &plan.order {
                let o = a[c].sort_cmp(&b[c]);
                let o = if desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    let rows: Vec<Vec<Scalar>> = rows
        .into_iter()
        .skip(plan.offset)
        .take(plan.limit.unwrap_or(usize::MAX))
        .collect();
    // A column's type is what its cells hold: integers that overflowed into floats make the
    // whole column float.
    let mut columns: Vec<Column> = plan
        .columns
        .iter()
        .map(|(name, ty)| Column {
            name: name.clone(),
            ty: *ty,
        })
        .collect();
    for (c, col) in columns.iter_mut().enumerate() {
        let has = |f: fn(&Scalar) -> bool| rows.iter().any(|r| f(&r[c]));
        if col.ty == ColumnType::Integer && has(|s| matches!(s, Scalar::Float(_))) {
            col.ty = ColumnType::Float;
        }
    }
    let types: Vec<ColumnType> = columns.iter().map(|c| c.ty).collect();
    let rows = rows
        .into_iter()
        .map(|r| {
            r.into_iter()
                .zip(&types)
                .map(|(v, ty)| cell_of(v, *ty))
                .collect()
        })
        .collect();
    Table { columns, rows }
}

/// The cell of `v` in a column of type `ty` (numbers converted to the column's kind; a value
/// of another kind, which a well-typed plan never makes, becomes null).
fn cell_of(v: Scalar, ty: ColumnType) -> Cell {
    match (ty, v) {
        (_, Scalar::Null) => Cell::Null,
        (ColumnType::Float, Scalar::Int(i)) => Cell::Float(i as f64),
        (ColumnType::Integer, Scalar::Float(f)) => Cell::Float(f),
        (ColumnType::Tag | ColumnType::String, Scalar::Str(s)) => Cell::String(s),
        (ColumnType::Time, Scalar::Int(t)) => Cell::Time(t),
        (_, v) => v.into_cell(),
    }
}
