//! Execution over raw points: reads the plan's series a partition (a day) at a time, rebuilds
//! points from the field columns, filters them and folds them into per-group aggregate states
//! (in parallel across partitions), or collects the rows of a raw select.

use super::agg::AggState;
use super::budget::Budget;
use super::plan::{AggPlan, PExpr, Plan, RawColumn};
use super::scalar::Scalar;
use super::timerange::DAY_NS;
use super::QueryError;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tally_engine::{Db, FieldColumn, SeriesId, TimeRange};

/// A group: the index of its tag combination and up to two time-derived keys.
pub(crate) type GroupKey = (u32, i64, i64);

/// Aggregate states by group, and the tag values of each combination.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    /// Tag values per combination, in the order of the plan's group tags.
    pub(crate) combos: Vec<Vec<String>>,
    /// The index of each combination in `combos`.
    index: HashMap<Vec<String>, u32>,
    pub(crate) states: HashMap<GroupKey, Vec<AggState>>,
}

impl Groups {
    /// The index of the combination of `keys`' values in `tags` (a missing tag is the empty
    /// value), adding it when new.
    pub(crate) fn combo(&mut self, keys: &[String], tags: &[(String, String)]) -> u32 {
        let values: Vec<String> = keys
            .iter()
            .map(|k| {
                tags.iter()
                    .find(|(t, _)| t == k)
                    .map_or(String::new(), |(_, v)| v.clone())
            })
            .collect();
        if let Some(&i) = self.index.get(&values) {
            return i;
        }
        let i = self.combos.len() as u32;
        self.index.insert(values.clone(), i);
        self.combos.push(values);
        i
    }
}

/// Folds one group's states into `states`.
fn merge_group(states: &mut HashMap<GroupKey, Vec<AggState>>, key: GroupKey, group: Vec<AggState>) {
    match states.get_mut(&key) {
        Some(mine) => {
            for (m, s) in mine.iter_mut().zip(group) {
                m.merge(s);
            }
        }
        None => {
            states.insert(key, group);
        }
    }
}

/// A series to read, with what is decided per series.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) id: SeriesId,
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) combo: u32,
    /// Per aggregate: whether its FILTER's tag part lets this series in.
    pub(crate) agg_ok: Vec<bool>,
}

/// The series of the plan (its tag condition applied), grouped into tag combinations.
pub(crate) fn targets(
    db: &Db,
    plan: &Plan,
    group_tags: &[String],
    groups: &mut Groups,
) -> Vec<Target> {
    let aggs: &[super::plan::AggSpec] = match &plan.body {
        super::plan::Body::Agg(a) => &a.aggs,
        super::plan::Body::Raw(_) => &[],
    };
    db.series(&plan.selector)
        .into_iter()
        .filter(|s| plan.series_cond.as_ref().is_none_or(|c| c.matches(&s.tags)))
        .map(|s| {
            let combo = groups.combo(group_tags, &s.tags);
            let agg_ok = aggs
                .iter()
                .map(|a| a.filter_series.as_ref().is_none_or(|c| c.matches(&s.tags)))
                .collect();
            Target {
                id: s.id,
                tags: s.tags,
                combo,
                agg_ok,
            }
        })
        .collect()
}

/// The range cut into day-aligned pieces (at most 512: longer ranges get longer pieces).
pub(crate) fn chunks(range: TimeRange) -> Vec<TimeRange> {
    if range.start >= range.end {
        return Vec::new();
    }
    let span = (range.end as i128 - range.start as i128) as u128;
    let days = span.div_ceil(DAY_NS as u128) + 1;
    let step = DAY_NS as i128 * (days.div_ceil(512) as i128);
    let mut out = Vec::new();
    let mut s = range.start as i128;
    let end = range.end as i128;
    while s < end {
        let aligned = (s.div_euclid(step) + 1) * step;
        let e = aligned.min(end);
        out.push(TimeRange::new(s as i64, e as i64));
        s = e;
    }
    out
}

