//! Reading aggregates through the rollup tiers: the read API the query layer builds on.
//!
//! A read asks for the series a selector picks, a time range and a bucket width, and gets per
//! series and field one [`RollupBucket`] (count, sum, min, max and, for distribution fields, a
//! quantile sketch) per output bucket. The range is cut into pieces ([`plan`]): the coarsest tier
//! whose width divides the bucket width serves every whole bucket of that tier inside the range,
//! finer tiers serve the edges, and raw points serve what is left at each end (less than a
//! minute). Counts, sums, minima and maxima are therefore exact; quantiles are within the
//! sketch's relative accuracy.
//!
//! Points still in the in-memory head are in no rollup file yet. For event measurements their
//! rollup is added to the tier's buckets. For metric measurements a head point may replace a
//! stored one (last write wins), so a tier bucket the head touches is recomputed from raw points
//! (segments and head merged) while raw retention still covers it.
//!
//! Retention applies per level: a piece served by a tier starts no earlier than that tier's
//! cutoff, and raw pieces no earlier than the raw cutoff (a query at a width finer than the
//! tiers that survive has no data for the expired span).

use super::compact::{apply_entry, merge_into};
use super::{merge_columns, read, Db, View};
use crate::error::EngineError;
use crate::options::MeasurementKind;
use crate::retention::Level;
use crate::rollup::{
    points_column, rollup_column_by, RelativeAccuracy, RollupBucket, Tier, POINTS_FIELD,
};
use crate::selector::Selector;
use crate::types::{FieldColumn, FieldType, Nanos, SeriesId, TimeRange};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Below this many series per worker a raw read stays on the calling thread: spawning costs
/// more than it saves.
const PARALLEL_MIN_SERIES: usize = 4096;

/// The cores reads may split across, asked once: the standard library reads cgroup files for
/// it on every call.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// A rollup read.
#[derive(Debug, Clone)]
pub struct RollupQuery<'a> {
    /// Which series.
    pub selector: &'a Selector,
    /// Which points, by timestamp.
    pub range: TimeRange,
    /// Output bucket width, aligned to the Unix epoch (`None`: one bucket for the whole range,
    /// starting at `range.start`).
    pub width: Option<Duration>,
    /// Which fields (`None`: every numeric field).
    pub fields: Option<&'a [&'a str]>,
    /// Tag keys to group by: one answer per combination of their values, summed over the series
    /// that share it (a series without a key groups under the empty value). `None`: one answer
    /// per series. Grouping lets the read use a projection (rollups kept at reduced dimensions)
    /// when one covers these keys and the selector's.
    pub group_by: Option<&'a [&'a str]>,
}

/// Where a piece of the range was answered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Raw points.
    Raw,
    /// A rollup tier.
    Rollup(Tier),
}

impl Source {
    /// "raw", "1m", "1h" or "1d".
    pub fn name(self) -> &'static str {
        match self {
            Source::Raw => "raw",
            Source::Rollup(t) => t.name(),
        }
    }
}

/// The buckets of one field of one series.
#[derive(Debug, Clone)]
pub struct FieldRollup {
    /// Field name.
    pub name: String,
    /// Output buckets with data, ascending by start.
    pub buckets: Vec<RollupBucket>,
}

/// The rollups of one group (or one series, without `group_by`).
#[derive(Debug, Clone)]
pub struct GroupRollup {
    /// The group's tags: the `group_by` keys and their values, or the series' tags.
    pub tags: Vec<(String, String)>,
    /// Fields with data in the range, sorted by name.
    pub fields: Vec<FieldRollup>,
}

/// The answer to a [`RollupQuery`].
#[derive(Debug, Clone)]
pub struct RollupAnswer {
    /// Groups with data in the range, sorted by tags.
    pub groups: Vec<GroupRollup>,
    /// The projection (tag keys) whose rollups served the tier pieces, if one did.
    pub projection: Option<Vec<String>>,
    /// How the range was cut and which level served each piece, in time order.
    pub sources: Vec<(TimeRange, Source)>,
    /// Tier buckets recomputed from raw points because unflushed writes touch them.
    pub recomputed_buckets: usize,
}

