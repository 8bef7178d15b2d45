//! The small value types every layer shares: series ids, timestamps, field values and columns.

use std::fmt;

/// Dense id of a series (measurement + sorted tag set), assigned in order of first sight.
///
/// Ids are never reused; they index the series registry and the tag index bitmaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesId(pub u32);

impl fmt::Display for SeriesId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Nanoseconds since the Unix epoch, UTC.
pub type Nanos = i64;

/// A half-open time range `[start, end)` in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// First nanosecond inside the range.
    pub start: Nanos,
    /// First nanosecond after the range.
    pub end: Nanos,
}

impl TimeRange {
    /// Every representable instant.
    pub const ALL: TimeRange = TimeRange {
        start: i64::MIN,
        end: i64::MAX,
    };

    /// The range `[start, end)`.
    pub fn new(start: Nanos, end: Nanos) -> Self {
        TimeRange { start, end }
    }

    /// Whether `t` lies inside the range.
    pub fn contains(&self, t: Nanos) -> bool {
        t >= self.start && t < self.end
    }

    /// Whether the closed interval `[min, max]` overlaps this range.
    pub fn overlaps(&self, min: Nanos, max: Nanos) -> bool {
        min < self.end && max >= self.start
    }
}

/// The type of a field column. The discriminant is the on-disk type code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FieldType {
    /// 64-bit IEEE float.
    Float = 1,
    /// Signed 64-bit integer (`i` suffix in line protocol).
    Integer = 2,
    /// Unsigned 64-bit integer (`u` suffix in line protocol).
    Unsigned = 3,
    /// Boolean.
    Boolean = 4,
    /// UTF-8 string.
    String = 5,
}

impl FieldType {
    /// Every type, in type-code order.
    pub const ALL: [FieldType; 5] = [
        FieldType::Float,
        FieldType::Integer,
        FieldType::Unsigned,
        FieldType::Boolean,
        FieldType::String,
    ];

    /// Decodes an on-disk type code.
    pub fn from_code(code: u8) -> Option<FieldType> {
        Some(match code {
            1 => FieldType::Float,
            2 => FieldType::Integer,
            3 => FieldType::Unsigned,
            4 => FieldType::Boolean,
            5 => FieldType::String,
            _ => return None,
        })
    }

    /// The on-disk type code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Lower-case name used in errors and APIs.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Float => "float",
            FieldType::Integer => "integer",
            FieldType::Unsigned => "unsigned",
            FieldType::Boolean => "boolean",
            FieldType::String => "string",
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One owned field value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// A float.
    Float(f64),
    /// A signed integer.
    Integer(i64),
    /// An unsigned integer.
    Unsigned(u64),
    /// A boolean.
    Boolean(bool),
    /// A string.
    String(String),
}

impl FieldValue {
    /// The value's type.
    pub fn field_type(&self) -> FieldType {
        match self {
            FieldValue::Float(_) => FieldType::Float,
            FieldValue::Integer(_) => FieldType::Integer,
            FieldValue::Unsigned(_) => FieldType::Unsigned,
            FieldValue::Boolean(_) => FieldType::Boolean,
            FieldValue::String(_) => FieldType::String,
        }
    }
}

/// A borrowed field value, as read out of a [`crate::WriteBatch`] without copying strings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValueRef<'a> {
    /// A float.
    Float(f64),
    /// A signed integer.
    Integer(i64),
    /// An unsigned integer.
    Unsigned(u64),
    /// A boolean.
    Boolean(bool),
    /// A string borrowed from the batch.
    String(&'a str),
}

impl FieldValueRef<'_> {
    /// The value's type.
    pub fn field_type(&self) -> FieldType {
        match self {
            FieldValueRef::Float(_) => FieldType::Float,
            FieldValueRef::Integer(_) => FieldType::Integer,
            FieldValueRef::Unsigned(_) => FieldType::Unsigned,
            FieldValueRef::Boolean(_) => FieldType::Boolean,
            FieldValueRef::String(_) => FieldType::String,
        }
    }

    /// Copies the value out of the batch.
    pub fn to_owned_value(&self) -> FieldValue {
        match *self {
            FieldValueRef::Float(v) => FieldValue::Float(v),
            FieldValueRef::Integer(v) => FieldValue::Integer(v),
            FieldValueRef::Unsigned(v) => FieldValue::Unsigned(v),
            FieldValueRef::Boolean(v) => FieldValue::Boolean(v),
            FieldValueRef::String(v) => FieldValue::String(v.to_owned()),
        }
    }
}