/// One point while it is evaluated.
pub(crate) struct Row<'a> {
    pub(crate) t: i64,
    pub(crate) vals: &'a [Scalar],
    pub(crate) tags: &'a [(String, String)],
}

/// Evaluates a per-point expression.
pub(crate) fn eval(e: &PExpr, row: &Row<'_>) -> Scalar {
    match e {
        PExpr::Field(i) => row.vals.get(*i).cloned().unwrap_or(Scalar::Null),
        PExpr::Tag(k) => Scalar::Str(
            row.tags
                .iter()
                .find(|(t, _)| t == k)
                .map_or(String::new(), |(_, v)| v.clone()),
        ),
        PExpr::Time => Scalar::Time(row.t),
        PExpr::Const(c) => c.clone(),
        PExpr::Binary(l, op, r) => match op {
            crate::ast::BinaryOp::And => {
                Scalar::Bool(eval(l, row).is_true() && eval(r, row).is_true())
            }
            crate::ast::BinaryOp::Or => {
                Scalar::Bool(eval(l, row).is_true() || eval(r, row).is_true())
            }
            op => eval(l, row).binary(*op, &eval(r, row)),
        },
        PExpr::Neg(x) => eval(x, row).neg(),
        PExpr::Not(x) => match eval(x, row) {
            Scalar::Bool(b) => Scalar::Bool(!b),
            _ => Scalar::Null,
        },
        PExpr::In {
            expr,
            list,
            negated,
        } => {
            let v = eval(expr, row);
            if v == Scalar::Null {
                return Scalar::Bool(false);
            }
            let found = list
                .iter()
                .any(|x| v.compare(x) == Some(std::cmp::Ordering::Equal));
            Scalar::Bool(found != *negated)
        }
        PExpr::Match {
            expr,
            regex,
            negated,
        } => match eval(expr, row) {
            Scalar::Str(s) => Scalar::Bool(regex.is_match(&s) != *negated),
            _ => Scalar::Bool(false),
        },
    }
}

/// Calls `f` for every point of one series' columns, in time order, with the plan's fields
/// (null where the point lacks one). Points of an event series that share a timestamp are
/// paired in order.
fn for_each_point(
    cols: &[FieldColumn],
    slot_of: &[Option<usize>],
    nfields: usize,
    mut f: impl FnMut(i64, &[Scalar]),
) {
    let mut pos = vec![0usize; cols.len()];
    let mut vals = vec![Scalar::Null; nfields];
    loop {
        let mut t = i64::MAX;
        let mut any = false;
        for (c, col) in cols.iter().enumerate() {
            if let Some(&ts) = col.ts.get(pos[c]) {
                if !any || ts < t {
                    t = ts;
                    any = true;
                }
            }
        }
        if !any {
            return;
        }
        for v in vals.iter_mut() {
            *v = Scalar::Null;
        }
        for (c, col) in cols.iter().enumerate() {
            if col.ts.get(pos[c]) == Some(&t) {
                if let Some(slot) = slot_of[c] {
                    vals[slot] = Scalar::of(&col.values, pos[c]);
                }
                pos[c] += 1;
            }
        }
        f(t, &vals);
    }
}

fn column_bytes(cols: &[FieldColumn]) -> usize {
    cols.iter().map(|c| c.ts.len() * 16 + 24).sum()
}

/// Reads one piece of the range for every target.
fn read_piece(
    db: &Db,
    plan: &Plan,
    ids: &[SeriesId],
    piece: TimeRange,
) -> Result<Vec<Vec<FieldColumn>>, QueryError> {
    let names: Vec<&str> = plan.fields.iter().map(|(f, _)| f.as_str()).collect();
    // With no field named (count(*) alone), any field shows a point exists.
    let fields = (!names.is_empty()).then_some(names.as_slice());
    Ok(db.read_series(&plan.schema.measurement, ids, piece, fields)?)
}

