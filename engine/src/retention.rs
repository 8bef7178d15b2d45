//! How long each level of the store (raw points and the three rollup tiers) is kept, per
//! measurement.
//!
//! Defaults follow the PRDs: raw points 7 days (drill-down into recent requests), 1 minute
//! rollups 90 days (the API dashboard's default history), 1 hour rollups 2 years (finance's
//! year-over-year), 1 day rollups forever. A measurement may override any level; a level it does
//! not override follows the default, also when the default changes later.
//!
//! Retention is by timestamp against the wall clock: a point (or bucket) is expired once
//! `ts < now - keep`. Reads hide expired data at once; compaction deletes it from disk.

use crate::rollup::Tier;
use crate::types::Nanos;
use std::collections::BTreeMap;
use std::time::Duration;

/// One level of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Raw points.
    Raw,
    /// Rollups of one tier.
    Rollup(Tier),
}

impl Level {
    /// Every level, finest first.
    pub const ALL: [Level; 4] = [
        Level::Raw,
        Level::Rollup(Tier::Minute),
        Level::Rollup(Tier::Hour),
        Level::Rollup(Tier::Day),
    ];

    /// Name in configs and APIs: "raw", "1m", "1h", "1d".
    pub fn name(self) -> &'static str {
        match self {
            Level::Raw => "raw",
            Level::Rollup(t) => t.name(),
        }
    }

    /// Parses a name given by [`Level::name`] (also "minute", "hour", "day").
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "raw" => Level::Raw,
            "1m" | "minute" => Level::Rollup(Tier::Minute),
            "1h" | "hour" => Level::Rollup(Tier::Hour),
            "1d" | "day" => Level::Rollup(Tier::Day),
            _ => return None,
        })
    }

    fn index(self) -> usize {
        match self {
            Level::Raw => 0,
            Level::Rollup(Tier::Minute) => 1,
            Level::Rollup(Tier::Hour) => 2,
            Level::Rollup(Tier::Day) => 3,
        }
    }
}

/// How long one level keeps data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Never expires.
    Forever,
    /// Expires this long after its timestamp.
    For(Duration),
}

impl Keep {
    /// The oldest timestamp still kept at `now`; `None` when nothing expires.
    pub fn cutoff(self, now: Nanos) -> Option<Nanos> {
        match self {
            Keep::Forever => None,
            Keep::For(d) => Some(now.saturating_sub(d.as_nanos().min(i64::MAX as u128) as i64)),
        }
    }
}

/// The keep of every level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    levels: [Keep; 4],
}

impl Default for Retention {
    fn default() -> Self {
        const DAY: u64 = 86_400;
        Retention {
            levels: [
                Keep::For(Duration::from_secs(7 * DAY)),
                Keep::For(Duration::from_secs(90 * DAY)),
                Keep::For(Duration::from_secs(730 * DAY)),
                Keep::Forever,
            ],
        }
    }
}

impl Retention {
    /// Every level kept forever (tests, archives).
    pub const FOREVER: Retention = Retention {
        levels: [Keep::Forever; 4],
    };

    /// The keep of `level`.
    pub fn get(&self, level: Level) -> Keep {
        self.levels[level.index()]
    }

    /// Sets the keep of `level`.
    pub fn set(&mut self, level: Level, keep: Keep) {
        self.levels[level.index()] = keep;
    }

    /// The same with `level` set to `keep`.
    pub fn with(mut self, level: Level, keep: Keep) -> Self {
        self.set(level, keep);
        self
    }
}

/// Overrides of some levels for one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Overrides {
    levels: [Option<Keep>; 4],
}

impl Overrides {
    /// The override of `level`, if any.
    pub fn get(&self, level: Level) -> Option<Keep> {
        self.levels[level.index()]
    }

    /// Sets (`Some`) or removes (`None`) the override of `level`.
    pub fn set(&mut self, level: Level, keep: Option<Keep>) {
        self.levels[level.index()] = keep;
    }

    /// Whether nothing is overridden.
    pub fn is_empty(&self) -> bool {
        self.levels.iter().all(Option::is_none)
    }
}

