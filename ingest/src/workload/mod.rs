//! A deterministic, seeded generator of API traffic in InfluxDB line protocol.
//!
//! Every benchmark, the demo data and many tests draw from this one generator so their figures are
//! comparable over time: the same [`WorkloadConfig`] (seed included) yields byte-identical output,
//! whatever chunk sizes it is read in (see `rng.rs` for why the generator carries its own random
//! numbers, and for the one way another machine's libm could still differ).
//!
//! # What it produces
//! One point per API request, measurement `requests`:
//! ```text
//! requests,endpoint=/api/segments/:id,key=acme-etl,method=GET,op=read,status=200,status_class=2xx latency_ms=12.3,bytes_in=0i,bytes_out=1834i 1767600000123000000
//! ```
//! - tags (sorted, none needs escaping): `endpoint` (route template; 60 by default, the first is
//!   [`BULK_METADATA_ENDPOINT`]), `key` (200 by default), `method` (GET-heavy), `op` (`read` for
//!   GET, `write` otherwise), `status`, `status_class` (`2xx`, `4xx`, `5xx`).
//! - fields: `latency_ms` float with one decimal (log-normal per endpoint; writes slower, 4xx fast,
//!   504 at the 30 s gateway timeout), `bytes_in` integer (0 for GET and DELETE, else log-normal),
//!   `bytes_out` integer (log-normal per endpoint; small bodies for errors, 0 for 204).
//! - timestamps: nanoseconds at millisecond precision, non-decreasing, inside
//!   `[start_ns, start_ns + duration_ns)`.
//!
//! # The traffic model
//! - Volume: `points_per_day` on an average weekday, shaped by time of day (UTC; lowest near
//!   02:00 at 0.55x, highest at 14:00 at 1.75x the mean); Saturdays and Sundays carry 0.45x.
//!   Arrivals are Poisson per second.
//! - Keys: Zipf popularity over a seeded ranking; each key calls 4 to 20 endpoints. The
//!   `heavy_keys` most popular keys run at 80-95% of their per-minute rate limit at the weekday
//!   peak; every other key's expected peak is at most 50% of its limit.
//! - Errors: each endpoint has its own error propensity, scaled so that the traffic-weighted error
//!   share is `error_rate` (2% by default; 70% of errors are 4xx). Heavy keys' 4xx are mostly 429.
//! - Monday morning (08:00 to 10:30 UTC): three keys hammer [`BULK_METADATA_ENDPOINT`] with extra
//!   traffic reaching 0.8x the mean total rate, slower and with more 503s while it lasts.
//!
//! # Example
//! ```
//! use tally_ingest::workload::{Workload, WorkloadConfig};
//!
//! let mut w = Workload::new(WorkloadConfig { seed: 7, points_per_day: 10_000, ..Default::default() });
//! let mut body = Vec::new();
//! while w.next_chunk(&mut body, 5_000) > 0 {
//!     // hand `body` to the parser, then: body.clear();
//! }
//! assert!(w.points_written() > 9_000);
//! ```

mod profiles;
mod rng;

pub use profiles::{EndpointProfile, KeyProfile, Method, BULK_METADATA_ENDPOINT};

use profiles::{ProfileParams, Profiles};
use rng::Rng;

/// Nanoseconds in a millisecond.
const NS_PER_MS: i64 = 1_000_000;
/// Milliseconds in a day.
const MS_PER_DAY: i64 = 86_400_000;
/// Width of one arrival bucket in milliseconds.
const BUCKET_MS: i64 = 1_000;
/// Relative volume on Saturdays and Sundays.
const WEEKEND_FACTOR: f64 = 0.45;
/// Peak of the time-of-day curve (its mean over a day is 1).
const DIURNAL_MAX: f64 = 1.75;
/// Height of the Monday surge relative to the mean total rate of a weekday.
const SURGE_HEIGHT: f64 = 0.8;
/// The gateway timeout behind 504 answers, in milliseconds.
const GATEWAY_TIMEOUT_MS: f64 = 30_000.0;

