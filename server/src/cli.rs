//! The command line: `tally serve`, `tally query`, `tally shell` and `tally saved` (see
//! [`crate::query_cli`]), and the `tally points` debug command.
//!
//! Flags read their environment variable through clap, so a flag beats its variable; the config
//! file and the built-in defaults come after both (see [`crate::config`]).

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::Value;
use std::path::PathBuf;
use tally_query::format::EpochUnit;
use tally_query::params::ParamType;

/// Default address of the HTTP API: InfluxDB's port, so Influx clients and Telegraf work
/// unchanged; loopback so a first start exposes nothing to the network.
pub(crate) const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8086";
/// Default address of the TCP line-protocol listener: Telegraf's `socket_listener` port.
pub(crate) const DEFAULT_TCP_ADDR: &str = "127.0.0.1:8094";

/// Tally: a time-series store for API usage and AI spend.
#[derive(Debug, Parser)]
#[command(name = "tally", version, about, long_about = None)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the server: HTTP API and dashboard, TCP line-protocol listener, storage.
    Serve(ServeArgs),
    /// Print the raw points of a measurement as JSON (asks a running server's /debug/points).
    Points(PointsArgs),
    /// Run a query on a running server and print the result (asks its POST /query).
    Query(QueryArgs),
    /// An interactive query prompt on a running server; reads statements from stdin when it is
    /// not a terminal.
    Shell(ShellArgs),
    /// Saved queries on a running server: list, show, save, delete and run them (asks its
    /// /queries).
    Saved(SavedArgs),
}

/// Flags of `tally serve`. Each one overrides its environment variable, which overrides the
/// config file, which overrides the default.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ServeArgs {
    /// TOML config file with [server], [limits] and [storage] sections.
    #[arg(long, env = "TALLY_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Directory for the WAL, segments and index [default: ./data].
    #[arg(long, env = "TALLY_DATA_DIR", value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Address of the HTTP API and dashboard [default: 127.0.0.1:8086].
    #[arg(long, env = "TALLY_HTTP_ADDR", value_name = "ADDR")]
    pub(crate) http_addr: Option<String>,
    /// Address of the TCP line-protocol listener, or `off` [default: 127.0.0.1:8094].
    #[arg(long, env = "TALLY_TCP_ADDR", value_name = "ADDR")]
    pub(crate) tcp_addr: Option<String>,
    /// Log level or tracing filter, e.g. `info`, `debug`, `tally=debug,hyper=info` [default: info].
    #[arg(long, env = "TALLY_LOG", value_name = "LEVEL")]
    pub(crate) log_level: Option<String>,
}

/// Flags of `tally points`.
#[derive(Debug, Clone, Args)]
pub(crate) struct PointsArgs {
    /// The measurement to read.
    #[arg(long, short)]
    pub(crate) measurement: String,
    /// Only series whose tag KEY equals VALUE; repeat for several (all must hold).
    #[arg(long = "where", value_name = "KEY=VALUE")]
    pub(crate) wheres: Vec<String>,
    /// First timestamp (ns since the epoch, inclusive).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) start: Option<i64>,
    /// End timestamp (ns since the epoch, exclusive).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) end: Option<i64>,
    /// Address of the running server.
    #[arg(long, env = "TALLY_HTTP_ADDR", default_value = DEFAULT_HTTP_ADDR, value_name = "ADDR")]
    pub(crate) addr: String,
}

/// Flags of `tally query`.
#[derive(Debug, Clone, Args)]
pub(crate) struct QueryArgs {
    /// The query: one or more statements separated by `;`.
    #[arg(value_name = "QUERY")]
    pub(crate) query: String,
    /// Where and how.
    #[command(flatten)]
    pub(crate) client: QueryClientArgs,
}

/// Flags of `tally shell`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ShellArgs {
    /// Where and how.
    #[command(flatten)]
    pub(crate) client: QueryClientArgs,
}

