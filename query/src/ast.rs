//! The syntax tree of a query: what the parser produces, what the printer prints and what the
//! planner will check. Nodes the planner may need to blame (identifiers, calls, parameters,
//! literals) carry a [`Span`]; spans never take part in equality, so a query and its canonical
//! print compare equal.

use std::fmt;

/// Where a node was written in the query text.
///
/// Equality ignores spans on purpose: `PartialEq` on a `Span` is always `true`, so two trees
/// that differ only in where their nodes were written compare equal. That is what makes the
/// round trip "parse, print, parse" an identity, and lets tests build expected trees with
/// [`Span::default()`].
///
/// ```
/// use tally_query::ast::Span;
/// let a = Span { offset: 0, line: 1, column: 1, len: 5 };
/// assert_eq!(a, Span::default());
/// ```
#[derive(Clone, Copy, Default)]
pub struct Span {
    /// Byte offset of the first character in the query text.
    pub offset: usize,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters (not bytes).
    pub column: usize,
    /// Length in bytes.
    pub len: usize,
}

impl PartialEq for Span {
    /// Always `true`: positions are metadata, not meaning (see the type's documentation).
    fn eq(&self, _other: &Span) -> bool {
        true
    }
}

impl Eq for Span {}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}+{}", self.line, self.column, self.len)
    }
}

/// One statement of the language.
///
/// ```
/// use tally_query::{ast::Statement, parse_statement};
/// let stmt = parse_statement("SHOW MEASUREMENTS").unwrap();
/// assert!(matches!(stmt, Statement::ShowMeasurements(_)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `SELECT ...`
    Select(Box<Select>),
    /// `SHOW MEASUREMENTS ...`
    ShowMeasurements(ShowMeasurements),
    /// `SHOW TAG KEYS ...`
    ShowTagKeys(ShowTagKeys),
    /// `SHOW TAG VALUES ...`
    ShowTagValues(ShowTagValues),
    /// `SHOW FIELD KEYS ...`
    ShowFieldKeys(ShowFieldKeys),
    /// `EXPLAIN [ANALYZE] SELECT ...`
    Explain(Explain),
}

/// `EXPLAIN [ANALYZE] <select>`: show the plan (and with `ANALYZE`, run it and show what it did).
///
/// ```
/// use tally_query::{ast::Statement, parse_statement};
/// let Statement::Explain(e) = parse_statement("EXPLAIN ANALYZE SELECT * FROM m").unwrap() else {
///     panic!()
/// };
/// assert!(e.analyze);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Explain {
    /// `true` for `EXPLAIN ANALYZE`.
    pub analyze: bool,
    /// The query being explained.
    pub select: Box<Select>,
}

/// A `SELECT` query. Clause order in the canonical print is the field order below.
///
/// ```
/// use tally_query::{ast::Statement, parse_statement};
/// let Statement::Select(s) = parse_statement("SELECT sum(x) FROM m LIMIT 3").unwrap() else {
///     panic!()
/// };
/// assert_eq!(s.limit, Some(3));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    /// The select list; never empty.
    pub items: Vec<SelectItem>,
    /// The measurement read.
    pub from: Source,
    /// `WHERE` condition.
    pub condition: Option<Expr>,
    /// `GROUP BY` items, empty when there is no `GROUP BY`.
    pub group_by: Vec<GroupItem>,
    /// `FILL(...)`.
    pub fill: Option<Fill>,
    /// `ORDER BY` items, empty when there is no `ORDER BY`.
    pub order_by: Vec<OrderItem>,
    /// `LIMIT n`.
    pub limit: Option<u64>,
    /// `OFFSET n`.
    pub offset: Option<u64>,
    /// `SLIMIT n` (series limit, InfluxQL).
    pub slimit: Option<u64>,
    /// `SOFFSET n` (series offset, InfluxQL).
    pub soffset: Option<u64>,
    /// `TZ('Area/City')`.
    pub tz: Option<TimeZone>,
}