/// What to generate. Build with struct-update syntax over [`Default`].
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadConfig {
    /// Fixes every random choice: profiles and traffic.
    pub seed: u64,
    /// Number of API keys (at least 1; 0 is treated as 1).
    pub keys: usize,
    /// Number of endpoints (at least 1; 0 is treated as 1), the bulk-metadata endpoint first.
    pub endpoints: usize,
    /// Start of the window, in nanoseconds since the Unix epoch (UTC).
    pub start_ns: i64,
    /// Length of the window in nanoseconds.
    pub duration_ns: i64,
    /// Mean requests on a weekday, before the Monday surge.
    pub points_per_day: u64,
    /// Target share of failed requests (4xx and 5xx), e.g. 0.02.
    pub error_rate: f64,
    /// How many of the most popular keys run near their rate limit.
    pub heavy_keys: usize,
}

impl Default for WorkloadConfig {
    /// 200 keys, 60 endpoints, one day from Monday 2026-01-05 00:00 UTC, about 1M requests.
    fn default() -> Self {
        WorkloadConfig {
            seed: 1,
            keys: 200,
            endpoints: 60,
            start_ns: 1_767_571_200 * 1_000_000_000,
            duration_ns: MS_PER_DAY * NS_PER_MS,
            points_per_day: 1_000_000,
            error_rate: 0.02,
            heavy_keys: 4,
        }
    }
}

/// HTTP statuses the workload answers with: (code, class).
const STATUSES: [(&str, &str); 14] = [
    ("200", "2xx"),
    ("201", "2xx"),
    ("204", "2xx"),
    ("400", "4xx"),
    ("401", "4xx"),
    ("403", "4xx"),
    ("404", "4xx"),
    ("409", "4xx"),
    ("422", "4xx"),
    ("429", "4xx"),
    ("500", "5xx"),
    ("502", "5xx"),
    ("503", "5xx"),
    ("504", "5xx"),
];
const S200: usize = 0;
const S201: usize = 1;
const S204: usize = 2;
const S429: usize = 9;
const S500: usize = 10;
const S502: usize = 11;
const S503: usize = 12;
const S504: usize = 13;

/// Cumulative weights over STATUSES[3..10] (the 4xx codes) for reads and for writes.
const READ_4XX: [f64; 7] = [0.15, 0.25, 0.35, 0.85, 0.85, 0.85, 1.0];
const WRITE_4XX: [f64; 7] = [0.30, 0.38, 0.45, 0.55, 0.70, 0.90, 1.0];
/// Cumulative weights over STATUSES[10..14] (the 5xx codes), normally and under the surge.
const NORMAL_5XX: [f64; 4] = [0.45, 0.60, 0.85, 1.0];
const SURGE_5XX: [f64; 4] = [0.15, 0.25, 0.85, 1.0];

/// The seeded generator; see the module docs for what it produces.
#[derive(Debug, Clone)]
pub struct Workload {
    cfg: WorkloadConfig,
    profiles: Profiles,
    rng: Rng,
    /// `requests,endpoint=<path>,key=` per endpoint.
    endpoint_prefix: Vec<Vec<u8>>,
    /// `,method=..,op=..,status=..,status_class=.. latency_ms=` per (method, status).
    tag_suffix: Vec<Vec<u8>>,
    /// Mean ordinary requests per millisecond on a weekday.
    base_per_ms: f64,
    /// First millisecond after the window.
    end_ms: i64,
    /// Start of the next bucket to draw.
    next_bucket_ms: i64,
    /// Start of the bucket in `pending`.
    bucket_ms: i64,
    /// Arrivals of the current bucket: `offset_ms << 1 | surge`, sorted.
    pending: Vec<u32>,
    pos: usize,
    written: u64,
}