/// The flags `tally query` and `tally shell` share.
#[derive(Debug, Clone, Args)]
pub(crate) struct QueryClientArgs {
    /// Address of the running server.
    #[arg(long, env = "TALLY_HTTP_ADDR", default_value = DEFAULT_HTTP_ADDR, value_name = "ADDR")]
    pub(crate) addr: String,
    /// How to print results.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub(crate) format: OutputFormat,
    /// Print times as whole ns, us, ms or s since the Unix epoch instead of RFC 3339.
    #[arg(long, value_name = "UNIT", value_parser = parse_epoch)]
    pub(crate) epoch: Option<EpochUnit>,
    /// Bind the query parameter $KEY: KEY=VALUE binds a string, KEY:=JSON a number or boolean
    /// (e.g. --param limit:=10); repeat for several.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub(crate) params: Vec<(String, Value)>,
}

/// Flags of `tally saved`.
#[derive(Debug, Clone, Args)]
pub(crate) struct SavedArgs {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: SavedCommand,
}

/// The subcommands of `tally saved`.
#[derive(Debug, Clone, Subcommand)]
pub(crate) enum SavedCommand {
    /// List the saved queries: name, parameters, description.
    List(SavedListArgs),
    /// Show one saved query: its text, parameters and description.
    Show(SavedShowArgs),
    /// Save a query under a name (replacing one of that name).
    Save(SavedSaveArgs),
    /// Delete a saved query.
    Delete(SavedNameArgs),
    /// Run a saved query and print the result as `tally query` does.
    Run(SavedRunArgs),
}

/// The address flag of the `tally saved` commands that print no query result.
#[derive(Debug, Clone, Args)]
pub(crate) struct ServerArgs {
    /// Address of the running server.
    #[arg(long, env = "TALLY_HTTP_ADDR", default_value = DEFAULT_HTTP_ADDR, value_name = "ADDR")]
    pub(crate) addr: String,
}

/// Flags of `tally saved list`.
#[derive(Debug, Clone, Args)]
pub(crate) struct SavedListArgs {
    /// How to print the list (`json`: the server's answer).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub(crate) format: OutputFormat,
    /// Where.
    #[command(flatten)]
    pub(crate) server: ServerArgs,
}

/// Flags of `tally saved show`.
#[derive(Debug, Clone, Args)]
pub(crate) struct SavedShowArgs {
    /// The saved query's name.
    pub(crate) name: String,
    /// Print the server's JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
    /// Where.
    #[command(flatten)]
    pub(crate) server: ServerArgs,
}

/// Flags of `tally saved delete`.
#[derive(Debug, Clone, Args)]
pub(crate) struct SavedNameArgs {
    /// The saved query's name.
    pub(crate) name: String,
    /// Where.
    #[command(flatten)]
    pub(crate) server: ServerArgs,
}

/// Flags of `tally saved save`.
#[derive(Debug, Clone, Args)]
pub(crate) struct SavedSaveArgs {
    /// The name: 1 to 64 letters, digits, `_`, `.` or `-`.
    pub(crate) name: String,
    /// The query text, using `$KEY` for each parameter.
    #[arg(long, value_name = "TEXT")]
    pub(crate) query: String,
    /// Declare the parameter $KEY with its type: string, integer, float, boolean, time or
    /// duration (e.g. --param-type from=time); repeat for each parameter the query uses.
    #[arg(long = "param-type", value_name = "KEY=TYPE", value_parser = parse_param_type)]
    pub(crate) param_types: Vec<(String, ParamType)>,
    /// A default for $KEY, used when a run does not give it: KEY=VALUE as text (read by the
    /// parameter's type, e.g. from=2026-01-01 or window=7d), or KEY:=JSON.
    #[arg(long = "default", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub(crate) defaults: Vec<(String, Value)>,
    /// What the query answers, for the people who run it.
    #[arg(long, value_name = "TEXT")]
    pub(crate) description: Option<String>,
    /// Where.
    #[command(flatten)]
    pub(crate) server: ServerArgs,
}

