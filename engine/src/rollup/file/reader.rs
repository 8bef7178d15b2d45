//! Opens a rollup file (mmap or owned bytes), validates it completely, and reads entries back.
//!
//! `open` checks both checksums, the block table and every index entry up front, and keeps one
//! slot per (tier, series) so a read binary-searches its series. Blocks are decompressed on
//! demand; a read walks entries in file order, so it holds one block at a time and never
//! decompresses a block twice. With a [`BlockCache`] (given by the `Db`), decompressed blocks
//! also outlive the read for the next one.

use super::{
    decompress, parse_block_table, read_names, tier_index, BlockInfo, Cursor, EntryMode, Footer,
    RollupEntry, RollupFileError, RollupFileMeta, FOOTER_CRC_COVERS, FOOTER_LEN, HEADER_LEN, MAGIC,
    VERSION,
};
use crate::blockio::read_block;
use crate::cache::BlockCache;
use crate::rollup::{decode_buckets_in, RollupBucket, Tier};
use crate::types::{SeriesId, TimeRange};
use memmap2::Mmap;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// An open, validated rollup file. Cheap to share behind an `Arc`; reads take `&self`.
pub struct RollupFile {
    path: PathBuf,
    bytes: Backing,
    meta: RollupFileMeta,
    pub(super) blocks: Vec<BlockInfo>,
    /// First block of each tier, and one past its last (`tier_start[3]` = block count).
    pub(super) tier_start: [u32; 4],
    /// The field-name dictionary, sorted (so name ids order fields by name).
    names: Vec<String>,
    /// The decompressed index; slots point into it.
    index: Vec<u8>,
    /// Per tier, one per series, ascending id.
    slots: [Vec<Slot>; 3],
    /// Blocks decompressed so far (tests check that a read decompresses each block once).
    pub(super) decompressed: AtomicU64,
    /// This file's key in `cache` (see `BlockCache::file_id`).
    id: u64,
    /// Shared decompressed blocks, if the owner gave one.
    cache: Option<Arc<BlockCache>>,
}

/// Where a series' index entry starts and the column position just before it.
#[derive(Debug, Clone, Copy)]
struct Slot {
    id: u32,
    entry: u32,
    layout: Layout,
}

/// The running position column references are relative to: entries lie in the blocks in index
/// order, so the index stores only lengths and block changes.
#[derive(Debug, Clone, Copy, Default)]
struct Layout {
    block: u32,
    pos: u32,
}

/// One entry of the index, resolved.
#[derive(Debug, Clone, Copy)]
struct EntryRef {
    field: u32,
    mode: EntryMode,
    buckets: u64,
    block: u32,
    off: u32,
    len: u32,
}

/// What index entries are checked against.
#[derive(Debug, Clone, Copy)]
struct Bounds<'a> {
    names: usize,
    blocks: &'a [BlockInfo],
    /// Blocks of the tier being read: `[start, end)`.
    start: u32,
    end: u32,
}

#[derive(Debug)]
enum Backing {
    Mmap(Mmap),
    Owned(Vec<u8>),
}

impl Backing {
    fn as_slice(&self) -> &[u8] {
        match self {
            Backing::Mmap(m) => m,
            Backing::Owned(b) => b,
        }
    }
}

impl fmt::Debug for RollupFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RollupFile")
            .field("path", &self.path)
            .field("meta", &self.meta)
            .field("blocks", &self.blocks.len())
            .field("fields", &self.names)
            .finish_non_exhaustive()
    }
}

