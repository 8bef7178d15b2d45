//! Renders a [`Table`](crate::Table) as JSON, CSV or an aligned text table (shared by the HTTP
//! API and the CLI), and reads the JSON form back ([`from_json`]) so the CLI can print what a
//! server answered in any of the three.
//!
//! - **JSON** ([`json`]): one table is `{"columns":[{"name":"n","type":"integer"}],"rows":[[1]]}`;
//!   any other number of tables (a multi-statement query) is `{"results":[{...},{...}]}`.
//!   Null cells are `null`; floats are numbers (a non-finite float, which JSON cannot hold, is
//!   `null`); times are RFC 3339 strings in UTC with the fraction trimmed of trailing zeros
//!   (`2026-01-01T00:00:00.5Z`), or integers since the epoch with [`TimeFormat::Epoch`] (InfluxDB's
//!   `epoch=ns|us|ms|s`).
//! - **CSV** ([`csv`]): a header row of column names, then one line per row, `\n` line ends,
//!   RFC 4180 quoting (a field holding `,`, `"`, CR or LF is quoted, `"` doubled). A null is an
//!   empty field and an empty string is `""`, so the two stay apart. Several tables are separated
//!   by one blank line.
//! - **Text** ([`text`]): columns padded to their widest cell (in characters), numbers
//!   right-aligned, control characters escaped so rows stay on one line, and a `(N rows)` footer.
//!
//! ```
//! use tally_query::format::{self, TimeFormat};
//! use tally_query::{Cell, Column, ColumnType, Table};
//!
//! let mut t = Table::new(vec![
//!     Column { name: "time".into(), ty: ColumnType::Time },
//!     Column { name: "count".into(), ty: ColumnType::Integer },
//! ]);
//! t.rows.push(vec![Cell::Time(1_500_000_000), Cell::Integer(42)]);
//! assert_eq!(
//!     format::json(&[t.clone()], TimeFormat::Rfc3339).to_string(),
//!     r#"{"columns":[{"name":"time","type":"time"},{"name":"count","type":"integer"}],"rows":[["1970-01-01T00:00:01.5Z",42]]}"#
//! );
//! assert_eq!(format::csv(&[t.clone()], TimeFormat::Rfc3339), "time,count\n1970-01-01T00:00:01.5Z,42\n");
//! print!("{}", format::text(&[t], TimeFormat::Rfc3339));
//! ```

use crate::table::{Cell, Column, ColumnType, Table};
use chrono::{DateTime, SecondsFormat};
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::str::FromStr;
use thiserror::Error;

/// How `Time` cells are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// RFC 3339 in UTC, fraction trimmed of trailing zeros: `2026-01-01T00:00:00.25Z`.
    #[default]
    Rfc3339,
    /// Whole units since the Unix epoch, rounded down: `epoch=ms` gives `1767225600250`.
    Epoch(EpochUnit),
}

/// The unit of [`TimeFormat::Epoch`].
///
/// ```
/// use tally_query::format::EpochUnit;
/// assert_eq!("ms".parse::<EpochUnit>().unwrap(), EpochUnit::Milliseconds);
/// assert_eq!(EpochUnit::Seconds.nanos(), 1_000_000_000);
/// assert!("fortnight".parse::<EpochUnit>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochUnit {
    /// `ns` (also `n`).
    Nanoseconds,
    /// `us` (also `u` and `µs`).
    Microseconds,
    /// `ms`.
    Milliseconds,
    /// `s`.
    Seconds,
}

impl EpochUnit {
    /// Nanoseconds in one unit.
    pub fn nanos(self) -> i64 {
        match self {
            EpochUnit::Nanoseconds => 1,
            EpochUnit::Microseconds => 1_000,
            EpochUnit::Milliseconds => 1_000_000,
            EpochUnit::Seconds => 1_000_000_000,
        }
    }

    /// The canonical name: `ns`, `us`, `ms` or `s`.
    pub fn name(self) -> &'static str {
        match self {
            EpochUnit::Nanoseconds => "ns",
            EpochUnit::Microseconds => "us",
            EpochUnit::Milliseconds => "ms",
            EpochUnit::Seconds => "s",
        }
    }
}

impl FromStr for EpochUnit {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<EpochUnit, FormatError> {
        match s {
            "ns" | "n" => Ok(EpochUnit::Nanoseconds),
            "us" | "u" | "µs" | "µ" => Ok(EpochUnit::Microseconds),
            "ms" => Ok(EpochUnit::Milliseconds),
            "s" => Ok(EpochUnit::Seconds),
            other => Err(FormatError::UnknownEpochUnit(other.to_owned())),
        }
    }
}