/// The values of one column, all of one type.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    /// Floats.
    Float(Vec<f64>),
    /// Signed integers.
    Integer(Vec<i64>),
    /// Unsigned integers.
    Unsigned(Vec<u64>),
    /// Booleans.
    Boolean(Vec<bool>),
    /// Strings.
    String(Vec<String>),
}

impl ColumnValues {
    /// An empty column of the given type.
    pub fn empty(ty: FieldType) -> Self {
        match ty {
            FieldType::Float => ColumnValues::Float(Vec::new()),
            FieldType::Integer => ColumnValues::Integer(Vec::new()),
            FieldType::Unsigned => ColumnValues::Unsigned(Vec::new()),
            FieldType::Boolean => ColumnValues::Boolean(Vec::new()),
            FieldType::String => ColumnValues::String(Vec::new()),
        }
    }

    /// The column's type.
    pub fn field_type(&self) -> FieldType {
        match self {
            ColumnValues::Float(_) => FieldType::Float,
            ColumnValues::Integer(_) => FieldType::Integer,
            ColumnValues::Unsigned(_) => FieldType::Unsigned,
            ColumnValues::Boolean(_) => FieldType::Boolean,
            ColumnValues::String(_) => FieldType::String,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            ColumnValues::Float(v) => v.len(),
            ColumnValues::Integer(v) => v.len(),
            ColumnValues::Unsigned(v) => v.len(),
            ColumnValues::Boolean(v) => v.len(),
            ColumnValues::String(v) => v.len(),
        }
    }

    /// Whether the column holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `i`, copied out; `None` past the end.
    pub fn get(&self, i: usize) -> Option<FieldValue> {
        Some(match self {
            ColumnValues::Float(v) => FieldValue::Float(*v.get(i)?),
            ColumnValues::Integer(v) => FieldValue::Integer(*v.get(i)?),
            ColumnValues::Unsigned(v) => FieldValue::Unsigned(*v.get(i)?),
            ColumnValues::Boolean(v) => FieldValue::Boolean(*v.get(i)?),
            ColumnValues::String(v) => FieldValue::String(v.get(i)?.clone()),
        })
    }

    /// Appends every value of `other`; returns `false` (and appends nothing) on a type mismatch.
    pub fn extend_from(&mut self, other: &ColumnValues) -> bool {
        match (self, other) {
            (ColumnValues::Float(a), ColumnValues::Float(b)) => a.extend_from_slice(b),
            (ColumnValues::Integer(a), ColumnValues::Integer(b)) => a.extend_from_slice(b),
            (ColumnValues::Unsigned(a), ColumnValues::Unsigned(b)) => a.extend_from_slice(b),
            (ColumnValues::Boolean(a), ColumnValues::Boolean(b)) => a.extend_from_slice(b),
            (ColumnValues::String(a), ColumnValues::String(b)) => a.extend_from_slice(b),
            _ => return false,
        }
        true
    }

    /// The values at positions `range`, copied.
    pub fn slice(&self, range: std::ops::Range<usize>) -> ColumnValues {
        match self {
            ColumnValues::Float(v) => ColumnValues::Float(v[range].to_vec()),
            ColumnValues::Integer(v) => ColumnValues::Integer(v[range].to_vec()),
            ColumnValues::Unsigned(v) => ColumnValues::Unsigned(v[range].to_vec()),
            ColumnValues::Boolean(v) => ColumnValues::Boolean(v[range].to_vec()),
            ColumnValues::String(v) => ColumnValues::String(v[range].to_vec()),
        }
    }

    /// The values at the positions `order` lists, in that order.
    pub fn gather(&self, order: &[u32]) -> ColumnValues {
        fn g<T: Clone>(v: &[T], order: &[u32]) -> Vec<T> {
            order.iter().map(|&i| v[i as usize].clone()).collect()
        }
        match self {
            ColumnValues::Float(v) => ColumnValues::Float(g(v, order)),
            ColumnValues::Integer(v) => ColumnValues::Integer(g(v, order)),
            ColumnValues::Unsigned(v) => ColumnValues::Unsigned(g(v, order)),
            ColumnValues::Boolean(v) => ColumnValues::Boolean(g(v, order)),
            ColumnValues::String(v) => ColumnValues::String(g(v, order)),
        }
    }

