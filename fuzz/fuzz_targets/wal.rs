//! Arbitrary bytes as a WAL file: replay truncates or quarantines, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tally_engine::wal::{Wal, WalOptions};
use tally_engine::WriteBatch;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let wal_dir = dir.path().join("wal");
    if std::fs::create_dir_all(&wal_dir).is_err() {
        return;
    }
    if std::fs::write(wal_dir.join("00000000000000000001.wal"), data).is_err() {
        return;
    }
    let _ = Wal::open(&wal_dir, 0, WalOptions::default(), |_, _, payload| {
        WriteBatch::from_bytes(payload.to_vec()).map(|_| ())
    });
});