/// What went wrong choosing a format or reading results back from JSON.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FormatError {
    /// An epoch unit that is not `ns`, `us`, `ms` or `s`.
    #[error(
        "unknown epoch unit `{0}`; use ns, us, ms or s (or leave epoch out for RFC 3339 times)"
    )]
    UnknownEpochUnit(String),
    /// JSON that is not a result in the shape [`json`] writes.
    #[error("not a query result: {at}: {message}")]
    Shape {
        /// Where in the document, e.g. `results[1].rows[3][0]`.
        at: String,
        /// What was expected there.
        message: String,
    },
}

/// An instant as RFC 3339 in UTC with nanosecond precision and trailing zeros of the fraction
/// trimmed, as Go's `RFC3339Nano` (and so InfluxDB) writes it.
///
/// ```
/// use tally_query::format::rfc3339;
/// assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
/// assert_eq!(rfc3339(1_767_225_600_123_000_000), "2026-01-01T00:00:00.123Z");
/// assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
/// ```
pub fn rfc3339(ns: i64) -> String {
    let text = DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Nanos, true);
    // `…:SS.fffffffffZ`: drop the zeros at the end of the fraction, and the dot if nothing is left.
    match text.strip_suffix('Z') {
        Some(body) => {
            let body = body.trim_end_matches('0');
            let body = body.strip_suffix('.').unwrap_or(body);
            format!("{body}Z")
        }
        None => text,
    }
}

/// A time in `format`: an RFC 3339 string or an integer count of units.
fn time_json(ns: i64, format: TimeFormat) -> Value {
    match format {
        TimeFormat::Rfc3339 => Value::String(rfc3339(ns)),
        TimeFormat::Epoch(unit) => json!(ns.div_euclid(unit.nanos())),
    }
}

fn cell_json(cell: &Cell, format: TimeFormat) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Time(ns) => time_json(*ns, format),
        Cell::Integer(i) => json!(i),
        // `json!` turns a non-finite float into null, which is what JSON can say about it.
        Cell::Float(f) => json!(f),
        Cell::String(s) => Value::String(s.clone()),
        Cell::Boolean(b) => Value::Bool(*b),
    }
}

/// One table as `{"columns":[{"name","type"}...],"rows":[[...]...]}`.
///
/// ```
/// use tally_query::format::{table_json, TimeFormat, EpochUnit};
/// use tally_query::{Cell, Column, ColumnType, Table};
/// let mut t = Table::new(vec![Column { name: "time".into(), ty: ColumnType::Time }]);
/// t.rows.push(vec![Cell::Time(2_500_000_000)]);
/// let v = table_json(&t, TimeFormat::Epoch(EpochUnit::Seconds));
/// assert_eq!(v["rows"][0][0], 2);
/// assert_eq!(v["columns"][0]["type"], "time");
/// ```
pub fn table_json(table: &Table, format: TimeFormat) -> Value {
    let columns: Vec<Value> = table
        .columns
        .iter()
        .map(|c| json!({ "name": c.name, "type": c.ty.name() }))
        .collect();
    let rows: Vec<Value> = table
        .rows
        .iter()
        .map(|row| Value::Array(row.iter().map(|c| cell_json(c, format)).collect()))
        .collect();
    let mut m = Map::new();
    m.insert("columns".to_owned(), Value::Array(columns));
    m.insert("rows".to_owned(), Value::Array(rows));
    Value::Object(m)
}

/// The answer to a query: the table itself when there is exactly one, otherwise
/// `{"results":[table, ...]}` (one per statement).
///
/// ```
/// use tally_query::format::{json, TimeFormat};
/// use tally_query::Table;
/// let one = json(&[Table::default()], TimeFormat::Rfc3339);
/// assert_eq!(one.to_string(), r#"{"columns":[],"rows":[]}"#);
/// let two = json(&[Table::default(), Table::default()], TimeFormat::Rfc3339);
/// assert_eq!(two["results"].as_array().unwrap().len(), 2);
/// ```
pub fn json(tables: &[Table], format: TimeFormat) -> Value {
    match tables {
        [one] => table_json(one, format),
        many => {
            let results = many.iter().map(|t| table_json(t, format)).collect();
            let mut m = Map::new();
            m.insert("results".to_owned(), Value::Array(results));
            Value::Object(m)
        }
    }
}

