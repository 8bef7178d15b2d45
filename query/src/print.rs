//! Canonical text of every syntax-tree node (`Display`): keywords upper-case, identifiers quoted
//! only when they must be, strings and regexes escaped, and parentheses only where precedence
//! needs them. Printing a parsed tree and parsing the text again gives an equal tree.

use std::fmt::{self, Display, Formatter};

use crate::ast::{
    Arg, BinaryOp, Call, Duration, Explain, Expr, Fill, GroupItem, Ident, Literal, OrderItem,
    Param, Regex, Select, SelectItem, ShowFieldKeys, ShowMeasurements, ShowTagKeys, ShowTagValues,
    Source, Statement, TagKeys, TimeZone, Value,
};
use crate::lexical::is_bare_identifier;

/// Binding strength of an expression's top operator, as in the grammar (higher binds tighter).
/// A negative number literal counts as a negation, because that is how it parses.
fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::Binary { op, .. } => op_precedence(*op),
        Expr::Not(_) => 3,
        Expr::InList { .. } | Expr::Match { .. } => 4,
        Expr::Neg(_) => 7,
        Expr::Literal(l) if is_negative_number(&l.value) => 7,
        _ => 8,
    }
}

fn op_precedence(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => 1,
        BinaryOp::And => 2,
        BinaryOp::Eq
        | BinaryOp::NotEq
        | BinaryOp::Lt
        | BinaryOp::LtEq
        | BinaryOp::Gt
        | BinaryOp::GtEq => 4,
        BinaryOp::Add | BinaryOp::Sub => 5,
        BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 6,
    }
}

fn is_negative_number(v: &Value) -> bool {
    match v {
        Value::Integer(n) => *n < 0,
        Value::Float(f) => f.is_sign_negative(),
        Value::Duration(d) => d.nanos() < 0,
        _ => false,
    }
}

fn is_number(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Literal(Literal {
            value: Value::Integer(_) | Value::Float(_) | Value::Duration(_),
            ..
        })
    )
}

/// `e`, in parentheses when `parens`.
fn operand(f: &mut Formatter<'_>, e: &Expr, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

/// Items joined by `, `.
fn list<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Select(s) => write!(f, "{s}"),
            Statement::ShowMeasurements(s) => write!(f, "{s}"),
            Statement::ShowTagKeys(s) => write!(f, "{s}"),
            Statement::ShowTagValues(s) => write!(f, "{s}"),
            Statement::ShowFieldKeys(s) => write!(f, "{s}"),
            Statement::Explain(s) => write!(f, "{s}"),
        }
    }
}

impl Display for Explain {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let analyze = if self.analyze { "ANALYZE " } else { "" };
        write!(f, "EXPLAIN {analyze}{}", self.select)
    }
}

impl Display for Select {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        list(f, &self.items)?;
        write!(f, " FROM {}", self.from)?;
        if let Some(c) = &self.condition {
            write!(f, " WHERE {c}")?;
        }
        if !self.group_by.is_empty() {
            f.write_str(" GROUP BY ")?;
            list(f, &self.group_by)?;
        }
        if let Some(fill) = &self.fill {
            write!(f, " {fill}")?;
        }
        if !self.order_by.is_empty() {
            f.write_str(" ORDER BY ")?;
            list(f, &self.order_by)?;
        }
        for (kw, n) in [
            ("LIMIT", self.limit),
            ("OFFSET", self.offset),
            ("SLIMIT", self.slimit),
            ("SOFFSET", self.soffset),
        ] {
            if let Some(n) = n {
                write!(f, " {kw} {n}")?;
            }
        }
        if let Some(tz) = &self.tz {
            write!(f, " {tz}")?;
        }
        Ok(())
    }
}

impl Display for SelectItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Wildcard(_) => f.write_str("*"),
            SelectItem::Expr { expr, alias: None } => write!(f, "{expr}"),
            SelectItem::Expr {
                expr,
                alias: Some(alias),
            } => write!(f, "{expr} AS {alias}"),
        }
    }
}

impl Display for Source {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match (&self.database, &self.retention_policy) {
            (Some(db), Some(rp)) => write!(f, "{db}.{rp}.{}", self.name),
            (Some(db), None) => write!(f, "{db}..{}", self.name),
            (None, Some(rp)) => write!(f, "{rp}.{}", self.name),
            (None, None) => write!(f, "{}", self.name),
        }
    }
}

impl Display for GroupItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            GroupItem::Wildcard(_) => f.write_str("*"),
            GroupItem::Expr(e) => write!(f, "{e}"),
        }
    }
}

impl Display for Fill {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Fill::Null => f.write_str("FILL(NULL)"),
            Fill::None => f.write_str("FILL(NONE)"),
            Fill::Previous => f.write_str("FILL(PREVIOUS)"),
            Fill::Linear => f.write_str("FILL(LINEAR)"),
            Fill::Integer(n) => write!(f, "FILL({n})"),
            Fill::Float(x) => write!(f, "FILL({x:?})"),
        }
    }
}

