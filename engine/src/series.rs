//! The series registry: series key -> dense [`SeriesId`], persisted in an append-only log.
//!
//! On disk (`series.log`, little-endian):
//! ```text
//! file   := magic:"TALLYSER" version:u16 block*
//! block  := len:u32 crc32:u32 first_id:u32 count:u32 raw_len:u32 zstd_frame
//!           len counts the bytes after crc32; crc32 covers them
//! raw    := (key_len:u32 key){count}          the zstd frame decompresses to raw_len bytes of this
//! ```
//! Ids are dense and assigned in log order, so a block's `first_id` must be the number of series
//! before it. Keys compress about tenfold (they share measurement and tag names), which matters
//! because per-request data has many series.
//!
//! Invariants and crash behaviour:
//! - A new series lives in memory until the next flush: the WAL holds every point's full series
//!   key, so a series lost in a crash is re-created by WAL replay.
//! - Before a flush commits segments that name series ids, [`SeriesRegistry::sync`] appends one
//!   block with every series registered since the last one and fsyncs: a committed segment never
//!   names an id the log does not hold.
//! - At open, a torn or corrupt tail is cut off at the last good block (logged, never fatal).
//!   Ids past the cut were never referenced by a committed segment (previous point).

use crate::batch::SeriesKeyRef;
use crate::error::EngineError;
use crate::index::TagIndex;
use crate::types::SeriesId;
use ahash::AHashMap as HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"TALLYSER";
const VERSION: u16 = 1;
const HEADER_LEN: u64 = 10;
/// Bytes of a block before its zstd frame.
const BLOCK_HEADER_LEN: usize = 20;
/// Largest decompressed block accepted: a bigger `raw_len` is corruption, not an allocation.
const MAX_BLOCK_RAW: u32 = 1 << 30;
/// zstd level of the blocks: they are written once per flush, so a good ratio is worth it.
const ZSTD_LEVEL: i32 = 9;

/// Every known series, its key, and the tag index over them.
#[derive(Debug)]
pub struct SeriesRegistry {
    path: PathBuf,
    log: File,
    /// Bytes of the log on disk (where the next block goes).
    log_len: u64,
    /// Series `0..logged` are in the log; the rest only in memory (and the WAL).
    logged: usize,
    keys: Vec<Box<[u8]>>,
    ids: HashMap<Box<[u8]>, SeriesId>,
    /// Measurement id of each series (index = series id).
    measurement_of: Vec<u32>,
    /// Measurement names by id, and the reverse map.
    measurement_names: Vec<Box<str>>,
    measurement_ids: HashMap<Box<str>, u32>,
    index: TagIndex,
}

/// What opening the log repaired.
#[derive(Debug, Clone, Default)]
pub struct SeriesLogRepair {
    /// Set when a torn or corrupt tail was cut: (bytes kept, reason).
    pub truncated: Option<(u64, String)>,
}

