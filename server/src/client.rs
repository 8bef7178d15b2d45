//! The HTTP client of the commands that call a running server's API (`tally points`,
//! `tally query`, `tally shell`): one HTTP/1.1 request per connection, answered in full.
//!
//! ```text
//! let client = Client::new("127.0.0.1:8086", Duration::from_secs(60))?;
//! let (status, body) = client.get("/debug/measurements")?;
//! ```

use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::net::TcpStream;

/// A client for the server at one address; calls block until the answer is read.
#[derive(Debug)]
pub(crate) struct Client {
    /// `host:port`.
    addr: String,
    /// Longest wait for one answer.
    timeout: Duration,
    /// Runs the requests; one thread, the caller's.
    runtime: tokio::runtime::Runtime,
}

impl Client {
    /// A client for `addr` (`host:port` or `http://host:port/`) that waits up to `timeout` for
    /// each answer.
    pub(crate) fn new(addr: &str, timeout: Duration) -> Result<Client> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(Client {
            addr: host_port(addr).to_owned(),
            timeout,
            runtime,
        })
    }

    /// The server's `host:port`.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// `GET path`: the status and the whole body.
    pub(crate) fn get(&self, path: &str) -> Result<(StatusCode, Bytes)> {
        self.call(Method::GET, path, None)
    }

    /// `POST path` with `body` of type `content_type`: the status and the whole body.
    pub(crate) fn post(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<Bytes>,
    ) -> Result<(StatusCode, Bytes)> {
        self.call(Method::POST, path, Some((content_type, body.into())))
    }

    /// `DELETE path`.
    pub(crate) fn delete(&self, path: &str) -> Result<(StatusCode, Bytes)> {
        self.call(Method::DELETE, path, None)
    }

    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Bytes)>,
    ) -> Result<(StatusCode, Bytes)> {
        let addr = self.addr.as_str();
        self.runtime.block_on(async {
            tokio::time::timeout(self.timeout, send(addr, method, path, body))
                .await
                .map_err(|_| {
                    anyhow!(
                        "tally at {addr} did not answer within {} s",
                        self.timeout.as_secs()
                    )
                })?
        })
    }
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

async fn send(
    addr: &str,
    method: Method,
    path: &str,
    body: Option<(&str, Bytes)>,
) -> Result<(StatusCode, Bytes)> {
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
    let mut req = Request::builder()
        .method(method.clone())
        .uri(path)
        .header(HOST, addr);
    let body = match body {
        Some((content_type, bytes)) => {
            req = req.header(CONTENT_TYPE, content_type);
            bytes
        }
        None => Bytes::new(),
    };
    let req = req
        .body(Full::new(body))
        .with_context(|| format!("building the request for {path}"))?;
    let resp = sender
        .send_request(req)
        .await
        .with_context(|| format!("{method} {path} to {addr}"))?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .with_context(|| format!("reading the answer to {method} {path}"))?
        .to_bytes();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_may_be_urls() {
        assert_eq!(host_port("http://127.0.0.1:8086/"), "127.0.0.1:8086");
        assert_eq!(host_port(" https://h:1"), "h:1");
        assert_eq!(host_port("127.0.0.1:8086"), "127.0.0.1:8086");
    }

    #[test]
    fn an_absent_server_is_named_with_how_to_fix_it() {
        // Port 1 on loopback is not a tally server (nor anything, normally): refused at once.
        let client = Client::new("127.0.0.1:1", Duration::from_secs(10)).unwrap();
        let err = client.get("/health").unwrap_err().to_string();
        assert!(
            err.contains("cannot reach tally at 127.0.0.1:1") && err.contains("--addr"),
            "{err}"
        );
    }
}
