//! Builds a rollup file in memory and writes it with the temp-file, fsync, rename protocol.
//!
//! Entries arrive in any order, so the writer encodes each one's buckets at [`add`] (which also
//! checks the entry's contract, so every file written reads back) and keeps them sorted by
//! (tier, series, field) until [`finish`] lays them into blocks and writes the index.
//!
//! [`add`]: RollupFileWriter::add
//! [`finish`]: RollupFileWriter::finish

use super::{
    encode_header, put_names, put_uvarint, tier_index, BlockInfo, EntryMode, Footer, RollupEntry,
    RollupFileError, RollupFileMeta, HEADER_LEN, MAX_RAW_LEN,
};
use crate::fsutil::write_atomic_with;
use crate::rollup::{encode_buckets, RollupBucket, Tier};
use crate::segment::DEFAULT_BLOCK_SIZE;
use crate::types::{SeriesId, TimeRange};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

/// Writes one rollup file: [`add`](Self::add) entries in any order, then
/// [`finish`](Self::finish).
///
/// ```no_run
/// # use tally_engine::rollup::{rollup_column, Tier};
/// # use tally_engine::rollup::file::{EntryMode, RollupEntry, RollupFileWriter};
/// # use tally_engine::{ColumnValues, SeriesId, TimeRange};
/// let buckets = rollup_column(&[0, 1], &ColumnValues::Float(vec![1.5, 2.5]), Tier::Minute, true);
/// let mut w = RollupFileWriter::new(1, TimeRange::new(0, 86_400_000_000_000), 3);
/// w.add(RollupEntry {
///     series: SeriesId(7),
///     field: "latency_ms".into(),
///     tier: Tier::Minute,
///     mode: EntryMode::Add,
///     buckets,
/// })?;
/// let (meta, bytes) = w.finish(std::path::Path::new("rollups/0000000000000001.rup"))?;
/// # Ok::<(), tally_engine::rollup::file::RollupFileError>(())
/// ```
pub struct RollupFileWriter {
    seq: u64,
    partition: TimeRange,
    zstd_level: i32,
    block_size: usize,
    /// Sorted as the file stores them: tier, then series, then field name.
    entries: BTreeMap<(Tier, SeriesId, String), Pending>,
    min_start: i64,
    max_start: i64,
    buckets: [u64; 3],
}

/// One added entry, its buckets already encoded.
struct Pending {
    mode: EntryMode,
    buckets: u64,
    bytes: Vec<u8>,
}

impl fmt::Debug for RollupFileWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RollupFileWriter")
            .field("seq", &self.seq)
            .field("partition", &self.partition)
            .field("zstd_level", &self.zstd_level)
            .field("entries", &self.entries.len())
            .field("buckets", &self.buckets)
            .finish_non_exhaustive()
    }
}

impl RollupFileWriter {
    /// A writer for rollup file number `seq` of `partition`, compressing blocks at `zstd_level`
    /// (1 = fastest; 3 is zstd's default; 19 is slow and small).
    pub fn new(seq: u64, partition: TimeRange, zstd_level: i32) -> Self {
        RollupFileWriter {
            seq,
            partition,
            zstd_level,
            block_size: DEFAULT_BLOCK_SIZE,
            entries: BTreeMap::new(),
            min_start: i64::MAX,
            max_start: i64::MIN,
            buckets: [0; 3],
        }
    }

    /// Sets the uncompressed size blocks are cut at (default
    /// [`DEFAULT_BLOCK_SIZE`](crate::segment::DEFAULT_BLOCK_SIZE); at least 1).
    pub fn with_block_size(mut self, bytes: usize) -> Self {
        self.block_size = bytes.max(1);
        self
    }

