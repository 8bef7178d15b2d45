//! Arbitrary bytes as a stored WriteBatch (the WAL payload): an error or points, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tally_engine::WriteBatch;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = WriteBatch::from_bytes(data.to_vec()) {
        for p in b.iter() {
            let p = p.expect("from_bytes validated every point");
            let _ = p.key.to_string();
            for (_name, _value) in p.fields() {}
        }
    }
});