/// One entry of the select list.
///
/// ```
/// use tally_query::ast::{Expr, Ident, SelectItem};
/// let item = SelectItem::Expr { expr: Expr::Ident(Ident::new("x")), alias: Some(Ident::new("y")) };
/// assert_eq!(item.to_string(), "x AS y");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// `*`: every field (a raw select).
    Wildcard(Span),
    /// `expr [AS alias]`.
    Expr {
        /// The selected expression.
        expr: Expr,
        /// The column name given with `AS`.
        alias: Option<Ident>,
    },
}

/// The measurement a query reads, optionally qualified InfluxQL-style: `"db"."rp"."m"`,
/// `db..m` or `rp.m`.
///
/// ```
/// use tally_query::ast::{Ident, Source};
/// let s = Source { database: Some(Ident::new("db")), retention_policy: None, name: Ident::new("m") };
/// assert_eq!(s.to_string(), "db..m");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The database part, if written.
    pub database: Option<Ident>,
    /// The retention-policy part, if written.
    pub retention_policy: Option<Ident>,
    /// The measurement.
    pub name: Ident,
}

impl Source {
    /// An unqualified measurement.
    ///
    /// ```
    /// assert_eq!(tally_query::ast::Source::measurement("requests").to_string(), "requests");
    /// ```
    pub fn measurement(name: &str) -> Source {
        Source {
            database: None,
            retention_policy: None,
            name: Ident::new(name),
        }
    }
}

/// One `GROUP BY` entry. Any expression parses here (`endpoint`, `time(5m)`, `day(time)`,
/// `hour_of_week(time)`); the planner decides what is allowed.
///
/// ```
/// use tally_query::ast::{Expr, GroupItem, Ident};
/// assert_eq!(GroupItem::Expr(Expr::Ident(Ident::new("key"))).to_string(), "key");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum GroupItem {
    /// `GROUP BY *`: every tag.
    Wildcard(Span),
    /// A tag, a bucket call or any other expression.
    Expr(Expr),
}

/// `FILL(...)`: what an empty time bucket yields.
///
/// ```
/// assert_eq!(tally_query::ast::Fill::Integer(0).to_string(), "FILL(0)");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Fill {
    /// `FILL(null)`: an empty bucket yields null (the default).
    Null,
    /// `FILL(none)`: empty buckets are left out.
    None,
    /// `FILL(previous)`: repeat the previous bucket's value.
    Previous,
    /// `FILL(linear)`: interpolate between neighbours.
    Linear,
    /// `FILL(n)` with an integer.
    Integer(i64),
    /// `FILL(x)` with a float.
    Float(f64),
}

/// One `ORDER BY` entry.
///
/// ```
/// use tally_query::ast::{Expr, Ident, OrderItem};
/// let item = OrderItem { expr: Expr::Ident(Ident::new("count")), descending: true };
/// assert_eq!(item.to_string(), "count DESC");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    /// What to sort by.
    pub expr: Expr,
    /// `true` for `DESC`; `ASC` is the default and is not printed.
    pub descending: bool,
}

/// `TZ('Area/City')`: the time zone of calendar buckets. Not validated by the parser.
///
/// ```
/// use tally_query::ast::{Span, TimeZone};
/// let tz = TimeZone { name: "Europe/Paris".into(), span: Span::default() };
/// assert_eq!(tz.to_string(), "TZ('Europe/Paris')");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TimeZone {
    /// The zone name as written.
    pub name: String,
    /// Where the name (the string literal) was written.
    pub span: Span,
}

/// `SHOW MEASUREMENTS [WITH MEASUREMENT =~ /re/] [LIMIT n]`.
///
/// ```
/// use tally_query::{ast::Statement, parse_statement};
/// let Statement::ShowMeasurements(s) = parse_statement("SHOW MEASUREMENTS LIMIT 5").unwrap() else {
///     panic!()
/// };
/// assert_eq!(s.limit, Some(5));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ShowMeasurements {
    /// Only measurements whose name matches.
    pub matching: Option<Regex>,
    /// At most this many names.
    pub limit: Option<u64>,
}

