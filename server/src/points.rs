//! `tally points`: asks a running server's `GET /debug/points` and prints the JSON answer, so
//! tests and people can see raw points until the query language lands.
//!
//! ```text
//! tally points --measurement requests --where key=k1 --where status=500 --addr 127.0.0.1:8086
//! ```

use crate::cli::PointsArgs;
use crate::client::Client;
use crate::http::encode_param;
use anyhow::{anyhow, Context, Result};
use hyper::StatusCode;
use std::io::Write as _;
use std::time::Duration;

/// Longest the command waits for the server.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the command: prints the server's JSON answer (pretty) on stdout.
pub(crate) fn run(args: PointsArgs) -> Result<()> {
    let path = request_path(&args)?;
    let client = Client::new(&args.addr, TIMEOUT)?;
    let addr = client.addr();
    let (status, body) = client.get(&path)?;
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
