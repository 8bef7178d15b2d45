//! Runs a `SELECT`: plans it, picks rollups or raw points, and builds the table; `EXPLAIN`
//! shows the plan.

use super::budget::Budget;
use super::names::Schema;
use super::plan::{plan, Body, Plan};
use super::{output, rollup, scan, QueryError, QueryOptions};
use crate::ast::{Explain, Select};
use crate::table::{Cell, Column, ColumnType, Table};
use std::time::Instant;
use tally_engine::Db;

/// The instant `now()` means for this statement.
pub(crate) fn now(opts: &QueryOptions) -> i64 {
    opts.now.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    })
}

fn planned(db: &Db, s: &Select, text: &str, opts: &QueryOptions) -> Result<Plan, QueryError> {
    let schema = Schema::load(db, &s.from, text)?;
    Ok(plan(s, schema, text, now(opts), &opts.params)?)
}

/// How a plan was served.
#[derive(Debug, Clone, Default)]
pub(crate) struct Served {
    /// Lines describing the levels and pieces used.
    pub(crate) lines: Vec<String>,
}

/// Runs a `SELECT`.
pub(crate) fn run_select(
    db: &Db,
    s: &Select,
    text: &str,
    opts: &QueryOptions,
) -> Result<Table, QueryError> {
    let plan = planned(db, s, text, opts)?;
    execute(db, &plan, opts, &mut Served::default())
}

fn execute(
    db: &Db,
    plan: &Plan,
    opts: &QueryOptions,
    served: &mut Served,
) -> Result<Table, QueryError> {
    let budget = Budget::new(opts.limits);
    match &plan.body {
        Body::Agg(agg) => {
            let from_rollups = if opts.raw_only {
                None
            } else {
                rollup::aggregate(db, plan, agg, served)?
            };
            let groups = match from_rollups {
                Some(g) => g,
                None => {
                    served.lines.push(scan::served_by(plan, agg).into());
                    scan::aggregate(db, plan, agg, &budget)?
                }
            };
            let rows = output::aggregate_rows(plan, agg, groups, &budget)?;
            Ok(output::finish(plan, rows, false))
        }
        Body::Raw(cols) => {
            served.lines.push("served by: raw points".into());
            // Rows come out in time order; with no other ORDER BY, reading can stop early.
            let by_time = match plan.order.as_slice() {
                [] => Some(false),
                [(0, desc)] => Some(*desc),
                _ => None,
            };
            let want = match (by_time, plan.limit) {
                (Some(_), Some(l)) => Some(plan.offset.saturating_add(l)),
                _ => None,
            };
            let rows = scan::select(db, plan, cols, want, by_time.unwrap_or(false), &budget)?;
            Ok(output::finish(plan, rows, by_time.is_some()))
        }
    }
}

/// `EXPLAIN [ANALYZE]`: one `plan` column, one line per row.
pub(crate) fn explain(
    db: &Db,
    e: &Explain,
    text: &str,
    opts: &QueryOptions,
) -> Result<Table, QueryError> {
    let plan = planned(db, &e.select, text, opts)?;
    let mut lines = vec![
        format!("measurement: {}", plan.schema.measurement),
        format!(
            "time range: {} .. {} ({})",
            fmt_time(plan.range.start),
            fmt_time(plan.range.end),
            plan.tz
        ),
        format!(
            "series: {} picked by the tag index ({}){}",
            db.series(&plan.selector).len(),
            if plan.selector.predicates.is_empty() {
                "every series of the measurement".to_owned()
            } else {
                plan.selector
                    .predicates
                    .iter()
                    .map(predicate_text)
                    .collect::<Vec<_>>()
                    .join(" AND ")
            },
            if plan
                .series_cond
                .as_ref()
                .is_some_and(|c| rollup::exact(c).is_none())
            {
                ", then the rest of the tag condition per series"
            } else {
                ""
            }
        ),
    ];
    if plan.point_cond.is_some() {
        lines.push("filter: per point (fields or time)".into());
    }
    let fields: Vec<&str> = plan.fields.iter().map(|(f, _)| f.as_str()).collect();
    lines.push(format!(
        "fields read: {}",
        if fields.is_empty() {
            "all (to find points)".to_owned()
        } else {
            fields.join(", ")
        }
    ));
    let mut served = Served::default();
    if let Body::Agg(agg) = &plan.body {
        lines.push(format!(
            "aggregates: {}; groups: {}",
            agg.aggs.len(),
            agg.tags
                .iter()
                .map(String::as_str)
                .chain(agg.keys.iter().map(|k| k.name()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if e.analyze {
        let started = Instant::now();
        let table = execute(db, &plan, opts, &mut served)?;
        lines.extend(served.lines);
        lines.push(format!(
            "executed in {:.1} ms, {} rows",
            started.elapsed().as_secs_f64() * 1e3,
            table.rows.len()
        ));
    } else {
        match &plan.body {
            Body::Agg(agg) => match rollup::shape(db, &plan, agg).filter(|_| !opts.raw_only) {
                Some(desc) => lines.push(format!("served by: rollups ({desc})")),
                None => lines.push(scan::served_by(&plan, agg).into()),
            },
            Body::Raw(_) => lines.push("served by: raw points".into()),
        }
    }
    Ok(Table {
        columns: vec![Column {
            name: "plan".into(),
            ty: ColumnType::String,
        }],
        rows: lines.into_iter().map(|l| vec![Cell::String(l)]).collect(),
    })
}

/// A predicate as the query language writes it.
fn predicate_text(p: &tally_engine::TagPredicate) -> String {
    use tally_engine::TagPredicate as P;
    let list = |vs: &[String]| {
        vs.iter()
            .map(|v| crate::ast::Literal::string(v).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let s = |v: &str| crate::ast::Literal::string(v).to_string();
    let id = |k: &str| crate::ast::Ident::new(k).to_string();
    let re = |pattern: &str| {
        crate::ast::Regex {
            pattern: pattern.to_owned(),
            span: crate::ast::Span::default(),
        }
        .to_string()
    };
    match p {
        P::Eq { key, value } => format!("{} = {}", id(key), s(value)),
        P::Ne { key, value } => format!("{} != {}", id(key), s(value)),
        P::In { key, values } => format!("{} IN ({})", id(key), list(values)),
        P::NotIn { key, values } => format!("{} NOT IN ({})", id(key), list(values)),
        P::Regex { key, regex } => format!("{} =~ {}", id(key), re(regex.as_str())),
        P::NotRegex { key, regex } => format!("{} !~ {}", id(key), re(regex.as_str())),
    }
}

fn fmt_time(t: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(t).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}