impl Display for OrderItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        if self.descending {
            f.write_str(" DESC")?;
        }
        Ok(())
    }
}

impl Display for TimeZone {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("TZ(")?;
        write_string(f, &self.name)?;
        f.write_str(")")
    }
}

impl Display for ShowMeasurements {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SHOW MEASUREMENTS")?;
        if let Some(re) = &self.matching {
            write!(f, " WITH MEASUREMENT =~ {re}")?;
        }
        if let Some(n) = self.limit {
            write!(f, " LIMIT {n}")?;
        }
        Ok(())
    }
}

/// ` FROM source` when there is one.
fn from(f: &mut Formatter<'_>, source: &Option<Source>) -> fmt::Result {
    match source {
        Some(s) => write!(f, " FROM {s}"),
        None => Ok(()),
    }
}

impl Display for ShowTagKeys {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SHOW TAG KEYS")?;
        from(f, &self.from)
    }
}

impl Display for ShowTagValues {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SHOW TAG VALUES")?;
        from(f, &self.from)?;
        match &self.keys {
            TagKeys::Eq(key) => write!(f, " WITH KEY = {key}")?,
            TagKeys::In(keys) => {
                f.write_str(" WITH KEY IN (")?;
                list(f, keys)?;
                f.write_str(")")?;
            }
        }
        if let Some(c) = &self.condition {
            write!(f, " WHERE {c}")?;
        }
        Ok(())
    }
}

impl Display for ShowFieldKeys {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SHOW FIELD KEYS")?;
        from(f, &self.from)
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Ident(id) => write!(f, "{id}"),
            Expr::Literal(l) => write!(f, "{l}"),
            Expr::Param(p) => write!(f, "{p}"),
            Expr::Call(c) => write!(f, "{c}"),
            Expr::Binary { left, op, right } => {
                let p = op_precedence(*op);
                operand(f, left, precedence(left) < p)?;
                write!(f, " {op} ")?;
                operand(f, right, precedence(right) <= p)
            }
            Expr::Neg(e) => {
                // `-5` would read back as a negative literal and `--x` as a comment.
                f.write_str("-")?;
                let parens = precedence(e) < 7 || matches!(**e, Expr::Neg(_)) || is_number(e);
                operand(f, e, parens)
            }
            Expr::Not(e) => {
                f.write_str("NOT ")?;
                operand(f, e, precedence(e) < 3)
            }
            Expr::InList {
                expr,
                negated,
                list: items,
            } => {
                operand(f, expr, precedence(expr) < 4)?;
                f.write_str(if *negated { " NOT IN (" } else { " IN (" })?;
                list(f, items)?;
                f.write_str(")")
            }
            Expr::Match {
                expr,
                negated,
                regex,
            } => {
                operand(f, expr, precedence(expr) < 4)?;
                let op = if *negated { "!~" } else { "=~" };
                write!(f, " {op} {regex}")
            }
        }
    }
}

impl Display for BinaryOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BinaryOp::Or => "OR",
            BinaryOp::And => "AND",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
        })
    }
}

impl Display for Call {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        list(f, &self.args)?;
        f.write_str(")")?;
        if let Some(cond) = &self.filter {
            write!(f, " FILTER (WHERE {cond})")?;
        }
        Ok(())
    }
}

impl Display for Arg {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Wildcard(_) => f.write_str("*"),
            Arg::Distinct(e) => write!(f, "DISTINCT {e}"),
            Arg::Expr(e) => write!(f, "{e}"),
        }
    }
}

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if is_bare_identifier(&self.name) {
            return f.write_str(&self.name);
        }
        f.write_str("\"")?;
        for c in self.name.chars() {
            if c == '"' || c == '\\' {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("\"")
    }
}

impl Display for Param {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "${}", self.name)
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value)
    }
}

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Value::Integer(n) => write!(f, "{n}"),
            // Debug prints the shortest text that reads back as the same f64, always with a
            // `.` or an exponent, so it cannot be mistaken for an integer.
            Value::Float(x) => write!(f, "{x:?}"),
            Value::String(s) => write_string(f, s),
            Value::Duration(d) => write!(f, "{d}"),
            Value::Boolean(true) => f.write_str("TRUE"),
            Value::Boolean(false) => f.write_str("FALSE"),
            Value::Null => f.write_str("NULL"),
        }
    }
}

/// A single-quoted string with `'` and `\` escaped.
fn write_string(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("'")
}

