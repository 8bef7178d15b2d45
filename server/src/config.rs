//! Settings of `tally serve`: the TOML config file, and how flags, environment variables, the file
//! and the defaults combine into one [`Settings`].
//!
//! Precedence, highest first: command-line flag, environment variable (both handled by clap in
//! [`crate::cli`]), config file, built-in default. Every default works without a config file.
//!
//! ```toml
//! [server]
//! http_addr = "127.0.0.1:8086"   # HTTP API and dashboard
//! tcp_addr = "127.0.0.1:8094"    # line protocol over TCP; "off" disables it
//! data_dir = "./data"
//! max_body_bytes = 33554432      # larger /write bodies (also after gunzip) get 413
//! log_level = "info"
//! shutdown_timeout_s = 30        # how long shutdown waits for in-flight requests
//!
//! [limits]
//! max_line_bytes = 65536
//! max_tags = 64
//! max_fields = 256
//!
//! [storage]
//! sync = "batch"                 # or "interval" with sync_interval_ms
//! sync_interval_ms = 100
//! event_measurements = ["requests"]
//! distribution_fields = []       # fields with quantile sketches besides latency*
//! sketch_accuracy = 0.01         # relative error of p50/p95/p99 from rollups
//! compaction_mb_per_s = 64       # compaction's disk budget in MiB/s; 0 = unthrottled
//! block_cache_mb = 128           # decompressed segment and rollup blocks kept for later queries; 0 = none
//! head_max_mb = 256
//! flush_interval_s = 600
//! write_queue = 64
//!
//! [retention]                    # how long each level is kept; "forever" never expires
//! raw = "7d"
//! minute = "90d"
//! hour = "2y"
//! day = "forever"
//! [retention.measurements.cost]  # per-measurement overrides, any subset of the keys
//! raw = "forever"
//!
//! [query]                        # budgets of one statement of POST /query; over one, it stops
//! timeout_s = 30                 # wall-clock time
//! max_memory_mb = 1024           # points and intermediate state held at once
//! max_rows = 1000000             # rows of its result
//! ```
//! An unknown key is an error that names the key, the file and the line, so a typo never passes
//! silently; so is a retention value that is not a duration or `forever`.

use crate::cli::{ServeArgs, DEFAULT_HTTP_ADDR, DEFAULT_TCP_ADDR};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tally_engine::rollup::RelativeAccuracy;
use tally_engine::{Keep, Level, Options, SyncPolicy};
use tally_ingest::line_protocol::Limits;
use tally_query::ExecLimits;
use thiserror::Error;

/// Default largest `/write` body, before and after gzip decompression.
pub(crate) const DEFAULT_MAX_BODY_BYTES: usize = 32 << 20;
/// Default wait for in-flight requests at shutdown.
const DEFAULT_SHUTDOWN_TIMEOUT_S: u64 = 30;
/// Default WAL fsync interval when `sync = "interval"`.
const DEFAULT_SYNC_INTERVAL_MS: u64 = 100;
/// Default time budget of one query statement.
const DEFAULT_QUERY_TIMEOUT_S: u64 = 30;
/// Default memory budget of one query statement, in MiB.
const DEFAULT_QUERY_MAX_MEMORY_MB: u64 = 1024;
/// Default most rows of one query result.
const DEFAULT_QUERY_MAX_ROWS: u64 = 1_000_000;

/// A config file or value that cannot be used, with where it is and how to fix it.
#[derive(Debug, Error)]
pub(crate) enum ConfigError {
    /// The file could not be read.
    #[error(
        "cannot read config file {path}: {error}; check the path given by --config or TALLY_CONFIG"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error (in the message, not as a `source`, so it is not printed twice).
        error: std::io::Error,
    },
    /// The file is not valid TOML or has an unknown key or a value of the wrong type.
    #[error("bad config file {path}, line {line}, column {column}: {message}{snippet}; fix or remove it")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the TOML parser said (it names an unknown key).
        message: String,
        /// ` (in "the line")`, or empty.
        snippet: String,
    },
    /// A value that parses but is out of range.
    #[error("bad config value {key} in {origin}: {message}")]
    Value {
        /// `[section] key`.
        key: String,
        /// The file, or "the defaults".
        origin: String,
        /// What is wrong and what is allowed.
        message: String,
    },
}