impl RollupFile {
    /// Checks header, footer, both CRCs (whole-file CRC at open, like Segment::open) and the index.
    pub fn open(path: &Path) -> Result<RollupFile, RollupFileError> {
        let io = |op: &'static str| {
            move |source| RollupFileError::Io {
                op,
                path: path.to_path_buf(),
                source,
            }
        };
        let file = File::open(path).map_err(io("open"))?;
        let len = file.metadata().map_err(io("stat"))?.len();
        if len < (HEADER_LEN + FOOTER_LEN) as u64 {
            // Also keeps us from mapping an empty file, which fails on some platforms.
            return Err(truncated(path.to_path_buf(), len));
        }
        // SAFETY: rollup files are immutable once renamed into place (module invariants):
        // nothing in Tally writes to or truncates them while they are open, and deleting one
        // keeps the mapping valid. Another process changing the file under us is outside what
        // the engine can defend against.
        let map = unsafe { Mmap::map(&file) }.map_err(io("mmap"))?;
        RollupFile::parse(path.to_path_buf(), Backing::Mmap(map))
    }

    /// Validates and serves a rollup file held in memory; `path` only labels errors. This is
    /// the entry point of the fuzz target: any bytes give an error or a working file, never a
    /// panic.
    pub fn from_bytes(bytes: Vec<u8>, path: PathBuf) -> Result<RollupFile, RollupFileError> {
        RollupFile::parse(path, Backing::Owned(bytes))
    }

    /// Makes reads keep the blocks they decompress in `cache` and look there first.
    pub fn with_cache(mut self, cache: Arc<BlockCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The file's metadata, from its footer and block table.
    pub fn meta(&self) -> &RollupFileMeta {
        &self.meta
    }

    /// The file it was opened from (or the label given to `from_bytes`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size of the file in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.bytes.as_slice().len() as u64
    }

    /// The ids of the series with an entry in any tier.
    pub fn series_ids(&self) -> roaring::RoaringBitmap {
        let mut out = roaring::RoaringBitmap::new();
        for slots in &self.slots {
            // Ids are strictly ascending within a tier (checked at open).
            let ids = slots.iter().map(|s| s.id);
            match roaring::RoaringBitmap::from_sorted_iter(ids.clone()) {
                Ok(b) => out |= b,
                Err(_) => out.extend(ids),
            }
        }
        out
    }

    /// Entries of `tier` for the given series (`series` sorted ascending, unique), limited to
    /// `fields` when Some, with only the buckets whose start lies in `range` (entries left with
    /// no bucket are omitted). Output ordered by (series, field). Decompresses each needed block
    /// once per call, and only blocks of `tier`.
    ///
    /// Series the file does not hold and field names it does not know are skipped (unsorted or
    /// repeated ids are tolerated too).
    pub fn read(
        &self,
        series: &[SeriesId],
        fields: Option<&[&str]>,
        tier: Tier,
        range: TimeRange,
    ) -> Result<Vec<RollupEntry>, RollupFileError> {
        if !range.overlaps(self.meta.min_start, self.meta.max_start) {
            return Ok(Vec::new());
        }
        let slots = &self.slots[tier_index(tier)];
        let wanted = self.wanted_names(fields);
        if wanted.as_ref().is_some_and(|w| w.is_empty()) {
            return Ok(Vec::new());
        }
        let mut found: Vec<usize> = series
            .iter()
            .filter_map(|s| slots.binary_search_by_key(&s.0, |x| x.id).ok())
            .collect();
        // Already sorted for well-behaved callers; slot order is block order.
        found.sort_unstable();
        found.dedup();
        let mut walk = Walk::default();
        let mut out = Vec::new();
        for i in found {
            self.read_slot(
                tier,
                slots[i],
                wanted.as_deref(),
                range,
                &mut walk,
                &mut out,
            )?;
        }
        Ok(out)
    }

    /// Every entry of every tier (for compaction), ordered by (tier, series, field).
    pub fn read_all(&self) -> Result<Vec<RollupEntry>, RollupFileError> {
        let capacity = usize::try_from(self.meta.entries).unwrap_or(0);
        let mut out = Vec::with_capacity(capacity);
        let mut walk = Walk::default();
        for tier in Tier::ALL {
            for slot in &self.slots[tier_index(tier)] {
                self.read_slot(tier, *slot, None, TimeRange::ALL, &mut walk, &mut out)?;
            }
        }
        Ok(out)
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
        ids.dedup();
        Some(ids)
    }

    /// Appends the entries of one series (its wanted fields, buckets in `range`) to `out`.
    fn read_slot(
        &self,
        tier: Tier,
        slot: Slot,
        wanted: Option<&[u32]>,
        range: TimeRange,
        walk: &mut Walk,
        out: &mut Vec<RollupEntry>,
    ) -> Result<(), RollupFileError> {
        let bounds = self.bounds(tier);
        let mut c = Cursor::at(&self.index, slot.entry as usize);
        let mut layout = slot.layout;
        decode_series(&mut c, &mut layout, &bounds, &mut walk.entries).map_err(|what| {
            self.corrupt(format!(
                "tier {} series {} index entry: {what}",
                tier.name(),
                slot.id
            ))
        })?;
        for i in 0..walk.entries.len() {
            let e = walk.entries[i];
            if wanted.is_some_and(|w| w.binary_search(&e.field).is_err()) {
                continue;
            }
            let buckets = self.decode_entry(tier, slot.id, &e, range, &mut walk.block)?;
            if buckets.is_empty() {
                continue;
            }
            out.push(RollupEntry {
                series: SeriesId(slot.id),
                field: self.names[e.field as usize].clone(),
                tier,
                mode: e.mode,
                buckets,
            });
        }
        Ok(())
    }

    /// Decodes the buckets of one entry that start in `range` (checking every bucket's bytes,
    /// and the kept buckets against the index and the footer).
    fn decode_entry(
        &self,
        tier: Tier,
        series: u32,
        e: &EntryRef,
        range: TimeRange,
        hold: &mut Option<(u32, Arc<Vec<u8>>)>,
    ) -> Result<Vec<RollupBucket>, RollupFileError> {
        let name = self.names.get(e.field as usize).map_or("?", String::as_str);
        let at = || format!("tier {} series {series} field '{name}'", tier.name());
        let block = self.block(e.block, hold)?;
        let start = e.off as usize;
        let bytes = block
            .get(start..start + e.len as usize)
            .ok_or_else(|| self.corrupt(format!("{}: entry outside its block", at())))?;
        let (buckets, n) = decode_buckets_in(bytes, range)
            .map_err(|err| self.corrupt(format!("{}: {err}", at())))?;
        // A read that stopped at the range's end saw fewer buckets than the entry holds.
        if n.is_some_and(|n| n != e.buckets) || buckets.len() as u64 > e.buckets {
            return Err(self.corrupt(format!(
                "{}: {} buckets, the index says {}",
                at(),
                n.unwrap_or(buckets.len() as u64),
                e.buckets
            )));
        }
        let mut prev: Option<i64> = None;
        for b in &buckets {
            let s = b.start;
            if prev.is_some_and(|p| s <= p)
                || tier.bucket_start(s) != s
                || s < self.meta.min_start
                || s > self.meta.max_start
            {
                return Err(self.corrupt(format!(
                    "{}: bucket start {s} is out of order, unaligned or outside the footer's range",
                    at()
                )));
            }
            prev = Some(s);
        }
        Ok(buckets)
    }

    /// The decompressed block `n`: the one `hold` keeps, else from the shared cache, else
    /// decompressed from the file; then kept in `hold`, replacing the previous one (reads walk
    /// blocks in ascending order).
    fn block<'h>(
        &self,
        n: u32,
        hold: &'h mut Option<(u32, Arc<Vec<u8>>)>,
    ) -> Result<&'h [u8], RollupFileError> {
        if hold.as_ref().is_none_or(|(k, _)| *k != n) {
            let raw = match &self.cache {
                Some(cache) => cache.get_or_load(self.id, n, || self.decompress(n))?,
                None => Arc::new(self.decompress(n)?),
            };
            *hold = Some((n, raw));
        }
        Ok(hold.as_ref().map_or(&[][..], |(_, b)| &b[..]))
    }

    fn decompress(&self, n: u32) -> Result<Vec<u8>, RollupFileError> {
        let raw =
            read_block(self.bytes.as_slice(), &self.blocks, n).map_err(|e| self.corrupt(e))?;
        self.decompressed.fetch_add(1, Ordering::Relaxed);
        Ok(raw)
    }

    fn bounds(&self, tier: Tier) -> Bounds<'_> {
        let ti = tier_index(tier);
        Bounds {
            names: self.names.len(),
            blocks: &self.blocks,
            start: self.tier_start[ti],
            end: self.tier_start[ti + 1],
        }
    }

    fn corrupt(&self, reason: String) -> RollupFileError {
        RollupFileError::Corrupt {
            path: self.path.clone(),
            reason,
        }
    }

    /// Checks everything in the order that gives the most useful error: footer magic and version
    /// (is this a rollup file at all), the two checksums (is it intact), then the structure.
    fn parse(path: PathBuf, bytes: Backing) -> Result<RollupFile, RollupFileError> {
        let b = bytes.as_slice();
        if b.len() < HEADER_LEN + FOOTER_LEN {
            return Err(truncated(path, b.len() as u64));
        }
        let corrupt = |reason: String| RollupFileError::Corrupt {
            path: path.clone(),
            reason,
        };
        let footer_start = b.len() - FOOTER_LEN;
        let foot = &b[footer_start..];
        let mut c = Cursor::at(foot, FOOTER_CRC_COVERS);
        let mut h = Cursor::new(&b[..HEADER_LEN]);
        let (stored_crc, magic, version) = (c.u32(), c.bytes(MAGIC.len()), c.u16());
        let (head_magic, head_version, flags) = (h.bytes(MAGIC.len()), h.u16(), h.u16());
        if magic != Some(&MAGIC[..]) || head_magic != Some(&MAGIC[..]) {
            return Err(corrupt(
                "no rollup-file magic at its start or end: it is truncated, damaged or another kind of file".into(),
            ));
        }
        // Every version keeps the magic and version at both ends; a version that differs
        // between them is damage, one that agrees is a newer file to leave alone.
        if version != head_version {
            return Err(corrupt(format!(
                "format version {version:?} in the footer but {head_version:?} in the header"
            )));
        }
        let version = version.unwrap_or(0);
        if version != VERSION {
            return Err(RollupFileError::UnsupportedVersion {
                path,
                version,
                supported: VERSION,
            });
        }
        let stored_crc = stored_crc.unwrap_or(0);
        let computed = crc32fast::hash(&foot[..FOOTER_CRC_COVERS]);
        if computed != stored_crc {
            return Err(corrupt(format!(
                "footer checksum mismatch (stored {stored_crc:08x}, computed {computed:08x})"
            )));
        }
        let footer = Footer::decode(&foot[..FOOTER_CRC_COVERS])
            .ok_or_else(|| corrupt("footer truncated".into()))?;
        let computed = crc32fast::hash(&b[..footer_start]);
        if computed != footer.data_crc {
            return Err(corrupt(format!(
                "data checksum mismatch (stored {:08x}, computed {computed:08x})",
                footer.data_crc
            )));
        }
        if flags != Some(0) {
            return Err(corrupt(format!("unknown header flags {flags:?}")));
        }
        let blocks =
            parse_block_table(b, footer.tail(), footer_start).map_err(|e| corrupt(e.into()))?;
        let [n1, n2, n3] = footer.tier_blocks.map(u64::from);
        if n1 + n2 + n3 != u64::from(footer.block_count) {
            return Err(corrupt(format!(
                "footer tier block counts {:?} do not add up to the {} blocks",
                footer.tier_blocks, footer.block_count
            )));
        }
        // Each fits in u32: they add up to block_count.
        let tier_start = [0, n1 as u32, (n1 + n2) as u32, footer.block_count];
        let mut tier_bytes = [0u64; 3];
        for (ti, bytes) in tier_bytes.iter_mut().enumerate() {
            *bytes = blocks
                .get(tier_start[ti] as usize..tier_start[ti + 1] as usize)
                .unwrap_or(&[])
                .iter()
                .map(|x| u64::from(x.compressed_len))
                .sum();
        }
        if footer.entries == 0 {
            if (footer.min_start, footer.max_start) != (i64::MAX, i64::MIN) {
                return Err(corrupt(
                    "empty file with a bucket range in its footer".into(),
                ));
            }
        } else if footer.min_start > footer.max_start {
            return Err(corrupt(
                "footer's smallest bucket start above its largest".into(),
            ));
        }
        let index_src = usize::try_from(footer.index_offset)
            .ok()
            .and_then(|start| b.get(start..footer_start))
            .ok_or_else(|| corrupt("index offset outside the file".into()))?;
        let index = decompress(index_src, footer.index_raw_len as usize)
            .map_err(|e| corrupt(format!("index: {e}")))?;
        let meta = RollupFileMeta {
            seq: footer.seq,
            partition: footer.partition,
            entries: footer.entries,
            buckets: footer.buckets,
            bytes: tier_bytes,
            min_start: footer.min_start,
            max_start: footer.max_start,
        };
        let (names, slots) = parse_index(&index, &blocks, &tier_start, &meta).map_err(corrupt)?;
        Ok(RollupFile {
            path,
            bytes,
            meta,
            blocks,
            tier_start,
            names,
            index,
            slots,
            decompressed: AtomicU64::new(0),
            id: BlockCache::file_id(),
            cache: None,
        })
    }
}

