//! Helpers shared by the query crate's integration tests.
#![allow(dead_code)]

/// A database in a fresh temporary directory that keeps everything (the fixtures write
/// timestamps far in the past); the directory lives as long as the returned guard.
pub(crate) fn open_db() -> (tally_engine::Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let opts = tally_engine::Options {
        retention: tally_engine::RetentionPolicy::forever(),
        ..tally_engine::Options::default()
    };
    let db = tally_engine::Db::open(dir.path(), opts).expect("a fresh database opens");
    (db, dir)
}

/// A small deterministic generator (xorshift), so generated datasets are the same on every run.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// The next 64 random bits.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An index by integer weights.
    pub(crate) fn pick(&mut self, weights: &[u64]) -> usize {
        let mut r = self.below(weights.iter().sum());
        for (i, w) in weights.iter().enumerate() {
            if r < *w {
                return i;
            }
            r -= w;
        }
        weights.len() - 1
    }

    /// A float in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}
