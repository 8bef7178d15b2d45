//! Saved queries through the real binary: saved over `PUT /queries/NAME`, run by name over HTTP
//! and with `tally saved run`, still there after a restart, deleted; `tally saved`'s other
//! commands; errors with line, column and caret, missing and ill-typed parameters; and a
//! damaged `saved_queries.json` stopping start-up with a message that names it.

// Test code: a panic with the failed call's error is the failure report, helpers included
// (clippy's allow-unwrap-in-tests only covers #[test] functions themselves).
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use tally_tests::{tally_bin, Response, Tally};

/// Key k1 calls /a and /b, key k2 calls /a, all on 2026-01-01; one k1 call the day before.
const LINES: &str = "requests,endpoint=/a,key=k1 latency_ms=12.5 1767225600000000000\n\
                     requests,endpoint=/b,key=k1 latency_ms=80 1767225660000000000\n\
                     requests,endpoint=/a,key=k2 latency_ms=20 1767225720000000000\n\
                     requests,endpoint=/a,key=k1 latency_ms=5 1767139200000000000\n";

/// Requests of one key per endpoint, from `$from` (default: 2026-01-01) to 2026-01-02.
const BY_KEY: &str = "SELECT count(latency_ms) AS n FROM requests \
                      WHERE key = $key AND time >= $from AND time < '2026-01-02' \
                      GROUP BY endpoint";

fn started() -> Tally {
    let tally = Tally::start().unwrap();
    tally.write_ok(LINES).unwrap();
    tally
}

fn json_call(tally: &Tally, method: &str, path: &str, body: &Value) -> Response {
    tally
        .http(
            method,
            path,
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
        .unwrap()
}

fn save_by_key(tally: &Tally) -> Response {
    json_call(
        tally,
        "PUT",
        "/queries/requests_by_key",
        &json!({
            "description": "Requests of one API key per endpoint",
            "query": BY_KEY,
            "params": [
                {"name": "key", "type": "string", "description": "the API key"},
                {"name": "from", "type": "time", "default": "2026-01-01"}
            ]
        }),
    )
}

/// The `[endpoint, n]` rows of an answer of [`BY_KEY`].
fn counts(r: &Response) -> Vec<(String, i64)> {
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json().unwrap();
    let columns: Vec<&str> = j["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let endpoint = columns.iter().position(|c| *c == "endpoint").unwrap();
    let n = columns.iter().position(|c| *c == "n").unwrap();
    j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row[endpoint].as_str().unwrap().to_owned(),
                row[n].as_i64().unwrap(),
            )
        })
        .collect()
}

