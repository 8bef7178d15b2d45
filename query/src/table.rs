//! What a query returns: a [`Table`] of typed [`Column`]s and rows of [`Cell`]s.
//!
//! Invariants: every row has exactly one cell per column, and a non-null cell has its column's
//! type (`Time` cells are nanoseconds since the Unix epoch, UTC).

use std::fmt;

/// The type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// Nanoseconds since the Unix epoch (UTC); rendered as RFC 3339.
    Time,
    /// A tag value (a string that names a series dimension).
    Tag,
    /// A 64-bit signed integer.
    Integer,
    /// A 64-bit float.
    Float,
    /// Text.
    String,
    /// `true` / `false`.
    Boolean,
}

impl ColumnType {
    /// The name used in JSON output and `EXPLAIN`: `time`, `tag`, `integer`, `float`, `string`,
    /// `boolean`.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Time => "time",
            ColumnType::Tag => "tag",
            ColumnType::Integer => "integer",
            ColumnType::Float => "float",
            ColumnType::String => "string",
            ColumnType::Boolean => "boolean",
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One column of a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column name: an alias, a tag key, `time`, or the expression as written.
    pub name: String,
    /// The type of its non-null cells.
    pub ty: ColumnType,
}

/// One value of a result.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value (an empty bucket, a division by zero, a missing tag).
    Null,
    /// A `Time` cell, in nanoseconds since the Unix epoch.
    Time(i64),
    /// An `Integer` cell.
    Integer(i64),
    /// A `Float` cell (never NaN: undefined results are `Null`).
    Float(f64),
    /// A `Tag` or `String` cell.
    String(String),
    /// A `Boolean` cell.
    Boolean(bool),
}

impl Cell {
    /// The cell as a float, for numeric cells.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Integer(i) => Some(*i as f64),
            Cell::Float(f) => Some(*f),
            Cell::Time(t) => Some(*t as f64),
            _ => None,
        }
    }
}

/// A query's answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// The columns, in select-list order (group tags and `time` first for aggregates).
    pub columns: Vec<Column>,
    /// The rows; each has one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: Vec<Column>) -> Table {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    /// The index of the column named `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}