impl SeriesRegistry {
    /// Opens or creates the log at `path`, loading every series and building the tag index.
    pub fn open(path: &Path) -> Result<(Self, SeriesLogRepair), EngineError> {
        let io = |op, e| EngineError::io(op, path, e);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| io("open", e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| io("read", e))?;
        let mut repair = SeriesLogRepair::default();
        let mut reg = SeriesRegistry {
            path: path.to_owned(),
            log: file.try_clone().map_err(|e| io("open", e))?,
            log_len: HEADER_LEN,
            logged: 0,
            keys: Vec::new(),
            ids: HashMap::default(),
            measurement_of: Vec::new(),
            measurement_names: Vec::new(),
            measurement_ids: HashMap::default(),
            index: TagIndex::new(),
        };
        if bytes.len() < HEADER_LEN as usize {
            // New, or torn while writing the header: nothing in it can be referenced yet.
            file.set_len(0).map_err(|e| io("truncate", e))?;
            file.seek(SeekFrom::Start(0)).map_err(|e| io("seek", e))?;
            file.write_all(MAGIC).map_err(|e| io("write", e))?;
            file.write_all(&VERSION.to_le_bytes())
                .map_err(|e| io("write", e))?;
            file.sync_all().map_err(|e| io("fsync", e))?;
            return Ok((reg, repair));
        }
        if &bytes[..8] != MAGIC {
            return Err(EngineError::Corrupt {
                path: path.to_owned(),
                reason: "not a series log (bad magic); move it away only if you also remove the segments, which name its ids".into(),
            });
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version != VERSION {
            return Err(EngineError::Corrupt {
                path: path.to_owned(),
                reason: format!(
                    "series log version {version} is not supported (this build reads {VERSION})"
                ),
            });
        }
        let mut off = HEADER_LEN as usize;
        let mut bad: Option<&'static str> = None;
        while off < bytes.len() {
            match parse_block(&bytes[off..], reg.keys.len() as u32) {
                Ok((keys, used)) => {
                    for key in Block(&keys) {
                        // parse_block validated every key of the block.
                        reg.insert(SeriesKeyRef::trusted(key));
                    }
                    off += used;
                }
                Err(reason) => {
                    bad = Some(reason);
                    break;
                }
            }
        }
        if let Some(reason) = bad {
            tracing::warn!(
                path = %path.display(),
                kept_bytes = off,
                dropped_bytes = bytes.len() - off,
                reason,
                "series log tail truncated; the series it named are re-created from the WAL"
            );
            file.set_len(off as u64).map_err(|e| io("truncate", e))?;
            file.sync_all().map_err(|e| io("fsync", e))?;
            repair.truncated = Some((off as u64, reason.to_owned()));
        }
        reg.log_len = off as u64;
        reg.logged = reg.keys.len();
        Ok((reg, repair))
    }

    /// Registers a series not registered yet, under the next dense id.
    fn insert(&mut self, key: SeriesKeyRef<'_>) -> SeriesId {
        let id = SeriesId(self.keys.len() as u32);
        self.index.insert(id, key);
        let m = self.intern_measurement(key.measurement());
        self.measurement_of.push(m);
        let bytes: Box<[u8]> = key.as_bytes().into();
        self.ids.insert(bytes.clone(), id);
        self.keys.push(bytes);
        id
    }

    fn intern_measurement(&mut self, name: &str) -> u32 {
        if let Some(&m) = self.measurement_ids.get(name) {
            return m;
        }
        let m = self.measurement_names.len() as u32;
        self.measurement_names.push(name.into());
        self.measurement_ids.insert(name.into(), m);
        m
    }

    /// The dense id of the measurement of series `id` (ids count up from 0 in order of first
    /// sight, for per-measurement tables).
    pub fn measurement_id(&self, id: SeriesId) -> Option<u32> {
        self.measurement_of.get(id.0 as usize).copied()
    }

    /// The dense id of the measurement named `name`, if any series has it.
    pub fn measurement_id_of(&self, name: &str) -> Option<u32> {
        self.measurement_ids.get(name).copied()
    }

    /// The name of measurement id `m`.
    pub fn measurement_name(&self, m: u32) -> Option<&str> {
        self.measurement_names.get(m as usize).map(|n| &**n)
    }

    /// The id of `key`, if known.
    pub fn get(&self, key: &[u8]) -> Option<SeriesId> {
        self.ids.get(key).copied()
    }

    /// The id of `key`, registering (and logging) it if new.
    pub fn get_or_create(&mut self, key: SeriesKeyRef<'_>) -> Result<SeriesId, EngineError> {
        if let Some(id) = self.ids.get(key.as_bytes()) {
            return Ok(*id);
        }
        Ok(self.insert(key))
    }

    /// Makes every registered series durable (before a flush commits segments naming them):
    /// appends one compressed block of the series registered since the last sync, and fsyncs.
    /// On failure the log is cut back, so no half block stays behind.
    pub fn sync(&mut self) -> Result<(), EngineError> {
        if self.logged == self.keys.len() {
            return Ok(());
        }
        let new = &self.keys[self.logged..];
        let mut raw = Vec::with_capacity(new.iter().map(|k| k.len() + 4).sum());
        for k in new {
            raw.extend_from_slice(&(k.len() as u32).to_le_bytes());
            raw.extend_from_slice(k);
        }
        let frame = zstd::bulk::compress(&raw, ZSTD_LEVEL)
            .map_err(|e| EngineError::io("compress a block of", &self.path, e))?;
        let mut block = Vec::with_capacity(BLOCK_HEADER_LEN + frame.len());
        block.extend_from_slice(&((BLOCK_HEADER_LEN - 8 + frame.len()) as u32).to_le_bytes());
        block.extend_from_slice(&[0; 4]);
        block.extend_from_slice(&(self.logged as u32).to_le_bytes());
        block.extend_from_slice(&(new.len() as u32).to_le_bytes());
        block.extend_from_slice(&(raw.len() as u32).to_le_bytes());
        block.extend_from_slice(&frame);
        let crc = crc32fast::hash(&block[8..]);
        block[4..8].copy_from_slice(&crc.to_le_bytes());
        let written = (|| {
            self.log.seek(SeekFrom::Start(self.log_len))?;
            self.log.write_all(&block)?;
            self.log.sync_data()
        })();
        if let Err(e) = written {
            // Best effort: a cut-back that fails too leaves a torn tail, which open() cuts.
            let _ = self.log.set_len(self.log_len);
            return Err(EngineError::io("append to", &self.path, e));
        }
        self.log_len += block.len() as u64;
        self.logged = self.keys.len();
        Ok(())
    }

    /// The key of series `id`.
    pub fn key(&self, id: SeriesId) -> Option<SeriesKeyRef<'_>> {
        // Every stored key was validated on its way in (a checked batch or a checked log
        // block), so reads need not validate it again.
        self.keys
            .get(id.0 as usize)
            .map(|k| SeriesKeyRef::trusted(k))
    }

    /// Number of series.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no series is known.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The tag index.
    pub fn index(&self) -> &TagIndex {
        &self.index
    }
}