fn names(tally: &Tally) -> Vec<String> {
    let r = tally.get("/queries").unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    r.json().unwrap()["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs `tally ARGS --addr <the server>`; returns its output.
fn cli(tally: &Tally, args: &[&str]) -> Output {
    let mut child = Command::new(tally_bin().unwrap())
        .args(args)
        .arg("--addr")
        .arg(tally.http_addr().to_string())
        .env_remove("TALLY_HTTP_ADDR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"").unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn saved_over_http_run_by_name_kept_across_restarts_and_deleted() {
    let mut tally = started();
    let r = save_by_key(&tally);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json().unwrap()["name"], "requests_by_key");

    let want = vec![("/a".to_owned(), 1), ("/b".to_owned(), 1)];
    assert_eq!(
        counts(&tally.get("/queries/requests_by_key/run?key=k1").unwrap()),
        want
    );
    // The day before is in range when $from says so.
    let r = tally
        .get("/queries/requests_by_key/run?key=k1&from=2025-12-31")
        .unwrap();
    assert_eq!(counts(&r), vec![("/a".to_owned(), 2), ("/b".to_owned(), 1)]);
    let r = json_call(
        &tally,
        "POST",
        "/queries/requests_by_key/run",
        &json!({"params": {"key": "k2"}}),
    );
    assert_eq!(counts(&r), vec![("/a".to_owned(), 1)]);
    let r = tally
        .get("/queries/requests_by_key/run?key=k1&format=csv")
        .unwrap();
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(r.text(), "endpoint,n\n/a,1\n/b,1\n");

    // Replacing keeps one query of that name.
    let r = save_by_key(&tally);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(names(&tally), ["requests_by_key"]);

    // A graceful stop and a SIGKILL both keep it: it was durable when the PUT answered.
    tally.terminate().unwrap();
    tally.restart().unwrap();
    assert_eq!(names(&tally), ["requests_by_key"]);
    tally.kill();
    tally.restart().unwrap();
    let r = tally.get("/queries/requests_by_key").unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let q = r.json().unwrap();
    assert_eq!(q["query"], BY_KEY);
    assert_eq!(
        q["params"][1],
        json!({"name": "from", "type": "time", "default": "2026-01-01"})
    );
    assert_eq!(
        counts(&tally.get("/queries/requests_by_key/run?key=k1").unwrap()),
        want
    );

    let r = tally
        .http("DELETE", "/queries/requests_by_key", &[], b"")
        .unwrap();
    assert_eq!(r.status, 204, "{}", r.text());
    let r = tally.get("/queries/requests_by_key/run?key=k1").unwrap();
    assert_eq!(r.status, 404, "{}", r.text());
    tally.kill();
    tally.restart().unwrap();
    assert!(names(&tally).is_empty());
}

#[test]
fn errors_point_at_the_text_or_name_the_parameter() {
    let tally = started();
    let r = json_call(
        &tally,
        "PUT",
        "/queries/broken",
        &json!({"query": "SELECT count(*)\nFORM requests"}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let j = r.json().unwrap();
    assert_eq!(
        (j["line"].clone(), j["column"].clone()),
        (json!(2), json!(1)),
        "{j}"
    );
    assert!(
        j["detail"]
            .as_str()
            .unwrap()
            .ends_with("\n  FORM requests\n  ^^^^"),
        "{j}"
    );

    let r = json_call(
        &tally,
        "PUT",
        "/queries/undeclared",
        &json!({"query": "SELECT count(*) FROM requests WHERE key = $key"}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let j = r.json().unwrap();
    assert_eq!(j["column"], 43, "{j}");
    assert!(
        j["error"]
            .as_str()
            .unwrap()
            .starts_with("parameter $key is not declared"),
        "{j}"
    );
    assert!(names(&tally).is_empty());

    assert_eq!(save_by_key(&tally).status, 201);
    let r = tally.get("/queries/requests_by_key/run").unwrap();
    assert_eq!(r.status, 400);
    let e = r.json().unwrap()["error"].as_str().unwrap().to_owned();
    assert!(
        e.starts_with("saved query `requests_by_key` needs $key (string)"),
        "{e}"
    );
    let r = tally
        .get("/queries/requests_by_key/run?key=k1&from=last+tuesday")
        .unwrap();
    assert_eq!(r.status, 400);
    let e = r.json().unwrap()["error"].as_str().unwrap().to_owned();
    assert!(
        e.starts_with("parameter $from must be a time such as '2026-10-01T00:00:00Z'")
            && e.ends_with("not `last tuesday`"),
        "{e}"
    );
    let r = tally
        .get("/queries/requests_by_key/run?key=k1&kye=k2")
        .unwrap();
    assert_eq!(r.status, 400);
    assert!(r.text().contains("did you mean $key?"), "{}", r.text());
    let r = tally.get("/queries/requests_by_kye/run?key=k1").unwrap();
    assert_eq!(r.status, 404);
    assert!(
        r.text().contains("did you mean `requests_by_key`?"),
        "{}",
        r.text()
    );
}

#[test]
fn the_cli_saves_lists_shows_runs_and_deletes() {
    let tally = started();
    let out = cli(
        &tally,
        &[
            "saved",
            "save",
            "requests_by_key",
            "--query",
            BY_KEY,
            "--param-type",
            "key=string",
            "--param-type",
            "from=time",
            "--default",
            "from=2026-01-01",
            "--description",
            "Requests of one API key",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "saved `requests_by_key`\n");

    let out = cli(&tally, &["saved", "list", "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = text(&out.stdout);
    assert!(
        list.starts_with(
            "name,params,description,updated_at\n\
             requests_by_key,\"$key string, $from time = \"\"2026-01-01\"\"\",Requests of one API key,"
        ),
        "{list}"
    );
    let out = cli(&tally, &["saved", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).ends_with("(1 row)\n"),
        "{}",
        text(&out.stdout)
    );

    let out = cli(&tally, &["saved", "show", "requests_by_key"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.starts_with(
            "name:        requests_by_key\n\
             description: Requests of one API key\n\
             params:      $key string\n             \
             $from time = \"2026-01-01\"\n"
        ) && shown.ends_with(&format!("\n{BY_KEY}\n")),
        "{shown}"
    );
    let out = cli(&tally, &["saved", "show", "requests_by_key", "--json"]);
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["query"], BY_KEY);

    let out = cli(
        &tally,
        &[
            "saved",
            "run",
            "requests_by_key",
            "--param",
            "key=k1",
            "--format",
            "csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "endpoint,n\n/a,1\n/b,1\n");
    let out = cli(
        &tally,
        &[
            "saved",
            "run",
            "requests_by_key",
            "--param",
            "key=k1",
            "--param",
            "from=2025-12-31",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "endpoint | n\n---------+--\n/a       | 2\n/b       | 1\n(2 rows)\n"
    );

    // Refusals go to stderr with exit code 1.
    let out = cli(&tally, &["saved", "run", "requests_by_key"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: saved query `requests_by_key` needs $key (string)")
            && err.contains("--param key=VALUE"),
        "{err}"
    );
    let out = cli(
        &tally,
        &[
            "saved",
            "save",
            "bad",
            "--query",
            "SELECT count(*) FORM requests",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error at line 1, column 17: ")
            && err.ends_with("\n  SELECT count(*) FORM requests\n                  ^^^^\n"),
        "{err}"
    );
    let out = cli(
        &tally,
        &[
            "saved",
            "save",
            "bad",
            "--query",
            "SELECT count(*) FROM requests WHERE key = $key",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--param-type key=string"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(&tally, &["saved", "show", "a b"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the name `a b` has ' '"),
        "{}",
        text(&out.stderr)
    );

    let out = cli(&tally, &["saved", "delete", "requests_by_key"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "deleted `requests_by_key`\n");
    let out = cli(&tally, &["saved", "show", "requests_by_key"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "error: no saved query named `requests_by_key`; GET /queries lists them (tally saved list)\n"
    );
}

#[test]
fn a_damaged_file_stops_start_up_and_names_it() {
    let mut tally = started();
    assert_eq!(save_by_key(&tally).status, 201);
    tally.terminate().unwrap();
    let file = tally.data_dir().join("saved_queries.json");
    let good = std::fs::read(&file).unwrap();
    std::fs::write(&file, &good[..good.len() / 2]).unwrap();

    let err = format!("{:#}", tally.restart().unwrap_err());
    assert!(
        err.contains(&format!(
            "cannot start: corrupt {}: not valid JSON",
            file.display()
        )) && err.contains("fix it by hand, or move it out of the data directory"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        &good[..good.len() / 2],
        "the damaged file is left for a person to repair"
    );

    std::fs::write(&file, &good).unwrap();
    tally.restart().unwrap();
    assert_eq!(names(&tally), ["requests_by_key"]);
}
