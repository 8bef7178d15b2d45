//! Builds a segment in memory and writes it with the temp-file, fsync, rename protocol.
//!
//! The writer buffers the fields of the series being added (to order them by name and find
//! shared timestamp columns), appends their encoded columns to the open block, and zstd-compresses
//! a block when the next series or column would push it past the block size. The compressed
//! blocks, the index entries and the field names stay in memory until [`SegmentWriter::finish`].

use super::format::{encode_header, encode_series, time_shift, ColLoc, FieldEntry, Footer, Layout};
use super::{SegmentError, SegmentMeta, DEFAULT_BLOCK_SIZE};
use crate::blockio::{put_names, BlockInfo, HEADER_LEN, MAX_RAW_LEN};
use crate::codec::{encode_timestamps_chunked, encode_values_chunked, CHUNK_POINTS};
use crate::fsutil::write_atomic_with;
use crate::types::{ColumnValues, FieldType, SeriesId, TimeRange};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// Writes one segment file. Add columns in ascending series order, then [`finish`](Self::finish).
///
/// ```no_run
/// # use tally_engine::segment::SegmentWriter;
/// # use tally_engine::{ColumnValues, SeriesId, TimeRange};
/// let mut w = SegmentWriter::new(1, TimeRange::new(0, 86_400_000_000_000), 3);
/// w.add(SeriesId(7), "latency_ms", &[10, 20], &ColumnValues::Float(vec![1.5, 2.5]))?;
/// w.add(SeriesId(7), "bytes_in", &[10, 20], &ColumnValues::Integer(vec![100, 200]))?;
/// let (meta, bytes) = w.finish(std::path::Path::new("data/seg-1.tseg"))?;
/// # Ok::<(), tally_engine::segment::SegmentError>(())
/// ```
pub struct SegmentWriter {
    seq: u64,
    partition: TimeRange,
    zstd_level: i32,
    block_size: usize,
    /// Points per chunk of a long column (see `codec::CHUNK_POINTS`).
    chunk_points: usize,
    compressor: Option<zstd::bulk::Compressor<'static>>,
    /// Header and compressed blocks written so far.
    data: Vec<u8>,
    blocks: Vec<BlockInfo>,
    /// The open block, uncompressed.
    block: Vec<u8>,
    /// Field names in order of first sight; ids are remapped to sorted order at finish.
    names: Vec<String>,
    name_ids: HashMap<String, u32>,
    /// Finished series: id and the range of `fields` that belongs to it.
    series: Vec<(SeriesId, usize, usize)>,
    fields: Vec<FieldEntry>,
    /// The series being added.
    pending: Option<(SeriesId, Vec<PendingField>)>,
    min_ts: i64,
    max_ts: i64,
    points: u64,
    values: u64,
}

struct PendingField {
    name: String,
    ty: FieldType,
    ts: Vec<i64>,
    /// Encoded when the series is complete: value chunks follow the timestamp owner's.
    values: ColumnValues,
}

impl fmt::Debug for SegmentWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SegmentWriter")
            .field("seq", &self.seq)
            .field("partition", &self.partition)
            .field("zstd_level", &self.zstd_level)
            .field("blocks", &self.blocks.len())
            .field("series", &self.series.len())
            .field("points", &self.points)
            .finish_non_exhaustive()
    }
}

impl SegmentWriter {
    /// A writer for segment number `seq` of `partition`, compressing blocks at `zstd_level`
    /// (1 = fastest; 3 is zstd's default; 19 is slow and small).
    pub fn new(seq: u64, partition: TimeRange, zstd_level: i32) -> Self {
        let mut data = Vec::with_capacity(HEADER_LEN);
        encode_header(&mut data);
        SegmentWriter {
            seq,
            partition,
            zstd_level,
            block_size: DEFAULT_BLOCK_SIZE,
            chunk_points: CHUNK_POINTS,
            compressor: None,
            data,
            blocks: Vec::new(),
            block: Vec::new(),
            names: Vec::new(),
            name_ids: HashMap::new(),
            series: Vec::new(),
            fields: Vec::new(),
            pending: None,
            min_ts: i64::MAX,
            max_ts: i64::MIN,
            points: 0,
            values: 0,
        }
    }

    /// Sets the uncompressed size blocks are cut at (default [`DEFAULT_BLOCK_SIZE`]; at least 1).
    pub fn with_block_size(mut self, bytes: usize) -> Self {
        self.block_size = bytes.max(1);
        self
    }

    /// Sets the points per chunk long columns are cut into (default `codec::CHUNK_POINTS`; at
    /// least 1), so tests can make chunks with few points.
    pub fn with_chunk_points(mut self, points: usize) -> Self {
        self.chunk_points = points.max(1);
        self
    }

