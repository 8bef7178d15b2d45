//! `tally`: one binary that stores, queries and shows time series about API usage and AI spend.
//!
//! `tally serve` runs the server (see [`serve`]); `tally query` and `tally shell` query a running
//! server and `tally saved` manages and runs its saved queries (see [`query_cli`]); `tally
//! points` prints raw points from a running server (see [`points`]). This file only dispatches.

mod app;
mod cli;
mod client;
mod config;
mod datadir;
mod duration;
mod http;
mod lines;
mod logging;
mod metrics;
mod points;
mod query_cli;
mod retention;
mod saved;
mod serve;
mod shutdown;
mod tcp;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Serve(args) => saved::check_before_serve(&args)
            .and_then(|()| serve::run(args))
            .map(|()| ExitCode::SUCCESS),
        cli::Command::Points(args) => points::run(args).map(|()| ExitCode::SUCCESS),
        cli::Command::Query(args) => query_cli::query(args),
        cli::Command::Shell(args) => query_cli::shell(args),
        cli::Command::Saved(args) => query_cli::saved(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