/// Checks and decompresses one block; returns its raw key list and the bytes it used.
fn parse_block(b: &[u8], expected_id: u32) -> Result<(Vec<u8>, usize), &'static str> {
    if b.len() < BLOCK_HEADER_LEN {
        return Err("block header runs past the end of the file");
    }
    let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let len = u32_at(0) as usize;
    let end = 8usize.saturating_add(len);
    if len < BLOCK_HEADER_LEN - 8 || b.len() < end {
        return Err("block runs past the end of the file");
    }
    if crc32fast::hash(&b[8..end]) != u32_at(4) {
        return Err("block checksum mismatch");
    }
    if u32_at(8) != expected_id {
        return Err("block ids out of sequence");
    }
    let count = u32_at(12) as usize;
    let raw_len = u32_at(16);
    if raw_len > MAX_BLOCK_RAW {
        return Err("block size is implausible");
    }
    let raw = zstd::bulk::decompress(&b[BLOCK_HEADER_LEN..end], raw_len as usize)
        .map_err(|_| "block does not decompress")?;
    if raw.len() != raw_len as usize {
        return Err("block decompresses to the wrong size");
    }
    let mut n = 0;
    for key in Block(&raw) {
        SeriesKeyRef::parse(key).map_err(|_| "block holds a malformed series key")?;
        n += 1;
    }
    let consumed: usize = Block(&raw).map(|k| k.len() + 4).sum();
    if n != count || consumed != raw.len() {
        return Err("block key count does not match");
    }
    Ok((raw, end))
}

/// The keys of a decompressed block: `(key_len:u32 key)*`; stops at the first bad length.
struct Block<'a>(&'a [u8]);

impl<'a> Iterator for Block<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let b = self.0;
        if b.len() < 4 {
            return None;
        }
        let len = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let key = b.get(4..4usize.checked_add(len)?)?;
        self.0 = &b[4 + len..];
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{PointScratch, WriteBatch};
    use crate::types::FieldValueRef;

    fn keys(n: usize) -> WriteBatch {
        let mut b = WriteBatch::new();
        let mut s = PointScratch::new();
        for i in 0..n {
            let mut p = b.point(&mut s, "m");
            p.tag("host", &format!("h{i}"));
            p.field("v", FieldValueRef::Integer(1));
            p.finish(0).unwrap();
        }
        b
    }

    #[test]
    fn ids_survive_reopen_and_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("series.log");
        let b = keys(5);
        let first_block_end;
        {
            let (mut reg, _) = SeriesRegistry::open(&path).unwrap();
            for p in b.iter().take(3) {
                reg.get_or_create(p.unwrap().key).unwrap();
            }
            reg.sync().unwrap();
            first_block_end = std::fs::metadata(&path).unwrap().len() as usize;
            for p in b.iter().skip(3) {
                reg.get_or_create(p.unwrap().key).unwrap();
            }
            reg.sync().unwrap();
            reg.sync().unwrap(); // nothing new: no empty block
        }
        let (reg, rep) = SeriesRegistry::open(&path).unwrap();
        assert!(rep.truncated.is_none());
        assert_eq!(reg.len(), 5);
        let third = b.iter().nth(2).unwrap().unwrap().key;
        assert_eq!(reg.get(third.as_bytes()), Some(SeriesId(2)));
        assert_eq!(
            reg.index()
                .select(&crate::selector::Selector::measurement("m"))
                .len(),
            5
        );
        drop(reg);
        let full = std::fs::read(&path).unwrap();
        for cut in (HEADER_LEN as usize + 1)..full.len() {
            std::fs::write(&path, &full[..cut]).unwrap();
            let (mut reg, rep) = SeriesRegistry::open(&path).unwrap();
            let n = reg.len();
            assert_eq!(n, if cut < first_block_end { 0 } else { 3 }, "cut at {cut}");
            assert_eq!(
                rep.truncated.is_some(),
                cut != first_block_end,
                "cut at {cut}"
            );
            // The repaired log keeps accepting series with the next dense id, durably.
            let last = b.iter().last().unwrap().unwrap().key;
            assert_eq!(reg.get_or_create(last).unwrap(), SeriesId(n as u32));
            reg.sync().unwrap();
            drop(reg);
            let (reg, _) = SeriesRegistry::open(&path).unwrap();
            assert_eq!(reg.len(), n + 1);
        }
        let mut flipped = full.clone();
        flipped[HEADER_LEN as usize + 14] ^= 0x40;
        std::fs::write(&path, &flipped).unwrap();
        let (reg, rep) = SeriesRegistry::open(&path).unwrap();
        assert_eq!(reg.len(), 0);
        assert!(rep.truncated.is_some());
    }

    #[test]
    fn unsynced_series_are_not_in_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("series.log");
        {
            let (mut reg, _) = SeriesRegistry::open(&path).unwrap();
            for p in keys(2).iter() {
                reg.get_or_create(p.unwrap().key).unwrap();
            }
        }
        assert_eq!(SeriesRegistry::open(&path).unwrap().0.len(), 0);
    }
}
