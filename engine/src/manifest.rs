//! The manifest: which segment files are live and where WAL replay starts.
//!
//! On disk (`MANIFEST`, little-endian):
//! ```text
//! manifest := magic:"TALLYMAN" version:u16 wal_from:u64 next_seq:u64 list(segments)
//!             [list(rollups)] crc32:u32                             crc32 covers all before it
//! list     := count:u32 (name_len:u16 name:utf8){count}
//! ```
//! Version 2 adds the rollup file list (files in `rollups/`); version 1 (no rollup list) is still
//! read, as a store without rollups. Both lists are in commit order: for each partition, later
//! entries are newer, which is what last-write-wins and rollup replacement go by.
//! A flush commits by replacing the manifest atomically (temp file, fsync, rename, directory
//! fsync; [`crate::fsutil::write_atomic`]). So at every instant the manifest names a set of
//! complete segments plus the WAL files that hold everything newer:
//! - crash before the rename: the old manifest stands; segment files it does not name are
//!   leftovers of the unfinished flush and are deleted at start-up; the WAL still holds their
//!   points, which replay restores.
//! - crash after the rename: the new segments are live; WAL files before `wal_from` are no
//!   longer needed and start-up deletes them if the flush did not get to.

use crate::error::EngineError;
use std::path::Path;

const MAGIC: &[u8; 8] = b"TALLYMAN";
const VERSION: u16 = 2;
/// The first version, without a rollup list.
const VERSION_1: u16 = 1;
/// File name inside the data directory.
pub const FILE_NAME: &str = "MANIFEST";

/// The committed state of the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// First WAL file number replay must read; older files are covered by segments.
    pub wal_from: u64,
    /// Sequence number the next segment gets.
    pub next_seq: u64,
    /// Live segment file names (inside the `segments` directory), oldest first.
    pub segments: Vec<String>,
    /// Live rollup file names (inside the `rollups` directory), oldest first.
    pub rollups: Vec<String>,
}

impl Manifest {
    /// Reads the manifest in `dir`; `Ok(None)` when there is none (a new store).
    pub fn load(dir: &Path) -> Result<Option<Manifest>, EngineError> {
        let path = dir.join(FILE_NAME);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(EngineError::io("read", &path, e)),
        };
        Self::decode(&bytes)
            .map(Some)
            .map_err(|reason| EngineError::Corrupt {
                path,
                reason: format!(
                    "{reason}; the manifest is replaced atomically, so this is disk damage: restore the data directory from a backup"
                ),
            })
    }

    /// Writes the manifest into `dir` atomically.
    pub fn store(&self, dir: &Path) -> Result<(), EngineError> {
        let path = dir.join(FILE_NAME);
        crate::fsutil::write_atomic(&path, &self.encode())
            .map_err(|e| EngineError::io("write", &path, e))
    }

    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + self.segments.len() * 40);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&VERSION.to_le_bytes());
        b.extend_from_slice(&self.wal_from.to_le_bytes());
        b.extend_from_slice(&self.next_seq.to_le_bytes());
        for list in [&self.segments, &self.rollups] {
            b.extend_from_slice(&(list.len() as u32).to_le_bytes());
            for s in list {
                b.extend_from_slice(&(s.len() as u16).to_le_bytes());
                b.extend_from_slice(s.as_bytes());
            }
        }
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    fn decode(b: &[u8]) -> Result<Manifest, String> {
        if b.len() < 34 {
            return Err("manifest is truncated".into());
        }
        let (body, crc) = b.split_at(b.len() - 4);
        let crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
        if crc32fast::hash(body) != crc {
            return Err("manifest checksum mismatch".into());
        }
        if &body[..8] != MAGIC {
            return Err("not a manifest (bad magic)".into());
        }
        let version = u16::from_le_bytes([body[8], body[9]]);
        if version != VERSION && version != VERSION_1 {
            return Err(format!(
                "manifest version {version} is not supported (this build reads {VERSION_1} and {VERSION})"
            ));
        }
        let u64_at = |o: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&body[o..o + 8]);
            u64::from_le_bytes(a)
        };
        let wal_from = u64_at(10);
        let next_seq = u64_at(18);
        let mut off = 26;
        let segments = decode_list(body, &mut off, "segment")?;
        let rollups = if version == VERSION_1 {
            Vec::new()
        } else {
            decode_list(body, &mut off, "rollup")?
        };
        if off != body.len() {
            return Err("trailing bytes after the file lists".into());
        }
        Ok(Manifest {
            wal_from,
            next_seq,
            segments,
            rollups,
        })
    }
}

fn decode_list(body: &[u8], off: &mut usize, what: &str) -> Result<Vec<String>, String> {
    let truncated = || format!("manifest {what} list is truncated");
    let count = body
        .get(*off..*off + 4)
        .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]) as usize)
        .ok_or_else(truncated)?;
    *off += 4;
    let mut names = Vec::with_capacity(count.min(body.len() / 2));
    for _ in 0..count {
        let len = body
            .get(*off..*off + 2)
            .map(|x| u16::from_le_bytes([x[0], x[1]]) as usize)
            .ok_or_else(truncated)?;
        let name = body.get(*off + 2..*off + 2 + len).ok_or_else(truncated)?;
        let name =
            std::str::from_utf8(name).map_err(|_| format!("a {what} file name is not UTF-8"))?;
        if name.is_empty() || name.contains('/') || name.contains('\\') || name.starts_with('.') {
            return Err(format!(
                "{what} file name {name:?} is not a plain file name"
            ));
        }
        names.push(name.to_owned());
        *off += 2 + len;
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), None);
        let m = Manifest {
            wal_from: 7,
            next_seq: 3,
            segments: vec!["a.seg".into(), "b.seg".into()],
            rollups: vec!["c.rup".into()],
        };
        m.store(dir.path()).unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), Some(m.clone()));
        let bytes = m.encode();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert!(Manifest::decode(&bad).is_err(), "flip at {i} undetected");
        }
        for cut in 0..bytes.len() {
            assert!(Manifest::decode(&bytes[..cut]).is_err());
        }
    }
}

#[cfg(test)]
mod v1_tests {
    use super::*;

    #[test]
    fn a_version_1_manifest_reads_as_a_store_without_rollups() {
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&VERSION_1.to_le_bytes());
        b.extend_from_slice(&5u64.to_le_bytes());
        b.extend_from_slice(&9u64.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&5u16.to_le_bytes());
        b.extend_from_slice(b"a.seg");
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        let m = Manifest::decode(&b).unwrap();
        assert_eq!(m.segments, vec!["a.seg".to_owned()]);
        assert!(m.rollups.is_empty());
        assert_eq!((m.wal_from, m.next_seq), (5, 9));
    }
}
