//! Turns a `SELECT` into a [`Plan`]: the series to read (tag index predicates plus a residual
//! tag condition), the time range, the per-point filter, and either the raw columns or the
//! aggregates, groups and output expressions. Every name is checked here, so execution cannot
//! meet an unknown field or a misplaced aggregate.

use super::agg::AggState;
use super::buckets::KeyFn;
use super::names::{at, compile_regex, Name, Schema};
use super::scalar::Scalar;
use super::scan::GroupKey;
use super::tags::{only_tags, TagCond};
use super::timerange::{self, apply_conjunct, mentions_time, Bounds, TimeContext, DAY_NS};
use super::ParamValue;
use crate::ast::{Arg, BinaryOp, Call, Expr, Fill, GroupItem, Select, SelectItem, Value};
use crate::table::ColumnType;
use crate::ParseError;
use chrono_tz::Tz;
use regex::Regex;
use std::collections::BTreeMap;
use tally_engine::{FieldType, Selector, TimeRange};

/// A per-point expression: reads the point's fields, its series' tags and its time.
#[derive(Debug, Clone)]
pub(crate) enum PExpr {
    /// Field number `i` of [`Plan::fields`].
    Field(usize),
    Tag(String),
    Time,
    Const(Scalar),
    Binary(Box<PExpr>, BinaryOp, Box<PExpr>),
    Neg(Box<PExpr>),
    Not(Box<PExpr>),
    In {
        expr: Box<PExpr>,
        list: Vec<Scalar>,
        negated: bool,
    },
    Match {
        expr: Box<PExpr>,
        regex: Regex,
        negated: bool,
    },
}

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum AggFunc {
    Count,
    Sum,
    Mean,
    Min,
    Max,
    First,
    Last,
    CountDistinct,
    /// The `q`-quantile, `q` in `[0, 1]`.
    Quantile(f64),
    /// Per `unit` ns: the sum of the argument (or the count of points for `*`) divided by the
    /// bucket's length.
    Rate {
        unit: i64,
    },
}

/// One aggregate of the query.
#[derive(Debug, Clone)]
pub(crate) struct AggSpec {
    pub(crate) func: AggFunc,
    /// `None` for `*`.
    pub(crate) arg: Option<PExpr>,
    /// The field the argument is, when it is a bare field (rollups can serve those).
    pub(crate) field: Option<(String, FieldType)>,
    /// `FILTER (WHERE ...)`: the part on tags and the part on points.
    pub(crate) filter_series: Option<TagCond>,
    pub(crate) filter_point: Option<PExpr>,
}

/// An output expression of an aggregate query, evaluated once per row.
#[derive(Debug, Clone)]
pub(crate) enum OExpr {
    /// Aggregate number `i`.
    Agg(usize),
    /// Group tag number `i`.
    Tag(usize),
    /// The row's bucket start.
    Time,
    /// Group key function number `i` (hour_of_week...).
    Key(usize),
    Const(Scalar),
    Binary(Box<OExpr>, BinaryOp, Box<OExpr>),
    Neg(Box<OExpr>),
}

/// What the query returns.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// One row per point: named columns.
    Raw(Vec<RawColumn>),
    /// One row per group and bucket.
    Agg(AggPlan),
}

/// A column of a raw select.
#[derive(Debug, Clone)]
pub(crate) struct RawColumn {
    pub(crate) name: String,
    pub(crate) expr: PExpr,
    pub(crate) ty: ColumnType,
}

/// The aggregate part of a plan.
#[derive(Debug, Clone)]
pub(crate) struct AggPlan {
    pub(crate) aggs: Vec<AggSpec>,
    /// Output columns after the group columns.
    pub(crate) outputs: Vec<(String, OExpr, ColumnType)>,
    /// Tag keys grouped by.
    pub(crate) tags: Vec<String>,
    /// Time-derived group keys (at most one time bucket).
    pub(crate) keys: Vec<KeyFn>,
}

impl AggPlan {
    /// A new group's states: one empty state per aggregate.
    pub(crate) fn new_states(&self) -> Vec<AggState> {
        self.aggs.iter().map(|a| AggState::new(a.func)).collect()
    }

