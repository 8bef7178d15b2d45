//! The byte layout of a segment file: its magic, the footer and the index entries. The header
//! shape, the block table and the little-endian / LEB128 primitives are shared with rollup files
//! and live in [`crate::blockio`].
//!
//! Everything here is pure (no I/O) so the same code serves the writer, the reader and the fuzz
//! target. `docs/format.md` ("Segment files") is the byte-by-byte description; keep the two in step.

use crate::blockio::{self, put_uvarint, BlockInfo};
use crate::types::{FieldType, TimeRange};

pub(super) use crate::blockio::Cursor;

/// First eight bytes of every segment file, repeated as the last-but-two bytes of the footer.
pub(crate) const MAGIC: [u8; 8] = *b"TALLYSEG";

/// The format version this build writes and reads.
pub(crate) const VERSION: u16 = 1;

/// Size of the fixed footer at the end of the file (see [`Footer`]).
pub(crate) const FOOTER_LEN: usize = 114;

/// Bytes of the footer covered by the footer checksum: everything before `footer_crc`.
pub(crate) const FOOTER_CRC_COVERS: usize = 100;

/// The header: segment magic, version and feature flags (none defined in version 1).
pub(crate) fn encode_header(out: &mut Vec<u8>) {
    blockio::encode_header(out, &MAGIC, VERSION);
}

/// The fixed-size footer. On disk, in this order, all little-endian:
/// the fields below, then `data_crc u32`, `footer_crc u32`, `MAGIC`, `VERSION u16`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Footer {
    pub(crate) block_table_offset: u64,
    pub(crate) block_count: u32,
    pub(crate) index_offset: u64,
    pub(crate) index_len: u64,
    pub(crate) index_raw_len: u32,
    pub(crate) seq: u64,
    pub(crate) partition: TimeRange,
    pub(crate) min_ts: i64,
    pub(crate) max_ts: i64,
    pub(crate) points: u64,
    pub(crate) values: u64,
    pub(crate) series: u32,
    /// crc32 of every byte before the footer.
    pub(crate) data_crc: u32,
}

impl Footer {
    /// Appends the footer, its own checksum, the magic and the version (`FOOTER_LEN` bytes).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&self.block_table_offset.to_le_bytes());
        out.extend_from_slice(&self.block_count.to_le_bytes());
        out.extend_from_slice(&self.index_offset.to_le_bytes());
        out.extend_from_slice(&self.index_len.to_le_bytes());
        out.extend_from_slice(&self.index_raw_len.to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.partition.start.to_le_bytes());
        out.extend_from_slice(&self.partition.end.to_le_bytes());
        out.extend_from_slice(&self.min_ts.to_le_bytes());
        out.extend_from_slice(&self.max_ts.to_le_bytes());
        out.extend_from_slice(&self.points.to_le_bytes());
        out.extend_from_slice(&self.values.to_le_bytes());
        out.extend_from_slice(&self.series.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // reserved
        out.extend_from_slice(&self.data_crc.to_le_bytes());
        debug_assert_eq!(out.len() - start, FOOTER_CRC_COVERS);
        let crc = crc32fast::hash(&out[start..]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        debug_assert_eq!(out.len() - start, FOOTER_LEN);
    }

    /// Where the footer places the block table and the index.
    pub(crate) fn tail(&self) -> blockio::Tail {
        blockio::Tail {
            block_table_offset: self.block_table_offset,
            block_count: self.block_count,
            index_offset: self.index_offset,
            index_len: self.index_len,
        }
    }

    /// Parses the first `FOOTER_CRC_COVERS` bytes of a footer whose checksum, magic and version
    /// the caller has already checked. Returns `None` only if `b` is too short.
    pub(crate) fn decode(b: &[u8]) -> Option<Footer> {
        let mut c = Cursor::new(b);
        let f = Footer {
            block_table_offset: c.u64()?,
            block_count: c.u32()?,
            index_offset: c.u64()?,
            index_len: c.u64()?,
            index_raw_len: c.u32()?,
            seq: c.u64()?,
            partition: TimeRange::new(c.i64()?, c.i64()?),
            min_ts: c.i64()?,
            max_ts: c.i64()?,
            points: c.u64()?,
            values: c.u64()?,
            series: c.u32()?,
            data_crc: {
                let _reserved = c.u32()?;
                c.u32()?
            },
        };
        Some(f)
    }
}

/// Where one column lies inside a decompressed block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ColLoc {
    /// Block number (index into the block table).
    pub(crate) block: u32,
    /// Offset of the column's first byte in the decompressed block.
    pub(crate) off: u32,
    /// Encoded length.
    pub(crate) len: u32,
}

