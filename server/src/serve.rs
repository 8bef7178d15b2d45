//! `tally serve`: start-up in the order that gives the clearest errors, running, and graceful
//! shutdown.
//!
//! Start-up: settings, logging, data directory check, bind both ports (so "port in use" comes
//! before a possibly long WAL replay), open the database, log what recovery repaired, serve,
//! announce the URLs. Shutdown on SIGTERM/SIGINT: stop accepting, let in-flight requests and TCP
//! batches finish (up to `shutdown_timeout_s`), then close the database, which flushes and
//! syncs. A second signal exits at once; the WAL still holds every acknowledged write.

use crate::app::App;
use crate::cli::ServeArgs;
use crate::config::{self, Settings};
use crate::shutdown;
use crate::{datadir, http, logging, tcp};
use anyhow::{anyhow, Context, Result};
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use tally_engine::{Db, RecoveryReport};
use tokio::net::TcpListener;
use tracing::{error, info, warn};

/// Runs the server until SIGTERM/SIGINT.
pub(crate) fn run(args: ServeArgs) -> Result<()> {
    let settings = config::resolve(&args)?;
    logging::init(&settings.log_level)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("tally")
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(serve(settings, args));
    if let Err(e) = &result {
        error!(error = %format!("{e:#}"), "tally stopped with an error");
    }
    result
}

async fn serve(settings: Settings, args: ServeArgs) -> Result<()> {
    if let Some(file) = &settings.config_file {
        info!(file = %file.display(), "read config file");
    }
    datadir::ensure_writable(&settings.data_dir)?;
    let http_listener = bind(&settings.http_addr, "--http-addr").await?;
    let tcp_listener = match &settings.tcp_addr {
        Some(addr) => Some(bind(addr, "--tcp-addr").await?),
        None => None,
    };
    let http_addr = http_listener
        .local_addr()
        .context("reading the HTTP address")?;
    let tcp_addr = tcp_listener
        .as_ref()
        .map(TcpListener::local_addr)
        .transpose()
        .context("reading the TCP address")?;

    let db = open_db(&settings).await?;
    log_recovery(db.recovery());

    let grace = settings.shutdown_timeout;
    let app = App::new(Arc::new(db), settings);
    let (trigger, stop) = shutdown::channel();
    let http_task = tokio::spawn(http::serve(
        http_listener,
        Arc::clone(&app),
        stop.clone(),
        grace,
    ));
    let tcp_task =
        tcp_listener.map(|l| tokio::spawn(tcp::serve(l, Arc::clone(&app), stop.clone(), grace)));
    announce(&app.settings, http_addr, tcp_addr);
    reload_on_hangup(Arc::clone(&app), args);

    let signal = shutdown::signal().await;
    info!(
        signal,
        "shutting down: no new connections; finishing in-flight writes"
    );
    trigger.fire();
    tokio::spawn(async {
        let again = shutdown::signal().await;
        warn!(
            signal = again,
            "second signal: exiting without waiting; the WAL holds every acknowledged write"
        );
        std::process::exit(130);
    });
    if let Err(e) = http_task.await {
        error!(error = %e, "the HTTP server task failed");
    }
    if let Some(t) = tcp_task {
        if let Err(e) = t.await {
            error!(error = %e, "the TCP listener task failed");
        }
    }

    let db = Arc::clone(&app.db);
    match tokio::task::spawn_blocking(move || db.close()).await {
        Ok(Ok(())) => {
            info!("database closed: head flushed and synced; goodbye");
            Ok(())
        }
        Ok(Err(e)) => Err(anyhow!(
            "closing the database failed: {e}; acknowledged writes are in the WAL and are \
             replayed at the next start"
        )),
        Err(join) => Err(anyhow!("closing the database panicked: {join}")),
    }
}

/// Binds `addr` with an error that says what to do about it.
async fn bind(addr: &str, flag: &str) -> Result<TcpListener> {
    let resolved: Vec<SocketAddr> = tokio::net::lookup_host(addr)
        .await
        .map_err(|e| {
            anyhow!(
                "invalid address '{addr}' for {flag} ({e}); give HOST:PORT such as 127.0.0.1:8086"
            )
        })?
        .collect();
    let mut last = None;
    for a in &resolved {
        match TcpListener::bind(a).await {
            Ok(l) => return Ok(l),
            Err(e) => last = Some((*a, e)),
        }
    }
    Err(match last {
        Some((a, e)) => bind_error(a, &e, flag),
        None => anyhow!(
            "'{addr}' ({flag}) resolves to no address; give HOST:PORT such as 127.0.0.1:8086"
        ),
    })
}

/// A bind failure as a sentence with the fix.
fn bind_error(addr: SocketAddr, e: &std::io::Error, flag: &str) -> anyhow::Error {
    use std::io::ErrorKind;
    let ip = addr.ip();
    let disable = if flag == "--tcp-addr" {
        " (or --tcp-addr off to run without the TCP listener)"
    } else {
        ""
    };
    match e.kind() {
        ErrorKind::AddrInUse => {
            anyhow!("{addr} is in use; stop the other process or pass {flag} {ip}:PORT{disable}")
        }
        ErrorKind::PermissionDenied => anyhow!(
            "cannot listen on {addr}: permission denied; ports below 1024 need root, pass \
             {flag} {ip}:PORT with a port above 1024"
        ),
        ErrorKind::AddrNotAvailable => anyhow!(
            "cannot listen on {addr}: the address does not belong to this machine; pass {flag} \
             with 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)"
        ),
        _ => anyhow!("cannot listen on {addr} ({flag}): {e}"),
    }
}