    /// Approximate heap bytes held, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        match self {
            ColumnValues::Float(v) => v.capacity() * 8,
            ColumnValues::Integer(v) => v.capacity() * 8,
            ColumnValues::Unsigned(v) => v.capacity() * 8,
            ColumnValues::Boolean(v) => v.capacity(),
            ColumnValues::String(v) => {
                v.capacity() * std::mem::size_of::<String>()
                    + v.iter().map(String::capacity).sum::<usize>()
            }
        }
    }

    /// Appends a value of the same type; returns `false` (and appends nothing) on a type mismatch.
    pub fn push_ref(&mut self, value: FieldValueRef<'_>) -> bool {
        match (self, value) {
            (ColumnValues::Float(c), FieldValueRef::Float(v)) => c.push(v),
            (ColumnValues::Integer(c), FieldValueRef::Integer(v)) => c.push(v),
            (ColumnValues::Unsigned(c), FieldValueRef::Unsigned(v)) => c.push(v),
            (ColumnValues::Boolean(c), FieldValueRef::Boolean(v)) => c.push(v),
            (ColumnValues::String(c), FieldValueRef::String(v)) => c.push(v.to_owned()),
            _ => return false,
        }
        true
    }
}

/// One field's values for one series, sorted by time.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldColumn {
    /// Field name.
    pub name: String,
    /// Timestamps, ascending (equal timestamps only in event measurements).
    pub ts: Vec<Nanos>,
    /// Values, one per timestamp.
    pub values: ColumnValues,
}

impl FieldColumn {
    /// Sorts the points by time (stable: equal timestamps keep write order) and, when
    /// `last_write_wins`, keeps only the last point written for each timestamp.
    pub fn sort_dedup(&mut self, last_write_wins: bool) {
        let n = self.ts.len();
        let strictly_sorted = self.ts.windows(2).all(|w| w[0] < w[1]);
        if strictly_sorted || (!last_write_wins && self.ts.windows(2).all(|w| w[0] <= w[1])) {
            return;
        }
        let mut order: Vec<u32> = (0..n as u32).collect();
        // Stable, so among equal timestamps the later write stays later.
        order.sort_by_key(|&i| self.ts[i as usize]);
        if last_write_wins {
            let ts = &self.ts;
            let mut kept: Vec<u32> = Vec::with_capacity(n);
            for &i in &order {
                match kept.last_mut() {
                    Some(last) if ts[*last as usize] == ts[i as usize] => *last = i,
                    _ => kept.push(i),
                }
            }
            order = kept;
        }
        self.ts = order.iter().map(|&i| self.ts[i as usize]).collect();
        self.values = self.values.gather(&order);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_dedup_keeps_last_write_or_every_event() {
        let col = FieldColumn {
            name: "v".into(),
            ts: vec![3, 1, 3, 2, 1],
            values: ColumnValues::Integer(vec![30, 10, 31, 20, 11]),
        };
        let mut lww = col.clone();
        lww.sort_dedup(true);
        assert_eq!(lww.ts, [1, 2, 3]);
        assert_eq!(lww.values, ColumnValues::Integer(vec![11, 20, 31]));
        let mut ev = col;
        ev.sort_dedup(false);
        assert_eq!(ev.ts, [1, 1, 2, 3, 3]);
        assert_eq!(ev.values, ColumnValues::Integer(vec![10, 11, 20, 30, 31]));
    }
}

/// Some points of one stored column, lent to a scan's visitor ([`crate::Db::scan_field`]):
/// `values` at `rows`, and their timestamps when the scan decoded them (`ts[i]` belongs to
/// `values[rows.start + i]`).
#[derive(Debug, Clone)]
pub struct ColumnPiece<'a> {
    /// Timestamps of the rows, ascending; `None` when the scan had no need to decode them.
    pub ts: Option<&'a [Nanos]>,
    /// Decoded values, of which `rows` are the points visited.
    pub values: &'a ColumnValues,
    /// Which of `values` are visited.
    pub rows: std::ops::Range<usize>,
}