    /// The group of a point (or rollup bucket) at `t` of tag combination `combo`.
    pub(crate) fn group_key(&self, combo: u32, t: i64, tz: Tz) -> GroupKey {
        let k1 = self.keys.first().map_or(0, |k| k.key(t, tz));
        let k2 = self.keys.get(1).map_or(0, |k| k.key(t, tz));
        (combo, k1, k2)
    }
}

/// A `SELECT`, checked and ready to run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) schema: Schema,
    pub(crate) range: TimeRange,
    /// The length of the range as the query names it (`rate` without a time bucket divides
    /// by it).
    pub(crate) span: i64,
    pub(crate) selector: Selector,
    pub(crate) series_cond: Option<TagCond>,
    pub(crate) point_cond: Option<PExpr>,
    /// Fields read from storage, by name; `PExpr::Field(i)` is `fields[i]`.
    pub(crate) fields: Vec<(String, FieldType)>,
    pub(crate) body: Body,
    pub(crate) fill: Fill,
    /// Output column index and descending.
    pub(crate) order: Vec<(usize, bool)>,
    pub(crate) limit: Option<usize>,
    pub(crate) offset: usize,
    pub(crate) tz: Tz,
    /// The names of all output columns, in order (group columns first for aggregates).
    pub(crate) columns: Vec<(String, ColumnType)>,
}

/// Names of the aggregate functions, for "is this an aggregate call".
fn agg_func(call: &Call, text: &str) -> Result<Option<AggFunc>, ParseError> {
    let name = call.name.name.to_ascii_lowercase();
    let f = match name.as_str() {
        "count" => AggFunc::Count,
        "sum" => AggFunc::Sum,
        "mean" | "avg" => AggFunc::Mean,
        "min" => AggFunc::Min,
        "max" => AggFunc::Max,
        "first" => AggFunc::First,
        "last" => AggFunc::Last,
        "count_distinct" => AggFunc::CountDistinct,
        "median" => AggFunc::Quantile(0.5),
        "quantile" | "percentile" => AggFunc::Quantile(f64::NAN),
        "rate" => AggFunc::Rate {
            unit: 1_000_000_000,
        },
        n if n.len() >= 3 && n.starts_with('p') && n[1..].bytes().all(|b| b.is_ascii_digit()) => {
            let digits = &n[1..];
            let v: f64 = digits.parse().unwrap_or(0.0);
            // p50 = 0.50, p999 = 0.999, p100 = the maximum.
            let q = if digits == "100" {
                1.0
            } else {
                v / 10f64.powi(digits.len() as i32)
            };
            if !(0.0..=1.0).contains(&q) || digits.len() > 4 {
                return Err(at(
                    text,
                    call.name.span,
                    format!("`{n}` is not a percentile shorthand; use p50, p90, p95, p99 or p999"),
                ));
            }
            AggFunc::Quantile(q)
        }
        _ => return Ok(None),
    };
    Ok(Some(f))
}

fn is_agg_call(e: &Expr) -> bool {
    match e {
        Expr::Call(c) => {
            agg_func(c, "").ok().flatten().is_some()
                || c.args.iter().any(|a| match a {
                    Arg::Expr(x) | Arg::Distinct(x) => is_agg_call(x),
                    Arg::Wildcard(_) => false,
                })
        }
        Expr::Binary { left, right, .. } => is_agg_call(left) || is_agg_call(right),
        Expr::Neg(x) | Expr::Not(x) => is_agg_call(x),
        Expr::InList { expr, .. } | Expr::Match { expr, .. } => is_agg_call(expr),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Param(_) => false,
    }
}

/// Splits `a AND b AND c` into its conjuncts.
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Binary {
            left,
            op: BinaryOp::And,
            right,
        } => {
            let mut out = conjuncts(left);
            out.extend(conjuncts(right));
            out
        }
        other => vec![other],
    }
}

fn and_all(mut parts: Vec<&Expr>) -> Option<Expr> {
    let first = parts.pop()?.clone();
    Some(
        parts
            .into_iter()
            .rev()
            .fold(first, |acc, e| Expr::binary(e.clone(), BinaryOp::And, acc)),
    )
}