impl Display for Duration {
    /// In the largest unit that divides it exactly: `90m`, not `5400s`.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        const UNITS: [(i64, &str); 8] = [
            (604_800_000_000_000, "w"),
            (86_400_000_000_000, "d"),
            (3_600_000_000_000, "h"),
            (60_000_000_000, "m"),
            (1_000_000_000, "s"),
            (1_000_000, "ms"),
            (1_000, "u"),
            (1, "ns"),
        ];
        let nanos = self.nanos();
        if nanos == 0 {
            return f.write_str("0s");
        }
        for (size, unit) in UNITS {
            if nanos % size == 0 {
                return write!(f, "{}{unit}", nanos / size);
            }
        }
        unreachable!("every duration is a whole number of nanoseconds")
    }
}

impl Display for Regex {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("/")?;
        for c in self.pattern.chars() {
            if c == '/' {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("/")
    }
}

#[cfg(test)]
mod tests {
    use crate::ast::{BinaryOp, Duration, Expr, Ident, Literal, Value};
    use crate::parse_expression;

    fn id(name: &str) -> Expr {
        Expr::Ident(Ident::new(name))
    }

    fn int(v: i64) -> Expr {
        Expr::Literal(Literal::integer(v))
    }

    /// Print, parse back, compare; returns the text.
    fn round_trip(e: &Expr) -> String {
        let text = e.to_string();
        let back = parse_expression(&text).unwrap_or_else(|err| panic!("{text}\n{err}"));
        assert_eq!(&back, e, "{text}");
        text
    }

    #[test]
    fn parentheses_only_where_needed() {
        use BinaryOp::*;
        let sum = Expr::binary(id("a"), Add, id("b"));
        assert_eq!(
            round_trip(&Expr::binary(sum.clone(), Mul, id("c"))),
            "(a + b) * c"
        );
        assert_eq!(
            round_trip(&Expr::binary(id("c"), Sub, sum.clone())),
            "c - (a + b)"
        );
        assert_eq!(
            round_trip(&Expr::binary(sum.clone(), Sub, id("c"))),
            "a + b - c"
        );
        let or = Expr::binary(id("a"), Or, id("b"));
        assert_eq!(
            round_trip(&Expr::binary(or.clone(), And, id("c"))),
            "(a OR b) AND c"
        );
        assert_eq!(round_trip(&Expr::Not(Box::new(or))), "NOT (a OR b)");
        let eq = Expr::binary(id("a"), Eq, id("b"));
        assert_eq!(round_trip(&Expr::binary(id("x"), Eq, eq)), "x = (a = b)");
    }

    #[test]
    fn negation_never_prints_a_comment_or_a_literal() {
        let neg = |e| Expr::Neg(Box::new(e));
        assert_eq!(round_trip(&neg(neg(id("x")))), "-(-x)");
        assert_eq!(round_trip(&neg(int(5))), "-(5)");
        assert_eq!(round_trip(&neg(int(-5))), "-(-5)");
        assert_eq!(round_trip(&int(i64::MIN)), "-9223372036854775808");
        assert_eq!(
            round_trip(&Expr::binary(id("a"), BinaryOp::Sub, int(-1))),
            "a - -1"
        );
        assert_eq!(
            round_trip(&Expr::binary(id("a"), BinaryOp::Mul, neg(id("b")))),
            "a * -b"
        );
    }

    #[test]
    fn literals() {
        let lit = |v| Expr::Literal(Literal::new(v));
        assert_eq!(round_trip(&lit(Value::Float(1.0))), "1.0");
        assert_eq!(round_trip(&lit(Value::Float(1e300))), "1e300");
        assert_eq!(round_trip(&lit(Value::Float(-2.5e-8))), "-2.5e-8");
        assert_eq!(
            round_trip(&lit(Value::String("a'b\\c".into()))),
            r"'a\'b\\c'"
        );
        let d = |n| lit(Value::Duration(Duration::from_nanos(n)));
        assert_eq!(round_trip(&d(0)), "0s");
        assert_eq!(round_trip(&d(90 * 60_000_000_000)), "90m");
        assert_eq!(round_trip(&d(-15 * 60_000_000_000)), "-15m");
        assert_eq!(round_trip(&d(1_500)), "1500ns");
        assert_eq!(round_trip(&d(i64::MIN)), "-9223372036854775808ns");
        assert_eq!(round_trip(&lit(Value::Null)), "NULL");
    }

    #[test]
    fn identifiers_are_quoted_only_when_needed() {
        assert_eq!(round_trip(&id("latency_ms")), "latency_ms");
        assert_eq!(round_trip(&id("from")), "\"from\"");
        assert_eq!(round_trip(&id("status code")), "\"status code\"");
        assert_eq!(round_trip(&id(r#"a"b\c"#)), r#""a\"b\\c""#);
        assert_eq!(round_trip(&id("")), "\"\"");
        assert_eq!(round_trip(&id("2xx")), "\"2xx\"");
    }
}
