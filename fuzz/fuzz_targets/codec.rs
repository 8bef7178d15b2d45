//! Arbitrary bytes through every column decoder: never a panic or an unbounded allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tally_engine::codec::{decode_timestamps, decode_values};
use tally_engine::FieldType;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 6 {
        0 => {
            let mut out = Vec::new();
            let _ = decode_timestamps(rest, &mut out);
        }
        n => {
            let ty = FieldType::from_code(n).expect("codes 1..=5 are types");
            let _ = decode_values(ty, rest);
        }
    }
});
