//! The store's files as the tests see them from outside, and ways to damage them.
//!
//! Layout assumed (see `docs/format.md`): WAL files under `<data>/wal/`, segment files under
//! `<data>/segments/`, corrupt files moved to `<data>/quarantine/`.

use anyhow::{bail, Context, Result};
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Every regular file below `dir` (recursively), sorted by path; empty if `dir` does not exist.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if dir.is_dir() {
        walk(dir, &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

fn data_files(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    Ok(files_under(dir)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect())
}

/// The segment files (`*.seg`) of the store in `data_dir`, sorted by path.
pub fn segment_files(data_dir: &Path) -> Result<Vec<PathBuf>> {
    data_files(&data_dir.join("segments"), "seg")
}

/// The WAL files (`*.wal`) of the store in `data_dir`, sorted by path (oldest first: names
/// carry a zero-padded sequence number).
pub fn wal_files(data_dir: &Path) -> Result<Vec<PathBuf>> {
    data_files(&data_dir.join("wal"), "wal")
}

/// The last of `files` by path that is not empty.
pub fn newest_file(files: &[PathBuf]) -> Option<PathBuf> {
    files
        .iter()
        .rev()
        .find(|p| fs::metadata(p).is_ok_and(|m| m.len() > 0))
        .cloned()
}

/// Inverts every bit of the byte at `offset` in `path`.
pub fn corrupt_byte(path: &Path, offset: u64) -> Result<()> {
    let len = fs::metadata(path)
        .with_context(|| format!("stat {}", path.display()))?
        .len();
    if offset >= len {
        bail!(
            "offset {offset} is past the end of {} ({len} bytes)",
            path.display()
        );
    }
    let mut f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let mut b = [0u8; 1];
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(&mut b)?;
    b[0] ^= 0xFF;
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(&b)?;
    f.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_corrupts() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("segments/p1")).unwrap();
        fs::create_dir_all(d.join("wal")).unwrap();
        fs::write(d.join("segments/p1/b.seg"), b"abc").unwrap();
        fs::write(d.join("segments/a.seg"), b"x").unwrap();
        fs::write(d.join("segments/a.seg.tmp"), b"x").unwrap();
        fs::write(d.join("wal/0001.wal"), b"12").unwrap();
        fs::write(d.join("wal/0002.wal"), b"").unwrap();
        let segs = segment_files(d).unwrap();
        assert_eq!(
            segs,
            vec![d.join("segments/a.seg"), d.join("segments/p1/b.seg")]
        );
        let wals = wal_files(d).unwrap();
        assert_eq!(wals.len(), 2);
        assert_eq!(newest_file(&wals), Some(d.join("wal/0001.wal")));
        corrupt_byte(&segs[1], 1).unwrap();
        assert_eq!(fs::read(&segs[1]).unwrap(), [b'a', !b'b', b'c']);
        assert!(corrupt_byte(&segs[1], 3).is_err());
    }
}