/// The config file as written. Every key is optional; absent keys fall back to the defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FileConfig {
    /// `[server]`
    pub(crate) server: ServerSection,
    /// `[limits]`
    pub(crate) limits: LimitsSection,
    /// `[storage]`
    pub(crate) storage: StorageSection,
    /// `[retention]`
    pub(crate) retention: RetentionSection,
    /// `[query]`
    pub(crate) query: QuerySection,
}

/// `[server]` of the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ServerSection {
    /// HTTP listen address.
    pub(crate) http_addr: Option<String>,
    /// TCP line-protocol listen address, or "off".
    pub(crate) tcp_addr: Option<String>,
    /// Data directory.
    pub(crate) data_dir: Option<PathBuf>,
    /// Largest `/write` body.
    pub(crate) max_body_bytes: Option<usize>,
    /// Log level or filter.
    pub(crate) log_level: Option<String>,
    /// Seconds shutdown waits for in-flight requests.
    pub(crate) shutdown_timeout_s: Option<u64>,
}

/// `[limits]` of the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct LimitsSection {
    /// Longest line.
    pub(crate) max_line_bytes: Option<usize>,
    /// Most tags per point.
    pub(crate) max_tags: Option<usize>,
    /// Most fields per point.
    pub(crate) max_fields: Option<usize>,
}

/// `[query]` of the config file: the budgets of one query statement.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct QuerySection {
    /// Wall-clock seconds a statement may run.
    pub(crate) timeout_s: Option<u64>,
    /// MiB of points and intermediate state a statement may hold.
    pub(crate) max_memory_mb: Option<u64>,
    /// Rows a result may have.
    pub(crate) max_rows: Option<u64>,
}

/// `sync` in `[storage]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SyncMode {
    /// fsync every batch before acknowledging it.
    Batch,
    /// fsync every `sync_interval_ms`.
    Interval,
}

/// `[storage]` of the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct StorageSection {
    /// WAL fsync policy.
    pub(crate) sync: Option<SyncMode>,
    /// fsync interval for `sync = "interval"`.
    pub(crate) sync_interval_ms: Option<u64>,
    /// Measurements kept as event streams (every point kept).
    pub(crate) event_measurements: Option<Vec<String>>,
    /// Fields whose rollups carry a quantile sketch, besides `latency*`.
    pub(crate) distribution_fields: Option<Vec<String>>,
    /// Relative accuracy of the quantile sketches (0.01 = 1%).
    pub(crate) sketch_accuracy: Option<f64>,
    /// Compaction's read plus write budget in MiB/s (fractions allowed); 0 = unthrottled.
    pub(crate) compaction_mb_per_s: Option<f64>,
    /// Memory for decompressed rollup blocks reused across queries, in MiB; 0 = no cache.
    pub(crate) block_cache_mb: Option<u64>,
    /// The retention key of older versions, now the `[retention]` section: kept only to say
    /// so when an old config still has it.
    pub(crate) retention: Option<toml::Value>,
    /// Head size that triggers a flush, in MiB.
    pub(crate) head_max_mb: Option<usize>,
    /// Longest time between flushes, in seconds.
    pub(crate) flush_interval_s: Option<u64>,
    /// Batches that may wait for the writer before writes block.
    pub(crate) write_queue: Option<usize>,
}

/// `[retention]` of the config file: the default keep of each level, and per-measurement
/// overrides under `[retention.measurements.NAME]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RetentionSection {
    /// Raw points.
    pub(crate) raw: Option<KeepSetting>,
    /// 1 minute rollups.
    pub(crate) minute: Option<KeepSetting>,
    /// 1 hour rollups.
    pub(crate) hour: Option<KeepSetting>,
    /// 1 day rollups.
    pub(crate) day: Option<KeepSetting>,
    /// Overrides by measurement name.
    pub(crate) measurements: BTreeMap<String, LevelsSection>,
}

