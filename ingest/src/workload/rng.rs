//! The generator's own random numbers: xoshiro256** seeded through SplitMix64, and the few
//! distributions the workload draws from.
//!
//! Why not `rand`'s generators and `rand_distr`: the workload must stay byte-identical for a seed
//! across dependency upgrades so that benchmark figures stay comparable over time, and both crates
//! reserve the right to change the values their generators and samplers produce between versions
//! (`StdRng` names no algorithm at all). These are the published reference algorithms
//! (<https://prng.di.unimi.it/>), so this file alone fixes the sequence for a seed. The only
//! platform dependence left is the last bit of `ln`/`exp`/`sin`/`cos` in the system libm, which can
//! change a generated value only when it lies exactly on a rounding boundary of its 0.1 ms or
//! 1-byte output grid.

/// A seeded xoshiro256** generator with a cached second Box-Muller normal.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
    spare_normal: Option<f64>,
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole sequence is fixed by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        let mut sm = seed;
        // SplitMix64 never yields four zero words from one state walk, so xoshiro's forbidden
        // all-zero state cannot occur.
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng {
            s,
            spare_normal: None,
        }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n` (`n > 0`), by Lemire's multiply-shift; the bias is below 2^-32 for the
    /// small `n` used here.
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }

    /// Standard normal, by the Box-Muller transform (two values per draw of two uniforms).
    pub(crate) fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // 1 - unit() lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        let r = (-2.0 * u1.ln()).sqrt();
        let (sin, cos) = (std::f64::consts::TAU * u2).sin_cos();
        self.spare_normal = Some(r * sin);
        r * cos
    }

    /// Log-normal with the given median and shape `sigma` (the standard deviation of its log).
    pub(crate) fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Poisson with mean `lambda`: Knuth's product method for small means, a rounded normal
    /// approximation above 30 (where its error is far below the traffic model's own).
    pub(crate) fn poisson(&mut self, lambda: f64) -> u32 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda > 30.0 {
            let x = lambda + lambda.sqrt() * self.normal();
            return x.round().max(0.0) as u32;
        }
        let limit = (-lambda).exp();
        let mut k = 0u32;
        let mut p = self.unit();
        while p > limit {
            k += 1;
            p *= self.unit();
        }
        k
    }

    /// An index into `cumulative` (ascending partial sums of weights, last = total), drawn in
    /// proportion to the weights.
    pub(crate) fn pick(&mut self, cumulative: &[f64]) -> usize {
        let total = cumulative.last().copied().unwrap_or(0.0);
        let x = self.unit() * total;
        cumulative
            .partition_point(|&c| c <= x)
            .min(cumulative.len().saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro_matches_reference_vector() {
        // Reference: xoshiro256** from state {1, 2, 3, 4} yields 11520, 0, 1509978240, ...
        let mut r = Rng {
            s: [1, 2, 3, 4],
            spare_normal: None,
        };
        assert_eq!(r.next_u64(), 11520);
        assert_eq!(r.next_u64(), 0);
        assert_eq!(r.next_u64(), 1509978240);
        assert_eq!(r.next_u64(), 1215971899390074240);
    }

    #[test]
    fn splitmix_matches_reference_vector() {
        // Reference: SplitMix64 from state 0 yields 0xe220a8397b1dcdaf first.
        let mut s = 0u64;
        assert_eq!(splitmix64(&mut s), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn distributions_have_expected_moments() {
        let mut r = Rng::new(42);
        let n = 200_000;
        let (mut sum, mut sq) = (0.0, 0.0);
        for _ in 0..n {
            let z = r.normal();
            sum += z;
            sq += z * z;
        }
        let mean = sum / n as f64;
        assert!(mean.abs() < 0.01, "normal mean {mean}");
        assert!((sq / n as f64 - 1.0).abs() < 0.02, "normal variance");

        for lambda in [0.5, 4.0, 12.0, 80.0] {
            let total: u64 = (0..50_000).map(|_| u64::from(r.poisson(lambda))).sum();
            let mean = total as f64 / 50_000.0;
            assert!(
                (mean - lambda).abs() < 0.03 * lambda + 0.02,
                "poisson({lambda}) mean {mean}"
            );
        }

        let mut below = [0u32; 7];
        for _ in 0..70_000 {
            below[r.below(7) as usize] += 1;
        }
        assert!(
            below.iter().all(|&c| (9_000..11_000).contains(&c)),
            "{below:?}"
        );

        let cum = [1.0, 1.0, 4.0];
        let mut hits = [0u32; 3];
        for _ in 0..40_000 {
            hits[r.pick(&cum)] += 1;
        }
        assert_eq!(hits[1], 0, "zero-weight entries are never picked");
        assert!((9_000..11_000).contains(&hits[0]), "{hits:?}");
    }
}