fn slots(plan: &Plan, cols: &[FieldColumn]) -> Vec<Option<usize>> {
    cols.iter()
        .map(|c| plan.fields.iter().position(|(f, _)| *f == c.name))
        .collect()
}

/// Folds every matching point into per-group states, partitions in parallel.
pub(crate) fn aggregate(
    db: &Db,
    plan: &Plan,
    agg: &AggPlan,
    budget: &Budget,
) -> Result<Groups, QueryError> {
    let mut groups = Groups::default();
    let targets = targets(db, plan, &agg.tags, &mut groups);
    let ids: Vec<SeriesId> = targets.iter().map(|t| t.id).collect();
    let pieces = chunks(plan.range);
    let columnar = column_foldable(plan, agg);
    let next = AtomicUsize::new(0);
    let merged: Mutex<Result<HashMap<GroupKey, Vec<AggState>>, QueryError>> =
        Mutex::new(Ok(HashMap::new()));
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(pieces.len())
        .max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let result = (|| -> Result<HashMap<GroupKey, Vec<AggState>>, QueryError> {
                    let mut states: HashMap<GroupKey, Vec<AggState>> = HashMap::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&piece) = pieces.get(i) else {
                            return Ok(states);
                        };
                        budget.check_time()?;
                        if columnar {
                            fold_columns(
                                db,
                                plan,
                                agg,
                                &targets,
                                &ids,
                                piece,
                                &mut states,
                                budget,
                            )?;
                            continue;
                        }
                        let read = read_piece(db, plan, &ids, piece)?;
                        let bytes: usize = read.iter().map(|c| column_bytes(c)).sum();
                        budget.charge(bytes)?;
                        let folded = fold(plan, agg, &targets, &read, &mut states, budget);
                        budget.release(bytes);
                        folded?;
                    }
                })();
                let mut m = merged.lock().unwrap_or_else(|p| p.into_inner());
                match (&mut *m, result) {
                    (Ok(acc), Ok(states)) => {
                        for (key, group) in states {
                            merge_group(acc, key, group);
                        }
                    }
                    (Ok(_), Err(e)) => *m = Err(e),
                    (Err(_), _) => {}
                }
            });
        }
    });
    groups.states = merged.into_inner().unwrap_or_else(|p| p.into_inner())?;
    Ok(groups)
}

fn fold(
    plan: &Plan,
    agg: &AggPlan,
    targets: &[Target],
    read: &[Vec<FieldColumn>],
    states: &mut HashMap<GroupKey, Vec<AggState>>,
    budget: &Budget,
) -> Result<(), QueryError> {
    let per_group = 64 + agg.aggs.len() * 64;
    let mut grew = 0usize;
    let mut rows = 0usize;
    let mut outcome = Ok(());
    // Groups of this piece in an arena, found by a fast hash and, for consecutive points of
    // one series in one bucket (the common case), not looked up at all.
    let mut index: HashMap<GroupKey, usize, ahash::RandomState> = HashMap::default();
    let mut arena: Vec<(GroupKey, Vec<AggState>)> = Vec::new();
    let mut last: Option<(GroupKey, usize)> = None;
    for (target, cols) in targets.iter().zip(read) {
        if cols.is_empty() {
            continue;
        }
        let slot_of = slots(plan, cols);
        for_each_point(cols, &slot_of, plan.fields.len(), |t, vals| {
            if outcome.is_err() {
                return;
            }
            let row = Row {
                t,
                vals,
                tags: &target.tags,
            };
            if plan
                .point_cond
                .as_ref()
                .is_some_and(|c| !eval(c, &row).is_true())
            {
                return;
            }
            let key = agg.group_key(target.combo, t, plan.tz);
            let at = match last {
                Some((k, at)) if k == key => at,
                _ => {
                    let at = *index.entry(key).or_insert_with(|| {
                        grew += per_group;
                        arena.push((key, agg.new_states()));
                        arena.len() - 1
                    });
                    last = Some((key, at));
                    at
                }
            };
            let entry = &mut arena[at].1;
            for (i, a) in agg.aggs.iter().enumerate() {
                if !target.agg_ok[i] {
                    continue;
                }
                if a.filter_point
                    .as_ref()
                    .is_some_and(|c| !eval(c, &row).is_true())
                {
                    continue;
                }
                let v = a.arg.as_ref().map(|e| eval(e, &row));
                grew += entry[i].push(t, v.as_ref());
            }
            rows += 1;
            if rows.is_multiple_of(8192) {
                outcome = budget
                    .check_time()
                    .and_then(|()| budget.charge(std::mem::take(&mut grew)));
            }
        });
        outcome.clone_err()?;
    }
    for (key, group) in arena {
        merge_group(states, key, group);
    }
    budget.charge(grew)
}

