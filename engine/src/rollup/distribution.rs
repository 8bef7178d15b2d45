//! [`Distribution`]: a mergeable quantile summary that stays exact while it holds few values and
//! becomes a DDSketch (sketches-ddsketch) once it grows.
//!
//! Why two forms: per-request series are many and sparse (a few points per minute), and a full
//! sketch costs far more than the handful of values it would summarise.
//!
//! Invariants:
//! - An exact distribution holds at most [`EXACT_LIMIT`] values; pushing or merging past that
//!   turns it into a sketch, and a sketch never turns back. So a sketch always holds more than
//!   [`EXACT_LIMIT`] values, and the form depends only on the count (merge order never matters).
//! - Only finite values are kept (as in [`super::Aggregate`]), so the two counts always agree.
//! - Every sketch is built from `Config::new(alpha, accuracy.max_bins(), SKETCH_MIN_VALUE)`, so two
//!   distributions of equal [`RelativeAccuracy`] always merge.

use super::sketch::Sketch;
use super::RollupError;
use sketches_ddsketch::Config;
use std::fmt;

/// Most values a distribution keeps exactly before it becomes a sketch.
pub const EXACT_LIMIT: usize = 32;

/// Natural log of the dynamic range (max / min magnitude) a sketch store covers before its lowest
/// bins collapse: 2^64. The crate's fixed default of 2048 bins covers only 1e9 at 0.5%, so one
/// outlier of 1e12 among values of 50 would collapse the median into a bin near 1e3.
const SKETCH_RANGE_LN: f64 = 64.0 * std::f64::consts::LN_2;

/// Magnitudes below this are counted as zero by the sketch (the crate's default).
pub(crate) const SKETCH_MIN_VALUE: f64 = 1.0e-9;

/// Relative accuracy of a sketch, in units of 1e-4 (100 = 1%).
///
/// Held as an integer so that it encodes in two bytes and two configs compare exactly.
///
/// ```
/// use tally_engine::rollup::RelativeAccuracy;
/// assert_eq!(RelativeAccuracy::new(0.01).unwrap(), RelativeAccuracy::DEFAULT);
/// assert!(RelativeAccuracy::new(0.9).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RelativeAccuracy(u16);

impl RelativeAccuracy {
    /// 1%, the default of DESIGN.md.
    pub const DEFAULT: RelativeAccuracy = RelativeAccuracy(100);
    /// Finest accuracy accepted: 0.1% (finer needs over 22 000 bins per store).
    pub const MIN_UNITS: u16 = 10;
    /// Coarsest accuracy accepted: 50%.
    pub const MAX_UNITS: u16 = 5000;

    /// The accuracy `alpha` (0.01 for 1%), rounded to the nearest 0.01%.
    pub fn new(alpha: f64) -> Result<Self, RollupError> {
        let units = (alpha * 10_000.0).round();
        if !(f64::from(Self::MIN_UNITS)..=f64::from(Self::MAX_UNITS)).contains(&units) {
            return Err(RollupError::InvalidAccuracy { alpha });
        }
        Ok(RelativeAccuracy(units as u16))
    }

    /// From units of 1e-4, as stored on disk; `None` outside the accepted range.
    pub fn from_units(units: u16) -> Option<Self> {
        (Self::MIN_UNITS..=Self::MAX_UNITS)
            .contains(&units)
            .then_some(RelativeAccuracy(units))
    }

    /// The accuracy in units of 1e-4.
    pub fn units(self) -> u16 {
        self.0
    }

    /// The accuracy as a fraction (0.01 for 1%).
    pub fn alpha(self) -> f64 {
        f64::from(self.0) / 10_000.0
    }

