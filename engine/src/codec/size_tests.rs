//! Encoded sizes of realistic columns (not timed): a regression here means a codec got worse.
//!
//! Run with `cargo test -p tally-engine codec::size_tests -- --nocapture` to see the table of
//! bytes per value before and after zstd level 3 (each column compressed on its own; the segment
//! layer compresses whole blocks, which can only do better).

use super::*;
use crate::types::ColumnValues;

const N: usize = 1000;

/// splitmix64: a fixed, dependency-free generator so the sizes are the same on every run.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub(super) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi]`.
    pub(super) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    /// Log-normal with the given median and shape (Box-Muller).
    pub(super) fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        let z = (-2.0 * (1.0 - self.unit()).ln()).sqrt()
            * (2.0 * std::f64::consts::PI * self.unit()).cos();
        median * (sigma * z).exp()
    }
}

/// Bytes per value before and after zstd level 3.
fn measure(name: &str, n: usize, encoded: &[u8], raw: &[u8]) -> (f64, f64) {
    let zstd = zstd::bulk::compress(encoded, 3).unwrap();
    let raw_zstd = zstd::bulk::compress(raw, 3).unwrap();
    let before = encoded.len() as f64 / n as f64;
    let after = zstd.len() as f64 / n as f64;
    println!(
        "{name:<34} {before:>6.3} B/value, {after:>6.3} after zstd-3 (raw 8 B + zstd-3: {:.3})",
        raw_zstd.len() as f64 / n as f64
    );
    (before, after)
}

