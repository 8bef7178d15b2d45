//! The head: points not yet flushed to segments, in memory, per series and field.
//!
//! Columns are append-only in arrival order; sorting by time and last-write-wins happen when a
//! column is read or flushed ([`FieldColumn::sort_dedup`]), so a write is a few pushes.
//! Every point in the head is also in the WAL files the head was built from; the head is
//! rebuilt from them after a crash.

use crate::batch::PointRef;
use crate::options::MeasurementKind;
use crate::types::{ColumnValues, FieldColumn, FieldType, Nanos, SeriesId, TimeRange};
use ahash::AHashMap as HashMap;

/// One field of one series in the head.
#[derive(Debug)]
struct HeadColumn {
    name: Box<str>,
    ts: Vec<Nanos>,
    values: ColumnValues,
}

/// The head's part of one series.
#[derive(Debug)]
struct SeriesHead {
    kind: MeasurementKind,
    fields: Vec<HeadColumn>,
}

/// Unflushed points of every series.
#[derive(Debug, Default)]
pub(crate) struct Head {
    series: HashMap<SeriesId, SeriesHead>,
    points: u64,
    bytes: usize,
    min_ts: Option<Nanos>,
    max_ts: Option<Nanos>,
}

impl Head {
    /// The type the head holds for `field` of `series`, if it holds any.
    pub(crate) fn field_type(&self, series: SeriesId, field: &str) -> Option<FieldType> {
        self.series.get(&series).and_then(|s| {
            s.fields
                .iter()
                .find(|c| &*c.name == field)
                .map(|c| c.values.field_type())
        })
    }

    /// Adds a point whose field types were checked against the head (see `Db`'s writer).
    /// A field whose type still conflicts is skipped rather than corrupting the column.
    pub(crate) fn apply(&mut self, series: SeriesId, kind: MeasurementKind, p: &PointRef<'_>) {
        let s = self.series.entry(series).or_insert_with(|| SeriesHead {
            kind,
            fields: Vec::new(),
        });
        for (name, value) in p.fields() {
            let col = match s.fields.iter().position(|c| &*c.name == name) {
                Some(i) => &mut s.fields[i],
                None => {
                    self.bytes += name.len() + 64;
                    s.fields.push(HeadColumn {
                        name: name.into(),
                        ts: Vec::new(),
                        values: ColumnValues::empty(value.field_type()),
                    });
                    let last = s.fields.len() - 1;
                    &mut s.fields[last]
                }
            };
            if col.values.push_ref(value) {
                col.ts.push(p.ts);
                self.bytes += 16
                    + match value {
                        crate::types::FieldValueRef::String(v) => v.len() + 24,
                        _ => 0,
                    };
            }
        }
        self.points += 1;
        self.min_ts = Some(self.min_ts.map_or(p.ts, |m| m.min(p.ts)));
        self.max_ts = Some(self.max_ts.map_or(p.ts, |m| m.max(p.ts)));
    }

    /// Points held.
    pub(crate) fn points(&self) -> u64 {
        self.points
    }

    /// Estimated bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether the head holds nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.points == 0
    }

    /// Whether any point lies in `range`.
    pub(crate) fn overlaps(&self, range: TimeRange) -> bool {
        match (self.min_ts, self.max_ts) {
            (Some(a), Some(b)) => range.overlaps(a, b),
            _ => false,
        }
    }

    /// The raw (unsorted, not deduplicated) points of `series` in `range`, per field.
    pub(crate) fn read(
        &self,
        series: SeriesId,
        fields: Option<&[&str]>,
        range: TimeRange,
        out: &mut Vec<FieldColumn>,
    ) {
        let Some(s) = self.series.get(&series) else {
            return;
        };
        for c in &s.fields {
            if fields.is_some_and(|f| !f.contains(&&*c.name)) {
                continue;
            }
            let keep: Vec<u32> = (0..c.ts.len() as u32)
                .filter(|&i| range.contains(c.ts[i as usize]))
                .collect();
            if keep.is_empty() {
                continue;
            }
            let (ts, values) = if keep.len() == c.ts.len() {
                (c.ts.clone(), c.values.clone())
            } else {
                (
                    keep.iter().map(|&i| c.ts[i as usize]).collect(),
                    c.values.gather(&keep),
                )
            };
            out.push(FieldColumn {
                name: c.name.to_string(),
                ts,
                values,
            });
        }
    }

    /// Series ids held, ascending.
    pub(crate) fn series_ids(&self) -> Vec<SeriesId> {
        let mut ids: Vec<SeriesId> = self.series.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Every column of `series`, sorted by time with last-write-wins applied for metrics, and
    /// ordered by field name: what a flush writes.
    pub(crate) fn flush_columns(&self, series: SeriesId) -> Vec<FieldColumn> {
        let Some(s) = self.series.get(&series) else {
            return Vec::new();
        };
        let mut cols: Vec<FieldColumn> = s
            .fields
            .iter()
            .map(|c| {
                let mut col = FieldColumn {
                    name: c.name.to_string(),
                    ts: c.ts.clone(),
                    values: c.values.clone(),
                };
                col.sort_dedup(s.kind == MeasurementKind::Metric);
                col
            })
            .collect();
        cols.sort_by(|a, b| a.name.cmp(&b.name));
        cols
    }
}
