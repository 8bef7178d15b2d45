//! Opens a segment (mmap or owned bytes), validates it completely, and reads series back.
//!
//! `open` checks checksums and every index entry up front, so reads only look data up. Blocks are
//! decompressed on demand and, once [`Segment::with_cache`] gives one, kept in the database's
//! shared [`BlockCache`] (bounded in bytes across every file, so a query touching two day
//! partitions finds their blocks there again next time instead of thrashing a small per-file
//! cache); [`Segment::read_many`] walks series in block order so each block is decompressed once.

use super::format::{
    decode_series, ColLoc, Cursor, FieldEntry, Footer, IndexBounds, Layout, FOOTER_CRC_COVERS,
    FOOTER_LEN, MAGIC, VERSION,
};
use super::{SegmentError, SegmentMeta};
use crate::blockio::{
    decompress, parse_block_table, read_block, read_names, BlockInfo, HEADER_LEN,
};
use crate::cache::BlockCache;
use crate::codec::{decode_timestamps_in, decode_values, decode_values_in};
use crate::types::{ColumnPiece, ColumnValues, FieldColumn, FieldType, SeriesId, TimeRange};
use memmap2::Mmap;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// An open, validated segment file. Cheap to share behind an `Arc`; reads take `&self`.
pub struct Segment {
    path: PathBuf,
    bytes: Backing,
    meta: SegmentMeta,
    pub(super) blocks: Vec<BlockInfo>,
    /// The field-name dictionary, sorted (so name ids order fields by name).
    pub(super) names: Vec<String>,
    /// The decompressed index; `slots` point into it.
    pub(super) index: Vec<u8>,
    /// One per series, ascending id.
    slots: Vec<Slot>,
    /// Index entry times are in units of `2^time_shift` ns.
    time_shift: u8,
    /// This file's key in `cache` (see `BlockCache::file_id`).
    id: u64,
    /// Where decompressed blocks are kept; `None`: each read decompresses what it uses.
    cache: Option<Arc<BlockCache>>,
    /// Blocks decompressed so far (tests check that a walk decompresses each block once).
    pub(super) decompressed: AtomicU64,
}

/// Where a series' index entry starts and the column layout position just before it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot {
    pub(super) id: u32,
    pub(super) entry: u32,
    pub(super) layout: Layout,
}

#[derive(Debug)]
enum Backing {
    Mmap(Mmap),
    Shared(Arc<[u8]>),
}

impl Backing {
    fn as_slice(&self) -> &[u8] {
        match self {
            Backing::Mmap(m) => m,
            Backing::Shared(b) => b,
        }
    }
}

impl fmt::Debug for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Segment")
            .field("path", &self.path)
            .field("meta", &self.meta)
            .field("blocks", &self.blocks.len())
            .field("fields", &self.names)
            .finish_non_exhaustive()
    }
}