/// `SHOW TAG KEYS [FROM m]`.
///
/// ```
/// use tally_query::{ast::Statement, parse_statement};
/// let Statement::ShowTagKeys(s) = parse_statement("SHOW TAG KEYS FROM requests").unwrap() else {
///     panic!()
/// };
/// assert!(s.from.is_some());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ShowTagKeys {
    /// Only this measurement's keys.
    pub from: Option<Source>,
}

/// `SHOW TAG VALUES [FROM m] WITH KEY = "k" | WITH KEY IN ("a", "b") [WHERE ...]`.
///
/// ```
/// use tally_query::{ast::Statement, parse_statement};
/// let q = r#"SHOW TAG VALUES FROM requests WITH KEY IN ("key", "endpoint")"#;
/// let Statement::ShowTagValues(s) = parse_statement(q).unwrap() else { panic!() };
/// assert_eq!(s.keys.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ShowTagValues {
    /// Only this measurement's values.
    pub from: Option<Source>,
    /// The tag keys whose values are listed: one for `WITH KEY = k`, one or more for
    /// `WITH KEY IN (...)`.
    pub keys: TagKeys,
    /// Only values of series matching this condition.
    pub condition: Option<Expr>,
}

/// The key selector of `SHOW TAG VALUES`.
///
/// ```
/// use tally_query::ast::{Ident, TagKeys};
/// assert_eq!(TagKeys::In(vec![Ident::new("a"), Ident::new("b")]).len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum TagKeys {
    /// `WITH KEY = k`.
    Eq(Ident),
    /// `WITH KEY IN (a, b, ...)`, never empty.
    In(Vec<Ident>),
}

impl TagKeys {
    /// How many keys are named.
    ///
    /// ```
    /// use tally_query::ast::{Ident, TagKeys};
    /// assert_eq!(TagKeys::Eq(Ident::new("k")).len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            TagKeys::Eq(_) => 1,
            TagKeys::In(keys) => keys.len(),
        }
    }

    /// Never true for a parsed statement (`IN ()` is rejected); here for completeness.
    ///
    /// ```
    /// use tally_query::ast::TagKeys;
    /// assert!(TagKeys::In(vec![]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `SHOW FIELD KEYS [FROM m]`.
///
/// ```
/// use tally_query::{ast::Statement, parse_statement};
/// let Statement::ShowFieldKeys(s) = parse_statement("SHOW FIELD KEYS").unwrap() else { panic!() };
/// assert!(s.from.is_none());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ShowFieldKeys {
    /// Only this measurement's fields.
    pub from: Option<Source>,
}

/// An expression.
///
/// ```
/// use tally_query::ast::{BinaryOp, Expr, Ident, Literal};
/// let e = Expr::binary(Expr::Ident(Ident::new("a")), BinaryOp::Add, Expr::Literal(Literal::integer(1)));
/// assert_eq!(e.to_string(), "a + 1");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A tag, field or column name (`time` is one too).
    Ident(Ident),
    /// A constant.
    Literal(Literal),
    /// A bind parameter `$name` of a saved query.
    Param(Param),
    /// A function call: aggregates, `now()`, `time(5m)`, `hour_of_week(time)`...
    Call(Call),
    /// `left op right`.
    Binary {
        /// Left operand.
        left: Box<Expr>,
        /// The operator.
        op: BinaryOp,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `-expr`.
    Neg(Box<Expr>),
    /// `NOT expr`.
    Not(Box<Expr>),
    /// `expr [NOT] IN (a, b, ...)`.
    InList {
        /// The tested value.
        expr: Box<Expr>,
        /// `true` for `NOT IN`.
        negated: bool,
        /// The candidates, never empty.
        list: Vec<Expr>,
    },
    /// `expr =~ /re/` or `expr !~ /re/`.
    Match {
        /// The tested value.
        expr: Box<Expr>,
        /// `true` for `!~`.
        negated: bool,
        /// The pattern.
        regex: Regex,
    },
}

