//! Arbitrary bytes as encoded rollup buckets: an error or buckets that answer queries, never a
//! panic or an unbounded allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tally_engine::rollup::{coarsen, decode_buckets, encode_buckets, Tier};

fuzz_target!(|data: &[u8]| {
    if let Ok(buckets) = decode_buckets(data) {
        for b in &buckets {
            if let Some(d) = &b.dist {
                let _ = d.quantile(0.99);
            }
        }
        let _ = coarsen(&buckets, Tier::Day);
        let _ = encode_buckets(&buckets);
    }
});