impl Segment {
    /// Maps the file at `path` and validates it (magic, version, both checksums, every index
    /// entry). Errors name the path and what failed; see [`SegmentError::is_corruption`].
    pub fn open(path: &Path) -> Result<Segment, SegmentError> {
        let io = |op: &'static str| {
            move |source| SegmentError::Io {
                op,
                path: path.to_path_buf(),
                source,
            }
        };
        let file = File::open(path).map_err(io("open"))?;
        let len = file.metadata().map_err(io("stat"))?.len();
        if len < (HEADER_LEN + FOOTER_LEN) as u64 {
            // Also keeps us from mapping an empty file, which fails on some platforms.
            return Err(SegmentError::Truncated {
                path: path.to_path_buf(),
                len,
                min: (HEADER_LEN + FOOTER_LEN) as u64,
            });
        }
        // SAFETY: segment files are immutable once renamed into place (module invariants):
        // nothing in Tally writes to or truncates them while they are open, and deleting one
        // keeps the mapping valid. Another process changing the file under us is outside what
        // the engine can defend against.
        let map = unsafe { Mmap::map(&file) }.map_err(io("mmap"))?;
        Segment::parse(path.to_path_buf(), Backing::Mmap(map))
    }

    /// Validates and serves a segment held in memory; `path` only labels errors. This is the
    /// entry point of the fuzz target: any bytes give an error or a working segment, never a
    /// panic.
    pub fn from_bytes(
        path: impl Into<PathBuf>,
        bytes: impl Into<Arc<[u8]>>,
    ) -> Result<Segment, SegmentError> {
        Segment::parse(path.into(), Backing::Shared(bytes.into()))
    }

    /// Makes reads keep the blocks they decompress in `cache` and look there first.
    pub fn with_cache(mut self, cache: Arc<BlockCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The segment's metadata, from its footer.
    pub fn meta(&self) -> &SegmentMeta {
        &self.meta
    }

    /// The file it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size of the file in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.bytes.as_slice().len() as u64
    }

    /// Every field name stored, sorted.
    pub fn field_names(&self) -> &[String] {
        &self.names
    }

    /// The ids of the series stored.
    pub fn series_ids(&self) -> roaring::RoaringBitmap {
        // Ids are strictly ascending (checked at open), which from_sorted_iter requires.
        roaring::RoaringBitmap::from_sorted_iter(self.slots.iter().map(|s| s.id))
            .unwrap_or_else(|_| self.slots.iter().map(|s| s.id).collect())
    }

    /// Whether the segment holds any column of `series`.
    pub fn contains(&self, series: SeriesId) -> bool {
        self.slot(series).is_some()
    }

    /// Columns of one series in `range` (filtered, points outside removed), optionally only the
    /// named fields; sorted by field name. Fields without points in the range are left out; a
    /// series the segment does not hold gives an empty list.
    pub fn read(
        &self,
        series: SeriesId,
        fields: Option<&[&str]>,
        range: TimeRange,
    ) -> Result<Vec<FieldColumn>, SegmentError> {
        let Some(slot) = self.slot(series) else {
            return Ok(Vec::new());
        };
        let wanted = self.wanted_names(fields);
        let mut blocks = BlockHold::default();
        let mut scratch = Scratch::default();
        self.read_slot(slot, wanted.as_deref(), range, &mut blocks, &mut scratch)
    }

    /// [`read`](Self::read) for many series at once, decompressing each block at most once: the
    /// series are visited in id order, which is block order. Returns, in ascending id order, the
    /// series that have columns in `range`; ids the segment does not hold are skipped.
    pub fn read_many(
        &self,
        series: &[SeriesId],
        fields: Option<&[&str]>,
        range: TimeRange,
    ) -> Result<Vec<(SeriesId, Vec<FieldColumn>)>, SegmentError> {
        let found = self.slots_of(series);
        let wanted = self.wanted_names(fields);
        let mut blocks = BlockHold::default();
        let mut scratch = Scratch::default();
        let mut out = Vec::with_capacity(found.len());
        for i in found {
            let slot = self.slots[i];
            let cols = self.read_slot(slot, wanted.as_deref(), range, &mut blocks, &mut scratch)?;
            if !cols.is_empty() {
                out.push((SeriesId(slot.id), cols));
            }
        }
        Ok(out)
    }

    /// Visits the values of `field` of each of `series` in `range`, without copying them into
    /// per-series columns: `visit` gets the series and a [`ColumnPiece`]. When `need_ts` is
    /// false and a column lies wholly inside the range, its timestamps are not decoded at all
    /// (a sum over whole partitions decodes values only). Columns of other types than the
    /// index records are impossible (the index is checked at open).
    pub fn scan_field(
        &self,
        series: &[SeriesId],
        field: &str,
        range: TimeRange,
        need_ts: bool,
        mut visit: impl FnMut(SeriesId, ColumnPiece<'_>),
    ) -> Result<(), SegmentError> {
        let Ok(name) = self.names.binary_search_by(|n| n.as_str().cmp(field)) else {
            return Ok(());
        };
        let name = name as u32;
        let mut blocks = BlockHold::default();
        let mut fields = Vec::new();
        let mut ts = Vec::new();
        for i in self.slots_of(series) {
            let slot = self.slots[i];
            self.entry(slot, &mut fields)?;
            let Some(f) = fields.iter().find(|f| f.name == name).copied() else {
                continue;
            };
            if !range.overlaps(f.min_ts, f.max_ts) {
                continue;
            }
            let id = SeriesId(slot.id);
            let inside = range.start <= f.min_ts && f.max_ts < range.end;
            if inside && !need_ts {
                let (values, _) = self.values_in(slot.id, &f, None, &mut blocks)?;
                let rows = 0..values.len();
                let piece = ColumnPiece {
                    ts: None,
                    values: &values,
                    rows,
                };
                visit(id, piece);
                continue;
            }
            let (base, lo, hi) = self.timestamps_in(slot.id, &f, range, &mut blocks, &mut ts)?;
            if lo == hi {
                continue;
            }
            let (col_lo, col_hi) = (base + lo, base + hi);
            let (values, first) = self.values_in(slot.id, &f, Some(col_lo..col_hi), &mut blocks)?;
            visit(
                id,
                ColumnPiece {
                    ts: Some(&ts[lo..hi]),
                    values: &values,
                    rows: col_lo - first..col_hi - first,
                },
            );
        }
        Ok(())
    }

    /// Indexes into `slots` of the series of `series` the segment holds, ascending, once each.
    fn slots_of(&self, series: &[SeriesId]) -> Vec<usize> {
        let sorted = series.windows(2).all(|w| w[0] < w[1]);
        // Many sorted ids (an edge read of every series): one merge walk instead of a binary
        // search each.
        if sorted && series.len().saturating_mul(8) >= self.slots.len() {
            let mut found = Vec::with_capacity(series.len().min(self.slots.len()));
            let mut i = 0;
            for s in series {
                while i < self.slots.len() && self.slots[i].id < s.0 {
                    i += 1;
                }
                if i < self.slots.len() && self.slots[i].id == s.0 {
                    found.push(i);
                }
            }
            return found;
        }
        let mut found: Vec<usize> = series
            .iter()
            .filter_map(|s| self.slots.binary_search_by_key(&s.0, |x| x.id).ok())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    pub(super) fn slot(&self, series: SeriesId) -> Option<Slot> {
        self.slots
            .binary_search_by_key(&series.0, |s| s.id)
            .ok()
            .map(|i| self.slots[i])
    }

    /// Name ids of the requested fields (sorted), or `None` for all fields.
    fn wanted_names(&self, fields: Option<&[&str]>) -> Option<Vec<u32>> {
        let mut ids: Vec<u32> = fields?
            .iter()
            .filter_map(|f| {
                self.names
                    .binary_search_by(|n| n.as_str().cmp(f))
                    .ok()
                    .map(|i| i as u32)
            })
            .collect();
        ids.sort_unstable();
        Some(ids)
    }

    /// The type of every (series, field) column the segment holds, without reading any block:
    /// start-up rebuilds the writer's table of field types from these.
    pub fn field_types(&self) -> Result<Vec<(SeriesId, &str, FieldType)>, SegmentError> {
        let mut fields = Vec::new();
        let mut out = Vec::new();
        for &slot in &self.slots {
            self.entry(slot, &mut fields)?;
            for f in &fields {
                out.push((
                    SeriesId(slot.id),
                    self.names[f.name as usize].as_str(),
                    f.ty,
                ));
            }
        }
        Ok(out)
    }

    fn read_slot(
        &self,
        slot: Slot,
        wanted: Option<&[u32]>,
        range: TimeRange,
        blocks: &mut BlockHold,
        scratch: &mut Scratch,
    ) -> Result<Vec<FieldColumn>, SegmentError> {
        self.entry(slot, &mut scratch.fields)?;
        // Timestamp buffers of the previous series are reused, not reallocated: an edge read
        // walks tens of thousands of series for a handful of points each.
        scratch.ts.resize_with(scratch.fields.len(), || None);
        for t in &mut scratch.ts {
            if let Some(run) = t.take() {
                scratch.spare.push(run.ts);
            }
        }
        let mut out = Vec::new();
        for i in 0..scratch.fields.len() {
            let f = scratch.fields[i];
            if wanted.is_some_and(|w| w.binary_search(&f.name).is_err())
                || !range.overlaps(f.min_ts, f.max_ts)
            {
                continue;
            }
            let name = &self.names[f.name as usize];
            let owner = f.ts_owner as usize;
            if scratch.ts[owner].is_none() {
                let mut ts = scratch.spare.pop().unwrap_or_default();
                let (base, lo, hi) = self.timestamps_in(slot.id, &f, range, blocks, &mut ts)?;
                scratch.ts[owner] = Some(TsRun { ts, base, lo, hi });
            }
            let Some(TsRun { ts, base, lo, hi }) = &scratch.ts[owner] else {
                continue;
            };
            let (base, lo, hi) = (*base, *lo, *hi);
            if lo == hi {
                continue;
            }
            let (col_lo, col_hi) = (base + lo, base + hi);
            let (values, first) = self.values_in(slot.id, &f, Some(col_lo..col_hi), blocks)?;
            out.push(FieldColumn {
                name: name.clone(),
                ts: ts[lo..hi].to_vec(),
                values: slice_values(values, col_lo - first, col_hi - first),
            });
        }
        Ok(out)
    }

    /// The field entries of `slot`'s series, parsed from the index into `out`.
    fn entry(&self, slot: Slot, out: &mut Vec<FieldEntry>) -> Result<(), SegmentError> {
        let mut c = Cursor::at(&self.index, slot.entry as usize);
        let mut layout = slot.layout;
        decode_series(&mut c, &mut layout, &self.bounds(), out)
            .map_err(|what| self.corrupt(format!("series {}: {what}", slot.id)))?;
        Ok(())
    }

    /// Decodes into `ts` (cleared first) the timestamps of column `f` (of series `id`) that a
    /// read of `range` needs, checked against the index. Returns the column index of `ts[0]`
    /// and the in-range slice `lo..hi` of `ts`.
    fn timestamps_in(
        &self,
        id: u32,
        f: &FieldEntry,
        range: TimeRange,
        blocks: &mut BlockHold,
        ts: &mut Vec<i64>,
    ) -> Result<(usize, usize, usize), SegmentError> {
        let block = self.block(f.ts.block, blocks)?;
        ts.clear();
        // Sorted timestamps: only the chunks around the range are decoded, and decoding stops
        // at its end.
        let w = decode_timestamps_in(col_bytes(&f.ts, &block), range, ts)
            .map_err(|e| self.column_corrupt(id, f, format!("timestamps: {e}")))?;
        let end = (w.first + ts.len()) as u64;
        if (w.to_end && end != f.points) || end > f.points {
            return Err(self.column_corrupt(
                id,
                f,
                format!("holds {end} timestamps, the index says {}", f.points),
            ));
        }
        let lo = ts.partition_point(|&t| t < range.start);
        let hi = ts.partition_point(|&t| t < range.end).max(lo);
        Ok((w.first, lo, hi))
    }

    /// The values of points `points` of column `f` (of series `id`), with the rest of the chunks
    /// holding them, checked against the index; and the column index of the first value. All
    /// of them when `points` is `None`.
    fn values_in(
        &self,
        id: u32,
        f: &FieldEntry,
        points: Option<std::ops::Range<usize>>,
        blocks: &mut BlockHold,
    ) -> Result<(ColumnValues, usize), SegmentError> {
        let block = self.block(f.vals.block, blocks)?;
        let bytes = col_bytes(&f.vals, &block);
        let decoded = match &points {
            Some(p) => decode_values_in(f.ty, bytes, p.clone()),
            None => decode_values(f.ty, bytes).map(|v| (v, 0)),
        };
        let (values, first) =
            decoded.map_err(|e| self.column_corrupt(id, f, format!("values: {e}")))?;
        let want = points.unwrap_or(0..f.points as usize);
        let covers = first <= want.start && first + values.len() >= want.end;
        let whole = want.len() as u64 != f.points || values.len() as u64 == f.points;
        if !covers
            || !whole
            || first as u64 + values.len() as u64 > f.points
            || values.field_type() != f.ty
        {
            return Err(self.column_corrupt(
                id,
                f,
                format!(
                    "values {first}..{} of type {} do not cover points {}..{} of {} of type {}",
                    first + values.len(),
                    values.field_type(),
                    want.start,
                    want.end,
                    f.points,
                    f.ty
                ),
            ));
        }
        Ok((values, first))
    }

    fn column_corrupt(&self, id: u32, f: &FieldEntry, what: String) -> SegmentError {
        let name = self.names.get(f.name as usize).map_or("?", String::as_str);
        self.corrupt(format!("series {id} field '{name}' {what}"))
    }

    /// The decompressed block `n`, from the caller's hold, the shared cache, or the file.
    fn block(&self, n: u32, hold: &mut BlockHold) -> Result<Arc<Vec<u8>>, SegmentError> {
        if let Some(b) = hold.get(n) {
            return Ok(b);
        }
        let b = match &self.cache {
            Some(cache) => cache.get_or_load(self.id, n, || self.decompress(n))?,
            None => Arc::new(self.decompress(n)?),
        };
        hold.put(n, b.clone());
        Ok(b)
    }

    fn decompress(&self, n: u32) -> Result<Vec<u8>, SegmentError> {
        let raw =
            read_block(self.bytes.as_slice(), &self.blocks, n).map_err(|e| self.corrupt(e))?;
        self.decompressed.fetch_add(1, Ordering::Relaxed);
        Ok(raw)
    }

    pub(super) fn bounds(&self) -> IndexBounds<'_> {
        IndexBounds {
            names: self.names.len(),
            blocks: &self.blocks,
            min_ts: self.meta.min_ts,
            max_ts: self.meta.max_ts,
            time_shift: self.time_shift,
        }
    }

    fn corrupt(&self, what: String) -> SegmentError {
        SegmentError::Corrupt {
            path: self.path.clone(),
            what,
        }
    }

    /// Checks everything in the order that gives the most useful error: footer magic and version
    /// (is this a segment at all), the two checksums (is it intact), then the structure.
    fn parse(path: PathBuf, bytes: Backing) -> Result<Segment, SegmentError> {
        let b = bytes.as_slice();
        let min = HEADER_LEN + FOOTER_LEN;
        if b.len() < min {
            return Err(SegmentError::Truncated {
                path,
                len: b.len() as u64,
                min: min as u64,
            });
        }
        let footer_start = b.len() - FOOTER_LEN;
        let foot = &b[footer_start..];
        let mut c = Cursor::at(foot, FOOTER_CRC_COVERS);
        let truncated = || SegmentError::Truncated {
            path: path.clone(),
            len: b.len() as u64,
            min: min as u64,
        };
        let stored_crc = c.u32().ok_or_else(truncated)?;
        let magic = c.bytes(MAGIC.len()).ok_or_else(truncated)?;
        let version = c.u16().ok_or_else(truncated)?;
        if magic != MAGIC {
            return Err(SegmentError::NotASegment {
                path,
                what: "no segment magic at the end of the file",
            });
        }
        if version != VERSION {
            return Err(SegmentError::UnsupportedVersion {
                path,
                version,
                supported: VERSION,
            });
        }
        let computed = crc32fast::hash(&foot[..FOOTER_CRC_COVERS]);
        if computed != stored_crc {
            return Err(SegmentError::Checksum {
                path,
                region: "footer",
                stored: stored_crc,
                computed,
            });
        }
        let footer = Footer::decode(&foot[..FOOTER_CRC_COVERS]).ok_or_else(truncated)?;
        let computed = crc32fast::hash(&b[..footer_start]);
        if computed != footer.data_crc {
            return Err(SegmentError::Checksum {
                path,
                region: "data",
                stored: footer.data_crc,
                computed,
            });
        }
        let corrupt = |what: String| SegmentError::Corrupt {
            path: path.clone(),
            what,
        };
        let mut h = Cursor::new(&b[..HEADER_LEN]);
        if h.bytes(MAGIC.len()) != Some(&MAGIC[..]) {
            return Err(SegmentError::NotASegment {
                path,
                what: "no segment magic at the start of the file",
            });
        }
        let (hv, flags) = (h.u16().unwrap_or(0), h.u16().unwrap_or(0));
        if hv != VERSION {
            return Err(SegmentError::UnsupportedVersion {
                path,
                version: hv,
                supported: VERSION,
            });
        }
        if flags != 0 {
            return Err(corrupt(format!("unknown header flags {flags:#06x}")));
        }
        let blocks =
            parse_block_table(b, footer.tail(), footer_start).map_err(|e| corrupt(e.into()))?;
        let index_src = usize::try_from(footer.index_offset)
            .ok()
            .and_then(|start| b.get(start..footer_start))
            .ok_or_else(|| corrupt("index offset outside the file".into()))?;
        let index = decompress(index_src, footer.index_raw_len as usize)
            .map_err(|e| corrupt(format!("index: {e}")))?;
        let meta = SegmentMeta {
            seq: footer.seq,
            partition: footer.partition,
            min_ts: footer.min_ts,
            max_ts: footer.max_ts,
            points: footer.points,
            series: footer.series,
            values: footer.values,
        };
        let (names, time_shift, slots) = parse_index(&index, &blocks, &meta).map_err(corrupt)?;
        Ok(Segment {
            path,
            bytes,
            meta,
            blocks,
            names,
            index,
            slots,
            time_shift,
            id: BlockCache::file_id(),
            cache: None,
            decompressed: AtomicU64::new(0),
        })
    }
}