    /// Bins per sketch store: enough to cover a dynamic range of 2^64 at this accuracy, a
    /// multiple of 128 (the crate's growth step), at least the crate's default 2048. 2304 at 1%,
    /// 22 272 at 0.1%.
    pub fn max_bins(self) -> u32 {
        let alpha = self.alpha();
        let gamma_ln = (2.0 * alpha / (1.0 - alpha)).ln_1p();
        let bins = (SKETCH_RANGE_LN / gamma_ln).ceil() as u32;
        bins.div_ceil(128).saturating_mul(128).max(2048)
    }

    pub(crate) fn config(self) -> Config {
        Config::new(self.alpha(), self.max_bins(), SKETCH_MIN_VALUE)
    }
}

impl Default for RelativeAccuracy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[derive(Clone)]
enum Repr {
    Exact(Vec<f64>),
    Sketch(Box<Sketch>),
}

/// A mergeable quantile summary of one field's values in one bucket.
///
/// Quantile definition (both forms): for `n` values sorted ascending, `quantile(q)` is the value
/// at 0-based rank `floor(q * (n - 1))` (computed in f64, as the sketch crate does): `q = 0` is the
/// minimum, `q = 1` the maximum. An exact distribution returns that value itself; a sketch
/// returns it within the relative accuracy (absolute 1e-9 for magnitudes below 1e-9), except for
/// ranks that fall in collapsed low bins when the values span more than a factor of 2^64 (see
/// [`RelativeAccuracy::max_bins`]).
///
/// ```
/// use tally_engine::rollup::{Distribution, RelativeAccuracy};
/// let mut d = Distribution::new(RelativeAccuracy::DEFAULT);
/// for v in [5.0, 1.0, 3.0] {
///     d.push(v);
/// }
/// assert_eq!(d.quantile(0.5), Some(3.0));
/// ```
#[derive(Clone)]
pub struct Distribution {
    accuracy: RelativeAccuracy,
    repr: Repr,
}

impl fmt::Debug for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Distribution");
        s.field("accuracy", &self.accuracy);
        match &self.repr {
            Repr::Exact(v) => s.field("exact", v),
            Repr::Sketch(sk) => s.field("sketch_count", &sk.count()),
        };
        s.finish()
    }
}

impl Distribution {
    /// An empty, exact distribution that will sketch at `accuracy` once it grows.
    pub fn new(accuracy: RelativeAccuracy) -> Self {
        Distribution {
            accuracy,
            repr: Repr::Exact(Vec::new()),
        }
    }

    pub(crate) fn from_exact(accuracy: RelativeAccuracy, values: Vec<f64>) -> Self {
        let mut d = Distribution {
            accuracy,
            repr: Repr::Exact(values),
        };
        d.sketch_if_large();
        d
    }

    /// A distribution holding `sketch`, which has more than [`EXACT_LIMIT`] values.
    pub(crate) fn from_sketch(sketch: Sketch) -> Self {
        Distribution {
            accuracy: sketch.accuracy,
            repr: Repr::Sketch(Box::new(sketch)),
        }
    }

    /// The accuracy a sketch of this distribution has (or will have).
    pub fn accuracy(&self) -> RelativeAccuracy {
        self.accuracy
    }

    /// Number of values summarised.
    pub fn count(&self) -> u64 {
        match &self.repr {
            Repr::Exact(v) => v.len() as u64,
            Repr::Sketch(s) => s.count(),
        }
    }

    /// Whether no value was pushed.
    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// The values, in push/merge order, while the distribution is exact; `None` once sketched.
    pub fn exact_values(&self) -> Option<&[f64]> {
        match &self.repr {
            Repr::Exact(v) => Some(v),
            Repr::Sketch(_) => None,
        }
    }

    pub(crate) fn sketch(&self) -> Option<&Sketch> {
        match &self.repr {
            Repr::Exact(_) => None,
            Repr::Sketch(s) => Some(s),
        }
    }

    /// Adds one value; NaN and infinities are skipped.
    pub fn push(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        match &mut self.repr {
            Repr::Exact(vs) => {
                vs.push(v);
                self.sketch_if_large();
            }
            Repr::Sketch(s) => s.extend(&[v]),
        }
    }