/// Cuts `range` into pieces served by the coarsest usable tier, finer tiers at its edges and raw
/// points at the very ends. `width` (ns, if any) limits the tiers to those whose width divides it.
pub fn plan(range: TimeRange, width: Option<i64>) -> Vec<(TimeRange, Source)> {
    let tiers: Vec<Tier> = Tier::ALL
        .into_iter()
        .filter(|t| width.is_none_or(|w| w % t.width_ns() == 0))
        .collect();
    let mut out = Vec::new();
    cut(range, &tiers, &mut out);
    out
}

fn cut(r: TimeRange, tiers: &[Tier], out: &mut Vec<(TimeRange, Source)>) {
    if r.start >= r.end {
        return;
    }
    let Some((&tier, finer)) = tiers.split_last() else {
        out.push((r, Source::Raw));
        return;
    };
    let w = tier.width_ns();
    let first = tier.bucket_start(r.start);
    let inner_start = if first == r.start {
        first
    } else {
        first.saturating_add(w)
    };
    let inner_end = tier.bucket_start(r.end);
    if inner_start >= inner_end {
        cut(r, finer, out);
        return;
    }
    cut(TimeRange::new(r.start, inner_start), finer, out);
    out.push((TimeRange::new(inner_start, inner_end), Source::Rollup(tier)));
    cut(TimeRange::new(inner_end, r.end), finer, out);
}

/// The answer's groups being filled: per group, per field, output buckets by start.
#[derive(Debug)]
struct Output {
    /// The sorted, distinct `group_by` keys; `None`: a group per series.
    keys: Option<Vec<String>>,
    index: BTreeMap<Vec<(String, String)>, usize>,
    acc: Vec<BTreeMap<String, BTreeMap<Nanos, RollupBucket>>>,
}

impl Output {
    fn new(group_by: Option<&[&str]>) -> Self {
        let keys = group_by.map(|keys| {
            let mut keys: Vec<String> = keys.iter().map(|&k| k.to_owned()).collect();
            keys.sort_unstable();
            keys.dedup();
            keys
        });
        Output {
            keys,
            index: BTreeMap::new(),
            acc: Vec::new(),
        }
    }

    /// The group of a series with these tags (a series without a `group_by` key groups under
    /// the empty value).
    fn group<'t>(&mut self, tags: impl Iterator<Item = (&'t str, &'t str)> + Clone) -> usize {
        let key: Vec<(String, String)> = match &self.keys {
            None => tags.map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
            Some(keys) => keys
                .iter()
                .map(|k| {
                    let v = tags.clone().find(|(t, _)| t == k).map_or("", |(_, v)| v);
                    (k.clone(), v.to_owned())
                })
                .collect(),
        };
        let next = self.index.len();
        let g = *self.index.entry(key).or_insert(next);
        if g == self.acc.len() {
            self.acc.push(BTreeMap::new());
        }
        g
    }

    /// The output buckets of `field` in group `g` (`None`, a series without a group, cannot
    /// happen: groups are assigned before data is added; it maps to a scratch group).
    fn field(&mut self, g: Option<usize>, field: &str) -> &mut BTreeMap<Nanos, RollupBucket> {
        let g = g.unwrap_or_else(|| self.group(std::iter::empty()));
        let fields = &mut self.acc[g];
        if !fields.contains_key(field) {
            fields.insert(field.to_owned(), BTreeMap::new());
        }
        fields.get_mut(field).expect("inserted above")
    }

    /// The groups with data, sorted by tags.
    fn finish(mut self) -> Vec<GroupRollup> {
        self.index
            .into_iter()
            .filter_map(|(tags, i)| {
                let fields: Vec<FieldRollup> = std::mem::take(&mut self.acc[i])
                    .into_iter()
                    .filter(|(_, b)| !b.is_empty())
                    .map(|(name, b)| FieldRollup {
                        name,
                        buckets: b.into_values().collect(),
                    })
                    .collect();
                (!fields.is_empty()).then_some(GroupRollup { tags, fields })
            })
            .collect()
    }
}

