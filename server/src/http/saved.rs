//! `/queries`: saved queries (see [`crate::saved`]) over HTTP.
//!
//! - `GET /queries`: `{"queries": [saved query, ...]}`, by name.
//! - `GET /queries/NAME`: one saved query, `{"name", "description", "query", "params":
//!   [{"name", "type", "default"?, "description"?}], "created_at", "updated_at"}`.
//! - `PUT /queries/NAME` (or `POST`) with the JSON body `{"query", "description"?, "params"?}`:
//!   saves it; 201 with the saved query when new, 200 when it replaced one. 400 `{"error",
//!   "line", "column", "detail"}` as `/query` answers when the text does not parse or uses a
//!   parameter it does not declare; 400 `{"error"}` for any other mistake.
//! - `DELETE /queries/NAME`: 204; 404 when there is none.
//! - `GET|POST /queries/NAME/run`: runs it. Parameter values come from the query string
//!   (`?key=k1&from=2026-01-01`), a `params` JSON object (query string or body) or a JSON body
//!   `{"params": {...}, "now": ..., "epoch": ..., "format": ...}`; a missing value takes the
//!   parameter's default. `now`, `epoch` and `format` (and `Accept: text/csv`) work as for
//!   `/query`, and so do the answers, the parse errors and the budgets. 400 names missing,
//!   unknown or ill-typed parameters.
//!
//! An unknown name is 404, with the closest saved name when one is close.

use super::query::{self, read_body};
use super::reply::{self, Body};
use crate::app::App;
use crate::saved::{QuerySpec, SavedQueries, SavedQuery};
use bytes::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};
use std::sync::{Arc, PoisonError};

/// Answers a request for a path under `/queries`, with the label it is counted under.
pub(super) async fn route<B>(
    req: Request<B>,
    app: &Arc<App>,
    path: &str,
) -> (&'static str, Response<Body>)
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let method = req.method().clone();
    let get = method == Method::GET || method == Method::HEAD;
    let rest = path.strip_prefix("/queries").unwrap_or(path);
    if rest.is_empty() {
        let resp = if get {
            list(app)
        } else {
            reply::method_not_allowed(&method, path, "GET")
        };
        return ("/queries", resp);
    }
    let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        [name] if !name.is_empty() => {
            let resp = if get {
                show(app, name)
            } else if method == Method::PUT || method == Method::POST {
                save(req, app, name).await
            } else if method == Method::DELETE {
                delete(app, name).await
            } else {
                reply::method_not_allowed(&method, path, "GET, PUT, DELETE")
            };
            ("/queries/{name}", resp)
        }
        [name, "run"] if !name.is_empty() => {
            let resp = if get || method == Method::POST {
                run(req, app, name).await
            } else {
                reply::method_not_allowed(&method, path, "GET, POST")
            };
            ("/queries/{name}/run", resp)
        }
        _ => (
            "/queries",
            reply::error(
                StatusCode::NOT_FOUND,
                format!(
                    "no route for {method} {path}; saved queries are at GET /queries, \
                     GET|PUT|DELETE /queries/NAME and GET|POST /queries/NAME/run"
                ),
            ),
        ),
    }
}

/// 500 when the saved queries did not load at start-up (the message says why).
fn unavailable(reason: &str) -> Response<Body> {
    reply::error(StatusCode::INTERNAL_SERVER_ERROR, reason.to_owned())
}

/// 404 for `name`, naming the closest saved query when one is close.
fn not_found(store: &SavedQueries, name: &str) -> Response<Body> {
    let mut message = format!("no saved query named `{name}`");
    match store.closest(name) {
        Some(s) => message.push_str(&format!("; did you mean `{s}`?")),
        None => message.push_str("; GET /queries lists them (tally saved list)"),
    }
    reply::error(StatusCode::NOT_FOUND, message)
}

fn list(app: &Arc<App>) -> Response<Body> {
    let guard = app.saved.read().unwrap_or_else(PoisonError::into_inner);
    match &*guard {
        Ok(store) => {
            let queries: Vec<&SavedQuery> = store.list().collect();
            reply::json(StatusCode::OK, &json!({ "queries": queries }))
        }
        Err(reason) => unavailable(reason),
    }
}

fn show(app: &Arc<App>, name: &str) -> Response<Body> {
    let guard = app.saved.read().unwrap_or_else(PoisonError::into_inner);
    match &*guard {
        Ok(store) => match store.get(name) {
            Some(q) => reply::json(StatusCode::OK, &json!(q)),
            None => not_found(store, name),
        },
        Err(reason) => unavailable(reason),
    }
}