struct Planner<'a> {
    schema: &'a Schema,
    text: &'a str,
    params: &'a BTreeMap<String, ParamValue>,
    cx: TimeContext<'a>,
    fields: Vec<(String, FieldType)>,
}

impl Planner<'_> {
    fn field_slot(&mut self, name: &str, ty: FieldType) -> usize {
        if let Some(i) = self.fields.iter().position(|(f, _)| f == name) {
            return i;
        }
        self.fields.push((name.to_owned(), ty));
        self.fields.len() - 1
    }

    fn constant(&self, e: &Expr) -> Result<Option<Scalar>, ParseError> {
        Ok(match e {
            Expr::Literal(l) => Some(match &l.value {
                Value::Integer(i) => Scalar::Int(*i),
                Value::Float(f) => Scalar::Float(*f),
                Value::String(s) => Scalar::Str(s.clone()),
                Value::Duration(d) => Scalar::Int(d.nanos()),
                Value::Boolean(b) => Scalar::Bool(*b),
                Value::Null => Scalar::Null,
            }),
            Expr::Param(p) => Some(match self.params.get(&p.name) {
                Some(ParamValue::String(s)) => Scalar::Str(s.clone()),
                Some(ParamValue::Integer(i)) => Scalar::Int(*i),
                Some(ParamValue::Float(f)) => Scalar::Float(*f),
                Some(ParamValue::Boolean(b)) => Scalar::Bool(*b),
                Some(ParamValue::Time(t)) => Scalar::Time(*t),
                Some(ParamValue::Duration(d)) => Scalar::Int(*d),
                None => {
                    return Err(at(
                        self.text,
                        p.span,
                        format!("parameter ${} has no value; pass it with the query", p.name),
                    ))
                }
            }),
            Expr::Call(c) if c.name.name.eq_ignore_ascii_case("now") && c.args.is_empty() => {
                Some(Scalar::Time(self.cx.now))
            }
            _ => None,
        })
    }

    /// A per-point expression.
    fn point(&mut self, e: &Expr) -> Result<PExpr, ParseError> {
        if let Some(c) = self.constant(e)? {
            return Ok(PExpr::Const(c));
        }
        Ok(match e {
            Expr::Ident(i) => match self.schema.resolve(i, self.text)? {
                Name::Time => PExpr::Time,
                Name::Tag(t) => PExpr::Tag(t),
                Name::Field(f, ty) => PExpr::Field(self.field_slot(&f, ty)),
            },
            Expr::Binary { left, op, right } => PExpr::Binary(
                Box::new(self.point(left)?),
                *op,
                Box::new(self.point(right)?),
            ),
            Expr::Neg(x) => PExpr::Neg(Box::new(self.point(x)?)),
            Expr::Not(x) => PExpr::Not(Box::new(self.point(x)?)),
            Expr::InList {
                expr,
                negated,
                list,
            } => {
                let mut values = Vec::with_capacity(list.len());
                for x in list {
                    match self.constant(x)? {
                        Some(v) => values.push(v),
                        None => {
                            return Err(at(
                                self.text,
                                x.span(),
                                "IN lists hold constants (strings, numbers, parameters)".into(),
                            ))
                        }
                    }
                }
                PExpr::In {
                    expr: Box::new(self.point(expr)?),
                    list: values,
                    negated: *negated,
                }
            }
            Expr::Match {
                expr,
                negated,
                regex,
            } => PExpr::Match {
                expr: Box::new(self.point(expr)?),
                regex: compile_regex(regex, self.text)?,
                negated: *negated,
            },
            Expr::Call(c) => {
                return Err(at(
                    self.text,
                    c.span,
                    if is_agg_call(e) {
                        format!(
                            "aggregate `{}` cannot be used per point (in WHERE, FILTER or a raw \
                             select); filter with WHERE and aggregate in the select list",
                            c.name.name
                        )
                    } else {
                        format!(
                            "unknown function `{}`; functions are count, sum, mean, avg, min, \
                             max, first, last, count_distinct, p50/p90/p95/p99/p999, \
                             quantile, percentile, rate and now",
                            c.name.name
                        )
                    },
                ))
            }
            Expr::Literal(_) | Expr::Param(_) => unreachable!("constants handled above"),
        })
    }

    /// A condition split into its tag part and its point part (either may be absent).
    fn condition(&mut self, e: &Expr) -> Result<(Option<TagCond>, Option<PExpr>), ParseError> {
        let parts = conjuncts(e);
        let (tag_parts, point_parts): (Vec<&Expr>, Vec<&Expr>) =
            parts.into_iter().partition(|c| only_tags(c, self.schema));
        let tags = match and_all(tag_parts) {
            Some(t) => Some(TagCond::compile(&t, self.schema, self.text, self.params)?),
            None => None,
        };
        let points = match and_all(point_parts) {
            Some(p) => Some(self.point(&p)?),
            None => None,
        };
        Ok((tags, points))
    }
}

