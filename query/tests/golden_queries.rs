//! The golden query suite: every `tests/queries/*.sql` (at the workspace root) runs against a
//! small deterministic store and its result tables, rendered as aligned text, must equal the
//! `.out` file next to it; every `tests/queries/errors/*.sql` must fail with exactly the error
//! in its `.out` (message, source line and caret). `tests/queries/pending/` holds cases whose
//! `.out` is right but the executor is not yet: they are skipped until moved back.
//!
//! A query file may start with header comments the runner reads:
//! `-- params: key=beta from=time:2026-11-03T00:00:00Z n=int:5 x=float:0.5 w=duration:6h
//! b=bool:true` (an untyped value is a string) and `-- limits: max_rows=5`.
//!
//! `TALLY_BLESS=1 cargo test -p tally-query --test golden_queries` rewrites the `.out` files from
//! the current executor; review the diff, since the expected outputs must be right, not merely
//! what the executor prints. `outputs_agree_with_brute_force` checks many `.out` files against
//! an evaluation over the generated points that does not use the executor.
#![allow(clippy::unwrap_used)]

mod common;
use common::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Timelike};
use tally_engine::{Db, FieldValueRef, PointScratch, WriteBatch};
use tally_query::format::{self, rfc3339, TimeFormat};
use tally_query::{run, ParamValue, QueryOptions};

const S: i64 = 1_000_000_000;
const M: i64 = 60 * S;
const H: i64 = 60 * M;
const D: i64 = 24 * H;

/// `now()` for every query: 2026-11-04T10:20:30Z, a Wednesday, aligned to no bucket.
const NOW: i64 = 1_793_787_630 * S;
/// 2026-11-01T00:00:00Z (a Sunday; daylight saving time ends in Los Angeles at 09:00Z).
const NOV1: i64 = 1_793_491_200 * S;
/// 2026-09-28T18:00:00Z, a Monday: the first daily `ai_cost` point.
const COST_START: i64 = 1_790_618_400 * S;

const ENDPOINTS: [&str; 4] = ["/api/segments", "/api/users", "/api/keys", "/health"];
const KEYS: [&str; 3] = ["acme", "beta", "ci-runner"];
const METHODS: [&str; 3] = ["GET", "POST", "DELETE"];

/// One `requests` point (an event measurement: equal timestamps are kept).
#[derive(Debug, Clone)]
struct Req {
    t: i64,
    endpoint: &'static str,
    /// `/health` is called without an API key: the series has no `key` tag.
    key: Option<&'static str>,
    method: &'static str,
    status: i64,
    /// Multiples of 0.25, so sums are exact whatever order they are added in.
    latency: f64,
    bytes: i64,
}

impl Req {
    fn class(&self) -> String {
        format!("{}xx", self.status / 100)
    }
    /// The key tag as the executor sees it: a missing tag is the empty value.
    fn key(&self) -> &'static str {
        self.key.unwrap_or("")
    }
}

/// One `ai_cost` point (a metric: a rewrite replaces the value).
#[derive(Debug, Clone)]
struct Cost {
    t: i64,
    platform: &'static str,
    user: &'static str,
    usd: f64,
}

/// One `ai_usage` point; `cached` is missing on the `cursor` series.
#[derive(Debug, Clone)]
struct Usage {
    t: i64,
    platform: &'static str,
    user: &'static str,
    tokens: i64,
    model: &'static str,
    cached: Option<bool>,
}

/// The generated requests, in time order, then the hand-placed ones (edges and a pair with
/// one timestamp), which are written last.
fn requests() -> (Vec<Req>, Vec<Req>) {
    let mut rng = Rng(0x0901_de2f_11e5);
    let mut out = Vec::new();
    let mut t = NOV1;
    loop {
        // Sparse (10-30 min apart) until the last day, then 2-8 min apart; whole seconds.
        let step = if t < NOW - D {
            600 + rng.below(1200)
        } else {
            120 + rng.below(360)
        };
        t += step as i64 * S;
        if t >= NOW {
            break;
        }
        let endpoint = ENDPOINTS[rng.pick(&[40, 25, 25, 10])];
        let health = endpoint == "/health";
        let key = (!health).then(|| KEYS[rng.pick(&[5, 3, 2])]);
        let method = if health {
            "GET"
        } else {
            METHODS[rng.pick(&[6, 3, 1])]
        };
        let status = if health {
            [200, 503][rng.pick(&[9, 1])]
        } else {
            [200, 201, 204, 404, 429, 500, 503][rng.pick(&[50, 10, 5, 15, 5, 10, 5])]
        };
        // Roughly log-uniform from 2 ms to a few seconds, in steps of 0.25 ms.
        let exp = (rng.below(1000) as f64 / 1000.0 * 7.0).exp();
        let latency = (2.0 * exp * 4.0).round() / 4.0;
        let bytes = match status {
            204 => 0,
            _ if health => 2,
            _ => rng.below(20_000) as i64,
        };
        out.push(Req {
            t,
            endpoint,
            key,
            method,
            status,
            latency,
            bytes,
        });
    }
    let extra = vec![
        // Exactly now: inside the default range (its end is inclusive).
        Req {
            t: NOW,
            endpoint: "/api/users",
            key: Some("beta"),
            method: "GET",
            status: 200,
            latency: 42.5,
            bytes: 1234,
        },
        // Exactly 24 h before now: outside the default range and `time > now() - 24h`.
        Req {
            t: NOW - D,
            endpoint: "/api/keys",
            key: Some("acme"),
            method: "POST",
            status: 201,
            latency: 100.0,
            bytes: 10,
        },
        // Two requests of one series in the same nanosecond, at a day boundary, written after
        // that day was flushed.
        Req {
            t: NOV1 + 2 * D,
            endpoint: "/api/segments",
            key: Some("acme"),
            method: "GET",
            status: 500,
            latency: 250.0,
            bytes: 300,
        },
        Req {
            t: NOV1 + 2 * D,
            endpoint: "/api/segments",
            key: Some("acme"),
            method: "GET",
            status: 500,
            latency: 750.0,
            bytes: 700,
        },
    ];
    (out, extra)
}

/// Daily costs at 18:00Z from 2026-09-28 to 2026-11-03, plus two `openai` points at midnight
/// UTC on the edges of October.
fn costs() -> Vec<Cost> {
    let mut out = Vec::new();
    for d in 0..37i64 {
        let t = COST_START + d * D;
        let r = |n: i64| (d % n) as f64;
        out.push(Cost {
            t,
            platform: "claude_api",
            user: "ana",
            usd: 10.0 + r(7) * 0.5,
        });
        out.push(Cost {
            t,
            platform: "claude_api",
            user: "bo",
            usd: 2.25 + r(3) * 0.25,
        });
        out.push(Cost {
            t,
            platform: "cursor",
            user: "ana",
            usd: 1.5 + r(2) * 0.25,
        });
        // From 2026-10-20.
        if d >= 22 {
            out.push(Cost {
                t,
                platform: "openai",
                user: "cy",
                usd: 4.75,
            });
        }
    }
    for (t, usd) in [
        (1_790_812_800 * S, 0.5), // 2026-10-01T00:00:00Z
        (NOV1, 7.0),
    ] {
        out.push(Cost {
            t,
            platform: "openai",
            user: "cy",
            usd,
        });
    }
    out.sort_by_key(|c| c.t);
    out
}

/// Every 6 hours from 2026-11-01T00:00Z to now, for three series.
fn usage() -> Vec<Usage> {
    let series = [
        ("claude_api", "ana"),
        ("claude_api", "bo"),
        ("cursor", "ana"),
    ];
    let models = ["sonnet", "opus", "haiku"];
    let mut out = Vec::new();
    let mut i = 0i64;
    let mut t = NOV1;
    while t <= NOW {
        for (s, (platform, user)) in series.iter().enumerate() {
            let s = s as i64;
            out.push(Usage {
                t,
                platform,
                user,
                tokens: 500 + ((i * 7 + s * 3) % 11) * 250,
                model: models[((i + s) % 3) as usize],
                cached: (*platform != "cursor").then_some((i + s) % 4 == 0),
            });
        }
        i += 1;
        t += 6 * H;
    }
    out
}

/// The generated points, as the store holds them.
struct Data {
    /// Every request, sorted by time (ties in write order).
    reqs: Vec<Req>,
    /// Every cost after rewrites, sorted by time.
    costs: Vec<Cost>,
    usage: Vec<Usage>,
}

fn data() -> Data {
    let (generated, extra) = requests();
    let mut reqs = generated;
    reqs.extend(extra);
    // A stable sort: the two requests of one nanosecond stay in write order.
    reqs.sort_by_key(|r| r.t);
    Data {
        reqs,
        costs: costs(),
        usage: usage(),
    }
}

/// The store, in a directory removed when the fixture is dropped.
struct Fixture {
    db: Db,
    _dir: tempfile::TempDir,
}

fn write_reqs(db: &Db, reqs: &[Req]) {
    let mut scratch = PointScratch::new();
    for chunk in reqs.chunks(100) {
        let mut b = WriteBatch::new();
        for r in chunk {
            let status = r.status.to_string();
            let class = r.class();
            let mut p = b.point(&mut scratch, "requests");
            p.tag("endpoint", r.endpoint);
            if let Some(k) = r.key {
                p.tag("key", k);
            }
            p.tag("method", r.method)
                .tag("status", &status)
                .tag("status_class", &class)
                .field("bytes_out", FieldValueRef::Integer(r.bytes))
                .field("latency_ms", FieldValueRef::Float(r.latency));
            p.finish(r.t).unwrap();
        }
        db.write(b).unwrap();
    }
}