    fn sketch_if_large(&mut self) {
        if let Repr::Exact(vs) = &self.repr {
            if vs.len() > EXACT_LIMIT {
                let mut s = Sketch::new(self.accuracy);
                s.extend(vs);
                self.repr = Repr::Sketch(Box::new(s));
            }
        }
    }

    /// Folds in every value `other` summarises. Fails, changing nothing, when the accuracies
    /// differ: sketches of different accuracy have incompatible bins.
    pub fn merge(&mut self, other: &Distribution) -> Result<(), RollupError> {
        if self.accuracy != other.accuracy {
            return Err(RollupError::AccuracyMismatch {
                left: self.accuracy.alpha(),
                right: other.accuracy.alpha(),
            });
        }
        match (&mut self.repr, &other.repr) {
            (Repr::Exact(a), Repr::Exact(b)) => {
                a.extend_from_slice(b);
                self.sketch_if_large();
            }
            (Repr::Exact(a), Repr::Sketch(b)) => {
                let mut s = b.clone();
                s.extend(a);
                self.repr = Repr::Sketch(s);
            }
            (Repr::Sketch(a), Repr::Exact(b)) => a.extend(b),
            (Repr::Sketch(a), Repr::Sketch(b)) => a.merge(b),
        }
        Ok(())
    }

    /// The `q`-quantile (see the type's doc for the definition); `None` when empty or when `q`
    /// is not within `[0, 1]`.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if !(0.0..=1.0).contains(&q) {
            return None;
        }
        match &self.repr {
            Repr::Exact(vs) => exact_quantile(vs, q),
            Repr::Sketch(s) => s.quantile(q),
        }
    }
}

/// The `q`-quantile of `values` by the definition [`Distribution`] documents: the value at
/// 0-based rank `floor(q * (n - 1))` of the sorted values. `None` when empty or `q` is outside
/// `[0, 1]`. Brute-force checks use this too.
pub fn exact_quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q * (sorted.len() as f64 - 1.0)) as usize;
    sorted.get(rank.min(sorted.len() - 1)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_exact_up_to_the_limit_then_sketches() {
        let mut d = Distribution::new(RelativeAccuracy::DEFAULT);
        for i in 0..EXACT_LIMIT {
            d.push(i as f64);
        }
        assert!(d.exact_values().is_some());
        d.push(1.0);
        assert!(d.exact_values().is_none());
        assert_eq!(d.count(), EXACT_LIMIT as u64 + 1);
    }

    #[test]
    fn exact_quantile_is_lower_nearest_rank() {
        let v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(exact_quantile(&v, 0.0), Some(1.0));
        assert_eq!(exact_quantile(&v, 0.5), Some(2.0));
        assert_eq!(exact_quantile(&v, 0.67), Some(3.0));
        assert_eq!(exact_quantile(&v, 1.0), Some(4.0));
        assert_eq!(exact_quantile(&v, 1.5), None);
        assert_eq!(exact_quantile(&[], 0.5), None);
    }

    #[test]
    fn stores_cover_two_to_the_64() {
        assert_eq!(RelativeAccuracy::DEFAULT.max_bins(), 2304);
        assert_eq!(RelativeAccuracy::new(0.5).unwrap().max_bins(), 2048);
        assert_eq!(RelativeAccuracy::new(0.001).unwrap().max_bins(), 22272);
        assert!(RelativeAccuracy::new(0.0005).is_err());
    }

    #[test]
    fn mismatched_accuracies_do_not_merge() {
        let mut a = Distribution::new(RelativeAccuracy::DEFAULT);
        a.push(1.0);
        let b = Distribution::new(RelativeAccuracy::new(0.02).unwrap());
        assert!(matches!(
            a.merge(&b),
            Err(RollupError::AccuracyMismatch { .. })
        ));
        assert_eq!(a.count(), 1);
    }
}