impl ColLoc {
    /// The column's bytes within its decompressed block, if they are there.
    pub(crate) fn slice<'b>(&self, block: &'b [u8]) -> Option<&'b [u8]> {
        let start = self.off as usize;
        block.get(start..start.checked_add(self.len as usize)?)
    }
}

/// One (series, field) entry of the index, resolved: shared timestamps already point at the
/// column of the field that owns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldEntry {
    /// Index into the field-name dictionary (which is sorted, so this orders fields by name).
    pub(crate) name: u32,
    /// Type of the value column.
    pub(crate) ty: FieldType,
    /// Position, within its series, of the field whose timestamp column this field uses; its
    /// own position when it has its own column.
    pub(crate) ts_owner: u32,
    /// Number of points (timestamps = values).
    pub(crate) points: u64,
    /// Smallest timestamp. Exact in the writer; read back from the index it is a lower bound
    /// (the index stores times in coarse units, see [`time_shift`]), which is all pruning needs.
    pub(crate) min_ts: i64,
    /// Largest timestamp; read back from the index, an upper bound.
    pub(crate) max_ts: i64,
    /// The timestamp column.
    pub(crate) ts: ColLoc,
    /// The value column.
    pub(crate) vals: ColLoc,
}

/// Where the next column goes: columns are laid out in index order, back to back, so the index
/// stores only lengths and block changes and this running position recovers every offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Layout {
    /// Current block.
    pub(crate) block: u32,
    /// Next free offset in it.
    pub(crate) pos: u32,
}

/// What the index parser checks entries against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndexBounds<'a> {
    /// Entries in the field-name dictionary.
    pub(crate) names: usize,
    /// The block table.
    pub(crate) blocks: &'a [BlockInfo],
    /// Segment-wide smallest timestamp (the origin of every entry's time units).
    pub(crate) min_ts: i64,
    /// Segment-wide largest timestamp.
    pub(crate) max_ts: i64,
    /// Entry times are in units of `2^time_shift` ns.
    pub(crate) time_shift: u8,
}

/// Steps the segment's time span is divided into, at most, for index entries: a column's time
/// bounds then take two varint bytes each instead of seven, at the price of pruning at a
/// resolution of span / 16384 (about 5 s for a one-day partition).
const INDEX_TIME_STEPS: u128 = 1 << 14;

/// The unit (a power of two nanoseconds) index entries store column time bounds in: the finest
/// that divides `[min_ts, max_ts]` into at most [`INDEX_TIME_STEPS`] steps.
pub(crate) fn time_shift(min_ts: i64, max_ts: i64) -> u8 {
    let span = (i128::from(max_ts) - i128::from(min_ts)).max(0) as u128;
    let mut shift = 0u8;
    while (span >> shift) >= INDEX_TIME_STEPS {
        shift += 1;
    }
    shift
}

/// Appends a column reference (`block_delta uvarint | len uvarint`) and advances `layout`.
/// `loc` must be where the column was actually written: at `layout.pos` of the current block, or
/// at offset 0 of a later block.
pub(crate) fn encode_col(out: &mut Vec<u8>, layout: &mut Layout, loc: ColLoc) {
    let delta = loc.block - layout.block;
    debug_assert!(if delta == 0 {
        loc.off == layout.pos
    } else {
        loc.off == 0
    });
    put_uvarint(out, u64::from(delta));
    put_uvarint(out, u64::from(loc.len));
    *layout = Layout {
        block: loc.block,
        pos: loc.off + loc.len,
    };
}

/// Reads a column reference written by [`encode_col`] and checks it lies inside its block.
pub(crate) fn decode_col(
    c: &mut Cursor<'_>,
    layout: &mut Layout,
    bounds: &IndexBounds<'_>,
) -> Result<ColLoc, &'static str> {
    let delta = c.uvarint().ok_or("index entry truncated (column)")?;
    let len = c.uvarint().ok_or("index entry truncated (column length)")?;
    let (block, off) = if delta == 0 {
        (u64::from(layout.block), layout.pos)
    } else {
        (u64::from(layout.block).saturating_add(delta), 0)
    };
    let info = usize::try_from(block)
        .ok()
        .and_then(|b| bounds.blocks.get(b))
        .ok_or("column refers to a block past the block table")?;
    let end = u64::from(off).saturating_add(len);
    if end > u64::from(info.raw_len) {
        return Err("column extends past the end of its block");
    }
    // Both fit in u32: block < block count (a u32) and end <= raw_len (a u32).
    let loc = ColLoc {
        block: block as u32,
        off,
        len: len as u32,
    };
    *layout = Layout {
        block: loc.block,
        pos: end as u32,
    };
    Ok(loc)
}