/// Writes exactly the bytes `serde_json::to_vec(&json(tables, format))` would, a row at a
/// time: no tree of JSON values for the whole answer, so a server can stream a large result
/// with memory for one row.
///
/// ```
/// use tally_query::format::{json, write_json, TimeFormat};
/// use tally_query::{Cell, Column, ColumnType, Table};
/// let mut t = Table::new(vec![Column { name: "n".into(), ty: ColumnType::Integer }]);
/// t.rows.push(vec![Cell::Integer(3)]);
/// let mut out = Vec::new();
/// write_json(&[t.clone()], TimeFormat::Rfc3339, &mut out).unwrap();
/// assert_eq!(out, serde_json::to_vec(&json(&[t], TimeFormat::Rfc3339)).unwrap());
/// ```
pub fn write_json(tables: &[Table], format: TimeFormat, w: &mut dyn Write) -> io::Result<()> {
    match tables {
        [one] => write_table_json(one, format, w),
        many => {
            w.write_all(b"{\"results\":[")?;
            for (i, t) in many.iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                write_table_json(t, format, w)?;
            }
            w.write_all(b"]}")
        }
    }
}

/// One table as [`table_json`] serializes, written a row at a time.
fn write_table_json(table: &Table, format: TimeFormat, w: &mut dyn Write) -> io::Result<()> {
    w.write_all(b"{\"columns\":[")?;
    for (i, c) in table.columns.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut *w, &json!({ "name": c.name, "type": c.ty.name() }))?;
    }
    w.write_all(b"],\"rows\":[")?;
    for (i, row) in table.rows.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        let cells = Value::Array(row.iter().map(|c| cell_json(c, format)).collect());
        serde_json::to_writer(&mut *w, &cells)?;
    }
    w.write_all(b"]}")
}

/// Reads back what [`json`] wrote (either shape), using the column types to rebuild the cells.
/// `format` says how times were written; RFC 3339 strings are accepted whatever it says.
///
/// ```
/// use tally_query::format::{from_json, json, TimeFormat, EpochUnit};
/// use tally_query::{Cell, Column, ColumnType, Table};
/// let mut t = Table::new(vec![Column { name: "time".into(), ty: ColumnType::Time }]);
/// t.rows.push(vec![Cell::Time(-7)]);
/// let ns = TimeFormat::Epoch(EpochUnit::Nanoseconds);
/// assert_eq!(from_json(&json(&[t.clone()], ns), ns).unwrap(), vec![t]);
/// ```
pub fn from_json(value: &Value, format: TimeFormat) -> Result<Vec<Table>, FormatError> {
    match value.get("results") {
        Some(results) => {
            let list = results
                .as_array()
                .ok_or_else(|| shape("results", "expected an array of tables"))?;
            list.iter()
                .enumerate()
                .map(|(i, t)| table_from_json(t, format, &format!("results[{i}]")))
                .collect()
        }
        None => Ok(vec![table_from_json(value, format, "$")?]),
    }
}

fn shape(at: &str, message: &str) -> FormatError {
    FormatError::Shape {
        at: at.to_owned(),
        message: message.to_owned(),
    }
}

fn table_from_json(value: &Value, format: TimeFormat, at: &str) -> Result<Table, FormatError> {
    let columns = value
        .get("columns")
        .and_then(Value::as_array)
        .ok_or_else(|| shape(at, "expected an object with a `columns` array"))?;
    let columns = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let at = format!("{at}.columns[{i}]");
            let name = c
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| shape(&at, "expected a string `name`"))?;
            let ty = c
                .get("type")
                .and_then(Value::as_str)
                .and_then(column_type)
                .ok_or_else(|| {
                    shape(
                        &at,
                        "expected a `type` of time, tag, integer, float, string or boolean",
                    )
                })?;
            Ok(Column {
                name: name.to_owned(),
                ty,
            })
        })
        .collect::<Result<Vec<_>, FormatError>>()?;
    let rows = value
        .get("rows")
        .and_then(Value::as_array)
        .ok_or_else(|| shape(at, "expected a `rows` array"))?;
    let rows = rows
        .iter()
        .enumerate()
        .map(|(r, row)| {
            let at = format!("{at}.rows[{r}]");
            let cells = row
                .as_array()
                .filter(|cells| cells.len() == columns.len())
                .ok_or_else(|| shape(&at, "expected an array with one value per column"))?;
            cells
                .iter()
                .zip(&columns)
                .enumerate()
                .map(|(c, (v, col))| {
                    cell_from_json(v, col.ty, format).ok_or_else(|| {
                        shape(&format!("{at}[{c}]"), "not a value of its column's type")
                    })
                })
                .collect()
        })
        .collect::<Result<Vec<Vec<Cell>>, FormatError>>()?;
    Ok(Table { columns, rows })
}

