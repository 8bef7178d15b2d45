//! The series registry: series key -> dense [`SeriesId`], persisted in an append-only log.
//!
//! On disk (`series.log`, little-endian):
//! ```text
//! file   := magic:"TALLYSER" version:u16 record*
//! record := key_len:u32 crc32:u32 id:u32 key:bytes[key_len]      crc32 covers id and key
//! ```
//! Ids are dense and assigned in log order, so record *n* must carry id *n*.
//!
//! Invariants and crash behaviour:
//! - A record is appended (buffered) when a series is first written. The WAL holds every
//!   point's full series key, so a record lost in a crash is re-created by WAL replay.
//! - Before a flush commits segments that name series ids, [`SeriesRegistry::sync`] makes the
//!   log durable: a committed segment never names an id the log does not hold.
//! - At open, a torn or corrupt tail is cut off at the last good record (logged, never fatal).
//!   Ids past the cut were never referenced by a committed segment (previous point).

use crate::batch::SeriesKeyRef;
use crate::error::EngineError;
use crate::index::TagIndex;
use crate::types::SeriesId;
use ahash::AHashMap as HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"TALLYSER";
const VERSION: u16 = 1;
const HEADER_LEN: u64 = 10;
/// A key longer than this cannot come from a valid batch (u16-prefixed names), so it is corruption.
const MAX_KEY_LEN: u32 = 16 << 20;

/// Every known series, its key, and the tag index over them.
#[derive(Debug)]
pub struct SeriesRegistry {
    path: PathBuf,
    log: BufWriter<File>,
    keys: Vec<Box<[u8]>>,
    ids: HashMap<Box<[u8]>, SeriesId>,
    /// Measurement id of each series (index = series id).
    measurement_of: Vec<u32>,
    /// Measurement names by id, and the reverse map.
    measurement_names: Vec<Box<str>>,
    measurement_ids: HashMap<Box<str>, u32>,
    index: TagIndex,
    dirty: bool,
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
            log: BufWriter::new(file.try_clone().map_err(|e| io("open", e))?),
            keys: Vec::new(),
            ids: HashMap::default(),
            measurement_of: Vec::new(),
            measurement_names: Vec::new(),
            measurement_ids: HashMap::default(),
            index: TagIndex::new(),
            dirty: false,
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
            match parse_record(&bytes[off..], reg.keys.len() as u32) {
                Ok((key, used)) => {
                    reg.insert_loaded(key);
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
        let mut log = reg
            .log
            .into_inner()
            .map_err(|e| io("open", e.into_error()))?;
        log.seek(SeekFrom::End(0)).map_err(|e| io("seek", e))?;
        reg.log = BufWriter::new(log);
        Ok((reg, repair))
    }

    fn insert_loaded(&mut self, key: &[u8]) {
        let id = SeriesId(self.keys.len() as u32);
        let key: Box<[u8]> = key.into();
        let m = match SeriesKeyRef::parse(&key) {
            Ok(k) => {
                self.index.insert(id, k);
                self.intern_measurement(k.measurement())
            }
            Err(_) => self.intern_measurement(""),
        };
        self.measurement_of.push(m);
        self.ids.insert(key.clone(), id);
        self.keys.push(key);
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
        let id = SeriesId(self.keys.len() as u32);
        let bytes = key.as_bytes();
        let mut crc = crc32fast::Hasher::new();
        crc.update(&id.0.to_le_bytes());
        crc.update(bytes);
        let mut rec = Vec::with_capacity(12 + bytes.len());
        rec.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        rec.extend_from_slice(&crc.finalize().to_le_bytes());
        rec.extend_from_slice(&id.0.to_le_bytes());
        rec.extend_from_slice(bytes);
        self.log
            .write_all(&rec)
            .map_err(|e| EngineError::io("append", &self.path, e))?;
        self.dirty = true;
        self.index.insert(id, key);
        let m = self.intern_measurement(key.measurement());
        self.measurement_of.push(m);
        let key: Box<[u8]> = bytes.into();
        self.ids.insert(key.clone(), id);
        self.keys.push(key);
        Ok(id)
    }

    /// Makes every registered series durable (before a flush commits segments naming them).
    pub fn sync(&mut self) -> Result<(), EngineError> {
        if !self.dirty {
            return Ok(());
        }
        self.log
            .flush()
            .map_err(|e| EngineError::io("write", &self.path, e))?;
        self.log
            .get_ref()
            .sync_data()
            .map_err(|e| EngineError::io("fsync", &self.path, e))?;
        self.dirty = false;
        Ok(())
    }

    /// The key of series `id`.
    pub fn key(&self, id: SeriesId) -> Option<SeriesKeyRef<'_>> {
        self.keys
            .get(id.0 as usize)
            .and_then(|k| SeriesKeyRef::parse(k).ok())
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

fn parse_record(b: &[u8], expected_id: u32) -> Result<(&[u8], usize), &'static str> {
    if b.len() < 12 {
        return Err("record header runs past the end of the file");
    }
    let len = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    if len > MAX_KEY_LEN {
        return Err("record length is implausible");
    }
    let crc = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    let end = 12 + len as usize;
    if b.len() < end {
        return Err("record runs past the end of the file");
    }
    if crc32fast::hash(&b[8..end]) != crc {
        return Err("record checksum mismatch");
    }
    let id = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
    if id != expected_id {
        return Err("record id out of sequence");
    }
    let key = &b[12..end];
    SeriesKeyRef::parse(key).map_err(|_| "record holds a malformed series key")?;
    Ok((key, end))
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
        {
            let (mut reg, _) = SeriesRegistry::open(&path).unwrap();
            for p in b.iter() {
                reg.get_or_create(p.unwrap().key).unwrap();
            }
            reg.sync().unwrap();
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
            let (mut reg, _) = SeriesRegistry::open(&path).unwrap();
            let n = reg.len();
            assert!(n < 5);
            // The repaired log keeps accepting series with the next dense id.
            let last = b.iter().last().unwrap().unwrap().key;
            assert_eq!(reg.get_or_create(last).unwrap(), SeriesId(n as u32));
        }
        let mut flipped = full.clone();
        flipped[HEADER_LEN as usize + 14] ^= 0x40;
        std::fs::write(&path, &flipped).unwrap();
        let (reg, rep) = SeriesRegistry::open(&path).unwrap();
        assert_eq!(reg.len(), 0);
        assert!(rep.truncated.is_some());
    }
}