/// Parses the field-name dictionary and walks every series entry (checking each one), returning
/// the names and the lookup slots. Totals must match the footer.
fn parse_index(
    index: &[u8],
    blocks: &[BlockInfo],
    meta: &SegmentMeta,
) -> Result<(Vec<String>, u8, Vec<Slot>), String> {
    let mut c = Cursor::new(index);
    let names = read_names(&mut c)?;
    let time_shift = c.u8().ok_or("index truncated (time unit)")?;
    if time_shift > 63 {
        return Err(format!("index time unit 2^{time_shift} ns is out of range"));
    }
    let bounds = IndexBounds {
        names: names.len(),
        blocks,
        min_ts: meta.min_ts,
        max_ts: meta.max_ts,
        time_shift,
    };
    // Each entry takes at least 2 bytes, which bounds the allocation by the index size.
    if meta.series as usize > index.len() / 2 {
        return Err(format!(
            "footer claims {} series, more than the index can hold",
            meta.series
        ));
    }
    let mut slots = Vec::with_capacity(meta.series as usize);
    let mut layout = Layout::default();
    let mut fields: Vec<FieldEntry> = Vec::new();
    let (mut points, mut values) = (0u64, 0u64);
    let mut prev: Option<u32> = None;
    for _ in 0..meta.series {
        let entry = c.pos() as u32;
        let before = layout;
        let delta = decode_series(&mut c, &mut layout, &bounds, &mut fields)?;
        let id = match prev {
            None => Some(delta),
            Some(_) if delta == 0 => None,
            Some(p) => p.checked_add(delta),
        }
        .ok_or("series ids not strictly ascending")?;
        prev = Some(id);
        for (i, f) in fields.iter().enumerate() {
            if f.ts_owner as usize == i {
                points = points.saturating_add(f.points);
            }
            values = values.saturating_add(f.points);
        }
        slots.push(Slot {
            id,
            entry,
            layout: before,
        });
    }
    if !c.is_empty() {
        return Err("bytes after the last index entry".into());
    }
    if points != meta.points || values != meta.values {
        return Err(format!(
            "index holds {points} points and {values} values, the footer says {} and {}",
            meta.points, meta.values
        ));
    }
    Ok((names, time_shift, slots))
}