/// The type a point expression yields, as far as it is known before running.
fn point_type(e: &PExpr, fields: &[(String, FieldType)]) -> ColumnType {
    match e {
        PExpr::Field(i) => field_column_type(fields[*i].1),
        PExpr::Tag(_) => ColumnType::Tag,
        PExpr::Time => ColumnType::Time,
        PExpr::Const(s) => scalar_type(s),
        PExpr::Binary(l, op, r) => match op {
            BinaryOp::And
            | BinaryOp::Or
            | BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::Lt
            | BinaryOp::LtEq
            | BinaryOp::Gt
            | BinaryOp::GtEq => ColumnType::Boolean,
            BinaryOp::Div => ColumnType::Float,
            _ => numeric(point_type(l, fields), point_type(r, fields)),
        },
        PExpr::Neg(x) => point_type(x, fields),
        PExpr::Not(_) | PExpr::In { .. } | PExpr::Match { .. } => ColumnType::Boolean,
    }
}

fn numeric(a: ColumnType, b: ColumnType) -> ColumnType {
    if a == ColumnType::Integer && b == ColumnType::Integer {
        ColumnType::Integer
    } else {
        ColumnType::Float
    }
}

pub(crate) fn field_column_type(ty: FieldType) -> ColumnType {
    match ty {
        FieldType::Float => ColumnType::Float,
        FieldType::Integer | FieldType::Unsigned => ColumnType::Integer,
        FieldType::Boolean => ColumnType::Boolean,
        FieldType::String => ColumnType::String,
    }
}

fn scalar_type(s: &Scalar) -> ColumnType {
    match s {
        Scalar::Int(_) => ColumnType::Integer,
        Scalar::Float(_) | Scalar::Null => ColumnType::Float,
        Scalar::Str(_) => ColumnType::String,
        Scalar::Bool(_) => ColumnType::Boolean,
        Scalar::Time(_) => ColumnType::Time,
    }
}

