//! Saved queries: query text under a name, with typed `$parameters`, kept in the data directory
//! and run by name (`/queries` in [`crate::http`], `tally saved` in [`crate::query_cli`]).
//! Dashboards are defined as code through them.
//!
//! On disk: `<data_dir>/saved_queries.json`, the whole set as pretty JSON so a person can read
//! and repair it:
//!
//! ```text
//! {"version": 1, "queries": [{"name": "errors_by_key", "description": "...",
//!   "query": "SELECT ... WHERE key = $key", "params": [{"name": "key", "type": "string",
//!   "default": "k1", "description": "..."}], "created_at": "2026-...Z", "updated_at": "..."}]}
//! ```
//!
//! Invariants:
//! - The file lists every saved query once, sorted by name; names and parameter names are
//!   valid ([`check_name`], [`check_param_name`]).
//! - The file is only ever replaced whole, atomically: temp file, fsync, rename, directory fsync
//!   ([`tally_engine::fsutil::write_atomic`]). A crash leaves the old set or the new one, and at
//!   most a `saved_queries.json.tmp`, which opening the database deletes.
//! - Memory changes only after the file has been replaced, so what the API answers is what is
//!   on disk, and a failed write changes nothing.
//! - A file that does not read back (not JSON, a wrong shape, a bad or repeated name, a newer
//!   format version) stops start-up with a message naming it. It is never overwritten, so
//!   nothing a person saved is lost silently.
//! - Query text is checked when it is saved ([`SavedQueries::save`]), not when it is loaded: a
//!   query an older version accepted still loads, and says what is wrong when it runs.

use crate::cli::ServeArgs;
use crate::config;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tally_query::ast::Statement;
use tally_query::params::{self, ParamType};
use tally_query::{ParamValue, ParseError};
use thiserror::Error;

/// The file, inside the data directory.
pub(crate) const FILE_NAME: &str = "saved_queries.json";

/// The version of the file's layout this build writes and reads.
const FORMAT_VERSION: u32 = 1;

/// Longest name of a saved query, in characters.
pub(crate) const MAX_NAME_LEN: usize = 64;

/// Names the run endpoint reads as its own options (`/queries/NAME/run?format=csv`), so no
/// parameter may have them.
pub(crate) const RESERVED_PARAMS: [&str; 5] = ["q", "params", "now", "epoch", "format"];

/// A saved query as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SavedQuery {
    /// Its name: 1 to [`MAX_NAME_LEN`] letters, digits, `_`, `.` or `-`.
    pub(crate) name: String,
    /// What it answers, for people.
    #[serde(default)]
    pub(crate) description: String,
    /// The query text: one or more `;`-separated statements.
    pub(crate) query: String,
    /// Its parameters, in the order they were declared.
    #[serde(default)]
    pub(crate) params: Vec<ParamDecl>,
    /// When it was first saved (RFC 3339, UTC).
    pub(crate) created_at: String,
    /// When it was last saved (RFC 3339, UTC).
    pub(crate) updated_at: String,
}

/// One declared parameter of a saved query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParamDecl {
    /// The name, without `$`.
    pub(crate) name: String,
    /// Its type.
    #[serde(rename = "type", with = "param_type_text")]
    pub(crate) ty: ParamType,
    /// The value used when a run does not give one, as it was given (checked against the type
    /// when saved; converted at each run, so a date default is read in the query's zone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) default: Option<Value>,
    /// What it means, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
}

/// A parameter type as its name in JSON.
mod param_type_text {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};
    use tally_query::params::ParamType;

    pub(super) fn serialize<S: Serializer>(ty: &ParamType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(ty.name())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ParamType, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}

/// What a client sends to save a query (`PUT /queries/NAME`): the shape [`SavedQuery`] is
/// shown in, so a listed query can be edited and sent back. `name` may be left out; the
/// timestamps are the server's and are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuerySpec {
    /// Must equal the name in the path when given.
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// What it answers.
    #[serde(default)]
    pub(crate) description: Option<String>,
    /// The query text.
    pub(crate) query: String,
    /// The parameters.
    #[serde(default)]
    pub(crate) params: Vec<ParamSpec>,
    /// Ignored (set by the server).
    #[serde(default, rename = "created_at")]
    pub(crate) _created_at: Option<serde::de::IgnoredAny>,
    /// Ignored (set by the server).
    #[serde(default, rename = "updated_at")]
    pub(crate) _updated_at: Option<serde::de::IgnoredAny>,
}