fn write_costs(db: &Db, costs: &[Cost]) {
    let mut scratch = PointScratch::new();
    let mut b = WriteBatch::new();
    for c in costs {
        let mut p = b.point(&mut scratch, "ai_cost");
        p.tag("platform", c.platform)
            .tag("user", c.user)
            .field("cost_usd", FieldValueRef::Float(c.usd));
        p.finish(c.t).unwrap();
    }
    db.write(b).unwrap();
}

fn fixture() -> Fixture {
    let (db, dir) = common::open_db();
    let (generated, extra) = requests();
    // Two flushed stretches (segments and rollups), the last day and a half in the head.
    let cut1 = NOV1 + D + 12 * H;
    let cut2 = NOV1 + 2 * D + 12 * H;
    for (from, to) in [(i64::MIN, cut1), (cut1, cut2), (cut2, i64::MAX)] {
        let part: Vec<Req> = generated
            .iter()
            .filter(|r| r.t >= from && r.t < to)
            .cloned()
            .collect();
        write_reqs(&db, &part);
        if to != i64::MAX {
            db.flush().unwrap();
        }
    }
    write_reqs(&db, &extra);

    // Costs: one day first written wrong and flushed, then rewritten in the head.
    let costs = costs();
    let rewritten = 1_791_655_200 * S; // 2026-10-15T18:00:00Z
    let wrong: Vec<Cost> = costs
        .iter()
        .map(|c| {
            let mut c = c.clone();
            if c.t == rewritten && c.platform == "claude_api" && c.user == "ana" {
                c.usd = 999.0;
            }
            c
        })
        .collect();
    write_costs(&db, &wrong);
    db.flush().unwrap();
    let fix: Vec<Cost> = costs
        .iter()
        .filter(|c| c.t == rewritten && c.platform == "claude_api")
        .cloned()
        .collect();
    write_costs(&db, &fix);

    let usage = usage();
    let mut scratch = PointScratch::new();
    let mut b = WriteBatch::new();
    for u in &usage {
        let mut p = b.point(&mut scratch, "ai_usage");
        p.tag("platform", u.platform)
            .tag("user", u.user)
            .field("tokens", FieldValueRef::Integer(u.tokens))
            .field("model", FieldValueRef::String(u.model));
        if let Some(c) = u.cached {
            p.field("cached", FieldValueRef::Boolean(c));
        }
        p.finish(u.t).unwrap();
    }
    db.write(b).unwrap();
    Fixture { db, _dir: dir }
}

// ---------------------------------------------------------------------------------------------
// The runner.

fn root() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/queries");
    path.canonicalize().unwrap_or(path)
}

fn blessing() -> bool {
    std::env::var("TALLY_BLESS").as_deref() == Ok("1")
}

/// A query file and its expected output.
struct Case {
    sql: PathBuf,
    out: PathBuf,
    text: String,
}

impl Case {
    fn name(&self) -> String {
        let root = root();
        self.sql
            .strip_prefix(&root)
            .unwrap_or(&self.sql)
            .display()
            .to_string()
    }
}

/// The `.sql` files of `dir` (sorted), checking that every `.out` has its `.sql` and that
/// nothing else is there; problems are appended to `problems`.
fn cases(dir: &Path, subdirs: &[&str], problems: &mut Vec<String>) -> Vec<Case> {
    let mut sql = BTreeSet::new();
    let mut out = BTreeSet::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            if !subdirs.contains(&name.as_str()) {
                problems.push(format!("{}: unexpected directory", path.display()));
            }
            continue;
        }
        // A README explains a directory; dot files are editors' and blessing's temporaries.
        if name == "README.md" || name.starts_with('.') {
            continue;
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("sql") => {
                sql.insert(path.with_extension(""));
            }
            Some("out") => {
                out.insert(path.with_extension(""));
            }
            _ => problems.push(format!(
                "{}: unexpected file (only NAME.sql and NAME.out belong here)",
                path.display()
            )),
        }
    }
    for orphan in out.difference(&sql) {
        problems.push(format!(
            "{}.out has no {}.sql next to it",
            orphan.display(),
            orphan.file_name().unwrap().to_string_lossy()
        ));
    }
    sql.into_iter()
        .map(|stem| {
            let sql = stem.with_extension("sql");
            let text = std::fs::read_to_string(&sql)
                .unwrap_or_else(|e| panic!("reading {}: {e}", sql.display()));
            Case {
                out: stem.with_extension("out"),
                sql,
                text,
            }
        })
        .collect()
}

/// The options a file's header comments ask for.
fn options(text: &str) -> QueryOptions {
    let mut o = QueryOptions {
        now: Some(NOW),
        ..QueryOptions::default()
    };
    for line in text.lines() {
        let Some(comment) = line.trim().strip_prefix("--") else {
            break;
        };
        let comment = comment.trim();
        if let Some(params) = comment.strip_prefix("params:") {
            for binding in params.split_whitespace() {
                let (name, value) = binding
                    .split_once('=')
                    .unwrap_or_else(|| panic!("`{binding}`: write name=value"));
                o.params.insert(name.to_owned(), param(value));
            }
        } else if let Some(limits) = comment.strip_prefix("limits:") {
            for setting in limits.split_whitespace() {
                match setting.split_once('=') {
                    Some(("max_rows", n)) => o.limits.max_rows = n.parse().unwrap(),
                    Some(("max_memory_bytes", n)) => o.limits.max_memory_bytes = n.parse().unwrap(),
                    _ => panic!("unknown limit `{setting}`"),
                }
            }
        }
    }
    o
}

/// A parameter value: `type:value` for a typed one, else a string.
fn param(value: &str) -> ParamValue {
    let (ty, v) = value.split_once(':').unwrap_or(("", value));
    match ty {
        "time" => ParamValue::Time(
            DateTime::parse_from_rfc3339(v)
                .unwrap()
                .timestamp_nanos_opt()
                .unwrap(),
        ),
        "duration" => match tally_query::parse_expression(v).unwrap() {
            tally_query::ast::Expr::Literal(l) => match l.value {
                tally_query::ast::Value::Duration(d) => ParamValue::Duration(d.nanos()),
                other => panic!("`{v}` is not a duration: {other:?}"),
            },
            other => panic!("`{v}` is not a duration: {other:?}"),
        },
        "int" => ParamValue::Integer(v.parse().unwrap()),
        "float" => ParamValue::Float(v.parse().unwrap()),
        "bool" => ParamValue::Boolean(v.parse().unwrap()),
        "string" => ParamValue::String(v.to_owned()),
        _ => ParamValue::String(value.to_owned()),
    }
}

/// The elapsed time `EXPLAIN ANALYZE` reports changes from run to run.
fn normalize(text: &str) -> String {
    let elapsed = regex::Regex::new(r"executed in [0-9.]+ ms").unwrap();
    elapsed
        .replace_all(text, "executed in (elapsed) ms")
        .into_owned()
}

/// Runs a case: `Ok` with the rendered tables, `Err` with the rendered error.
fn render(f: &Fixture, case: &Case) -> Result<String, String> {
    match run(&f.db, &case.text, &options(&case.text)) {
        Ok(tables) => Ok(normalize(&format::text(&tables, TimeFormat::Rfc3339))),
        Err(e) => Err(format!("{e}\n")),
    }
}

/// A line diff (longest common subsequence): `-` expected, `+` got, two lines of context.
fn diff(expected: &str, got: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = got.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    let near = |k: usize| {
        ops[k.saturating_sub(2)..(k + 3).min(ops.len())]
            .iter()
            .any(|(c, _)| *c != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (c, line)) in ops.iter().enumerate() {
        if near(k) {
            if skipped {
                out.push_str("  ...\n");
                skipped = false;
            }
            out.push_str(&format!("{c} {line}\n"));
        } else {
            skipped = true;
        }
    }
    if expected.ends_with('\n') != got.ends_with('\n') {
        out.push_str("(the files differ in the final line break)\n");
    }
    out
}

/// Replaces `path` by renaming a temporary file, so a test reading it meanwhile (the brute-force
/// check) sees the old or the new text, never half of it.
fn write_atomically(path: &Path, text: &str) {
    let name = path.file_name().unwrap().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).unwrap_or_else(|e| panic!("writing {}: {e}", tmp.display()));
    std::fs::rename(&tmp, path).unwrap_or_else(|e| panic!("renaming to {}: {e}", path.display()));
}

