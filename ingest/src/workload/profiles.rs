//! Who calls the API and what they call: the seeded key and endpoint profiles behind the traffic.
//!
//! Profiles are drawn once, from the seed, before any traffic: key popularity (Zipf over a
//! seeded ranking), each key's 4 to 20 endpoints, per-endpoint latency, size and error
//! propensity, and rate limits. The heaviest keys run close to their limits at the daily peak;
//! a few other keys drive the Monday-morning surge on [`BULK_METADATA_ENDPOINT`].

use super::rng::Rng;

/// The endpoint that is hammered every Monday morning (a bulk metadata sync by a few clients).
pub const BULK_METADATA_ENDPOINT: &str = "/api/metadata/bulk";

/// An HTTP method of the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET (a read).
    Get,
    /// POST (a write).
    Post,
    /// PUT (a write).
    Put,
    /// PATCH (a write).
    Patch,
    /// DELETE (a write).
    Delete,
}

impl Method {
    /// Every method, in tag-table order.
    pub const ALL: [Method; 5] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
    ];

    /// The upper-case name written in the `method` tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether the method only reads (`op=read`); every other method is `op=write`.
    pub fn is_read(self) -> bool {
        self == Method::Get
    }
}

/// One API key: the identity the `key` tag carries and what a key registry would know of it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyProfile {
    /// The key id written in the `key` tag, e.g. `acme-etl`.
    pub id: String,
    /// The team (client company) that owns the key.
    pub team: String,
    /// Requests per minute the key may make.
    pub rate_limit_per_min: u32,
    /// Whether the key is one of the heavy ones that run near their limit at the weekday peak.
    pub heavy: bool,
    /// Whether the key takes part in the Monday-morning bulk-metadata surge.
    pub monday_bulk: bool,
    /// The key's share of ordinary (non-surge) traffic, in `(0, 1]`; shares sum to 1.
    pub share: f64,
}

/// One endpoint (route template) and the shape of its requests.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointProfile {
    /// The route written in the `endpoint` tag, e.g. `/api/segments/:id`.
    pub path: String,
    /// Median latency of a successful read, in milliseconds.
    pub latency_median_ms: f64,
    /// Spread of the latency: the standard deviation of its logarithm.
    pub latency_sigma: f64,
    /// Probability that a request to it fails (4xx or 5xx), outside the Monday surge.
    pub error_rate: f64,
    /// Its share of ordinary (non-surge) traffic; shares sum to 1.
    pub share: f64,
    /// Median response size of a success, in bytes.
    pub(crate) bytes_out_median: f64,
    /// Median request body of a write, in bytes.
    pub(crate) bytes_in_median: f64,
    /// Cumulative weights over [`Method::ALL`].
    pub(crate) method_cum: [f64; 5],
}

/// Teams that own keys; with [`PURPOSES`] they name the keys (`acme-etl`, `hooli-render-farm`).
const TEAMS: [&str; 20] = [
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "stark",
    "wayne",
    "wonka",
    "tyrell",
    "cyberdyne",
    "soylent",
    "aperture",
    "blackmesa",
    "oscorp",
    "massive",
    "vandelay",
    "dunder",
    "piedpiper",
    "gringotts",
    "monarch",
];
const PURPOSES: [&str; 10] = [
    "etl",
    "web",
    "mobile",
    "render-farm",
    "billing",
    "search",
    "sync",
    "reports",
    "ingest",
    "backup",
];

/// Resources of the API; each gives a collection, an item and a third route.
const RESOURCES: [&str; 20] = [
    "segments",
    "users",
    "teams",
    "projects",
    "dashboards",
    "reports",
    "events",
    "metrics",
    "alerts",
    "keys",
    "invoices",
    "usage",
    "exports",
    "imports",
    "webhooks",
    "datasets",
    "files",
    "jobs",
    "sessions",
    "audit-logs",
];