/// A parameter as a client declares it; the type is checked by [`SavedQueries::save`] so a
/// wrong one gets a message listing the types.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParamSpec {
    /// The name, with or without `$`.
    pub(crate) name: String,
    /// `string`, `integer`, `float`, `boolean`, `time` or `duration`.
    #[serde(rename = "type")]
    pub(crate) ty: String,
    /// The value used when a run gives none.
    #[serde(default)]
    pub(crate) default: Option<Value>,
    /// What it means.
    #[serde(default)]
    pub(crate) description: Option<String>,
}

/// Why a saved query could not be saved, deleted or loaded.
#[derive(Debug, Error)]
pub(crate) enum SavedError {
    /// The name, the parameters or the body are wrong; the message says how to fix them.
    #[error("{0}")]
    Invalid(String),
    /// The query text does not parse, or uses a parameter it does not declare; points at the
    /// spot.
    #[error("{0}")]
    Query(ParseError),
    /// The file could not be read or replaced.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file does not read back as saved queries.
    #[error(
        "corrupt {}: {reason}; it holds the saved queries (/queries, tally saved): fix it by \
         hand, or move it out of the data directory to start with none (and save them again), \
         then start tally again",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// The file's content.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredFile {
    version: u32,
    queries: Vec<SavedQuery>,
}

/// The saved queries of one data directory, as loaded from and written to [`FILE_NAME`].
#[derive(Debug)]
pub(crate) struct SavedQueries {
    /// `<data_dir>/saved_queries.json`.
    path: PathBuf,
    /// By name.
    queries: BTreeMap<String, SavedQuery>,
}

impl SavedQueries {
    /// Loads the saved queries of `data_dir`; none when the file does not exist yet.
    pub(crate) fn open(data_dir: &Path) -> Result<SavedQueries, SavedError> {
        let path = data_dir.join(FILE_NAME);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(SavedQueries {
                    path,
                    queries: BTreeMap::new(),
                })
            }
            Err(source) => {
                return Err(SavedError::Io {
                    op: "read",
                    path,
                    source,
                })
            }
        };
        let queries = decode(&bytes).map_err(|reason| SavedError::Corrupt {
            path: path.clone(),
            reason,
        })?;
        Ok(SavedQueries { path, queries })
    }

    /// Every saved query, by name.
    pub(crate) fn list(&self) -> impl Iterator<Item = &SavedQuery> {
        self.queries.values()
    }

    /// The saved query called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&SavedQuery> {
        self.queries.get(name)
    }

    /// The saved name closest to `name`, when one is close enough to be a likely typo.
    pub(crate) fn closest(&self, name: &str) -> Option<&str> {
        tally_query::suggest::closest(name, self.queries.keys().map(String::as_str))
    }

    /// Checks `spec` and saves it as `name` at `now`, replacing a query of that name (whose
    /// `created_at` is kept). Returns the query as saved and whether it is new.
    pub(crate) fn save(
        &mut self,
        name: &str,
        spec: QuerySpec,
        now: DateTime<Utc>,
    ) -> Result<(SavedQuery, bool), SavedError> {
        let params = validate(name, &spec)?;
        let stamp = now.to_rfc3339_opts(SecondsFormat::Millis, true);
        let previous = self.queries.get(name);
        let query = SavedQuery {
            name: name.to_owned(),
            description: spec.description.unwrap_or_default(),
            query: spec.query,
            params,
            created_at: previous.map_or_else(|| stamp.clone(), |p| p.created_at.clone()),
            updated_at: stamp,
        };
        let created = previous.is_none();
        let mut next = self.queries.clone();
        next.insert(name.to_owned(), query.clone());
        self.replace(next)?;
        Ok((query, created))
    }

    /// Deletes the query called `name`; `None` when there is none.
    pub(crate) fn delete(&mut self, name: &str) -> Result<Option<SavedQuery>, SavedError> {
        if !self.queries.contains_key(name) {
            return Ok(None);
        }
        let mut next = self.queries.clone();
        let gone = next.remove(name);
        self.replace(next)?;
        Ok(gone)
    }

    /// Writes `next` to the file, then makes it the set in memory.
    fn replace(&mut self, next: BTreeMap<String, SavedQuery>) -> Result<(), SavedError> {
        let file = StoredFile {
            version: FORMAT_VERSION,
            queries: next.values().cloned().collect(),
        };
        let mut bytes = serde_json::to_vec_pretty(&file).map_err(|e| SavedError::Io {
            op: "encode",
            path: self.path.clone(),
            source: e.into(),
        })?;
        bytes.push(b'\n');
        tally_engine::fsutil::write_atomic(&self.path, &bytes).map_err(|source| {
            SavedError::Io {
                op: "write",
                path: self.path.clone(),
                source,
            }
        })?;
        self.queries = next;
        Ok(())
    }
}