/// `[retention.measurements.NAME]`: the levels this measurement keeps differently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct LevelsSection {
    /// Raw points.
    pub(crate) raw: Option<KeepSetting>,
    /// 1 minute rollups.
    pub(crate) minute: Option<KeepSetting>,
    /// 1 hour rollups.
    pub(crate) hour: Option<KeepSetting>,
    /// 1 day rollups.
    pub(crate) day: Option<KeepSetting>,
}

impl LevelsSection {
    /// The levels that are set, finest first.
    fn levels(&self) -> impl Iterator<Item = (Level, Keep)> + '_ {
        Level::ALL
            .into_iter()
            .zip([&self.raw, &self.minute, &self.hour, &self.day])
            .filter_map(|(level, k)| k.map(|k| (level, k.0)))
    }
}

impl RetentionSection {
    fn default_levels(&self) -> LevelsSection {
        LevelsSection {
            raw: self.raw,
            minute: self.minute,
            hour: self.hour,
            day: self.day,
        }
    }
}

/// A retention value: `"forever"` or a duration such as `"90d"`. Checked while the file is
/// parsed, so a bad value is reported with its line like a syntax error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeepSetting(pub(crate) Keep);

impl<'de> Deserialize<'de> for KeepSetting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = KeepSetting;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a duration such as \"90d\" or \"2y\", or \"forever\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<KeepSetting, E> {
                crate::retention::parse_keep(v)
                    .map(KeepSetting)
                    .map_err(E::custom)
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// Everything `tally serve` runs with, after precedence is applied.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The config file that was read, if any.
    pub(crate) config_file: Option<PathBuf>,
    /// Data directory.
    pub(crate) data_dir: PathBuf,
    /// HTTP listen address, as given (resolved when binding).
    pub(crate) http_addr: String,
    /// TCP listen address; `None` when disabled.
    pub(crate) tcp_addr: Option<String>,
    /// Log level or tracing filter.
    pub(crate) log_level: String,
    /// Largest `/write` body, before and after decompression.
    pub(crate) max_body_bytes: usize,
    /// How long shutdown waits for in-flight requests and connections.
    pub(crate) shutdown_timeout: Duration,
    /// Per-line parser limits.
    pub(crate) limits: Limits,
    /// Engine settings.
    pub(crate) engine: Options,
    /// Budgets of one query statement (`[query]`).
    pub(crate) query: ExecLimits,
}

#[cfg(test)]
impl Default for Settings {
    fn default() -> Self {
        // The defaults are valid by construction; resolving nothing cannot fail.
        match resolve_with(&ServeArgs::default(), None) {
            Ok(s) => s,
            Err(e) => unreachable!("built-in defaults are invalid: {e}"),
        }
    }
}

/// Reads the config file named by `--config`/`TALLY_CONFIG` (if any) and applies precedence.
pub(crate) fn resolve(args: &ServeArgs) -> Result<Settings, ConfigError> {
    let file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
                path: path.clone(),
                error,
            })?;
            Some((path.clone(), parse_file(path, &text)?))
        }
        None => None,
    };
    resolve_with(args, file)
}

/// Parses config file text; `path` is only used in errors.
pub(crate) fn parse_file(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0).min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        let line_text = text[line_start..].lines().next().unwrap_or("").trim();
        let snippet = if line_text.is_empty() {
            String::new()
        } else {
            format!(" (in `{line_text}`)")
        };
        ConfigError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().trim().to_owned(),
            snippet,
        }
    })
}