impl Workload {
    /// Draws the key and endpoint profiles for `cfg` and positions the generator at the start of
    /// the window.
    pub fn new(cfg: WorkloadConfig) -> Self {
        let mut rng = Rng::new(cfg.seed);
        let keys = cfg.keys.max(1);
        let endpoints = cfg.endpoints.clamp(1, usize::from(u16::MAX));
        let mean_per_min = cfg.points_per_day as f64 / 1_440.0;
        let profiles = Profiles::draw(
            &mut rng,
            ProfileParams {
                keys,
                endpoints,
                heavy_keys: cfg.heavy_keys,
                error_rate: cfg.error_rate.clamp(0.0, 1.0),
                peak_per_min: mean_per_min * DIURNAL_MAX,
                surge_per_min: mean_per_min * SURGE_HEIGHT,
            },
        );
        let endpoint_prefix = profiles
            .endpoints
            .iter()
            .map(|e| format!("requests,endpoint={},key=", e.path).into_bytes())
            .collect();
        let mut tag_suffix = Vec::with_capacity(Method::ALL.len() * STATUSES.len());
        for m in Method::ALL {
            for (code, class) in STATUSES {
                let op = if m.is_read() { "read" } else { "write" };
                tag_suffix.push(
                    format!(
                        ",method={},op={op},status={code},status_class={class} latency_ms=",
                        m.as_str()
                    )
                    .into_bytes(),
                );
            }
        }
        let start_ms = ceil_div(cfg.start_ns, NS_PER_MS);
        let end_ms = ceil_div(
            cfg.start_ns.saturating_add(cfg.duration_ns.max(0)),
            NS_PER_MS,
        );
        Workload {
            base_per_ms: cfg.points_per_day as f64 / MS_PER_DAY as f64,
            cfg,
            profiles,
            rng,
            endpoint_prefix,
            tag_suffix,
            end_ms,
            next_bucket_ms: start_ms,
            bucket_ms: start_ms,
            pending: Vec::new(),
            pos: 0,
            written: 0,
        }
    }

    /// Appends up to `max_points` lines to `out`; returns how many were written (0 when done).
    ///
    /// Lines come in time order, each ending in `\n`. The concatenated output does not depend on
    /// how it is chunked.
    pub fn next_chunk(&mut self, out: &mut Vec<u8>, max_points: usize) -> usize {
        let mut n = 0;
        while n < max_points {
            if self.pos == self.pending.len() {
                if self.next_bucket_ms >= self.end_ms {
                    break;
                }
                self.draw_bucket();
                continue;
            }
            let a = self.pending[self.pos];
            self.pos += 1;
            let t_ms = self.bucket_ms + i64::from(a >> 1);
            self.emit(out, t_ms, a & 1 == 1);
            n += 1;
        }
        self.written += n as u64;
        n
    }

    /// Whether the whole window has been generated.
    pub fn is_done(&self) -> bool {
        self.pos == self.pending.len() && self.next_bucket_ms >= self.end_ms
    }

    /// Lines written so far.
    pub fn points_written(&self) -> u64 {
        self.written
    }

    /// The API keys, in key-index order: ids, owners and per-minute rate limits.
    pub fn keys(&self) -> &[KeyProfile] {
        &self.profiles.keys
    }

    /// The endpoints, [`BULK_METADATA_ENDPOINT`] first.
    pub fn endpoints(&self) -> &[EndpointProfile] {
        &self.profiles.endpoints
    }

    /// The configuration this workload was built from.
    pub fn config(&self) -> &WorkloadConfig {
        &self.cfg
    }

    /// Draws the arrivals of the next one-second bucket.
    fn draw_bucket(&mut self) {
        let start = self.next_bucket_ms;
        let len = BUCKET_MS.min(self.end_ms - start);
        self.bucket_ms = start;
        self.next_bucket_ms = start + len;
        self.pending.clear();
        self.pos = 0;

        let (normal, surge) = rates_at(start);
        let scale = self.base_per_ms * len as f64;
        let n_normal = self.rng.poisson(scale * normal);
        let n_surge = self.rng.poisson(scale * surge);
        for i in 0..n_normal + n_surge {
            let off = self.rng.below(len as u32);
            self.pending.push(off << 1 | u32::from(i >= n_normal));
        }
        self.pending.sort_unstable();
    }

