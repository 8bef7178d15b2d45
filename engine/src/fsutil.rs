//! File-system steps every store file shares: atomic replace, directory fsync, quarantine.
//!
//! Crash safety in Tally rests on one protocol: write a new file under a temporary name, fsync
//! it, rename it into place, fsync the directory. A crash before the rename leaves only a
//! `*.tmp` file, which start-up deletes; a crash after it leaves the complete new file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Suffix of files being written; start-up removes any it finds.
pub const TMP_SUFFIX: &str = ".tmp";

/// Name of the folder, inside the data directory, that corrupt files are moved to.
pub const QUARANTINE_DIR: &str = "quarantine";

/// Fsyncs a directory so renames and creations inside it are durable.
pub fn fsync_dir(dir: &Path) -> io::Result<()> {
    // Directories cannot be fsynced on every platform; on Linux this is what makes a rename stick.
    match File::open(dir) {
        Ok(f) => f.sync_all().or_else(|e| {
            if e.kind() == io::ErrorKind::InvalidInput {
                Ok(())
            } else {
                Err(e)
            }
        }),
        Err(e) => Err(e),
    }
}

/// The temporary name `path` is written under before it is renamed into place.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(TMP_SUFFIX);
    PathBuf::from(s)
}

/// Writes `bytes` to `path` atomically: temp file, fsync, rename, directory fsync.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = tmp_path(path);
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    rename_durable(&tmp, path)
}

/// Renames `from` to `to` and fsyncs the destination directory.
pub fn rename_durable(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)?;
    match to.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => fsync_dir(dir),
        _ => fsync_dir(Path::new(".")),
    }
}

/// Moves a corrupt file into `<data_dir>/quarantine/` (keeping it for a person to inspect) and
/// returns its new path. The name gets a numeric suffix if one with that name is there already.
pub fn quarantine(data_dir: &Path, file: &Path) -> io::Result<PathBuf> {
    let qdir = data_dir.join(QUARANTINE_DIR);
    fs::create_dir_all(&qdir)?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "unnamed".to_owned());
    let mut dest = qdir.join(&name);
    let mut n = 1;
    while dest.exists() {
        dest = qdir.join(format!("{name}.{n}"));
        n += 1;
    }
    rename_durable(file, &dest)?;
    Ok(dest)
}

/// Removes every `*.tmp` file directly inside `dir` (left by a crash mid-write); returns them.
pub fn remove_tmp_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(TMP_SUFFIX))
        {
            fs::remove_file(&path)?;
            removed.push(path);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_and_quarantine() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bin");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert!(!tmp_path(&p).exists());
        fs::write(tmp_path(&p), b"torn").unwrap();
        assert_eq!(remove_tmp_files(dir.path()).unwrap().len(), 1);
        let q = quarantine(dir.path(), &p).unwrap();
        assert!(q.starts_with(dir.path().join(QUARANTINE_DIR)));
        assert!(!p.exists());
        write_atomic(&p, b"three").unwrap();
        let q2 = quarantine(dir.path(), &p).unwrap();
        assert_ne!(q, q2);
    }
}
