//! Write-ahead log: every accepted batch is appended here, with a length and a CRC32, before the
//! write is acknowledged; start-up replays it into the head.
//!
//! # What is on disk
//! `<data>/wal/` holds files named by a zero-padded number, `00000000000000000001.wal` upward.
//! Each is a 24-byte header (magic `TALLYWAL`, format version, file number, header CRC) followed
//! by records (`len:u32 crc32:u32 kind:u8 payload`, little-endian). See [`format`] and the WAL
//! section of `docs/format.md`.
//!
//! # Invariants
//! - Records are appended by one writer, only to the highest-numbered file. Every other file was
//!   fsynced before the next one was created and is never written again.
//! - A file appears under its `.wal` name only complete with its header and fsynced: it is
//!   written as `.wal.tmp`, fsynced, renamed and the directory fsynced. A header is therefore
//!   never torn by a crash, and a bad header means damage: the file is quarantined.
//! - Opening replays, then starts a NEW file, so a tail cut off by replay is never followed by new
//!   records in the same file.
//! - After [`Wal::rotate`] returns `n`, every record appended before it is in a file numbered
//!   below `n`. Files below the number the caller passes to [`Wal::open`] are covered by segments
//!   and are deleted.
//! - Bytes past the last complete record of the current file are never left by a failed append:
//!   the file is cut back to the previous end, and if even that fails the `Wal` is poisoned and
//!   refuses further appends.
//!
//! # What a crash leaves behind
//! - During an append: a prefix of the group's bytes at the end of the last file (a torn
//!   record), or file-system-allocated zeros. Replay keeps every whole record before it, cuts the
//!   file there (`set_len` + fsync) and logs it. The unfinished group was never acknowledged.
//! - During a rotation: the old file is complete and fsynced; a `.wal.tmp` left behind is deleted.
//! - During [`Wal::remove_before`]: some redundant files remain; the next open deletes them
//!   because they are numbered below `from_file`.

mod format;
mod replay;
#[cfg(test)]
mod tests;

pub use format::{FORMAT_VERSION, HEADER_LEN, KIND_WRITE_BATCH, MAGIC, MAX_PAYLOAD_BYTES};

use crate::fsutil::{self, fsync_dir, tmp_path};
use crate::options::SyncPolicy;
use format::{encode_header, encode_record, file_name, parse_file_name, HeaderProblem};
use replay::{scan, BadTail, BoxError, ScanError, TailKind};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use thiserror::Error;

/// Default size past which the current file is closed and a new one started.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 << 20;

/// A WAL failure.
#[derive(Debug, Error)]
pub enum WalError {
    /// A file-system call failed.
    #[error("wal {op} {path}: {source}")]
    Io {
        /// Operation.
        op: &'static str,
        /// File.
        path: PathBuf,
        /// OS error.
        source: io::Error,
    },
    /// The replay callback refused a record.
    #[error("replaying the wal record at byte {offset} of {path}: {source}")]
    Replay {
        /// The WAL file.
        path: PathBuf,
        /// Offset of the record's frame in the file.
        offset: u64,
        /// The callback's error.
        source: BoxError,
    },
    /// A WAL file written by a newer Tally.
    #[error("wal file {path} has format version {version}; this build reads versions up to {supported}. Run the newer tally that wrote it (or move the file aside to start without its data)")]
    NewerVersion {
        /// The file.
        path: PathBuf,
        /// Its format version.
        version: u16,
        /// Newest version this build reads.
        supported: u16,
    },
    /// A payload over [`MAX_PAYLOAD_BYTES`].
    #[error("a wal record of {len} bytes is over the {max}-byte limit; write the points in smaller batches")]
    RecordTooLarge {
        /// Payload bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Kind 0 is reserved.
    #[error("wal record kind 0 is reserved; use a kind from 1 to 255")]
    ReservedKind,
    /// An earlier write or fsync failed in a way that leaves the file's state unknown.
    #[error("the wal refuses writes after an earlier failure ({0}); fix the disk and restart tally, which replays everything that was acknowledged")]
    Poisoned(String),
    /// File numbers ran out (after 2^64 rotations; a damaged file name is more likely).
    #[error(
        "wal file numbers are exhausted in {0}; move the wal files with the highest numbers aside"
    )]
    NumbersExhausted(PathBuf),
}

impl WalError {
    fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        WalError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// WAL settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalOptions {
    /// When appends are fsynced.
    pub sync: SyncPolicy,
    /// The current file is closed and a new one started once it reaches this size.
    pub max_file_bytes: u64,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            sync: SyncPolicy::default(),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }
}