    /// Adds one column. Calls come in ascending SeriesId order; within a series any field order;
    /// ts sorted ascending (ties allowed) and values.len() == ts.len(). An empty column is
    /// accepted and stores nothing.
    pub fn add(
        &mut self,
        series: SeriesId,
        field: &str,
        ts: &[i64],
        values: &ColumnValues,
    ) -> Result<(), SegmentError> {
        let bad = |reason: String| SegmentError::BadInput {
            series,
            field: field.to_owned(),
            reason,
        };
        if values.len() != ts.len() {
            return Err(bad(format!(
                "{} timestamps but {} values",
                ts.len(),
                values.len()
            )));
        }
        if let Some(i) = ts.windows(2).position(|w| w[0] > w[1]) {
            return Err(bad(format!(
                "timestamps not sorted: {} at index {} follows {}",
                ts[i + 1],
                i + 1,
                ts[i]
            )));
        }
        let last = self
            .pending
            .as_ref()
            .map(|(id, _)| *id)
            .or_else(|| self.series.last().map(|s| s.0));
        match last {
            Some(prev) if series < prev => {
                return Err(bad(format!(
                    "series added out of order: {series} after {prev}"
                )))
            }
            Some(prev) if series == prev && self.pending.is_none() => {
                return Err(bad(format!(
                    "series {series} added again after later series"
                )))
            }
            _ => {}
        }
        if ts.is_empty() {
            return Ok(());
        }
        if self.pending.as_ref().is_some_and(|(id, _)| *id != series) {
            self.flush_series()?;
        }
        let (_, fields) = self.pending.get_or_insert_with(|| (series, Vec::new()));
        if fields.iter().any(|f| f.name == field) {
            return Err(bad("field added twice to the same series".to_owned()));
        }
        fields.push(PendingField {
            name: field.to_owned(),
            ty: values.field_type(),
            ts: ts.to_vec(),
            values: values.clone(),
        });
        Ok(())
    }

    /// Writes the file (tmp + fsync + rename) at `path` and returns its metadata and size in bytes.
    pub fn finish(mut self, path: &Path) -> Result<(SegmentMeta, u64), SegmentError> {
        self.flush_series()?;
        self.cut_block()?;
        let meta = self.encode_tail()?;
        write_atomic_with(path, &self.data, |op, path, source| SegmentError::Io {
            op,
            path: path.to_path_buf(),
            source,
        })?;
        Ok((meta, self.data.len() as u64))
    }

    /// Appends the block table, the index and the footer to `data`; returns the metadata.
    fn encode_tail(&mut self) -> Result<SegmentMeta, SegmentError> {
        let too_large = |what: &str| SegmentError::TooLarge(what.to_owned());
        let block_table_offset = self.data.len() as u64;
        for b in &self.blocks {
            b.encode(&mut self.data);
        }
        let index_offset = self.data.len() as u64;
        let raw = self.encode_index();
        if raw.len() > MAX_RAW_LEN {
            return Err(too_large("index over 4 GiB"));
        }
        let compressed = self
            .compressor()?
            .compress(&raw)
            .map_err(SegmentError::Compress)?;
        self.data.extend_from_slice(&compressed);
        let meta = SegmentMeta {
            seq: self.seq,
            partition: self.partition,
            min_ts: self.min_ts,
            max_ts: self.max_ts,
            points: self.points,
            series: u32::try_from(self.series.len())
                .map_err(|_| too_large("more than 2^32 series"))?,
            values: self.values,
        };
        let footer = Footer {
            block_table_offset,
            block_count: u32::try_from(self.blocks.len())
                .map_err(|_| too_large("more than 2^32 blocks"))?,
            index_offset,
            index_len: compressed.len() as u64,
            index_raw_len: raw.len() as u32,
            seq: meta.seq,
            partition: meta.partition,
            min_ts: meta.min_ts,
            max_ts: meta.max_ts,
            points: meta.points,
            values: meta.values,
            series: meta.series,
            data_crc: crc32fast::hash(&self.data),
        };
        footer.encode(&mut self.data);
        Ok(meta)
    }

    /// The uncompressed index: the sorted field-name dictionary, then one entry per series.
    fn encode_index(&self) -> Vec<u8> {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_by(|a, b| self.names[*a as usize].cmp(&self.names[*b as usize]));
        let mut sorted_id = vec![0u32; self.names.len()];
        for (new, old) in order.iter().enumerate() {
            sorted_id[*old as usize] = new as u32;
        }
        let mut out = Vec::new();
        put_names(
            &mut out,
            order.iter().map(|old| self.names[*old as usize].as_str()),
        );
        let shift = time_shift(self.min_ts, self.max_ts);
        out.push(shift);
        let mut layout = Layout::default();
        let mut prev: Option<SeriesId> = None;
        let mut remapped = Vec::new();
        for &(id, start, end) in &self.series {
            let delta = prev.map_or(id.0, |p| id.0 - p.0);
            prev = Some(id);
            remapped.clear();
            remapped.extend(self.fields[start..end].iter().map(|f| FieldEntry {
                name: sorted_id[f.name as usize],
                ..*f
            }));
            encode_series(&mut out, delta, &remapped, &mut layout, self.min_ts, shift);
        }
        out
    }