/// Plans `s` against `schema`. `now` is the instant `now()` means.
pub(crate) fn plan(
    s: &Select,
    schema: Schema,
    text: &str,
    now: i64,
    params: &BTreeMap<String, ParamValue>,
) -> Result<Plan, ParseError> {
    let tz: Tz = match &s.tz {
        None => chrono_tz::UTC,
        Some(z) => z.name.parse().map_err(|_| {
            at(
                text,
                z.span,
                format!(
                    "unknown time zone `{}`; use an IANA name such as 'America/Los_Angeles' or \
                     'UTC'",
                    z.name
                ),
            )
        })?,
    };
    let cx = TimeContext {
        now,
        params,
        tz,
        text,
    };
    let mut p = Planner {
        schema: &schema,
        text,
        params,
        cx,
        fields: Vec::new(),
    };
    // WHERE: time bounds, tag condition, point condition.
    let mut bounds = Bounds::default();
    let mut rest: Vec<&Expr> = Vec::new();
    if let Some(c) = &s.condition {
        for part in conjuncts(c) {
            if mentions_time(part) {
                apply_conjunct(part, &mut bounds, &cx)?;
            } else {
                rest.push(part);
            }
        }
    }
    let (series_cond, point_cond) = match and_all(rest) {
        Some(e) => p.condition(&e)?,
        None => (None, None),
    };
    // No lower bound: the last 24 hours. No upper bound: up to and including now.
    let end = bounds.end.unwrap_or(now.saturating_add(1));
    let start = bounds.start.unwrap_or(end.saturating_sub(DAY_NS));
    let range = TimeRange::new(start, end.max(start));
    let named_end = bounds.named_end.unwrap_or(now);
    let named_start = bounds
        .named_start
        .unwrap_or(named_end.saturating_sub(DAY_NS));
    let span = named_end.saturating_sub(named_start).max(0);
    let selector = Selector {
        measurement: schema.measurement.clone(),
        predicates: series_cond
            .as_ref()
            .map(TagCond::predicates)
            .unwrap_or_default(),
    };

    let aggregate = s.items.iter().any(|i| match i {
        SelectItem::Expr { expr, .. } => is_agg_call(expr),
        SelectItem::Wildcard(_) => false,
    });
    let (body, columns) = if aggregate {
        plan_aggregate(s, &mut p)?
    } else {
        plan_raw(s, &mut p)?
    };
    let order = plan_order(s, &columns, text)?;
    let fields = p.fields;
    let to_usize = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    Ok(Plan {
        schema,
        range,
        span,
        selector,
        series_cond,
        point_cond,
        fields,
        body,
        fill: s.fill.clone().unwrap_or(Fill::Null),
        order,
        limit: s.limit.map(to_usize),
        offset: s.offset.map_or(0, to_usize),
        tz,
        columns,
    })
}

type Columns = Vec<(String, ColumnType)>;

fn unique_name(names: &mut BTreeMap<String, usize>, base: String) -> String {
    let n = names.entry(base.clone()).or_insert(0);
    *n += 1;
    if *n == 1 {
        base
    } else {
        format!("{base}_{}", *n - 1)
    }
}

fn plan_raw(s: &Select, p: &mut Planner<'_>) -> Result<(Body, Columns), ParseError> {
    if let Some(g) = s.group_by.first() {
        let span = match g {
            GroupItem::Wildcard(sp) => *sp,
            GroupItem::Expr(e) => e.span(),
        };
        return Err(at(
            p.text,
            span,
            "GROUP BY needs an aggregate in the select list, e.g. count(*) or mean(latency_ms)"
                .into(),
        ));
    }
    let mut names = BTreeMap::new();
    let mut cols = vec![RawColumn {
        name: unique_name(&mut names, "time".into()),
        expr: PExpr::Time,
        ty: ColumnType::Time,
    }];
    for item in &s.items {
        match item {
            SelectItem::Wildcard(_) => {
                let fields = p.schema.fields.clone();
                for (f, ty) in fields {
                    let slot = p.field_slot(&f, ty);
                    cols.push(RawColumn {
                        name: unique_name(&mut names, f),
                        expr: PExpr::Field(slot),
                        ty: field_column_type(ty),
                    });
                }
                for t in p.schema.tags.clone() {
                    cols.push(RawColumn {
                        name: unique_name(&mut names, t.clone()),
                        expr: PExpr::Tag(t),
                        ty: ColumnType::Tag,
                    });
                }
            }
            SelectItem::Expr { expr, alias } => {
                if matches!(expr, Expr::Ident(i) if i.name == "time") && alias.is_none() {
                    continue;
                }
                let pe = p.point(expr)?;
                let ty = point_type(&pe, &p.fields);
                let base = match (alias, expr) {
                    (Some(a), _) => a.name.clone(),
                    (None, Expr::Ident(i)) => i.name.clone(),
                    (None, e) => e.to_string(),
                };
                cols.push(RawColumn {
                    name: unique_name(&mut names, base),
                    expr: pe,
                    ty,
                });
            }
        }
    }
    let columns = cols.iter().map(|c| (c.name.clone(), c.ty)).collect();
    Ok((Body::Raw(cols), columns))
}

struct AggBuilder<'p, 'a> {
    p: &'p mut Planner<'a>,
    aggs: Vec<AggSpec>,
    tags: Vec<String>,
    keys: Vec<KeyFn>,
}

