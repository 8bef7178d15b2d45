//! What the names of a query refer to: the measurement's tags and fields, and suggestions for a
//! misspelt name.

use crate::ast::{Ident, Source, Span};
use crate::suggest::closest;
use crate::ParseError;
use tally_engine::{Db, FieldType};

/// The names a measurement has.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    /// The measurement.
    pub(crate) measurement: String,
    /// Tag keys, sorted.
    pub(crate) tags: Vec<String>,
    /// Field keys and types, sorted by name.
    pub(crate) fields: Vec<(String, FieldType)>,
}

/// What an identifier in an expression names.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Name {
    /// The point's timestamp.
    Time,
    /// A tag key.
    Tag(String),
    /// A field and its type.
    Field(String, FieldType),
}

impl Schema {
    /// The schema of the measurement `from` names; an error with a suggestion when no series
    /// of that name exists.
    pub(crate) fn load(db: &Db, from: &Source, text: &str) -> Result<Schema, ParseError> {
        let name = &from.name.name;
        let known = db.measurements();
        if !known.iter().any(|m| m == name) {
            let mut message = format!("unknown measurement `{name}`");
            match closest(name, known.iter().map(String::as_str)) {
                Some(s) => message.push_str(&format!("; did you mean `{s}`?")),
                None if known.is_empty() => message
                    .push_str("; nothing has been written yet (POST line protocol to /write)"),
                None => message.push_str(&format!("; known measurements: {}", known.join(", "))),
            }
            return Err(at(text, from.name.span, message));
        }
        Ok(Schema {
            measurement: name.clone(),
            tags: db.tag_keys(name),
            fields: db.field_keys(name),
        })
    }

    /// What `ident` names here; an error with a suggestion when it is neither a tag, a field
    /// nor `time`.
    pub(crate) fn resolve(&self, ident: &Ident, text: &str) -> Result<Name, ParseError> {
        let n = ident.name.as_str();
        if n == "time" {
            return Ok(Name::Time);
        }
        if let Some((f, ty)) = self.fields.iter().find(|(f, _)| f == n) {
            return Ok(Name::Field(f.clone(), *ty));
        }
        if self.tags.iter().any(|t| t == n) {
            return Ok(Name::Tag(n.to_owned()));
        }
        let candidates = self
            .fields
            .iter()
            .map(|(f, _)| f.as_str())
            .chain(self.tags.iter().map(String::as_str));
        let mut message = format!(
            "unknown field or tag `{n}` in measurement `{}`",
            self.measurement
        );
        match closest(n, candidates) {
            Some(s) => message.push_str(&format!("; did you mean `{s}`?")),
            None => message.push_str(&format!(
                "; its fields are {} and its tags {}",
                list(self.fields.iter().map(|(f, _)| f.as_str())),
                list(self.tags.iter().map(String::as_str))
            )),
        }
        Err(at(text, ident.span, message))
    }

    /// `ident` as a tag key; an error (with a suggestion) when it is not one.
    pub(crate) fn tag(&self, ident: &Ident, text: &str) -> Result<String, ParseError> {
        match self.resolve(ident, text)? {
            Name::Tag(t) => Ok(t),
            Name::Time => Err(at(
                text,
                ident.span,
                "`time` is not a tag; group by time with time(interval), e.g. time(5m)".into(),
            )),
            Name::Field(f, _) => Err(at(
                text,
                ident.span,
                format!("`{f}` is a field, not a tag; only tags can be grouped by"),
            )),
        }
    }
}

/// "`a`, `b`" or "none".
fn list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// A regex literal compiled, or an error pointing at it with the regex engine's reason on one
/// line (its own message is several lines with a caret of its own).
pub(crate) fn compile_regex(r: &crate::ast::Regex, text: &str) -> Result<regex::Regex, ParseError> {
    regex::Regex::new(&r.pattern).map_err(|e| {
        let full = e.to_string();
        let reason = full
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("invalid pattern");
        let reason = reason.strip_prefix("error: ").unwrap_or(reason);
        at(text, r.span, format!("invalid regex: {reason}"))
    })
}

/// An error pointing at `span` of `text`.
pub(crate) fn at(text: &str, span: Span, message: String) -> ParseError {
    ParseError::semantic(text, span.offset, span.len, message)
}
