//! `tally points`: asks a running server's `GET /debug/points` and prints the JSON answer, so
//! tests and people can see raw points until the query language lands.
//!
//! ```text
//! tally points --measurement requests --where key=k1 --where status=500 --addr 127.0.0.1:8086
//! ```

use crate::cli::PointsArgs;
use crate::http::encode_param;
use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::HOST;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::io::Write as _;
use std::time::Duration;
use tokio::net::TcpStream;

/// Longest the command waits for the server.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the command: prints the server's JSON answer (pretty) on stdout.
pub(crate) fn run(args: PointsArgs) -> Result<()> {
    let addr = host_port(&args.addr);
    let path = request_path(&args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (status, body) = runtime.block_on(async {
        tokio::time::timeout(TIMEOUT, get(addr, &path))
            .await
            .map_err(|_| {
                anyhow!(
                    "tally at {addr} did not answer within {} s",
                    TIMEOUT.as_secs()
                )
            })?
    })?;
    let json: serde_json::Value = serde_json::from_slice(&body).with_context(|| {
        format!(
            "the server at {addr} answered {status} with something that is not JSON; is it tally?"
        )
    })?;
    if status != StatusCode::OK {
        let msg = json
            .get("error")
            .and_then(|e| e.as_str())
            .unwrap_or("no error message");
        return Err(anyhow!("the server answered {status}: {msg}"));
    }
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &json).context("writing to stdout")?;
    writeln!(out).context("writing to stdout")?;
    Ok(())
}

/// `host:port` from `host:port` or `http://host:port/`.
fn host_port(addr: &str) -> &str {
    let a = addr.trim();
    let a = a
        .strip_prefix("http://")
        .or_else(|| a.strip_prefix("https://"))
        .unwrap_or(a);
    a.trim_end_matches('/')
}

/// `/debug/points?measurement=..&tag=k:v..&start=..&end=..`
fn request_path(args: &PointsArgs) -> Result<String> {
    let mut path = format!(
        "/debug/points?measurement={}",
        encode_param(&args.measurement)
    );
    for w in &args.wheres {
        let (k, v) = w.split_once('=').ok_or_else(|| {
            anyhow!("bad --where '{w}'; write it as KEY=VALUE, e.g. --where host=a")
        })?;
        path.push_str("&tag=");
        path.push_str(&encode_param(&format!("{k}:{v}")));
    }
    if let Some(s) = args.start {
        path.push_str(&format!("&start={s}"));
    }
    if let Some(e) = args.end {
        path.push_str(&format!("&end={e}"));
    }
    Ok(path)
}

async fn get(addr: &str, path: &str) -> Result<(StatusCode, Bytes)> {
    let stream = TcpStream::connect(addr).await.map_err(|e| {
        anyhow!(
            "cannot reach tally at {addr} ({e}); is `tally serve` running there? pass --addr \
             HOST:PORT or set TALLY_HTTP_ADDR"
        )
    })?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .with_context(|| format!("HTTP handshake with {addr}"))?;
    tokio::spawn(conn);
    let req = Request::get(path)
        .header(HOST, addr)
        .body(Empty::<Bytes>::new())
        .with_context(|| format!("building the request for {path}"))?;
    let resp = sender
        .send_request(req)
        .await
        .with_context(|| format!("GET {path} from {addr}"))?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .with_context(|| format!("reading the answer to GET {path}"))?
        .to_bytes();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_debug_query() {
        let args = PointsArgs {
            measurement: "api requests".into(),
            wheres: vec!["key=k:1".into(), "endpoint=/a&b".into()],
            start: Some(-5),
            end: None,
            addr: "http://127.0.0.1:8086/".into(),
        };
        assert_eq!(
            request_path(&args).unwrap(),
            "/debug/points?measurement=api%20requests&tag=key%3Ak%3A1&tag=endpoint%3A%2Fa%26b&start=-5"
        );
        assert_eq!(host_port(&args.addr), "127.0.0.1:8086");
        let bad = PointsArgs {
            wheres: vec!["nokey".into()],
            ..args
        };
        assert!(request_path(&bad)
            .unwrap_err()
            .to_string()
            .contains("KEY=VALUE"));
    }
}