impl AggBuilder<'_, '_> {
    fn output(&mut self, e: &Expr) -> Result<(OExpr, ColumnType), ParseError> {
        let text = self.p.text;
        if let Some(c) = self.p.constant(e)? {
            let ty = scalar_type(&c);
            return Ok((OExpr::Const(c), ty));
        }
        match e {
            Expr::Call(c) => {
                if let Some(func) = agg_func(c, text)? {
                    return self.aggregate(c, func);
                }
                // A group key function used as an output: hour_of_week(time).
                if let Some(k) = KeyFn::of_call(c, text, &self.p.cx)? {
                    if let Some(i) = self.keys.iter().position(|x| *x == k) {
                        return Ok((OExpr::Key(i), k.column_type()));
                    }
                    return Err(at(
                        text,
                        c.span,
                        format!("`{e}` must also be in GROUP BY to be selected"),
                    ));
                }
                Err(at(
                    text,
                    c.span,
                    format!(
                        "unknown function `{}`; aggregates are count, sum, mean, avg, min, max, \
                         first, last, count_distinct, p50/p90/p95/p99/p999, quantile, \
                         percentile and rate",
                        c.name.name
                    ),
                ))
            }
            Expr::Ident(i) => match self.p.schema.resolve(i, text)? {
                Name::Time => Ok((OExpr::Time, ColumnType::Time)),
                Name::Tag(t) => match self.tags.iter().position(|x| *x == t) {
                    Some(idx) => Ok((OExpr::Tag(idx), ColumnType::Tag)),
                    None => Err(at(
                        text,
                        i.span,
                        format!(
                            "tag `{t}` is selected next to aggregates but not grouped by; add it \
                             to GROUP BY"
                        ),
                    )),
                },
                Name::Field(f, _) => Err(at(
                    text,
                    i.span,
                    format!(
                        "field `{f}` is selected next to aggregates without one; wrap it in an \
                         aggregate such as mean({f}) or last({f})"
                    ),
                )),
            },
            Expr::Binary { left, op, right } => {
                let (l, lt) = self.output(left)?;
                let (r, rt) = self.output(right)?;
                let ty = match op {
                    BinaryOp::Div => ColumnType::Float,
                    BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Mod => {
                        numeric(lt, rt)
                    }
                    _ => ColumnType::Boolean,
                };
                Ok((OExpr::Binary(Box::new(l), *op, Box::new(r)), ty))
            }
            Expr::Neg(x) => {
                let (o, t) = self.output(x)?;
                Ok((OExpr::Neg(Box::new(o)), t))
            }
            _ => Err(at(
                text,
                e.span(),
                "only aggregates, grouped tags, constants and arithmetic between them can be \
                 selected in an aggregate query"
                    .into(),
            )),
        }
    }