/// Per-call reuse: the parsed entries of the current series and the block in hand.
#[derive(Default)]
struct Walk {
    entries: Vec<EntryRef>,
    block: Option<(u32, Arc<Vec<u8>>)>,
}

fn truncated(path: PathBuf, len: u64) -> RollupFileError {
    RollupFileError::Corrupt {
        path,
        reason: format!(
            "truncated: {len} bytes, a rollup file has at least {}",
            HEADER_LEN + FOOTER_LEN
        ),
    }
}

/// Parses the field-name dictionary and walks every entry of every tier (checking each one),
/// returning the names and the per-tier series slots. Totals must match the footer.
fn parse_index(
    index: &[u8],
    blocks: &[BlockInfo],
    tier_start: &[u32; 4],
    meta: &RollupFileMeta,
) -> Result<(Vec<String>, [Vec<Slot>; 3]), String> {
    let mut c = Cursor::new(index);
    let names = read_names(&mut c)?;
    let mut slots: [Vec<Slot>; 3] = Default::default();
    let mut entries = 0u64;
    let mut buckets = [0u64; 3];
    let mut scratch = Vec::new();
    for tier in Tier::ALL {
        let ti = tier_index(tier);
        let bounds = Bounds {
            names: names.len(),
            blocks,
            start: tier_start[ti],
            end: tier_start[ti + 1],
        };
        let n = c.uvarint().ok_or("index truncated (series count)")?;
        // A series entry takes at least 7 bytes; checking against 2 is enough to bound the
        // allocation by the index size.
        if n > (c.remaining() / 2) as u64 {
            return Err(format!(
                "tier {} claims {n} series, more than the index can hold",
                tier.name()
            ));
        }
        let tier_slots = &mut slots[ti];
        tier_slots.reserve_exact(n as usize);
        let mut layout = Layout {
            block: bounds.start,
            pos: 0,
        };
        let mut prev: Option<u32> = None;
        for _ in 0..n {
            let entry = c.pos() as u32;
            let before = layout;
            let delta = decode_series(&mut c, &mut layout, &bounds, &mut scratch)
                .map_err(|what| format!("tier {}: {what}", tier.name()))?;
            let id = match prev {
                None => Some(delta),
                Some(_) if delta == 0 => None,
                Some(p) => p.checked_add(delta),
            }
            .ok_or_else(|| format!("tier {}: series ids not strictly ascending", tier.name()))?;
            prev = Some(id);
            entries = entries.saturating_add(scratch.len() as u64);
            for e in &scratch {
                buckets[ti] = buckets[ti].saturating_add(e.buckets);
            }
            tier_slots.push(Slot {
                id,
                entry,
                layout: before,
            });
        }
    }
    if !c.is_empty() {
        return Err("bytes after the last index entry".into());
    }
    if entries != meta.entries || buckets != meta.buckets {
        return Err(format!(
            "index holds {entries} entries and {buckets:?} buckets per tier, the footer says {} and {:?}",
            meta.entries, meta.buckets
        ));
    }
    Ok((names, slots))
}

