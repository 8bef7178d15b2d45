//! Conditions on tags ([`TagCond`]): compiled from the parts of a `WHERE` (or a `FILTER`) that
//! only look at tags, checked once per series rather than once per point, and turned into
//! engine predicates where they can narrow the series through the tag index.

use super::names::{at, compile_regex, Name, Schema};
use super::ParamValue;
use crate::ast::{BinaryOp, Expr, Value};
use crate::ParseError;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use tally_engine::TagPredicate;

/// A condition on a series' tags. A series without a tag has the empty value for it.
#[derive(Debug, Clone)]
pub(crate) enum TagCond {
    /// One engine predicate (=, !=, IN, NOT IN, =~, !~).
    Pred(TagPredicate),
    /// A comparison of a tag read as a number (`status >= 500`); a tag that is not a number
    /// never matches.
    Number {
        key: String,
        op: BinaryOp,
        value: f64,
    },
    /// An ordering comparison of a tag as text (`key < 'm'`).
    Text {
        key: String,
        op: BinaryOp,
        value: String,
    },
    And(Vec<TagCond>),
    Or(Vec<TagCond>),
    Not(Box<TagCond>),
}

/// Whether `e` reads only tags (no field, no `time`, no aggregate), so it can be decided per
/// series.
pub(crate) fn only_tags(e: &Expr, schema: &Schema) -> bool {
    match e {
        Expr::Ident(i) => schema.tags.contains(&i.name),
        Expr::Literal(_) | Expr::Param(_) => true,
        Expr::Call(_) => false,
        Expr::Binary { left, right, .. } => only_tags(left, schema) && only_tags(right, schema),
        Expr::Neg(x) | Expr::Not(x) => only_tags(x, schema),
        Expr::InList { expr, list, .. } => {
            only_tags(expr, schema) && list.iter().all(|x| only_tags(x, schema))
        }
        Expr::Match { expr, .. } => only_tags(expr, schema),
    }
}

/// A constant operand: a literal or a bound parameter.
#[derive(Debug, Clone)]
enum Constant {
    Text(String),
    Number(f64),
}

impl Constant {
    fn text(&self) -> String {
        match self {
            Constant::Text(s) => s.clone(),
            Constant::Number(n) => format_number(*n),
        }
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

fn constant(
    e: &Expr,
    text: &str,
    params: &BTreeMap<String, ParamValue>,
) -> Result<Option<Constant>, ParseError> {
    Ok(match e {
        Expr::Literal(l) => match &l.value {
            Value::String(s) => Some(Constant::Text(s.clone())),
            Value::Integer(i) => Some(Constant::Number(*i as f64)),
            Value::Float(f) => Some(Constant::Number(*f)),
            Value::Boolean(b) => Some(Constant::Text(b.to_string())),
            Value::Duration(_) | Value::Null => None,
        },
        Expr::Neg(inner) => match constant(inner, text, params)? {
            Some(Constant::Number(n)) => Some(Constant::Number(-n)),
            _ => None,
        },
        Expr::Param(p) => match params.get(&p.name) {
            Some(ParamValue::String(s)) => Some(Constant::Text(s.clone())),
            Some(ParamValue::Integer(i)) => Some(Constant::Number(*i as f64)),
            Some(ParamValue::Float(f)) => Some(Constant::Number(*f)),
            Some(ParamValue::Boolean(b)) => Some(Constant::Text(b.to_string())),
            Some(ParamValue::Time(_) | ParamValue::Duration(_)) => None,
            None => {
                return Err(at(
                    text,
                    p.span,
                    format!("parameter ${} has no value; pass it with the query", p.name),
                ))
            }
        },
        _ => None,
    })
}

fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::GtEq => BinaryOp::LtEq,
        other => other,
    }
}

fn holds(op: BinaryOp, ord: Ordering) -> bool {
    match op {
        BinaryOp::Eq => ord == Ordering::Equal,
        BinaryOp::NotEq => ord != Ordering::Equal,
        BinaryOp::Lt => ord == Ordering::Less,
        BinaryOp::LtEq => ord != Ordering::Greater,
        BinaryOp::Gt => ord == Ordering::Greater,
        BinaryOp::GtEq => ord != Ordering::Less,
        _ => false,
    }
}