fn column_type(name: &str) -> Option<ColumnType> {
    [
        ColumnType::Time,
        ColumnType::Tag,
        ColumnType::Integer,
        ColumnType::Float,
        ColumnType::String,
        ColumnType::Boolean,
    ]
    .into_iter()
    .find(|t| t.name() == name)
}

fn cell_from_json(v: &Value, ty: ColumnType, format: TimeFormat) -> Option<Cell> {
    if v.is_null() {
        return Some(Cell::Null);
    }
    match ty {
        ColumnType::Time => match v {
            Value::String(s) => DateTime::parse_from_rfc3339(s)
                .ok()?
                .timestamp_nanos_opt()
                .map(Cell::Time),
            _ => {
                let n = v.as_i64()?;
                let unit = match format {
                    TimeFormat::Epoch(unit) => unit.nanos(),
                    TimeFormat::Rfc3339 => 1,
                };
                n.checked_mul(unit).map(Cell::Time)
            }
        },
        ColumnType::Integer => v.as_i64().map(Cell::Integer),
        ColumnType::Float => v.as_f64().map(Cell::Float),
        ColumnType::Tag | ColumnType::String => v.as_str().map(|s| Cell::String(s.to_owned())),
        ColumnType::Boolean => v.as_bool().map(Cell::Boolean),
    }
}

/// A float for text and CSV: shortest form that reads back the same, switching to an exponent
/// for very large or small magnitudes so a cell never runs to hundreds of digits.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else if f != 0.0 && !(1e-5..1e16).contains(&f.abs()) {
        format!("{f:e}")
    } else {
        f.to_string()
    }
}

/// A cell as plain text (no quoting); `None` for null.
fn cell_text(cell: &Cell, format: TimeFormat) -> Option<String> {
    match cell {
        Cell::Null => None,
        Cell::Time(ns) => Some(match format {
            TimeFormat::Rfc3339 => rfc3339(*ns),
            TimeFormat::Epoch(unit) => ns.div_euclid(unit.nanos()).to_string(),
        }),
        Cell::Integer(i) => Some(i.to_string()),
        Cell::Float(f) => Some(float_text(*f)),
        Cell::String(s) => Some(s.clone()),
        Cell::Boolean(b) => Some(b.to_string()),
    }
}

