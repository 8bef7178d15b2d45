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
//!
//! Two layers make the policy in force ([`RetentionLayers`]): the configured one (the config
//! file, replaced when it is reloaded) and the changes made at run time through the admin API,
//! which the database keeps in its data directory (`RETENTION`) so they survive restarts and
//! config reloads until removed. A run-time change wins over the config for the level it names.
//!
//! `RETENTION` is a text file, one change per line, `<measurement or *> <level> <keep>` with keep
//! `forever` or a whole number of seconds; it is replaced atomically on every change.

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

/// The configured policy plus the run-time changes layered over it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetentionLayers {
    /// From the configuration.
    pub config: RetentionPolicy,
    /// Set at run time: `(measurement or None for the default, level) -> keep`.
    pub changes: BTreeMap<(Option<String>, Level), Keep>,
}

impl RetentionLayers {
    /// The policy in force.
    pub fn effective(&self) -> RetentionPolicy {
        let mut p = self.config.clone();
        for ((m, level), keep) in &self.changes {
            p.set(m.as_deref(), *level, Some(*keep));
        }
        p
    }

    /// Records a run-time change; `keep = None` removes the change, so the level follows the
    /// configuration again.
    pub fn set(&mut self, measurement: Option<&str>, level: Level, keep: Option<Keep>) {
        let key = (measurement.map(str::to_owned), level);
        match keep {
            Some(k) => {
                self.changes.insert(key, k);
            }
            None => {
                self.changes.remove(&key);
            }
        }
    }

    /// The run-time changes in the `RETENTION` file format.
    pub fn encode_changes(&self) -> String {
        let mut out = String::new();
        for ((m, level), keep) in &self.changes {
            let keep = match keep {
                Keep::Forever => "forever".to_owned(),
                Keep::For(d) => d.as_secs().to_string(),
            };
            out.push_str(&format!(
                "{} {} {keep}\n",
                m.as_deref().unwrap_or("*"),
                level.name()
            ));
        }
        out
    }

    /// Parses the `RETENTION` file format; the error names the line and what is wrong.
    pub fn decode_changes(text: &str) -> Result<BTreeMap<(Option<String>, Level), Keep>, String> {
        let mut out = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = |what: &str| format!("line {}: {what} in {line:?}", i + 1);
            let mut parts = line.split(' ');
            let (Some(m), Some(level), Some(keep), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(bad("expected '<measurement or *> <level> <keep>'"));
            };
            let level = Level::parse(level).ok_or_else(|| bad("unknown level"))?;
            let keep = match keep {
                "forever" => Keep::Forever,
                secs => Keep::For(Duration::from_secs(
                    secs.parse()
                        .map_err(|_| bad("keep is neither 'forever' nor seconds"))?,
                )),
            };
            let m = (m != "*").then(|| m.to_owned());
            out.insert((m, level), keep);
        }
        Ok(out)
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
    fn run_time_changes_win_over_the_config_and_round_trip_through_text() {
        let mut l = RetentionLayers::default();
        let d3 = Keep::For(Duration::from_secs(3 * 86_400));
        l.set(Some("cost"), Level::Raw, Some(Keep::Forever));
        l.set(None, Level::Rollup(Tier::Minute), Some(d3));
        assert_eq!(l.effective().keep("cost", Level::Raw), Keep::Forever);
        assert_eq!(l.effective().keep("x", Level::Rollup(Tier::Minute)), d3);
        // A config reload changes what is not overridden at run time.
        l.config
            .default
            .set(Level::Raw, Keep::For(Duration::from_secs(86_400)));
        assert_eq!(
            l.effective().keep("x", Level::Raw),
            Keep::For(Duration::from_secs(86_400))
        );
        assert_eq!(l.effective().keep("cost", Level::Raw), Keep::Forever);
        let text = l.encode_changes();
        assert_eq!(RetentionLayers::decode_changes(&text).unwrap(), l.changes);
        l.set(Some("cost"), Level::Raw, None);
        assert_eq!(
            l.effective().keep("cost", Level::Raw),
            l.config.default.get(Level::Raw)
        );
        for bad in ["cost raw", "cost week 5", "cost raw soon", "a b c d"] {
            let err = RetentionLayers::decode_changes(bad).unwrap_err();
            assert!(err.starts_with("line 1:"), "{err}");
        }
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