/// The bytes of a column; ranges were checked against the block length at open.
fn col_bytes<'b>(loc: &ColLoc, block: &'b [u8]) -> &'b [u8] {
    loc.slice(block).unwrap_or(&[])
}

/// Keeps `[lo, hi)` of a column.
fn slice_values(v: ColumnValues, lo: usize, hi: usize) -> ColumnValues {
    fn keep<T>(mut v: Vec<T>, lo: usize, hi: usize) -> Vec<T> {
        if lo == 0 {
            v.truncate(hi);
            v
        } else {
            v.truncate(hi);
            v.drain(..lo);
            v
        }
    }
    match v {
        ColumnValues::Float(x) => ColumnValues::Float(keep(x, lo, hi)),
        ColumnValues::Integer(x) => ColumnValues::Integer(keep(x, lo, hi)),
        ColumnValues::Unsigned(x) => ColumnValues::Unsigned(keep(x, lo, hi)),
        ColumnValues::Boolean(x) => ColumnValues::Boolean(keep(x, lo, hi)),
        ColumnValues::String(x) => ColumnValues::String(keep(x, lo, hi)),
    }
}

/// Per-call reuse: the parsed fields of the current series and their decoded timestamps
/// (decoded once per owning column, however many fields share it), with the in-range slice.
#[derive(Default)]
struct Scratch {
    fields: Vec<FieldEntry>,
    /// Per timestamp-owning field of the series, once decoded.
    ts: Vec<Option<TsRun>>,
    /// Timestamp buffers of earlier series, for reuse.
    spare: Vec<Vec<i64>>,
}

/// Timestamps decoded from one column: `ts` are its points `base..base + ts.len()`, and
/// `ts[lo..hi]` the ones in the read's range.
struct TsRun {
    ts: Vec<i64>,
    base: usize,
    lo: usize,
    hi: usize,
}

/// The last two blocks a call used, so a walk over neighbouring series neither locks the shared
/// cache nor decompresses again (two: a series can span a block boundary).
#[derive(Default)]
struct BlockHold {
    recent: [Option<(u32, Arc<Vec<u8>>)>; 2],
}

impl BlockHold {
    fn get(&self, n: u32) -> Option<Arc<Vec<u8>>> {
        self.recent
            .iter()
            .flatten()
            .find(|(k, _)| *k == n)
            .map(|(_, b)| b.clone())
    }

    fn put(&mut self, n: u32, b: Arc<Vec<u8>>) {
        if self.get(n).is_none() {
            self.recent[1] = self.recent[0].take();
            self.recent[0] = Some((n, b));
        }
    }
}
