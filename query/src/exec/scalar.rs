//! [`Scalar`]: one value while a query is evaluated, with SQL's null rules: arithmetic on a null
//! gives null, division by zero gives null, comparisons with null are false.

use crate::ast::BinaryOp;
use crate::table::Cell;
use std::cmp::Ordering;
use tally_engine::ColumnValues;

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Null,
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    /// An instant, ns since the epoch.
    Time(i64),
}

impl Scalar {
    /// Value `i` of a column (unsigned integers beyond i64 become floats).
    pub(crate) fn of(values: &ColumnValues, i: usize) -> Scalar {
        match values {
            ColumnValues::Float(v) => v.get(i).map_or(Scalar::Null, |&x| Scalar::Float(x)),
            ColumnValues::Integer(v) => v.get(i).map_or(Scalar::Null, |&x| Scalar::Int(x)),
            ColumnValues::Unsigned(v) => v.get(i).map_or(Scalar::Null, |&x| {
                i64::try_from(x).map_or(Scalar::Float(x as f64), Scalar::Int)
            }),
            ColumnValues::Boolean(v) => v.get(i).map_or(Scalar::Null, |&x| Scalar::Bool(x)),
            ColumnValues::String(v) => v.get(i).map_or(Scalar::Null, |x| Scalar::Str(x.clone())),
        }
    }

    /// The value as a float, for numbers (and instants).
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Int(i) => Some(*i as f64),
            Scalar::Float(f) => Some(*f),
            Scalar::Time(t) => Some(*t as f64),
            _ => None,
        }
    }

    /// Truthiness for conditions: only `true` passes (null and non-booleans do not).
    pub(crate) fn is_true(&self) -> bool {
        matches!(self, Scalar::Bool(true))
    }

    /// The output cell.
    pub(crate) fn into_cell(self) -> Cell {
        match self {
            Scalar::Null => Cell::Null,
            Scalar::Int(i) => Cell::Integer(i),
            Scalar::Float(f) if f.is_finite() => Cell::Float(f),
            Scalar::Float(_) => Cell::Null,
            Scalar::Str(s) => Cell::String(s),
            Scalar::Bool(b) => Cell::Boolean(b),
            Scalar::Time(t) => Cell::Time(t),
        }
    }

    /// Ordering for comparisons and sorting: numbers by value (ints and floats mixed), text by
    /// bytes, booleans false < true; `None` across kinds or with null.
    pub(crate) fn compare(&self, other: &Scalar) -> Option<Ordering> {
        match (self, other) {
            (Scalar::Null, _) | (_, Scalar::Null) => None,
            (Scalar::Int(a), Scalar::Int(b)) => Some(a.cmp(b)),
            (Scalar::Time(a), Scalar::Time(b)) => Some(a.cmp(b)),
            (Scalar::Str(a), Scalar::Str(b)) => Some(a.cmp(b)),
            (Scalar::Bool(a), Scalar::Bool(b)) => Some(a.cmp(b)),
            (a, b) => Some(a.as_f64()?.total_cmp(&b.as_f64()?)),
        }
    }

    /// Sorting order for ORDER BY: nulls last, then [`Scalar::compare`], kinds apart by rank.
    pub(crate) fn sort_cmp(&self, other: &Scalar) -> Ordering {
        fn rank(s: &Scalar) -> u8 {
            match s {
                Scalar::Int(_) | Scalar::Float(_) | Scalar::Time(_) => 0,
                Scalar::Str(_) => 1,
                Scalar::Bool(_) => 2,
                Scalar::Null => 3,
            }
        }
        self.compare(other)
            .unwrap_or_else(|| rank(self).cmp(&rank(other)))
    }

    /// `self op other` for arithmetic and comparison operators (AND/OR are evaluated lazily by
    /// the caller).
    pub(crate) fn binary(&self, op: BinaryOp, other: &Scalar) -> Scalar {
        use BinaryOp::*;
        match op {
            Eq | NotEq | Lt | LtEq | Gt | GtEq => match self.compare(other) {
                None => Scalar::Bool(false),
                Some(ord) => Scalar::Bool(match op {
                    Eq => ord == Ordering::Equal,
                    NotEq => ord != Ordering::Equal,
                    Lt => ord == Ordering::Less,
                    LtEq => ord != Ordering::Greater,
                    Gt => ord == Ordering::Greater,
                    _ => ord != Ordering::Less,
                }),
            },
            Add | Sub | Mul | Div | Mod => arithmetic(self, op, other),
            And => Scalar::Bool(self.is_true() && other.is_true()),
            Or => Scalar::Bool(self.is_true() || other.is_true()),
        }
    }

    /// `-self`.
    pub(crate) fn neg(&self) -> Scalar {
        match self {
            Scalar::Int(i) => i
                .checked_neg()
                .map_or(Scalar::Float(-(*i as f64)), Scalar::Int),
            Scalar::Float(f) => Scalar::Float(-f),
            _ => Scalar::Null,
        }
    }
}

