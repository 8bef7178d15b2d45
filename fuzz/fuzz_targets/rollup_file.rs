//! Arbitrary bytes as a rollup file: open fails cleanly, or every entry of every tier reads (or
//! fails cleanly) without a panic or an unbounded allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tally_engine::rollup::{RollupFile, Tier};
use tally_engine::{SeriesId, TimeRange};

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = RollupFile::from_bytes(data.to_vec(), "fuzz.trup".into()) {
        let _ = file.read_all();
        let ids: Vec<SeriesId> = file.series_ids().iter().take(64).map(SeriesId).collect();
        let m = file.meta();
        let middle = TimeRange::new(m.min_start, m.min_start / 2 + m.max_start / 2);
        for tier in Tier::ALL {
            let _ = file.read(&ids, None, tier, TimeRange::ALL);
            let _ = file.read(&ids, Some(&["latency_ms", ""]), tier, middle);
        }
    }
});