/// The `EXPLAIN` line for an aggregate served by raw points.
pub(crate) fn served_by(plan: &Plan, agg: &AggPlan) -> &'static str {
    if column_foldable(plan, agg) {
        "served by: raw points (column scan)"
    } else {
        "served by: raw points"
    }
}

/// Whether every aggregate folds the values of one bare field on its own, so a piece can be
/// folded a stored column at a time ([`fold_columns`]) instead of point by point: no condition
/// on points (tags and time only), no per-point `FILTER`, and functions that need neither the
/// other fields of a point nor its timestamp.
fn column_foldable(plan: &Plan, agg: &AggPlan) -> bool {
    use super::plan::AggFunc;
    use tally_engine::FieldType;
    plan.point_cond.is_none()
        && !agg.aggs.is_empty()
        && agg.aggs.iter().all(|a| {
            let numeric = matches!(
                &a.field,
                Some((
                    _,
                    FieldType::Float | FieldType::Integer | FieldType::Unsigned
                ))
            );
            a.filter_point.is_none()
                && a.field.is_some()
                && match a.func {
                    AggFunc::Count => true,
                    AggFunc::Sum | AggFunc::Mean | AggFunc::Min | AggFunc::Max => numeric,
                    AggFunc::Quantile(_) => numeric,
                    _ => false,
                }
        })
}

/// Folds one piece of the range a stored column at a time (see [`column_foldable`]): each
/// aggregate's field is scanned once ([`Db::scan_field`]) and its values folded in runs that
/// share a group, with timestamps decoded only when a time key needs them or a column
/// straddles the piece's ends.
#[allow(clippy::too_many_arguments)]
fn fold_columns(
    db: &Db,
    plan: &Plan,
    agg: &AggPlan,
    targets: &[Target],
    ids: &[SeriesId],
    piece: TimeRange,
    states: &mut HashMap<GroupKey, Vec<AggState>>,
    budget: &Budget,
) -> Result<(), QueryError> {
    let per_group = 64 + agg.aggs.len() * 64;
    let need_ts = !agg.keys.is_empty();
    let mut groups: HashMap<GroupKey, Vec<AggState>, ahash::RandomState> = HashMap::default();
    let mut grew = 0usize;
    let mut fields: Vec<&str> = agg
        .aggs
        .iter()
        .filter_map(|a| a.field.as_ref().map(|(f, _)| f.as_str()))
        .collect();
    fields.sort_unstable();
    fields.dedup();
    for field in fields {
        let mine: Vec<usize> = (0..agg.aggs.len())
            .filter(|&i| agg.aggs[i].field.as_ref().is_some_and(|(f, _)| f == field))
            .collect();
        let key_of = |combo: u32, t: i64| agg.group_key(combo, t, plan.tz);
        let measurement = &plan.schema.measurement;
        db.scan_field(measurement, ids, piece, field, need_ts, |i, p| {
            let target = &targets[i];
            let mut fold = |key: GroupKey, rows: Range<usize>| {
                let entry = groups.entry(key).or_insert_with(|| {
                    grew += per_group;
                    agg.new_states()
                });
                for &a in &mine {
                    if target.agg_ok[a] {
                        grew += entry[a].push_column(p.values, rows.clone());
                    }
                }
            };
            match p.ts.filter(|_| need_ts) {
                None => fold((target.combo, 0, 0), p.rows.clone()),
                Some(ts) => {
                    // Runs of consecutive points in one group fold as one slice.
                    let mut start = 0;
                    while start < ts.len() {
                        let key = key_of(target.combo, ts[start]);
                        let mut end = start + 1;
                        while end < ts.len() && key_of(target.combo, ts[end]) == key {
                            end += 1;
                        }
                        fold(key, p.rows.start + start..p.rows.start + end);
                        start = end;
                    }
                }
            }
        })?;
        budget.check_time()?;
    }
    for (key, group) in groups {
        merge_group(states, key, group);
    }
    budget.charge(grew)
}

