//! The rollup entries a flush writes for the points it moves out of the head.
//!
//! Event measurements (every point counts) and metric points that land on new timestamps only
//! add: their buckets are the rollup of the new points, merged into the older files' buckets at
//! read and compaction time ([`EntryMode::Add`]), so late and out-of-order points update the
//! buckets they fall in, whichever flush brings them.
//!
//! A metric point that lands on a timestamp already stored replaces that point (last write
//! wins), which an additive rollup cannot undo: the old value would stay counted. For such a
//! series and field the flush re-reads the partition's committed raw points, applies the new
//! points over them and rebuilds every bucket the new points touch, at every tier, as
//! [`EntryMode::Replace`] entries. The day bucket needs the whole partition's raw points, so when
//! raw retention has already dropped part of the partition the flush cannot rebuild exactly; it
//! then adds (the replaced value stays counted in those buckets) and logs a warning.

use super::{merge_columns, Shared};
use crate::error::EngineError;
use crate::retention::Level;
use crate::rollup::file::{EntryMode, RollupEntry};
use crate::rollup::{
    coarsen, points_column, rollup_column_with, RelativeAccuracy, RollupBucket, Tier, POINTS_FIELD,
};
use crate::segment::Segment;
use crate::types::{ColumnValues, FieldColumn, FieldType, Nanos, SeriesId, TimeRange};
use std::collections::BTreeSet;
use std::sync::Arc;

/// One field's new points of one series within one partition, sorted by time.
pub(super) struct Column<'a> {
    pub(super) series: SeriesId,
    pub(super) last_write_wins: bool,
    pub(super) field: &'a str,
    pub(super) ts: &'a [Nanos],
    pub(super) values: &'a ColumnValues,
}

/// The entries (up to one per tier) a flush writes for `col`. `committed` are the segments
/// committed before this flush, oldest first.
pub(super) fn flush_entries(
    shared: &Shared,
    committed: &[Arc<Segment>],
    col: Column<'_>,
    partition: TimeRange,
) -> Result<Vec<RollupEntry>, EngineError> {
    if col.values.field_type() == FieldType::String || col.ts.is_empty() {
        return Ok(Vec::new());
    }
    let dist = shared
        .opts
        .is_distribution_field(col.field)
        .then_some(shared.opts.sketch_accuracy);
    if col.last_write_wins {
        if let Some(entries) = replacement(shared, committed, &col, partition, dist)? {
            return Ok(entries);
        }
    }
    let tiers = tiers_of(col.ts, col.values, dist)?;
    Ok(entries(&col, EntryMode::Add, tiers))
}

/// Buckets of every tier: minutes from the points, hours and days merged from those.
pub(super) fn tiers_of(
    ts: &[Nanos],
    values: &ColumnValues,
    dist: Option<RelativeAccuracy>,
) -> Result<[Vec<RollupBucket>; 3], EngineError> {
    let minute = rollup_column_with(ts, values, Tier::Minute, dist);
    let hour = coarsen(&minute, Tier::Hour)?;
    let day = coarsen(&hour, Tier::Day)?;
    Ok([minute, hour, day])
}

fn entries(col: &Column<'_>, mode: EntryMode, tiers: [Vec<RollupBucket>; 3]) -> Vec<RollupEntry> {
    Tier::ALL
        .into_iter()
        .zip(tiers)
        .filter(|(_, b)| !b.is_empty())
        .map(|(tier, buckets)| RollupEntry {
            series: col.series,
            field: col.field.to_owned(),
            tier,
            mode,
            buckets,
        })
        .collect()
}

/// `Some(replace entries)` when a new point lands on a committed timestamp and raw data still
/// covers the whole partition; `None` when adding is exact (or the best that can be done).
fn replacement(
    shared: &Shared,
    committed: &[Arc<Segment>],
    col: &Column<'_>,
    partition: TimeRange,
    dist: Option<RelativeAccuracy>,
) -> Result<Option<Vec<RollupEntry>>, EngineError> {
    let mut old: Vec<FieldColumn> = Vec::new();
    let points = col.field == POINTS_FIELD;
    for seg in committed
        .iter()
        .filter(|s| s.meta().partition == partition && s.contains(col.series))
    {
        if points {
            // The point count is not stored raw: derive it from every field of the segment.
            let cols = seg.read(col.series, None, partition)?;
            old.extend(points_column(&cols, true));
        } else {
            old.extend(seg.read(col.series, Some(&[col.field]), partition)?);
        }
    }
    let overlaps = old
        .iter()
        .any(|c| c.ts.iter().any(|t| col.ts.binary_search(t).is_ok()));
    if !overlaps {
        return Ok(None);
    }
    if shared
        .series_cutoff(col.series, Level::Raw)
        .is_some_and(|c| partition.start < c)
    {
        tracing::warn!(
            series = col.series.0,
            field = col.field,
            partition_start = partition.start,
            "a rewrite of stored points falls where raw retention has dropped part of the day; its rollups add the new values without removing the replaced ones"
        );
        return Ok(None);
    }
    old.push(FieldColumn {
        name: col.field.to_owned(),
        ts: col.ts.to_vec(),
        values: col.values.clone(),
    });
    let Some(merged) = merge_columns(col.series, old, true).into_iter().next() else {
        return Ok(None);
    };
    let mut tiers = tiers_of(&merged.ts, &merged.values, dist)?;
    for (tier, buckets) in Tier::ALL.into_iter().zip(tiers.iter_mut()) {
        let touched: BTreeSet<Nanos> = col.ts.iter().map(|&t| tier.bucket_start(t)).collect();
        buckets.retain(|b| touched.contains(&b.start));
    }
    Ok(Some(entries(col, EntryMode::Replace, tiers)))
}
