//! The command line: `tally serve` and the `tally points` debug command.
//!
//! Flags read their environment variable through clap, so a flag beats its variable; the config
//! file and the built-in defaults come after both (see [`crate::config`]).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

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
    fn serve_rejects_unknown_flags() {
        assert!(Cli::try_parse_from(["tally", "serve", "--no-such-flag"]).is_err());
    }
}
