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

/// Writes `bytes` to `path` atomically: temp file, fsync, rename, directory fsync. On failure
/// the temp file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, bytes, |_, _, e| e)
}

/// [`write_atomic`] for callers whose errors say which step failed: `err(op, file, source)`
/// builds the error, with `op` one of `"create"`, `"write"`, `"fsync"` (on the temp file) or
/// `"rename into place"` (on `path`).
pub(crate) fn write_atomic_with<E>(
    path: &Path,
    bytes: &[u8],
    err: impl Fn(&'static str, &Path, io::Error) -> E,
) -> Result<(), E> {
    let tmp = tmp_path(path);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| err("create", &tmp, e))?;
        f.write_all(bytes).map_err(|e| err("write", &tmp, e))?;
        f.sync_all().map_err(|e| err("fsync", &tmp, e))?;
        drop(f);
        rename_durable(&tmp, path).map_err(|e| err("rename into place", path, e))
    })();
    if result.is_err() {
        // Best effort: start-up removes leftover temp files anyway.
        let _ = fs::remove_file(&tmp);
    }
    result
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

    #[test]
    fn failed_atomic_write_names_the_step_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let label = |op: &'static str, p: &Path, _: io::Error| (op, p.to_path_buf());
        let missing = dir.path().join("no-such-dir").join("a.bin");
        let got = write_atomic_with(&missing, b"x", label).unwrap_err();
        assert_eq!(got, ("create", tmp_path(&missing)));
        // Renaming a file over a non-empty directory fails after the temp file is written.
        let taken = dir.path().join("taken");
        fs::create_dir(&taken).unwrap();
        fs::write(taken.join("inside"), b"keep").unwrap();
        let got = write_atomic_with(&taken, b"x", label).unwrap_err();
        assert_eq!(got, ("rename into place", taken.clone()));
        assert!(!tmp_path(&taken).exists());
        assert!(write_atomic(&taken, b"x").is_err());
    }
}