/// `Result<(), QueryError>` is not `Clone`; this takes the error out when there is one.
trait TakeErr {
    fn clone_err(&mut self) -> Result<(), QueryError>;
}

impl TakeErr for Result<(), QueryError> {
    fn clone_err(&mut self) -> Result<(), QueryError> {
        std::mem::replace(self, Ok(()))
    }
}

/// The rows of a raw select: time, then the plan's columns, in time order (then series order),
/// stopping once `want` rows are collected when that is known (no ORDER BY other than time).
pub(crate) fn select(
    db: &Db,
    plan: &Plan,
    cols: &[RawColumn],
    want: Option<usize>,
    descending: bool,
    budget: &Budget,
) -> Result<Vec<Vec<Scalar>>, QueryError> {
    let targets = targets(db, plan, &[], &mut Groups::default());
    let ids: Vec<SeriesId> = targets.iter().map(|t| t.id).collect();
    let mut pieces = chunks(plan.range);
    if descending {
        pieces.reverse();
    }
    let mut out: Vec<Vec<Scalar>> = Vec::new();
    let row_bytes = 32 + cols.len() * 32;
    for piece in pieces {
        budget.check_time()?;
        let read = read_piece(db, plan, &ids, piece)?;
        let mut here: Vec<(i64, usize, Vec<Scalar>)> = Vec::new();
        for (n, (target, series_cols)) in targets.iter().zip(&read).enumerate() {
            if series_cols.is_empty() {
                continue;
            }
            let slot_of = slots(plan, series_cols);
            for_each_point(series_cols, &slot_of, plan.fields.len(), |t, vals| {
                let row = Row {
                    t,
                    vals,
                    tags: &target.tags,
                };
                if plan
                    .point_cond
                    .as_ref()
                    .is_some_and(|c| !eval(c, &row).is_true())
                {
                    return;
                }
                here.push((t, n, cols.iter().map(|c| eval(&c.expr, &row)).collect()));
            });
        }
        here.sort_by_key(|(t, n, _)| (*t, *n));
        if descending {
            here.reverse();
        }
        budget.charge(here.len() * row_bytes)?;
        budget.check_rows(out.len() + here.len())?;
        out.extend(here.into_iter().map(|(_, _, r)| r));
        if want.is_some_and(|w| out.len() >= w) {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_tile_the_range_on_day_boundaries() {
        let r = TimeRange::new(DAY_NS / 2, 3 * DAY_NS + 5);
        let c = chunks(r);
        assert_eq!(c.first().map(|x| x.start), Some(r.start));
        assert_eq!(c.last().map(|x| x.end), Some(r.end));
        assert!(c.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(c[1].start, DAY_NS);
        assert!(chunks(TimeRange::new(5, 5)).is_empty());
        // A huge range still makes at most about 512 pieces.
        assert!(chunks(TimeRange::new(0, 10_000 * DAY_NS)).len() <= 514);
    }
}
