//! Structured logs: JSON lines on stderr through `tracing`, so they can be shipped and queried
//! as they are, while stdout stays free for the one human line printed at start.

use anyhow::{anyhow, Result};
use tracing_subscriber::EnvFilter;

/// Installs the global JSON subscriber with `level`, a level (`info`) or a full tracing filter
/// (`info,tally=debug`).
pub(crate) fn init(level: &str) -> Result<()> {
    let filter = filter(level)?;
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_current_span(false)
        .with_target(true)
        .try_init()
        .map_err(|e| anyhow!("cannot install the logger: {e}"))
}

/// Parses a level or filter, with an error that lists what is accepted.
fn filter(level: &str) -> Result<EnvFilter> {
    let level = level.trim();
    // A bare word is a target name to tracing (`verbose` would mean "everything from the target
    // named verbose"), so a lone word must be one of the levels.
    let is_directive_list = level.contains('=') || level.contains(',');
    let known = ["off", "error", "warn", "info", "debug", "trace"];
    let checked = if is_directive_list || known.contains(&level.to_ascii_lowercase().as_str()) {
        EnvFilter::try_new(level).map_err(|e| e.to_string())
    } else {
        Err("not a level".to_owned())
    };
    checked.map_err(|e| {
        anyhow!(
            "invalid log level '{level}' ({e}); use error, warn, info, debug or trace, or a \
             filter such as info,hyper=warn (flag --log-level, env TALLY_LOG or [server] log_level)"
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn levels_and_filters_parse_and_nonsense_does_not() {
        assert!(super::filter("info").is_ok());
        assert!(super::filter("warn,tally=debug").is_ok());
        let err = super::filter("loud=[").unwrap_err().to_string();
        assert!(err.contains("loud=["), "{err}");
        assert!(super::filter("verbose").is_err());
        assert!(super::filter("DEBUG").is_ok());
    }
}
