//! Property tests: any syntax tree prints to text that parses back to an equal tree, and no
//! input makes the parser panic.

use proptest::prelude::*;
use tally_query::ast::{
    Arg, BinaryOp, Call, Duration, Explain, Expr, Fill, GroupItem, Ident, Literal, OrderItem,
    Param, Regex, Select, SelectItem, ShowFieldKeys, ShowMeasurements, ShowTagKeys, ShowTagValues,
    Source, Span, Statement, TagKeys, TimeZone, Value,
};
use tally_query::{parse_expression, parse_statement, parse_statements};

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z_][a-z0-9_]{0,6}",
        1 => prop::sample::select(vec!["select", "FROM", "In", "true", "null", "key", "time", "fill", "tz"])
            .prop_map(str::to_string),
        1 => "[ -~]{0,6}",
        1 => "\\PC{0,4}",
    ]
}

fn ident() -> impl Strategy<Value = Ident> {
    name().prop_map(|n| Ident::new(&n))
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,8}", "[a-z'\\\\\n-]{0,8}", "\\PC{0,6}"]
}

fn regex() -> impl Strategy<Value = Regex> {
    // Patterns as the parser produces them: a backslash always escapes the next character.
    prop::collection::vec(
        prop_oneof![
            "[a-z0-9/^$.*+|()\\[\\] -]",
            prop::sample::select(vec![r"\d", r"\.", r"\\", r"\w"]).prop_map(str::to_string),
        ],
        0..6,
    )
    .prop_map(|parts| Regex {
        pattern: parts.concat(),
        span: Span::default(),
    })
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Integer),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::Float),
        text().prop_map(Value::String),
        any::<i64>().prop_map(|n| Value::Duration(Duration::from_nanos(n))),
        (
            0i64..1000,
            prop::sample::select(vec![1, 1_000, 60_000_000_000, 86_400_000_000_000])
        )
            .prop_map(|(n, unit)| Value::Duration(Duration::from_nanos(n * unit))),
        any::<bool>().prop_map(Value::Boolean),
        Just(Value::Null),
    ]
}

fn binary_op() -> impl Strategy<Value = BinaryOp> {
    use BinaryOp::*;
    prop::sample::select(vec![
        Or, And, Eq, NotEq, Lt, LtEq, Gt, GtEq, Add, Sub, Mul, Div, Mod,
    ])
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        ident().prop_map(Expr::Ident),
        value().prop_map(|v| Expr::Literal(Literal::new(v))),
        "[a-z_][a-z0-9_]{0,5}".prop_map(|name| Expr::Param(Param {
            name,
            span: Span::default()
        })),
    ];
    leaf.prop_recursive(5, 48, 4, |inner| {
        let arg = prop_oneof![
            Just(Arg::Wildcard(Span::default())),
            inner.clone().prop_map(Arg::Distinct),
            inner.clone().prop_map(Arg::Expr),
        ];
        prop_oneof![
            (inner.clone(), binary_op(), inner.clone())
                .prop_map(|(l, op, r)| Expr::binary(l, op, r)),
            inner.clone().prop_map(|e| Expr::Neg(Box::new(e))),
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            (
                ident(),
                prop::collection::vec(arg, 0..3),
                prop::option::of(inner.clone())
            )
                .prop_map(|(name, args, filter)| Expr::Call(Call {
                    name,
                    args,
                    filter: filter.map(Box::new),
                    span: Span::default(),
                })),
            (
                inner.clone(),
                any::<bool>(),
                prop::collection::vec(inner.clone(), 1..3)
            )
                .prop_map(|(e, negated, list)| Expr::InList {
                    expr: Box::new(e),
                    negated,
                    list
                }),
            (inner, any::<bool>(), regex()).prop_map(|(e, negated, regex)| Expr::Match {
                expr: Box::new(e),
                negated,
                regex
            }),
        ]
    })
}

fn source() -> impl Strategy<Value = Source> {
    (
        prop::option::of(ident()),
        prop::option::of(ident()),
        ident(),
    )
        .prop_map(|(database, retention_policy, name)| Source {
            database,
            retention_policy,
            name,
        })
}

fn fill() -> impl Strategy<Value = Fill> {
    prop_oneof![
        Just(Fill::Null),
        Just(Fill::None),
        Just(Fill::Previous),
        Just(Fill::Linear),
        any::<i64>().prop_map(Fill::Integer),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Fill::Float),
    ]
}