impl Db {
    /// Aggregates per series, field and bucket, served from the coarsest rollup tier that answers
    /// exactly (see the module doc of `db::rollups`).
    pub fn rollup(&self, q: &RollupQuery<'_>) -> Result<RollupAnswer, EngineError> {
        let width = match q.width {
            None => None,
            Some(w) => {
                let ns = i64::try_from(w.as_nanos()).unwrap_or(i64::MAX);
                if ns <= 0 {
                    return Err(EngineError::InvalidQuery(
                        "bucket width must be positive, e.g. 1m or 5m".into(),
                    ));
                }
                Some(ns)
            }
        };
        let measurement = &q.selector.measurement;
        let out_start = |t: Nanos| match width {
            None => q.range.start,
            Some(w) => t.saturating_sub(t.rem_euclid(w)),
        };
        let mut sources = Vec::new();
        for (piece, source) in plan(q.range, width) {
            let level = match source {
                Source::Raw => Level::Raw,
                Source::Rollup(t) => Level::Rollup(t),
            };
            let mut piece = piece;
            if let Some(c) = self.shared.cutoff(measurement, level) {
                piece.start = piece.start.max(c);
            }
            if piece.start < piece.end {
                sources.push((piece, source));
            }
        }
        // Raw series ids only: a series' tags are looked up when it turns out to have data in a
        // raw piece or the head, which for a grouped query served by a projection is a few
        // hundred of tens of thousands.
        let ids: Vec<SeriesId> = {
            let reg = read(&self.shared.registry);
            reg.index()
                .select(q.selector)
                .iter()
                .map(SeriesId)
                .collect()
        };
        let mut out = Output::new(q.group_by);
        let mut raw_group: Vec<Option<usize>> = vec![None; ids.len()];
        let view = self.view();
        let lww = self.shared.opts.kind_of(measurement) == MeasurementKind::Metric;
        // Tier pieces read a projection's few series when one covers the grouping and filters.
        let projection = match q.group_by {
            Some(keys) if !lww => {
                let mut needed: BTreeSet<&str> = keys.iter().copied().collect();
                needed.extend(q.selector.predicates.iter().map(|p| p.key()));
                let all = self.shared.opts.projections_of(measurement);
                crate::projection::choose(&all, &needed).map(<[String]>::to_vec)
            }
            _ => None,
        };
        // The series whose rollup entries the tier pieces read, and their groups.
        let (units, unit_group): (Vec<SeriesId>, Vec<usize>) = match &projection {
            None => {
                self.assign_groups(&ids, 0..ids.len(), &mut raw_group, &mut out);
                (
                    ids.clone(),
                    raw_group.iter().map(|g| g.unwrap_or(0)).collect(),
                )
            }
            Some(keys) => {
                let sel = Selector {
                    measurement: crate::projection::measurement_name(measurement, keys),
                    predicates: q.selector.predicates.clone(),
                };
                self.series(&sel)
                    .iter()
                    .map(|s| {
                        (
                            s.id,
                            out.group(s.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
                        )
                    })
                    .unzip()
            }
        };
        let raw_cutoff = self.shared.cutoff(measurement, Level::Raw);
        let dist_of = |field: &str| -> Option<RelativeAccuracy> {
            self.shared
                .opts
                .is_distribution_field(field)
                .then_some(self.shared.opts.sketch_accuracy)
        };
        // Unflushed points, read once for the whole range.
        let (raw_fields, points) = raw_fields(q.fields);
        let heads: Vec<Vec<FieldColumn>> = read_heads(&view, &ids, raw_fields, q.range, lww)
            .into_iter()
            .map(|cols| with_points(cols, q.fields, points, lww))
            .collect();
        let with_head = heads.iter().enumerate().filter(|(_, c)| !c.is_empty());
        self.assign_groups(&ids, with_head.map(|(i, _)| i), &mut raw_group, &mut out);
        // Raw ranges to read, with the raw series slots that need each.
        let mut raw_needs: BTreeMap<(Nanos, Nanos), Vec<usize>> = BTreeMap::new();
        let mut recomputed = 0;
        for &(piece, source) in &sources {
            let Source::Rollup(tier) = source else {
                raw_needs
                    .entry((piece.start, piece.end))
                    .or_default()
                    .extend(0..ids.len());
                continue;
            };
            let mut tier_buckets: Vec<BTreeMap<String, BTreeMap<Nanos, RollupBucket>>> =
                (0..units.len()).map(|_| BTreeMap::new()).collect();
            for file in view.rollups.iter().filter(|f| {
                let m = f.meta();
                m.partition.start < piece.end
                    && piece.start < m.partition.end
                    && m.min_start < piece.end
                    && piece.start <= m.max_start
            }) {
                for e in file.read(&units, q.fields, tier, piece)? {
                    // The point count is answered only when asked for by name.
                    if q.fields.is_none() && e.field == POINTS_FIELD {
                        continue;
                    }
                    if let Ok(slot) = units.binary_search(&e.series) {
                        let b = tier_buckets[slot].entry(e.field.clone()).or_default();
                        apply_entry(b, e)?;
                    }
                }
            }
            for (slot, cols) in heads.iter().enumerate() {
                for col in cols {
                    let lo = col.ts.partition_point(|&t| t < piece.start);
                    let hi = col.ts.partition_point(|&t| t < piece.end);
                    if lo == hi || col.values.field_type() == FieldType::String {
                        continue;
                    }
                    let ts = &col.ts[lo..hi];
                    let values = col.values.slice(lo..hi);
                    let dist = dist_of(&col.name);
                    if !lww {
                        // Events only add: straight into the group's output buckets.
                        let into = out.field(raw_group[slot], &col.name);
                        for b in rollup_column_by(ts, &values, out_start, dist) {
                            merge_into(into, b)?;
                        }
                        continue;
                    }
                    // A metric's head point may replace a stored one: rebuild the touched
                    // buckets from raw where raw still covers them, add where it does not.
                    let buckets = tier_buckets[slot].entry(col.name.clone()).or_default();
                    let mut starts: Vec<Nanos> = ts.iter().map(|&t| tier.bucket_start(t)).collect();
                    starts.dedup();
                    let mut additive = Vec::new();
                    for s in starts {
                        if raw_cutoff.is_none_or(|c| s >= c) {
                            buckets.remove(&s);
                            recomputed += 1;
                            let end = s.saturating_add(tier.width_ns()).min(piece.end);
                            raw_needs
                                .entry((s.max(piece.start), end))
                                .or_default()
                                .push(slot);
                        } else {
                            additive.push(s);
                        }
                    }
                    if additive.is_empty() {
                        continue;
                    }
                    for b in rollup_column_by(ts, &values, |t| tier.bucket_start(t), dist) {
                        if additive.contains(&b.start) {
                            merge_into(buckets, b)?;
                        }
                    }
                }
            }
            for (slot, fields) in tier_buckets.into_iter().enumerate() {
                for (field, buckets) in fields {
                    let into = out.field(Some(unit_group[slot]), &field);
                    for (_, mut b) in buckets {
                        b.start = out_start(b.start);
                        merge_into(into, b)?;
                    }
                }
            }
        }
        for ((start, end), mut slots) in raw_needs {
            slots.sort_unstable();
            slots.dedup();
            let want: Vec<SeriesId> = slots.iter().map(|&s| ids[s]).collect();
            let range = TimeRange::new(start, end);
            let cols = self.read_raw_parallel(&view, &want, raw_fields, range, lww)?;
            let cols: Vec<Vec<FieldColumn>> = cols
                .into_iter()
                .map(|c| with_points(c, q.fields, points, lww))
                .collect();
            let with_data = slots.iter().zip(&cols).filter(|(_, c)| !c.is_empty());
            self.assign_groups(&ids, with_data.map(|(&s, _)| s), &mut raw_group, &mut out);
            for (slot, cols) in slots.into_iter().zip(cols) {
                for col in cols {
                    let dist = dist_of(&col.name);
                    let into = out.field(raw_group[slot], &col.name);
                    for b in rollup_column_by(&col.ts, &col.values, out_start, dist) {
                        merge_into(into, b)?;
                    }
                }
            }
        }
        Ok(RollupAnswer {
            groups: out.finish(),
            projection,
            sources,
            recomputed_buckets: recomputed,
        })
    }

    /// Gives each of `slots` (indexes into `ids`) without a group yet the group of its tags.
    fn assign_groups(
        &self,
        ids: &[SeriesId],
        slots: impl IntoIterator<Item = usize>,
        groups: &mut [Option<usize>],
        out: &mut Output,
    ) {
        let slots: Vec<usize> = slots.into_iter().filter(|&s| groups[s].is_none()).collect();
        if slots.is_empty() {
            return;
        }
        let reg = read(&self.shared.registry);
        for slot in slots {
            // Every id the index returns has a key; one without would only lose its tags.
            groups[slot] = Some(match reg.key(ids[slot]) {
                Some(key) => out.group(key.tags()),
                None => out.group(std::iter::empty()),
            });
        }
    }

    /// [`Db::read_raw`], with many series split across the cores: a raw edge of an unaligned
    /// range touches every selected series (tens of thousands) for a few points each, and the
    /// per-series decoding, not I/O, is what it costs.
    fn read_raw_parallel(
        &self,
        view: &View,
        ids: &[SeriesId],
        fields: Option<&[&str]>,
        range: TimeRange,
        lww: bool,
    ) -> Result<Vec<Vec<FieldColumn>>, EngineError> {
        let workers = cores();
        if workers < 2 || ids.len() < 2 * PARALLEL_MIN_SERIES {
            return self.read_raw(view, ids, fields, range, lww);
        }
        let chunk = ids.len().div_ceil(workers).max(PARALLEL_MIN_SERIES);
        let parts: Vec<Result<Vec<Vec<FieldColumn>>, EngineError>> = std::thread::scope(|s| {
            let handles: Vec<_> = ids
                .chunks(chunk)
                .map(|part| s.spawn(move || self.read_raw(view, part, fields, range, lww)))
                .collect();
            handles
                .into_iter()
                // A worker's panic is a bug; it stays a panic here, as on one thread.
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        let mut out = Vec::with_capacity(ids.len());
        for p in parts {
            out.extend(p?);
        }
        Ok(out)
    }

    /// Raw points of `ids` (ascending) in `range` from segments and heads, merged per field
    /// (last-write-wins when `lww`); one entry per id.
    pub(super) fn read_raw(
        &self,
        view: &View,
        ids: &[SeriesId],
        fields: Option<&[&str]>,
        range: TimeRange,
        lww: bool,
    ) -> Result<Vec<Vec<FieldColumn>>, EngineError> {
        let mut parts: Vec<Vec<FieldColumn>> = (0..ids.len()).map(|_| Vec::new()).collect();
        // Segments first, without holding any head lock, so a long read never stalls the
        // writer. Oldest segment first, so parts stay in write order for last-write-wins; each
        // segment walks its blocks once for all the series (`read_many`).
        for seg in view
            .segments
            .iter()
            .filter(|s| range.overlaps(s.meta().min_ts, s.meta().max_ts))
        {
            // Answers come in ascending id order, like `ids`: one forward walk maps them.
            let mut slot = 0;
            for (id, cols) in seg.read_many(ids, fields, range)? {
                slot += ids[slot..].partition_point(|&x| x < id);
                if ids.get(slot) == Some(&id) {
                    parts[slot].extend(cols);
                }
            }
        }
        add_head_parts(view, ids, fields, range, &mut parts);
        Ok(merge_parts(ids, parts, lww))
    }
}

/// Appends the heads' points of `ids` in `range` to `parts` (one per id), frozen head first so
/// parts stay in write order. The view's Arcs keep a head that a flush completes meanwhile alive
/// and unchanged.
fn add_head_parts(
    view: &View,
    ids: &[SeriesId],
    fields: Option<&[&str]>,
    range: TimeRange,
    parts: &mut [Vec<FieldColumn>],
) {
    for h in view.frozen.iter().chain(std::iter::once(&view.active)) {
        let h = read(h);
        for (p, cols) in parts.iter_mut().zip(h.read_many(ids, fields, range)) {
            p.extend(cols);
        }
    }
}

/// Merges each id's parts per field (see `merge_columns`).
fn merge_parts(ids: &[SeriesId], parts: Vec<Vec<FieldColumn>>, lww: bool) -> Vec<Vec<FieldColumn>> {
    ids.iter()
        .zip(parts)
        .map(|(&id, p)| merge_columns(id, p, lww))
        .collect()
}

/// The fields to read raw for `fields`: all of them when the point count is asked for (it is
/// derived from every field), and whether it is.
fn raw_fields<'a>(fields: Option<&'a [&'a str]>) -> (Option<&'a [&'a str]>, bool) {
    match fields {
        Some(f) if f.contains(&POINTS_FIELD) => (None, true),
        other => (other, false),
    }
}

/// A series' raw columns with the derived point count added when `points`, limited to
/// `fields`.
fn with_points(
    cols: Vec<FieldColumn>,
    fields: Option<&[&str]>,
    points: bool,
    lww: bool,
) -> Vec<FieldColumn> {
    if !points || cols.is_empty() {
        return cols;
    }
    let count = points_column(&cols, lww);
    let mut out: Vec<FieldColumn> = cols
        .into_iter()
        .filter(|c| fields.is_none_or(|f| f.contains(&c.name.as_str())))
        .collect();
    out.extend(count);
    out
}

/// Unflushed points of `ids` in `range`, merged per field; one entry per id.
fn read_heads(
    view: &View,
    ids: &[SeriesId],
    fields: Option<&[&str]>,
    range: TimeRange,
    lww: bool,
) -> Vec<Vec<FieldColumn>> {
    let mut parts: Vec<Vec<FieldColumn>> = (0..ids.len()).map(|_| Vec::new()).collect();
    add_head_parts(view, ids, fields, range, &mut parts);
    merge_parts(ids, parts, lww)
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = 60_000_000_000;
    const H: i64 = 60 * M;
    const D: i64 = 24 * H;

    #[test]
    fn plan_uses_the_coarsest_tier_inside_and_finer_ones_at_the_edges() {
        let r = TimeRange::new(D - H - M - 5, 2 * D + 2 * H + 3 * M + 7);
        let p = plan(r, None);
        let want = vec![
            (TimeRange::new(D - H - M - 5, D - H - M), Source::Raw),
            (
                TimeRange::new(D - H - M, D - H),
                Source::Rollup(Tier::Minute),
            ),
            (TimeRange::new(D - H, D), Source::Rollup(Tier::Hour)),
            (TimeRange::new(D, 2 * D), Source::Rollup(Tier::Day)),
            (
                TimeRange::new(2 * D, 2 * D + 2 * H),
                Source::Rollup(Tier::Hour),
            ),
            (
                TimeRange::new(2 * D + 2 * H, 2 * D + 2 * H + 3 * M),
                Source::Rollup(Tier::Minute),
            ),
            (
                TimeRange::new(2 * D + 2 * H + 3 * M, 2 * D + 2 * H + 3 * M + 7),
                Source::Raw,
            ),
        ];
        assert_eq!(p, want);
        // The pieces tile the range.
        for w in p.windows(2) {
            assert_eq!(w[0].0.end, w[1].0.start);
        }
    }

    #[test]
    fn plan_respects_the_bucket_width() {
        // 5 minute buckets: hours divide nothing, minutes do.
        let r = TimeRange::new(0, 2 * H);
        assert_eq!(
            plan(r, Some(5 * M)),
            vec![(r, Source::Rollup(Tier::Minute))]
        );
        // 90 second buckets: no tier divides them, so raw.
        assert_eq!(plan(r, Some(90_000_000_000)), vec![(r, Source::Raw)]);
        // Hour buckets over two hours: the hour tier.
        assert_eq!(plan(r, Some(H)), vec![(r, Source::Rollup(Tier::Hour))]);
        assert_eq!(plan(TimeRange::new(5, 5), None), vec![]);
    }

    #[test]
    fn plan_handles_negative_and_extreme_instants() {
        let r = TimeRange::new(-H - 1, H + 1);
        let p = plan(r, None);
        assert_eq!(p.first().map(|x| x.0.start), Some(-H - 1));
        assert_eq!(p.last().map(|x| x.0.end), Some(H + 1));
        let all = plan(TimeRange::ALL, None);
        assert_eq!(all.first().map(|x| x.0.start), Some(TimeRange::ALL.start));
        assert_eq!(all.last().map(|x| x.0.end), Some(TimeRange::ALL.end));
    }
}