/// Flags of `tally saved run`.
#[derive(Debug, Clone, Args)]
pub(crate) struct SavedRunArgs {
    /// The saved query's name.
    pub(crate) name: String,
    /// Where and how; `--param KEY=VALUE` values are read by each parameter's declared type.
    #[command(flatten)]
    pub(crate) client: QueryClientArgs,
}

/// How `tally query` and `tally shell` print results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// Aligned columns with a row count.
    Table,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// `{"columns": [...], "rows": [...]}` as /query answers.
    Json,
}

fn parse_epoch(text: &str) -> Result<EpochUnit, String> {
    text.parse()
        .map_err(|e: tally_query::format::FormatError| e.to_string())
}

/// `KEY=VALUE` (a string) or `KEY:=JSON` (a number, boolean or quoted string).
fn parse_param(text: &str) -> Result<(String, Value), String> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(format!(
            "'{text}' is not KEY=VALUE; write e.g. --param key=abc, or --param limit:=10 for a number"
        ));
    };
    let (key, value) = match key.strip_suffix(':') {
        Some(key) => {
            let v: Value = serde_json::from_str(value).map_err(|e| {
                format!("the value of '{text}' is not JSON ({e}); write e.g. limit:=10 or on:=true, or key=abc for a string")
            })?;
            if !(v.is_number() || v.is_boolean() || v.is_string()) {
                return Err(format!(
                    "the value of '{text}' is {v}; a parameter is a number, true/false or a string"
                ));
            }
            (key, v)
        }
        None => (key, Value::String(value.to_owned())),
    };
    let key = key.strip_prefix('$').unwrap_or(key);
    if key.is_empty() {
        return Err(format!(
            "'{text}' has no name before '='; write e.g. --param key=abc"
        ));
    }
    Ok((key.to_owned(), value))
}

