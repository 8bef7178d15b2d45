//! One `tally serve` process under test: started on free loopback ports with a throw-away data
//! directory, its stdout and stderr captured to files per run, killed (SIGKILL) or stopped
//! (SIGTERM), and restarted on the same data directory.
//!
//! If a test panics while a `Tally` is alive, the data directory is kept and its path printed
//! together with the tail of the server's log, so a failure can be inspected afterwards.
//!
//! Retention: the tests write fixed timestamps (1970, 2023-2024) that the server's default
//! retention (raw points 7 days) would expire at once. So every server under test runs with a
//! config file whose `[retention]` keeps every level forever, except the levels the test's own
//! config sets (see [`with_test_retention`]), unless [`TallyOptions::server_retention`] asks for
//! the built-in defaults.

use crate::binary::tally_bin;
use crate::http::{request, Response};
use crate::points::{parse_series_list, Series};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use std::fs::{self, File};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How long a start may take before the test gives up (debug builds replay slowly).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a graceful stop may take (it flushes the head).
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// Per-request timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Settings for a server under test beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct TallyOptions {
    /// TOML for `<root>/tally.toml`, which is always passed with `--config`. The harness adds
    /// `"forever"` for every `[retention]` level this does not set (see the module doc).
    pub config: Option<String>,
    /// Run with the server's built-in retention defaults (raw points 7 days, ...) for the levels
    /// `config` does not set, instead of keeping them forever.
    pub server_retention: bool,
    /// Environment variables set for the process (every inherited `TALLY_*` is removed first).
    pub env: Vec<(String, String)>,
    /// `--log-level` (default `info`, so warnings about truncation and quarantine show).
    pub log_level: Option<String>,
    /// Extra arguments after `serve --data-dir .. --http-addr .. --tcp-addr ..`.
    pub args: Vec<String>,
}

/// A `tally serve` process and its data directory.
#[derive(Debug)]
pub struct Tally {
    tmp: Option<TempDir>,
    root: PathBuf,
    data_dir: PathBuf,
    opts: TallyOptions,
    child: Option<Child>,
    http: SocketAddr,
    tcp: SocketAddr,
    run: u32,
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0 to find a free port")?;
    Ok(l.local_addr()?.port())
}

impl Tally {
    /// Starts a server with default settings on a new, empty data directory and waits until
    /// `/health` answers.
    pub fn start() -> Result<Tally> {
        Tally::start_with(TallyOptions::default())
    }

    /// Starts a server with `toml` as its config file (plus the harness's keep-forever retention
    /// for the levels `toml` does not set) and waits until `/health` answers.
    ///
    /// ```no_run
    /// // Raw points of `cost` expire after a day; every other level of every measurement is
    /// // kept forever.
    /// let tally = tally_tests::Tally::start_with_config(
    ///     "[retention.measurements.cost]\nraw = \"1d\"\n",
    /// ).unwrap();
    /// ```
    pub fn start_with_config(toml: &str) -> Result<Tally> {
        Tally::start_with(TallyOptions {
            config: Some(toml.to_owned()),
            ..TallyOptions::default()
        })
    }

    /// Starts a server with `opts` on a new, empty data directory and waits until `/health`
    /// answers.
    pub fn start_with(opts: TallyOptions) -> Result<Tally> {
        let tmp = tempfile::Builder::new()
            .prefix("tally-e2e-")
            .tempdir()
            .context("creating a temporary directory")?;
        let root = tmp.path().to_path_buf();
        let mut t = Tally {
            tmp: Some(tmp),
            data_dir: root.join("data"),
            root,
            opts,
            child: None,
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            tcp: SocketAddr::from(([127, 0, 0, 1], 0)),
            run: 0,
        };
        t.write_config()?;
        t.spawn()?;
        Ok(t)
    }

    /// Starts the server again on the same data directory (new ports). The previous process
    /// must have been killed or stopped.
    pub fn restart(&mut self) -> Result<()> {
        if self.is_running() {
            bail!(
                "restart: the previous tally process (pid {:?}) still runs",
                self.pid()
            );
        }
        self.spawn()
    }

