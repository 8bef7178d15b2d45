//! Serving aggregates from the engine's rollup tiers instead of raw points, when that gives
//! the same answer: count, sum, mean, min, max and rate of a numeric field, and quantiles of a
//! field with sketches (within the sketch's relative accuracy), with tag conditions the tag
//! index expresses exactly, grouped by tags and by time keys that whole rollup buckets decide.
//! `count(*)` and `rate(*)` read the point count the rollups keep per series. Anything else
//! (per-point filters, first/last, distinct counts, offsets that cut minutes) runs over raw
//! points.

use super::buckets::KeyFn;
use super::plan::{AggFunc, AggPlan, Plan};
use super::scan::{GroupKey, Groups};
use super::select::Served;
use super::tags::TagCond;
use super::QueryError;
use chrono::Offset;
use chrono::TimeZone as _;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tally_engine::rollup::POINTS_FIELD;
use tally_engine::{Db, FieldType, RollupQuery, Selector, TagPredicate};

const MINUTE: i64 = 60_000_000_000;
const HOUR: i64 = 60 * MINUTE;

/// The predicates that say exactly what `c` says, if it is a conjunction of simple ones.
pub(crate) fn exact(c: &TagCond) -> Option<Vec<TagPredicate>> {
    match c {
        TagCond::Pred(p) => Some(vec![p.clone()]),
        TagCond::And(cs) => {
            let mut out = Vec::new();
            for c in cs {
                out.extend(exact(c)?);
            }
            Some(out)
        }
        _ => None,
    }
}

/// The bucket width rollups are read at, if whole buckets of it decide every group key.
fn width(plan: &Plan, agg: &AggPlan) -> Option<Option<i64>> {
    let intervals: Vec<(i64, i64)> = agg
        .keys
        .iter()
        .filter_map(|k| match k {
            KeyFn::Interval { every, offset } => Some((*every, *offset)),
            _ => None,
        })
        .collect();
    let calendar = agg
        .keys
        .iter()
        .any(|k| !matches!(k, KeyFn::Interval { .. }));
    if !calendar {
        return match intervals.first() {
            None => Some(None),
            Some(&(every, 0)) if every % MINUTE == 0 => Some(Some(every)),
            Some(_) => None,
        };
    }
    // Calendar keys change only on whole local hours when the zone's offset is whole hours
    // (checked at both ends of the range; zones with half-hour offsets read raw points).
    let whole_hours = [plan.range.start, plan.range.end.saturating_sub(1)]
        .iter()
        .all(|&t| plan.tz.timestamp_nanos(t).offset().fix().local_minus_utc() % 3600 == 0);
    let intervals_ok = intervals
        .iter()
        .all(|&(every, offset)| every % HOUR == 0 && offset % HOUR == 0);
    (whole_hours && intervals_ok).then_some(Some(HOUR))
}

/// The rollup field that serves the aggregate, and whether it holds integers; `None` when
/// rollups cannot serve it. `count(*)` and `rate(*)` read the point count.
fn rollup_field<'a>(db: &Db, a: &'a super::plan::AggSpec) -> Option<(&'a str, bool)> {
    if a.filter_point.is_some() {
        return None;
    }
    let Some((name, ty)) = &a.field else {
        return match (a.func, &a.arg) {
            (AggFunc::Count | AggFunc::Rate { .. }, None) => Some((POINTS_FIELD, true)),
            _ => None,
        };
    };
    let int = match ty {
        FieldType::Float => false,
        FieldType::Integer | FieldType::Unsigned => true,
        FieldType::Boolean | FieldType::String => return None,
    };
    match a.func {
        AggFunc::Count
        | AggFunc::Sum
        | AggFunc::Mean
        | AggFunc::Min
        | AggFunc::Max
        | AggFunc::Rate { .. } => Some((name.as_str(), int)),
        AggFunc::Quantile(_) => db
            .options()
            .is_distribution_field(name)
            .then_some((name.as_str(), int)),
        AggFunc::First | AggFunc::Last | AggFunc::CountDistinct => None,
    }
}