fn values(name: &str, col: &ColumnValues) -> (f64, f64) {
    let mut buf = Vec::new();
    encode_values(col, &mut buf);
    let back = decode_values(col.field_type(), &buf).unwrap();
    assert_eq!(back.len(), col.len());
    let raw: Vec<u8> = match col {
        ColumnValues::Float(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ColumnValues::Integer(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ColumnValues::Unsigned(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ColumnValues::Boolean(v) => v.iter().map(|&b| u8::from(b)).collect(),
        ColumnValues::String(v) => v.iter().flat_map(|s| s.bytes().chain([0])).collect(),
    };
    measure(name, col.len(), &buf, &raw)
}

fn timestamps(name: &str, ts: &[Nanos]) -> (f64, f64) {
    let mut buf = Vec::new();
    encode_timestamps(ts, &mut buf);
    let mut back = Vec::new();
    decode_timestamps(&buf, &mut back).unwrap();
    assert_eq!(back, ts);
    let raw: Vec<u8> = ts.iter().flat_map(|x| x.to_le_bytes()).collect();
    measure(name, ts.len(), &buf, &raw)
}

const JAN_2026: Nanos = 1_767_225_600_000_000_000;

#[test]
fn realistic_columns_are_small() {
    let mut rng = Rng(2026);

    // Points of one sparse series: millisecond precision in nanoseconds, 5-15 s apart.
    let mut t = JAN_2026;
    let ms: Vec<Nanos> = (0..N)
        .map(|_| {
            t += rng.range(5_000, 15_000) * 1_000_000;
            t
        })
        .collect();
    let (b, _) = timestamps("timestamps, ms, 5-15 s gaps", &ms);
    assert!(b < 1.8, "{b}");

    // Tally's own client stamps nanoseconds.
    let mut t = JAN_2026;
    let ns: Vec<Nanos> = (0..N)
        .map(|_| {
            t += rng.range(5_000_000_000, 15_000_000_000);
            t
        })
        .collect();
    let (b, _) = timestamps("timestamps, ns, 5-15 s gaps", &ns);
    assert!(b < 4.4, "{b}");

    let scrape: Vec<Nanos> = (0..N as i64)
        .map(|i| JAN_2026 + i * 10_000_000_000)
        .collect();
    let (b, _) = timestamps("timestamps, every 10 s", &scrape);
    assert!(b < 0.05, "{b}");

    // Latency in ms with one decimal, log-normal around 40 ms.
    let latency: Vec<f64> = (0..N)
        .map(|_| (rng.log_normal(40.0, 0.8) * 10.0).round() / 10.0)
        .collect();
    let (b, _) = values(
        "latency_ms, 1 decimal, log-normal",
        &ColumnValues::Float(latency),
    );
    assert!(b < 1.5, "{b}");

    // Cost in USD as vendors report it: up to 6 decimals.
    let cost: Vec<f64> = (0..N)
        .map(|_| (rng.log_normal(0.05, 1.5) * 1e6).round() / 1e6)
        .collect();
    let (b, _) = values(
        "cost_usd, 6 decimals, log-normal",
        &ColumnValues::Float(cost),
    );
    assert!(b < 2.6, "{b}");

    // A computed gauge that is no short decimal.
    let mut g = 0.5f64;
    let gauge: Vec<f64> = (0..N)
        .map(|_| {
            g = (g + (rng.unit() - 0.5) / 3.0).abs();
            g
        })
        .collect();
    let (b, _) = values(
        "gauge, full-precision random walk",
        &ColumnValues::Float(gauge),
    );
    assert!(b <= 8.01, "{b}");

    let bytes: Vec<i64> = (0..N)
        .map(|_| rng.log_normal(2_000.0, 1.2).round() as i64)
        .collect();
    let (b, _) = values(
        "bytes_out, integer, log-normal",
        &ColumnValues::Integer(bytes),
    );
    assert!(b < 1.9, "{b}");

    let mut total = 0u64;
    let counter: Vec<u64> = (0..N)
        .map(|_| {
            total += rng.range(0, 40) as u64;
            total
        })
        .collect();
    let (b, _) = values(
        "requests counter, unsigned",
        &ColumnValues::Unsigned(counter),
    );
    assert!(b < 1.01, "{b}");

    let (b, _) = values(
        "limit_per_min, constant",
        &ColumnValues::Integer(vec![600; N]),
    );
    assert!(b < 0.01, "{b}");

    let cached: Vec<bool> = (0..N).map(|_| rng.unit() < 0.1).collect();
    let (b, _) = values("cached, boolean, 10% true", &ColumnValues::Boolean(cached));
    assert!(b < 0.13, "{b}");

    let models = [
        "claude-opus-4",
        "claude-sonnet-4",
        "claude-haiku-4",
        "gpt-5",
    ];
    let model: Vec<String> = (0..N)
        .map(|_| models[(rng.log_normal(1.0, 1.0) as usize).min(3)].to_owned())
        .collect();
    let (b, _) = values("model, string, 4 distinct", &ColumnValues::String(model));
    assert!(b < 1.1, "{b}");

    let ids: Vec<String> = (0..N).map(|_| format!("req-{:016x}", rng.next())).collect();
    let (b, _) = values(
        "request id, string, all distinct",
        &ColumnValues::String(ids),
    );
    assert!(b < 21.1, "{b}");
}

/// The offsets layout byte of an integer column that starts at `buf[at]` and uses FOR.
fn for_layout(buf: &[u8], at: usize) -> u8 {
    let mut r = varint::Reader::new(&buf[at..]);
    assert_eq!(r.u8("tag").unwrap(), integer::TAG_FOR);
    r.uvarint("n").unwrap();
    r.uvarint("min").unwrap();
    r.u8("layout").unwrap()
}

#[test]
fn realistic_columns_take_the_bit_layouts() {
    let mut rng = Rng(99);
    let latency: Vec<f64> = (0..N)
        .map(|_| (rng.log_normal(40.0, 0.8) * 10.0).round() / 10.0)
        .collect();
    let mut buf = Vec::new();
    encode_values(&ColumnValues::Float(latency), &mut buf);
    assert_eq!(&buf[..2], [float::TAG_DECIMAL, 1]);
    assert_eq!(for_layout(&buf, 2), offsets::LAYOUT_RICE);

    let bytes: Vec<i64> = (0..N)
        .map(|_| rng.log_normal(2_000.0, 1.2) as i64)
        .collect();
    buf.clear();
    encode_values(&ColumnValues::Integer(bytes), &mut buf);
    assert_eq!(for_layout(&buf, 0), offsets::LAYOUT_RICE);

    let mut t = JAN_2026;
    let ts: Vec<Nanos> = (0..N)
        .map(|_| {
            t += rng.range(5_000, 15_000) * 1_000_000;
            t
        })
        .collect();
    buf.clear();
    encode_timestamps(&ts, &mut buf);
    let mut r = varint::Reader::new(&buf);
    assert_eq!(r.u8("tag").unwrap(), timestamp::TAG_DELTA);
    r.uvarint("n").unwrap();
    r.u64_le("first").unwrap();
    assert_eq!(r.uvarint("scale").unwrap(), 1_000_000);
    r.ivarint("min").unwrap();
    let layout = r.u8("layout").unwrap();
    assert!(
        layout == offsets::LAYOUT_PACKED || layout == offsets::LAYOUT_RICE,
        "{layout}"
    );
}
