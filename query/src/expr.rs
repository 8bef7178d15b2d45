//! The expression grammar, lowest precedence first:
//!
//! ```text
//! expr           := or_expr
//! or_expr        := and_expr ("OR" and_expr)*
//! and_expr       := not_expr ("AND" not_expr)*
//! not_expr       := "NOT" not_expr | comparison
//! comparison     := additive ( cmp_op additive | ("=~" | "!~") regex
//!                            | ["NOT"] "IN" "(" expr ("," expr)* ")" )*
//! additive       := multiplicative (("+" | "-") multiplicative)*
//! multiplicative := unary (("*" | "/" | "%") unary)*
//! unary          := "-" number | "-" unary | primary
//! primary        := "(" expr ")" | number | string | param | TRUE | FALSE | NULL
//!                 | identifier [call]
//! call           := "(" [arg ("," arg)*] ")" ["FILTER" "(" "WHERE" expr ")"]
//! arg            := "*" | "DISTINCT" expr | expr
//! ```
//!
//! Recursion is bounded by [`crate::Limits::max_nesting`], and every rule returns the tree with
//! its height so that a tree taller than [`crate::Limits::max_depth`] (say a long `OR` chain,
//! which parses in a loop) is refused before it is built, because printing,
//! comparing and dropping it recurse once per level.

use crate::ast::{Arg, BinaryOp, Call, Expr, Ident, Literal, Value};
use crate::error::{Fail, ParseErrorKind};
use crate::lexical::{
    identifier, keyword, must, number, param, regex_literal, signed, span_between, starts_number,
    string_literal, symbol, ws, Input, PResult,
};

/// An expression and the height of its tree.
type Tree = (Expr, usize);

/// A rule that takes the current nesting level.
type Rule = for<'a> fn(Input<'a>, usize) -> PResult<'a, Tree>;