/// `KEY=TYPE` with a parameter type; a leading `$` on the key is dropped.
fn parse_param_type(text: &str) -> Result<(String, ParamType), String> {
    let Some((key, ty)) = text.split_once('=') else {
        return Err(format!(
            "'{text}' is not KEY=TYPE; write e.g. --param-type key=string or --param-type from=time"
        ));
    };
    let key = key.strip_prefix('$').unwrap_or(key);
    if key.is_empty() {
        return Err(format!(
            "'{text}' has no name before '='; write e.g. --param-type key=string"
        ));
    }
    let ty = ty.parse::<ParamType>().map_err(|e| e.to_string())?;
    Ok((key.to_owned(), ty))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn points_takes_repeated_where() {
        let cli = Cli::try_parse_from([
            "tally",
            "points",
            "--measurement",
            "cpu",
            "--where",
            "host=a",
            "--where",
            "dc=x",
            "--addr",
            "127.0.0.1:1",
        ])
        .unwrap();
        let Command::Points(p) = cli.command else {
            panic!("expected points");
        };
        assert_eq!(p.measurement, "cpu");
        assert_eq!(p.wheres, vec!["host=a", "dc=x"]);
        assert_eq!(p.addr, "127.0.0.1:1");
    }

    #[test]
    fn query_takes_format_epoch_and_typed_params() {
        let cli = Cli::try_parse_from([
            "tally",
            "query",
            "SHOW MEASUREMENTS",
            "--format",
            "csv",
            "--epoch",
            "ms",
            "--param",
            "key=a=b",
            "--param",
            "$limit:=10",
            "--param",
            "on:=true",
            "--addr",
            "127.0.0.1:1",
        ])
        .unwrap();
        let Command::Query(q) = cli.command else {
            panic!("expected query");
        };
        assert_eq!(q.query, "SHOW MEASUREMENTS");
        assert_eq!(q.client.format, OutputFormat::Csv);
        assert_eq!(q.client.epoch, Some(EpochUnit::Milliseconds));
        assert_eq!(
            q.client.params,
            vec![
                ("key".to_owned(), Value::from("a=b")),
                ("limit".to_owned(), Value::from(10)),
                ("on".to_owned(), Value::from(true)),
            ]
        );
        assert_eq!(q.client.addr, "127.0.0.1:1");
        let shell = Cli::try_parse_from(["tally", "shell"]).unwrap();
        let Command::Shell(s) = shell.command else {
            panic!("expected shell");
        };
        assert_eq!(s.client.format, OutputFormat::Table);
        for bad in ["novalue", "=x", "n:=[1]", "n:=abc"] {
            assert!(
                Cli::try_parse_from(["tally", "query", "q", "--param", bad]).is_err(),
                "{bad}"
            );
        }
        assert!(Cli::try_parse_from(["tally", "query", "q", "--epoch", "h"]).is_err());
        assert!(Cli::try_parse_from(["tally", "query", "q", "--format", "xml"]).is_err());
    }

    #[test]
    fn saved_takes_its_subcommands() {
        let cli = Cli::try_parse_from([
            "tally",
            "saved",
            "save",
            "by_key",
            "--query",
            "SELECT count(*) FROM r WHERE key = $key AND time > $from",
            "--param-type",
            "key=string",
            "--param-type",
            "$from=TIME",
            "--default",
            "from=2026-01-01",
            "--description",
            "d",
            "--addr",
            "127.0.0.1:1",
        ])
        .unwrap();
        let Command::Saved(SavedArgs {
            command: SavedCommand::Save(s),
        }) = cli.command
        else {
            panic!("expected saved save");
        };
        assert_eq!(s.name, "by_key");
        assert_eq!(
            s.param_types,
            vec![
                ("key".to_owned(), ParamType::String),
                ("from".to_owned(), ParamType::Time)
            ]
        );
        assert_eq!(
            s.defaults,
            vec![("from".to_owned(), Value::from("2026-01-01"))]
        );
        assert_eq!(s.description.as_deref(), Some("d"));
        assert_eq!(s.server.addr, "127.0.0.1:1");

        let cli = Cli::try_parse_from([
            "tally", "saved", "run", "by_key", "--param", "key=k1", "--format", "csv",
        ])
        .unwrap();
        let Command::Saved(SavedArgs {
            command: SavedCommand::Run(r),
        }) = cli.command
        else {
            panic!("expected saved run");
        };
        assert_eq!(r.name, "by_key");
        assert_eq!(r.client.params, vec![("key".to_owned(), Value::from("k1"))]);
        assert_eq!(r.client.format, OutputFormat::Csv);
        for ok in [
            &["tally", "saved", "list", "--format", "json"][..],
            &["tally", "saved", "show", "x", "--json"],
            &["tally", "saved", "delete", "x"],
        ] {
            assert!(Cli::try_parse_from(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            &["tally", "saved", "save", "x"][..],
            &[
                "tally",
                "saved",
                "save",
                "x",
                "--query",
                "q",
                "--param-type",
                "k=text",
            ],
            &[
                "tally",
                "saved",
                "save",
                "x",
                "--query",
                "q",
                "--param-type",
                "k",
            ],
            &[
                "tally",
                "saved",
                "save",
                "x",
                "--query",
                "q",
                "--param-type",
                "=string",
            ],
            &["tally", "saved", "show"],
            &["tally", "saved", "frobnicate"],
        ] {
            assert!(Cli::try_parse_from(bad).is_err(), "{bad:?}");
        }
        let err = parse_param_type("k=text").unwrap_err();
        assert!(err.contains("unknown parameter type `text`"), "{err}");
    }

    #[test]
    fn serve_rejects_unknown_flags() {
        assert!(Cli::try_parse_from(["tally", "serve", "--no-such-flag"]).is_err());
    }
}
