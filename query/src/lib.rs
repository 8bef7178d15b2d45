//! Tally's query language: parses the SQL-like language (a superset of InfluxQL's SELECT core)
//! with nom into a syntax tree, prints trees back as canonical text, and plans and executes
//! statements against the engine ([`run`], [`exec`]): the tag index picks the series, rollup
//! tiers serve the aggregates they can answer, raw points the rest. Results are [`Table`]s,
//! rendered by [`format`]. This crate knows nothing of sockets.
//!
//! ```
//! use tally_query::{ast::Statement, parse_statement};
//!
//! let stmt = parse_statement(
//!     "select p99(latency_ms) from requests where time > now() - 7d group by time(1h)",
//! )
//! .unwrap();
//! assert!(matches!(stmt, Statement::Select(_)));
//! assert_eq!(
//!     stmt.to_string(),
//!     "SELECT p99(latency_ms) FROM requests WHERE time > now() - 1w GROUP BY time(1h)"
//! );
//!
//! let err = parse_statement("SELECT count(*) FORM requests").unwrap_err();
//! assert_eq!(err.to_string(), "\
//! error at line 1, column 17: expected FROM, found `FORM`
//!   SELECT count(*) FORM requests
//!                   ^^^^");
//! ```
//!
//! The grammar is in docs/query-language.md.

pub mod ast;
mod error;
pub mod exec;
mod expr;
pub mod format;
mod lexical;
mod limits;
pub mod params;
mod print;
mod statement;
pub mod suggest;
pub mod table;

pub use error::{ParseError, ParseErrorKind};
pub use exec::{execute, run, ExecLimits, ParamValue, QueryError, QueryOptions};
pub use limits::{Limits, MAX_DEPTH, MAX_NESTING, MAX_QUERY_LEN};
pub use table::{Cell, Column, ColumnType, Table};

use ast::{Expr, Statement};
use error::Fail;
use lexical::{Input, PResult};

/// Parse text holding any number of statements separated by `;` (blank text gives none).
///
/// ```
/// let stmts = tally_query::parse_statements("SHOW MEASUREMENTS; SHOW TAG KEYS FROM requests;")
///     .unwrap();
/// assert_eq!(stmts.len(), 2);
/// ```
pub fn parse_statements(text: &str) -> Result<Vec<Statement>, ParseError> {
    parse_statements_with(text, Limits::default())
}

/// [`parse_statements`] with explicit [`Limits`].
///
/// ```
/// use tally_query::{parse_statements_with, Limits};
/// assert!(parse_statements_with("SHOW FIELD KEYS", Limits::default()).is_ok());
/// ```
pub fn parse_statements_with(text: &str, limits: Limits) -> Result<Vec<Statement>, ParseError> {
    parse_with(text, limits, statement::statements)
}

/// Parse exactly one statement (a trailing `;` is allowed).
///
/// ```
/// use tally_query::{parse_statement, ParseErrorKind};
/// assert!(parse_statement("SELECT * FROM requests;").is_ok());
/// let err = parse_statement("SELECT * FROM a; SELECT * FROM b").unwrap_err();
/// assert_eq!(err.kind, ParseErrorKind::TrailingInput);
/// ```
pub fn parse_statement(text: &str) -> Result<Statement, ParseError> {
    parse_statement_with(text, Limits::default())
}

/// [`parse_statement`] with explicit [`Limits`].
///
/// ```
/// use tally_query::{parse_statement_with, Limits, ParseErrorKind};
/// let limits = Limits { max_depth: 2, ..Limits::default() };
/// let err = parse_statement_with("SELECT a + b + c FROM m", limits).unwrap_err();
/// assert_eq!(err.kind, ParseErrorKind::TooDeep { max: 2 });
/// ```
pub fn parse_statement_with(text: &str, limits: Limits) -> Result<Statement, ParseError> {
    parse_with(text, limits, statement::single_statement)
}

/// Parse a lone expression, such as a saved query's parameter default or a test's condition.
///
/// ```
/// use tally_query::parse_expression;
/// assert_eq!(parse_expression("status >= 500 AND NOT key IN ('a')").unwrap().to_string(),
///            "status >= 500 AND NOT key IN ('a')");
/// ```
pub fn parse_expression(text: &str) -> Result<Expr, ParseError> {
    parse_expression_with(text, Limits::default())
}

/// [`parse_expression`] with explicit [`Limits`].
///
/// ```
/// use tally_query::{parse_expression_with, Limits};
/// assert!(parse_expression_with("now() - 1h", Limits::default()).is_ok());
/// ```
pub fn parse_expression_with(text: &str, limits: Limits) -> Result<Expr, ParseError> {
    parse_with(text, limits, |i| {
        let (rest, e) = lexical::must(expr::expression(i))?;
        if !lexical::at_end(&rest) {
            let (at, _) = lexical::ws(rest)?;
            let fail = Fail::kind(&at, ParseErrorKind::TrailingInput);
            return Err(nom::Err::Failure(fail));
        }
        Ok((rest, e))
    })
}

/// Check the length limit, run a rule over the whole text and turn its failure into a
/// [`ParseError`] tied to the text.
fn parse_with<T>(
    text: &str,
    limits: Limits,
    rule: impl FnOnce(Input<'_>) -> PResult<'_, T>,
) -> Result<T, ParseError> {
    if text.len() > limits.max_query_len {
        let mut at = limits.max_query_len;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let fail = Fail {
            at,
            expected: Vec::new(),
            kind: ParseErrorKind::TooLong {
                len: text.len(),
                max: limits.max_query_len,
            },
            anchor: Some((at, 1)),
        };
        return Err(fail.into_parse_error(text));
    }
    match rule(Input::new_extra(text, limits)) {
        Ok((_, value)) => Ok(value),
        Err(nom::Err::Error(fail) | nom::Err::Failure(fail)) => Err(fail.into_parse_error(text)),
        // Only streaming parsers ask for more input, and every rule here is complete.
        Err(nom::Err::Incomplete(_)) => Err(Fail {
            at: text.len(),
            expected: Vec::new(),
            kind: ParseErrorKind::Expected,
            anchor: None,
        }
        .into_parse_error(text)),
    }
}