    /// Entries may come in any order; an entry with no buckets is skipped. Two entries with the
    /// same (series, field, tier) in ONE file is a caller bug: return an error.
    ///
    /// Also refused, as [`RollupFileError::BadInput`]: an empty bucket, bucket starts that are
    /// not strictly ascending or not aligned to the tier, a non-finite min or max or min above
    /// max, and a distribution whose count differs from the aggregate's (or exact values outside
    /// the bucket's min and max). These are the states the decoder refuses, so a file this
    /// writer finishes always reads back.
    pub fn add(&mut self, entry: RollupEntry) -> Result<(), RollupFileError> {
        if entry.buckets.is_empty() {
            return Ok(());
        }
        let bad = |entry: &RollupEntry, reason: String| RollupFileError::BadInput {
            series: entry.series,
            field: entry.field.clone(),
            tier: entry.tier,
            reason,
        };
        check_buckets(entry.tier, &entry.buckets).map_err(|r| bad(&entry, r))?;
        let key = (entry.tier, entry.series, entry.field.clone());
        if self.entries.contains_key(&key) {
            return Err(bad(
                &entry,
                "added twice to one rollup file; merge the buckets before adding".to_owned(),
            ));
        }
        let bytes = encode_buckets(&entry.buckets);
        if bytes.len() > MAX_RAW_LEN {
            return Err(RollupFileError::TooLarge(format!(
                "series {} field '{}' tier {} encodes to {} bytes, over 4 GiB",
                entry.series,
                entry.field,
                entry.tier.name(),
                bytes.len()
            )));
        }
        // Starts are strictly ascending (checked above), so the ends are the extremes.
        if let (Some(first), Some(last)) = (entry.buckets.first(), entry.buckets.last()) {
            self.min_start = self.min_start.min(first.start);
            self.max_start = self.max_start.max(last.start);
        }
        let n = entry.buckets.len() as u64;
        self.buckets[tier_index(entry.tier)] += n;
        self.entries.insert(
            key,
            Pending {
                mode: entry.mode,
                buckets: n,
                bytes,
            },
        );
        Ok(())
    }

    /// Whether no entry was added (an empty file is still valid, but rarely worth writing).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes tmp + fsync + rename + dir fsync; returns meta and file size.
    pub fn finish(self, path: &Path) -> Result<(RollupFileMeta, u64), RollupFileError> {
        let (meta, data) = self.encode()?;
        write_atomic_with(path, &data, |op, path, source| RollupFileError::Io {
            op,
            path: path.to_path_buf(),
            source,
        })?;
        Ok((meta, data.len() as u64))
    }

    /// The whole file in memory, and its metadata.
    fn encode(self) -> Result<(RollupFileMeta, Vec<u8>), RollupFileError> {
        let too_large = |what: &str| RollupFileError::TooLarge(what.to_owned());
        let mut compressor =
            zstd::bulk::Compressor::new(self.zstd_level).map_err(RollupFileError::Compress)?;
        let mut data = Vec::with_capacity(HEADER_LEN);
        encode_header(&mut data);
        let mut blocks = Blocks {
            data,
            table: Vec::new(),
            open: Vec::new(),
            bytes: [0; 3],
        };

        // Field-name dictionary: sorted, so name ids order fields by name.
        let names: BTreeSet<&str> = self.entries.keys().map(|k| k.2.as_str()).collect();
        let name_ids: HashMap<&str, u64> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, i as u64))
            .collect();
        let mut index = Vec::new();
        put_names(&mut index, names.iter().copied());

        let mut tier_blocks = [0u32; 3];
        for tier in Tier::ALL {
            let ti = tier_index(tier);
            let groups = self.series_of(tier);
            put_uvarint(&mut index, groups.len() as u64);
            let first_block = blocks.table.len();
            // The running position the index's column references are relative to.
            let mut layout_block = first_block;
            let mut prev: Option<SeriesId> = None;
            for (id, entries) in &groups {
                let total: usize = entries.iter().map(|(_, p)| p.bytes.len()).sum();
                // Keep a series' entries in one block when they fit in one.
                if !blocks.open.is_empty() && blocks.open.len() + total > self.block_size {
                    blocks.cut(&mut compressor, ti)?;
                }
                put_uvarint(&mut index, u64::from(prev.map_or(id.0, |p| id.0 - p.0)));
                prev = Some(*id);
                put_uvarint(&mut index, entries.len() as u64);
                for (name, p) in entries {
                    if !blocks.open.is_empty()
                        && blocks.open.len() + p.bytes.len() > self.block_size
                    {
                        blocks.cut(&mut compressor, ti)?;
                    }
                    let block = blocks.table.len();
                    put_uvarint(&mut index, name_ids[name] << 1 | p.mode.code());
                    put_uvarint(&mut index, p.buckets);
                    put_uvarint(&mut index, (block - layout_block) as u64);
                    put_uvarint(&mut index, p.bytes.len() as u64);
                    layout_block = block;
                    blocks.open.extend_from_slice(&p.bytes);
                }
            }
            blocks.cut(&mut compressor, ti)?;
            tier_blocks[ti] = u32::try_from(blocks.table.len() - first_block)
                .map_err(|_| too_large("more than 2^32 blocks"))?;
        }

        let Blocks {
            mut data,
            table,
            bytes,
            ..
        } = blocks;
        let block_table_offset = data.len() as u64;
        for b in &table {
            b.encode(&mut data);
        }
        let index_offset = data.len() as u64;
        if index.len() > MAX_RAW_LEN {
            return Err(too_large("index over 4 GiB"));
        }
        let compressed = compressor
            .compress(&index)
            .map_err(RollupFileError::Compress)?;
        data.extend_from_slice(&compressed);
        let meta = RollupFileMeta {
            seq: self.seq,
            partition: self.partition,
            entries: self.entries.len() as u64,
            buckets: self.buckets,
            bytes,
            min_start: self.min_start,
            max_start: self.max_start,
        };
        let footer = Footer {
            block_table_offset,
            block_count: u32::try_from(table.len())
                .map_err(|_| too_large("more than 2^32 blocks"))?,
            index_offset,
            index_len: compressed.len() as u64,
            index_raw_len: index.len() as u32,
            seq: meta.seq,
            partition: meta.partition,
            min_start: meta.min_start,
            max_start: meta.max_start,
            entries: meta.entries,
            buckets: meta.buckets,
            tier_blocks,
            data_crc: crc32fast::hash(&data),
        };
        footer.encode(&mut data);
        Ok((meta, data))
    }

    /// The entries of `tier`, grouped by series (ascending), each group by field name.
    fn series_of(&self, tier: Tier) -> Vec<(SeriesId, Vec<(&str, &Pending)>)> {
        let mut out: Vec<(SeriesId, Vec<(&str, &Pending)>)> = Vec::new();
        let from = (tier, SeriesId(0), String::new());
        for ((t, id, name), p) in self.entries.range(from..) {
            if *t != tier {
                break;
            }
            match out.last_mut() {
                Some((last, group)) if last == id => group.push((name.as_str(), p)),
                _ => out.push((*id, vec![(name.as_str(), p)])),
            }
        }
        out
    }
}