    /// Writes one request at `t_ms`.
    fn emit(&mut self, out: &mut Vec<u8>, t_ms: i64, surge: bool) {
        let rng = &mut self.rng;
        let p = &self.profiles;
        let (key, ep) = if surge {
            let k = p.bulk_keys[rng.below(p.bulk_keys.len() as u32) as usize] as usize;
            (k, 0)
        } else {
            let k = rng.pick(&p.key_cum);
            let (eps, cum) = &p.routes[k];
            (k, usize::from(eps[rng.pick(cum)]))
        };
        let e = &p.endpoints[ep];
        let heavy = p.keys[key].heavy;
        let mi = pick_fixed(rng, &e.method_cum);
        let method = Method::ALL[mi];
        let read = method.is_read();

        let err_p = if surge {
            (e.error_rate.max(0.01) * 2.0).min(0.08)
        } else {
            e.error_rate
        };
        let status = if rng.unit() < err_p {
            let five_xx = if surge { 0.5 } else { 0.3 };
            if rng.unit() < five_xx {
                let table = if surge { &SURGE_5XX } else { &NORMAL_5XX };
                S500 + pick_fixed(rng, table)
            } else if heavy && rng.unit() < 0.6 {
                S429
            } else {
                let table = if read { &READ_4XX } else { &WRITE_4XX };
                3 + pick_fixed(rng, table)
            }
        } else {
            match method {
                Method::Get | Method::Put | Method::Patch => S200,
                Method::Post => S201,
                Method::Delete => S204,
            }
        };

        let mut median = e.latency_median_ms;
        if !read {
            median *= 1.4;
        }
        if surge {
            median *= 1.8;
        }
        let mut latency = rng.log_normal(median, e.latency_sigma);
        latency = match status {
            S200..=S204 => latency,
            S429 => latency * 0.02,
            S500 => latency * 1.3,
            S502 => latency * 0.5,
            S503 => latency * 0.05,
            S504 => GATEWAY_TIMEOUT_MS + rng.unit() * 30.0,
            _ => latency * 0.25,
        };
        let tenths = ((latency * 10.0).round() as u64).clamp(1, 1_200_000);

        let bytes_in = match method {
            Method::Get | Method::Delete => 0,
            _ => (rng.log_normal(e.bytes_in_median, 0.9).round() as u64).max(2),
        };
        let bytes_out = match status {
            S204 => 0,
            S200 | S201 => {
                let median = if read { e.bytes_out_median } else { 300.0 };
                (rng.log_normal(median, 0.8).round() as u64).max(2)
            }
            S500..=S504 => 60 + u64::from(rng.below(120)),
            _ => 90 + u64::from(rng.below(160)),
        };

        out.extend_from_slice(&self.endpoint_prefix[ep]);
        out.extend_from_slice(p.keys[key].id.as_bytes());
        out.extend_from_slice(&self.tag_suffix[mi * STATUSES.len() + status]);
        push_u64(out, tenths / 10);
        out.push(b'.');
        out.push(b'0' + (tenths % 10) as u8);
        out.extend_from_slice(b",bytes_in=");
        push_u64(out, bytes_in);
        out.extend_from_slice(b"i,bytes_out=");
        push_u64(out, bytes_out);
        out.extend_from_slice(b"i ");
        push_i64(out, t_ms.saturating_mul(NS_PER_MS));
        out.push(b'\n');
    }
}

/// The (ordinary, surge) rate multipliers at `t_ms`, relative to the mean weekday rate.
fn rates_at(t_ms: i64) -> (f64, f64) {
    let day = t_ms.div_euclid(MS_PER_DAY);
    let ms_of_day = t_ms.rem_euclid(MS_PER_DAY);
    // 1970-01-01 was a Thursday: Monday is 0.
    let weekday = (day + 3).rem_euclid(7);
    let hour = ms_of_day as f64 / 3_600_000.0;
    let x = std::f64::consts::TAU * (hour - 14.0) / 24.0;
    // Mean 1 over a day; 1.75 at 14:00 UTC, 0.55 at 02:00.
    let diurnal = 1.0 + 0.6 * x.cos() + 0.15 * (2.0 * x).cos();
    let weekly = if weekday >= 5 { WEEKEND_FACTOR } else { 1.0 };
    let surge = if weekday == 0 { surge_shape(hour) } else { 0.0 };
    (diurnal * weekly, SURGE_HEIGHT * surge)
}

/// The Monday surge over the hour of day: up from 08:00 to 08:15, level to 09:00, down by 10:30.
fn surge_shape(hour: f64) -> f64 {
    if !(8.0..10.5).contains(&hour) {
        0.0
    } else if hour < 8.25 {
        (hour - 8.0) / 0.25
    } else if hour < 9.0 {
        1.0
    } else {
        (10.5 - hour) / 1.5
    }
}

/// An index into a fixed cumulative table whose last entry is 1.
fn pick_fixed(rng: &mut Rng, cum: &[f64]) -> usize {
    let x = rng.unit() * cum[cum.len() - 1];
    cum.iter().position(|&c| x < c).unwrap_or(cum.len() - 1)
}

fn ceil_div(a: i64, b: i64) -> i64 {
    let q = a.div_euclid(b);
    if a.rem_euclid(b) == 0 {
        q
    } else {
        q + 1
    }
}

fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

#[cfg(test)]
mod tests;