    /// Replaces the options used by the next [`Tally::restart`] (the config file is rewritten).
    pub fn set_options(&mut self, opts: TallyOptions) -> Result<()> {
        self.opts = opts;
        self.write_config()
    }

    /// Writes the config file the next start reads: the options' TOML with the harness's
    /// retention added.
    fn write_config(&self) -> Result<()> {
        let text = with_test_retention(
            self.opts.config.as_deref().unwrap_or(""),
            self.opts.server_retention,
        )?;
        fs::write(self.config_path(), text).context("writing the test config file")
    }

    fn config_path(&self) -> PathBuf {
        self.root.join("tally.toml")
    }

    fn log_path(&self, run: u32, stream: &str) -> PathBuf {
        self.root.join(format!("run-{run}.{stream}"))
    }

    fn spawn(&mut self) -> Result<()> {
        let bin = tally_bin()?;
        let mut last_err = None;
        // Another process may grab a port between our probe and the server's bind; retry then.
        for _ in 0..5 {
            self.run += 1;
            self.http = SocketAddr::from(([127, 0, 0, 1], free_port()?));
            self.tcp = SocketAddr::from(([127, 0, 0, 1], free_port()?));
            if self.http == self.tcp {
                continue;
            }
            let mut cmd = Command::new(&bin);
            cmd.arg("serve")
                .arg("--data-dir")
                .arg(&self.data_dir)
                .arg("--http-addr")
                .arg(self.http.to_string())
                .arg("--tcp-addr")
                .arg(self.tcp.to_string())
                .arg("--log-level")
                .arg(self.opts.log_level.as_deref().unwrap_or("info"));
            cmd.arg("--config").arg(self.config_path());
            cmd.args(&self.opts.args);
            for (k, _) in std::env::vars_os() {
                if k.to_string_lossy().starts_with("TALLY_") {
                    cmd.env_remove(&k);
                }
            }
            cmd.env_remove("RUST_LOG");
            for (k, v) in &self.opts.env {
                cmd.env(k, v);
            }
            let out = File::create(self.log_path(self.run, "stdout"))?;
            let err = File::create(self.log_path(self.run, "stderr"))?;
            cmd.stdin(Stdio::null())
                .stdout(Stdio::from(out))
                .stderr(Stdio::from(err));
            let child = cmd
                .spawn()
                .with_context(|| format!("starting {}", bin.display()))?;
            self.child = Some(child);
            match self.wait_healthy() {
                Ok(()) => return Ok(()),
                Err(e) => {
                    let exited = !self.is_running();
                    let log = self.stderr();
                    if exited && log.to_ascii_lowercase().contains("in use") {
                        last_err = Some(e);
                        continue;
                    }
                    self.kill();
                    return Err(e);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow!("could not find free ports")))
    }

    fn wait_healthy(&mut self) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    self.child = None;
                    bail!(
                        "tally exited during start-up ({status}); stderr:\n{}\nstdout:\n{}",
                        tail(&self.stderr(), 60),
                        tail(&self.stdout(), 20)
                    );
                }
            }
            let last = match request(
                self.http,
                "GET",
                "/health",
                &[],
                b"",
                Duration::from_secs(5),
            ) {
                Ok(r) if r.status == 200 => return Ok(()),
                Ok(r) => format!("/health answered {}: {}", r.status, r.text()),
                Err(e) => format!("{e:#}"),
            };
            if Instant::now() > deadline {
                bail!(
                    "tally did not become healthy within {START_TIMEOUT:?} (last: {last}); stderr:\n{}",
                    tail(&self.stderr(), 60)
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Whether the process is alive.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The process id, if started.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the process with SIGKILL (no chance to flush) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            // Child::kill is SIGKILL on Unix; an error means it already exited.
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM and waits for the process to exit; its exit status. SIGKILLs it and fails
    /// if it does not stop within a minute.
    pub fn terminate(&mut self) -> Result<ExitStatus> {
        self.signal_and_wait(libc::SIGTERM)
    }

    /// Sends SIGINT (Ctrl-C) and waits for the process to exit, like [`Tally::terminate`].
    pub fn interrupt(&mut self) -> Result<ExitStatus> {
        self.signal_and_wait(libc::SIGINT)
    }

    fn signal_and_wait(&mut self, sig: libc::c_int) -> Result<ExitStatus> {
        let mut c = self
            .child
            .take()
            .ok_or_else(|| anyhow!("tally is not running"))?;
        let pid = libc::pid_t::try_from(c.id()).context("pid out of range")?;
        // SAFETY: kill(2) with a pid we own (not yet reaped, so not reused) has no memory effects.
        let rc = unsafe { libc::kill(pid, sig) };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            let _ = c.kill();
            let _ = c.wait();
            bail!("kill({pid}, {sig}) failed: {e}");
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = c.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                bail!(
                    "tally did not exit within {STOP_TIMEOUT:?} of signal {sig}; stderr:\n{}",
                    tail(&self.stderr(), 40)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The data directory (absolute).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The HTTP address of the current run.
    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    /// The TCP line-protocol address of the current run.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp
    }

    /// Everything the current (or last) run wrote to stderr: the JSON log.
    pub fn stderr(&self) -> String {
        fs::read_to_string(self.log_path(self.run, "stderr")).unwrap_or_default()
    }

    /// The lines, from every run of this server so far, that contain every one of `needles`.
    pub fn log_lines_all_runs(&self, needles: &[&str]) -> Vec<String> {
        (0..=self.run)
            .flat_map(|run| {
                fs::read_to_string(self.log_path(run, "stderr"))
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| needles.iter().all(|n| l.contains(n)))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Everything the current (or last) run wrote to stdout.
    pub fn stdout(&self) -> String {
        fs::read_to_string(self.log_path(self.run, "stdout")).unwrap_or_default()
    }

    /// The log lines of the current run that contain every one of `needles`.
    pub fn log_lines(&self, needles: &[&str]) -> Vec<String> {
        self.stderr()
            .lines()
            .filter(|l| needles.iter().all(|n| l.contains(n)))
            .map(str::to_owned)
            .collect()
    }

    /// The WARN and ERROR lines of the current run's JSON log that contain every one of
    /// `needles` (e.g. the truncation and quarantine reports).
    pub fn warnings(&self, needles: &[&str]) -> Vec<String> {
        self.log_lines(needles)
            .into_iter()
            .filter(|l| {
                serde_json::from_str::<Value>(l)
                    .is_ok_and(|v| matches!(v["level"].as_str(), Some("WARN" | "ERROR")))
            })
            .collect()
    }

    /// Sends a request to the server's HTTP address.
    pub fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response> {
        request(self.http, method, path, headers, body, REQUEST_TIMEOUT)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Result<Response> {
        self.http("GET", path, &[], b"")
    }

    /// `POST path` with `body`.
    pub fn post(&self, path: &str, body: &[u8]) -> Result<Response> {
        self.http("POST", path, &[], body)
    }

    /// `POST /write` with line protocol `lines` (nanosecond precision).
    pub fn write(&self, lines: &str) -> Result<Response> {
        self.post("/write", lines.as_bytes())
    }

    /// Like [`Tally::write`], but fails unless the answer is 204.
    pub fn write_ok(&self, lines: &str) -> Result<()> {
        let r = self.write(lines)?;
        if r.status != 204 {
            bail!("/write answered {}: {}", r.status, r.text());
        }
        Ok(())
    }

    /// `POST /admin/flush`; fails unless the answer is 2xx.
    pub fn flush(&self) -> Result<Response> {
        let r = self.post("/admin/flush", b"")?;
        if !(200..300).contains(&r.status) {
            bail!("/admin/flush answered {}: {}", r.status, r.text());
        }
        Ok(r)
    }

    /// `GET /health` as JSON; fails unless the answer is 200.
    pub fn health(&self) -> Result<Value> {
        let r = self.get("/health")?;
        if r.status != 200 {
            bail!("/health answered {}: {}", r.status, r.text());
        }
        r.json()
    }

    /// Every point of `measurement`, per series.
    pub fn points(&self, measurement: &str) -> Result<Vec<Series>> {
        self.debug_read("points", &format!("measurement={}", encode(measurement)))
    }

    /// `(timestamp, value)` pairs of field `field` in the only series of `measurement` whose
    /// tag `key` is `value`; empty if there is no such series or field.
    pub fn column(
        &self,
        measurement: &str,
        key: &str,
        value: &str,
        field: &str,
    ) -> Result<Vec<(i64, Value)>> {
        let series = self.points(measurement)?;
        let matching: Vec<_> = series
            .iter()
            .filter(|s| s.tag(key) == Some(value))
            .collect();
        if matching.len() > 1 {
            bail!("{measurement} {key}={value} is more than one series");
        }
        Ok(matching
            .first()
            .and_then(|s| s.field(field))
            .map(|c| c.pairs().map(|(t, v)| (t, v.clone())).collect())
            .unwrap_or_default())
    }

    /// `GET /debug/points?<query>` (the query string is passed as is).
    pub fn points_query(&self, query: &str) -> Result<Vec<Series>> {
        self.debug_read("points", query)
    }

    /// The series of `measurement` (`GET /debug/series`), without points.
    pub fn series(&self, measurement: &str) -> Result<Vec<Series>> {
        self.debug_read("series", &format!("measurement={}", encode(measurement)))
    }

    fn debug_read(&self, what: &str, query: &str) -> Result<Vec<Series>> {
        let path = format!("/debug/{what}?{query}");
        let r = self.get(&path)?;
        if r.status != 200 {
            bail!("GET {path} answered {}: {}", r.status, r.text());
        }
        parse_series_list(&r.json()?).with_context(|| format!("GET {path}"))
    }
}

impl Drop for Tally {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "--- tally stderr (run {}, last lines) ---\n{}",
                self.run,
                tail(&self.stderr(), 40)
            );
            if let Some(tmp) = self.tmp.take() {
                eprintln!("--- test data kept in {} ---", tmp.keep().display());
            }
        }
    }
}

/// The retention levels of `[retention]` in the server's config file.
const RETENTION_LEVELS: [&str; 4] = ["raw", "minute", "hour", "day"];

/// `config` with `"forever"` added for every `[retention]` level it does not set (unless
/// `server_retention`), so fixed old timestamps are not expired by the server's defaults.
/// Fails if `config` is not valid TOML.
pub fn with_test_retention(config: &str, server_retention: bool) -> Result<String> {
    let mut table: toml::Table = config
        .parse()
        .with_context(|| format!("the test's config is not valid TOML:\n{config}"))?;
    if server_retention {
        return Ok(config.to_owned());
    }
    let retention = table
        .entry("retention")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let Some(retention) = retention.as_table_mut() else {
        bail!("the test's config has `retention` that is not a table:\n{config}");
    };
    for level in RETENTION_LEVELS {
        retention
            .entry(level)
            .or_insert_with(|| toml::Value::String("forever".to_owned()));
    }
    toml::to_string(&table).context("writing the test config as TOML")
}

/// Percent-encodes everything but unreserved characters, for query-string values.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The last `n` lines of `s`.
fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_query_values() {
        assert_eq!(encode("cpu"), "cpu");
        assert_eq!(encode("a b,c=d/é"), "a%20b%2Cc%3Dd%2F%C3%A9");
    }

    #[test]
    fn test_retention_fills_only_the_levels_the_config_leaves_out() {
        let t: toml::Table = with_test_retention("", false).unwrap().parse().unwrap();
        for level in RETENTION_LEVELS {
            assert_eq!(t["retention"][level].as_str(), Some("forever"));
        }
        let cfg = "[server]\nmax_body_bytes = 4096\n[retention]\nraw = \"1d\"\n\
                   [retention.measurements.cost]\nhour = \"2y\"\n";
        let t: toml::Table = with_test_retention(cfg, false).unwrap().parse().unwrap();
        assert_eq!(t["server"]["max_body_bytes"].as_integer(), Some(4096));
        assert_eq!(t["retention"]["raw"].as_str(), Some("1d"));
        assert_eq!(t["retention"]["day"].as_str(), Some("forever"));
        assert_eq!(
            t["retention"]["measurements"]["cost"]["hour"].as_str(),
            Some("2y")
        );
        assert_eq!(with_test_retention(cfg, true).unwrap(), cfg);
        assert!(with_test_retention("[server", false).is_err());
        assert!(with_test_retention("retention = 1", false).is_err());
    }

    #[test]
    fn tails() {
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