/// What [`Wal::open`] replayed and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Records handed to the callback.
    pub records: u64,
    /// Files replayed (quarantined ones not counted).
    pub files: u64,
    /// Files whose torn or corrupt tail was cut off: (file, bytes kept, reason).
    pub truncated: Vec<(PathBuf, u64, String)>,
    /// Files with a bad header, moved to the quarantine folder: (original path, new path, reason).
    pub quarantined: Vec<(PathBuf, PathBuf, String)>,
}

/// The WAL writer. Owned by the single writer thread.
///
/// ```no_run
/// use tally_engine::wal::{Wal, WalOptions, KIND_WRITE_BATCH};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (mut wal, report) = Wal::open(
///     std::path::Path::new("data/wal"),
///     0,
///     WalOptions::default(),
///     |_file, _kind, _payload| Ok::<(), std::io::Error>(()),
/// )?;
/// println!("replayed {} records", report.records);
/// wal.append(KIND_WRITE_BATCH, &[b"batch one", b"batch two"])?;
/// # Ok(()) }
/// ```
pub struct Wal {
    dir: PathBuf,
    opts: WalOptions,
    file: File,
    file_no: u64,
    path: PathBuf,
    /// End of the last complete record in the current file; the file's cursor sits here.
    len: u64,
    /// Closed files still on disk: number -> bytes.
    closed: BTreeMap<u64, u64>,
    closed_bytes: u64,
    /// Bytes written since the last fsync.
    dirty: bool,
    last_sync: Instant,
    /// Why writes are refused, after a failure that left the file's state unknown.
    poisoned: Option<String>,
    /// The encoded group, reused between appends.
    buf: Vec<u8>,
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wal")
            .field("path", &self.path)
            .field("len", &self.len)
            .field("closed_files", &self.closed.len())
            .field("dirty", &self.dirty)
            .field("poisoned", &self.poisoned)
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl Wal {
    /// Opens the WAL in `dir` (creating it), first replaying every record of files numbered
    /// `>= from_file`, in order, into `f(file_no, kind, payload)`.
    ///
    /// A torn or corrupt tail is cut off and logged, a file with a bad header is quarantined
    /// (into `<parent of dir>/quarantine/`); neither is an error. Files numbered below
    /// `from_file` are deleted: the caller's segments cover them. The writer starts on a new file
    /// numbered after every existing one and at least `from_file`.
    ///
    /// Errors: I/O failures, a file from a newer format version, and the first error `f` returns
    /// ([`WalError::Replay`], after which nothing more is replayed and no file is deleted).
    pub fn open<E>(
        dir: &Path,
        from_file: u64,
        opts: WalOptions,
        mut f: impl FnMut(u64, u8, &[u8]) -> Result<(), E>,
    ) -> Result<(Wal, ReplayReport), WalError>
    where
        E: Into<BoxError>,
    {
        fs::create_dir_all(dir).map_err(|e| WalError::io("create directory", dir, e))?;
        let data_dir = data_dir_of(dir);
        fsync_dir(&data_dir).map_err(|e| WalError::io("fsync directory", &data_dir, e))?;
        for tmp in fsutil::remove_tmp_files(dir).map_err(|e| WalError::io("clean", dir, e))? {
            tracing::info!(file = %tmp.display(), "wal: removed {} left by an interrupted file creation", tmp.display());
        }
        let files = list_files(dir)?;

        let mut report = ReplayReport::default();
        let mut closed = BTreeMap::new();
        let last_replayed = files
            .iter()
            .rev()
            .find(|(no, _)| *no >= from_file)
            .map(|f| f.0);
        for (no, path) in files.iter().filter(|(no, _)| *no >= from_file) {
            let is_last = Some(*no) == last_replayed;
            if let Some(kept) = replay_file(&data_dir, *no, path, is_last, &mut report, &mut f)? {
                closed.insert(*no, kept);
            }
        }

        let old: Vec<&PathBuf> = files
            .iter()
            .filter(|(no, _)| *no < from_file)
            .map(|(_, p)| p)
            .collect();
        for path in &old {
            remove_if_present(path)?;
        }
        if !old.is_empty() {
            fsync_dir(dir).map_err(|e| WalError::io("fsync directory", dir, e))?;
            tracing::info!(
                files = old.len(),
                "wal: deleted {} files below number {from_file}, already in segments",
                old.len()
            );
        }

        let next = match files.last() {
            Some((no, _)) => no
                .checked_add(1)
                .ok_or_else(|| WalError::NumbersExhausted(dir.to_owned()))?,
            None => 1,
        }
        .max(from_file)
        .max(1);
        let (file, path) = create_file(dir, next)?;
        let closed_bytes = closed.values().sum();
        let wal = Wal {
            dir: dir.to_owned(),
            opts,
            file,
            file_no: next,
            path,
            len: HEADER_LEN as u64,
            closed,
            closed_bytes,
            dirty: false,
            last_sync: Instant::now(),
            poisoned: None,
            buf: Vec::new(),
        };
        Ok((wal, report))
    }

    /// Appends one record of `kind` per payload, as one write, then fsyncs per the policy (group
    /// commit: one fsync covers the whole group). Returns once the records are durable under the
    /// policy. On error nothing of the group is left in the file, or the `Wal` is poisoned.
    pub fn append(&mut self, kind: u8, payloads: &[&[u8]]) -> Result<(), WalError> {
        self.check_poisoned()?;
        if kind == format::KIND_RESERVED {
            return Err(WalError::ReservedKind);
        }
        if let Some(p) = payloads.iter().find(|p| p.len() > MAX_PAYLOAD_BYTES) {
            return Err(WalError::RecordTooLarge {
                len: p.len(),
                max: MAX_PAYLOAD_BYTES,
            });
        }
        if payloads.is_empty() {
            return Ok(());
        }
        // Rotating before the write keeps a rotation failure from turning a durable append into
        // a reported error.
        if self.len >= self.opts.max_file_bytes {
            self.rotate()?;
        }

        self.buf.clear();
        for p in payloads {
            encode_record(&mut self.buf, kind, p);
        }
        let before = self.len;
        if let Err(e) = self.file.write_all(&self.buf) {
            self.cut_back(before, "write failed");
            return Err(WalError::io("write", &self.path, e));
        }
        self.len += self.buf.len() as u64;
        self.dirty = true;
        if self.buf.capacity() > 16 << 20 {
            self.buf = Vec::new();
        }

        let due = match self.opts.sync {
            SyncPolicy::EveryBatch => true,
            SyncPolicy::Interval(d) => self.last_sync.elapsed() >= d,
        };
        if due {
            if let Err(e) = self.sync() {
                // Not acknowledged, so take it back; the Wal stays poisoned either way.
                self.cut_back(before, "fsync failed");
                return Err(e);
            }
        }
        Ok(())
    }

    /// Fsyncs the current file now, if anything was written since the last fsync.
    ///
    /// A failed fsync poisons the `Wal`: after one, the kernel may have dropped the unwritten
    /// pages, so nothing written since the last good fsync can be trusted, and retrying would
    /// falsely report success.
    pub fn sync(&mut self) -> Result<(), WalError> {
        self.check_poisoned()?;
        if !self.dirty {
            return Ok(());
        }
        if let Err(e) = self.file.sync_data() {
            self.poisoned = Some(format!("fsync of {} failed: {e}", self.path.display()));
            return Err(WalError::io("fsync", &self.path, e));
        }
        self.dirty = false;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Fsyncs if the [`SyncPolicy::Interval`] has passed since the last fsync and anything is
    /// unsynced. Call it from a timer tick so a quiet WAL still becomes durable.
    pub fn sync_if_due(&mut self) -> Result<(), WalError> {
        let due = match self.opts.sync {
            SyncPolicy::EveryBatch => true,
            SyncPolicy::Interval(d) => self.last_sync.elapsed() >= d,
        };
        if due && self.dirty {
            self.sync()
        } else {
            Ok(())
        }
    }

    /// Fsyncs the current file, and starts a new one if the current one holds any record.
    /// Returns the number of the file appends now go to: every record appended before is in a
    /// file numbered below it.
    pub fn rotate(&mut self) -> Result<u64, WalError> {
        self.check_poisoned()?;
        if self.len == HEADER_LEN as u64 {
            // Nothing in it, so the invariant already holds; skip creating an empty file.
            return Ok(self.file_no);
        }
        self.sync()?;
        let next = self
            .file_no
            .checked_add(1)
            .ok_or_else(|| WalError::NumbersExhausted(self.dir.clone()))?;
        let (file, path) = create_file(&self.dir, next)?;
        self.closed.insert(self.file_no, self.len);
        self.closed_bytes += self.len;
        self.file = file;
        self.path = path;
        self.file_no = next;
        self.len = HEADER_LEN as u64;
        self.dirty = false;
        Ok(next)
    }

    /// Deletes the files numbered below `file_no` (a flush made them redundant) and fsyncs the
    /// directory. The current file is never deleted.
    ///
    /// The caller must first make durable whatever tells the next [`Wal::open`] to start at
    /// `file_no`, so a crash in between cannot lose data.
    pub fn remove_before(&mut self, file_no: u64) -> Result<(), WalError> {
        let doomed: Vec<u64> = self
            .closed
            .range(..file_no.min(self.file_no))
            .map(|(no, _)| *no)
            .collect();
        for no in &doomed {
            remove_if_present(&self.dir.join(file_name(*no)))?;
            if let Some(len) = self.closed.remove(no) {
                self.closed_bytes -= len;
            }
        }
        if !doomed.is_empty() {
            fsync_dir(&self.dir).map_err(|e| WalError::io("fsync directory", &self.dir, e))?;
        }
        Ok(())
    }

    /// Number of the file appends go to.
    pub fn current_file(&self) -> u64 {
        self.file_no
    }

    /// Bytes of all WAL files on disk.
    pub fn size_bytes(&self) -> u64 {
        self.closed_bytes + self.len
    }

    fn check_poisoned(&self) -> Result<(), WalError> {
        match &self.poisoned {
            Some(why) => Err(WalError::Poisoned(why.clone())),
            None => Ok(()),
        }
    }

    /// Cuts the current file back to `end` after a failed append, so no half group stays behind
    /// to be replayed; poisons the `Wal` if that fails too.
    fn cut_back(&mut self, end: u64, what: &str) {
        let res = self
            .file
            .set_len(end)
            .and_then(|()| self.file.seek(SeekFrom::Start(end)).map(|_| ()));
        self.len = end;
        if let Err(e) = res {
            tracing::error!(file = %self.path.display(), offset = end, error = %e,
                "wal: {what} and cutting {} back to byte {end} failed too: {e}; refusing further writes",
                self.path.display());
            self.poisoned.get_or_insert_with(|| {
                format!(
                    "{what} and cutting {} back to byte {end} failed: {e}",
                    self.path.display()
                )
            });
        }
    }

    /// Replaces the file handle; lets tests provoke write failures.
    #[cfg(test)]
    fn replace_file_for_test(&mut self, file: File) {
        self.file = file;
    }

    #[cfg(test)]
    fn is_dirty(&self) -> bool {
        self.dirty
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        // Best effort for the interval policy; a caller that needs the result calls sync().
        if self.dirty && self.poisoned.is_none() {
            if let Err(e) = self.file.sync_data() {
                tracing::error!(file = %self.path.display(), error = %e, "wal: fsync on close failed: {e}");
            }
        }
    }
}

/// The data directory a WAL directory sits in: where the quarantine folder goes.
fn data_dir_of(dir: &Path) -> PathBuf {
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// The WAL files in `dir`, sorted by number. Other names are left alone.
fn list_files(dir: &Path) -> Result<Vec<(u64, PathBuf)>, WalError> {
    let mut files = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| WalError::io("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| WalError::io("list", dir, e))?;
        let name = entry.file_name();
        match name.to_str().and_then(parse_file_name) {
            Some(no) => files.push((no, entry.path())),
            None => {
                tracing::debug!(file = %entry.path().display(), "wal: ignoring a file that is not a wal file")
            }
        }
    }
    files.sort_unstable_by_key(|f| f.0);
    Ok(files)
}

/// Creates WAL file `no` complete with its header, durably, and returns it open for appending.
fn create_file(dir: &Path, no: u64) -> Result<(File, PathBuf), WalError> {
    let path = dir.join(file_name(no));
    let tmp = tmp_path(&path);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| WalError::io("create", &tmp, e))?;
    file.write_all(&encode_header(no))
        .map_err(|e| WalError::io("write", &tmp, e))?;
    file.sync_all()
        .map_err(|e| WalError::io("fsync", &tmp, e))?;
    fsutil::rename_durable(&tmp, &path).map_err(|e| WalError::io("rename", &tmp, e))?;
    Ok((file, path))
}

fn remove_if_present(path: &Path) -> Result<(), WalError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(WalError::io("delete", path, e)),
        _ => Ok(()),
    }
}

