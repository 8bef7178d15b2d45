//! Arbitrary bytes as a segment file: open fails cleanly or every series reads without a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tally_engine::segment::Segment;
use tally_engine::{SeriesId, TimeRange};

fuzz_target!(|data: &[u8]| {
    if let Ok(seg) = Segment::from_bytes("fuzz.seg", data.to_vec()) {
        let ids: Vec<SeriesId> = seg.series_ids().iter().map(SeriesId).collect();
        let _ = seg.read_many(&ids, None, TimeRange::ALL);
        for id in ids.iter().take(16) {
            let _ = seg.read(*id, None, TimeRange::ALL);
        }
    }
});