    fn aggregate(
        &mut self,
        c: &Call,
        mut func: AggFunc,
    ) -> Result<(OExpr, ColumnType), ParseError> {
        let text = self.p.text;
        let name = c.name.name.to_ascii_lowercase();
        let arity_error = |want: &str| {
            at(
                text,
                c.span,
                format!("`{name}` takes {want}, e.g. {}", example(&name)),
            )
        };
        let (arg, extra): (Option<&Arg>, Option<&Arg>) = (c.args.first(), c.args.get(1));
        let arg_expr = match (func, arg) {
            (AggFunc::Count | AggFunc::Rate { .. }, Some(Arg::Wildcard(_))) => None,
            (AggFunc::Count, Some(Arg::Distinct(e))) => {
                func = AggFunc::CountDistinct;
                Some(e)
            }
            (_, Some(Arg::Expr(e))) => Some(e),
            (_, Some(Arg::Wildcard(sp))) => {
                return Err(at(
                    text,
                    *sp,
                    format!("`{name}(*)` is not defined; name a field"),
                ))
            }
            (_, Some(Arg::Distinct(e))) => {
                return Err(at(text, e.span(), "DISTINCT only goes with count".into()))
            }
            (_, None) => return Err(arity_error("a field")),
        };
        match (&mut func, extra) {
            (AggFunc::Quantile(q), Some(Arg::Expr(e))) if q.is_nan() => {
                let v = self.p.constant(e)?.and_then(|s| s.as_f64());
                let scale = if name == "percentile" { 100.0 } else { 1.0 };
                match v.map(|v| v / scale) {
                    Some(v) if (0.0..=1.0).contains(&v) => *q = v,
                    _ => {
                        return Err(at(
                            text,
                            e.span(),
                            if scale == 1.0 {
                                "the quantile must be a number from 0 to 1, e.g. quantile(latency_ms, 0.99)".into()
                            } else {
                                "the percentile must be a number from 0 to 100, e.g. percentile(latency_ms, 99)".into()
                            },
                        ))
                    }
                }
            }
            (AggFunc::Quantile(q), _) if q.is_nan() => {
                return Err(arity_error("a field and a quantile"));
            }
            (AggFunc::Rate { unit }, Some(Arg::Expr(e))) => {
                *unit = timerange::duration(e, &self.p.cx)?;
                if *unit <= 0 {
                    return Err(at(
                        text,
                        e.span(),
                        "the rate unit must be positive, e.g. 1s or 1m".into(),
                    ));
                }
            }
            (_, Some(a)) => {
                let span = match a {
                    Arg::Wildcard(s) => *s,
                    Arg::Expr(e) | Arg::Distinct(e) => e.span(),
                };
                return Err(at(
                    text,
                    span,
                    format!("`{name}` takes one argument, e.g. {}", example(&name)),
                ));
            }
            _ => {}
        }
        if c.args.len() > 2 {
            return Err(arity_error("at most two arguments"));
        }
        let (arg, field) = match arg_expr {
            None => (None, None),
            Some(e) => {
                let pe = self.p.point(e)?;
                let field = match &pe {
                    PExpr::Field(i) => Some(self.p.fields[*i].clone()),
                    _ => None,
                };
                let numeric_only = !matches!(
                    func,
                    AggFunc::Count | AggFunc::CountDistinct | AggFunc::First | AggFunc::Last
                );
                if let (PExpr::Tag(t), true) = (&pe, numeric_only) {
                    return Err(at(
                        text,
                        e.span(),
                        format!("`{name}` needs a numeric field; `{t}` is a tag"),
                    ));
                }
                if let Some((f, FieldType::String | FieldType::Boolean)) = &field {
                    if !matches!(
                        func,
                        AggFunc::Count | AggFunc::CountDistinct | AggFunc::First | AggFunc::Last
                    ) {
                        return Err(at(
                            text,
                            e.span(),
                            format!("`{name}` needs a numeric field; `{f}` holds text or booleans"),
                        ));
                    }
                }
                (Some(pe), field)
            }
        };
        let (filter_series, filter_point) = match &c.filter {
            Some(cond) => self.p.condition(cond)?,
            None => (None, None),
        };
        let ty = match func {
            AggFunc::Count | AggFunc::CountDistinct => ColumnType::Integer,
            AggFunc::Mean | AggFunc::Quantile(_) | AggFunc::Rate { .. } => ColumnType::Float,
            AggFunc::Sum => match &field {
                Some((_, FieldType::Integer | FieldType::Unsigned)) => ColumnType::Integer,
                _ => ColumnType::Float,
            },
            AggFunc::Min | AggFunc::Max | AggFunc::First | AggFunc::Last => match (&field, &arg) {
                (Some((_, t)), _) => field_column_type(*t),
                (None, Some(a)) => point_type(a, &self.p.fields),
                (None, None) => ColumnType::Float,
            },
        };
        self.aggs.push(AggSpec {
            func,
            arg,
            field,
            filter_series,
            filter_point,
        });
        Ok((OExpr::Agg(self.aggs.len() - 1), ty))
    }
}

fn example(name: &str) -> &'static str {
    match name {
        "count" => "count(*) or count(latency_ms)",
        "quantile" => "quantile(latency_ms, 0.99)",
        "percentile" => "percentile(latency_ms, 99)",
        "rate" => "rate(*) or rate(bytes_out, 1m)",
        _ => "sum(cost_usd)",
    }
}