struct Shape {
    width: Option<i64>,
    base: Vec<TagPredicate>,
    /// Per aggregate: its extra predicates (from FILTER).
    filters: Vec<Vec<TagPredicate>>,
}

fn shape_of(db: &Db, plan: &Plan, agg: &AggPlan) -> Option<Shape> {
    if plan.point_cond.is_some() || agg.aggs.is_empty() {
        return None;
    }
    let base = match &plan.series_cond {
        None => Vec::new(),
        Some(c) => exact(c)?,
    };
    let width = width(plan, agg)?;
    let mut filters = Vec::new();
    for a in &agg.aggs {
        rollup_field(db, a)?;
        filters.push(match &a.filter_series {
            None => Vec::new(),
            Some(c) => exact(c)?,
        });
    }
    Some(Shape {
        width,
        base,
        filters,
    })
}

/// How rollups would serve the plan (for `EXPLAIN`), if they can.
pub(crate) fn shape(db: &Db, plan: &Plan, agg: &AggPlan) -> Option<String> {
    let s = shape_of(db, plan, agg)?;
    Some(match s.width {
        None => "one bucket over the range".into(),
        Some(w) => format!("buckets of {} s", w / 1_000_000_000),
    })
}

/// The per-group states from rollups, or `None` when rollups cannot serve the plan.
pub(crate) fn aggregate(
    db: &Db,
    plan: &Plan,
    agg: &AggPlan,
    served: &mut Served,
) -> Result<Option<Groups>, QueryError> {
    let Some(shape) = shape_of(db, plan, agg) else {
        return Ok(None);
    };
    let mut groups = Groups::default();
    let mut states: HashMap<GroupKey, Vec<super::agg::AggState>> = HashMap::new();
    // One engine read per distinct FILTER, each for the fields its aggregates need.
    let mut by_filter: BTreeMap<String, (Vec<TagPredicate>, Vec<usize>)> = BTreeMap::new();
    for (i, f) in shape.filters.iter().enumerate() {
        let key = format!("{f:?}");
        by_filter
            .entry(key)
            .or_insert_with(|| (f.clone(), Vec::new()))
            .1
            .push(i);
    }
    let group_by: Vec<&str> = agg.tags.iter().map(String::as_str).collect();
    for (_, (extra, agg_ids)) in by_filter {
        let mut predicates = shape.base.clone();
        predicates.extend(extra);
        let selector = Selector {
            measurement: plan.schema.measurement.clone(),
            predicates,
        };
        let mut fields: Vec<&str> = agg_ids
            .iter()
            .filter_map(|&i| rollup_field(db, &agg.aggs[i]).map(|(f, _)| f))
            .collect();
        fields.sort_unstable();
        fields.dedup();
        let answer = db.rollup(&RollupQuery {
            selector: &selector,
            range: plan.range,
            width: shape
                .width
                .map(|w| Duration::from_nanos(u64::try_from(w).unwrap_or(u64::MAX))),
            fields: Some(&fields),
            group_by: Some(&group_by),
        })?;
        let pieces: Vec<&str> = answer.sources.iter().map(|(_, s)| s.name()).collect();
        served.lines.push(format!(
            "served by: rollups, pieces {}{}",
            pieces.join(" "),
            answer
                .projection
                .as_ref()
                .map_or(String::new(), |p| format!(
                    ", projection by {}",
                    p.join("+")
                ))
        ));
        for g in answer.groups {
            let combo = groups.combo(&agg.tags, &g.tags);
            for f in &g.fields {
                for b in &f.buckets {
                    let entry = states
                        .entry(agg.group_key(combo, b.start, plan.tz))
                        .or_insert_with(|| agg.new_states());
                    for &i in &agg_ids {
                        if let Some((name, int)) = rollup_field(db, &agg.aggs[i]) {
                            if name == f.name {
                                entry[i].push_rollup(b, int);
                            }
                        }
                    }
                }
            }
        }
    }
    groups.states = states;
    Ok(Some(groups))
}