/// Runs every case of `dir`; `good` says whether they must give tables or errors. `bless`
/// allows `TALLY_BLESS=1` to rewrite the `.out` files (never for pending cases, whose `.out`
/// files are written by hand).
fn check_dir(dir: &Path, subdirs: &[&str], good: bool, min: usize, bless: bool) -> Vec<String> {
    let f = fixture();
    let mut problems = Vec::new();
    let cases = cases(dir, subdirs, &mut problems);
    assert!(
        cases.len() >= min,
        "only {} cases in {} (at least {min} wanted)",
        cases.len(),
        dir.display()
    );
    for case in &cases {
        let got = match (render(&f, case), good) {
            (Ok(t), true) | (Err(t), false) => t,
            (Ok(t), false) => {
                problems.push(format!("{}: ran but should fail:\n{t}", case.name()));
                continue;
            }
            (Err(e), true) => {
                problems.push(format!("{}: failed but should run:\n{e}", case.name()));
                continue;
            }
        };
        if bless && blessing() {
            write_atomically(&case.out, &got);
            continue;
        }
        match std::fs::read_to_string(&case.out) {
            Ok(want) if want == got => {}
            Ok(want) => problems.push(format!(
                "{} differs from {} (- expected, + got):\n{}",
                case.name(),
                case.out.file_name().unwrap().to_string_lossy(),
                diff(&want, &got)
            )),
            Err(_) => problems.push(format!(
                "{}: no {} (TALLY_BLESS=1 writes it; check it by hand)",
                case.name(),
                case.out.display()
            )),
        }
    }
    problems
}

fn assert_none(problems: &[String], dir: &Path) {
    assert!(
        problems.is_empty(),
        "{} problem(s) in {} (TALLY_BLESS=1 rewrites the .out files from the executor; \
         review them):\n\n{}",
        problems.len(),
        dir.display(),
        problems.join("\n")
    );
}

#[test]
fn good_queries_match_their_outputs() {
    let problems = check_dir(&root(), &["errors", "pending"], true, 60, true);
    assert_none(&problems, &root());
}

#[test]
fn bad_queries_fail_with_their_exact_errors() {
    let dir = root().join("errors");
    assert_none(&check_dir(&dir, &[], false, 30, true), &dir);
}

/// The pending cases against the executor: `cargo test -p tally-query --test golden_queries
/// -- --ignored` lists the ones still wrong; a case that passes can move back.
#[test]
#[ignore = "pending cases wait for executor fixes"]
fn pending_cases_match_their_outputs() {
    let pending = root().join("pending");
    let mut problems = check_dir(&pending, &["errors"], true, 0, false);
    if pending.join("errors").is_dir() {
        problems.extend(check_dir(&pending.join("errors"), &[], false, 0, false));
    }
    assert_none(&problems, &pending);
}

