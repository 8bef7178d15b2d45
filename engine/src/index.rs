//! The tag index: `measurement` and `tag=value` -> roaring bitmap of series ids.
//!
//! A WHERE clause on tags becomes bitmap algebra here. The index is derived data: it is rebuilt
//! from the series log ([`crate::series`]) at start-up, so it can never disagree with it.

use crate::batch::SeriesKeyRef;
use crate::selector::{Selector, TagPredicate};
use crate::types::SeriesId;
use roaring::RoaringBitmap;
use std::collections::BTreeMap;

/// Per measurement: all its series, and per tag key, per value, the series with that value.
#[derive(Debug, Default, Clone)]
struct MeasurementIndex {
    all: RoaringBitmap,
    tags: BTreeMap<String, BTreeMap<String, RoaringBitmap>>,
}

/// Maps measurements and tag pairs to the series that carry them.
#[derive(Debug, Default, Clone)]
pub struct TagIndex {
    measurements: BTreeMap<String, MeasurementIndex>,
}

impl TagIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a series.
    pub fn insert(&mut self, id: SeriesId, key: SeriesKeyRef<'_>) {
        let m = match self.measurements.get_mut(key.measurement()) {
            Some(m) => m,
            None => self
                .measurements
                .entry(key.measurement().to_owned())
                .or_default(),
        };
        m.all.insert(id.0);
        for (k, v) in key.tags() {
            let values = match m.tags.get_mut(k) {
                Some(vs) => vs,
                None => m.tags.entry(k.to_owned()).or_default(),
            };
            match values.get_mut(v) {
                Some(b) => {
                    b.insert(id.0);
                }
                None => {
                    values.entry(v.to_owned()).or_default().insert(id.0);
                }
            }
        }
    }

    /// Measurement names, sorted.
    pub fn measurements(&self) -> impl Iterator<Item = &str> {
        self.measurements.keys().map(String::as_str)
    }

    /// Tag keys of a measurement, sorted.
    pub fn tag_keys(&self, measurement: &str) -> Vec<&str> {
        self.measurements
            .get(measurement)
            .map(|m| m.tags.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Values of one tag key of a measurement, sorted.
    pub fn tag_values(&self, measurement: &str, key: &str) -> Vec<&str> {
        self.measurements
            .get(measurement)
            .and_then(|m| m.tags.get(key))
            .map(|vs| vs.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The series `sel` picks.
    pub fn select(&self, sel: &Selector) -> RoaringBitmap {
        let Some(m) = self.measurements.get(&sel.measurement) else {
            return RoaringBitmap::new();
        };
        let mut out = m.all.clone();
        for p in &sel.predicates {
            if out.is_empty() {
                break;
            }
            let matching = Self::matching(m, p);
            out &= matching;
        }
        out
    }

    /// Series of measurement `m` for which `p` holds. A series without the tag has value "".
    fn matching(m: &MeasurementIndex, p: &TagPredicate) -> RoaringBitmap {
        let values = m.tags.get(p.key());
        let mut hit = RoaringBitmap::new();
        let mut with_tag = RoaringBitmap::new();
        if let Some(values) = values {
            match p {
                // Equality is a point look-up, not a scan of every value.
                TagPredicate::Eq { value, .. } if !value.is_empty() => {
                    return values.get(value).cloned().unwrap_or_default();
                }
                TagPredicate::In { values: wanted, .. } if wanted.iter().all(|v| !v.is_empty()) => {
                    for v in wanted {
                        if let Some(b) = values.get(v) {
                            hit |= b;
                        }
                    }
                    return hit;
                }
                _ => {}
            }
            for (v, b) in values {
                with_tag |= b;
                if p.matches(v) {
                    hit |= b;
                }
            }
        }
        if p.matches("") {
            hit |= &m.all - &with_tag;
        }
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{PointScratch, WriteBatch};
    use crate::types::FieldValueRef;
    use regex::Regex;

    fn index(series: &[&[(&str, &str)]]) -> TagIndex {
        let mut idx = TagIndex::new();
        let mut b = WriteBatch::new();
        let mut s = PointScratch::new();
        for tags in series {
            let mut p = b.point(&mut s, "m");
            for (k, v) in *tags {
                p.tag(k, v);
            }
            p.field("f", FieldValueRef::Integer(1));
            p.finish(0).unwrap();
        }
        for (i, p) in b.iter().enumerate() {
            idx.insert(SeriesId(i as u32), p.unwrap().key);
        }
        idx
    }

    fn ids(b: RoaringBitmap) -> Vec<u32> {
        b.iter().collect()
    }

    #[test]
    fn predicates_are_bitmap_algebra() {
        let idx = index(&[
            &[("host", "a"), ("dc", "eu")],
            &[("host", "b"), ("dc", "us")],
            &[("host", "c")],
        ]);
        let sel = |p: TagPredicate| Selector::measurement("m").with(p);
        let s = |x: &str| x.to_owned();
        assert_eq!(ids(idx.select(&Selector::measurement("m"))), [0, 1, 2]);
        assert!(idx.select(&Selector::measurement("nope")).is_empty());
        assert_eq!(
            ids(idx.select(&sel(TagPredicate::Eq {
                key: s("dc"),
                value: s("eu")
            }))),
            [0]
        );
        assert_eq!(
            ids(idx.select(&sel(TagPredicate::Ne {
                key: s("dc"),
                value: s("eu")
            }))),
            [1, 2]
        );
        assert_eq!(
            ids(idx.select(&sel(TagPredicate::Eq {
                key: s("dc"),
                value: s("")
            }))),
            [2],
            "missing tag compares as empty"
        );
        assert_eq!(
            ids(idx.select(&sel(TagPredicate::In {
                key: s("host"),
                values: vec![s("a"), s("c"), s("zz")]
            }))),
            [0, 2]
        );
        assert_eq!(
            ids(idx.select(&sel(TagPredicate::NotIn {
                key: s("host"),
                values: vec![s("a")]
            }))),
            [1, 2]
        );
        assert_eq!(
            ids(idx.select(&sel(TagPredicate::Regex {
                key: s("host"),
                regex: Regex::new("^[ab]$").unwrap()
            }))),
            [0, 1]
        );
        assert_eq!(
            ids(idx.select(&sel(TagPredicate::NotRegex {
                key: s("dc"),
                regex: Regex::new("u").unwrap()
            }))),
            [2]
        );
        let both = Selector::measurement("m")
            .with(TagPredicate::Ne {
                key: s("host"),
                value: s("a"),
            })
            .with(TagPredicate::Eq {
                key: s("dc"),
                value: s("us"),
            });
        assert_eq!(ids(idx.select(&both)), [1]);
        assert_eq!(idx.tag_keys("m"), ["dc", "host"]);
        assert_eq!(idx.tag_values("m", "host"), ["a", "b", "c"]);
    }
}
