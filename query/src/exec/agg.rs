//! Aggregate state ([`AggState`]): folded one value at a time over raw points, or filled from
//! rollup buckets, merged across the partitions executed in parallel, and finished into a
//! [`Scalar`].

use super::plan::AggFunc;
use super::scalar::Scalar;
use std::collections::HashSet;
use std::ops::Range;
use tally_engine::rollup::{Aggregate, Distribution, RollupBucket};
use tally_engine::ColumnValues;

/// The running state of one aggregate in one group.
#[derive(Debug, Clone)]
pub(crate) enum AggState {
    Count(u64),
    /// Exact integer sum while every value is an integer, float once any is not.
    Sum {
        int: i128,
        float: f64,
        all_int: bool,
        any: bool,
    },
    Mean {
        sum: f64,
        n: u64,
    },
    Min(Option<Scalar>),
    Max(Option<Scalar>),
    First(Option<(i64, Scalar)>),
    Last(Option<(i64, Scalar)>),
    Distinct(HashSet<DistinctKey>),
    /// Exact values from raw points.
    Values(Vec<f64>),
    /// A sketch (or exact list) from rollups.
    Dist(Option<Distribution>),
    /// Sum of the argument (count for `*`), divided by the bucket's length at the end.
    Rate(f64),
}

/// A hashable value for distinct counts (floats by their bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum DistinctKey {
    Int(i64),
    Float(u64),
    Str(String),
    Bool(bool),
}

impl AggState {
    /// The empty state of `func`.
    pub(crate) fn new(func: AggFunc) -> AggState {
        match func {
            AggFunc::Count => AggState::Count(0),
            AggFunc::Sum => AggState::Sum {
                int: 0,
                float: 0.0,
                all_int: true,
                any: false,
            },
            AggFunc::Mean => AggState::Mean { sum: 0.0, n: 0 },
            AggFunc::Min => AggState::Min(None),
            AggFunc::Max => AggState::Max(None),
            AggFunc::First => AggState::First(None),
            AggFunc::Last => AggState::Last(None),
            AggFunc::CountDistinct => AggState::Distinct(HashSet::new()),
            AggFunc::Quantile(_) => AggState::Values(Vec::new()),
            AggFunc::Rate { .. } => AggState::Rate(0.0),
        }
    }

    /// Folds one point's value (`None` for `count(*)` and `rate(*)`). Nulls are skipped;
    /// returns the bytes the state grew by (for the memory budget).
    pub(crate) fn push(&mut self, t: i64, v: Option<&Scalar>) -> usize {
        let v = match v {
            None => {
                match self {
                    AggState::Count(n) => *n += 1,
                    AggState::Rate(r) => *r += 1.0,
                    _ => {}
                }
                return 0;
            }
            Some(Scalar::Null) => return 0,
            Some(v) => v,
        };
        match self {
            AggState::Count(n) => *n += 1,
            AggState::Sum {
                int,
                float,
                all_int,
                any,
            } => {
                *any = true;
                match v {
                    Scalar::Int(i) => {
                        *int += i128::from(*i);
                        *float += *i as f64;
                    }
                    other => {
                        *all_int = false;
                        *float += other.as_f64().unwrap_or(0.0);
                    }
                }
            }
            AggState::Mean { sum, n } => {
                if let Some(x) = v.as_f64() {
                    *sum += x;
                    *n += 1;
                }
            }
            AggState::Min(m) => {
                if m.as_ref().is_none_or(|cur| v.sort_cmp(cur).is_lt()) {
                    *m = Some(v.clone());
                }
            }
            AggState::Max(m) => {
                if m.as_ref().is_none_or(|cur| v.sort_cmp(cur).is_gt()) {
                    *m = Some(v.clone());
                }
            }
            AggState::First(f) => {
                if f.as_ref().is_none_or(|(ft, _)| t < *ft) {
                    *f = Some((t, v.clone()));
                }
            }
            AggState::Last(l) => {
                if l.as_ref().is_none_or(|(lt, _)| t >= *lt) {
                    *l = Some((t, v.clone()));
                }
            }
            AggState::Distinct(set) => {
                let key = match v {
                    Scalar::Int(i) => DistinctKey::Int(*i),
                    Scalar::Float(f) => DistinctKey::Float(f.to_bits()),
                    Scalar::Str(s) => DistinctKey::Str(s.clone()),
                    Scalar::Bool(b) => DistinctKey::Bool(*b),
                    Scalar::Time(t) => DistinctKey::Int(*t),
                    Scalar::Null => return 0,
                };
                let grew = match &key {
                    DistinctKey::Str(s) => 32 + s.len(),
                    _ => 32,
                };
                if set.insert(key) {
                    return grew;
                }
            }
            AggState::Values(vs) => {
                if let Some(x) = v.as_f64().filter(|x| x.is_finite()) {
                    vs.push(x);
                    return 8;
                }
            }
            AggState::Dist(_) => {}
            AggState::Rate(r) => *r += v.as_f64().unwrap_or(0.0),
        }
        0
    }