/// Pending cases are not run, but their files must still pair up.
#[test]
fn pending_cases_pair_up() {
    let mut problems = Vec::new();
    let dir = root().join("pending");
    assert!(dir.is_dir(), "{} must exist", dir.display());
    let cases = cases(&dir, &["errors"], &mut problems);
    for case in &cases {
        if !case.out.exists() {
            problems.push(format!("{}: no .out", case.name()));
        }
    }
    if dir.join("errors").is_dir() {
        cases_in_pending_errors(&dir.join("errors"), &mut problems);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn cases_in_pending_errors(dir: &Path, problems: &mut Vec<String>) {
    for case in cases(dir, &[], problems) {
        if !case.out.exists() {
            problems.push(format!("{}: no .out", case.name()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Brute force: many `.out` files checked against an evaluation over the generated points that
// shares no code with the executor (only the time formatting).

/// One table of a `.out` file: column names and trimmed cells.
#[derive(Debug)]
struct OutTable {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// The tables of `name.out`, wherever the case lives (a pending case's `.out` is the right one).
fn read_out(name: &str) -> Vec<OutTable> {
    let path = [root(), root().join("pending")]
        .iter()
        .map(|d| d.join(format!("{name}.out")))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no {name}.out in tests/queries or tests/queries/pending"));
    let text = std::fs::read_to_string(&path).unwrap();
    text.split("\n\n")
        .map(|block| {
            let lines: Vec<&str> = block.lines().collect();
            let cells =
                |l: &str| -> Vec<String> { l.split('|').map(|c| c.trim().to_owned()).collect() };
            let columns = cells(lines[0]);
            let n = columns.len();
            let rows = lines[2..lines.len() - 1]
                .iter()
                .map(|l| {
                    let mut r = cells(l);
                    r.resize(n, String::new());
                    r
                })
                .collect();
            OutTable { columns, rows }
        })
        .collect()
}

/// An expected cell.
#[derive(Debug, Clone)]
enum E {
    /// Exactly this text (tags, times, booleans).
    T(String),
    I(i64),
    /// A float, equal up to rounding in the last bits.
    F(f64),
    /// A quantile served by a sketch: within its 1% relative accuracy.
    Q(f64),
    /// Null: a blank cell.
    N,
}

fn t(s: &str) -> E {
    E::T(s.to_owned())
}

fn tm(ns: i64) -> E {
    E::T(rfc3339(ns))
}

fn fo(v: Option<f64>) -> E {
    v.map_or(E::N, E::F)
}

fn matches(cell: &str, e: &E) -> bool {
    let num = || cell.parse::<f64>().ok();
    match e {
        E::T(s) => cell == s,
        E::I(i) => cell.parse::<i64>().ok() == Some(*i),
        E::F(f) => num().is_some_and(|c| (c - f).abs() <= 1e-14 * f.abs().max(1.0)),
        E::Q(f) => num().is_some_and(|c| (c - f).abs() <= 0.01 * f.abs() + 1e-9),
        E::N => cell.is_empty(),
    }
}

/// Compares statement `stmt` of `name.out` with the expected columns and rows.
fn expect(problems: &mut Vec<String>, name: &str, stmt: usize, columns: &[&str], rows: &[Vec<E>]) {
    let tables = read_out(name);
    let Some(table) = tables.get(stmt) else {
        problems.push(format!("{name}: no statement {stmt}"));
        return;
    };
    if table.columns != columns {
        problems.push(format!(
            "{name}[{stmt}]: columns {:?}, brute force {columns:?}",
            table.columns
        ));
        return;
    }
    if table.rows.len() != rows.len() {
        problems.push(format!(
            "{name}[{stmt}]: {} rows, brute force {}: {:?}",
            table.rows.len(),
            rows.len(),
            rows
        ));
        return;
    }
    for (i, (got, want)) in table.rows.iter().zip(rows).enumerate() {
        if got.len() != want.len() || !got.iter().zip(want).all(|(c, e)| matches(c, e)) {
            problems.push(format!(
                "{name}[{stmt}] row {i}: {got:?}, brute force {want:?}"
            ));
        }
    }
}

/// The exact quantile the executor defines: the value at rank floor(q (n - 1)).
fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Some(v[((q * (v.len() - 1) as f64) as usize).min(v.len() - 1)])
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn min_f(values: &[f64]) -> Option<f64> {
    values.iter().copied().reduce(f64::min)
}

fn max_f(values: &[f64]) -> Option<f64> {
    values.iter().copied().reduce(f64::max)
}

/// `[start, end)` of the default range: the 24 hours up to and including now.
const DAY_START: i64 = NOW + 1 - D;
const DAY_END: i64 = NOW + 1;

/// Los Angeles: PDT (UTC-7) until 2026-11-01T09:00Z, PST (UTC-8) after.
fn la_offset(t: i64) -> i64 {
    if t < NOV1 + 9 * H {
        -7 * H
    } else {
        -8 * H
    }
}

/// Monday-based hour of the week of instant `t` shifted by `offset`.
fn hour_of_week(t: i64, offset: i64) -> i64 {
    let local = DateTime::from_timestamp_nanos(t + offset);
    i64::from(local.weekday().num_days_from_monday()) * 24 + i64::from(local.hour())
}

/// Time buckets of `every` (aligned to the epoch plus `offset`) touching `[start, end)`.
fn buckets(start: i64, end: i64, every: i64, offset: i64) -> Vec<i64> {
    let mut b = start - (start - offset).rem_euclid(every);
    let mut out = Vec::new();
    while b < end {
        out.push(b);
        b += every;
    }
    out
}

/// Groups requests passing `keep` by `key` and counts them, sorted by key.
fn count_by<K: Ord>(
    reqs: &[Req],
    keep: impl Fn(&Req) -> bool,
    key: impl Fn(&Req) -> K,
) -> BTreeMap<K, i64> {
    let mut out = BTreeMap::new();
    for r in reqs.iter().filter(|r| keep(r)) {
        *out.entry(key(r)).or_insert(0) += 1;
    }
    out
}

fn in_day(r: &Req) -> bool {
    r.t >= DAY_START && r.t < DAY_END
}

fn ts(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s)
        .unwrap()
        .timestamp_nanos_opt()
        .unwrap()
}

#[test]
fn outputs_agree_with_brute_force() {
    // The executor is not used here: only the generated points and the `.out` files.
    let f = data();
    let mut p = Vec::new();
    design_examples(&f, &mut p);
    aggregates(&f, &mut p);
    conditions(&f, &mut p);
    time_ranges(&f, &mut p);
    grouping(&f, &mut p);
    fills_orders_and_limits(&f, &mut p);
    raw_selects(&f, &mut p);
    metrics_and_params(&f, &mut p);
    explain_series(&f, &mut p);
    assert!(
        p.is_empty(),
        "{} .out file(s) disagree with brute force:\n{}",
        p.len(),
        p.join("\n")
    );
}

fn design_examples(d: &Data, p: &mut Vec<String>) {
    // 1. Requests per endpoint over 24 h, most first (ties keep the group order).
    let mut rows: Vec<(&str, i64)> =
        count_by(&d.reqs, |r| r.t > NOW - D && r.t <= NOW, |r| r.endpoint)
            .into_iter()
            .collect();
    rows.sort_by_key(|x| std::cmp::Reverse(x.1));
    let rows: Vec<Vec<E>> = rows.iter().map(|(e, n)| vec![t(e), E::I(*n)]).collect();
    expect(
        p,
        "01_design_top_endpoints",
        0,
        &["endpoint", "count"],
        &rows,
    );

    // 2. Latency percentiles of one endpoint per hour, from rollups (exact below 33 values).
    let mut rows = Vec::new();
    for b in buckets(DAY_START, DAY_END, H, 0) {
        let v: Vec<f64> = d
            .reqs
            .iter()
            .filter(|r| r.endpoint == "/api/segments" && in_day(r) && r.t >= b && r.t < b + H)
            .map(|r| r.latency)
            .collect();
        let q = |q: f64| quantile(&v, q).map_or(E::N, E::Q);
        rows.push(vec![tm(b), q(0.5), q(0.95), q(0.99)]);
    }
    let cols = ["time", "p50", "p95", "p99"];
    expect(p, "02_design_latency_percentiles", 0, &cols, &rows);

    // 3. Error rate per key (the empty key of /health first) per 5 minutes; null when empty.
    let mut rows = Vec::new();
    for key in ["", "acme", "beta", "ci-runner"] {
        for b in buckets(DAY_START, DAY_END, 5 * M, 0) {
            let here: Vec<&Req> = d
                .reqs
                .iter()
                .filter(|r| in_day(r) && r.key() == key && r.t >= b && r.t < b + 5 * M)
                .collect();
            let errors = here.iter().filter(|r| r.status >= 500).count();
            let rate = (!here.is_empty()).then(|| errors as f64 / here.len() as f64);
            rows.push(vec![tm(b), t(key), fo(rate)]);
        }
    }
    let cols = ["time", "key", "error_rate"];
    expect(p, "03_design_error_rate", 0, &cols, &rows);

    // 4. October's cost per platform and user (the openai point at midnight on 1 November is
    // outside, the one on 1 October inside).
    let (oct, nov) = (ts("2026-10-01T00:00:00Z"), ts("2026-11-01T00:00:00Z"));
    let mut sums: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    for c in d.costs.iter().filter(|c| c.t >= oct && c.t < nov) {
        *sums.entry((c.platform, c.user)).or_default() += c.usd;
    }
    let rows: Vec<Vec<E>> = sums
        .iter()
        .map(|((pl, u), s)| vec![t(pl), t(u), E::F(*s)])
        .collect();
    let cols = ["platform", "user", "sum"];
    expect(p, "04_design_cost_october", 0, &cols, &rows);

    // 5. Hour-of-week heatmap per endpoint (UTC).
    let counts = count_by(
        &d.reqs,
        |r| r.t > NOW - 28 * D && r.t <= NOW,
        |r| (r.endpoint, hour_of_week(r.t, 0)),
    );
    let rows: Vec<Vec<E>> = counts
        .iter()
        .map(|((e, h), n)| vec![t(e), E::I(*h), E::I(*n)])
        .collect();
    let cols = ["endpoint", "hour_of_week", "count"];
    expect(p, "05_design_heatmap", 0, &cols, &rows);
}

fn aggregates(d: &Data, p: &mut Vec<String>) {
    let day: Vec<&Req> = d.reqs.iter().filter(|r| in_day(r)).collect();
    let n = day.len() as i64;
    let bytes: i64 = day.iter().map(|r| r.bytes).sum();
    let lat: Vec<f64> = day.iter().map(|r| r.latency).collect();
    let cols = ["n", "bytes out", "avg_latency"];
    let row = vec![E::I(n), E::I(bytes), fo(mean(&lat))];
    expect(p, "06_aliases", 0, &cols, &[row]);
    let max_bytes = day.iter().map(|r| r.bytes).max().unwrap();
    let cols = ["count", "count_1", "count_2", "count_3"];
    let row = vec![E::I(n), E::I(n), E::I(n), E::I(max_bytes)];
    expect(p, "07_repeated_names", 0, &cols, &[row]);
    expect(
        p,
        "33_default_range",
        0,
        &["count", "sum"],
        &[vec![E::I(n), E::I(bytes)]],
    );

    // Distinct counts since 1 November; a missing key is the empty value, one more key.
    let since: Vec<&Req> = d
        .reqs
        .iter()
        .filter(|r| r.t >= NOV1 && r.t <= NOW)
        .collect();
    let distinct = |k: &dyn Fn(&Req) -> String| -> E {
        E::I(since.iter().map(|r| k(r)).collect::<BTreeSet<_>>().len() as i64)
    };
    let row = vec![
        distinct(&|r| r.key().to_owned()),
        distinct(&|r| r.endpoint.to_owned()),
        distinct(&|r| r.status.to_string()),
        distinct(&|r| (r.bytes > 10000).to_string()),
    ];
    let cols = ["keys", "endpoints", "statuses", "sizes"];
    expect(p, "09_count_distinct", 0, &cols, &[row]);

    // 2 November (UTC).
    let nov2: Vec<&Req> = d
        .reqs
        .iter()
        .filter(|r| r.t >= NOV1 + D && r.t < NOV1 + 2 * D)
        .collect();
    let lat2: Vec<f64> = nov2.iter().map(|r| r.latency).collect();
    let b2: Vec<i64> = nov2.iter().map(|r| r.bytes).collect();
    let row = vec![
        E::F(lat2.iter().sum()),
        E::I(b2.iter().sum()),
        fo(mean(&lat2)),
        E::F(b2.iter().sum::<i64>() as f64 / b2.len() as f64),
        fo(min_f(&lat2)),
        fo(max_f(&lat2)),
        E::I(*b2.iter().min().unwrap()),
        E::I(*b2.iter().max().unwrap()),
    ];
    let cols = [
        "sum", "sum_1", "mean", "avg", "min", "max", "min_1", "max_1",
    ];
    expect(p, "10_sum_mean_min_max", 0, &cols, &[row]);
    let qs = [0.5, 0.5, 0.9, 0.95, 0.99, 0.999];
    let row: Vec<E> = qs
        .iter()
        .map(|q| E::Q(quantile(&lat2, *q).unwrap()))
        .collect();
    let cols = ["median", "p50", "p90", "p95", "p99", "p999"];
    expect(p, "12_quantiles_rollups", 0, &cols, &[row]);
    let qs = [0.5, 0.9, 0.95, 0.99, 0.999];
    let row: Vec<E> = qs.iter().map(|q| fo(quantile(&lat2, *q))).collect();
    let cols = ["median", "p90", "p95", "p99", "p999"];
    expect(p, "13_quantiles_exact", 0, &cols, &[row]);
    // p42 is the 0.42 quantile; p100 is the 100th percentile, the maximum.
    let row = vec![
        fo(quantile(&lat2, 0.42)),
        fo(quantile(&lat2, 1.0)),
        fo(max_f(&lat2)),
    ];
    expect(
        p,
        "88_percentile_shorthand_digits",
        0,
        &["p42", "p100", "max"],
        &[row],
    );

    // First and last per endpoint; the earliest and latest points must be unique for the
    // answer to be defined.
    let mut rows = Vec::new();
    for e in ["/api/keys", "/api/segments", "/api/users", "/health"] {
        let mine: Vec<&&Req> = day.iter().filter(|r| r.endpoint == e).collect();
        let first = mine.iter().min_by_key(|r| r.t).unwrap();
        let last = mine.iter().max_by_key(|r| r.t).unwrap();
        for x in [first, last] {
            if mine.iter().filter(|r| r.t == x.t).count() != 1 {
                p.push(format!("11_first_last: {e} has two points at {}", x.t));
            }
        }
        rows.push(vec![
            t(e),
            E::F(first.latency),
            E::F(last.latency),
            E::I(first.bytes),
            E::I(last.bytes),
        ]);
    }
    let cols = ["endpoint", "first", "last", "first_bytes", "last_bytes"];
    expect(p, "11_first_last", 0, &cols, &rows);

    let mut rows = Vec::new();
    for m in ["DELETE", "GET", "POST"] {
        let l: Vec<f64> = day
            .iter()
            .filter(|r| r.method == m)
            .map(|r| r.latency)
            .collect();
        let b: Vec<f64> = day
            .iter()
            .filter(|r| r.method == m)
            .map(|r| r.bytes as f64)
            .collect();
        rows.push(vec![
            t(m),
            fo(quantile(&l, 0.25)),
            fo(quantile(&l, 0.0)),
            fo(quantile(&l, 1.0)),
            fo(quantile(&l, 0.75)),
            fo(quantile(&b, 0.5)),
        ]);
    }
    let cols = ["method", "q25", "lowest", "highest", "p75", "median_bytes"];
    expect(p, "14_quantile_percentile", 0, &cols, &rows);

    // Rates: per second and per hour over 4 hours; per minute per 30-minute bucket.
    let (from, to) = (ts("2026-11-04T06:00:00Z"), ts("2026-11-04T10:00:00Z"));
    let n4 = d.reqs.iter().filter(|r| r.t >= from && r.t < to).count() as i64;
    let row = vec![E::F(n4 as f64 / 14_400.0), E::F(n4 as f64 / 4.0), E::I(n4)];
    expect(p, "15_rate_star", 0, &["rate", "rate_1", "count"], &[row]);
    let mut rows = Vec::new();
    for b in buckets(from + 2 * H, to, 30 * M, 0) {
        let here: Vec<&Req> = d
            .reqs
            .iter()
            .filter(|r| r.t >= b && r.t < b + 30 * M)
            .collect();
        let sum: i64 = here.iter().map(|r| r.bytes).sum();
        rows.push(vec![
            tm(b),
            E::F(sum as f64 / 30.0),
            E::F(here.len() as f64 / 30.0),
            E::I(sum),
            E::I(here.len() as i64),
        ]);
    }
    let cols = ["time", "bytes_per_min", "req_per_min", "sum", "count"];
    expect(p, "16_rate_field_per_bucket", 0, &cols, &rows);
    // `time >= now() - 1h` and `time > now() - 1h` both span one hour.
    let n1 = d
        .reqs
        .iter()
        .filter(|r| r.t > NOW - H && r.t <= NOW)
        .count() as i64;
    let row = vec![E::F(n1 as f64), E::I(n1)];
    expect(
        p,
        "89_rate_over_open_range",
        0,
        &["per_hour", "count"],
        std::slice::from_ref(&row),
    );
    expect(
        p,
        "89_rate_over_open_range",
        1,
        &["per_hour", "count"],
        &[row],
    );

    // FILTER on tags and on fields, and arithmetic between aggregates.
    let mut rows17 = Vec::new();
    let mut rows19 = Vec::new();
    for e in ["/api/keys", "/api/segments", "/api/users", "/health"] {
        let mine: Vec<&&Req> = day.iter().filter(|r| r.endpoint == e).collect();
        let n = mine.len() as i64;
        let customer: Vec<i64> = mine
            .iter()
            .filter(|r| matches!(r.key, Some("acme" | "beta")))
            .map(|r| r.bytes)
            .collect();
        rows17.push(vec![
            t(e),
            E::I(mine.iter().filter(|r| r.method == "POST").count() as i64),
            E::I(mine.iter().filter(|r| r.status >= 400).count() as i64),
            if customer.is_empty() {
                E::N
            } else {
                E::I(customer.iter().sum())
            },
            E::I(n),
        ]);
        let errors = mine.iter().filter(|r| r.status >= 500).count() as i64;
        let sum: i64 = mine.iter().map(|r| r.bytes).sum();
        let l: Vec<f64> = mine.iter().map(|r| r.latency).collect();
        rows19.push(vec![
            t(e),
            E::F((100 * errors) as f64 / n as f64),
            E::F(sum as f64 / 1024.0),
            E::F(max_f(&l).unwrap() - min_f(&l).unwrap()),
            E::I(2 * n + 1),
            E::I(-n),
            E::I(sum % 1000),
        ]);
    }
    let cols = ["endpoint", "posts", "failures", "customer_bytes", "total"];
    expect(p, "17_filter_tags", 0, &cols, &rows17);
    let cols = [
        "endpoint",
        "error_pct",
        "kib",
        "spread",
        "2 * count(*) + 1",
        "negated",
        "rem",
    ];
    expect(p, "19_arithmetic", 0, &cols, &rows19);
    let big: Vec<f64> = day
        .iter()
        .filter(|r| r.bytes > 10000)
        .map(|r| r.latency)
        .collect();
    let fast_acme: i64 = day
        .iter()
        .filter(|r| r.latency <= 100.0 && r.key == Some("acme"))
        .map(|r| r.bytes)
        .sum();
    let row = vec![
        E::I(day.iter().filter(|r| r.latency > 500.0).count() as i64),
        fo(mean(&big)),
        E::I(fast_acme),
        E::I(n),
    ];
    let cols = ["slow", "big_mean", "fast_acme_bytes", "total"];
    expect(p, "18_filter_fields", 0, &cols, &[row]);
    let cols = ["zero", "ratio", "by_zero", "mod_zero", "null_plus_one"];
    let row = vec![E::I(0), E::N, E::N, E::N, E::N];
    expect(p, "20_division_by_zero", 0, &cols, &[row]);
    let cols = ["count", "mean", "sum", "first", "count_distinct", "p99"];
    let row = vec![E::I(0), E::N, E::N, E::N, E::I(0), E::N];
    expect(p, "77_no_match", 0, &cols, &[row]);
}

/// Rows of `(group values..., count)` from a count map keyed by tag values.
fn count_rows(counts: BTreeMap<Vec<String>, i64>) -> Vec<Vec<E>> {
    counts
        .into_iter()
        .map(|(k, n)| {
            let mut row: Vec<E> = k.iter().map(|v| t(v)).collect();
            row.push(E::I(n));
            row
        })
        .collect()
}

fn conditions(d: &Data, p: &mut Vec<String>) {
    let r = &d.reqs;
    let s = |x: &str| x.to_owned();
    let c = count_by(
        r,
        |x| in_day(x) && x.key == Some("acme") && x.method != "GET",
        |x| vec![s(x.method)],
    );
    expect(p, "21_where_eq_ne", 0, &["method", "count"], &count_rows(c));
    let c = count_by(
        r,
        |x| in_day(x) && ["/api/users", "/api/keys"].contains(&x.endpoint) && x.method != "DELETE",
        |x| vec![s(x.endpoint), s(x.method)],
    );
    expect(
        p,
        "22_where_in",
        0,
        &["endpoint", "method", "count"],
        &count_rows(c),
    );
    let c = count_by(
        r,
        |x| in_day(x) && x.endpoint.starts_with("/api/") && !x.key().starts_with("ci"),
        |x| vec![s(x.key())],
    );
    expect(p, "23_where_regex", 0, &["key", "count"], &count_rows(c));
    // A series without the tag has the empty value, which is not 'acme'.
    let c = count_by(
        r,
        |x| in_day(x) && x.key() != "acme",
        |x| vec![s(x.endpoint), s(x.key())],
    );
    let cols = ["endpoint", "key", "count"];
    expect(p, "24_where_missing_tag", 0, &cols, &count_rows(c));
    let c = count_by(
        r,
        |x| in_day(x) && x.status >= 500,
        |x| vec![x.status.to_string()],
    );
    expect(
        p,
        "25_where_numeric_tag",
        0,
        &["status", "count"],
        &count_rows(c),
    );
    let hit: Vec<&Req> = r
        .iter()
        .filter(|x| in_day(x) && x.latency > 250.0 && x.bytes < 5000)
        .collect();
    let lat: Vec<f64> = hit.iter().map(|x| x.latency).collect();
    let row = vec![
        E::I(hit.len() as i64),
        fo(min_f(&lat)),
        E::I(hit.iter().map(|x| x.bytes).max().unwrap()),
    ];
    expect(
        p,
        "26_where_numeric_field",
        0,
        &["count", "min", "max"],
        &[row],
    );
    let c = count_by(
        r,
        |x| {
            in_day(x)
                && (x.status >= 500 || x.status == 429)
                && !(x.key == Some("beta") || x.endpoint == "/health")
        },
        |x| vec![x.class()],
    );
    expect(
        p,
        "27_where_and_or_not",
        0,
        &["status_class", "count"],
        &count_rows(c),
    );
    let c = count_by(
        r,
        |x| in_day(x) && (x.key == Some("beta") || x.latency > 600.0),
        |x| vec![s(x.key())],
    );
    expect(
        p,
        "28_where_tag_or_field",
        0,
        &["key", "count"],
        &count_rows(c),
    );
    let health = |x: &Req| in_day(x) && x.endpoint == "/health";
    let ok = r.iter().filter(|x| health(x) && x.status < 300).count() as i64;
    let not_ok = r.iter().filter(|x| health(x) && x.status >= 300).count() as i64;
    expect(
        p,
        "82_health_status_classes",
        0,
        &["count"],
        &[vec![E::I(ok)]],
    );
    expect(
        p,
        "82_health_status_classes",
        1,
        &["count"],
        &[vec![E::I(not_ok)]],
    );
    // Tags compared as text: the empty key sorts first.
    let c = count_by(r, |x| in_day(x) && x.key() < "b", |x| vec![s(x.key())]);
    expect(
        p,
        "84_text_tag_comparison",
        0,
        &["key", "count"],
        &count_rows(c),
    );
    let c = count_by(r, |x| in_day(x) && x.key() >= "beta", |x| vec![s(x.key())]);
    expect(
        p,
        "84_text_tag_comparison",
        1,
        &["key", "count"],
        &count_rows(c),
    );
}

fn time_ranges(d: &Data, p: &mut Vec<String>) {
    let between = |from: i64, to: i64| -> Vec<&Req> {
        d.reqs.iter().filter(|r| r.t >= from && r.t < to).collect()
    };
    let x = between(ts("2026-11-02T06:00:00Z"), ts("2026-11-02T18:00:00.5Z"));
    let row = vec![E::I(x.len() as i64), E::I(x.iter().map(|r| r.bytes).sum())];
    expect(p, "29_time_rfc3339", 0, &["count", "sum"], &[row]);
    // Dates in Los Angeles (PST): midnight is 08:00Z.
    let x = between(ts("2026-11-02T08:00:00Z"), ts("2026-11-03T08:00:00Z"));
    expect(
        p,
        "30_time_dates_in_tz",
        0,
        &["count"],
        &[vec![E::I(x.len() as i64)]],
    );
    let x = between(NOW - 90 * M + 1, NOW - 30 * M + 1);
    expect(
        p,
        "31_time_now_durations",
        0,
        &["count"],
        &[vec![E::I(x.len() as i64)]],
    );
    let x = between(ts("2026-11-03T00:00:00Z"), ts("2026-11-04T00:00:00Z"));
    expect(
        p,
        "32_time_epoch_and_flipped",
        0,
        &["count"],
        &[vec![E::I(x.len() as i64)]],
    );
    let x = between(NOW - D, NOW + 1);
    expect(
        p,
        "34_range_edges",
        2,
        &["count"],
        &[vec![E::I(x.len() as i64)]],
    );
}

fn grouping(d: &Data, p: &mut Vec<String>) {
    let day: Vec<&Req> = d.reqs.iter().filter(|r| in_day(r)).collect();
    let mut g: BTreeMap<(&str, &str), (i64, i64)> = BTreeMap::new();
    for r in &day {
        let e = g.entry((r.endpoint, r.key())).or_default();
        e.0 += 1;
        e.1 += r.bytes;
    }
    let rows: Vec<Vec<E>> = g
        .iter()
        .map(|((e, k), (n, b))| vec![t(e), t(k), E::I(*n), E::I(*b)])
        .collect();
    expect(
        p,
        "35_group_tags",
        0,
        &["endpoint", "key", "count", "sum"],
        &rows,
    );

    let (oct, nov4) = (ts("2026-10-01T00:00:00Z"), ts("2026-11-04T00:00:00Z"));
    let mut g: BTreeMap<(&str, &str), (f64, i64)> = BTreeMap::new();
    for c in d.costs.iter().filter(|c| c.t >= oct && c.t < nov4) {
        let e = g.entry((c.platform, c.user)).or_default();
        e.0 += c.usd;
        e.1 += 1;
    }
    let rows: Vec<Vec<E>> = g
        .iter()
        .map(|((pl, u), (s, n))| vec![t(pl), t(u), E::F(*s), E::I(*n)])
        .collect();
    expect(
        p,
        "36_group_star",
        0,
        &["platform", "user", "sum", "count"],
        &rows,
    );

    // Fixed buckets, with offsets.
    let per_bucket = |from: i64, every: i64, offset: i64| -> Vec<Vec<E>> {
        buckets(from, NOW + 1, every, offset)
            .into_iter()
            .map(|b| {
                let here: Vec<f64> = d
                    .reqs
                    .iter()
                    .filter(|r| r.t >= from.max(b) && r.t < b + every && r.t <= NOW)
                    .map(|r| r.latency)
                    .collect();
                vec![tm(b), E::I(here.len() as i64), fo(mean(&here))]
            })
            .collect()
    };
    let rows = per_bucket(NOW - 6 * H, 30 * M, 0);
    expect(p, "37_group_time", 0, &["time", "count", "mean"], &rows);
    let four = ts("2026-11-04T04:00:00Z");
    let counts_only =
        |rows: Vec<Vec<E>>| -> Vec<Vec<E>> { rows.into_iter().map(|r| r[..2].to_vec()).collect() };
    let rows = counts_only(per_bucket(four, 2 * H, 15 * M));
    expect(p, "38_group_time_offset", 0, &["time", "count"], &rows);
    let rows = counts_only(per_bucket(four, 2 * H, 105 * M));
    expect(
        p,
        "39_group_time_negative_offset",
        0,
        &["time", "count"],
        &rows,
    );

    // Calendar buckets: days in UTC and in Los Angeles (1 November has 25 hours there).
    let in_bounds = |bounds: &[i64], from: i64| -> Vec<Vec<E>> {
        bounds
            .windows(2)
            .map(|w| {
                let here: Vec<&Req> = d
                    .reqs
                    .iter()
                    .filter(|r| r.t >= from.max(w[0]) && r.t < w[1] && r.t <= NOW)
                    .collect();
                let sum: i64 = here.iter().map(|r| r.bytes).sum();
                let sum = if here.is_empty() { E::N } else { E::I(sum) };
                vec![tm(w[0]), E::I(here.len() as i64), sum]
            })
            .collect()
    };
    let utc: Vec<i64> = (0..6).map(|i| NOV1 - D + i * D).collect();
    let rows = in_bounds(&utc, NOV1 - D);
    expect(p, "40_group_day_utc", 0, &["time", "count", "sum"], &rows);
    let la: Vec<i64> = [
        "2026-10-31T07:00:00Z",
        "2026-11-01T07:00:00Z",
        "2026-11-02T08:00:00Z",
        "2026-11-03T08:00:00Z",
        "2026-11-04T08:00:00Z",
        "2026-11-05T08:00:00Z",
    ]
    .iter()
    .map(|s| ts(s))
    .collect();
    let rows = counts_only(in_bounds(&la, la[0]));
    expect(p, "41_group_day_los_angeles", 0, &["time", "count"], &rows);
    let rows = counts_only(in_bounds(&utc[1..], NOV1 - 2 * D));
    let rows: Vec<Vec<E>> = rows
        .into_iter()
        .filter(|r| !matches!(r[1], E::I(0)))
        .collect();
    expect(p, "81_group_day_fill_none", 0, &["time", "count"], &rows);

    // Weeks (from Monday) and months in Los Angeles over the costs.
    let weeks: Vec<i64> = [
        "2026-09-28T07:00:00Z",
        "2026-10-05T07:00:00Z",
        "2026-10-12T07:00:00Z",
        "2026-10-19T07:00:00Z",
        "2026-10-26T07:00:00Z",
        "2026-11-02T08:00:00Z",
        "2026-11-09T08:00:00Z",
    ]
    .iter()
    .map(|s| ts(s))
    .collect();
    let rows: Vec<Vec<E>> = weeks
        .windows(2)
        .map(|w| {
            let s: Vec<f64> = d
                .costs
                .iter()
                .filter(|c| c.t >= w[0] && c.t < w[1])
                .map(|c| c.usd)
                .collect();
            vec![
                tm(w[0]),
                if s.is_empty() {
                    E::N
                } else {
                    E::F(s.iter().sum())
                },
            ]
        })
        .collect();
    expect(p, "42_group_week", 0, &["time", "sum"], &rows);
    let months: Vec<i64> = [
        "2026-09-01T07:00:00Z",
        "2026-10-01T07:00:00Z",
        "2026-11-01T07:00:00Z",
        "2026-12-01T08:00:00Z",
    ]
    .iter()
    .map(|s| ts(s))
    .collect();
    let mut rows = Vec::new();
    for platform in ["claude_api", "cursor", "openai"] {
        for w in months.windows(2) {
            let s: Vec<f64> = d
                .costs
                .iter()
                .filter(|c| c.platform == platform && c.t >= w[0] && c.t < w[1])
                .map(|c| c.usd)
                .collect();
            let sum = if s.is_empty() {
                E::N
            } else {
                E::F(s.iter().sum())
            };
            rows.push(vec![tm(w[0]), t(platform), sum, E::I(s.len() as i64)]);
        }
    }
    let cols = ["time", "platform", "sum", "count"];
    expect(p, "43_group_month", 0, &cols, &rows);

    // Heatmap keys.
    let (nov3, nov4) = (NOV1 + 2 * D, NOV1 + 3 * D);
    let c = count_by(
        &d.reqs,
        |r| r.t >= nov3 && r.t < nov4,
        |r| hour_of_week(r.t, 0),
    );
    let rows: Vec<Vec<E>> = c.iter().map(|(h, n)| vec![E::I(*h), E::I(*n)]).collect();
    expect(
        p,
        "44_group_hour_of_week",
        0,
        &["hour_of_week", "count"],
        &rows,
    );
    let mut g: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for r in d.reqs.iter().filter(|r| r.t >= NOW - 7 * D && r.t <= NOW) {
        let e = g.entry(hour_of_week(r.t, la_offset(r.t)) / 24).or_default();
        e.0 += 1;
        e.1 += r.bytes;
    }
    let rows: Vec<Vec<E>> = g
        .iter()
        .map(|(k, (n, b))| vec![E::I(*k), E::I(*k), E::I(*n), E::I(*b)])
        .collect();
    let cols = ["day_of_week", "dow", "count", "sum"];
    expect(p, "45_group_day_of_week", 0, &cols, &rows);
    let six = ts("2026-11-04T06:00:00Z");
    let c = count_by(
        &d.reqs,
        |r| r.t >= six && r.t <= NOW,
        |r| hour_of_week(r.t, 0),
    );
    let rows: Vec<Vec<E>> = c
        .iter()
        .rev()
        .map(|(h, n)| vec![E::I(*h), E::I(*h), E::I(*n)])
        .collect();
    expect(
        p,
        "85_selected_bucket_key",
        0,
        &["hour_of_week", "how", "count"],
        &rows,
    );

    // Groups without a point in the range are left out, whichever tier serves the query.
    let (from, to) = (ts("2026-10-02T00:00:00Z"), ts("2026-10-10T00:00:00Z"));
    let mut g: BTreeMap<(&str, &str), (f64, i64)> = BTreeMap::new();
    for c in d.costs.iter().filter(|c| c.t >= from && c.t < to) {
        let e = g.entry((c.platform, c.user)).or_default();
        e.0 += c.usd;
        e.1 += 1;
    }
    let rows: Vec<Vec<E>> = g
        .iter()
        .map(|((pl, u), (s, n))| vec![t(pl), t(u), E::F(*s), E::I(*n)])
        .collect();
    let cols = ["platform", "user", "sum", "count"];
    expect(p, "86_groups_without_points", 0, &cols, &rows);
    expect(p, "86_groups_without_points", 1, &cols, &rows);
    let (from, to) = (ts("2026-11-04T06:00:00Z"), ts("2026-11-04T09:00:00Z"));
    let ci: Vec<&Req> = d
        .reqs
        .iter()
        .filter(|r| r.key == Some("ci-runner") && r.t >= from && r.t < to)
        .collect();
    let endpoints: BTreeSet<&str> = ci.iter().map(|r| r.endpoint).collect();
    let mut rows = Vec::new();
    for e in endpoints {
        for b in buckets(from, to, H, 0) {
            let here: Vec<&&Req> = ci
                .iter()
                .filter(|r| r.endpoint == e && r.t >= b && r.t < b + H)
                .collect();
            let l: Vec<f64> = here.iter().map(|r| r.latency).collect();
            let bytes: Vec<i64> = here.iter().map(|r| r.bytes).collect();
            let (sum, max) = match bytes.iter().max() {
                Some(m) => (E::I(bytes.iter().sum()), E::I(*m)),
                None => (E::N, E::N),
            };
            rows.push(vec![
                tm(b),
                t(e),
                E::I(here.len() as i64),
                sum,
                fo(min_f(&l)),
                max,
                fo(mean(&l)),
            ]);
        }
    }
    let cols = ["time", "endpoint", "count", "sum", "min", "max", "mean"];
    expect(p, "87_rollups_and_raw_agree", 0, &cols, &rows);
    expect(p, "87_rollups_and_raw_agree", 1, &cols, &rows);
}

fn fills_orders_and_limits(d: &Data, p: &mut Vec<String>) {
    // /health over the last 6 hours in 30-minute buckets: (mean, count) per bucket.
    let from = NOW - 6 * H;
    let health: Vec<(i64, Option<f64>, i64)> = buckets(from, NOW + 1, 30 * M, 0)
        .into_iter()
        .map(|b| {
            let l: Vec<f64> = d
                .reqs
                .iter()
                .filter(|r| r.endpoint == "/health" && r.t >= from.max(b) && r.t < b + 30 * M)
                .filter(|r| r.t <= NOW)
                .map(|r| r.latency)
                .collect();
            (b, mean(&l), l.len() as i64)
        })
        .collect();
    let cols = ["time", "mean", "count"];
    let rows = |means: Vec<Option<f64>>| -> Vec<Vec<E>> {
        health
            .iter()
            .zip(means)
            .map(|((b, _, n), m)| vec![tm(*b), fo(m), E::I(*n)])
            .collect()
    };
    let means: Vec<Option<f64>> = health.iter().map(|h| h.1).collect();
    expect(p, "46_fill_null", 0, &cols, &rows(means.clone()));
    let none: Vec<Vec<E>> = health
        .iter()
        .filter(|h| h.2 > 0)
        .map(|(b, m, n)| vec![tm(*b), fo(*m), E::I(*n)])
        .collect();
    expect(p, "47_fill_none", 0, &cols, &none);
    let mut previous = means.clone();
    for i in 1..previous.len() {
        if previous[i].is_none() {
            previous[i] = previous[i - 1];
        }
    }
    expect(p, "48_fill_previous", 0, &cols, &rows(previous));
    // Linear: only between two known values.
    let known: Vec<usize> = (0..means.len()).filter(|i| means[*i].is_some()).collect();
    let mut linear = means.clone();
    for w in known.windows(2) {
        let (a, b) = (means[w[0]].unwrap(), means[w[1]].unwrap());
        for (j, slot) in linear.iter_mut().enumerate().take(w[1]).skip(w[0] + 1) {
            *slot = Some(a + (b - a) * (j - w[0]) as f64 / (w[1] - w[0]) as f64);
        }
    }
    expect(p, "49_fill_linear", 0, &cols, &rows(linear));
    let zero: Vec<Option<f64>> = means.iter().map(|m| Some(m.unwrap_or(0.0))).collect();
    expect(p, "50_fill_zero", 0, &cols, &rows(zero));
    let half: Vec<Option<f64>> = means.iter().map(|m| Some(m.unwrap_or(1.5))).collect();
    expect(p, "51_fill_float", 0, &cols, &rows(half));

    // FILL(previous) does not carry a value from one group into the next.
    let from = NOW - 2 * H;
    let mut rows = Vec::new();
    for key in ["beta", "ci-runner"] {
        let mut last: Option<f64> = None;
        for b in buckets(from, NOW + 1, 20 * M, 0) {
            let l: Vec<f64> = d
                .reqs
                .iter()
                .filter(|r| r.key == Some(key) && r.t >= from.max(b) && r.t < b + 20 * M)
                .filter(|r| r.t <= NOW)
                .map(|r| r.latency)
                .collect();
            last = max_f(&l).or(last);
            rows.push(vec![tm(b), t(key), fo(last)]);
        }
    }
    expect(
        p,
        "52_fill_previous_per_group",
        0,
        &["time", "key", "max"],
        &rows,
    );

    // ORDER BY, LIMIT and OFFSET (a stable sort: ties keep the group order).
    let day: Vec<&Req> = d.reqs.iter().filter(|r| in_day(r)).collect();
    let mut by_key: Vec<(&str, i64)> = Vec::new();
    for k in ["", "acme", "beta", "ci-runner"] {
        let b = day.iter().filter(|r| r.key() == k).map(|r| r.bytes).sum();
        by_key.push((k, b));
    }
    by_key.sort_by_key(|x| std::cmp::Reverse(x.1));
    let rows: Vec<Vec<E>> = by_key.iter().map(|(k, b)| vec![t(k), E::I(*b)]).collect();
    expect(p, "53_order_aggregate_desc", 0, &["key", "bytes"], &rows);
    let c = count_by(&d.reqs, in_day, |r| r.endpoint);
    let rows: Vec<Vec<E>> = c.iter().rev().map(|(e, n)| vec![t(e), E::I(*n)]).collect();
    expect(p, "54_order_tag_desc", 0, &["endpoint", "count"], &rows);
    let from = NOW - 3 * H;
    let rows: Vec<Vec<E>> = buckets(from, NOW + 1, H, 0)
        .into_iter()
        .rev()
        .map(|b| {
            let n = d
                .reqs
                .iter()
                .filter(|r| r.t >= from.max(b) && r.t < b + H && r.t <= NOW)
                .count();
            vec![tm(b), E::I(n as i64)]
        })
        .collect();
    expect(p, "55_order_time_desc", 0, &["time", "count"], &rows);
    let mut c: Vec<((&str, String), i64)> = count_by(&d.reqs, in_day, |r| (r.method, r.class()))
        .into_iter()
        .collect();
    c.sort_by(|a, b| b.1.cmp(&a.1).then(a.0 .0.cmp(b.0 .0)));
    let rows: Vec<Vec<E>> = c
        .iter()
        .take(5)
        .map(|((m, cl), n)| vec![t(m), t(cl), E::I(*n)])
        .collect();
    expect(
        p,
        "56_order_two_columns",
        0,
        &["method", "status_class", "n"],
        &rows,
    );
    let mut c: Vec<((&str, &str), i64)> = count_by(&d.reqs, in_day, |r| (r.endpoint, r.key()))
        .into_iter()
        .collect();
    c.sort_by_key(|x| std::cmp::Reverse(x.1));
    let rows: Vec<Vec<E>> = c
        .iter()
        .skip(2)
        .take(3)
        .map(|((e, k), n)| vec![t(e), t(k), E::I(*n)])
        .collect();
    expect(p, "57_limit_offset", 0, &["endpoint", "key", "n"], &rows);
}

/// `EXPLAIN` names how many series the tag index picks.
fn explain_series(d: &Data, p: &mut Vec<String>) {
    let series = |keep: &dyn Fn(&Req) -> bool| -> usize {
        d.reqs
            .iter()
            .filter(|r| keep(r))
            .map(|r| (r.endpoint, r.key, r.method, r.status))
            .collect::<BTreeSet<_>>()
            .len()
    };
    for (name, n) in [
        (
            "70_explain_rollups",
            series(&|r| r.endpoint == "/api/users"),
        ),
        ("71_explain_raw", series(&|_| true)),
        (
            "72_explain_analyze",
            series(&|r| r.key == Some("ci-runner")),
        ),
    ] {
        let want = format!("series: {n} picked by the tag index");
        let tables = read_out(name);
        if !tables[0].rows.iter().any(|r| r[0].starts_with(&want)) {
            p.push(format!("{name}: no line starting `{want}`"));
        }
    }
    // SHOW TAG VALUES: the values of the series matching the condition.
    let beta: BTreeSet<&str> = d
        .reqs
        .iter()
        .filter(|r| r.key == Some("beta"))
        .map(|r| r.endpoint)
        .collect();
    let rows: Vec<Vec<E>> = beta
        .iter()
        .map(|e| vec![t("requests"), t("endpoint"), t(e)])
        .collect();
    expect(
        p,
        "67_show_tag_values",
        0,
        &["measurement", "key", "value"],
        &rows,
    );
    let kept = d.costs.iter().filter(|c| c.platform != "openai");
    let platforms: BTreeSet<&str> = kept.clone().map(|c| c.platform).collect();
    let users: BTreeSet<&str> = kept.map(|c| c.user).collect();
    let rows: Vec<Vec<E>> = platforms
        .iter()
        .map(|v| vec![t("ai_cost"), t("platform"), t(v)])
        .chain(users.iter().map(|v| vec![t("ai_cost"), t("user"), t(v)]))
        .collect();
    expect(
        p,
        "68_show_tag_values_in",
        0,
        &["measurement", "key", "value"],
        &rows,
    );
    // Qualified names read the same measurement; no series matching gives no group.
    let n = d.reqs.iter().filter(|r| in_day(r)).count() as i64;
    for stmt in 0..3 {
        expect(
            p,
            "76_qualified_sources",
            stmt,
            &["count"],
            &[vec![E::I(n)]],
        );
    }
    expect(p, "78_no_match_grouped", 0, &["endpoint", "count"], &[]);

    // 79: a query over several lines with comments.
    let mut by_method: Vec<(&str, i64, i64)> = Vec::new();
    for m in ["DELETE", "GET", "POST"] {
        let mine: Vec<&Req> = d
            .reqs
            .iter()
            .filter(|r| r.key == Some("acme") && r.method == m)
            .filter(|r| r.t >= NOV1 + 3 * D && r.t <= NOW)
            .collect();
        if !mine.is_empty() {
            by_method.push((m, mine.len() as i64, mine.iter().map(|r| r.bytes).sum()));
        }
    }
    by_method.sort_by_key(|x| std::cmp::Reverse(x.1));
    let rows: Vec<Vec<E>> = by_method
        .iter()
        .map(|(m, n, b)| vec![t(m), E::I(*n), E::I(*b)])
        .collect();
    expect(
        p,
        "79_comments_and_case",
        0,
        &["method", "n", "bytes"],
        &rows,
    );
}

fn raw_row(r: &Req) -> Vec<E> {
    vec![
        tm(r.t),
        E::I(r.bytes),
        E::F(r.latency),
        t(r.endpoint),
        t(r.key()),
        t(r.method),
        E::T(r.status.to_string()),
        E::T(r.class()),
    ]
}

fn raw_selects(d: &Data, p: &mut Vec<String>) {
    let star = [
        "time",
        "bytes_out",
        "latency_ms",
        "endpoint",
        "key",
        "method",
        "status",
        "status_class",
    ];
    let recent = |since: i64| -> Vec<&Req> {
        d.reqs
            .iter()
            .filter(|r| r.t > since && r.t <= NOW)
            .collect()
    };
    let rows: Vec<Vec<E>> = recent(NOW - 20 * M).into_iter().map(raw_row).collect();
    expect(p, "58_raw_star", 0, &star, &rows);
    let rows: Vec<Vec<E>> = recent(NOW - H)
        .into_iter()
        .filter(|r| r.key == Some("beta"))
        .map(|r| {
            let s = r.status.to_string();
            vec![
                tm(r.t),
                E::F(r.latency),
                E::I(r.bytes),
                t(r.endpoint),
                E::T(s),
            ]
        })
        .collect();
    let cols = ["time", "latency_ms", "bytes_out", "endpoint", "status"];
    expect(p, "59_raw_fields_and_tags", 0, &cols, &rows);
    let rows: Vec<Vec<E>> = recent(NOW - 30 * M)
        .into_iter()
        .map(|r| {
            vec![
                tm(r.t),
                E::F(r.latency / 1000.0),
                E::I(r.bytes * 8),
                t(&(r.latency > 100.0).to_string()),
                t(&(r.status >= 500).to_string()),
                E::I(-r.bytes),
            ]
        })
        .collect();
    let cols = ["time", "seconds", "bits", "slow", "failed", "-bytes_out"];
    expect(p, "60_raw_expressions", 0, &cols, &rows);
    let rows: Vec<Vec<E>> = recent(NOW - D)
        .into_iter()
        .rev()
        .skip(1)
        .take(3)
        .map(|r| vec![tm(r.t), E::F(r.latency), t(r.key())])
        .collect();
    expect(
        p,
        "61_raw_order_limit_offset",
        0,
        &["time", "l", "key"],
        &rows,
    );
    // Both points of the same nanosecond, in the order they were written.
    let rows: Vec<Vec<E>> = d
        .reqs
        .iter()
        .filter(|r| r.t == NOV1 + 2 * D)
        .map(raw_row)
        .collect();
    expect(p, "62_raw_same_timestamp", 0, &star, &rows);
    let edge: Vec<Vec<E>> = d
        .reqs
        .iter()
        .filter(|r| r.t == NOW - D)
        .map(raw_row)
        .collect();
    expect(p, "34_range_edges", 0, &star, &edge);
    let edge: Vec<Vec<E>> = d.reqs.iter().filter(|r| r.t == NOW).map(raw_row).collect();
    expect(p, "34_range_edges", 1, &star, &edge);
}

fn metrics_and_params(d: &Data, p: &mut Vec<String>) {
    let since_nov1: Vec<&Usage> = d.usage.iter().filter(|u| u.t >= NOV1).collect();
    let mut rows8 = Vec::new();
    let mut rows80 = Vec::new();
    for (platform, user) in [
        ("claude_api", "ana"),
        ("claude_api", "bo"),
        ("cursor", "ana"),
    ] {
        let mine: Vec<&&Usage> = since_nov1
            .iter()
            .filter(|u| u.platform == platform && u.user == user)
            .collect();
        let n = mine.len() as i64;
        let cached = mine.iter().filter(|u| u.cached.is_some()).count() as i64;
        rows8.push(vec![
            t(platform),
            t(user),
            E::I(n),
            E::I(n),
            E::I(n),
            E::I(cached),
        ]);
        let tokens: Vec<i64> = mine.iter().map(|u| u.tokens).collect();
        let sum: i64 = tokens.iter().sum();
        rows80.push(vec![
            t(platform),
            t(user),
            E::I(sum),
            E::F(sum as f64 / n as f64),
            E::I(*tokens.iter().min().unwrap()),
            E::I(*tokens.iter().max().unwrap()),
            t(mine.iter().max_by_key(|u| u.t).unwrap().model),
            t(mine.iter().min_by_key(|u| u.t).unwrap().model),
        ]);
    }
    let cols = ["platform", "user", "count", "count_1", "count_2", "count_3"];
    expect(p, "08_count_fields", 0, &cols, &rows8);
    let cols = [
        "platform", "user", "sum", "mean", "min", "max", "last", "first",
    ];
    expect(p, "80_integer_and_metric_sums", 0, &cols, &rows80);
    let from = ts("2026-11-03T12:00:00Z");
    let mut ana: Vec<&Usage> = d
        .usage
        .iter()
        .filter(|u| u.user == "ana" && u.t >= from && u.t <= NOW)
        .collect();
    ana.sort_by_key(|u| (u.t, u.platform));
    let rows: Vec<Vec<E>> = ana
        .iter()
        .map(|u| {
            let cached = u.cached.map_or(E::N, |c| t(&c.to_string()));
            vec![tm(u.t), t(u.model), cached, E::I(u.tokens), t(u.platform)]
        })
        .collect();
    let cols = ["time", "model", "cached", "tokens", "platform"];
    expect(p, "63_raw_strings_booleans", 0, &cols, &rows);
    let (from, to) = (ts("2026-10-14T00:00:00Z"), ts("2026-10-17T00:00:00Z"));
    let rows: Vec<Vec<E>> = d
        .costs
        .iter()
        .filter(|c| c.platform == "claude_api" && c.user == "ana" && c.t >= from && c.t < to)
        .map(|c| vec![tm(c.t), E::F(c.usd)])
        .collect();
    expect(p, "64_raw_last_write_wins", 0, &["time", "cost_usd"], &rows);
    let all_costs = d.costs.iter().filter(|c| c.t <= NOW).count() as i64;
    let all_usage = d.usage.iter().filter(|u| u.t <= NOW).count() as i64;
    expect(
        p,
        "83_several_statements",
        0,
        &["count"],
        &[vec![E::I(all_costs)]],
    );
    expect(
        p,
        "83_several_statements",
        1,
        &["count"],
        &[vec![E::I(all_usage)]],
    );

    // Parameters.
    let from = ts("2026-11-03T00:00:00Z");
    let beta: Vec<&Req> = d
        .reqs
        .iter()
        .filter(|r| r.t >= from && r.t <= NOW && r.key == Some("beta"))
        .collect();
    let endpoints: BTreeSet<&str> = beta.iter().map(|r| r.endpoint).collect();
    let row = vec![E::I(beta.len() as i64), E::I(endpoints.len() as i64)];
    expect(
        p,
        "73_params_key_from",
        0,
        &["count", "count_distinct"],
        &[row],
    );
    let mut g: BTreeMap<&str, f64> = BTreeMap::new();
    for c in d
        .costs
        .iter()
        .filter(|c| c.user == "ana" && c.t > NOW - 6 * D && c.t <= NOW)
    {
        *g.entry(c.platform).or_default() += c.usd;
    }
    let rows: Vec<Vec<E>> = g.iter().map(|(pl, s)| vec![t(pl), E::F(*s)]).collect();
    expect(p, "74_params_window", 0, &["platform", "sum"], &rows);
    let n = d
        .reqs
        .iter()
        .filter(|r| in_day(r) && r.status >= 500 && r.latency > 250.5)
        .count() as i64;
    let row = vec![E::I(n), E::F(n as f64 / 1440.0)];
    expect(p, "75_params_numbers", 0, &["count", "rate"], &[row]);
}