    /// Moves the pending series' columns into the open block and records its index entry.
    fn flush_series(&mut self) -> Result<(), SegmentError> {
        let Some((id, mut fields)) = self.pending.take() else {
            return Ok(());
        };
        fields.sort_by(|a, b| a.name.cmp(&b.name));
        // Which earlier field (if any) already holds each field's timestamps.
        let owners: Vec<usize> = (0..fields.len())
            .map(|i| (0..i).find(|&j| fields[j].ts == fields[i].ts).unwrap_or(i))
            .collect();
        // Equal timestamps mean equal lengths, so a field's value chunks line up with its
        // owner's timestamp chunks.
        let mut ts_bufs: Vec<Vec<u8>> = Vec::with_capacity(fields.len());
        let mut val_bufs: Vec<Vec<u8>> = Vec::with_capacity(fields.len());
        let mut total = 0usize;
        for (i, f) in fields.iter().enumerate() {
            let mut buf = Vec::new();
            if owners[i] == i {
                encode_timestamps_chunked(&f.ts, self.chunk_points, &mut buf);
            }
            let mut vals = Vec::new();
            encode_values_chunked(&f.values, self.chunk_points, &mut vals);
            total += buf.len() + vals.len();
            ts_bufs.push(buf);
            val_bufs.push(vals);
        }
        // Keep a series in one block when it fits in one.
        if !self.block.is_empty() && self.block.len() + total > self.block_size {
            self.cut_block()?;
        }
        let start = self.fields.len();
        for (i, f) in fields.iter().enumerate() {
            let pair = ts_bufs[i].len() + val_bufs[i].len();
            if pair > MAX_RAW_LEN {
                return Err(SegmentError::TooLarge(format!(
                    "series {id} field '{}' encodes to {pair} bytes, over 4 GiB",
                    f.name
                )));
            }
            if !self.block.is_empty() && self.block.len() + pair > self.block_size {
                self.cut_block()?;
            }
            let name = self.name_id(&f.name);
            let (first, last) = (f.ts[0], f.ts[f.ts.len() - 1]);
            let owner = owners[i];
            let ts = if owner == i {
                self.points += f.ts.len() as u64;
                self.append(&ts_bufs[i])
            } else {
                self.fields[start + owner].ts
            };
            let vals = self.append(&val_bufs[i]);
            self.values += f.ts.len() as u64;
            self.min_ts = self.min_ts.min(first);
            self.max_ts = self.max_ts.max(last);
            self.fields.push(FieldEntry {
                name,
                ty: f.ty,
                ts_owner: owner as u32,
                points: f.ts.len() as u64,
                min_ts: first,
                max_ts: last,
                ts,
                vals,
            });
        }
        self.series.push((id, start, self.fields.len()));
        Ok(())
    }

    /// Appends one encoded column to the open block and returns where it went. The caller has
    /// made sure the block stays within `MAX_RAW_LEN`.
    fn append(&mut self, bytes: &[u8]) -> ColLoc {
        let loc = ColLoc {
            block: self.blocks.len() as u32,
            off: self.block.len() as u32,
            len: bytes.len() as u32,
        };
        self.block.extend_from_slice(bytes);
        loc
    }

    /// Compresses the open block (if it holds anything) and starts a new one.
    fn cut_block(&mut self) -> Result<(), SegmentError> {
        if self.block.is_empty() {
            return Ok(());
        }
        if self.block.len() > MAX_RAW_LEN {
            return Err(SegmentError::TooLarge("a block over 4 GiB".to_owned()));
        }
        if self.blocks.len() >= u32::MAX as usize {
            return Err(SegmentError::TooLarge("more than 2^32 blocks".to_owned()));
        }
        let raw = std::mem::take(&mut self.block);
        let compressed = self
            .compressor()?
            .compress(&raw)
            .map_err(SegmentError::Compress)?;
        let compressed_len = u32::try_from(compressed.len())
            .map_err(|_| SegmentError::TooLarge("a compressed block over 4 GiB".to_owned()))?;
        self.blocks.push(BlockInfo {
            offset: self.data.len() as u64,
            compressed_len,
            raw_len: raw.len() as u32,
        });
        self.data.extend_from_slice(&compressed);
        // Reuse the allocation for the next block.
        self.block = raw;
        self.block.clear();
        Ok(())
    }

    fn compressor(&mut self) -> Result<&mut zstd::bulk::Compressor<'static>, SegmentError> {
        let c = match self.compressor.take() {
            Some(c) => c,
            None => zstd::bulk::Compressor::new(self.zstd_level).map_err(SegmentError::Compress)?,
        };
        Ok(self.compressor.insert(c))
    }

    fn name_id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.name_ids.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.name_ids.insert(name.to_owned(), id);
        id
    }
}