async fn save<B>(req: Request<B>, app: &Arc<App>, name: &str) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let body = match read_body(req.into_body()).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let spec: QuerySpec = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => {
            return reply::error(
                StatusCode::BAD_REQUEST,
                format!(
                    "the body is not a saved query ({e}); send JSON such as {{\"query\": \
                     \"SELECT count(*) FROM requests WHERE key = $key\", \"description\": \
                     \"...\", \"params\": [{{\"name\": \"key\", \"type\": \"string\"}}]}}"
                ),
            )
        }
    };
    let app2 = Arc::clone(app);
    let name2 = name.to_owned();
    // Saving fsyncs the file and a directory: a blocking thread, not the runtime's.
    let saved = tokio::task::spawn_blocking(move || {
        let mut guard = app2.saved.write().unwrap_or_else(PoisonError::into_inner);
        match &mut *guard {
            Ok(store) => Ok(store.save(&name2, spec, chrono::Utc::now())),
            Err(reason) => Err(reason.clone()),
        }
    })
    .await;
    match saved {
        Ok(Ok(Ok((q, created)))) => {
            tracing::info!(name = %q.name, created, "saved query stored");
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            reply::json(status, &json!(q))
        }
        Ok(Ok(Err(e))) => store_error(&e),
        Ok(Err(reason)) => unavailable(&reason),
        Err(join) => panicked(&join),
    }
}

async fn delete(app: &Arc<App>, name: &str) -> Response<Body> {
    let app2 = Arc::clone(app);
    let name2 = name.to_owned();
    let deleted = tokio::task::spawn_blocking(move || {
        let mut guard = app2.saved.write().unwrap_or_else(PoisonError::into_inner);
        match &mut *guard {
            Ok(store) => Ok(match store.delete(&name2) {
                Ok(Some(_)) => None,
                Ok(None) => Some(not_found(store, &name2)),
                Err(e) => Some(store_error(&e)),
            }),
            Err(reason) => Err(reason.clone()),
        }
    })
    .await;
    match deleted {
        Ok(Ok(None)) => {
            tracing::info!(name, "saved query deleted");
            reply::no_content()
        }
        Ok(Ok(Some(resp))) => resp,
        Ok(Err(reason)) => unavailable(&reason),
        Err(join) => panicked(&join),
    }
}

async fn run<B>(req: Request<B>, app: &Arc<App>, name: &str) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let saved = {
        let guard = app.saved.read().unwrap_or_else(PoisonError::into_inner);
        match &*guard {
            Ok(store) => match store.get(name) {
                Some(q) => q.clone(),
                None => return not_found(store, name),
            },
            Err(reason) => return unavailable(reason),
        }
    };
    let request = match query::read_request(req).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    if request.text.is_some() {
        return reply::error(
            StatusCode::BAD_REQUEST,
            format!(
                "/queries/{name}/run runs the saved text and takes no query (q or a text body); \
                 give parameters as ?KEY=VALUE or a JSON body {{\"params\": {{...}}}}, or run \
                 other text with /query"
            ),
        );
    }
    let stmts = match tally_query::parse_statements(&saved.query) {
        Ok(s) => s,
        Err(p) => return query::parse_error(&p),
    };
    let given: Vec<(String, Value)> = request
        .others
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .chain(request.params.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    let params = match saved.bind(&stmts, &given) {
        Ok(p) => p,
        Err(msg) => return reply::error(StatusCode::BAD_REQUEST, msg),
    };
    query::answer(app, saved.query, params, &request).await
}

/// The answer to a save or delete that failed.
fn store_error(e: &crate::saved::SavedError) -> Response<Body> {
    use crate::saved::SavedError;
    match e {
        SavedError::Query(p) => query::parse_error(p),
        SavedError::Invalid(msg) => reply::error(StatusCode::BAD_REQUEST, msg.clone()),
        SavedError::Io { .. } | SavedError::Corrupt { .. } => {
            tracing::error!(error = %e, "saved queries could not be written");
            reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("{e}; nothing was changed; the server log has details"),
            )
        }
    }
}

fn panicked(join: &tokio::task::JoinError) -> Response<Body> {
    tracing::error!(error = %join, "a saved-query worker panicked");
    reply::error(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            "internal error while changing the saved queries ({join}); this is a bug in tally, \
             please report it with the server log"
        ),
    )
}