/// Route shapes: (suffix, method weights GET/POST/PUT/PATCH/DELETE, popularity, relative size).
const SHAPES: [(&str, [f64; 5], f64, f64); 6] = [
    ("", [0.84, 0.16, 0.0, 0.0, 0.0], 1.0, 8.0),
    ("/:id", [0.82, 0.0, 0.08, 0.06, 0.04], 1.6, 1.0),
    ("/search", [1.0, 0.0, 0.0, 0.0, 0.0], 0.6, 6.0),
    ("/batch", [0.0, 1.0, 0.0, 0.0, 0.0], 0.3, 0.5),
    ("/:id/history", [1.0, 0.0, 0.0, 0.0, 0.0], 0.4, 4.0),
    ("/:id/members", [0.7, 0.3, 0.0, 0.0, 0.0], 0.5, 2.0),
];

/// Key names for key index `i`: team and purpose cycle so neighbours belong to different teams.
fn key_name(i: usize) -> (String, String) {
    let team = TEAMS[i % TEAMS.len()];
    let purpose = PURPOSES[(i / TEAMS.len()) % PURPOSES.len()];
    let round = i / (TEAMS.len() * PURPOSES.len());
    let id = if round == 0 {
        format!("{team}-{purpose}")
    } else {
        format!("{team}-{purpose}-{}", round + 1)
    };
    (id, team.to_owned())
}

/// Route and method weights of ordinary endpoint `j` (0-based, after the bulk endpoint).
fn route(j: usize) -> (String, usize) {
    let resource = RESOURCES[j / 3 % RESOURCES.len()];
    // The third route of each resource rotates through the last four shapes.
    let shape = match j % 3 {
        0 => 0,
        1 => 1,
        _ => 2 + (j / 3) % 4,
    };
    let version = j / (3 * RESOURCES.len());
    let prefix = if version == 0 {
        "/api".to_owned()
    } else {
        format!("/api/v{}", version + 1)
    };
    (format!("{prefix}/{resource}{}", SHAPES[shape].0), shape)
}

fn cumulative(weights: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    weights
        .iter()
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

fn method_cum(w: [f64; 5]) -> [f64; 5] {
    let mut out = [0.0; 5];
    let mut acc = 0.0;
    for (o, x) in out.iter_mut().zip(w) {
        acc += x;
        *o = acc;
    }
    out
}

/// Rounds a rate limit up to a value an operator would configure.
fn nice_limit(min: f64) -> u32 {
    const STEPS: [u32; 6] = [60, 120, 300, 600, 1200, 3000];
    let mut scale = 1u32;
    loop {
        for s in STEPS {
            let v = s.saturating_mul(scale);
            if f64::from(v) >= min || v == u32::MAX {
                return v;
            }
        }
        scale = scale.saturating_mul(10);
    }
}

/// Everything drawn before traffic starts.
#[derive(Debug, Clone)]
pub(crate) struct Profiles {
    pub(crate) keys: Vec<KeyProfile>,
    pub(crate) endpoints: Vec<EndpointProfile>,
    /// Cumulative key shares, for drawing the key of an ordinary request.
    pub(crate) key_cum: Vec<f64>,
    /// Per key, the endpoints it calls and their cumulative weights.
    pub(crate) routes: Vec<(Vec<u16>, Vec<f64>)>,
    /// Keys of the Monday surge.
    pub(crate) bulk_keys: Vec<u32>,
}

/// Inputs to [`Profiles::draw`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProfileParams {
    pub(crate) keys: usize,
    pub(crate) endpoints: usize,
    pub(crate) heavy_keys: usize,
    pub(crate) error_rate: f64,
    /// Ordinary requests per minute at the weekday peak, over all keys.
    pub(crate) peak_per_min: f64,
    /// Surge requests per minute at its height, over all surge keys.
    pub(crate) surge_per_min: f64,
}

/// Keys that run the Monday surge.
const BULK_KEYS: usize = 3;
/// Exponent of the key popularity law: the top key of 200 sends about 13% of requests.
const ZIPF_EXPONENT: f64 = 0.9;

