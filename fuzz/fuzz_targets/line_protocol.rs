//! Arbitrary request bodies through the line-protocol parser: never a panic, and every accepted
//! point decodes back out of the batch.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tally_engine::WriteBatch;
use tally_ingest::line_protocol::{Limits, Parser, Precision};

fuzz_target!(|data: &[u8]| {
    let mut parser = Parser::new(Limits::default());
    let mut batch = WriteBatch::new();
    for precision in [Precision::Nanoseconds, Precision::Seconds] {
        batch.clear();
        let report = parser.parse_into(data, precision, 1_700_000_000_000_000_000, &mut batch);
        assert_eq!(report.accepted, batch.len());
        assert!(batch.iter().all(|p| p.is_ok()));
    }
});
