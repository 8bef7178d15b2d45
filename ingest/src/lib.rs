//! Tally's ingest paths: the InfluxDB line-protocol parser that turns request bodies into
//! engine [`tally_engine::WriteBatch`]es, and the seeded workload generator the benchmarks and
//! the demo share.

pub mod line_protocol;
pub mod workload;