/// Handler tests against a real database in a temporary directory, through the router (no
/// sockets), as in `http/tests.rs`.
#[cfg(test)]
mod tests {
    use super::super::router::route;
    use crate::app::App;
    use crate::config::Settings;
    use http_body_util::{BodyExt, Full};
    use hyper::{Method, Request, StatusCode};
    use serde_json::{json, Value};
    use std::sync::Arc;
    use tally_engine::{Db, RetentionPolicy};
    use tempfile::TempDir;

    fn app() -> (TempDir, Arc<App>) {
        let dir = tempfile::tempdir().unwrap();
        let app = app_in(&dir);
        (dir, app)
    }

    fn app_in(dir: &TempDir) -> Arc<App> {
        let mut s = Settings {
            data_dir: dir.path().to_path_buf(),
            ..Settings::default()
        };
        // The tests write timestamps near 1970; the default retention would hide them at once.
        s.engine.retention = RetentionPolicy::forever();
        let db = Db::open(dir.path(), s.engine.clone()).unwrap();
        App::new(Arc::new(db), s)
    }

    struct Answer {
        status: StatusCode,
        content_type: String,
        body: bytes::Bytes,
    }

    impl Answer {
        fn json(&self) -> Value {
            serde_json::from_slice(&self.body).unwrap_or_else(|e| {
                panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body))
            })
        }

        fn error(&self) -> String {
            self.json()["error"].as_str().unwrap().to_owned()
        }
    }

    async fn call(app: &Arc<App>, method: Method, uri: &str, json_body: Option<Value>) -> Answer {
        let mut req = Request::builder().method(method).uri(uri);
        let body = match json_body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                v.to_string()
            }
            None => String::new(),
        };
        let resp = route(req.body(Full::new(bytes::Bytes::from(body))).unwrap(), app).await;
        let status = resp.status();
        let content_type = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            content_type,
            body,
        }
    }

    async fn put(app: &Arc<App>, name: &str, body: Value) -> Answer {
        call(app, Method::PUT, &format!("/queries/{name}"), Some(body)).await
    }

    /// Two keys' requests at 1, 2 and 3 s after the epoch, and a saved query counting one key's
    /// requests since `$from` (default: the epoch).
    async fn app_with_requests() -> (TempDir, Arc<App>) {
        let (d, app) = app();
        let lines = "requests,key=k1,endpoint=/a ms=10 1000000000\n\
                     requests,key=k1,endpoint=/b ms=20 2000000000\n\
                     requests,key=k2,endpoint=/a ms=30 3000000000\n";
        let req = Request::post("/write")
            .body(Full::new(bytes::Bytes::from(lines)))
            .unwrap();
        assert_eq!(route(req, &app).await.status(), StatusCode::NO_CONTENT);
        let a = put(
            &app,
            "by_key",
            json!({
                "description": "requests of one key",
                "query": "SELECT count(ms) FROM requests WHERE key = $key AND time >= $from AND time < 1h",
                "params": [
                    {"name": "key", "type": "string", "description": "the API key"},
                    {"name": "from", "type": "time", "default": "1970-01-01T00:00:01.5Z"}
                ]
            }),
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        (d, app)
    }

    fn count(a: &Answer) -> i64 {
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let j = a.json();
        j["rows"][0]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .as_i64()
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn saved_queries_are_created_listed_shown_replaced_and_deleted() {
        let (_d, app) = app();
        let a = call(&app, Method::GET, "/queries", None).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.json(), json!({"queries": []}));

        let body = json!({
            "description": "measurements",
            "query": "SHOW TAG VALUES FROM requests WITH KEY = endpoint WHERE key = $key",
            "params": [{"name": "key", "type": "string", "default": "k1"}]
        });
        let a = put(&app, "endpoints", body.clone()).await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        let created = a.json();
        assert_eq!(created["name"], "endpoints");
        assert_eq!(
            created["params"],
            json!([{"name": "key", "type": "string", "default": "k1"}])
        );
        assert_eq!(created["created_at"], created["updated_at"]);

        // What GET answers can be sent back as it is.
        let shown = call(&app, Method::GET, "/queries/endpoints", None).await;
        assert_eq!(shown.json(), created);
        let mut edited = shown.json();
        edited["description"] = json!("endpoints of a key");
        let a = put(&app, "endpoints", edited).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        assert_eq!(a.json()["description"], "endpoints of a key");
        assert_eq!(a.json()["created_at"], created["created_at"]);
        // POST saves too.
        let a = call(
            &app,
            Method::POST,
            "/queries/m",
            Some(json!({"query": "SHOW MEASUREMENTS"})),
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);

        let list = call(&app, Method::GET, "/queries", None).await.json();
        let names: Vec<&str> = list["queries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["endpoints", "m"]);

        let a = call(&app, Method::GET, "/queries/endpionts", None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        assert_eq!(
            a.error(),
            "no saved query named `endpionts`; did you mean `endpoints`?"
        );
        let a = call(&app, Method::DELETE, "/queries/endpoints", None).await;
        assert_eq!(a.status, StatusCode::NO_CONTENT);
        assert!(a.body.is_empty());
        let a = call(&app, Method::DELETE, "/queries/endpoints", None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        assert!(
            a.error().contains("GET /queries lists them"),
            "{}",
            a.error()
        );
        let a = call(&app, Method::GET, "/queries/endpoints/run", None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);

        // What the API answers is what is on disk.
        let reopened = crate::saved::SavedQueries::open(_d.path()).unwrap();
        let names: Vec<&str> = reopened.list().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["m"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bad_saves_are_400_with_the_query_error_shape_or_a_message() {
        let (d, app) = app();
        let a = put(
            &app,
            "x",
            json!({"query": "SELECT count(*)\nFORM requests"}),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        let j = a.json();
        assert_eq!(
            (j["line"].clone(), j["column"].clone()),
            (json!(2), json!(1)),
            "{j}"
        );
        assert!(j["error"].as_str().unwrap().contains("`FORM`"), "{j}");
        assert!(
            j["detail"]
                .as_str()
                .unwrap()
                .ends_with("\n  FORM requests\n  ^^^^"),
            "{j}"
        );

        let a = put(
            &app,
            "x",
            json!({"query": "SELECT * FROM r WHERE k = $key"}),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        let j = a.json();
        assert_eq!(
            (j["line"].clone(), j["column"].clone()),
            (json!(1), json!(27)),
            "{j}"
        );
        assert!(
            j["error"]
                .as_str()
                .unwrap()
                .starts_with("parameter $key is not declared"),
            "{j}"
        );

        for (name, body, needle) in [
            (
                "x",
                json!("SHOW MEASUREMENTS"),
                "the body is not a saved query",
            ),
            ("x", json!({"q": "SHOW MEASUREMENTS"}), "unknown field `q`"),
            (
                "x",
                json!({"description": "no text"}),
                "missing field `query`",
            ),
            (
                "a%20b",
                json!({"query": "SHOW MEASUREMENTS"}),
                "the name `a%20b` has '%'",
            ),
            (
                "x",
                json!({"query": "SELECT * FROM r WHERE n > $n", "params": [{"name": "n", "type": "integer", "default": 1.5}]}),
                "bad default: parameter $n must be an integer",
            ),
            (
                "x",
                json!({"query": "SHOW MEASUREMENTS", "params": [{"name": "n", "type": "integer"}]}),
                "declared but the query does not use it",
            ),
        ] {
            let a = put(&app, name, body.clone()).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
            assert!(a.error().contains(needle), "{body}: {}", a.error());
        }
        assert!(!d.path().join(crate::saved::FILE_NAME).exists());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_bind_parameters_from_the_query_string_or_the_body() {
        let (_d, app) = app_with_requests().await;
        // `$from` defaults to 1.5 s: k1's request at 2 s.
        let a = call(&app, Method::GET, "/queries/by_key/run?key=k1", None).await;
        assert_eq!(count(&a), 1);
        let a = call(
            &app,
            Method::GET,
            "/queries/by_key/run?key=k1&from=1970-01-01T00:00:00Z",
            None,
        )
        .await;
        assert_eq!(count(&a), 2);
        let a = call(&app, Method::GET, "/queries/by_key/run?key=k1&from=0", None).await;
        assert_eq!(count(&a), 2, "nanoseconds since the epoch");
        let a = call(
            &app,
            Method::POST,
            "/queries/by_key/run",
            Some(json!({"params": {"key": "k2", "from": 0}})),
        )
        .await;
        assert_eq!(count(&a), 1);
        let a = call(
            &app,
            Method::GET,
            "/queries/by_key/run?params=%7B%22key%22%3A%22k1%22%7D&format=csv&from=1970-01-01",
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        assert_eq!(a.content_type, "text/csv; charset=utf-8");
        assert!(
            String::from_utf8_lossy(&a.body).ends_with("count\n2\n"),
            "{:?}",
            a.body
        );
        let a = call(
            &app,
            Method::POST,
            "/queries/by_key/run?epoch=s",
            Some(json!({"params": {"key": "k1", "from": "1970-01-01"}, "format": "table"})),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        assert!(
            a.content_type.starts_with("text/plain"),
            "{}",
            a.content_type
        );

        for (uri, body, needle) in [
            (
                "/queries/by_key/run",
                None,
                "saved query `by_key` needs $key (string); pass it in the query string (?key=VALUE)",
            ),
            (
                "/queries/by_key/run?key=k1&kye=k2",
                None,
                "has no parameter $kye (did you mean $key?); its parameters are $key (string) and $from (time)",
            ),
            (
                "/queries/by_key/run?key=k1&from=yesterday",
                None,
                "parameter $from must be a time such as",
            ),
            (
                "/queries/by_key/run?key=k1",
                Some(json!({"params": {"key": "k2"}})),
                "parameter $key is given twice",
            ),
            (
                "/queries/by_key/run",
                Some(json!({"params": {"key": 7}})),
                "parameter $key must be a string such as 'api-7', not `7`",
            ),
            (
                "/queries/by_key/run?key=k1",
                Some(json!({"q": "SHOW MEASUREMENTS"})),
                "takes no query",
            ),
            ("/queries/by_key/run?key=k1&format=xml", None, "unknown format 'xml'"),
        ] {
            let method = if body.is_some() { Method::POST } else { Method::GET };
            let a = call(&app, method, uri, body).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{uri}: {:?}", a.body);
            assert!(a.error().contains(needle), "{uri}: {}", a.error());
        }
        let a = call(&app, Method::GET, "/queries/by_kye/run?key=k1", None).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        assert_eq!(
            a.error(),
            "no saved query named `by_kye`; did you mean `by_key`?"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_saved_text_that_no_longer_runs_reports_like_query() {
        let d = tempfile::tempdir().unwrap();
        // Written by hand (or by an older version): loads, and says what is wrong when run.
        std::fs::write(
            d.path().join(crate::saved::FILE_NAME),
            r#"{"version": 1, "queries": [{"name": "old", "query": "SELECT count(*) FORM r", "created_at": "", "updated_at": ""}]}"#,
        )
        .unwrap();
        let app = app_in(&d);
        let a = call(&app, Method::GET, "/queries/old/run", None).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        let j = a.json();
        assert_eq!(
            (j["line"].clone(), j["column"].clone()),
            (json!(1), json!(17)),
            "{j}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wrong_methods_paths_and_an_unloaded_store_are_explained() {
        let (_d, app) = app();
        for (method, uri, status, allow) in [
            (
                Method::POST,
                "/queries",
                StatusCode::METHOD_NOT_ALLOWED,
                Some("GET"),
            ),
            (
                Method::PATCH,
                "/queries/x",
                StatusCode::METHOD_NOT_ALLOWED,
                Some("GET, PUT, DELETE"),
            ),
            (
                Method::PUT,
                "/queries/x/run",
                StatusCode::METHOD_NOT_ALLOWED,
                Some("GET, POST"),
            ),
            (Method::GET, "/queries/", StatusCode::NOT_FOUND, None),
            (Method::GET, "/queries/x/run/y", StatusCode::NOT_FOUND, None),
        ] {
            let a = call(&app, method.clone(), uri, None).await;
            assert_eq!(a.status, status, "{method} {uri}");
            if allow.is_none() {
                assert!(
                    a.error().contains("GET|PUT|DELETE /queries/NAME"),
                    "{}",
                    a.error()
                );
            }
        }
        *app.saved.write().unwrap() = Err("corrupt saved_queries.json: ...".to_owned());
        for (method, uri, body) in [
            (Method::GET, "/queries", None),
            (Method::GET, "/queries/x", None),
            (
                Method::PUT,
                "/queries/x",
                Some(json!({"query": "SHOW MEASUREMENTS"})),
            ),
            (Method::DELETE, "/queries/x", None),
            (Method::GET, "/queries/x/run", None),
        ] {
            let a = call(&app, method.clone(), uri, body).await;
            assert_eq!(
                a.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{method} {uri}"
            );
            assert!(
                a.error().starts_with("corrupt saved_queries.json"),
                "{}",
                a.error()
            );
        }
    }
}
