//! Committing a change to the set of live files: the one place the manifest and the read view
//! change together.
//!
//! Flushes append files; compactions replace a partition's files by their merge. Both write
//! their new files completely (fsynced, renamed into place) before calling [`commit`], which
//! under the manifest lock derives the new file lists from the view, stores the manifest
//! atomically and only then swaps the view. So a crash at any point leaves either the old or the
//! new manifest, each naming complete files; start-up deletes whatever the manifest does not name.

use super::{read, write, Shared};
use crate::error::EngineError;
use crate::rollup::file::RollupFile;
use crate::segment::Segment;
use std::path::Path;
use std::sync::{Arc, MutexGuard, PoisonError};

/// The live files, oldest commit first, as a commit sees and changes them.
pub(super) struct Files {
    pub(super) segments: Vec<Arc<Segment>>,
    pub(super) rollups: Vec<Arc<RollupFile>>,
}

/// What a commit also records besides the file lists.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CommitExtra {
    /// The first WAL file replay still needs (a flush moves it past what it wrote).
    pub(super) wal_from: Option<u64>,
    /// Whether the frozen head is now in files and leaves the view (a flush).
    pub(super) clear_frozen: bool,
}

/// Takes the next sequence number for a file name. Unused numbers (a flush that failed) leave
/// gaps, which is harmless: numbers only need to be unique.
pub(super) fn next_seq(shared: &Shared) -> u64 {
    let mut m = lock(shared);
    let seq = m.next_seq;
    m.next_seq += 1;
    seq
}

/// Applies `change` to the live files, stores the manifest and swaps the view.
pub(super) fn commit(
    shared: &Shared,
    extra: CommitExtra,
    change: impl FnOnce(&mut Files),
) -> Result<(), EngineError> {
    let mut manifest = lock(shared);
    let mut files = {
        let v = read(&shared.view);
        Files {
            segments: v.segments.as_ref().clone(),
            rollups: v.rollups.as_ref().clone(),
        }
    };
    change(&mut files);
    let mut next = manifest.clone();
    next.segments = files.segments.iter().map(|s| file_name(s.path())).collect();
    next.rollups = files.rollups.iter().map(|r| file_name(r.path())).collect();
    if let Some(w) = extra.wal_from {
        next.wal_from = w;
    }
    next.store(&shared.dir)?;
    *manifest = next;
    let mut v = write(&shared.view);
    v.segments = Arc::new(files.segments);
    v.rollups = Arc::new(files.rollups);
    if extra.clear_frozen {
        v.frozen = None;
    }
    Ok(())
}

/// Removes the elements `is_input` picks and puts `output` where the last of them was, so the
/// merge keeps the age of its newest input: files committed after the inputs stay newer.
pub(super) fn splice<T>(list: &mut Vec<T>, is_input: impl Fn(&T) -> bool, output: Option<T>) {
    let Some(last) = list.iter().rposition(&is_input) else {
        list.extend(output);
        return;
    };
    let mut out = Vec::with_capacity(list.len());
    let mut output = output;
    for (i, x) in std::mem::take(list).into_iter().enumerate() {
        if i == last {
            out.extend(output.take());
        } else if !is_input(&x) {
            out.push(x);
        }
    }
    *list = out;
}

fn lock(shared: &Shared) -> MutexGuard<'_, crate::manifest::Manifest> {
    shared
        .manifest
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::splice;

    #[test]
    fn splice_puts_the_merge_where_its_newest_input_was() {
        let mut v = vec![1, 20, 2, 30, 3, 40];
        splice(&mut v, |x| *x < 10, Some(9));
        assert_eq!(v, [20, 30, 9, 40]);
        let mut v = vec![1, 20];
        splice(&mut v, |x| *x < 10, None);
        assert_eq!(v, [20]);
        let mut v = vec![20];
        splice(&mut v, |x| *x < 10, Some(9));
        assert_eq!(v, [20, 9]);
    }
}
