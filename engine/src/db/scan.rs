//! Column scans: the raw values of one field of many series, lent to a visitor a stored column
//! at a time instead of rebuilt into per-series points.
//!
//! Why: a query folding one column (`sum(bytes_out)` over a week) spends its time per value,
//! and rebuilding points (copying timestamps, merging parts, evaluating expressions per row)
//! costs ten times the decoding. For event measurements every stored point counts once, so
//! each segment's column and each head's points can be visited where they lie. Metric
//! measurements keep the last write of a timestamp, which needs every part of a series merged
//! first; their scan merges (as [`Db::read_series`] does) and visits the result.

use super::{read, Db};
use crate::error::EngineError;
use crate::options::MeasurementKind;
use crate::types::{ColumnPiece, FieldColumn, FieldType, SeriesId, TimeRange};

impl Db {
    /// Visits the raw values of `field` for the series `ids` (ascending, distinct, as
    /// [`Db::series`] returns them) of `measurement` in `range`: `visit(i, piece)` gets the
    /// index into `ids` and some of that series' points. Every live point is visited exactly
    /// once; pieces of one series come in no particular time order. With `need_ts` false,
    /// timestamps are decoded only where a column straddles the range's ends.
    ///
    /// A column stored with another type than the field has now (possible only after all data
    /// of the old type expired and the field came back with a new one) is skipped, as reads
    /// skip points stored with an older field type.
    pub fn scan_field(
        &self,
        measurement: &str,
        ids: &[SeriesId],
        range: TimeRange,
        field: &str,
        need_ts: bool,
        mut visit: impl FnMut(usize, ColumnPiece<'_>),
    ) -> Result<(), EngineError> {
        let Some(range) = self.raw_read_range(measurement, ids, range, "scan_field")? else {
            return Ok(());
        };
        let Some(ty) = self.field_type(measurement, field) else {
            return Ok(());
        };
        let view = self.view();
        let fields = [field];
        if self.shared.opts.kind_of(measurement) == MeasurementKind::Metric {
            let merged = self.read_raw(&view, ids, Some(&fields), range, true)?;
            visit_columns(&merged, ty, &mut visit);
            return Ok(());
        }
        for seg in view
            .segments
            .iter()
            .filter(|s| range.overlaps(s.meta().min_ts, s.meta().max_ts))
        {
            // Pieces come in ascending id order, like `ids`: one forward walk maps them.
            let mut slot = 0;
            seg.scan_field(ids, field, range, need_ts, |id, piece| {
                slot += ids[slot..].partition_point(|&x| x < id);
                if ids.get(slot) == Some(&id) && piece.values.field_type() == ty {
                    visit(slot, piece);
                }
            })?;
        }
        for h in view.frozen.iter().chain(std::iter::once(&view.active)) {
            let cols = read(h).read_many(ids, Some(&fields), range);
            visit_columns(&cols, ty, &mut visit);
        }
        Ok(())
    }

    /// The type `field` of `measurement` has now, if it exists.
    fn field_type(&self, measurement: &str, field: &str) -> Option<FieldType> {
        self.field_keys(measurement)
            .into_iter()
            .find(|(n, _)| n == field)
            .map(|(_, t)| t)
    }
}

/// Visits every column of type `ty` in `cols` (one list per series) whole, with timestamps.
fn visit_columns(
    cols: &[Vec<FieldColumn>],
    ty: FieldType,
    visit: &mut impl FnMut(usize, ColumnPiece<'_>),
) {
    for (i, cols) in cols.iter().enumerate() {
        for c in cols.iter().filter(|c| c.values.field_type() == ty) {
            let piece = ColumnPiece {
                ts: Some(&c.ts),
                values: &c.values,
                rows: 0..c.values.len(),
            };
            visit(i, piece);
        }
    }
}