impl Expr {
    /// Where the expression was written, from its first to its last token (an enclosing
    /// parenthesis or a leading `NOT`/`-` may lie outside).
    ///
    /// ```
    /// let e = tally_query::parse_expression("a + b").unwrap();
    /// assert_eq!((e.span().offset, e.span().len), (0, 5));
    /// ```
    pub fn span(&self) -> Span {
        fn join(a: Span, b: Span) -> Span {
            let end = (b.offset + b.len).max(a.offset + a.len);
            Span {
                len: end.saturating_sub(a.offset),
                ..a
            }
        }
        match self {
            Expr::Ident(i) => i.span,
            Expr::Literal(l) => l.span,
            Expr::Param(p) => p.span,
            Expr::Call(c) => c.span,
            Expr::Binary { left, right, .. } => join(left.span(), right.span()),
            Expr::Neg(x) | Expr::Not(x) => x.span(),
            Expr::InList { expr, list, .. } => match list.last() {
                Some(last) => join(expr.span(), last.span()),
                None => expr.span(),
            },
            Expr::Match { expr, regex, .. } => join(expr.span(), regex.span),
        }
    }

    /// `left op right`, boxing the operands.
    ///
    /// ```
    /// use tally_query::ast::{BinaryOp, Expr, Ident};
    /// let e = Expr::binary(Expr::Ident(Ident::new("a")), BinaryOp::Or, Expr::Ident(Ident::new("b")));
    /// assert_eq!(e.to_string(), "a OR b");
    /// ```
    pub fn binary(left: Expr, op: BinaryOp, right: Expr) -> Expr {
        Expr::Binary {
            left: Box::new(left),
            op,
            right: Box::new(right),
        }
    }
}

/// A binary operator. `<>` parses as [`BinaryOp::NotEq`] and prints as `!=`.
///
/// ```
/// assert_eq!(tally_query::ast::BinaryOp::NotEq.to_string(), "!=");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `OR`
    Or,
    /// `AND`
    And,
    /// `=`
    Eq,
    /// `!=` or `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
}

/// An identifier: bare (`latency_ms`) or double-quoted (`"status code"`), stored unquoted.
///
/// ```
/// assert_eq!(tally_query::ast::Ident::new("status code").to_string(), "\"status code\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name, with quotes and escapes removed.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

impl Ident {
    /// An identifier with an empty span (for building trees in code).
    ///
    /// ```
    /// assert_eq!(tally_query::ast::Ident::new("key").name, "key");
    /// ```
    pub fn new(name: &str) -> Ident {
        Ident {
            name: name.to_string(),
            span: Span::default(),
        }
    }
}

/// A bind parameter `$name`, filled in when a saved query runs.
///
/// ```
/// use tally_query::ast::{Param, Span};
/// assert_eq!(Param { name: "from".into(), span: Span::default() }.to_string(), "$from");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The name without the `$`.
    pub name: String,
    /// Where it was written (including the `$`).
    pub span: Span,
}

/// A function call. Names and arity are not checked by the parser; the planner does that and
/// points at [`Call::span`] when they are wrong.
///
/// ```
/// use tally_query::{ast::Expr, parse_statement, ast::Statement};
/// let Statement::Select(s) = parse_statement("SELECT count(*) FROM m").unwrap() else { panic!() };
/// let tally_query::ast::SelectItem::Expr { expr: Expr::Call(call), .. } = &s.items[0] else { panic!() };
/// assert_eq!(call.name.name, "count");
/// assert_eq!(call.span.len, "count(*)".len());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The function name as written (case kept).
    pub name: Ident,
    /// The arguments.
    pub args: Vec<Arg>,
    /// `FILTER (WHERE cond)` right after the call.
    pub filter: Option<Box<Expr>>,
    /// From the name to the closing parenthesis (of the FILTER when there is one).
    pub span: Span,
}

