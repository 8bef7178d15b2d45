//! Runs parsed statements against the engine: plans a `SELECT` (time range, series selection,
//! which rollup tier or raw points serve it), executes it, and returns a [`Table`].
//!
//! Entry points: [`run`] (text in, tables out) and [`execute`] (one parsed statement).

mod agg;
mod buckets;
mod budget;
mod names;
mod output;
mod plan;
mod rollup;
mod scalar;
mod scan;
mod select;
mod show;
mod tags;
mod timerange;

pub use timerange::{parse_duration, parse_instant};

use crate::ast::Statement;
use crate::table::Table;
use crate::{parse_statements, ParseError};
use std::collections::BTreeMap;
use std::time::Duration;
use tally_engine::{Db, EngineError};
use thiserror::Error;

/// A value bound to a `$name` parameter of a saved query.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// Text (also a tag value).
    String(String),
    /// A whole number.
    Integer(i64),
    /// A number with a fraction.
    Float(f64),
    /// An instant, nanoseconds since the Unix epoch.
    Time(i64),
    /// A length of time, nanoseconds.
    Duration(i64),
    /// `true` / `false`.
    Boolean(bool),
}

/// How much a query may use before it is stopped with [`QueryError::Budget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecLimits {
    /// Wall-clock time per statement.
    pub timeout: Duration,
    /// Bytes of points and intermediate state a statement may hold at once.
    pub max_memory_bytes: usize,
    /// Rows a result may have.
    pub max_rows: usize,
}

impl Default for ExecLimits {
    fn default() -> Self {
        ExecLimits {
            timeout: Duration::from_secs(30),
            max_memory_bytes: 1 << 30,
            max_rows: 1_000_000,
        }
    }
}

/// What a query runs with besides its text.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    /// The instant `now()` means, nanoseconds since the Unix epoch (`None`: the wall clock when
    /// the statement starts).
    pub now: Option<i64>,
    /// Values of the `$name` parameters.
    pub params: BTreeMap<String, ParamValue>,
    /// Time, memory and row budgets.
    pub limits: ExecLimits,
    /// Answer aggregates from raw points even where rollups could (to check rollups against
    /// raw data, and to measure raw scans).
    pub raw_only: bool,
}

/// Why a query did not run.
#[derive(Debug, Error)]
pub enum QueryError {
    /// The text does not parse, or parses but cannot run (unknown names, misplaced
    /// aggregates...); both point at the spot with a caret.
    #[error("{0}")]
    Invalid(#[from] ParseError),
    /// The query went over a budget of [`ExecLimits`]; the message names the budget and how to
    /// narrow the query.
    #[error("{0}")]
    Budget(String),
    /// The storage engine failed to read.
    #[error("storage error: {0}")]
    Engine(#[from] EngineError),
}

/// Parses `text` (one or more `;`-separated statements) and runs each in turn.
pub fn run(db: &Db, text: &str, opts: &QueryOptions) -> Result<Vec<Table>, QueryError> {
    let statements = parse_statements(text)?;
    statements
        .iter()
        .map(|s| execute(db, s, text, opts))
        .collect()
}

/// Runs one parsed statement; `text` is the query text it came from (errors point into it).
pub fn execute(
    db: &Db,
    stmt: &Statement,
    text: &str,
    opts: &QueryOptions,
) -> Result<Table, QueryError> {
    match stmt {
        Statement::ShowMeasurements(s) => show::show_measurements(db, s, text),
        Statement::ShowTagKeys(s) => show::show_tag_keys(db, s, text),
        Statement::ShowTagValues(s) => show::show_tag_values(db, s, text, opts),
        Statement::ShowFieldKeys(s) => show::show_field_keys(db, s, text),
        Statement::Select(s) => select::run_select(db, s, text, opts),
        Statement::Explain(e) => select::explain(db, e, text, opts),
    }
}
