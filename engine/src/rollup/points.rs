//! The point count of a series, kept in the rollups as a field of its own
//! ([`POINTS_FIELD`]): counts per field cannot give `count(*)`, because points need not carry
//! every field.
//!
//! Wherever raw columns turn into rollups (a flush, the last-write-wins rebuild, the head and
//! raw edges at read time), [`points_column`] derives a column with one `1` per point from the
//! series' field columns; from there it is rolled up, merged, compacted and expired like any
//! other field.

use crate::types::{ColumnValues, FieldColumn};

/// The name of the point-count pseudo-field. U+0001 cannot appear in a written field name (the
/// writer refuses it), so no real field collides with it.
pub const POINTS_FIELD: &str = "\u{1}points";

/// One `1` per point of a series, given its field columns over the same range (each sorted by
/// time). Points are told apart by timestamp; in an event series two points may share one, and
/// a timestamp appearing `n` times in some column is `n` points (the most any column has).
/// With `distinct` (last write wins) each timestamp is one point. `None` without points.
pub fn points_column(cols: &[FieldColumn], distinct: bool) -> Option<FieldColumn> {
    let cols: Vec<&FieldColumn> = cols.iter().filter(|c| c.name != POINTS_FIELD).collect();
    let mut pos = vec![0usize; cols.len()];
    let mut ts = Vec::with_capacity(cols.iter().map(|c| c.ts.len()).max().unwrap_or(0));
    loop {
        let next = cols
            .iter()
            .zip(&pos)
            .filter_map(|(c, &p)| c.ts.get(p).copied())
            .min();
        let Some(t) = next else {
            break;
        };
        let mut most = 0;
        for (c, p) in cols.iter().zip(pos.iter_mut()) {
            let run = c.ts[(*p).min(c.ts.len())..]
                .iter()
                .take_while(|&&x| x == t)
                .count();
            *p += run;
            most = most.max(run);
        }
        let n = if distinct { 1 } else { most };
        ts.extend(std::iter::repeat_n(t, n));
    }
    if ts.is_empty() {
        return None;
    }
    let ones = vec![1i64; ts.len()];
    Some(FieldColumn {
        name: POINTS_FIELD.to_owned(),
        ts,
        values: ColumnValues::Integer(ones),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, ts: &[i64]) -> FieldColumn {
        FieldColumn {
            name: name.into(),
            ts: ts.to_vec(),
            values: ColumnValues::Float(vec![0.0; ts.len()]),
        }
    }

    #[test]
    fn counts_points_whatever_fields_they_carry() {
        // Points at 1 (a, b), 2 (b only), 3 twice (a twice, b once), 5 (a only).
        let cols = [col("a", &[1, 3, 3, 5]), col("b", &[1, 2, 3])];
        let p = points_column(&cols, false).unwrap();
        assert_eq!(p.ts, vec![1, 2, 3, 3, 5]);
        assert_eq!(p.values, ColumnValues::Integer(vec![1; 5]));
        assert_eq!(points_column(&cols, true).unwrap().ts, vec![1, 2, 3, 5]);
        assert!(points_column(&[], false).is_none());
        assert!(points_column(&[col("a", &[])], false).is_none());
        // An existing points column is not counted again.
        let with = [cols[0].clone(), p.clone()];
        assert_eq!(points_column(&with, false).unwrap().ts, vec![1, 3, 3, 5]);
    }
}
