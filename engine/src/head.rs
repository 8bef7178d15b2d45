//! The head: points not yet flushed to segments, in memory, as an append-only row log.
//!
//! Ingest writes to thousands of sparse series at random. Keeping a vector per series and
//! field would cost several cache misses per point (measured: the write path ran at about a
//! third of the parser's speed), so the head instead appends every point to a few flat
//! arrays in arrival order, like VictoriaMetrics' raw rows. The per-series, time-sorted
//! columns are built once, when the head is flushed or read:
//!
//! ```text
//! rows:   series[i]  ts[i]  first_value[i]      (one entry per point, arrival order)
//! values: field[j]   bits[j]   type[j]          (the fields of row i are first_value[i]..first_value[i+1])
//! ```
//! Every point in the head is also in the WAL files the head was built from; after a crash the
//! head is rebuilt from them.

use crate::batch::PointRef;
use crate::types::{
    ColumnValues, FieldColumn, FieldType, FieldValueRef, Nanos, SeriesId, TimeRange,
};
use ahash::AHashMap as HashMap;
use roaring::RoaringBitmap;

/// Unflushed points of every series.
#[derive(Debug, Default)]
pub(crate) struct Head {
    row_series: Vec<u32>,
    row_ts: Vec<Nanos>,
    /// Index into the value arrays of each row's first field; one extra entry closes the last row.
    row_first: Vec<u32>,
    val_field: Vec<u32>,
    val_bits: Vec<u64>,
    val_type: Vec<FieldType>,
    /// String field values; `val_bits` holds the index.
    strings: Vec<Box<str>>,
    strings_bytes: usize,
    /// Field names interned for this head.
    field_ids: HashMap<Box<str>, u32>,
    field_names: Vec<Box<str>>,
    /// Series present, one bit per series id (a dense bitset: setting a bit per point is
    /// cheaper than a bitmap insert, and ids are dense).
    series: Vec<u64>,
    /// Field ids of the previous point's fields, in order: points of a measurement carry the
    /// same fields, so most names are matched by one comparison instead of a hash look-up.
    last_fields: Vec<u32>,
    min_ts: Option<Nanos>,
    max_ts: Option<Nanos>,
}

impl Head {
    /// Appends a point (its field types were checked by the writer).
    pub(crate) fn apply(&mut self, series: SeriesId, p: &PointRef<'_>) {
        if self.row_first.is_empty() {
            self.row_first.push(0);
        }
        self.row_series.push(series.0);
        self.row_ts.push(p.ts);
        for (i, (name, value)) in p.fields().enumerate() {
            let cached = self
                .last_fields
                .get(i)
                .copied()
                .filter(|&f| &*self.field_names[f as usize] == name);
            let field = match cached {
                Some(f) => f,
                None => {
                    let f = match self.field_ids.get(name) {
                        Some(&f) => f,
                        None => {
                            let f = self.field_names.len() as u32;
                            self.field_names.push(name.into());
                            self.field_ids.insert(name.into(), f);
                            f
                        }
                    };
                    if i < self.last_fields.len() {
                        self.last_fields[i] = f;
                    } else {
                        self.last_fields.push(f);
                    }
                    f
                }
            };
            let bits = match value {
                FieldValueRef::Float(v) => v.to_bits(),
                FieldValueRef::Integer(v) => v as u64,
                FieldValueRef::Unsigned(v) => v,
                FieldValueRef::Boolean(v) => v as u64,
                FieldValueRef::String(v) => {
                    self.strings_bytes += v.len() + 16;
                    self.strings.push(v.into());
                    (self.strings.len() - 1) as u64
                }
            };
            self.val_field.push(field);
            self.val_bits.push(bits);
            self.val_type.push(value.field_type());
        }
        self.row_first.push(self.val_field.len() as u32);
        let (word, bit) = ((series.0 / 64) as usize, series.0 % 64);
        if word >= self.series.len() {
            self.series.resize(word + 1, 0);
        }
        self.series[word] |= 1 << bit;
        self.min_ts = Some(self.min_ts.map_or(p.ts, |m| m.min(p.ts)));
        self.max_ts = Some(self.max_ts.map_or(p.ts, |m| m.max(p.ts)));
    }