/// Reads one series' index entry into `out` (cleared first) and returns the id delta. Every
/// reference is checked: field ids ascending and inside the dictionary, at least one bucket,
/// columns inside their blocks and inside the tier's blocks.
fn decode_series(
    c: &mut Cursor<'_>,
    layout: &mut Layout,
    bounds: &Bounds<'_>,
    out: &mut Vec<EntryRef>,
) -> Result<u32, &'static str> {
    out.clear();
    let id_delta = c.uvarint().ok_or("index truncated (series id)")?;
    let id_delta = u32::try_from(id_delta).map_err(|_| "series id out of range")?;
    let n = c.uvarint().ok_or("index truncated (entry count)")?;
    if n == 0 {
        return Err("series with no entries");
    }
    for _ in 0..n {
        let field_mode = c.uvarint().ok_or("index truncated (field)")?;
        let field = field_mode >> 1;
        if field >= bounds.names as u64 {
            return Err("field id past the dictionary");
        }
        let field = field as u32;
        if out.last().is_some_and(|p| p.field >= field) {
            return Err("fields of a series not strictly ascending");
        }
        let buckets = c.uvarint().ok_or("index truncated (bucket count)")?;
        if buckets == 0 {
            return Err("entry with no buckets");
        }
        let delta = c.uvarint().ok_or("index truncated (block delta)")?;
        let len = c.uvarint().ok_or("index truncated (length)")?;
        let (block, off) = if delta == 0 {
            (u64::from(layout.block), layout.pos)
        } else {
            (u64::from(layout.block).saturating_add(delta), 0)
        };
        if block >= u64::from(bounds.end) || block < u64::from(bounds.start) {
            return Err("entry refers to a block outside its tier's blocks");
        }
        let info = usize::try_from(block)
            .ok()
            .and_then(|b| bounds.blocks.get(b))
            .ok_or("entry refers to a block past the block table")?;
        let end = u64::from(off).saturating_add(len);
        if end > u64::from(info.raw_len) {
            return Err("entry extends past the end of its block");
        }
        // Both fit in u32: block < block count (a u32) and end <= raw_len (a u32).
        *layout = Layout {
            block: block as u32,
            pos: end as u32,
        };
        out.push(EntryRef {
            field,
            mode: EntryMode::from_code(field_mode),
            buckets,
            block: block as u32,
            off,
            len: len as u32,
        });
    }
    Ok(id_delta)
}