/// One CSV field, quoted when it must be (RFC 4180).
fn csv_field(out: &mut String, text: &str) {
    if text.is_empty() || text.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

/// One table as CSV: a header row, then the rows; every line ends in `\n`.
///
/// ```
/// use tally_query::format::{table_csv, TimeFormat};
/// use tally_query::{Cell, Column, ColumnType, Table};
/// let mut t = Table::new(vec![
///     Column { name: "endpoint".into(), ty: ColumnType::Tag },
///     Column { name: "n".into(), ty: ColumnType::Integer },
/// ]);
/// t.rows.push(vec![Cell::String("/a,b".into()), Cell::Null]);
/// t.rows.push(vec![Cell::String("say \"hi\"".into()), Cell::Integer(3)]);
/// assert_eq!(table_csv(&t, TimeFormat::Rfc3339), "endpoint,n\n\"/a,b\",\n\"say \"\"hi\"\"\",3\n");
/// ```
pub fn table_csv(table: &Table, format: TimeFormat) -> String {
    let mut out = Vec::new();
    // Writing into a vector cannot fail, and only UTF-8 is written.
    let _ = write_table_csv(table, format, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// One table as [`table_csv`] makes it, written a row at a time.
fn write_table_csv(table: &Table, format: TimeFormat, w: &mut dyn Write) -> io::Result<()> {
    let mut line = String::new();
    let mut write_line =
        |fields: &mut dyn Iterator<Item = Option<String>>, w: &mut dyn Write| -> io::Result<()> {
            line.clear();
            for (i, f) in fields.enumerate() {
                if i > 0 {
                    line.push(',');
                }
                if let Some(f) = f {
                    csv_field(&mut line, &f);
                }
            }
            line.push('\n');
            w.write_all(line.as_bytes())
        };
    write_line(&mut table.columns.iter().map(|c| Some(c.name.clone())), w)?;
    for row in &table.rows {
        write_line(&mut row.iter().map(|c| cell_text(c, format)), w)?;
    }
    Ok(())
}

/// Every table as CSV ([`table_csv`]), one blank line between tables.
///
/// ```
/// use tally_query::format::{csv, TimeFormat};
/// use tally_query::{Column, ColumnType, Table};
/// let t = Table::new(vec![Column { name: "name".into(), ty: ColumnType::String }]);
/// assert_eq!(csv(&[t.clone(), t], TimeFormat::Rfc3339), "name\n\nname\n");
/// ```
pub fn csv(tables: &[Table], format: TimeFormat) -> String {
    let mut out = Vec::new();
    // Writing into a vector cannot fail, and only UTF-8 is written.
    let _ = write_csv(tables, format, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes what [`csv`] returns, a row at a time (for streaming a large answer).
pub fn write_csv(tables: &[Table], format: TimeFormat, w: &mut dyn Write) -> io::Result<()> {
    for (i, t) in tables.iter().enumerate() {
        if i > 0 {
            w.write_all(b"\n")?;
        }
        write_table_csv(t, format, w)?;
    }
    Ok(())
}

/// A cell's text for the aligned table: control characters escaped so each row stays one line.
fn display_text(text: &str) -> String {
    if !text.contains(char::is_control) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether a column's cells line up on the right.
fn right_aligned(ty: ColumnType, format: TimeFormat) -> bool {
    match ty {
        ColumnType::Integer | ColumnType::Float => true,
        ColumnType::Time => matches!(format, TimeFormat::Epoch(_)),
        ColumnType::Tag | ColumnType::String | ColumnType::Boolean => false,
    }
}

/// One table as aligned text: a header, a rule, the rows and a `(N rows)` footer. Widths count
/// characters (not terminal cells, so wide CJK text may still shift); null cells are blank.
///
/// ```
/// use tally_query::format::{table_text, TimeFormat};
/// use tally_query::{Cell, Column, ColumnType, Table};
/// let mut t = Table::new(vec![
///     Column { name: "endpoint".into(), ty: ColumnType::Tag },
///     Column { name: "count".into(), ty: ColumnType::Integer },
/// ]);
/// t.rows.push(vec![Cell::String("/a".into()), Cell::Integer(7)]);
/// t.rows.push(vec![Cell::String("/search".into()), Cell::Integer(1234)]);
/// assert_eq!(table_text(&t, TimeFormat::Rfc3339), "\
/// endpoint | count
/// ---------+------
/// /a       |     7
/// /search  |  1234
/// (2 rows)
/// ");
/// ```
pub fn table_text(table: &Table, format: TimeFormat) -> String {
    let header: Vec<String> = table
        .columns
        .iter()
        .map(|c| display_text(&c.name))
        .collect();
    let rows: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|c| cell_text(c, format).map_or_else(String::new, |t| display_text(&t)))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let right: Vec<bool> = table
        .columns
        .iter()
        .map(|c| right_aligned(c.ty, format))
        .collect();

    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                text.push_str(" | ");
            }
            let pad = widths[i].saturating_sub(cell.chars().count());
            if right[i] {
                text.extend(std::iter::repeat_n(' ', pad));
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    if !table.columns.is_empty() {
        line(&header, &mut out);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&rule.join("-+-"));
        out.push('\n');
        for row in &rows {
            line(row, &mut out);
        }
    }
    let n = table.rows.len();
    let _ = writeln!(out, "({n} {})", if n == 1 { "row" } else { "rows" });
    out
}

/// Every table as aligned text ([`table_text`]), one blank line between tables.
///
/// ```
/// use tally_query::format::{text, TimeFormat};
/// use tally_query::{Column, ColumnType, Table};
/// let t = Table::new(vec![Column { name: "name".into(), ty: ColumnType::String }]);
/// assert_eq!(text(&[t], TimeFormat::Rfc3339), "name\n----\n(0 rows)\n");
/// ```
pub fn text(tables: &[Table], format: TimeFormat) -> String {
    tables
        .iter()
        .map(|t| table_text(t, format))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_json_is_byte_for_byte_the_value_tree() {
        let mut t = Table::new(vec![
            col("time", ColumnType::Time),
            col("endpoint \"x\"", ColumnType::Tag),
            col("n", ColumnType::Integer),
            col("v", ColumnType::Float),
            col("ok", ColumnType::Boolean),
        ]);
        let cells = [
            Cell::Null,
            Cell::Integer(i64::MIN),
            Cell::Float(f64::NAN),
            Cell::Float(-0.0),
            Cell::Float(1e300),
            Cell::Float(f64::INFINITY),
            Cell::String("tab\t \"q\" \u{1} é 🚀".into()),
            Cell::Boolean(true),
            Cell::Time(-1),
            Cell::Time(1_700_000_000_123_456_789),
        ];
        for i in 0..40 {
            t.rows.push(
                (0..5)
                    .map(|j| cells[(i * 7 + j * 3) % cells.len()].clone())
                    .collect(),
            );
        }
        let empty = Table::new(vec![col("x", ColumnType::String)]);
        for tables in [
            vec![t.clone()],
            vec![t.clone(), empty.clone()],
            vec![],
            vec![empty],
        ] {
            for format in [
                TimeFormat::Rfc3339,
                TimeFormat::Epoch(EpochUnit::Seconds),
                TimeFormat::Epoch(EpochUnit::Nanoseconds),
            ] {
                let mut streamed = Vec::new();
                write_json(&tables, format, &mut streamed).unwrap();
                assert_eq!(
                    String::from_utf8(streamed).unwrap(),
                    serde_json::to_string(&json(&tables, format)).unwrap()
                );
            }
        }
    }

    fn col(name: &str, ty: ColumnType) -> Column {
        Column {
            name: name.to_owned(),
            ty,
        }
    }

    /// A table with every column type, nulls, quoting hazards and non-ASCII text.
    fn sample() -> Table {
        let mut t = Table::new(vec![
            col("time", ColumnType::Time),
            col("endpoint", ColumnType::Tag),
            col("count", ColumnType::Integer),
            col("mean", ColumnType::Float),
            col("note", ColumnType::String),
            col("ok", ColumnType::Boolean),
        ]);
        t.rows.push(vec![
            Cell::Time(1_767_225_600_000_000_000),
            Cell::String("/api/ü".into()),
            Cell::Integer(-12),
            Cell::Float(0.25),
            Cell::String("a,b \"c\"\nd".into()),
            Cell::Boolean(true),
        ]);
        t.rows.push(vec![
            Cell::Time(1_767_225_600_000_001_000),
            Cell::Null,
            Cell::Integer(3),
            Cell::Null,
            Cell::String(String::new()),
            Cell::Boolean(false),
        ]);
        t
    }

    #[test]
    fn rfc3339_trims_the_fraction() {
        assert_eq!(rfc3339(1_767_225_600_000_000_000), "2026-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(1_767_225_600_000_001_000),
            "2026-01-01T00:00:00.000001Z"
        );
        assert_eq!(
            rfc3339(1_767_225_600_100_000_001),
            "2026-01-01T00:00:00.100000001Z"
        );
        assert_eq!(rfc3339(i64::MIN), "1677-09-21T00:12:43.145224192Z");
        assert_eq!(rfc3339(i64::MAX), "2262-04-11T23:47:16.854775807Z");
    }

    #[test]
    fn epoch_units_parse_and_round_down() {
        for (text, unit) in [
            ("ns", EpochUnit::Nanoseconds),
            ("n", EpochUnit::Nanoseconds),
            ("us", EpochUnit::Microseconds),
            ("u", EpochUnit::Microseconds),
            ("µs", EpochUnit::Microseconds),
            ("ms", EpochUnit::Milliseconds),
            ("s", EpochUnit::Seconds),
        ] {
            assert_eq!(text.parse::<EpochUnit>().unwrap(), unit, "{text}");
            assert_eq!(unit.name().parse::<EpochUnit>().unwrap(), unit);
        }
        let err = "h".parse::<EpochUnit>().unwrap_err();
        assert_eq!(err, FormatError::UnknownEpochUnit("h".into()));
        assert!(err.to_string().contains("use ns, us, ms or s"), "{err}");
        let s = TimeFormat::Epoch(EpochUnit::Seconds);
        assert_eq!(time_json(1_999_999_999, s), json!(1));
        assert_eq!(time_json(-1, s), json!(-1), "rounds down, not toward zero");
    }

    #[test]
    fn json_has_typed_columns_nulls_and_rfc3339_times() {
        let v = json(&[sample()], TimeFormat::Rfc3339);
        assert_eq!(
            v["columns"],
            json!([
                {"name": "time", "type": "time"},
                {"name": "endpoint", "type": "tag"},
                {"name": "count", "type": "integer"},
                {"name": "mean", "type": "float"},
                {"name": "note", "type": "string"},
                {"name": "ok", "type": "boolean"},
            ])
        );
        assert_eq!(
            v["rows"],
            json!([
                [
                    "2026-01-01T00:00:00Z",
                    "/api/ü",
                    -12,
                    0.25,
                    "a,b \"c\"\nd",
                    true
                ],
                ["2026-01-01T00:00:00.000001Z", null, 3, null, "", false],
            ])
        );
        let ms = json(&[sample()], TimeFormat::Epoch(EpochUnit::Milliseconds));
        assert_eq!(ms["rows"][0][0], json!(1_767_225_600_000i64));
        assert_eq!(ms["rows"][1][0], json!(1_767_225_600_000i64));
    }

    #[test]
    fn json_wraps_several_tables_in_results() {
        let v = json(&[sample(), Table::default()], TimeFormat::Rfc3339);
        let results = v["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0], table_json(&sample(), TimeFormat::Rfc3339));
        assert_eq!(results[1], json!({"columns": [], "rows": []}));
        assert_eq!(json(&[], TimeFormat::Rfc3339), json!({"results": []}));
    }

    #[test]
    fn non_finite_floats_are_null_in_json_and_named_in_text() {
        let mut t = Table::new(vec![col("x", ColumnType::Float)]);
        t.rows.push(vec![Cell::Float(f64::INFINITY)]);
        t.rows.push(vec![Cell::Float(f64::NEG_INFINITY)]);
        assert_eq!(
            json(&[t.clone()], TimeFormat::Rfc3339)["rows"],
            json!([[null], [null]])
        );
        assert_eq!(table_csv(&t, TimeFormat::Rfc3339), "x\n+Inf\n-Inf\n");
    }

    #[test]
    fn json_reads_back_exactly() {
        let ns = TimeFormat::Epoch(EpochUnit::Nanoseconds);
        for format in [TimeFormat::Rfc3339, ns] {
            let tables = vec![sample(), Table::default(), sample()];
            let back = from_json(&json(&tables, format), format).unwrap();
            assert_eq!(back, tables, "{format:?}");
            let one = from_json(&json(&tables[..1], format), format).unwrap();
            assert_eq!(one, &tables[..1]);
        }
        // Whole floats stay floats: the column type decides, not the JSON number.
        let mut t = Table::new(vec![col("f", ColumnType::Float)]);
        t.rows.push(vec![Cell::Float(2.0)]);
        assert_eq!(from_json(&json(&[t.clone()], ns), ns).unwrap(), vec![t]);
        let ms = TimeFormat::Epoch(EpochUnit::Milliseconds);
        let mut t = Table::new(vec![col("time", ColumnType::Time)]);
        t.rows.push(vec![Cell::Time(5_000_000)]);
        assert_eq!(from_json(&json(&[t.clone()], ms), ms).unwrap(), vec![t]);
    }

    #[test]
    fn from_json_says_where_the_shape_is_wrong() {
        let ns = TimeFormat::Epoch(EpochUnit::Nanoseconds);
        for (doc, at) in [
            (json!({"error": "x"}), "$"),
            (json!({"results": 3}), "results"),
            (
                json!({"columns": [{"name": "a", "type": "date"}], "rows": []}),
                "$.columns[0]",
            ),
            (
                json!({"columns": [{"name": "a", "type": "integer"}], "rows": [[1, 2]]}),
                "$.rows[0]",
            ),
            (
                json!({"results": [{"columns": [{"name": "a", "type": "integer"}], "rows": [[1], ["x"]]}]}),
                "results[0].rows[1][0]",
            ),
            (
                json!({"columns": [{"name": "t", "type": "time"}], "rows": [["yesterday"]]}),
                "$.rows[0][0]",
            ),
        ] {
            match from_json(&doc, ns) {
                Err(FormatError::Shape { at: got, .. }) => assert_eq!(got, at, "{doc}"),
                other => panic!("{doc}: {other:?}"),
            }
        }
    }

    #[test]
    fn csv_quotes_per_rfc_4180_and_keeps_null_apart_from_empty() {
        assert_eq!(
            table_csv(&sample(), TimeFormat::Rfc3339),
            "time,endpoint,count,mean,note,ok\n\
             2026-01-01T00:00:00Z,/api/ü,-12,0.25,\"a,b \"\"c\"\"\nd\",true\n\
             2026-01-01T00:00:00.000001Z,,3,,\"\",false\n"
        );
        let mut t = Table::new(vec![
            col("a,b", ColumnType::String),
            col("c\rd", ColumnType::String),
        ]);
        t.rows.push(vec![
            Cell::String(" padded ".into()),
            Cell::String("x".into()),
        ]);
        assert_eq!(
            table_csv(&t, TimeFormat::Rfc3339),
            "\"a,b\",\"c\rd\"\n padded ,x\n"
        );
        assert_eq!(
            table_csv(&sample(), TimeFormat::Epoch(EpochUnit::Seconds))
                .lines()
                .nth(1),
            Some("1767225600,/api/ü,-12,0.25,\"a,b \"\"c\"\"")
        );
    }

    #[test]
    fn csv_separates_tables_with_one_blank_line() {
        let mut t = Table::new(vec![col("name", ColumnType::String)]);
        t.rows.push(vec![Cell::String("cpu".into())]);
        assert_eq!(
            csv(
                &[t.clone(), Table::new(vec![col("k", ColumnType::Tag)]), t],
                TimeFormat::Rfc3339
            ),
            "name\ncpu\n\nk\n\nname\ncpu\n"
        );
        assert_eq!(csv(&[], TimeFormat::Rfc3339), "");
    }

    #[test]
    fn text_aligns_by_characters_and_right_aligns_numbers() {
        let got = table_text(&sample(), TimeFormat::Rfc3339);
        assert_eq!(
            got,
            "time                        | endpoint | count | mean | note       | ok\n\
             ----------------------------+----------+-------+------+------------+------\n\
             2026-01-01T00:00:00Z        | /api/ü   |   -12 | 0.25 | a,b \"c\"\\nd | true\n\
             2026-01-01T00:00:00.000001Z |          |     3 |      |            | false\n\
             (2 rows)\n"
        );
    }

    #[test]
    fn text_counts_unicode_by_characters() {
        let mut t = Table::new(vec![
            col("名前", ColumnType::String),
            col("n", ColumnType::Integer),
        ]);
        t.rows
            .push(vec![Cell::String("ü".into()), Cell::Integer(1)]);
        t.rows
            .push(vec![Cell::String("abc".into()), Cell::Integer(10)]);
        assert_eq!(
            table_text(&t, TimeFormat::Rfc3339),
            "名前  |  n\n----+---\nü   |  1\nabc | 10\n(2 rows)\n"
        );
    }

    #[test]
    fn text_of_an_empty_table_has_the_header_and_zero_rows() {
        let t = Table::new(vec![
            col("measurement", ColumnType::String),
            col("tagKey", ColumnType::String),
        ]);
        assert_eq!(
            table_text(&t, TimeFormat::Rfc3339),
            "measurement | tagKey\n------------+-------\n(0 rows)\n"
        );
        assert_eq!(
            table_text(&Table::default(), TimeFormat::Rfc3339),
            "(0 rows)\n"
        );
        let mut one = Table::new(vec![col("name", ColumnType::String)]);
        one.rows.push(vec![Cell::String("cpu".into())]);
        assert_eq!(
            text(&[one.clone(), one], TimeFormat::Rfc3339),
            "name\n----\ncpu\n(1 row)\n\nname\n----\ncpu\n(1 row)\n"
        );
    }

    #[test]
    fn text_right_aligns_epoch_times_and_escapes_control_characters() {
        let mut t = Table::new(vec![
            col("time", ColumnType::Time),
            col("s", ColumnType::String),
        ]);
        t.rows.push(vec![
            Cell::Time(5_000_000_000),
            Cell::String("a\tb\u{1}".into()),
        ]);
        t.rows.push(vec![Cell::Time(10_000_000_000), Cell::Null]);
        assert_eq!(
            table_text(&t, TimeFormat::Epoch(EpochUnit::Seconds)),
            "time | s\n-----+----------\n   5 | a\\tb\\u{1}\n  10 |\n(2 rows)\n"
        );
    }

    #[test]
    fn floats_read_well_in_text() {
        assert_eq!(float_text(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(float_text(2.0), "2");
        assert_eq!(float_text(1e300), "1e300");
        assert_eq!(float_text(-2.5e-9), "-2.5e-9");
        assert_eq!(float_text(0.0), "0");
        assert_eq!(float_text(f64::NAN), "NaN");
        assert_eq!(float_text(123456.75), "123456.75");
    }
}