/// One argument of a call.
///
/// ```
/// assert_eq!(tally_query::ast::Arg::Wildcard(Default::default()).to_string(), "*");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// `*`, as in `count(*)`.
    Wildcard(Span),
    /// `DISTINCT expr`, as in `count(DISTINCT key)`.
    Distinct(Expr),
    /// Any expression.
    Expr(Expr),
}

/// A constant and where it was written.
///
/// ```
/// use tally_query::ast::Literal;
/// assert_eq!(Literal::string("it's").to_string(), r"'it\'s'");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    /// The value.
    pub value: Value,
    /// Where it was written (a negative number includes its `-`).
    pub span: Span,
}

impl Literal {
    /// An integer literal with an empty span.
    ///
    /// ```
    /// assert_eq!(tally_query::ast::Literal::integer(-3).to_string(), "-3");
    /// ```
    pub fn integer(v: i64) -> Literal {
        Literal {
            value: Value::Integer(v),
            span: Span::default(),
        }
    }

    /// A string literal with an empty span.
    ///
    /// ```
    /// assert_eq!(tally_query::ast::Literal::string("5xx").to_string(), "'5xx'");
    /// ```
    pub fn string(v: &str) -> Literal {
        Literal {
            value: Value::String(v.to_string()),
            span: Span::default(),
        }
    }

    /// A literal of any value with an empty span.
    ///
    /// ```
    /// use tally_query::ast::{Literal, Value};
    /// assert_eq!(Literal::new(Value::Boolean(true)).to_string(), "TRUE");
    /// ```
    pub fn new(value: Value) -> Literal {
        Literal {
            value,
            span: Span::default(),
        }
    }
}

/// The value of a literal.
///
/// ```
/// use tally_query::ast::{Duration, Value};
/// assert_eq!(Value::Duration(Duration::from_nanos(300_000_000_000)).to_string(), "5m");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `42`, `-7`.
    Integer(i64),
    /// `1.5`, `.5`, `1e3`. Always finite.
    Float(f64),
    /// `'text'`; RFC 3339 times are strings too, the planner reads them as times.
    String(String),
    /// `5m`, `-15m`, `1h30m`.
    Duration(Duration),
    /// `TRUE` / `FALSE`.
    Boolean(bool),
    /// `NULL`.
    Null,
}

/// A fixed-length duration in nanoseconds. Calendar units (months, years) are not durations:
/// they are bucket functions such as `month(time)`.
///
/// ```
/// use tally_query::ast::Duration;
/// assert_eq!(Duration::from_nanos(5_400_000_000_000).to_string(), "90m");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    nanos: i64,
}

impl Duration {
    /// A duration of `nanos` nanoseconds (may be negative, as in `time(1h, -15m)`).
    ///
    /// ```
    /// assert_eq!(tally_query::ast::Duration::from_nanos(-1).nanos(), -1);
    /// ```
    pub fn from_nanos(nanos: i64) -> Duration {
        Duration { nanos }
    }

    /// The length in nanoseconds.
    ///
    /// ```
    /// assert_eq!(tally_query::ast::Duration::from_nanos(1000).nanos(), 1000);
    /// ```
    pub fn nanos(self) -> i64 {
        self.nanos
    }
}

/// A regular-expression literal `/.../` (only right of `=~`, `!~` and in
/// `WITH MEASUREMENT =~`). The pattern is kept as written except that `\/` becomes `/`; it is
/// compiled by the planner.
///
/// ```
/// use tally_query::ast::{Regex, Span};
/// assert_eq!(Regex { pattern: "^/api".into(), span: Span::default() }.to_string(), r"/^\/api/");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regex {
    /// The pattern, without the slashes.
    pub pattern: String,
    /// Where the literal (with its slashes) was written.
    pub span: Span,
}