impl Profiles {
    /// Draws every profile from `rng`. `keys` and `endpoints` must be at least 1.
    pub(crate) fn draw(rng: &mut Rng, p: ProfileParams) -> Profiles {
        let endpoints = Self::draw_endpoints(rng, p.endpoints);
        let n = p.keys;

        // Zipf popularity over a seeded ranking of the keys.
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = rng.below(i as u32 + 1) as usize;
            order.swap(i, j);
        }
        let zipf = |rank: usize| ((rank + 1) as f64).powf(-ZIPF_EXPONENT);
        let harmonic: f64 = (0..n).map(zipf).sum();
        let mut shares = vec![0.0; n];
        let mut rank_of = vec![0; n];
        for (rank, &k) in order.iter().enumerate() {
            shares[k] = zipf(rank) / harmonic;
            rank_of[k] = rank;
        }
        let heavy = p.heavy_keys.min(n);
        let mut is_heavy = vec![false; n];
        for &k in &order[..heavy] {
            is_heavy[k] = true;
        }
        // Surge keys are ordinary keys where there are enough, so heavy keys' limits stay tight.
        let pool: Vec<usize> = if n > heavy {
            order[heavy..].to_vec()
        } else {
            order.clone()
        };
        let mut bulk_keys = Vec::new();
        while bulk_keys.len() < BULK_KEYS.min(pool.len()) {
            let k = pool[rng.below(pool.len() as u32) as usize] as u32;
            if !bulk_keys.contains(&k) {
                bulk_keys.push(k);
            }
        }
        bulk_keys.sort_unstable();

        // Each key calls a few endpoints, picked by popularity without replacement
        // (Efraimidis-Spirakis: the largest u^(1/w) win).
        let mut routes = Vec::with_capacity(n);
        let mut endpoint_traffic = vec![0.0; endpoints.len()];
        let global: Vec<f64> = endpoints.iter().map(|e| e.share).collect();
        for (k, &share) in shares.iter().enumerate() {
            // Big consumers integrate more of the API.
            let want = if rank_of[k] < 10 {
                12 + rng.below(9) as usize
            } else {
                4 + rng.below(17) as usize
            };
            let want = want.min(endpoints.len());
            // Popularity already steered the choice, so the weights within it only lean on it
            // (the square root), or the top endpoints would count it twice.
            let mut scored: Vec<(f64, usize)> = global
                .iter()
                .enumerate()
                .map(|(e, &w)| (rng.unit().powf(1.0 / w), e))
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut chosen: Vec<usize> = scored[..want].iter().map(|&(_, e)| e).collect();
            chosen.sort_unstable();
            let weights: Vec<f64> = chosen
                .iter()
                .map(|&e| global[e].sqrt() * rng.log_normal(1.0, 0.5))
                .collect();
            let total: f64 = weights.iter().sum();
            for (&e, w) in chosen.iter().zip(&weights) {
                endpoint_traffic[e] += share * w / total;
            }
            routes.push((
                chosen.iter().map(|&e| e as u16).collect(),
                cumulative(&weights),
            ));
        }

        let mut endpoints = endpoints;
        for (e, t) in endpoints.iter_mut().zip(&endpoint_traffic) {
            e.share = *t;
        }
        Self::normalise_errors(&mut endpoints, p.error_rate);

        let keys = (0..n)
            .map(|k| {
                let (id, team) = key_name(k);
                let monday_bulk = bulk_keys.contains(&(k as u32));
                let mut peak = p.peak_per_min * shares[k];
                if monday_bulk {
                    peak += p.surge_per_min / bulk_keys.len() as f64;
                }
                let rate_limit_per_min = if is_heavy[k] {
                    // 80-95% of the limit at the weekday peak, rounded to tens for readability.
                    let u = 0.80 + 0.15 * rng.unit();
                    (((peak / u) / 10.0).round() as u32 * 10).max(10)
                } else {
                    nice_limit(peak / (0.10 + 0.40 * rng.unit()))
                };
                KeyProfile {
                    id,
                    team,
                    rate_limit_per_min,
                    heavy: is_heavy[k],
                    monday_bulk,
                    share: shares[k],
                }
            })
            .collect();