/// Appends one series' index entry. `fields` are sorted by name id; a field whose `ts_owner` is
/// not itself reuses that earlier field's timestamp column. `seg_min_ts` and `time_shift` are
/// the segment's (the same `bounds` the reader gets).
pub(crate) fn encode_series(
    out: &mut Vec<u8>,
    id_delta: u32,
    fields: &[FieldEntry],
    layout: &mut Layout,
    seg_min_ts: i64,
    time_shift: u8,
) {
    put_uvarint(out, u64::from(id_delta));
    put_uvarint(out, fields.len() as u64);
    for (i, f) in fields.iter().enumerate() {
        put_uvarint(out, u64::from(f.name));
        let ts_ref = i as u32 - f.ts_owner;
        put_uvarint(out, u64::from(ts_ref) << 3 | u64::from(f.ty.code()));
        if ts_ref == 0 {
            // Differences from the segment minimum are >= 0 and fit in a u64.
            let min_units = (f.min_ts.wrapping_sub(seg_min_ts) as u64) >> time_shift;
            let max_units = (f.max_ts.wrapping_sub(seg_min_ts) as u64) >> time_shift;
            put_uvarint(out, f.points);
            put_uvarint(out, min_units);
            put_uvarint(out, max_units - min_units);
            encode_col(out, layout, f.ts);
        }
        encode_col(out, layout, f.vals);
    }
}

/// Reads one series' index entry into `out` (cleared first) and returns the id delta. Every
/// reference is checked: name ids ascending and inside the dictionary, known type codes,
/// timestamp references to an earlier field that owns its column, timestamps inside the
/// segment's bounds, columns inside their blocks.
pub(crate) fn decode_series(
    c: &mut Cursor<'_>,
    layout: &mut Layout,
    bounds: &IndexBounds<'_>,
    out: &mut Vec<FieldEntry>,
) -> Result<u32, &'static str> {
    out.clear();
    let id_delta = c.uvarint().ok_or("index entry truncated (series id)")?;
    let id_delta = u32::try_from(id_delta).map_err(|_| "series id out of range")?;
    let n = c.uvarint().ok_or("index entry truncated (field count)")?;
    if n == 0 {
        return Err("series with no fields");
    }
    for i in 0..n {
        let name = c.uvarint().ok_or("index entry truncated (field name)")?;
        if name >= bounds.names as u64 {
            return Err("field name id past the dictionary");
        }
        let name = name as u32;
        if out.last().is_some_and(|p: &FieldEntry| p.name >= name) {
            return Err("field names of a series not strictly ascending");
        }
        let kind = c.uvarint().ok_or("index entry truncated (field kind)")?;
        let ty = FieldType::from_code((kind & 7) as u8).ok_or("unknown field type code")?;
        let ts_ref = kind >> 3;
        let entry = if ts_ref == 0 {
            let points = c.uvarint().ok_or("index entry truncated (point count)")?;
            let min_units = c.uvarint().ok_or("index entry truncated (min time)")?;
            let span_units = c.uvarint().ok_or("index entry truncated (max time)")?;
            if points == 0 {
                return Err("column with no points");
            }
            let (min_ts, max_ts) = unit_bounds(bounds, min_units, span_units)
                .ok_or("column time range outside the segment's")?;
            let ts = decode_col(c, layout, bounds)?;
            FieldEntry {
                name,
                ty,
                ts_owner: i as u32,
                points,
                min_ts,
                max_ts,
                ts,
                vals: ColLoc::default(),
            }
        } else {
            let owner = i
                .checked_sub(ts_ref)
                .and_then(|o| out.get(o as usize))
                .ok_or("timestamp reference before the first field of the series")?;
            if owner.ts_owner as u64 != i - ts_ref {
                return Err("timestamp reference to a field that has no timestamp column");
            }
            FieldEntry {
                name,
                ty,
                vals: ColLoc::default(),
                ..*owner
            }
        };
        let vals = decode_col(c, layout, bounds)?;
        out.push(FieldEntry { vals, ..entry });
    }
    Ok(id_delta)
}