fn arithmetic(a: &Scalar, op: BinaryOp, b: &Scalar) -> Scalar {
    use BinaryOp::*;
    // Instants: time - time is a duration (ns), time +/- ns is an instant.
    match (a, op, b) {
        (Scalar::Time(x), Sub, Scalar::Time(y)) => {
            return x.checked_sub(*y).map_or(Scalar::Null, Scalar::Int)
        }
        (Scalar::Time(x), Add | Sub, Scalar::Int(d)) => {
            let r = if op == Add {
                x.checked_add(*d)
            } else {
                x.checked_sub(*d)
            };
            return r.map_or(Scalar::Null, Scalar::Time);
        }
        _ => {}
    }
    match (a, b) {
        (Scalar::Int(x), Scalar::Int(y)) if op != Div => {
            let r = match op {
                Add => x.checked_add(*y),
                Sub => x.checked_sub(*y),
                Mul => x.checked_mul(*y),
                _ => {
                    if *y == 0 {
                        return Scalar::Null;
                    }
                    x.checked_rem(*y)
                }
            };
            // Overflow leaves integers for floats rather than wrapping.
            r.map_or_else(|| float_op(*x as f64, op, *y as f64), Scalar::Int)
        }
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => float_op(x, op, y),
            _ => Scalar::Null,
        },
    }
}

fn float_op(x: f64, op: BinaryOp, y: f64) -> Scalar {
    use BinaryOp::*;
    let r = match op {
        Add => x + y,
        Sub => x - y,
        Mul => x * y,
        Div if y == 0.0 => return Scalar::Null,
        Div => x / y,
        Mod if y == 0.0 => return Scalar::Null,
        _ => x % y,
    };
    if r.is_finite() {
        Scalar::Float(r)
    } else {
        Scalar::Null
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_by_zero_and_nulls_give_null() {
        assert_eq!(
            Scalar::Int(1).binary(BinaryOp::Div, &Scalar::Int(0)),
            Scalar::Null
        );
        assert_eq!(
            Scalar::Float(1.0).binary(BinaryOp::Div, &Scalar::Float(0.0)),
            Scalar::Null
        );
        assert_eq!(
            Scalar::Int(1).binary(BinaryOp::Mod, &Scalar::Int(0)),
            Scalar::Null
        );
        assert_eq!(
            Scalar::Null.binary(BinaryOp::Add, &Scalar::Int(1)),
            Scalar::Null
        );
        assert_eq!(
            Scalar::Int(3).binary(BinaryOp::Div, &Scalar::Int(2)),
            Scalar::Float(1.5)
        );
        assert_eq!(
            Scalar::Int(i64::MAX).binary(BinaryOp::Add, &Scalar::Int(1)),
            Scalar::Float(i64::MAX as f64 + 1.0)
        );
        assert_eq!(
            Scalar::Null.binary(BinaryOp::Eq, &Scalar::Null),
            Scalar::Bool(false)
        );
        assert_eq!(
            Scalar::Int(2).binary(BinaryOp::Lt, &Scalar::Float(2.5)),
            Scalar::Bool(true)
        );
    }
}