        Profiles {
            keys,
            endpoints,
            key_cum: cumulative(&shares),
            routes,
            bulk_keys,
        }
    }

    fn draw_endpoints(rng: &mut Rng, count: usize) -> Vec<EndpointProfile> {
        let mut out = Vec::with_capacity(count);
        out.push(EndpointProfile {
            path: BULK_METADATA_ENDPOINT.to_owned(),
            latency_median_ms: 180.0 + 120.0 * rng.unit(),
            latency_sigma: 0.45,
            error_rate: rng.log_normal(1.0, 0.6),
            share: 0.4,
            bytes_out_median: 250_000.0,
            bytes_in_median: 0.0,
            method_cum: method_cum([1.0, 0.0, 0.0, 0.0, 0.0]),
        });
        for j in 0..count.saturating_sub(1) {
            let (path, shape) = route(j);
            let (_, methods, popularity, size) = SHAPES[shape];
            out.push(EndpointProfile {
                path,
                // Log-uniform medians between 8 ms and 250 ms.
                latency_median_ms: 8.0 * (rng.unit() * (250.0f64 / 8.0).ln()).exp(),
                latency_sigma: 0.35 + 0.45 * rng.unit(),
                // Raw propensity; scaled to the target error share once traffic is known.
                error_rate: rng.log_normal(1.0, 0.8),
                share: popularity * rng.log_normal(1.0, 0.7),
                bytes_out_median: 1_500.0 * size * rng.log_normal(1.0, 0.5),
                bytes_in_median: 600.0 * rng.log_normal(1.0, 0.7),
                method_cum: method_cum(methods),
            });
        }
        out
    }

    /// Scales raw error propensities so the traffic-weighted mean is `target`, capping any one
    /// endpoint at 20%.
    fn normalise_errors(endpoints: &mut [EndpointProfile], target: f64) {
        const CAP: f64 = 0.20;
        for _ in 0..8 {
            let mean: f64 = endpoints.iter().map(|e| e.share * e.error_rate).sum();
            if mean <= 0.0 {
                return;
            }
            let scale = target / mean;
            for e in endpoints.iter_mut() {
                e.error_rate = (e.error_rate * scale).min(CAP);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ProfileParams {
        ProfileParams {
            keys: 200,
            endpoints: 60,
            heavy_keys: 4,
            error_rate: 0.02,
            peak_per_min: 1_200.0,
            surge_per_min: 550.0,
        }
    }

    #[test]
    fn names_are_unique_and_bulk_endpoint_comes_first() {
        let p = Profiles::draw(
            &mut Rng::new(1),
            ProfileParams {
                keys: 450,
                endpoints: 130,
                ..params()
            },
        );
        let mut ids: Vec<&str> = p.keys.iter().map(|k| k.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 450);
        let mut paths: Vec<&str> = p.endpoints.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths[0], BULK_METADATA_ENDPOINT);
        assert!(paths.contains(&"/api/segments"));
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), 130);
    }

    #[test]
    fn shares_sum_to_one_and_error_mix_hits_target() {
        let p = Profiles::draw(&mut Rng::new(9), params());
        let ks: f64 = p.keys.iter().map(|k| k.share).sum();
        let es: f64 = p.endpoints.iter().map(|e| e.share).sum();
        assert!((ks - 1.0).abs() < 1e-9 && (es - 1.0).abs() < 1e-9);
        let err: f64 = p.endpoints.iter().map(|e| e.share * e.error_rate).sum();
        assert!((err - 0.02).abs() < 0.002, "weighted error rate {err}");
        assert_eq!(p.keys.iter().filter(|k| k.heavy).count(), 4);
        assert_eq!(p.bulk_keys.len(), 3);
        assert!(p.bulk_keys.iter().all(|&k| !p.keys[k as usize].heavy));
    }

    #[test]
    fn limits_leave_headroom_except_for_heavy_keys() {
        let p = Profiles::draw(&mut Rng::new(3), params());
        for k in &p.keys {
            let mut peak = 1_200.0 * k.share;
            if k.monday_bulk {
                peak += 550.0 / 3.0;
            }
            let u = peak / f64::from(k.rate_limit_per_min);
            if k.heavy {
                assert!((0.75..=1.0).contains(&u), "{}: {u}", k.id);
            } else {
                assert!(u <= 0.5, "{}: {u}", k.id);
            }
        }
    }

    #[test]
    fn nice_limits_round_up() {
        assert_eq!(nice_limit(0.3), 60);
        assert_eq!(nice_limit(61.0), 120);
        assert_eq!(nice_limit(3001.0), 6000);
        assert_eq!(nice_limit(7000.0), 12000);
    }
}