/// Replays one file into `f`, repairing it. Returns the file's length afterwards, or `None` if it
/// was quarantined.
fn replay_file<E: Into<BoxError>>(
    data_dir: &Path,
    no: u64,
    path: &Path,
    is_last: bool,
    report: &mut ReplayReport,
    f: &mut impl FnMut(u64, u8, &[u8]) -> Result<(), E>,
) -> Result<Option<u64>, WalError> {
    let file = File::open(path).map_err(|e| WalError::io("open", path, e))?;
    let file_len = file
        .metadata()
        .map_err(|e| WalError::io("stat", path, e))?
        .len();
    let mut reader = BufReader::with_capacity(256 << 10, file);
    let outcome = scan(&mut reader, file_len, no, &mut |kind, payload| {
        f(no, kind, payload).map_err(Into::into)
    });
    drop(reader);
    let scanned = match outcome {
        Ok(s) => s,
        Err(ScanError::Io(e)) => return Err(WalError::io("read", path, e)),
        Err(ScanError::Callback { offset, source }) => {
            return Err(WalError::Replay {
                path: path.to_owned(),
                offset,
                source,
            })
        }
        Err(ScanError::Header(HeaderProblem::NewerVersion(version))) => {
            return Err(WalError::NewerVersion {
                path: path.to_owned(),
                version,
                supported: FORMAT_VERSION,
            })
        }
        Err(ScanError::Header(HeaderProblem::Corrupt(reason))) => {
            let moved = fsutil::quarantine(data_dir, path)
                .map_err(|e| WalError::io("quarantine", path, e))?;
            tracing::error!(file = %path.display(), moved_to = %moved.display(), reason = %reason,
                "wal: {} has a bad header ({reason}); moved it to {} and replaying the other files",
                path.display(), moved.display());
            report
                .quarantined
                .push((path.to_owned(), moved, format!("bad wal header: {reason}")));
            return Ok(None);
        }
    };
    report.records += scanned.records;
    report.files += 1;
    match scanned.bad {
        None => Ok(Some(file_len)),
        Some(bad) => {
            cut_tail(
                data_dir,
                path,
                scanned.good_len,
                file_len,
                &bad,
                is_last,
                report,
            )?;
            Ok(Some(scanned.good_len))
        }
    }
}

