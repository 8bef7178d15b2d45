//! Harness for Tally's end-to-end tests: builds and starts the real `tally` binary on loopback
//! ports with a throw-away data directory, talks to it over plain HTTP/1.1 and TCP, kills or
//! stops it, and restarts it on the same data.
//!
//! The tests themselves live in `tests/*.rs` of this crate:
//! - `crash.rs`: SIGKILL at random moments while writing; every acknowledged point is there
//!   exactly once after each restart.
//! - `corruption.rs`: a flipped byte in a segment or the WAL, a torn WAL; start-up quarantines
//!   or truncates, says so, and serves the rest.
//! - `http.rs`: the `/write` contract (partial writes, 413, gzip, precision), `/health`,
//!   `/metrics`, a port already in use.
//! - `tcp.rs`: line protocol over the TCP listener.
//! - `semantics.rs`: last-write-wins metrics and keep-everything events across head, segments
//!   and restarts; field types; the debug read's filters; retention changed at run time per
//!   level; rollup totals through `/debug/rollup` against what the test wrote.
//! - `shutdown.rs`: SIGTERM/SIGINT flush and exit 0; `./data` is the default data directory.
//! - `query.rs`: `/query` over GET and POST (JSON, CSV, parameters, errors with a caret),
//!   `tally query` and `tally shell` against the real server.
//! - `saved.rs`: saved queries over `/queries` and `tally saved`: saved, run by name with typed
//!   parameters, kept across restarts, deleted; errors; a damaged file stops start-up.
//!
//! Every address used is on 127.0.0.1; nothing leaves the machine. Servers under test keep every
//! retention level forever unless the test's config says otherwise (the tests write fixed old
//! timestamps; see [`Tally::start_with_config`]).
//!
//! ```no_run
//! use tally_tests::Tally;
//! let mut tally = Tally::start().unwrap();
//! tally.write_ok("cpu,host=a usage=1 1").unwrap();
//! tally.kill();
//! tally.restart().unwrap();
//! let series = tally.points("cpu").unwrap();
//! assert_eq!(series.len(), 1);
//! ```

mod binary;
mod files;
mod http;
mod points;
mod process;

pub use binary::tally_bin;
pub use files::{corrupt_byte, files_under, newest_file, segment_files, wal_files};
pub use http::{gzip, request, Response};
pub use points::{Column, Series};
pub use process::{free_port, with_test_retention, Tally, TallyOptions};