/// The widest `[min, max]` that index time units `[min_units, min_units + span_units]` can
/// stand for, clipped to the segment's range; `None` if the units lie outside it.
fn unit_bounds(b: &IndexBounds<'_>, min_units: u64, span_units: u64) -> Option<(i64, i64)> {
    let seg_span = (i128::from(b.max_ts) - i128::from(b.min_ts)).max(-1);
    if seg_span < 0 || b.time_shift > 63 {
        return None;
    }
    let max_units = u128::from(min_units) + u128::from(span_units);
    // seg_span < 2^64, so after this check every value below stays far inside i128.
    if max_units > (seg_span as u128) >> b.time_shift {
        return None;
    }
    let base = i128::from(b.min_ts);
    let min = base + ((min_units as i128) << b.time_shift);
    let max = (base + ((max_units as i128 + 1) << b.time_shift) - 1).min(i128::from(b.max_ts));
    // Both lie in [b.min_ts, b.max_ts], so they fit in i64.
    Some((min as i64, max as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn footer_round_trips_and_has_fixed_length() {
        let f = Footer {
            block_table_offset: 1,
            block_count: 2,
            index_offset: 3,
            index_len: 4,
            index_raw_len: 5,
            seq: 6,
            partition: TimeRange::new(-7, 8),
            min_ts: -9,
            max_ts: 10,
            points: 11,
            values: 12,
            series: 13,
            data_crc: 14,
        };
        let mut out = Vec::new();
        f.encode(&mut out);
        assert_eq!(out.len(), FOOTER_LEN);
        assert_eq!(Footer::decode(&out), Some(f));
        assert_eq!(&out[FOOTER_LEN - 10..FOOTER_LEN - 2], &MAGIC);
        let mut h = Vec::new();
        encode_header(&mut h);
        assert_eq!(h.len(), crate::blockio::HEADER_LEN);
        assert_eq!(&h[..8], &MAGIC);
    }

    fn entry(min_ts: i64, max_ts: i64) -> FieldEntry {
        FieldEntry {
            name: 0,
            ty: FieldType::Float,
            ts_owner: 0,
            points: 3,
            min_ts,
            max_ts,
            ts: ColLoc {
                block: 0,
                off: 0,
                len: 4,
            },
            vals: ColLoc {
                block: 0,
                off: 4,
                len: 5,
            },
        }
    }

    proptest! {
        /// Coarse index times still bound every column: pruning on them never hides a point.
        #[test]
        fn index_time_bounds_contain_the_exact_ones(
            seg_min in any::<i64>(),
            a in any::<u64>(),
            b in any::<u64>(),
            c in any::<u64>(),
        ) {
            let seg_max = seg_min.saturating_add((a % (1 << 60)) as i64);
            let span = (seg_max - seg_min) as u64;
            let (mut lo, mut hi) = (b % (span + 1), c % (span + 1));
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            let (min_ts, max_ts) = (seg_min + lo as i64, seg_min + hi as i64);
            let shift = time_shift(seg_min, seg_max);
            prop_assert!((u128::from(span) >> shift) < INDEX_TIME_STEPS);
            let blocks = [BlockInfo { offset: 16, compressed_len: 1, raw_len: 9 }];
            let bounds = IndexBounds { names: 1, blocks: &blocks, min_ts: seg_min, max_ts: seg_max, time_shift: shift };
            let mut out = Vec::new();
            let mut layout = Layout::default();
            encode_series(&mut out, 7, &[entry(min_ts, max_ts)], &mut layout, seg_min, shift);
            let mut got = Vec::new();
            let mut layout = Layout::default();
            let delta = decode_series(&mut Cursor::new(&out), &mut layout, &bounds, &mut got);
            prop_assert_eq!(delta, Ok(7));
            prop_assert!(got[0].min_ts <= min_ts && got[0].max_ts >= max_ts);
            prop_assert!(got[0].min_ts >= seg_min && got[0].max_ts <= seg_max);
            prop_assert!(got[0].max_ts - got[0].min_ts <= (max_ts - min_ts) + (2i64 << shift));
            prop_assert_eq!(got[0].vals, entry(0, 0).vals);
        }
    }
}
