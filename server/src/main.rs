//! `tally`: one binary that stores, queries and shows time series about API usage and AI spend.
//!
//! `tally serve` runs the server (see [`serve`]); `tally points` prints raw points from a
//! running server (see [`points`]). This file only dispatches.

mod app;
mod cli;
mod config;
mod datadir;
mod duration;
mod http;
mod lines;
mod logging;
mod metrics;
mod points;
mod retention;
mod serve;
mod shutdown;
mod tcp;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Serve(args) => serve::run(args),
        cli::Command::Points(args) => points::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