/// Cuts a file after its last good record, logs it and notes it in the report. Dropped bytes
/// that may hold records (damage, or a tear in a file that is not the last) are first copied to
/// the quarantine folder for a person to inspect; that copy is best effort.
fn cut_tail(
    data_dir: &Path,
    path: &Path,
    good_len: u64,
    file_len: u64,
    bad: &BadTail,
    is_last: bool,
    report: &mut ReplayReport,
) -> Result<(), WalError> {
    let dropped = file_len - good_len;
    let keep_copy = match bad.kind {
        TailKind::Zeroed => false,
        TailKind::Torn => !is_last,
        TailKind::Damaged => true,
    };
    let copy = if keep_copy {
        match save_tail(data_dir, path, good_len) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e,
                    "wal: could not keep a copy of the dropped bytes of {}: {e}", path.display());
                None
            }
        }
    } else {
        None
    };
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| WalError::io("open", path, e))?;
    file.set_len(good_len)
        .map_err(|e| WalError::io("truncate", path, e))?;
    file.sync_all()
        .map_err(|e| WalError::io("fsync", path, e))?;

    let mut reason = format!("{}; {dropped} bytes dropped", bad.reason);
    if let Some(c) = &copy {
        reason.push_str(&format!(", copy kept at {}", c.display()));
    }
    if is_last {
        tracing::warn!(file = %path.display(), offset = good_len, dropped_bytes = dropped, reason = %bad.reason,
            "wal: cut {} at byte {good_len}: {reason}", path.display());
    } else {
        tracing::error!(file = %path.display(), offset = good_len, dropped_bytes = dropped, reason = %bad.reason,
            "wal: {} is not the last wal file but is damaged at byte {good_len}: {reason}; the records after that point in this file are lost, replay continues with the next file",
            path.display());
    }
    report.truncated.push((path.to_owned(), good_len, reason));
    Ok(())
}

/// Copies the bytes of `path` from `from` to its end into the quarantine folder.
fn save_tail(data_dir: &Path, path: &Path, from: u64) -> io::Result<PathBuf> {
    let qdir = data_dir.join(fsutil::QUARANTINE_DIR);
    fs::create_dir_all(&qdir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "wal".to_owned());
    let dest = qdir.join(format!("{name}.dropped-at-{from}"));
    let tmp = tmp_path(&dest);
    let mut src = File::open(path)?;
    src.seek(SeekFrom::Start(from))?;
    let mut out = File::create(&tmp)?;
    io::copy(&mut src, &mut out)?;
    out.sync_all()?;
    fsutil::rename_durable(&tmp, &dest)?;
    Ok(dest)
}