    /// Folds the values `rows` of a stored column, as [`AggState::push`] would one by one (same
    /// order, same arithmetic), without building a [`Scalar`] per value where the type allows.
    /// For the aggregates a column scan serves (count, sum, mean, min, max, quantiles); others
    /// take the one-by-one path with a zero timestamp. Returns the bytes the state grew by.
    pub(crate) fn push_column(&mut self, values: &ColumnValues, rows: Range<usize>) -> usize {
        if rows.is_empty() {
            return 0;
        }
        match (self, values) {
            (AggState::Count(n), _) => *n += rows.len() as u64,
            (
                AggState::Sum {
                    float,
                    all_int,
                    any,
                    ..
                },
                ColumnValues::Float(v),
            ) => {
                *any = true;
                *all_int = false;
                for &x in &v[rows] {
                    *float += x;
                }
            }
            (
                AggState::Sum {
                    int, float, any, ..
                },
                ColumnValues::Integer(v),
            ) => {
                *any = true;
                for &x in &v[rows] {
                    *int += i128::from(x);
                    *float += x as f64;
                }
            }
            (AggState::Mean { sum, n }, ColumnValues::Float(v)) => {
                *n += rows.len() as u64;
                for &x in &v[rows] {
                    *sum += x;
                }
            }
            (AggState::Mean { sum, n }, ColumnValues::Integer(v)) => {
                *n += rows.len() as u64;
                for &x in &v[rows] {
                    *sum += x as f64;
                }
            }
            (AggState::Values(vs), ColumnValues::Float(v)) => {
                let before = vs.len();
                vs.extend(v[rows].iter().copied().filter(|x| x.is_finite()));
                return (vs.len() - before) * 8;
            }
            (AggState::Values(vs), ColumnValues::Integer(v)) => {
                vs.extend(v[rows.clone()].iter().map(|&x| x as f64));
                return rows.len() * 8;
            }
            (state, values) => {
                let mut grew = 0;
                for i in rows {
                    grew += state.push(0, Some(&Scalar::of(values, i)));
                }
                return grew;
            }
        }
        0
    }

    /// Folds a rollup bucket of the aggregate's field (`int`: the field holds integers, so
    /// its minimum and maximum are integers too).
    pub(crate) fn push_rollup(&mut self, b: &RollupBucket, int: bool) {
        let a: &Aggregate = &b.agg;
        if a.count == 0 {
            return;
        }
        match self {
            AggState::Count(n) => *n += a.count,
            AggState::Sum {
                int,
                float,
                all_int,
                any,
            } => {
                *any = true;
                *float += a.sum;
                match a.int_sum {
                    Some(s) => *int += s,
                    None => *all_int = false,
                }
            }
            AggState::Mean { sum, n } => {
                *sum += a.sum;
                *n += a.count;
            }
            AggState::Min(m) => {
                let v = if int {
                    Scalar::Int(a.min as i64)
                } else {
                    Scalar::Float(a.min)
                };
                if m.as_ref().is_none_or(|cur| v.sort_cmp(cur).is_lt()) {
                    *m = Some(v);
                }
            }
            AggState::Max(m) => {
                let v = if int {
                    Scalar::Int(a.max as i64)
                } else {
                    Scalar::Float(a.max)
                };
                if m.as_ref().is_none_or(|cur| v.sort_cmp(cur).is_gt()) {
                    *m = Some(v);
                }
            }
            AggState::Values(_) => {
                *self = AggState::Dist(b.dist.clone());
            }
            AggState::Dist(d) => match (d.as_mut(), &b.dist) {
                (Some(d), Some(x)) => {
                    // Equal accuracies: the store writes one accuracy per field.
                    let _ = d.merge(x);
                }
                (None, Some(x)) => *d = Some(x.clone()),
                _ => {}
            },
            AggState::Rate(r) => *r += a.sum,
            AggState::First(_) | AggState::Last(_) | AggState::Distinct(_) => {}
        }
    }