    /// Points held.
    pub(crate) fn points(&self) -> u64 {
        self.row_series.len() as u64
    }

    /// Estimated bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.row_series.len() * 16 + self.val_field.len() * 13 + self.strings_bytes
    }

    /// Whether the head holds nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.row_series.is_empty()
    }

    /// Whether any point lies in `range`.
    pub(crate) fn overlaps(&self, range: TimeRange) -> bool {
        match (self.min_ts, self.max_ts) {
            (Some(a), Some(b)) => range.overlaps(a, b),
            _ => false,
        }
    }

    /// Whether series `id` has points here.
    fn holds(&self, id: u32) -> bool {
        self.series
            .get((id / 64) as usize)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    /// The points of each series in `ids` (ascending) inside `range`, per field, in arrival
    /// order (not sorted, not deduplicated: the caller merges them with older data first).
    /// Returns one list per id, aligned with `ids`.
    pub(crate) fn read_many(
        &self,
        ids: &[SeriesId],
        fields: Option<&[&str]>,
        range: TimeRange,
    ) -> Vec<Vec<FieldColumn>> {
        let mut out: Vec<Vec<FieldColumn>> = (0..ids.len()).map(|_| Vec::new()).collect();
        // Field id -> column, per wanted series (filled lazily).
        let mut slots: Vec<Vec<u32>> = Vec::new();
        if ids.is_empty() || !self.overlaps(range) {
            return out;
        }
        let wanted_field: Vec<bool> = self
            .field_names
            .iter()
            .map(|n| fields.is_none_or(|f| f.contains(&&**n)))
            .collect();
        // Slot of each wanted series in `out`, found by binary search only for rows of
        // series the head holds.
        let wanted: RoaringBitmap = ids
            .iter()
            .map(|s| s.0)
            .filter(|&id| self.holds(id))
            .collect();
        if wanted.is_empty() {
            return out;
        }
        for row in 0..self.row_series.len() {
            let ts = self.row_ts[row];
            let sid = self.row_series[row];
            if !range.contains(ts) || !wanted.contains(sid) {
                continue;
            }
            let Ok(slot) = ids.binary_search(&SeriesId(sid)) else {
                continue;
            };
            if slots.is_empty() {
                slots = vec![Vec::new(); ids.len()];
            }
            if slots[slot].is_empty() {
                slots[slot] = vec![u32::MAX; self.field_names.len()];
            }
            self.push_row(row, &wanted_field, &mut slots[slot], &mut out[slot]);
        }
        out
    }

    /// Appends the wanted fields of `row` to the per-field columns in `cols`. `slots` maps a
    /// field id to its column in `cols` (`u32::MAX`: none yet); it must describe `cols`.
    fn push_row(
        &self,
        row: usize,
        wanted_field: &[bool],
        slots: &mut [u32],
        cols: &mut Vec<FieldColumn>,
    ) {
        let (a, b) = (
            self.row_first[row] as usize,
            self.row_first[row + 1] as usize,
        );
        for v in a..b {
            let f = self.val_field[v] as usize;
            if !wanted_field[f] {
                continue;
            }
            let ty = self.val_type[v];
            let slot = slots[f] as usize;
            let col = match cols.get_mut(slot) {
                // The writer keeps one type per field, so a slot's column has this value's type;
                // the check keeps a damaged head from mixing types in one column.
                Some(c) if c.values.field_type() == ty => c,
                _ => {
                    slots[f] = cols.len() as u32;
                    cols.push(FieldColumn {
                        name: self.field_names[f].to_string(),
                        ts: Vec::new(),
                        values: ColumnValues::empty(ty),
                    });
                    let last = cols.len() - 1;
                    &mut cols[last]
                }
            };
            col.ts.push(self.row_ts[row]);
            let bits = self.val_bits[v];
            match &mut col.values {
                ColumnValues::Float(c) => c.push(f64::from_bits(bits)),
                ColumnValues::Integer(c) => c.push(bits as i64),
                ColumnValues::Unsigned(c) => c.push(bits),
                ColumnValues::Boolean(c) => c.push(bits != 0),
                ColumnValues::String(c) => c.push(
                    self.strings
                        .get(bits as usize)
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                ),
            }
        }
    }

    /// Calls `f` for every series in ascending id order with its columns sorted by time (with
    /// last-write-wins applied where `lww(series)` says so) and ordered by field name: what a
    /// flush writes.
    pub(crate) fn for_each_series(
        &self,
        lww: impl Fn(SeriesId) -> bool,
        mut f: impl FnMut(SeriesId, Vec<FieldColumn>) -> Result<(), crate::EngineError>,
    ) -> Result<(), crate::EngineError> {
        let mut order: Vec<u32> = (0..self.row_series.len() as u32).collect();
        // Stable: rows of one series and timestamp keep arrival order, so the last write is last.
        order.sort_by_key(|&r| (self.row_series[r as usize], self.row_ts[r as usize]));
        let all_fields = vec![true; self.field_names.len()];
        let mut slots = vec![u32::MAX; self.field_names.len()];
        let mut i = 0;
        while i < order.len() {
            let sid = self.row_series[order[i] as usize];
            let mut cols = Vec::new();
            slots.fill(u32::MAX);
            while i < order.len() && self.row_series[order[i] as usize] == sid {
                self.push_row(order[i] as usize, &all_fields, &mut slots, &mut cols);
                i += 1;
            }
            let id = SeriesId(sid);
            let lww = lww(id);
            for c in &mut cols {
                c.sort_dedup(lww);
            }
            // A field written with two types cannot happen (the writer checks), but never
            // hand the segment writer two columns of one name.
            cols.sort_by(|a, b| a.name.cmp(&b.name));
            cols.dedup_by(|b, a| a.name == b.name);
            f(id, cols)?;
        }
        Ok(())
    }

    /// Every (field, type) the head holds, per series, for rebuilding the writer's schema.
    pub(crate) fn field_types(&self) -> impl Iterator<Item = (SeriesId, &str, FieldType)> + '_ {
        (0..self.row_series.len()).flat_map(move |row| {
            let (a, b) = (
                self.row_first[row] as usize,
                self.row_first[row + 1] as usize,
            );
            (a..b).map(move |v| {
                (
                    SeriesId(self.row_series[row]),
                    &*self.field_names[self.val_field[v] as usize],
                    self.val_type[v],
                )
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{PointScratch, WriteBatch};

    #[test]
    fn rows_become_sorted_columns_per_series() {
        let mut b = WriteBatch::new();
        let mut s = PointScratch::new();
        for (series, ts, v) in [(1u32, 30, 3i64), (0, 10, 1), (1, 10, 2), (1, 30, 4)] {
            let mut p = b.point(&mut s, "m");
            p.tag("s", &series.to_string());
            p.field("v", FieldValueRef::Integer(v));
            p.field("name", FieldValueRef::String("x"));
            p.finish(ts).unwrap();
        }
        let mut head = Head::default();
        for (p, sid) in b.iter().zip([1u32, 0, 1, 1]) {
            head.apply(SeriesId(sid), &p.unwrap());
        }
        assert_eq!(head.points(), 4);
        let got = head.read_many(&[SeriesId(1)], Some(&["v"]), TimeRange::ALL);
        assert_eq!(got[0].len(), 1);
        assert_eq!(got[0][0].ts, [30, 10, 30], "arrival order");
        let mut flushed = Vec::new();
        head.for_each_series(
            |_| true,
            |id, cols| {
                flushed.push((id, cols));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(flushed.len(), 2);
        assert_eq!(flushed[0].0, SeriesId(0));
        let (_, cols) = &flushed[1];
        assert_eq!(cols[0].name, "name");
        assert_eq!(cols[1].name, "v");
        assert_eq!(cols[1].ts, [10, 30]);
        assert_eq!(
            cols[1].values,
            ColumnValues::Integer(vec![2, 4]),
            "last write wins"
        );
    }
}