/// An expression (the `expr` rule).
pub(crate) fn expression(i: Input<'_>) -> PResult<'_, Expr> {
    let (rest, (e, _)) = expr(i, 0)?;
    Ok((rest, e))
}

/// Refuse nesting beyond the limit; `at` is where the error points.
fn nested(at: &Input<'_>, nest: usize) -> Result<usize, nom::Err<Fail>> {
    let max = at.extra.max_nesting;
    if nest > max {
        let fail = Fail::kind(at, ParseErrorKind::TooNested { max });
        return Err(nom::Err::Failure(fail));
    }
    Ok(nest)
}

/// Refuse a tree taller than the limit; `at` is where the error points.
fn level(at: &Input<'_>, height: usize) -> Result<usize, nom::Err<Fail>> {
    let max = at.extra.max_depth;
    if height > max {
        let fail = Fail::kind(at, ParseErrorKind::TooDeep { max });
        return Err(nom::Err::Failure(fail));
    }
    Ok(height)
}

fn expr(i: Input<'_>, nest: usize) -> PResult<'_, Tree> {
    or_expr(i, nest)
}

/// `operand (op operand)*`, left-associative.
fn chain<'a>(
    i: Input<'a>,
    nest: usize,
    operand: Rule,
    op: fn(Input<'_>) -> PResult<'_, BinaryOp>,
) -> PResult<'a, Tree> {
    let (mut i, (mut left, mut height)) = operand(i, nest)?;
    loop {
        let (at, _) = ws(i)?;
        match op(at) {
            Ok((rest, op)) => {
                let (rest, (right, right_height)) = must(operand(rest, nest))?;
                height = level(&at, height.max(right_height) + 1)?;
                left = Expr::binary(left, op, right);
                i = rest;
            }
            Err(nom::Err::Error(_)) => return Ok((i, (left, height))),
            Err(e) => return Err(e),
        }
    }
}

fn or_expr(i: Input<'_>, nest: usize) -> PResult<'_, Tree> {
    chain(i, nest, and_expr, |i| {
        keyword("OR")(i).map(|(r, _)| (r, BinaryOp::Or))
    })
}

fn and_expr(i: Input<'_>, nest: usize) -> PResult<'_, Tree> {
    chain(i, nest, not_expr, |i| {
        keyword("AND")(i).map(|(r, _)| (r, BinaryOp::And))
    })
}

fn not_expr(i: Input<'_>, nest: usize) -> PResult<'_, Tree> {
    let (i, _) = ws(i)?;
    match keyword("NOT")(i) {
        Ok((rest, _)) => {
            let nest = nested(&i, nest + 1)?;
            let (rest, (e, height)) = must(not_expr(rest, nest))?;
            Ok((rest, (Expr::Not(Box::new(e)), level(&i, height + 1)?)))
        }
        Err(nom::Err::Error(_)) => comparison(i, nest),
        Err(e) => Err(e),
    }
}

/// `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=` (not `=~`, which [`match_op`] takes first).
fn cmp_op(i: Input<'_>) -> PResult<'_, BinaryOp> {
    for (sym, op) in [
        ("<=", BinaryOp::LtEq),
        ("<>", BinaryOp::NotEq),
        ("<", BinaryOp::Lt),
        (">=", BinaryOp::GtEq),
        (">", BinaryOp::Gt),
        ("!=", BinaryOp::NotEq),
        ("=", BinaryOp::Eq),
    ] {
        if let Ok((rest, _)) = symbol(sym)(i) {
            return Ok((rest, op));
        }
    }
    Err(nom::Err::Error(Fail::expected(&i, "a comparison")))
}

/// `=~` (false) or `!~` (true: negated).
fn match_op(i: Input<'_>) -> PResult<'_, bool> {
    if let Ok((rest, _)) = symbol("=~")(i) {
        return Ok((rest, false));
    }
    symbol("!~")(i).map(|(rest, _)| (rest, true))
}

/// `IN` (false) or `NOT IN` (true: negated). A `NOT` without `IN` is not consumed.
fn in_op(i: Input<'_>) -> PResult<'_, bool> {
    if let Ok((rest, _)) = keyword("IN")(i) {
        return Ok((rest, false));
    }
    let (rest, _) = keyword("NOT")(i)?;
    let (rest, _) = keyword("IN")(rest)?;
    Ok((rest, true))
}

fn comparison(i: Input<'_>, nest: usize) -> PResult<'_, Tree> {
    let (mut i, (mut left, mut height)) = additive(i, nest)?;
    loop {
        let (at, _) = ws(i)?;
        if let Ok((rest, negated)) = match_op(at) {
            let (rest, regex) = must(regex_literal(rest))?;
            height = level(&at, height + 1)?;
            left = Expr::Match {
                expr: Box::new(left),
                negated,
                regex,
            };
            i = rest;
        } else if let Ok((rest, negated)) = in_op(at) {
            let (rest, (list, list_height)) = must(in_list(rest, nest))?;
            height = level(&at, height.max(list_height) + 1)?;
            left = Expr::InList {
                expr: Box::new(left),
                negated,
                list,
            };
            i = rest;
        } else if let Ok((rest, op)) = cmp_op(at) {
            let (rest, (right, right_height)) = must(additive(rest, nest))?;
            height = level(&at, height.max(right_height) + 1)?;
            left = Expr::binary(left, op, right);
            i = rest;
        } else {
            return Ok((i, (left, height)));
        }
    }
}

/// `( expr, ... )` after `IN`; at least one entry.
fn in_list(i: Input<'_>, nest: usize) -> PResult<'_, (Vec<Expr>, usize)> {
    let (i, _) = ws(i)?;
    let (mut rest, _) = symbol("(")(i)?;
    let nest = nested(&i, nest + 1)?;
    let mut list = Vec::new();
    let mut height = 0;
    loop {
        let (after, (e, h)) = must(expr(rest, nest))?;
        list.push(e);
        height = height.max(h);
        match symbol(",")(after) {
            Ok((after_comma, _)) => rest = after_comma,
            Err(_) => {
                let (after, _) = close_paren(after, &i, &["`,`", "`)`"])?;
                return Ok((after, (list, height)));
            }
        }
    }
}

/// The `)` matching the `(` at `open`. When it is missing and no `)` follows anywhere, the
/// error is an unclosed parenthesis pointing at `open`; otherwise something unexpected sits
/// before the `)` and the error points there (`percentile(x 95)`).
pub(crate) fn close_paren<'a>(
    i: Input<'a>,
    open: &Input<'_>,
    expected: &[&'static str],
) -> PResult<'a, ()> {
    let (i, _) = ws(i)?;
    match symbol(")")(i) {
        Ok((rest, _)) => Ok((rest, ())),
        Err(_) => {
            let mut fail = if i.fragment().contains(')') {
                Fail::kind(&i, ParseErrorKind::Expected)
            } else {
                Fail::kind(&i, ParseErrorKind::UnclosedParen).anchored(open.location_offset(), 1)
            };
            fail.expected = expected.iter().map(|e| (*e).into()).collect();
            Err(nom::Err::Failure(fail))
        }
    }
}

fn additive(i: Input<'_>, nest: usize) -> PResult<'_, Tree> {
    chain(i, nest, multiplicative, |i| {
        if let Ok((rest, _)) = symbol("+")(i) {
            return Ok((rest, BinaryOp::Add));
        }
        symbol("-")(i).map(|(rest, _)| (rest, BinaryOp::Sub))
    })
}

fn multiplicative(i: Input<'_>, nest: usize) -> PResult<'_, Tree> {
    chain(i, nest, unary, |i| {
        for (sym, op) in [
            ("*", BinaryOp::Mul),
            ("/", BinaryOp::Div),
            ("%", BinaryOp::Mod),
        ] {
            if let Ok((rest, _)) = symbol(sym)(i) {
                return Ok((rest, op));
            }
        }
        Err(nom::Err::Error(Fail::expected(&i, "an operator")))
    })
}

/// `-` before a number makes a negative literal (so `-9223372036854775808` fits); before
/// anything else it is a negation.
fn unary(i: Input<'_>, nest: usize) -> PResult<'_, Tree> {
    let (i, _) = ws(i)?;
    let Ok((after, _)) = symbol("-")(i) else {
        return primary(i, nest);
    };
    let (number_at, _) = ws(after)?;
    if starts_number(&number_at) {
        let (rest, (n, _)) = number(number_at)?;
        let span = span_between(&i, &rest);
        let value = signed(n, true, span).map_err(nom::Err::Failure)?;
        return Ok((rest, (Expr::Literal(Literal { value, span }), 1)));
    }
    let nest = nested(&i, nest + 1)?;
    let (rest, (e, height)) = must(unary(after, nest))?;
    Ok((rest, (Expr::Neg(Box::new(e)), level(&i, height + 1)?)))
}

fn primary(i: Input<'_>, nest: usize) -> PResult<'_, Tree> {
    let (i, _) = ws(i)?;
    let first = i.fragment().chars().next();
    if first == Some('(') {
        let (after, _) = symbol("(")(i)?;
        let nest = nested(&i, nest + 1)?;
        let (rest, tree) = must(expr(after, nest))?;
        let (rest, _) = close_paren(rest, &i, &["`)`"])?;
        return Ok((rest, tree));
    }
    if starts_number(&i) {
        let (rest, (n, span)) = number(i)?;
        let value = signed(n, false, span).map_err(nom::Err::Failure)?;
        return Ok((rest, (Expr::Literal(Literal { value, span }), 1)));
    }
    if first == Some('\'') {
        let (rest, (s, span)) = string_literal(i)?;
        let literal = Literal {
            value: Value::String(s),
            span,
        };
        return Ok((rest, (Expr::Literal(literal), 1)));
    }
    if first == Some('$') {
        let (rest, p) = param(i)?;
        return Ok((rest, (Expr::Param(p), 1)));
    }
    for (word, value) in [
        ("TRUE", Value::Boolean(true)),
        ("FALSE", Value::Boolean(false)),
        ("NULL", Value::Null),
    ] {
        if let Ok((rest, span)) = keyword(word)(i) {
            return Ok((rest, (Expr::Literal(Literal { value, span }), 1)));
        }
    }
    let (rest, name) = identifier("an expression")(i)?;
    let (paren_at, _) = ws(rest)?;
    if paren_at.fragment().starts_with('(') {
        return call(name, &i, paren_at, nest);
    }
    Ok((rest, (Expr::Ident(name), 1)))
}

/// The rest of a call after its name: arguments and an optional `FILTER (WHERE ...)`.
fn call<'a>(name: Ident, start: &Input<'_>, open: Input<'a>, nest: usize) -> PResult<'a, Tree> {
    let (mut rest, _) = symbol("(")(open)?;
    let nest = nested(&open, nest + 1)?;
    let mut args = Vec::new();
    let mut height = 0;
    if let Ok((after, _)) = symbol(")")(rest) {
        rest = after;
    } else {
        loop {
            let (after, (a, h)) = arg(rest, nest)?;
            args.push(a);
            height = height.max(h);
            match symbol(",")(after) {
                Ok((after_comma, _)) => rest = after_comma,
                Err(_) => {
                    rest = close_paren(after, &open, &["`,`", "`)`"])?.0;
                    break;
                }
            }
        }
    }
    let mut filter = None;
    if let Ok((after, _)) = keyword("FILTER")(rest) {
        let (filter_open, _) = ws(after)?;
        let (after, _) = must(symbol("(")(filter_open))?;
        let (after, _) = must(keyword("WHERE")(after))?;
        let (after, (cond, h)) = must(expr(after, nest))?;
        let (after, _) = close_paren(after, &filter_open, &["`)`"])?;
        height = height.max(h);
        filter = Some(Box::new(cond));
        rest = after;
    }
    let call = Call {
        name,
        args,
        filter,
        span: span_between(start, &rest),
    };
    Ok((rest, (Expr::Call(call), level(start, height + 1)?)))
}

/// One argument: `*`, `DISTINCT expr` or an expression.
fn arg(i: Input<'_>, nest: usize) -> PResult<'_, (Arg, usize)> {
    let (i, _) = ws(i)?;
    if let Ok((rest, span)) = symbol("*")(i) {
        return Ok((rest, (Arg::Wildcard(span), 1)));
    }
    if let Ok((rest, _)) = keyword("DISTINCT")(i) {
        let (rest, (e, h)) = must(expr(rest, nest))?;
        return Ok((rest, (Arg::Distinct(e), h)));
    }
    let (rest, (e, h)) = must(expr(i, nest))?;
    Ok((rest, (Arg::Expr(e), h)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Duration, Regex, Span};
    use crate::{parse_expression, Limits, ParseErrorKind};

    fn parse(text: &str) -> Expr {
        parse_expression(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> crate::ParseError {
        parse_expression(text).unwrap_err()
    }

    fn id(name: &str) -> Expr {
        Expr::Ident(Ident::new(name))
    }

    fn int(v: i64) -> Expr {
        Expr::Literal(Literal::integer(v))
    }

    fn bin(l: Expr, op: BinaryOp, r: Expr) -> Expr {
        Expr::binary(l, op, r)
    }

    fn call(name: &str, args: Vec<Arg>) -> Expr {
        Expr::Call(Call {
            name: Ident::new(name),
            args,
            filter: None,
            span: Span::default(),
        })
    }

    #[test]
    fn or_and_not_precedence() {
        use BinaryOp::*;
        assert_eq!(
            parse("a OR b AND NOT c"),
            bin(id("a"), Or, bin(id("b"), And, Expr::Not(Box::new(id("c")))))
        );
        assert_eq!(
            parse("(a OR b) AND c"),
            bin(bin(id("a"), Or, id("b")), And, id("c"))
        );
        assert_eq!(
            parse("NOT a = 1"),
            Expr::Not(Box::new(bin(id("a"), Eq, int(1))))
        );
    }

    #[test]
    fn arithmetic_precedence_and_associativity() {
        use BinaryOp::*;
        assert_eq!(
            parse("a + b * c - d"),
            bin(bin(id("a"), Add, bin(id("b"), Mul, id("c"))), Sub, id("d"))
        );
        assert_eq!(
            parse("a / b % c"),
            bin(bin(id("a"), Div, id("b")), Mod, id("c"))
        );
        assert_eq!(
            parse("a - b - c"),
            bin(bin(id("a"), Sub, id("b")), Sub, id("c"))
        );
    }

    #[test]
    fn comparisons() {
        use BinaryOp::*;
        for (text, op) in [
            ("a = 1", Eq),
            ("a != 1", NotEq),
            ("a <> 1", NotEq),
            ("a < 1", Lt),
            ("a <= 1", LtEq),
            ("a > 1", Gt),
            ("a >= 1", GtEq),
        ] {
            assert_eq!(parse(text), bin(id("a"), op, int(1)), "{text}");
        }
        assert_eq!(
            parse("status >= 500 AND x < 2"),
            bin(
                bin(id("status"), GtEq, int(500)),
                And,
                bin(id("x"), Lt, int(2))
            )
        );
    }

    #[test]
    fn regex_matches() {
        let e = parse(r"endpoint !~ /^\/internal/");
        let Expr::Match { negated, regex, .. } = e else {
            panic!()
        };
        assert!(negated);
        assert_eq!(regex.pattern, "^/internal");
        assert_eq!(
            parse("a =~ /x/"),
            Expr::Match {
                expr: Box::new(id("a")),
                negated: false,
                regex: Regex {
                    pattern: "x".into(),
                    span: Span::default()
                }
            }
        );
        assert_eq!(err("a =~ 'x'").expected, vec!["a regex like /^api/"]);
    }

    #[test]
    fn in_lists() {
        assert_eq!(
            parse("method NOT IN ('GET', 'HEAD')"),
            Expr::InList {
                expr: Box::new(id("method")),
                negated: true,
                list: vec![
                    Expr::Literal(Literal::string("GET")),
                    Expr::Literal(Literal::string("HEAD"))
                ]
            }
        );
        assert!(matches!(
            parse("a IN (1)"),
            Expr::InList { negated: false, .. }
        ));
        assert_eq!(err("a IN ()").expected, vec!["an expression"]);
        assert_eq!(err("a IN (1, 2").kind, ParseErrorKind::UnclosedParen);
    }

    #[test]
    fn negative_numbers_fold_and_negation_does_not() {
        assert_eq!(parse("-5"), int(-5));
        assert_eq!(parse("- 5"), int(-5));
        assert_eq!(parse("-9223372036854775808"), int(i64::MIN));
        assert_eq!(parse("-(5)"), Expr::Neg(Box::new(int(5))));
        assert_eq!(parse("-x"), Expr::Neg(Box::new(id("x"))));
        assert_eq!(
            parse("-15m"),
            Expr::Literal(Literal::new(Value::Duration(Duration::from_nanos(
                -900_000_000_000
            ))))
        );
        assert_eq!(parse("a - -1"), bin(id("a"), BinaryOp::Sub, int(-1)));
        assert_eq!(
            err("9223372036854775808").kind,
            ParseErrorKind::NumberOutOfRange("a 64-bit integer")
        );
    }

    #[test]
    fn primaries() {
        assert_eq!(
            parse("TRUE"),
            Expr::Literal(Literal::new(Value::Boolean(true)))
        );
        assert_eq!(
            parse("false"),
            Expr::Literal(Literal::new(Value::Boolean(false)))
        );
        assert_eq!(parse("null"), Expr::Literal(Literal::new(Value::Null)));
        assert_eq!(parse("1.5"), Expr::Literal(Literal::new(Value::Float(1.5))));
        assert_eq!(parse("'5xx'"), Expr::Literal(Literal::string("5xx")));
        assert!(matches!(parse("$key"), Expr::Param(p) if p.name == "key"));
        assert_eq!(parse("\"select\""), id("select"));
        assert_eq!(parse("time"), id("time"));
        assert_eq!(parse("((a))"), id("a"));
    }

    #[test]
    fn calls_with_star_distinct_and_filter() {
        assert_eq!(parse("now()"), call("now", vec![]));
        assert_eq!(
            parse("count(*)"),
            call("count", vec![Arg::Wildcard(Span::default())])
        );
        assert_eq!(
            parse("count(DISTINCT key)"),
            call("count", vec![Arg::Distinct(id("key"))])
        );
        assert_eq!(
            parse("quantile(latency_ms, 0.99)"),
            call(
                "quantile",
                vec![
                    Arg::Expr(id("latency_ms")),
                    Arg::Expr(Expr::Literal(Literal::new(Value::Float(0.99))))
                ]
            )
        );
        let Expr::Call(c) = parse("count(*) FILTER (WHERE status_class = '5xx')") else {
            panic!()
        };
        assert_eq!(
            c.filter.as_deref(),
            Some(&bin(
                id("status_class"),
                BinaryOp::Eq,
                Expr::Literal(Literal::string("5xx"))
            ))
        );
        assert_eq!(
            c.span.len,
            "count(*) FILTER (WHERE status_class = '5xx')".len()
        );
    }

    #[test]
    fn spans_point_at_the_source() {
        let Expr::Binary { left, right, .. } = parse("  sum(x)\n  + $p") else {
            panic!()
        };
        let Expr::Call(c) = *left else { panic!() };
        assert_eq!(
            (c.span.offset, c.span.line, c.span.column, c.span.len),
            (2, 1, 3, 6)
        );
        let Expr::Param(p) = *right else { panic!() };
        assert_eq!((p.span.line, p.span.column, p.span.len), (2, 5, 2));
    }

    #[test]
    fn errors_name_what_was_expected() {
        assert_eq!(err("a +").expected, vec!["an expression"]);
        assert_eq!(err("count(*").kind, ParseErrorKind::UnclosedParen);
        assert_eq!(err("(a").column, 1);
        assert_eq!(
            err("sum(from)").kind,
            ParseErrorKind::ReservedWord("from".into())
        );
        assert_eq!(err("count(*) FILTER WHERE").expected, vec!["`(`"]);
    }

    /// The deepest expressions the limit lets through parse, print and drop on a small stack
    /// (tokio's worker threads have 2 MiB).
    #[test]
    fn deepest_accepted_expressions_fit_a_small_stack() {
        let max = Limits::default().max_nesting;
        let texts = [
            format!("{}a{}", "(".repeat(max), ")".repeat(max)),
            format!("{}a{}", "f(".repeat(max - 1), ")".repeat(max - 1)),
            format!("{}x", "NOT ".repeat(max - 1)),
            format!("{}x", "-(".repeat(max / 2 - 1)) + &")".repeat(max / 2 - 1),
            // A tree as tall as allowed, built by a loop rather than by nesting.
            vec!["a"; Limits::default().max_depth].join(" OR "),
            format!("{}a{}", "(a + ".repeat(max - 1), ")".repeat(max - 1)),
        ];
        let worker = std::thread::Builder::new()
            .stack_size(2048 * 1024)
            .spawn(move || {
                for text in texts {
                    let e = parse_expression(&text).unwrap_or_else(|e| panic!("{text}\n{e}"));
                    assert_eq!(parse_expression(&e.to_string()).unwrap(), e);
                }
            })
            .unwrap();
        worker.join().unwrap();
    }

    #[test]
    fn depth_is_limited_without_overflowing_the_stack() {
        let limits = Limits {
            max_query_len: usize::MAX,
            ..Limits::default()
        };
        let deep = format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000));
        let e = crate::parse_expression_with(&deep, limits).unwrap_err();
        assert_eq!(
            e.kind,
            ParseErrorKind::TooNested {
                max: limits.max_nesting
            }
        );
        let chain = vec!["a"; 10_000].join(" OR ");
        let e = crate::parse_expression_with(&chain, limits).unwrap_err();
        assert_eq!(
            e.kind,
            ParseErrorKind::TooDeep {
                max: limits.max_depth
            }
        );
        let negs = "- ".repeat(1000) + "x";
        assert!(crate::parse_expression_with(&negs, limits).is_err());
        let nots = "NOT ".repeat(1000) + "x";
        assert!(crate::parse_expression_with(&nots, limits).is_err());
        let calls = "f(".repeat(1000) + &")".repeat(1000);
        assert!(crate::parse_expression_with(&calls, limits).is_err());
        let ok = vec!["a"; 120].join(" OR ");
        assert!(crate::parse_expression_with(&ok, limits).is_ok());
    }
}