fn select() -> impl Strategy<Value = Select> {
    let item = prop_oneof![
        1 => Just(SelectItem::Wildcard(Span::default())),
        4 => (expr(), prop::option::of(ident()))
            .prop_map(|(expr, alias)| SelectItem::Expr { expr, alias }),
    ];
    let group = prop_oneof![
        1 => Just(GroupItem::Wildcard(Span::default())),
        4 => expr().prop_map(GroupItem::Expr),
    ];
    let order =
        (expr(), any::<bool>()).prop_map(|(expr, descending)| OrderItem { expr, descending });
    let counts = (
        prop::option::of(any::<u64>()),
        prop::option::of(any::<u64>()),
        prop::option::of(any::<u64>()),
        prop::option::of(any::<u64>()),
    );
    (
        prop::collection::vec(item, 1..4),
        source(),
        prop::option::of(expr()),
        prop::collection::vec(group, 0..3),
        prop::option::of(fill()),
        prop::collection::vec(order, 0..3),
        counts,
        prop::option::of(text()),
    )
        .prop_map(
            |(items, from, condition, group_by, fill, order_by, counts, tz)| Select {
                items,
                from,
                condition,
                group_by,
                fill,
                order_by,
                limit: counts.0,
                offset: counts.1,
                slimit: counts.2,
                soffset: counts.3,
                tz: tz.map(|name| TimeZone {
                    name,
                    span: Span::default(),
                }),
            },
        )
}

fn statement() -> impl Strategy<Value = Statement> {
    prop_oneof![
        4 => select().prop_map(|s| Statement::Select(Box::new(s))),
        1 => (prop::option::of(regex()), prop::option::of(any::<u64>()))
            .prop_map(|(matching, limit)| Statement::ShowMeasurements(ShowMeasurements { matching, limit })),
        1 => prop::option::of(source()).prop_map(|from| Statement::ShowTagKeys(ShowTagKeys { from })),
        1 => (
            prop::option::of(source()),
            prop_oneof![
                ident().prop_map(TagKeys::Eq),
                prop::collection::vec(ident(), 1..4).prop_map(TagKeys::In),
            ],
            prop::option::of(expr()),
        )
            .prop_map(|(from, keys, condition)| Statement::ShowTagValues(ShowTagValues { from, keys, condition })),
        1 => prop::option::of(source()).prop_map(|from| Statement::ShowFieldKeys(ShowFieldKeys { from })),
        1 => (any::<bool>(), select())
            .prop_map(|(analyze, s)| Statement::Explain(Explain { analyze, select: Box::new(s) })),
    ]
}

/// Words and symbols of the language, to build inputs that get deep into the grammar.
fn token_soup() -> impl Strategy<Value = String> {
    let tokens = vec![
        "SELECT",
        "FROM",
        "WHERE",
        "GROUP",
        "BY",
        "ORDER",
        "LIMIT",
        "OFFSET",
        "SLIMIT",
        "SOFFSET",
        "FILL",
        "TZ",
        "AS",
        "AND",
        "OR",
        "NOT",
        "IN",
        "DESC",
        "SHOW",
        "MEASUREMENTS",
        "TAG",
        "KEYS",
        "VALUES",
        "FIELD",
        "WITH",
        "KEY",
        "MEASUREMENT",
        "EXPLAIN",
        "ANALYZE",
        "DISTINCT",
        "FILTER",
        "count",
        "time",
        "now",
        "(",
        ")",
        ",",
        ";",
        "*",
        "+",
        "-",
        "/",
        "%",
        "=",
        "!=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "=~",
        "!~",
        "'s'",
        "'",
        "\"",
        "\"q\"",
        "/re/",
        "/",
        "$p",
        "$",
        "5m",
        "5x",
        "1.5h",
        "1e3",
        ".5",
        "99999999999999999999",
        "-9223372036854775808",
        "--",
        "\n",
        "NULL",
        "TRUE",
        ".",
        "..",
        "µ",
        "é",
    ];
    prop::collection::vec(prop::sample::select(tokens), 0..40).prop_map(|t| t.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn expressions_round_trip(e in expr()) {
        let text = e.to_string();
        let back = parse_expression(&text);
        prop_assert!(back.is_ok(), "{}\n{}", text, back.unwrap_err());
        prop_assert_eq!(back.unwrap(), e, "{}", text);
    }

    #[test]
    fn statements_round_trip(s in statement()) {
        let text = s.to_string();
        let back = parse_statement(&text);
        prop_assert!(back.is_ok(), "{}\n{}", text, back.unwrap_err());
        prop_assert_eq!(back.unwrap(), s, "{}", text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check_no_panic(&text);
    }

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        check_no_panic(&text);
    }
}

/// Parse; on success the print must parse back equal, on failure the error must render with a
/// caret inside its own source line.
fn check_no_panic(text: &str) {
    match parse_statements(text) {
        Ok(stmts) => {
            for s in stmts {
                let printed = s.to_string();
                assert_eq!(parse_statement(&printed).as_ref(), Ok(&s), "{printed}");
            }
        }
        Err(e) => {
            let rendered = e.to_string();
            assert!(e.line >= 1 && e.column >= 1 && e.len >= 1);
            assert_eq!(rendered.lines().count(), 3, "{rendered}");
        }
    }
    let _ = parse_expression(text);
}