fn plan_aggregate(s: &Select, p: &mut Planner<'_>) -> Result<(Body, Columns), ParseError> {
    let text = p.text;
    let mut tags = Vec::new();
    let mut keys: Vec<KeyFn> = Vec::new();
    for g in &s.group_by {
        match g {
            GroupItem::Wildcard(_) => {
                for t in &p.schema.tags {
                    if !tags.contains(t) {
                        tags.push(t.clone());
                    }
                }
            }
            GroupItem::Expr(Expr::Ident(i)) => {
                let t = p.schema.tag(i, text)?;
                if !tags.contains(&t) {
                    tags.push(t);
                }
            }
            GroupItem::Expr(Expr::Call(c)) => match KeyFn::of_call(c, text, &p.cx)? {
                Some(k) => {
                    if k.is_time_bucket() && keys.iter().any(KeyFn::is_time_bucket) {
                        return Err(at(text, c.span, "GROUP BY takes one time bucket".into()));
                    }
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                None => {
                    return Err(at(
                        text,
                        c.span,
                        format!(
                            "cannot group by `{}`; group by tags, time(interval[, offset]), \
                             day(time), week(time), month(time), hour_of_week(time) or \
                             day_of_week(time)",
                            c.name.name
                        ),
                    ))
                }
            },
            GroupItem::Expr(e) => {
                return Err(at(
                    text,
                    e.span(),
                    "GROUP BY takes tags and time buckets such as time(5m) or day(time)".into(),
                ))
            }
        }
    }
    // The time bucket first, so the column order is time, tags, other keys.
    keys.sort_by_key(|k| !k.is_time_bucket());
    let mut b = AggBuilder {
        p,
        aggs: Vec::new(),
        tags,
        keys,
    };
    let mut names = BTreeMap::new();
    let mut columns: Columns = Vec::new();
    if b.keys.first().is_some_and(KeyFn::is_time_bucket) {
        columns.push((unique_name(&mut names, "time".into()), ColumnType::Time));
    }
    for t in &b.tags {
        columns.push((unique_name(&mut names, t.clone()), ColumnType::Tag));
    }
    for k in b.keys.iter().filter(|k| !k.is_time_bucket()) {
        columns.push((unique_name(&mut names, k.name().into()), k.column_type()));
    }
    let mut outputs = Vec::new();
    for item in &s.items {
        match item {
            SelectItem::Wildcard(sp) => {
                return Err(at(
                    text,
                    *sp,
                    "`*` cannot be selected next to aggregates; name the aggregates".into(),
                ))
            }
            SelectItem::Expr { expr, alias } => {
                let (o, ty) = b.output(expr)?;
                let base = match (alias, expr) {
                    (Some(a), _) => a.name.clone(),
                    (None, Expr::Call(c)) if agg_func(c, text)?.is_some() => {
                        c.name.name.to_ascii_lowercase()
                    }
                    (None, Expr::Ident(i)) => i.name.clone(),
                    (None, e) => e.to_string(),
                };
                let name = unique_name(&mut names, base);
                columns.push((name.clone(), ty));
                outputs.push((name, o, ty));
            }
        }
    }
    let plan = AggPlan {
        aggs: b.aggs,
        outputs,
        tags: b.tags,
        keys: b.keys,
    };
    Ok((Body::Agg(plan), columns))
}

fn plan_order(s: &Select, columns: &Columns, text: &str) -> Result<Vec<(usize, bool)>, ParseError> {
    let mut out = Vec::new();
    for item in &s.order_by {
        let idx = match &item.expr {
            Expr::Ident(i) => columns.iter().position(|(n, _)| *n == i.name),
            e => {
                let printed = e.to_string();
                columns.iter().position(|(n, _)| *n == printed)
            }
        };
        match idx {
            Some(i) => out.push((i, item.descending)),
            None => {
                let names: Vec<String> = columns.iter().map(|(n, _)| format!("`{n}`")).collect();
                return Err(at(
                    text,
                    item.expr.span(),
                    format!("ORDER BY must name an output column: {}", names.join(", ")),
                ));
            }
        }
    }
    Ok(out)
}