async fn open_db(settings: &Settings) -> Result<Db> {
    let dir = settings.data_dir.clone();
    let opts = settings.engine.clone();
    info!(data_dir = %dir.display(), "opening the database (replaying the WAL)");
    let shown = dir.display().to_string();
    match tokio::task::spawn_blocking(move || Db::open(&dir, opts)).await {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(e)) => Err(anyhow!("cannot open the database in {shown}: {e}")),
        Err(join) => Err(anyhow!(
            "opening the database in {shown} panicked ({join}); this is a bug in tally, please \
             report it with the server log"
        )),
    }
}

/// Logs what start-up found: one info line, and a warning per truncated or quarantined file.
fn log_recovery(r: &RecoveryReport) {
    info!(
        wal_records = r.wal_records,
        wal_points = r.wal_points,
        segments = r.segments,
        series = r.series,
        truncated = r.wal_truncated.len(),
        quarantined = r.quarantined.len(),
        "recovery done: replayed {} WAL records ({} points); {} segments, {} series",
        r.wal_records,
        r.wal_points,
        r.segments,
        r.series
    );
    for (file, kept, reason) in &r.wal_truncated {
        warn!(
            file = %file.display(),
            bytes_kept = kept,
            reason = %reason,
            "WAL file {} truncated to {kept} bytes: {reason}; writes after that point were never acknowledged",
            file.display()
        );
    }
    for (from, to, reason) in &r.quarantined {
        warn!(
            file = %from.display(),
            moved_to = %to.display(),
            reason = %reason,
            "quarantined {} (moved to {}): {reason}; the rest of the data keeps serving",
            from.display(),
            to.display()
        );
    }
}

/// Says where the server is: a structured log line and one human line on stdout.
fn announce(settings: &Settings, http: SocketAddr, tcp: Option<SocketAddr>) {
    let base = format!("http://{}", browsable(http));
    let data = settings.data_dir.display();
    info!(
        version = env!("CARGO_PKG_VERSION"),
        dashboard = %format!("{base}/"),
        write = %format!("{base}/write"),
        health = %format!("{base}/health"),
        tcp = %tcp.map_or_else(|| "off".to_owned(), |t| t.to_string()),
        data_dir = %data,
        "tally is ready"
    );
    let tcp_part = match tcp {
        Some(t) => format!("line protocol over TCP on {t}"),
        None => "TCP line-protocol listener off".to_owned(),
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "tally listening on {base} ({tcp_part}), data in {data}"
    );
    let _ = out.flush();
}

/// The address to put in a URL: an unspecified IP (0.0.0.0, ::) becomes loopback.
fn browsable(addr: SocketAddr) -> SocketAddr {
    let mut a = addr;
    if a.ip().is_unspecified() {
        a.set_ip(if a.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    a
}

/// On SIGHUP, rereads the config file and applies what can change without a restart: the
/// retention levels (run-time changes made through the admin API stay on top). A file that no
/// longer parses is reported and the running settings are kept.
fn reload_on_hangup(app: Arc<App>, args: ServeArgs) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hup = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "cannot listen for SIGHUP; config reload needs a restart");
                return;
            }
        };
        while hup.recv().await.is_some() {
            match config::resolve(&args) {
                Ok(s) => {
                    app.db.set_configured_retention(s.engine.retention);
                    info!(
                        file = ?s.config_file,
                        "config reloaded on SIGHUP: retention applied; other settings take effect at the next restart"
                    );
                }
                Err(e) => error!(
                    error = %e,
                    "config reload on SIGHUP failed; the running settings stay in force"
                ),
            }
        }
    });
    #[cfg(not(unix))]
    let _ = (app, args);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn port_in_use_says_what_to_do() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap().to_string();
        let msg = bind(&addr, "--http-addr").await.unwrap_err().to_string();
        assert_eq!(
            msg,
            format!("{addr} is in use; stop the other process or pass --http-addr 127.0.0.1:PORT")
        );
        let msg = bind(&addr, "--tcp-addr").await.unwrap_err().to_string();
        assert!(msg.contains("--tcp-addr off"), "{msg}");
    }

    #[tokio::test]
    async fn bad_address_says_the_format() {
        let msg = bind("localhost", "--http-addr")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("HOST:PORT") && msg.contains("--http-addr"),
            "{msg}"
        );
    }

    #[test]
    fn unspecified_addresses_are_shown_as_loopback() {
        let a: SocketAddr = "0.0.0.0:8086".parse().unwrap();
        assert_eq!(browsable(a).to_string(), "127.0.0.1:8086");
        let a: SocketAddr = "10.1.2.3:1".parse().unwrap();
        assert_eq!(browsable(a), a);
    }
}