/// Applies precedence: `args` (flags and environment, already merged by clap) over `file` over
/// the defaults, and checks the ranges of the file's values.
pub(crate) fn resolve_with(
    args: &ServeArgs,
    file: Option<(PathBuf, FileConfig)>,
) -> Result<Settings, ConfigError> {
    let (config_file, file) = match file {
        Some((p, f)) => (Some(p), f),
        None => (None, FileConfig::default()),
    };
    let origin = config_file
        .as_ref()
        .map_or_else(|| "the defaults".to_owned(), |p| p.display().to_string());
    let bad = |key: &str, message: String| ConfigError::Value {
        key: key.to_owned(),
        origin: origin.clone(),
        message,
    };
    let at_least_one = |key: &'static str, v: Option<u64>| match v {
        Some(0) => Err(bad(key, "must be at least 1".to_owned())),
        _ => Ok(v),
    };

    let server = file.server;
    let data_dir = args
        .data_dir
        .clone()
        .or(server.data_dir)
        .unwrap_or_else(|| PathBuf::from("./data"));
    let http_addr = args
        .http_addr
        .clone()
        .or(server.http_addr)
        .unwrap_or_else(|| DEFAULT_HTTP_ADDR.to_owned());
    let tcp_addr = args
        .tcp_addr
        .clone()
        .or(server.tcp_addr)
        .unwrap_or_else(|| DEFAULT_TCP_ADDR.to_owned());
    let tcp_addr = match tcp_addr.trim() {
        "" | "off" | "none" | "disabled" => None,
        a => Some(a.to_owned()),
    };
    let log_level = args
        .log_level
        .clone()
        .or(server.log_level)
        .unwrap_or_else(|| "info".to_owned());
    let max_body_bytes = at_least_one(
        "[server] max_body_bytes",
        server.max_body_bytes.map(|v| v as u64),
    )?
    .map_or(DEFAULT_MAX_BODY_BYTES, |v| v as usize);
    let shutdown_timeout = Duration::from_secs(
        server
            .shutdown_timeout_s
            .unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT_S),
    );

    // The parser's defaults are the documented ones; the file overrides each separately.
    let l = file.limits;
    let defaults = Limits::default();
    let limits = Limits {
        max_line_bytes: at_least_one(
            "[limits] max_line_bytes",
            l.max_line_bytes.map(|v| v as u64),
        )?
        .map_or(defaults.max_line_bytes, |v| v as usize),
        max_tags: l.max_tags.unwrap_or(defaults.max_tags),
        max_fields: at_least_one("[limits] max_fields", l.max_fields.map(|v| v as u64))?
            .map_or(defaults.max_fields, |v| v as usize),
    };
    if limits.max_line_bytes > max_body_bytes {
        return Err(bad(
            "[limits] max_line_bytes",
            format!(
                "{} is larger than [server] max_body_bytes ({max_body_bytes}); a line must fit in a body",
                limits.max_line_bytes
            ),
        ));
    }

    let s = file.storage;
    let mut engine = Options::default();
    let interval = at_least_one("[storage] sync_interval_ms", s.sync_interval_ms)?;
    engine.sync = match (s.sync.unwrap_or(SyncMode::Batch), interval) {
        (SyncMode::Batch, None) => SyncPolicy::EveryBatch,
        (SyncMode::Batch, Some(_)) => {
            return Err(bad(
                "[storage] sync_interval_ms",
                "only applies with sync = \"interval\"; set sync = \"interval\" or remove it"
                    .to_owned(),
            ))
        }
        (SyncMode::Interval, ms) => SyncPolicy::Interval(Duration::from_millis(
            ms.unwrap_or(DEFAULT_SYNC_INTERVAL_MS),
        )),
    };
    if let Some(m) = s.event_measurements {
        if let Some(empty) = m.iter().position(|m| m.is_empty()) {
            return Err(bad(
                "[storage] event_measurements",
                format!("entry {} is empty; list measurement names", empty + 1),
            ));
        }
        engine.event_measurements = m;
    }
    if s.retention.is_some() {
        return Err(bad(
            "[storage] retention",
            "retention has its own section now: replace `[storage] retention = { requests = \"90d\" }` \
             with `[retention.measurements.requests]` and `raw = \"90d\"` (see docs/configuration.md)"
                .to_owned(),
        ));
    }
    if let Some(fields) = s.distribution_fields {
        if let Some(empty) = fields.iter().position(|f| f.is_empty()) {
            return Err(bad(
                "[storage] distribution_fields",
                format!("entry {} is empty; list field names", empty + 1),
            ));
        }
        engine.distribution_fields = fields;
    }
    if let Some(alpha) = s.sketch_accuracy {
        engine.sketch_accuracy = RelativeAccuracy::new(alpha).map_err(|_| {
            bad(
                "[storage] sketch_accuracy",
                format!(
                    "{alpha} is outside {} to {}; give the relative error as a fraction, e.g. 0.01 for 1%",
                    f64::from(RelativeAccuracy::MIN_UNITS) / 1e4,
                    f64::from(RelativeAccuracy::MAX_UNITS) / 1e4
                ),
            )
        })?;
    }
    if let Some(mb) = s.compaction_mb_per_s {
        let bytes = mb * f64::from(1u32 << 20);
        if !(bytes.is_finite() && (bytes == 0.0 || bytes >= 1.0)) {
            return Err(bad(
                "[storage] compaction_mb_per_s",
                format!("{mb} is not a budget; give MiB per second, e.g. 64 or 0.5, or 0 for unthrottled"),
            ));
        }
        // Float to int saturates, so a huge budget is simply unthrottled in effect.
        engine.compaction_bytes_per_sec = (bytes > 0.0).then_some(bytes.round() as u64);
    }
    if let Some(mb) = s.block_cache_mb {
        engine.block_cache_bytes = mb.saturating_mul(1 << 20);
    }
    if let Some(mb) = at_least_one("[storage] head_max_mb", s.head_max_mb.map(|v| v as u64))? {
        engine.head_max_bytes = (mb as usize).saturating_mul(1 << 20);
    }
    if let Some(secs) = at_least_one("[storage] flush_interval_s", s.flush_interval_s)? {
        engine.flush_interval = Duration::from_secs(secs);
    }
    if let Some(q) = at_least_one("[storage] write_queue", s.write_queue.map(|v| v as u64))? {
        engine.write_queue = q as usize;
    }

    let r = file.retention;
    for (level, keep) in r.default_levels().levels() {
        engine.retention.set(None, level, Some(keep));
    }
    for (m, levels) in &r.measurements {
        if m.is_empty() {
            return Err(bad(
                "[retention.measurements]",
                "a measurement name is empty; write [retention.measurements.NAME]".to_owned(),
            ));
        }
        for (level, keep) in levels.levels() {
            engine.retention.set(Some(m), level, Some(keep));
        }
    }

    let q = file.query;
    let query = ExecLimits {
        timeout: Duration::from_secs(
            at_least_one("[query] timeout_s", q.timeout_s)?.unwrap_or(DEFAULT_QUERY_TIMEOUT_S),
        ),
        max_memory_bytes: usize::try_from(
            at_least_one("[query] max_memory_mb", q.max_memory_mb)?
                .unwrap_or(DEFAULT_QUERY_MAX_MEMORY_MB)
                .saturating_mul(1 << 20),
        )
        .unwrap_or(usize::MAX),
        max_rows: usize::try_from(
            at_least_one("[query] max_rows", q.max_rows)?.unwrap_or(DEFAULT_QUERY_MAX_ROWS),
        )
        .unwrap_or(usize::MAX),
    };

    Ok(Settings {
        config_file,
        data_dir,
        http_addr,
        tcp_addr,
        log_level,
        max_body_bytes,
        shutdown_timeout,
        limits,
        engine,
        query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use std::sync::Mutex;

    /// Serialises the tests that set `TALLY_*` variables: clap reads them while parsing.
    static ENV: Mutex<()> = Mutex::new(());

    fn parse_serve(argv: &[&str]) -> ServeArgs {
        let mut full = vec!["tally", "serve"];
        full.extend_from_slice(argv);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Serve(a) => a,
            other => panic!("expected serve, got {other:?}"),
        }
    }

    fn file(text: &str) -> Option<(PathBuf, FileConfig)> {
        let p = PathBuf::from("tally.toml");
        let f = parse_file(&p, text).unwrap();
        Some((p, f))
    }

    #[test]
    fn the_documented_sample_config_is_valid_and_matches_the_defaults() {
        let doc = include_str!("../../docs/configuration.md");
        let start = doc
            .find("```toml\n")
            .expect("docs/configuration.md has a toml block")
            + 8;
        let end = start + doc[start..].find("```").expect("the toml block is closed");
        let path = Path::new("docs/configuration.md");
        let file = parse_file(path, &doc[start..end]).unwrap();
        let mut documented =
            resolve_with(&ServeArgs::default(), Some((path.to_path_buf(), file))).unwrap();
        documented.config_file = None;
        let defaults = resolve_with(&ServeArgs::default(), None).unwrap();
        assert_eq!(format!("{documented:?}"), format!("{defaults:?}"));
    }

    #[test]
    fn defaults_need_no_config() {
        let s = resolve_with(&ServeArgs::default(), None).unwrap();
        assert_eq!(s.data_dir, PathBuf::from("./data"));
        assert_eq!(s.http_addr, "127.0.0.1:8086");
        assert_eq!(s.tcp_addr.as_deref(), Some("127.0.0.1:8094"));
        assert_eq!(s.log_level, "info");
        assert_eq!(s.max_body_bytes, 32 << 20);
        assert_eq!(s.engine.sync, SyncPolicy::EveryBatch);
        assert_eq!(s.engine.event_measurements, vec!["requests".to_owned()]);
        assert!(s.config_file.is_none());
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let _g = ENV.lock().unwrap_or_else(|e| e.into_inner());
        let toml = r#"
            [server]
            http_addr = "127.0.0.1:1001"
            tcp_addr = "127.0.0.1:1002"
            data_dir = "/from/file"
            log_level = "warn"
        "#;
        std::env::set_var("TALLY_HTTP_ADDR", "127.0.0.1:2001");
        std::env::set_var("TALLY_DATA_DIR", "/from/env");
        let args = parse_serve(&["--http-addr", "127.0.0.1:3001"]);
        std::env::remove_var("TALLY_HTTP_ADDR");
        std::env::remove_var("TALLY_DATA_DIR");
        let s = resolve_with(&args, file(toml)).unwrap();
        assert_eq!(s.http_addr, "127.0.0.1:3001", "flag wins over env and file");
        assert_eq!(s.data_dir, PathBuf::from("/from/env"), "env wins over file");
        assert_eq!(
            s.tcp_addr.as_deref(),
            Some("127.0.0.1:1002"),
            "file wins over default"
        );
        assert_eq!(s.log_level, "warn");
        assert_eq!(s.config_file, Some(PathBuf::from("tally.toml")));
    }

    #[test]
    fn config_path_comes_from_env_too() {
        let _g = ENV.lock().unwrap_or_else(|e| e.into_inner());
        std::env::set_var("TALLY_CONFIG", "/etc/tally.toml");
        let from_env = parse_serve(&[]);
        let from_flag = parse_serve(&["--config", "/opt/t.toml"]);
        std::env::remove_var("TALLY_CONFIG");
        assert_eq!(from_env.config, Some(PathBuf::from("/etc/tally.toml")));
        assert_eq!(from_flag.config, Some(PathBuf::from("/opt/t.toml")));
    }

    #[test]
    fn unknown_key_names_key_file_and_line() {
        let text = "[server]\nhttp_addr = \"127.0.0.1:1\"\nhttp_adr = \"x\"\n";
        let err = parse_file(Path::new("/etc/tally.toml"), text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("http_adr"), "{msg}");
        assert!(msg.contains("/etc/tally.toml"), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn unknown_section_is_an_error() {
        let err = parse_file(Path::new("t.toml"), "[sever]\nx = 1\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("sever"), "{msg}");
        assert!(msg.contains("line 1"), "{msg}");
    }

    #[test]
    fn wrong_type_is_an_error_with_its_line() {
        let err = parse_file(Path::new("t.toml"), "[limits]\n\nmax_tags = \"many\"\n").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    #[test]
    fn storage_section_maps_to_engine_options() {
        let s = resolve_with(
            &ServeArgs::default(),
            file(
                r#"
                [storage]
                sync = "interval"
                sync_interval_ms = 250
                event_measurements = ["requests", "clicks"]
                distribution_fields = ["tokens", "cost_usd"]
                sketch_accuracy = 0.005
                compaction_mb_per_s = 10
                head_max_mb = 8
                flush_interval_s = 60
                write_queue = 4
                [limits]
                max_line_bytes = 1000
                max_tags = 3
                max_fields = 5
                [server]
                max_body_bytes = 4096
                tcp_addr = "off"
                "#,
            ),
        )
        .unwrap();
        assert_eq!(
            s.engine.sync,
            SyncPolicy::Interval(Duration::from_millis(250))
        );
        assert_eq!(s.engine.event_measurements, vec!["requests", "clicks"]);
        assert_eq!(s.engine.distribution_fields, vec!["tokens", "cost_usd"]);
        assert!(s.engine.is_distribution_field("cost_usd"));
        assert_eq!(
            s.engine.sketch_accuracy,
            RelativeAccuracy::new(0.005).unwrap()
        );
        assert_eq!(s.engine.compaction_bytes_per_sec, Some(10 << 20));
        assert_eq!(s.engine.head_max_bytes, 8 << 20);
        assert_eq!(s.engine.flush_interval, Duration::from_secs(60));
        assert_eq!(s.engine.write_queue, 4);
        assert_eq!(
            s.limits,
            Limits {
                max_line_bytes: 1000,
                max_tags: 3,
                max_fields: 5
            }
        );
        assert_eq!(s.max_body_bytes, 4096);
        assert_eq!(s.tcp_addr, None);
    }

    #[test]
    fn query_section_sets_the_budgets() {
        let d = resolve_with(&ServeArgs::default(), None).unwrap();
        assert_eq!(d.query.timeout, Duration::from_secs(30));
        assert_eq!(d.query.max_memory_bytes, 1 << 30);
        assert_eq!(d.query.max_rows, 1_000_000);
        assert_eq!(
            d.query,
            ExecLimits::default(),
            "the server's defaults are the library's"
        );
        let s = resolve_with(
            &ServeArgs::default(),
            file("[query]\ntimeout_s = 5\nmax_memory_mb = 64\nmax_rows = 10\n"),
        )
        .unwrap();
        assert_eq!(
            s.query,
            ExecLimits {
                timeout: Duration::from_secs(5),
                max_memory_bytes: 64 << 20,
                max_rows: 10,
            }
        );
        let s = resolve_with(&ServeArgs::default(), file("[query]\nmax_rows = 7\n")).unwrap();
        assert_eq!(s.query.max_rows, 7);
        assert_eq!(
            s.query.timeout,
            Duration::from_secs(30),
            "unset keys keep the default"
        );
    }

    #[test]
    fn bad_query_values_name_the_key() {
        for (text, key, needle) in [
            (
                "[query]\ntimeout_s = 0\n",
                "[query] timeout_s",
                "at least 1",
            ),
            (
                "[query]\nmax_memory_mb = 0\n",
                "[query] max_memory_mb",
                "at least 1",
            ),
            ("[query]\nmax_rows = 0\n", "[query] max_rows", "at least 1"),
        ] {
            let msg = resolve_with(&ServeArgs::default(), file(text))
                .unwrap_err()
                .to_string();
            assert!(msg.contains(key) && msg.contains(needle), "{text}: {msg}");
        }
        for (text, line, needle) in [
            ("[query]\ntimeout_s = -1\n", 2, "timeout_s"),
            ("[query]\n\nmax_row = 5\n", 3, "max_row"),
            ("[query]\nmax_memory_mb = \"1G\"\n", 2, "max_memory_mb"),
        ] {
            let msg = parse_file(Path::new("t.toml"), text)
                .unwrap_err()
                .to_string();
            assert!(msg.contains(&format!("line {line}")), "{text}: {msg}");
            assert!(msg.contains(needle), "{text}: {msg}");
        }
    }

    #[test]
    fn compaction_budget_zero_is_unthrottled() {
        let s = resolve_with(
            &ServeArgs::default(),
            file("[storage]\ncompaction_mb_per_s = 0\n"),
        )
        .unwrap();
        assert_eq!(s.engine.compaction_bytes_per_sec, None);
        let s = resolve_with(
            &ServeArgs::default(),
            file("[storage]\ncompaction_mb_per_s = 0.5\nblock_cache_mb = 0\n"),
        )
        .unwrap();
        assert_eq!(s.engine.compaction_bytes_per_sec, Some(512 << 10));
        assert_eq!(s.engine.block_cache_bytes, 0);
        let d = resolve_with(&ServeArgs::default(), None).unwrap();
        assert_eq!(d.engine.compaction_bytes_per_sec, Some(64 << 20));
        assert_eq!(d.engine.block_cache_bytes, 128 << 20);
    }

    #[test]
    fn retention_section_sets_defaults_and_per_measurement_overrides() {
        let s = resolve_with(
            &ServeArgs::default(),
            file(
                r#"
                [retention]
                raw = "2d"
                hour = "3y"
                [retention.measurements.cost]
                raw = "forever"
                day = "10y"
                [retention.measurements.requests]
                minute = "30d"
                "#,
            ),
        )
        .unwrap();
        let p = &s.engine.retention;
        let days = |n: u64| Keep::For(Duration::from_secs(n * 86_400));
        let [raw, minute, hour, day] = Level::ALL;
        assert_eq!(p.keep("other", raw), days(2));
        assert_eq!(
            p.keep("other", minute),
            days(90),
            "unset levels keep the default"
        );
        assert_eq!(p.keep("other", hour), days(3 * 365));
        assert_eq!(p.keep("other", day), Keep::Forever);
        assert_eq!(p.keep("cost", raw), Keep::Forever);
        assert_eq!(p.keep("cost", minute), days(90));
        assert_eq!(p.keep("cost", day), days(3650));
        assert_eq!(p.keep("requests", raw), days(2));
        assert_eq!(p.keep("requests", minute), days(30));
        assert_eq!(p.measurements.len(), 2);
    }

    #[test]
    fn bad_retention_values_name_the_key_and_line() {
        for (text, line, needle) in [
            (
                "[retention]\nraw = \"7d\"\nhour = \"2x\"\n",
                3,
                "use s, m, h, d, w or y",
            ),
            ("[retention]\nday = \"never\"\n", 2, "forever"),
            ("[retention]\nminute = 90\n", 2, "a duration such as"),
            ("[retention.measurements.cost]\n\nraw = \"0d\"\n", 3, "zero"),
            ("[retention.measurements.cost]\nweek = \"1d\"\n", 2, "week"),
            ("[retention]\nweek = \"1d\"\n", 2, "week"),
        ] {
            let msg = parse_file(Path::new("t.toml"), text)
                .unwrap_err()
                .to_string();
            assert!(msg.contains("t.toml"), "{text}: {msg}");
            assert!(msg.contains(&format!("line {line}")), "{text}: {msg}");
            assert!(msg.contains(needle), "{text}: {msg}");
            let key = text
                .lines()
                .nth(line - 1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap();
            assert!(
                msg.contains(key),
                "{text}: the error does not name {key}: {msg}"
            );
        }
    }

    #[test]
    fn the_old_storage_retention_key_says_where_it_moved() {
        let err = resolve_with(
            &ServeArgs::default(),
            file("[storage]\nretention = { requests = \"90d\" }\n"),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("[retention.measurements.requests]"), "{msg}");
    }

    #[test]
    fn bad_values_name_key_and_file() {
        for (text, key) in [
            ("[storage]\nwrite_queue = 0\n", "write_queue"),
            ("[storage]\nsync_interval_ms = 10\n", "sync_interval_ms"),
            ("[server]\nmax_body_bytes = 10\n", "max_line_bytes"),
            ("[storage]\nsync = \"sometimes\"\n", "sometimes"),
            ("[storage]\nsketch_accuracy = 0.9\n", "sketch_accuracy"),
            ("[storage]\nsketch_accuracy = 0\n", "sketch_accuracy"),
            (
                "[storage]\ndistribution_fields = [\"\"]\n",
                "distribution_fields",
            ),
            (
                "[storage]\ncompaction_mb_per_s = -1\n",
                "compaction_mb_per_s",
            ),
            (
                "[storage]\ncompaction_mb_per_s = nan\n",
                "compaction_mb_per_s",
            ),
            (
                "[retention.measurements.\"\"]\nraw = \"1d\"\n",
                "retention.measurements",
            ),
        ] {
            let err = parse_file(Path::new("t.toml"), text)
                .and_then(|f| resolve_with(&ServeArgs::default(), Some(("t.toml".into(), f))))
                .unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(key) && msg.contains("t.toml"), "{text}: {msg}");
        }
    }

    #[test]
    fn missing_file_says_which() {
        let args = ServeArgs {
            config: Some(PathBuf::from("/no/such/tally.toml")),
            ..ServeArgs::default()
        };
        let msg = resolve(&args).unwrap_err().to_string();
        assert!(msg.contains("/no/such/tally.toml"), "{msg}");
    }
}
