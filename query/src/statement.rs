//! Statement grammar: `SELECT`, the `SHOW` family and `EXPLAIN`, and lists of statements
//! separated by `;`. The grammar in full is in docs/query-language.md.

use crate::ast::{
    Explain, Fill, GroupItem, Ident, OrderItem, Select, SelectItem, ShowFieldKeys,
    ShowMeasurements, ShowTagKeys, ShowTagValues, Source, Statement, TagKeys, TimeZone, Value,
};
use crate::error::{Fail, ParseErrorKind};
use crate::expr::{close_paren, expression};
use crate::lexical::{
    identifier, keyword, must, number, regex_literal, signed, span_between, string_literal, symbol,
    ws, Input, Number, PResult,
};

/// Statements separated by `;`; empty statements (`;;`, a trailing `;`) are skipped.
pub(crate) fn statements(mut i: Input<'_>) -> PResult<'_, Vec<Statement>> {
    let mut out = Vec::new();
    loop {
        let (rest, _) = ws(i)?;
        if rest.fragment().is_empty() {
            return Ok((rest, out));
        }
        if let Ok((rest, _)) = symbol(";")(rest) {
            i = rest;
            continue;
        }
        let (rest, stmt) = must(statement(rest))?;
        out.push(stmt);
        i = end_of_statement(rest)?.0;
    }
}

/// Exactly one statement, optionally followed by `;`.
pub(crate) fn single_statement(i: Input<'_>) -> PResult<'_, Statement> {
    let (rest, stmt) = must(statement(i))?;
    let (rest, _) = end_of_statement(rest)?;
    let (rest, _) = ws(rest)?;
    if !rest.fragment().is_empty() {
        return Err(nom::Err::Failure(Fail::kind(
            &rest,
            ParseErrorKind::TrailingInput,
        )));
    }
    Ok((rest, stmt))
}

/// After a statement: end of input or `;`, nothing else.
fn end_of_statement(i: Input<'_>) -> PResult<'_, ()> {
    let (i, _) = ws(i)?;
    if i.fragment().is_empty() {
        return Ok((i, ()));
    }
    match symbol(";")(i) {
        Ok((rest, _)) => Ok((rest, ())),
        Err(_) => Err(nom::Err::Failure(Fail::kind(
            &i,
            ParseErrorKind::TrailingInput,
        ))),
    }
}

/// One statement (the `statement` rule).
pub(crate) fn statement(i: Input<'_>) -> PResult<'_, Statement> {
    nom::branch::alt((select_statement, show_statement, explain_statement))(i)
}

fn select_statement(i: Input<'_>) -> PResult<'_, Statement> {
    let (rest, _) = keyword("SELECT")(i)?;
    let (rest, select) = must(select_body(rest))?;
    Ok((rest, Statement::Select(Box::new(select))))
}

/// Everything after `SELECT`. `FILL` and `TZ` are accepted right after `GROUP BY` (InfluxQL
/// puts `fill` there) and at the very end (where InfluxQL puts `tz`), each at most once.
fn select_body(i: Input<'_>) -> PResult<'_, Select> {
    let (i, items) = select_list(i)?;
    let (i, _) = must(keyword("FROM")(i))?;
    let (i, from) = must(source(i))?;
    let (i, condition) = where_clause(i)?;
    let (i, group_by) = group_by_clause(i)?;
    let mut fill = None;
    let mut tz = None;
    let (i, _) = fill_and_tz(i, &mut fill, &mut tz)?;
    let (i, order_by) = order_by_clause(i)?;
    let (i, limit) = count_clause("LIMIT")(i)?;
    let (i, offset) = count_clause("OFFSET")(i)?;
    let (i, slimit) = count_clause("SLIMIT")(i)?;
    let (i, soffset) = count_clause("SOFFSET")(i)?;
    let (i, _) = fill_and_tz(i, &mut fill, &mut tz)?;
    let select = Select {
        items,
        from,
        condition,
        group_by,
        fill,
        order_by,
        limit,
        offset,
        slimit,
        soffset,
        tz,
    };
    Ok((i, select))
}

/// `item ("," item)*`; `SELECT FROM` gets its own error.
fn select_list(i: Input<'_>) -> PResult<'_, Vec<SelectItem>> {
    let (i, _) = ws(i)?;
    if keyword("FROM")(i).is_ok() {
        return Err(nom::Err::Failure(Fail::kind(
            &i,
            ParseErrorKind::EmptySelectList,
        )));
    }
    comma_list(i, select_item)
}

/// `first ("," next)*` where an entry must follow every comma.
fn comma_list<'a, T>(
    i: Input<'a>,
    entry: impl Fn(Input<'a>) -> PResult<'a, T>,
) -> PResult<'a, Vec<T>> {
    let (mut i, first) = must(entry(i))?;
    let mut out = vec![first];
    while let Ok((rest, _)) = symbol(",")(i) {
        let (rest, next) = must(entry(rest))?;
        out.push(next);
        i = rest;
    }
    Ok((i, out))
}

/// `*` or `expr [AS alias]`.
fn select_item(i: Input<'_>) -> PResult<'_, SelectItem> {
    if let Ok((rest, span)) = symbol("*")(i) {
        return Ok((rest, SelectItem::Wildcard(span)));
    }
    let (i, expr) = expression(i)?;
    let (i, alias) = match keyword("AS")(i) {
        Ok((rest, _)) => {
            let (rest, alias) = must(identifier("an alias")(rest))?;
            (rest, Some(alias))
        }
        Err(_) => (i, None),
    };
    Ok((i, SelectItem::Expr { expr, alias }))
}

/// `m`, `rp.m`, `db.rp.m` or `db..m`; each part bare or double-quoted.
fn source(i: Input<'_>) -> PResult<'_, Source> {
    const NAME: &str = "a measurement name";
    let (i, first) = identifier(NAME)(i)?;
    let Some(after_dot) = dot(i) else {
        return Ok((i, plain(first)));
    };
    if let Some(after_second) = dot(after_dot) {
        let (rest, name) = must(identifier(NAME)(after_second))?;
        return Ok((rest, qualified(Some(first), None, name)));
    }
    let (rest, second) = must(identifier(NAME)(after_dot))?;
    match dot(rest) {
        Some(after_second) => {
            let (rest, name) = must(identifier(NAME)(after_second))?;
            Ok((rest, qualified(Some(first), Some(second), name)))
        }
        None => Ok((rest, qualified(None, Some(first), second))),
    }
}

/// The input after a `.` right here (no whitespace inside a qualified name).
fn dot(i: Input<'_>) -> Option<Input<'_>> {
    i.fragment()
        .starts_with('.')
        .then(|| nom::Slice::slice(&i, 1..))
}

fn plain(name: Ident) -> Source {
    qualified(None, None, name)
}

fn qualified(database: Option<Ident>, retention_policy: Option<Ident>, name: Ident) -> Source {
    Source {
        database,
        retention_policy,
        name,
    }
}

/// `[WHERE expr]`.
fn where_clause(i: Input<'_>) -> PResult<'_, Option<crate::ast::Expr>> {
    match keyword("WHERE")(i) {
        Ok((rest, _)) => {
            let (rest, e) = must(expression(rest))?;
            Ok((rest, Some(e)))
        }
        Err(_) => Ok((i, None)),
    }
}

/// `[GROUP BY group_item ("," group_item)*]`.
fn group_by_clause(i: Input<'_>) -> PResult<'_, Vec<GroupItem>> {
    let Ok((rest, _)) = keyword("GROUP")(i) else {
        return Ok((i, Vec::new()));
    };
    let (rest, _) = must(keyword("BY")(rest))?;
    comma_list(rest, group_item)
}

/// `*` or any expression.
fn group_item(i: Input<'_>) -> PResult<'_, GroupItem> {
    if let Ok((rest, span)) = symbol("*")(i) {
        return Ok((rest, GroupItem::Wildcard(span)));
    }
    let (rest, e) = expression(i)?;
    Ok((rest, GroupItem::Expr(e)))
}

/// Any number of `FILL(...)` and `TZ(...)` clauses, each at most once per statement.
fn fill_and_tz<'a>(
    mut i: Input<'a>,
    fill: &mut Option<Fill>,
    tz: &mut Option<TimeZone>,
) -> PResult<'a, ()> {
    loop {
        let (at, _) = ws(i)?;
        if let Some((rest, f)) = optional(fill_clause(at))? {
            if fill.replace(f).is_some() {
                let fail = Fail::kind(&at, ParseErrorKind::Duplicate("FILL"));
                return Err(nom::Err::Failure(fail));
            }
            i = rest;
        } else if let Some((rest, zone)) = optional(tz_clause(at))? {
            if tz.replace(zone).is_some() {
                let fail = Fail::kind(&at, ParseErrorKind::Duplicate("TZ"));
                return Err(nom::Err::Failure(fail));
            }
            i = rest;
        } else {
            return Ok((i, ()));
        }
    }
}

/// A rule's result with "did not match" as `None`; final failures still propagate.
fn optional<'a, T>(result: PResult<'a, T>) -> Result<Option<(Input<'a>, T)>, nom::Err<Fail>> {
    match result {
        Ok(found) => Ok(Some(found)),
        Err(nom::Err::Error(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `FILL(null | none | previous | linear | number)`.
fn fill_clause(i: Input<'_>) -> PResult<'_, Fill> {
    let (rest, _) = keyword("FILL")(i)?;
    let (open, _) = ws(rest)?;
    let (rest, _) = must(symbol("(")(open))?;
    let (value_at, _) = ws(rest)?;
    let mut result = None;
    for (word, fill) in [
        ("NULL", Fill::Null),
        ("NONE", Fill::None),
        ("PREVIOUS", Fill::Previous),
        ("LINEAR", Fill::Linear),
    ] {
        if let Ok((rest, _)) = keyword(word)(value_at) {
            result = Some((rest, fill));
            break;
        }
    }
    let (rest, fill) = match result {
        Some(found) => found,
        None => must(fill_number(value_at))?,
    };
    let (rest, _) = close_paren(rest, &open, &["`)`"])?;
    Ok((rest, fill))
}

/// The number of `FILL(n)`, optionally negative.
fn fill_number(i: Input<'_>) -> PResult<'_, Fill> {
    let what = "null, none, previous, linear or a number";
    let (after_sign, negative) = match symbol("-")(i) {
        Ok((rest, _)) => (rest, true),
        Err(_) => (i, false),
    };
    let (rest, (n, _)) = number(after_sign).map_err(|e| match e {
        nom::Err::Error(_) => nom::Err::Error(Fail::expected(&i, what)),
        other => other,
    })?;
    let span = span_between(&i, &rest);
    match signed(n, negative, span).map_err(nom::Err::Failure)? {
        Value::Integer(v) => Ok((rest, Fill::Integer(v))),
        Value::Float(v) => Ok((rest, Fill::Float(v))),
        _ => Err(nom::Err::Failure(Fail::expected(&i, what))),
    }
}

/// `TZ('Area/City')`.
fn tz_clause(i: Input<'_>) -> PResult<'_, TimeZone> {
    let (rest, _) = keyword("TZ")(i)?;
    let (open, _) = ws(rest)?;
    let (rest, _) = must(symbol("(")(open))?;
    let (rest, (name, span)) = must(string_literal(rest).map_err(|e| match e {
        nom::Err::Error(f) => nom::Err::Error(Fail {
            expected: vec!["a time zone name like 'Europe/Paris'".into()],
            ..f
        }),
        other => other,
    }))?;
    let (rest, _) = close_paren(rest, &open, &["`)`"])?;
    Ok((rest, TimeZone { name, span }))
}

/// `[ORDER BY expr [ASC | DESC] ("," ...)*]`.
fn order_by_clause(i: Input<'_>) -> PResult<'_, Vec<OrderItem>> {
    let Ok((rest, _)) = keyword("ORDER")(i) else {
        return Ok((i, Vec::new()));
    };
    let (rest, _) = must(keyword("BY")(rest))?;
    comma_list(rest, order_item)
}

fn order_item(i: Input<'_>) -> PResult<'_, OrderItem> {
    let (i, expr) = expression(i)?;
    if let Ok((rest, _)) = keyword("DESC")(i) {
        return Ok((
            rest,
            OrderItem {
                expr,
                descending: true,
            },
        ));
    }
    let i = keyword("ASC")(i).map_or(i, |(rest, _)| rest);
    Ok((
        i,
        OrderItem {
            expr,
            descending: false,
        },
    ))
}

/// `[KEYWORD n]` with a whole number n (LIMIT, OFFSET, SLIMIT, SOFFSET).
fn count_clause(kw: &'static str) -> impl Fn(Input<'_>) -> PResult<'_, Option<u64>> {
    move |i| match keyword(kw)(i) {
        Ok((rest, _)) => {
            let (rest, n) = must(whole_number(rest))?;
            Ok((rest, Some(n)))
        }
        Err(_) => Ok((i, None)),
    }
}

/// A non-negative integer literal.
fn whole_number(i: Input<'_>) -> PResult<'_, u64> {
    let (i, _) = ws(i)?;
    match number(i) {
        Ok((rest, (Number::Integer(n), _))) => Ok((rest, n)),
        Err(nom::Err::Failure(f)) => Err(nom::Err::Failure(f)),
        _ => Err(nom::Err::Error(Fail::expected(&i, "a whole number"))),
    }
}

fn show_statement(i: Input<'_>) -> PResult<'_, Statement> {
    let (rest, _) = keyword("SHOW")(i)?;
    must(nom::branch::alt((
        show_measurements,
        show_tag,
        show_field_keys,
    ))(rest))
}

/// `MEASUREMENTS [WITH MEASUREMENT =~ /re/] [LIMIT n]` after `SHOW`.
fn show_measurements(i: Input<'_>) -> PResult<'_, Statement> {
    let (i, _) = keyword("MEASUREMENTS")(i)?;
    let (i, matching) = match keyword("WITH")(i) {
        Ok((rest, _)) => {
            let (rest, _) = must(keyword("MEASUREMENT")(rest))?;
            let (rest, _) = must(symbol("=~")(rest))?;
            let (rest, re) = must(regex_literal(rest))?;
            (rest, Some(re))
        }
        Err(_) => (i, None),
    };
    let (i, limit) = count_clause("LIMIT")(i)?;
    Ok((
        i,
        Statement::ShowMeasurements(ShowMeasurements { matching, limit }),
    ))
}

/// `[FROM source]`.
fn optional_from(i: Input<'_>) -> PResult<'_, Option<Source>> {
    match keyword("FROM")(i) {
        Ok((rest, _)) => {
            let (rest, s) = must(source(rest))?;
            Ok((rest, Some(s)))
        }
        Err(_) => Ok((i, None)),
    }
}

/// `TAG KEYS [FROM m]` or `TAG VALUES ...` after `SHOW`.
fn show_tag(i: Input<'_>) -> PResult<'_, Statement> {
    let (rest, _) = keyword("TAG")(i)?;
    must(nom::branch::alt((show_tag_keys, show_tag_values))(rest))
}

fn show_tag_keys(i: Input<'_>) -> PResult<'_, Statement> {
    let (i, _) = keyword("KEYS")(i)?;
    let (i, from) = optional_from(i)?;
    Ok((i, Statement::ShowTagKeys(ShowTagKeys { from })))
}

/// `VALUES [FROM m] WITH KEY (= k | IN (k, ...)) [WHERE expr]`.
fn show_tag_values(i: Input<'_>) -> PResult<'_, Statement> {
    const KEY: &str = "a tag key";
    let (i, _) = keyword("VALUES")(i)?;
    let (i, from) = optional_from(i)?;
    let (i, _) = must(keyword("WITH")(i))?;
    let (i, _) = must(keyword("KEY")(i))?;
    let (i, keys) = if let Ok((rest, _)) = symbol("=")(i) {
        let (rest, key) = must(identifier(KEY)(rest))?;
        (rest, TagKeys::Eq(key))
    } else if let Ok((rest, _)) = keyword("IN")(i) {
        let (open, _) = ws(rest)?;
        let (rest, _) = must(symbol("(")(open))?;
        let (rest, keys) = comma_list(rest, identifier(KEY))?;
        let (rest, _) = close_paren(rest, &open, &["`,`", "`)`"])?;
        (rest, TagKeys::In(keys))
    } else {
        let (at, _) = ws(i)?;
        let mut fail = Fail::expected(&at, "`=`");
        fail.expected.push("IN".into());
        return Err(nom::Err::Failure(fail));
    };
    let (i, condition) = where_clause(i)?;
    Ok((
        i,
        Statement::ShowTagValues(ShowTagValues {
            from,
            keys,
            condition,
        }),
    ))
}

fn show_field_keys(i: Input<'_>) -> PResult<'_, Statement> {
    let (i, _) = keyword("FIELD")(i)?;
    let (i, _) = must(keyword("KEYS")(i))?;
    let (i, from) = optional_from(i)?;
    Ok((i, Statement::ShowFieldKeys(ShowFieldKeys { from })))
}

/// `EXPLAIN [ANALYZE] SELECT ...`.
fn explain_statement(i: Input<'_>) -> PResult<'_, Statement> {
    let (i, _) = keyword("EXPLAIN")(i)?;
    let (i, analyze) = match keyword("ANALYZE")(i) {
        Ok((rest, _)) => (rest, true),
        Err(_) => (i, false),
    };
    let (i, _) = must(keyword("SELECT")(i))?;
    let (i, select) = must(select_body(i))?;
    Ok((
        i,
        Statement::Explain(Explain {
            analyze,
            select: Box::new(select),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Arg, BinaryOp, Call, Duration, Expr, Literal, Span};
    use crate::{parse_statement, parse_statements, ParseErrorKind};

    fn select(text: &str) -> Select {
        match parse_statement(text).unwrap_or_else(|e| panic!("{text}\n{e}")) {
            Statement::Select(s) => *s,
            other => panic!("{other:?}"),
        }
    }

    fn id(name: &str) -> Expr {
        Expr::Ident(Ident::new(name))
    }

    fn call(name: &str, args: Vec<Arg>) -> Expr {
        Expr::Call(Call {
            name: Ident::new(name),
            args,
            filter: None,
            span: Span::default(),
        })
    }

    fn star() -> Arg {
        Arg::Wildcard(Span::default())
    }

    fn dur(nanos: i64) -> Expr {
        Expr::Literal(Literal::new(Value::Duration(Duration::from_nanos(nanos))))
    }

    fn item(expr: Expr) -> SelectItem {
        SelectItem::Expr { expr, alias: None }
    }

    fn base(items: Vec<SelectItem>, from: &str) -> Select {
        Select {
            items,
            from: Source::measurement(from),
            condition: None,
            group_by: vec![],
            fill: None,
            order_by: vec![],
            limit: None,
            offset: None,
            slimit: None,
            soffset: None,
            tz: None,
        }
    }

    const MINUTE: i64 = 60_000_000_000;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;

    #[test]
    fn design_example_1_top_endpoints() {
        let got = select(
            "SELECT count(*) FROM requests WHERE time > now() - 24h GROUP BY endpoint \
             ORDER BY count DESC LIMIT 10",
        );
        let mut want = base(vec![item(call("count", vec![star()]))], "requests");
        want.condition = Some(Expr::binary(
            id("time"),
            BinaryOp::Gt,
            Expr::binary(call("now", vec![]), BinaryOp::Sub, dur(24 * HOUR)),
        ));
        want.group_by = vec![GroupItem::Expr(id("endpoint"))];
        want.order_by = vec![OrderItem {
            expr: id("count"),
            descending: true,
        }];
        want.limit = Some(10);
        assert_eq!(got, want);
    }

    #[test]
    fn design_example_2_percentiles() {
        let got = select(
            "SELECT p50(latency_ms), p95(latency_ms), p99(latency_ms) FROM requests \
             WHERE endpoint = '/api/segments' GROUP BY time(1h)",
        );
        let p = |n: &str| item(call(n, vec![Arg::Expr(id("latency_ms"))]));
        let mut want = base(vec![p("p50"), p("p95"), p("p99")], "requests");
        want.condition = Some(Expr::binary(
            id("endpoint"),
            BinaryOp::Eq,
            Expr::Literal(Literal::string("/api/segments")),
        ));
        want.group_by = vec![GroupItem::Expr(call("time", vec![Arg::Expr(dur(HOUR))]))];
        assert_eq!(got, want);
    }

    #[test]
    fn design_example_3_error_rate() {
        let got = select(
            "SELECT count(*) FILTER (WHERE status_class = '5xx') / count(*) AS error_rate \
             FROM requests GROUP BY key, time(5m)",
        );
        let filtered = Expr::Call(Call {
            name: Ident::new("count"),
            args: vec![star()],
            filter: Some(Box::new(Expr::binary(
                id("status_class"),
                BinaryOp::Eq,
                Expr::Literal(Literal::string("5xx")),
            ))),
            span: Span::default(),
        });
        let mut want = base(
            vec![SelectItem::Expr {
                expr: Expr::binary(filtered, BinaryOp::Div, call("count", vec![star()])),
                alias: Some(Ident::new("error_rate")),
            }],
            "requests",
        );
        want.group_by = vec![
            GroupItem::Expr(id("key")),
            GroupItem::Expr(call("time", vec![Arg::Expr(dur(5 * MINUTE))])),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn design_example_4_monthly_cost() {
        let got = select(
            "SELECT sum(cost_usd) FROM ai_cost WHERE time >= '2026-10-01' AND \
             time < '2026-11-01' GROUP BY platform, user",
        );
        let mut want = base(
            vec![item(call("sum", vec![Arg::Expr(id("cost_usd"))]))],
            "ai_cost",
        );
        let s = |v: &str| Expr::Literal(Literal::string(v));
        want.condition = Some(Expr::binary(
            Expr::binary(id("time"), BinaryOp::GtEq, s("2026-10-01")),
            BinaryOp::And,
            Expr::binary(id("time"), BinaryOp::Lt, s("2026-11-01")),
        ));
        want.group_by = vec![GroupItem::Expr(id("platform")), GroupItem::Expr(id("user"))];
        assert_eq!(got, want);
    }

    #[test]
    fn design_example_5_heatmap() {
        let got = select(
            "SELECT count(*) FROM requests WHERE time > now() - 28d \
             GROUP BY endpoint, hour_of_week(time)",
        );
        let mut want = base(vec![item(call("count", vec![star()]))], "requests");
        want.condition = Some(Expr::binary(
            id("time"),
            BinaryOp::Gt,
            Expr::binary(call("now", vec![]), BinaryOp::Sub, dur(28 * DAY)),
        ));
        want.group_by = vec![
            GroupItem::Expr(id("endpoint")),
            GroupItem::Expr(call("hour_of_week", vec![Arg::Expr(id("time"))])),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn qualified_sources() {
        let s = select(r#"SELECT * FROM "db"."rp"."m""#).from;
        assert_eq!(
            (s.database, s.retention_policy, s.name),
            (
                Some(Ident::new("db")),
                Some(Ident::new("rp")),
                Ident::new("m")
            )
        );
        let s = select("SELECT * FROM db..m").from;
        assert_eq!(
            (s.database, s.retention_policy),
            (Some(Ident::new("db")), None)
        );
        let s = select("SELECT * FROM rp.m").from;
        assert_eq!(
            (s.database, s.retention_policy),
            (None, Some(Ident::new("rp")))
        );
    }

    #[test]
    fn fill_and_tz_in_either_place() {
        let a =
            select("SELECT mean(x) FROM m GROUP BY time(1d) FILL(0) TZ('Europe/Paris') LIMIT 5");
        let b =
            select("SELECT mean(x) FROM m GROUP BY time(1d) LIMIT 5 tz('Europe/Paris') fill(0)");
        assert_eq!(a, b);
        assert_eq!(a.fill, Some(Fill::Integer(0)));
        assert_eq!(a.tz.map(|t| t.name), Some("Europe/Paris".to_string()));
        for (text, fill) in [
            ("null", Fill::Null),
            ("NONE", Fill::None),
            ("previous", Fill::Previous),
            ("linear", Fill::Linear),
            ("-1", Fill::Integer(-1)),
            ("2.5", Fill::Float(2.5)),
        ] {
            let s = select(&format!("SELECT x FROM m FILL({text})"));
            assert_eq!(s.fill, Some(fill), "{text}");
        }
        let e = parse_statement("SELECT x FROM m FILL(0) LIMIT 1 FILL(1)").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Duplicate("FILL"));
    }

    #[test]
    fn order_limit_offset_slimit_soffset() {
        let s =
            select("SELECT x FROM m ORDER BY time ASC, x DESC LIMIT 1 OFFSET 2 SLIMIT 3 SOFFSET 4");
        assert_eq!(s.order_by.len(), 2);
        assert!(!s.order_by[0].descending && s.order_by[1].descending);
        assert_eq!(
            (s.limit, s.offset, s.slimit, s.soffset),
            (Some(1), Some(2), Some(3), Some(4))
        );
        let e = parse_statement("SELECT x FROM m LIMIT -1").unwrap_err();
        assert_eq!(e.expected, vec!["a whole number"]);
    }

    #[test]
    fn show_statements() {
        let Statement::ShowMeasurements(s) =
            parse_statement("SHOW MEASUREMENTS WITH MEASUREMENT =~ /^ai_/ LIMIT 10").unwrap()
        else {
            panic!()
        };
        assert_eq!(s.matching.map(|r| r.pattern), Some("^ai_".to_string()));
        assert_eq!(s.limit, Some(10));
        let Statement::ShowTagValues(s) = parse_statement(
            "SHOW TAG VALUES FROM requests WITH KEY = \"endpoint\" WHERE key = 'k1'",
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(s.keys, TagKeys::Eq(Ident::new("endpoint")));
        assert!(s.condition.is_some());
        assert!(matches!(
            parse_statement("show tag keys").unwrap(),
            Statement::ShowTagKeys(ShowTagKeys { from: None })
        ));
        assert!(matches!(
            parse_statement("SHOW FIELD KEYS FROM ai_cost").unwrap(),
            Statement::ShowFieldKeys(ShowFieldKeys { from: Some(_) })
        ));
        let e = parse_statement("SHOW TAG VALUES WITH KEY").unwrap_err();
        assert_eq!(e.expected, vec!["`=`", "IN"]);
        let e = parse_statement("SHOW SERIES").unwrap_err();
        assert_eq!(e.expected, vec!["MEASUREMENTS", "TAG", "FIELD"]);
    }

    #[test]
    fn explain() {
        let Statement::Explain(e) = parse_statement("EXPLAIN SELECT * FROM m").unwrap() else {
            panic!()
        };
        assert!(!e.analyze);
        let e = parse_statement("EXPLAIN SHOW MEASUREMENTS").unwrap_err();
        assert_eq!(e.expected, vec!["SELECT"]);
    }

    #[test]
    fn statement_lists() {
        let all = parse_statements("SELECT a FROM m; ; SHOW TAG KEYS;\n-- done\n").unwrap();
        assert_eq!(all.len(), 2);
        assert!(parse_statements("  -- nothing\n").unwrap().is_empty());
        let e = parse_statement("SELECT a FROM m; SELECT b FROM m").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::TrailingInput);
        assert!(parse_statement("SELECT a FROM m;").is_ok());
        let e = parse_statements("SELECT a FROM m SELECT b FROM m").unwrap_err();
        assert_eq!((e.kind, e.column), (ParseErrorKind::TrailingInput, 17));
    }

    #[test]
    fn select_list_errors() {
        let e = parse_statement("SELECT FROM m").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::EmptySelectList);
        let e = parse_statement("SELECT a,  FROM m").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::ReservedWord("FROM".into()));
        let e = parse_statement("SELECT count(*)").unwrap_err();
        assert_eq!(
            (e.expected.clone(), e.found.as_str()),
            (vec!["FROM".to_string()], "end of input")
        );
        let e = parse_statement("SELECT a AS FROM FROM m").unwrap_err();
        assert_eq!(e.expected, vec!["an alias"]);
    }
}
