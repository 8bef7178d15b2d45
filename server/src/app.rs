//! What every request handler and connection shares: the database, the settings and the counters.

use crate::config::Settings;
use crate::metrics::Metrics;
use crate::saved::SavedQueries;
use std::sync::{Arc, RwLock};
use std::time::Instant;
use tally_engine::Db;
use tokio::sync::Semaphore;

/// Writes (HTTP bodies and TCP batches) that may be parsed or waiting for the engine at once.
/// Each holds one body in memory and one blocking thread, so this bounds both; further writers
/// wait before their body is read, which slows clients down through TCP instead of buffering.
const WRITES_IN_FLIGHT: usize = 16;

/// Queries that may run at once. Each holds a blocking thread and up to `[query]
/// max_memory_mb`, so this bounds both; further queries wait for a slot (within their time
/// budget). A query whose answer was given up on by the HTTP backstop keeps its slot until its
/// thread really ends.
const QUERIES_IN_FLIGHT: usize = 8;

/// The running server's shared state.
#[derive(Debug)]
pub(crate) struct App {
    /// The database.
    pub(crate) db: Arc<Db>,
    /// Effective settings.
    pub(crate) settings: Settings,
    /// Counters for `/metrics`.
    pub(crate) metrics: Metrics,
    /// When the server started.
    pub(crate) started: Instant,
    /// Permits for writes in flight (see [`WRITES_IN_FLIGHT`]).
    pub(crate) write_permits: Semaphore,
    /// Permits for queries running (see [`QUERIES_IN_FLIGHT`]); shared with the blocking
    /// threads that run them.
    pub(crate) query_permits: Arc<Semaphore>,
    /// The saved queries (`/queries`), or why they did not load; then every `/queries` request
    /// answers that reason and nothing overwrites the file. `tally serve` refuses to start in
    /// that case ([`crate::saved::check_before_serve`]), so only a file damaged between that
    /// check and here gets this far.
    pub(crate) saved: RwLock<Result<SavedQueries, String>>,
}

impl App {
    /// Shared state around an open database; loads the saved queries of `settings.data_dir`.
    pub(crate) fn new(db: Arc<Db>, settings: Settings) -> Arc<App> {
        let saved = SavedQueries::open(&settings.data_dir).map_err(|e| {
            tracing::error!(error = %e, "saved queries are unavailable");
            e.to_string()
        });
        Arc::new(App {
            db,
            settings,
            metrics: Metrics::default(),
            started: Instant::now(),
            write_permits: Semaphore::new(WRITES_IN_FLIGHT),
            query_permits: Arc::new(Semaphore::new(QUERIES_IN_FLIGHT)),
            saved: RwLock::new(saved),
        })
    }
}
