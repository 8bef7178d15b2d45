//! [`Aggregate`]: count, sum, min and max of one bucket of one numeric field.

/// Count, sum, min and max of the values of one field in one bucket; mergeable.
///
/// Invariants:
/// - `count == 0` means empty: then `min == +inf`, `max == -inf`, `sum == 0.0`.
/// - `int_sum` is `Some` exactly when every value folded in was an integer (i64, u64 or bool) and
///   their sum fits an `i128`; then `sum == int_sum as f64`, so integer sums are exact in every
///   tier no matter the merge order. Float sums are plain `f64` additions and so depend on the
///   order of merging in the last bits.
/// - Non-finite floats (NaN, ±inf) are skipped: they would poison every coarser tier.
///
/// ```
/// use tally_engine::rollup::Aggregate;
/// let mut a = Aggregate::new();
/// a.push_i64(3);
/// a.push_i64(-1);
/// let mut b = Aggregate::new();
/// b.push_i64(10);
/// a.merge(&b);
/// assert_eq!((a.count, a.int_sum, a.min, a.max), (3, Some(12), -1.0, 10.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aggregate {
    /// Number of values.
    pub count: u64,
    /// Sum of the values as f64 (equal to `int_sum` converted when that is `Some`).
    pub sum: f64,
    /// Smallest value (`+inf` when empty).
    pub min: f64,
    /// Largest value (`-inf` when empty).
    pub max: f64,
    /// Exact sum when every value was an integer; `None` once a float was folded in.
    pub int_sum: Option<i128>,
}

impl Default for Aggregate {
    fn default() -> Self {
        Self::new()
    }
}

impl Aggregate {
    /// The empty aggregate, identity of [`Aggregate::merge`].
    pub fn new() -> Self {
        Aggregate {
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            int_sum: Some(0),
        }
    }

    /// Whether no value was folded in.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Folds in a float; NaN and infinities are skipped (see the type's invariants).
    pub fn push(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        self.count = self.count.saturating_add(1);
        self.sum += v;
        self.int_sum = None;
        self.min_max(v);
    }

    /// Folds in a signed integer, keeping the sum exact.
    pub fn push_i64(&mut self, v: i64) {
        self.push_int(i128::from(v), v as f64);
    }

    /// Folds in an unsigned integer, keeping the sum exact.
    pub fn push_u64(&mut self, v: u64) {
        self.push_int(i128::from(v), v as f64);
    }

    fn push_int(&mut self, exact: i128, approx: f64) {
        self.count = self.count.saturating_add(1);
        self.int_sum = self.int_sum.and_then(|s| s.checked_add(exact));
        self.sum = match self.int_sum {
            Some(s) => s as f64,
            None => self.sum + approx,
        };
        self.min_max(approx);
    }

    fn min_max(&mut self, v: f64) {
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// Folds in every value `other` holds, as if they had been pushed here.
    pub fn merge(&mut self, other: &Aggregate) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        self.count = self.count.saturating_add(other.count);
        self.int_sum = match (self.int_sum, other.int_sum) {
            (Some(a), Some(b)) => a.checked_add(b),
            _ => None,
        };
        self.sum = match self.int_sum {
            Some(s) => s as f64,
            None => self.sum + other.sum,
        };
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Mean of the values, `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_sums_stay_exact_past_f64_precision() {
        let mut a = Aggregate::new();
        a.push_i64(i64::MAX);
        a.push_i64(i64::MAX);
        a.push_i64(-i64::MAX);
        assert_eq!(a.int_sum, Some(i128::from(i64::MAX)));
        assert_eq!(a.sum, i64::MAX as f64);
        let mut b = Aggregate::new();
        b.push_u64(u64::MAX);
        a.merge(&b);
        assert_eq!(a.int_sum, Some(i128::from(i64::MAX) + i128::from(u64::MAX)));
    }

    #[test]
    fn floats_drop_the_exact_sum_and_skip_non_finite() {
        let mut a = Aggregate::new();
        a.push_i64(2);
        a.push(0.5);
        a.push(f64::NAN);
        a.push(f64::INFINITY);
        assert_eq!((a.count, a.sum, a.int_sum), (2, 2.5, None));
        assert_eq!((a.min, a.max), (0.5, 2.0));
    }

    #[test]
    fn empty_is_the_identity() {
        let mut a = Aggregate::new();
        a.push(1.5);
        let before = a;
        a.merge(&Aggregate::new());
        assert_eq!(a, before);
        let mut e = Aggregate::new();
        e.merge(&before);
        assert_eq!(e, before);
        assert_eq!(Aggregate::new().mean(), None);
    }
}