/// The compressed blocks written so far and the open one.
struct Blocks {
    /// Header and compressed blocks.
    data: Vec<u8>,
    table: Vec<BlockInfo>,
    /// The open block, uncompressed.
    open: Vec<u8>,
    /// Compressed bytes per tier.
    bytes: [u64; 3],
}

impl Blocks {
    /// Compresses the open block (if it holds anything), counting it to tier `ti`.
    fn cut(
        &mut self,
        compressor: &mut zstd::bulk::Compressor<'static>,
        ti: usize,
    ) -> Result<(), RollupFileError> {
        if self.open.is_empty() {
            return Ok(());
        }
        let too_large = |what: &str| RollupFileError::TooLarge(what.to_owned());
        let raw_len =
            u32::try_from(self.open.len()).map_err(|_| too_large("a block over 4 GiB"))?;
        if self.table.len() >= u32::MAX as usize {
            return Err(too_large("more than 2^32 blocks"));
        }
        let compressed = compressor
            .compress(&self.open)
            .map_err(RollupFileError::Compress)?;
        let compressed_len = u32::try_from(compressed.len())
            .map_err(|_| too_large("a compressed block over 4 GiB"))?;
        self.table.push(BlockInfo {
            offset: self.data.len() as u64,
            compressed_len,
            raw_len,
        });
        self.data.extend_from_slice(&compressed);
        self.bytes[ti] += u64::from(compressed_len);
        self.open.clear();
        Ok(())
    }
}

/// Checks the contract of [`RollupEntry::buckets`] and the states the bucket decoder refuses.
fn check_buckets(tier: Tier, buckets: &[RollupBucket]) -> Result<(), String> {
    let mut prev: Option<i64> = None;
    for b in buckets {
        let s = b.start;
        if b.agg.count == 0 {
            return Err(format!("bucket at {s} is empty"));
        }
        if tier.bucket_start(s) != s {
            return Err(format!(
                "bucket start {s} is not aligned to the {} tier",
                tier.name()
            ));
        }
        if let Some(p) = prev {
            if s <= p {
                return Err(format!(
                    "bucket starts not strictly ascending: {s} follows {p}"
                ));
            }
        }
        prev = Some(s);
        let (min, max) = (b.agg.min, b.agg.max);
        if !(min.is_finite() && max.is_finite() && min <= max) {
            return Err(format!(
                "bucket at {s} has min {min} and max {max}: both must be finite, min <= max"
            ));
        }
        if let Some(d) = &b.dist {
            if d.count() != b.agg.count {
                return Err(format!(
                    "bucket at {s}: the distribution holds {} values, the aggregate counts {}",
                    d.count(),
                    b.agg.count
                ));
            }
            if let Some(v) = d
                .exact_values()
                .and_then(|vs| vs.iter().find(|v| **v < min || **v > max))
            {
                return Err(format!(
                    "bucket at {s}: distribution value {v} outside the aggregate's [{min}, {max}]"
                ));
            }
        }
    }
    Ok(())
}