impl TagCond {
    /// Compiles a condition that [`only_tags`] accepted.
    pub(crate) fn compile(
        e: &Expr,
        schema: &Schema,
        text: &str,
        params: &BTreeMap<String, ParamValue>,
    ) -> Result<TagCond, ParseError> {
        let tag_of = |x: &Expr| -> Result<Option<String>, ParseError> {
            match x {
                Expr::Ident(i) => match schema.resolve(i, text)? {
                    Name::Tag(t) => Ok(Some(t)),
                    _ => Ok(None),
                },
                _ => Ok(None),
            }
        };
        let unsupported = |why: &str| -> ParseError {
            let span = e.span();
            at(
                text,
                span,
                format!("cannot use `{e}` as a condition on tags: {why}"),
            )
        };
        match e {
            Expr::Binary { left, op, right } => match op {
                BinaryOp::And | BinaryOp::Or => {
                    let l = TagCond::compile(left, schema, text, params)?;
                    let r = TagCond::compile(right, schema, text, params)?;
                    Ok(if *op == BinaryOp::And {
                        TagCond::And(vec![l, r])
                    } else {
                        TagCond::Or(vec![l, r])
                    })
                }
                BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq => {
                    let (key, value, op) = match (tag_of(left)?, tag_of(right)?) {
                        (Some(k), None) => (k, constant(right, text, params)?, *op),
                        (None, Some(k)) => (k, constant(left, text, params)?, flip(*op)),
                        _ => return Err(unsupported("compare a tag with a constant, e.g. endpoint = '/api/segments' or status >= 500")),
                    };
                    let Some(value) = value else {
                        return Err(unsupported(
                            "the other side must be a string, a number or a parameter",
                        ));
                    };
                    Ok(match (op, value) {
                        (BinaryOp::Eq, Constant::Text(v)) => {
                            TagCond::Pred(TagPredicate::Eq { key, value: v })
                        }
                        (BinaryOp::NotEq, Constant::Text(v)) => {
                            TagCond::Pred(TagPredicate::Ne { key, value: v })
                        }
                        (op, Constant::Number(value)) => TagCond::Number { key, op, value },
                        (op, Constant::Text(value)) => TagCond::Text { key, op, value },
                    })
                }
                _ => Err(unsupported("arithmetic is not a condition")),
            },
            Expr::Not(inner) => Ok(TagCond::Not(Box::new(TagCond::compile(
                inner, schema, text, params,
            )?))),
            Expr::InList {
                expr,
                negated,
                list,
            } => {
                let Some(key) = tag_of(expr)? else {
                    return Err(unsupported("IN needs a tag on its left"));
                };
                let mut values = Vec::with_capacity(list.len());
                for x in list {
                    match constant(x, text, params)? {
                        Some(c) => values.push(c.text()),
                        None => {
                            return Err(at(
                                text,
                                x.span(),
                                "IN lists hold strings, numbers or parameters".into(),
                            ))
                        }
                    }
                }
                Ok(TagCond::Pred(if *negated {
                    TagPredicate::NotIn { key, values }
                } else {
                    TagPredicate::In { key, values }
                }))
            }
            Expr::Match {
                expr,
                negated,
                regex,
            } => {
                let Some(key) = tag_of(expr)? else {
                    return Err(unsupported("=~ and !~ need a tag on their left"));
                };
                let compiled = compile_regex(regex, text)?;
                Ok(TagCond::Pred(if *negated {
                    TagPredicate::NotRegex {
                        key,
                        regex: compiled,
                    }
                } else {
                    TagPredicate::Regex {
                        key,
                        regex: compiled,
                    }
                }))
            }
            Expr::Literal(l) if l.value == Value::Boolean(true) => Ok(TagCond::And(Vec::new())),
            Expr::Literal(l) if l.value == Value::Boolean(false) => Ok(TagCond::Or(Vec::new())),
            _ => Err(unsupported(
                "expected a comparison, IN, a regex match, AND, OR or NOT",
            )),
        }
    }

    /// Whether a series with these tags (sorted or not) matches.
    pub(crate) fn matches(&self, tags: &[(String, String)]) -> bool {
        let value = |key: &str| -> &str {
            tags.iter()
                .find(|(k, _)| k == key)
                .map_or("", |(_, v)| v.as_str())
        };
        match self {
            TagCond::Pred(p) => p.matches(value(p.key())),
            TagCond::Number {
                key,
                op,
                value: want,
            } => match value(key).parse::<f64>() {
                Ok(v) if v.is_finite() => holds(*op, v.total_cmp(want)),
                _ => false,
            },
            TagCond::Text {
                key,
                op,
                value: want,
            } => holds(*op, value(key).cmp(want.as_str())),
            TagCond::And(cs) => cs.iter().all(|c| c.matches(tags)),
            TagCond::Or(cs) => cs.iter().any(|c| c.matches(tags)),
            TagCond::Not(c) => !c.matches(tags),
        }
    }

    /// The engine predicates every matching series satisfies (the top-level AND of simple
    /// predicates), for the tag index to narrow the series before [`TagCond::matches`].
    pub(crate) fn predicates(&self) -> Vec<TagPredicate> {
        match self {
            TagCond::Pred(p) => vec![p.clone()],
            TagCond::And(cs) => cs.iter().flat_map(TagCond::predicates).collect(),
            _ => Vec::new(),
        }
    }
}