/// The saved queries from the file's bytes, or what is wrong with them.
fn decode(bytes: &[u8]) -> Result<BTreeMap<String, SavedQuery>, String> {
    // The version first, so a newer layout is reported as such and not as a shape error.
    let head: Value = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON ({e})"))?;
    match head.get("version").and_then(Value::as_u64) {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "format version {v}, this tally reads version {FORMAT_VERSION} (written by a \
                 newer tally? run that version)"
            ))
        }
        None => return Err("no \"version\" number at the top".to_owned()),
    }
    let file: StoredFile =
        serde_json::from_value(head).map_err(|e| format!("not a list of saved queries ({e})"))?;
    let mut queries = BTreeMap::new();
    for q in file.queries {
        check_name(&q.name).map_err(|e| format!("saved query `{}`: {e}", q.name))?;
        let mut seen = Vec::new();
        for p in &q.params {
            check_param_name(&p.name).map_err(|e| format!("saved query `{}`: {e}", q.name))?;
            if seen.contains(&p.name.as_str()) {
                return Err(format!(
                    "saved query `{}` declares parameter ${} twice",
                    q.name, p.name
                ));
            }
            seen.push(p.name.as_str());
        }
        let name = q.name.clone();
        if queries.insert(name.clone(), q).is_some() {
            return Err(format!("the name `{name}` is used twice"));
        }
    }
    Ok(queries)
}

/// Checks a saved query's name: 1 to [`MAX_NAME_LEN`] letters, digits, `_`, `.` or `-`.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    const RULE: &str = "a name is 1 to 64 letters, digits, `_`, `.` or `-`, e.g. errors_by_key";
    if name.is_empty() {
        return Err(format!("the saved query has no name; {RULE}"));
    }
    let len = name.chars().count();
    if len > MAX_NAME_LEN {
        return Err(format!(
            "the name `{name}` is {len} characters long; {RULE}"
        ));
    }
    if let Some((i, c)) = name
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "the name `{name}` has {c:?} at position {}; {RULE}",
            i + 1
        ));
    }
    Ok(())
}

/// Checks a parameter's name (without `$`): what the language accepts after `$`, and not one
/// of [`RESERVED_PARAMS`].
pub(crate) fn check_param_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let good_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !good_start || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "`{name}` is not a parameter name; use letters, digits and `_`, starting with a \
             letter or `_` (as written after `$` in the query), e.g. key or from_time"
        ));
    }
    if RESERVED_PARAMS.contains(&name) {
        return Err(format!(
            "the parameter name `{name}` is reserved ({} are options of /queries/NAME/run); \
             rename ${name} in the query and here",
            RESERVED_PARAMS.join(", ")
        ));
    }
    Ok(())
}