/// The default retention plus per-measurement overrides.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetentionPolicy {
    /// What every measurement keeps unless overridden.
    pub default: Retention,
    /// Per-measurement overrides, by measurement name.
    pub measurements: BTreeMap<String, Overrides>,
}

impl RetentionPolicy {
    /// Every level of every measurement kept forever.
    pub fn forever() -> Self {
        RetentionPolicy {
            default: Retention::FOREVER,
            measurements: BTreeMap::new(),
        }
    }

    /// The keep of `level` for `measurement`.
    pub fn keep(&self, measurement: &str, level: Level) -> Keep {
        self.measurements
            .get(measurement)
            .and_then(|o| o.get(level))
            .unwrap_or_else(|| self.default.get(level))
    }

    /// The effective retention of `measurement`.
    pub fn of(&self, measurement: &str) -> Retention {
        let mut r = self.default;
        for level in Level::ALL {
            r.set(level, self.keep(measurement, level));
        }
        r
    }

    /// Sets the keep of `level` for `measurement` (`None`: the default retention), or with
    /// `keep = None` removes the override so the level follows the default again.
    pub fn set(&mut self, measurement: Option<&str>, level: Level, keep: Option<Keep>) {
        match measurement {
            None => {
                if let Some(k) = keep {
                    self.default.set(level, k);
                }
            }
            Some(m) => {
                let o = self.measurements.entry(m.to_owned()).or_default();
                o.set(level, keep);
                if o.is_empty() {
                    self.measurements.remove(m);
                }
            }
        }
    }

    /// Whether any level of any measurement can expire.
    pub fn expires_anything(&self) -> bool {
        Level::ALL
            .iter()
            .any(|&l| self.default.get(l) != Keep::Forever)
            || self
                .measurements
                .values()
                .any(|o| o.levels.iter().any(|k| matches!(k, Some(Keep::For(_)))))
    }
}

/// The wall clock in nanoseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_nanos() -> Nanos {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_prds() {
        let p = RetentionPolicy::default();
        let days = |k: Keep| match k {
            Keep::For(d) => Some(d.as_secs() / 86_400),
            Keep::Forever => None,
        };
        assert_eq!(days(p.keep("requests", Level::Raw)), Some(7));
        assert_eq!(
            days(p.keep("requests", Level::Rollup(Tier::Minute))),
            Some(90)
        );
        assert_eq!(
            days(p.keep("requests", Level::Rollup(Tier::Hour))),
            Some(730)
        );
        assert_eq!(days(p.keep("requests", Level::Rollup(Tier::Day))), None);
    }

    #[test]
    fn overrides_are_per_level_and_follow_later_default_changes() {
        let mut p = RetentionPolicy::default();
        let d30 = Keep::For(Duration::from_secs(30 * 86_400));
        p.set(Some("cost"), Level::Raw, Some(Keep::Forever));
        p.set(None, Level::Rollup(Tier::Minute), Some(d30));
        assert_eq!(p.keep("cost", Level::Raw), Keep::Forever);
        assert_eq!(p.keep("cost", Level::Rollup(Tier::Minute)), d30);
        assert_eq!(
            p.keep("other", Level::Raw),
            Retention::default().get(Level::Raw)
        );
        p.set(Some("cost"), Level::Raw, None);
        assert!(p.measurements.is_empty(), "an empty override is dropped");
        assert_eq!(
            p.keep("cost", Level::Raw),
            Retention::default().get(Level::Raw)
        );
    }

    #[test]
    fn cutoff_is_now_minus_keep_and_saturates() {
        assert_eq!(Keep::Forever.cutoff(100), None);
        assert_eq!(Keep::For(Duration::from_nanos(30)).cutoff(100), Some(70));
        assert_eq!(Keep::For(Duration::MAX).cutoff(0), Some(-i64::MAX));
    }

    #[test]
    fn level_names_round_trip() {
        for l in Level::ALL {
            assert_eq!(Level::parse(l.name()), Some(l));
        }
        assert_eq!(Level::parse("week"), None);
        assert!(RetentionPolicy::default().expires_anything());
        assert!(!RetentionPolicy::forever().expires_anything());
    }
}