    /// Folds another partition's state of the same aggregate.
    pub(crate) fn merge(&mut self, other: AggState) {
        match (self, other) {
            (AggState::Count(a), AggState::Count(b)) => *a += b,
            (
                AggState::Sum {
                    int,
                    float,
                    all_int,
                    any,
                },
                AggState::Sum {
                    int: i2,
                    float: f2,
                    all_int: a2,
                    any: y2,
                },
            ) => {
                *int += i2;
                *float += f2;
                *all_int &= a2;
                *any |= y2;
            }
            (AggState::Mean { sum, n }, AggState::Mean { sum: s2, n: n2 }) => {
                *sum += s2;
                *n += n2;
            }
            (AggState::Min(a), AggState::Min(Some(b)))
                if a.as_ref().is_none_or(|cur| b.sort_cmp(cur).is_lt()) =>
            {
                *a = Some(b);
            }
            (AggState::Max(a), AggState::Max(Some(b)))
                if a.as_ref().is_none_or(|cur| b.sort_cmp(cur).is_gt()) =>
            {
                *a = Some(b);
            }
            (AggState::First(a), AggState::First(Some(b)))
                if a.as_ref().is_none_or(|(t, _)| b.0 < *t) =>
            {
                *a = Some(b);
            }
            (AggState::Last(a), AggState::Last(Some(b)))
                if a.as_ref().is_none_or(|(t, _)| b.0 >= *t) =>
            {
                *a = Some(b);
            }
            (AggState::Distinct(a), AggState::Distinct(b)) => a.extend(b),
            (AggState::Values(a), AggState::Values(b)) => a.extend(b),
            (AggState::Dist(a), AggState::Dist(Some(b))) => match a {
                Some(d) => {
                    let _ = d.merge(&b);
                }
                None => *a = Some(b),
            },
            (AggState::Rate(a), AggState::Rate(b)) => *a += b,
            _ => {}
        }
    }

    /// The aggregate's value; `span_ns` is the length of the bucket (for rates).
    pub(crate) fn finish(self, func: AggFunc, span_ns: i64) -> Scalar {
        match self {
            AggState::Count(n) => Scalar::Int(i64::try_from(n).unwrap_or(i64::MAX)),
            AggState::Sum { any: false, .. } => Scalar::Null,
            AggState::Sum {
                int, all_int: true, ..
            } => i64::try_from(int).map_or(Scalar::Float(int as f64), Scalar::Int),
            AggState::Sum { float, .. } => Scalar::Float(float),
            AggState::Mean { n: 0, .. } => Scalar::Null,
            AggState::Mean { sum, n } => Scalar::Float(sum / n as f64),
            AggState::Min(v) | AggState::Max(v) => v.unwrap_or(Scalar::Null),
            AggState::First(v) | AggState::Last(v) => v.map_or(Scalar::Null, |(_, s)| s),
            AggState::Distinct(set) => Scalar::Int(set.len() as i64),
            AggState::Values(mut vs) => {
                let AggFunc::Quantile(q) = func else {
                    return Scalar::Null;
                };
                if vs.is_empty() {
                    return Scalar::Null;
                }
                // The rank rule of the rollup sketches: floor(q (n - 1)).
                let rank = ((q * (vs.len() as f64 - 1.0)) as usize).min(vs.len() - 1);
                let (_, v, _) = vs.select_nth_unstable_by(rank, f64::total_cmp);
                Scalar::Float(*v)
            }
            AggState::Dist(d) => {
                let AggFunc::Quantile(q) = func else {
                    return Scalar::Null;
                };
                d.and_then(|d| d.quantile(q))
                    .map_or(Scalar::Null, Scalar::Float)
            }
            AggState::Rate(sum) => {
                let AggFunc::Rate { unit } = func else {
                    return Scalar::Null;
                };
                if span_ns <= 0 {
                    return Scalar::Null;
                }
                Scalar::Float(sum * unit as f64 / span_ns as f64)
            }
        }
    }
}