/// Checks everything about a query to be saved as `name`; its parameters when all is well.
fn validate(name: &str, spec: &QuerySpec) -> Result<Vec<ParamDecl>, SavedError> {
    let invalid = SavedError::Invalid;
    check_name(name).map_err(invalid)?;
    if let Some(body_name) = spec.name.as_deref().filter(|n| *n != name) {
        return Err(invalid(format!(
            "the body names the query `{body_name}` but the path `{name}`; they must match \
             (or leave name out of the body)"
        )));
    }
    let stmts = tally_query::parse_statements(&spec.query).map_err(SavedError::Query)?;
    if stmts.is_empty() {
        return Err(invalid(
            "the query is empty; give its text, e.g. \"query\": \"SELECT count(*) FROM \
             requests WHERE key = $key\""
                .to_owned(),
        ));
    }
    let mut params: Vec<ParamDecl> = Vec::with_capacity(spec.params.len());
    for p in &spec.params {
        let pname = p.name.strip_prefix('$').unwrap_or(&p.name);
        check_param_name(pname).map_err(invalid)?;
        if params.iter().any(|d| d.name == pname) {
            return Err(invalid(format!(
                "parameter ${pname} is declared twice; declare it once"
            )));
        }
        let ty: ParamType =
            p.ty.parse()
                .map_err(|e| invalid(format!("parameter ${pname}: {e}")))?;
        params.push(ParamDecl {
            name: pname.to_owned(),
            ty,
            default: p.default.clone().filter(|d| !d.is_null()),
            description: p.description.clone().filter(|d| !d.is_empty()),
        });
    }
    let used = params::params_used(&stmts);
    let undeclared: Vec<_> = used
        .iter()
        .filter(|(n, _)| !params.iter().any(|d| &d.name == n))
        .collect();
    if let Some((first, span)) = undeclared.first() {
        let mut message = format!(
            "parameter ${first} is not declared; declare each parameter with its type, e.g. \
             \"params\": [{{\"name\": \"{first}\", \"type\": \"string\"}}] (tally saved save: \
             --param-type {first}=string)"
        );
        if undeclared.len() > 1 {
            let rest: Vec<String> = undeclared[1..]
                .iter()
                .map(|(n, _)| format!("${n}"))
                .collect();
            message.push_str(&format!("; also undeclared: {}", rest.join(", ")));
        }
        return Err(SavedError::Query(ParseError::semantic(
            &spec.query,
            span.offset,
            span.len,
            message,
        )));
    }
    if let Some(unused) = params
        .iter()
        .find(|d| !used.iter().any(|(n, _)| *n == d.name))
    {
        return Err(invalid(format!(
            "parameter ${0} is declared but the query does not use it; use ${0} in the query \
             or remove it from the parameters",
            unused.name
        )));
    }
    let zone = params::query_zone(&stmts);
    for d in &params {
        if let Some(default) = &d.default {
            params::coerce_in(&d.name, d.ty, default, zone)
                .map_err(|e| invalid(format!("bad default: {e}")))?;
        }
    }
    Ok(params)
}

impl SavedQuery {
    /// The values to run with: each declared parameter from `given` (name and value as the
    /// caller sent it; a JSON string is read like text), else its default. `stmts` are the
    /// parsed text, which fixes the zone dates are read in. The error names every missing or
    /// unknown parameter and how to pass them.
    pub(crate) fn bind(
        &self,
        stmts: &[Statement],
        given: &[(String, Value)],
    ) -> Result<BTreeMap<String, ParamValue>, String> {
        let zone = params::query_zone(stmts);
        let mut supplied: BTreeMap<&str, &Value> = BTreeMap::new();
        let mut unknown = Vec::new();
        for (raw_name, value) in given {
            let name = raw_name.strip_prefix('$').unwrap_or(raw_name);
            if supplied.insert(name, value).is_some() {
                return Err(format!("parameter ${name} is given twice; give it once"));
            }
            if !self.params.iter().any(|d| d.name == name) {
                unknown.push(name);
            }
        }
        if let Some(first) = unknown.first() {
            let mut message = format!("saved query `{}` has no parameter ${first}", self.name);
            if let Some(s) =
                tally_query::suggest::closest(first, self.params.iter().map(|d| d.name.as_str()))
            {
                message.push_str(&format!(" (did you mean ${s}?)"));
            }
            if unknown.len() > 1 {
                let rest: Vec<String> = unknown[1..].iter().map(|n| format!("${n}")).collect();
                message.push_str(&format!(", nor {}", rest.join(", ")));
            }
            message.push_str(&format!("; {}", self.describe_params()));
            return Err(message);
        }
        let mut values = BTreeMap::new();
        let mut missing = Vec::new();
        for d in &self.params {
            let Some(raw) = supplied
                .get(d.name.as_str())
                .copied()
                .or(d.default.as_ref())
            else {
                missing.push(d);
                continue;
            };
            let v = params::coerce_in(&d.name, d.ty, raw, zone).map_err(|e| e.to_string())?;
            values.insert(d.name.clone(), v);
        }
        if !missing.is_empty() {
            let names: Vec<String> = missing
                .iter()
                .map(|d| format!("${} ({})", d.name, d.ty))
                .collect();
            let first = &missing[0].name;
            return Err(format!(
                "saved query `{}` needs {}; pass {} in the query string (?{first}=VALUE), in \
                 the body ({{\"params\": {{\"{first}\": ...}}}}) or with tally saved run \
                 --param {first}=VALUE",
                self.name,
                and_list(&names),
                if missing.len() == 1 { "it" } else { "them" },
            ));
        }
        Ok(values)
    }

    /// "its parameters are $key (string) and $from (time)" or "it takes no parameters".
    fn describe_params(&self) -> String {
        if self.params.is_empty() {
            return "it takes no parameters".to_owned();
        }
        let names: Vec<String> = self
            .params
            .iter()
            .map(|d| format!("${} ({})", d.name, d.ty))
            .collect();
        format!("its parameters are {}", and_list(&names))
    }
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Refuses to start `tally serve` when the saved queries of its data directory do not load,
/// before anything else opens the directory, as a damaged retention file or manifest does.
///
/// Settings that do not resolve and a data directory that is not one yet are left for `serve`
/// to report (or create) in its own words.
pub(crate) fn check_before_serve(args: &ServeArgs) -> anyhow::Result<()> {
    let Ok(settings) = config::resolve(args) else {
        return Ok(());
    };
    if !settings.data_dir.is_dir() {
        return Ok(());
    }
    match SavedQueries::open(&settings.data_dir) {
        Ok(_) => Ok(()),
        Err(e @ SavedError::Io { .. }) => Err(anyhow::anyhow!(
            "cannot start: {e}; tally must be able to read and replace it: fix its permissions \
             (or those of the data directory)"
        )),
        Err(e) => Err(anyhow::anyhow!("cannot start: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tally_engine::fsutil::tmp_path;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    fn spec(query: &str, params: &[(&str, &str, Option<Value>)]) -> QuerySpec {
        QuerySpec {
            description: Some("d".into()),
            query: query.into(),
            params: params
                .iter()
                .map(|(n, t, d)| ParamSpec {
                    name: (*n).into(),
                    ty: (*t).into(),
                    default: d.clone(),
                    description: None,
                })
                .collect(),
            ..QuerySpec::default()
        }
    }

    const BY_KEY: &str =
        "SELECT count(*) FROM requests WHERE key = $key AND time >= $from GROUP BY endpoint";

    fn by_key() -> QuerySpec {
        spec(
            BY_KEY,
            &[
                ("key", "string", None),
                ("$from", "time", Some(json!("2026-01-01"))),
            ],
        )
    }

    fn invalid(s: &mut SavedQueries, name: &str, spec: QuerySpec) -> String {
        match s.save(name, spec, at(0)) {
            Err(SavedError::Invalid(m)) => m,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn saves_replaces_deletes_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SavedQueries::open(dir.path()).unwrap();
        assert_eq!(s.list().count(), 0);
        assert!(
            !dir.path().join(FILE_NAME).exists(),
            "nothing written until a save"
        );

        let (q, created) = s.save("by_key", by_key(), at(10)).unwrap();
        assert!(created);
        assert_eq!(q.params.len(), 2);
        assert_eq!(q.params[1].name, "from", "a leading $ is dropped");
        assert_eq!(q.params[1].ty, ParamType::Time);
        assert_eq!(q.created_at, "1970-01-01T00:00:10.000Z");
        let (q2, created) = s.save("by_key", by_key(), at(20)).unwrap();
        assert!(!created);
        assert_eq!(q2.created_at, "1970-01-01T00:00:10.000Z");
        assert_eq!(q2.updated_at, "1970-01-01T00:00:20.000Z");
        s.save("a.first-one", spec("SHOW MEASUREMENTS", &[]), at(30))
            .unwrap();
        let names: Vec<&str> = s.list().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["a.first-one", "by_key"]);

        let again = SavedQueries::open(dir.path()).unwrap();
        assert_eq!(again.get("by_key"), Some(&q2));
        assert_eq!(again.list().count(), 2);

        assert!(s.delete("by_key").unwrap().is_some());
        assert!(s.delete("by_key").unwrap().is_none());
        let again = SavedQueries::open(dir.path()).unwrap();
        assert!(again.get("by_key").is_none());
        assert!(again.get("a.first-one").is_some());
        assert!(!tmp_path(&dir.path().join(FILE_NAME)).exists());
    }

    #[test]
    fn the_file_is_replaced_whole_and_a_failed_write_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SavedQueries::open(dir.path()).unwrap();
        s.save("one", spec("SHOW MEASUREMENTS", &[]), at(1))
            .unwrap();
        let before = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
        // A directory where the temp file must go makes the write fail at its first step.
        std::fs::create_dir(tmp_path(&dir.path().join(FILE_NAME))).unwrap();
        std::fs::write(tmp_path(&dir.path().join(FILE_NAME)).join("x"), b"").unwrap();
        let err = s
            .save("two", spec("SHOW MEASUREMENTS", &[]), at(2))
            .unwrap_err();
        assert!(matches!(err, SavedError::Io { op: "write", .. }), "{err:?}");
        assert!(s.get("two").is_none(), "memory follows the file");
        assert!(s.delete("one").is_err());
        assert!(s.get("one").is_some());
        assert_eq!(std::fs::read(dir.path().join(FILE_NAME)).unwrap(), before);
        let file: Value = serde_json::from_slice(&before).unwrap();
        assert_eq!(file["version"], 1);
        assert_eq!(file["queries"][0]["name"], "one");
    }

    #[test]
    fn a_corrupt_file_is_refused_with_its_name_and_the_fix() {
        for (content, needle) in [
            (&b"{\"version\": 1, \"queries\": ["[..], "not valid JSON"),
            (b"[]", "no \"version\""),
            (b"{\"version\": 2, \"queries\": []}", "format version 2"),
            (
                b"{\"version\": 1, \"queries\": [{\"name\": \"x\"}]}",
                "missing field `query`",
            ),
            (
                b"{\"version\": 1, \"queries\": [{\"name\": \"a b\", \"query\": \"x\", \"created_at\": \"\", \"updated_at\": \"\"}]}",
                "saved query `a b`: the name `a b` has ' '",
            ),
            (
                b"{\"version\": 1, \"queries\": [{\"name\": \"a\", \"query\": \"x\", \"params\": [{\"name\": \"k\", \"type\": \"str\"}], \"created_at\": \"\", \"updated_at\": \"\"}]}",
                "unknown parameter type `str`",
            ),
            (
                b"{\"version\": 1, \"queries\": [{\"name\": \"a\", \"query\": \"x\", \"created_at\": \"\", \"updated_at\": \"\"}, {\"name\": \"a\", \"query\": \"y\", \"created_at\": \"\", \"updated_at\": \"\"}]}",
                "`a` is used twice",
            ),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(FILE_NAME);
            std::fs::write(&path, content).unwrap();
            let err = SavedQueries::open(dir.path()).unwrap_err();
            assert!(matches!(err, SavedError::Corrupt { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(msg.contains(needle), "{msg}");
            assert!(
                msg.starts_with(&format!("corrupt {}: ", path.display()))
                    && msg.contains("fix it by hand, or move it out of the data directory"),
                "{msg}"
            );
            assert_eq!(std::fs::read(&path).unwrap(), content, "never overwritten");
        }
    }

    #[test]
    fn a_file_written_by_hand_loads_without_its_query_being_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE_NAME),
            r#"{"version": 1, "queries": [{"name": "old", "query": "SELEKT", "created_at": "", "updated_at": ""}]}"#,
        )
        .unwrap();
        let s = SavedQueries::open(dir.path()).unwrap();
        assert_eq!(s.get("old").unwrap().query, "SELEKT");
    }

    #[test]
    fn serve_refuses_to_start_on_a_damaged_file_only() {
        let dir = tempfile::tempdir().unwrap();
        let args = |d: &Path| ServeArgs {
            data_dir: Some(d.to_path_buf()),
            ..ServeArgs::default()
        };
        check_before_serve(&args(&dir.path().join("not-yet"))).unwrap();
        check_before_serve(&args(dir.path())).unwrap();
        std::fs::write(dir.path().join(FILE_NAME), b"{").unwrap();
        let msg = check_before_serve(&args(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("cannot start: corrupt "), "{msg}");
        assert!(msg.contains(FILE_NAME), "{msg}");
    }

    #[test]
    fn names_are_checked() {
        for good in ["a", "errors_by_key", "cost.2026-q4", &"x".repeat(64)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for (bad, needle) in [
            ("", "has no name"),
            (&"x".repeat(65) as &str, "65 characters long"),
            ("a b", "has ' ' at position 2"),
            ("a/b", "'/'"),
            ("é", "'é' at position 1"),
        ] {
            let err = check_name(bad).unwrap_err();
            assert!(
                err.contains(needle) && err.contains("1 to 64"),
                "{bad}: {err}"
            );
        }
        assert!(check_param_name("from_time").is_ok());
        assert!(check_param_name("_x1").is_ok());
        for bad in ["", "1x", "a-b", "a b"] {
            assert!(
                check_param_name(bad)
                    .unwrap_err()
                    .contains("not a parameter name"),
                "{bad}"
            );
        }
        assert!(check_param_name("format")
            .unwrap_err()
            .contains("rename $format"));
    }

    #[test]
    fn saving_checks_the_text_the_parameters_and_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SavedQueries::open(dir.path()).unwrap();

        let err = s
            .save("x", spec("SELECT count(*)\nFORM requests", &[]), at(0))
            .unwrap_err();
        let SavedError::Query(p) = err else {
            panic!("expected a parse error, got {err:?}")
        };
        assert_eq!((p.line, p.column), (2, 1));
        assert!(p.to_string().contains("\n  FORM requests\n  ^^^^"), "{p}");

        let err = s
            .save(
                "x",
                spec(
                    "SELECT count(*) FROM r WHERE key = $key AND a = $a AND b = $b",
                    &[("a", "string", None)],
                ),
                at(0),
            )
            .unwrap_err();
        let SavedError::Query(p) = err else {
            panic!("expected an error at the parameter, got {err:?}")
        };
        assert_eq!((p.line, p.column, p.len), (1, 36, 4));
        let m = p.message();
        assert!(
            m.starts_with("parameter $key is not declared")
                && m.contains("--param-type key=string")
                && m.ends_with("also undeclared: $b"),
            "{m}"
        );

        let cases: Vec<(&str, QuerySpec, &str)> = vec![
            (
                "bad name",
                spec("SHOW MEASUREMENTS", &[]),
                "has ' ' at position 4",
            ),
            ("x", spec("  ; ", &[]), "the query is empty"),
            (
                "x",
                spec("SELECT * FROM m", &[("k", "string", None)]),
                "parameter $k is declared but the query does not use it",
            ),
            (
                "x",
                spec("SELECT * FROM m WHERE k = $k", &[("k", "text", None)]),
                "parameter $k: unknown parameter type `text`; use string, integer",
            ),
            (
                "x",
                spec(
                    "SELECT * FROM m WHERE k = $k",
                    &[("k", "string", None), ("$k", "string", None)],
                ),
                "parameter $k is declared twice",
            ),
            (
                "x",
                spec("SELECT * FROM m WHERE k = $now", &[("now", "time", None)]),
                "the parameter name `now` is reserved",
            ),
            (
                "x",
                spec("SELECT * FROM m LIMIT 1", &[("a-b", "string", None)]),
                "`a-b` is not a parameter name",
            ),
            (
                "x",
                spec(
                    "SELECT * FROM m WHERE n > $n",
                    &[("n", "integer", Some(json!("ten")))],
                ),
                "bad default: parameter $n must be an integer such as 42, not `ten`",
            ),
            (
                "x",
                spec(
                    "SELECT * FROM m WHERE time > now() - $w",
                    &[("w", "duration", Some(json!("1.5h")))],
                ),
                "bad default: parameter $w must be a duration",
            ),
        ];
        for (name, spec, needle) in cases {
            let m = invalid(&mut s, name, spec);
            assert!(m.contains(needle), "{needle}: {m}");
        }
        let mut named = spec("SHOW MEASUREMENTS", &[]);
        named.name = Some("other".into());
        assert!(invalid(&mut s, "x", named).contains("names the query `other` but the path `x`"));
        assert_eq!(s.list().count(), 0, "nothing invalid was saved");
        assert!(!dir.path().join(FILE_NAME).exists());
    }

    #[test]
    fn binding_uses_given_values_then_defaults_and_names_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SavedQueries::open(dir.path()).unwrap();
        let (q, _) = s.save("by_key", by_key(), at(0)).unwrap();
        let stmts = tally_query::parse_statements(&q.query).unwrap();
        let day = 86_400_000_000_000i64;

        let v = q.bind(&stmts, &[("key".into(), json!("k1"))]).unwrap();
        assert_eq!(v["key"], ParamValue::String("k1".into()));
        assert_eq!(
            v["from"],
            ParamValue::Time(20_454 * day),
            "the default, 2026-01-01"
        );
        let v = q
            .bind(
                &stmts,
                &[
                    ("$key".into(), json!("k2")),
                    ("from".into(), json!("1970-01-02")),
                ],
            )
            .unwrap();
        assert_eq!(v["key"], ParamValue::String("k2".into()));
        assert_eq!(v["from"], ParamValue::Time(day));

        let err = q.bind(&stmts, &[]).unwrap_err();
        assert_eq!(
            err,
            "saved query `by_key` needs $key (string); pass it in the query string \
             (?key=VALUE), in the body ({\"params\": {\"key\": ...}}) or with tally saved run \
             --param key=VALUE"
        );
        let err = q
            .bind(
                &stmts,
                &[("kye".into(), json!("a")), ("zzz".into(), json!(1))],
            )
            .unwrap_err();
        assert_eq!(
            err,
            "saved query `by_key` has no parameter $kye (did you mean $key?), nor $zzz; its \
             parameters are $key (string) and $from (time)"
        );
        let err = q
            .bind(
                &stmts,
                &[("key".into(), json!("a")), ("key".into(), json!("b"))],
            )
            .unwrap_err();
        assert!(err.contains("$key is given twice"), "{err}");
        let err = q
            .bind(
                &stmts,
                &[("key".into(), json!("a")), ("from".into(), json!("soon"))],
            )
            .unwrap_err();
        assert!(
            err.starts_with("parameter $from must be a time such as"),
            "{err}"
        );

        let (plain, _) = s
            .save("plain", spec("SHOW MEASUREMENTS", &[]), at(0))
            .unwrap();
        let err = plain.bind(&[], &[("x".into(), json!(1))]).unwrap_err();
        assert!(err.ends_with("; it takes no parameters"), "{err}");
    }

    #[test]
    fn dates_bind_in_the_zone_of_the_query() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SavedQueries::open(dir.path()).unwrap();
        let (q, _) = s
            .save(
                "la",
                spec(
                    "SELECT sum(usd) FROM cost WHERE time >= $from GROUP BY day(time) TZ('America/Los_Angeles')",
                    &[("from", "time", None)],
                ),
                at(0),
            )
            .unwrap();
        let stmts = tally_query::parse_statements(&q.query).unwrap();
        let v = q
            .bind(&stmts, &[("from".into(), json!("1970-01-02"))])
            .unwrap();
        assert_eq!(v["from"], ParamValue::Time((24 + 8) * 3_600_000_000_000));
    }

    #[test]
    fn close_names_are_suggested() {
        use tally_query::suggest::closest;
        let names = ["errors_by_key", "cost_by_team"];
        assert_eq!(
            closest("errors_by_kye", names.into_iter()),
            Some("errors_by_key")
        );
        assert_eq!(
            closest("COST_BY_TEAM", names.into_iter()),
            Some("cost_by_team")
        );
        assert_eq!(closest("latency", names.into_iter()), None);
    }
}
