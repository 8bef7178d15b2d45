//! [`BlockCache`]: decompressed blocks of immutable files, shared by every reader and bounded in
//! bytes.
//!
//! Why: a rollup read decompresses whole blocks (256 KiB raw) to use a few entries of them, and a
//! dashboard asks the same question again every few seconds, at the same partition edges. Files
//! never change once written, so a block decompressed once stays right for the file's lifetime.
//!
//! Invariants:
//! - Keys are (file id, block number). File ids come from [`BlockCache::file_id`], unique per
//!   opened file for the life of the process, so a compacted file's blocks can never be served
//!   for its replacement; blocks of deleted files age out under the byte bound.
//! - The cached bytes are exactly what the decompressor returned (checked by the caller before
//!   insertion); a failed load inserts nothing.

use quick_cache::sync::Cache;
use quick_cache::Weighter;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A decompressed block, shared by the cache and the reads using it.
pub type Block = Arc<Vec<u8>>;

/// Decompressed blocks keyed by (file id, block number).
pub struct BlockCache {
    inner: Option<Cache<(u64, u32), Block, ByLength>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug, Clone, Copy)]
struct ByLength;

impl Weighter<(u64, u32), Block> for ByLength {
    fn weight(&self, _: &(u64, u32), block: &Block) -> u64 {
        // Zero-weight items would never be evicted; count the key and Arc too.
        block.len() as u64 + 32
    }
}

impl fmt::Debug for BlockCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockCache")
            .field("capacity", &self.capacity())
            .field("hits", &self.hits.load(Ordering::Relaxed))
            .field("misses", &self.misses.load(Ordering::Relaxed))
            .finish()
    }
}

/// Hits and misses of a [`BlockCache`] since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Reads served from the cache.
    pub hits: u64,
    /// Reads that had to decompress.
    pub misses: u64,
    /// Bytes held now.
    pub bytes: u64,
}

impl BlockCache {
    /// A cache holding at most `capacity_bytes` of blocks; 0 disables it (every read
    /// decompresses).
    pub fn new(capacity_bytes: u64) -> Self {
        let inner = (capacity_bytes > 0).then(|| {
            // Estimated count: blocks average well under their 256 KiB limit.
            let items = usize::try_from(capacity_bytes / (64 << 10)).unwrap_or(usize::MAX);
            Cache::with_weighter(items.max(16), capacity_bytes, ByLength)
        });
        BlockCache {
            inner,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// A new id for a file being opened.
    pub fn file_id() -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }

    /// The most bytes it holds.
    pub fn capacity(&self) -> u64 {
        self.inner.as_ref().map_or(0, Cache::capacity)
    }

    /// Block `block` of file `file`: from the cache, or from `load` (then kept).
    pub fn get_or_load<E>(
        &self,
        file: u64,
        block: u32,
        load: impl FnOnce() -> Result<Vec<u8>, E>,
    ) -> Result<Block, E> {
        let Some(cache) = &self.inner else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return load().map(Arc::new);
        };
        let mut loaded = false;
        let out = cache.get_or_insert_with(&(file, block), || {
            loaded = true;
            load().map(Arc::new)
        });
        let counter = if loaded { &self.misses } else { &self.hits };
        counter.fetch_add(1, Ordering::Relaxed);
        out
    }

    /// Hits, misses and bytes held.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            bytes: self.inner.as_ref().map_or(0, Cache::weight),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_a_block_once_loaded_and_stays_within_its_bound() {
        let c = BlockCache::new(10_000);
        let (a, b) = (BlockCache::file_id(), BlockCache::file_id());
        assert_ne!(a, b);
        let got = c.get_or_load(a, 0, || Ok::<_, ()>(vec![1; 100])).unwrap();
        assert_eq!(got.len(), 100);
        let again = c
            .get_or_load(a, 0, || -> Result<Vec<u8>, ()> { panic!("must be cached") })
            .unwrap();
        assert_eq!(again[..], got[..]);
        // Another file's block 0 is another block.
        assert_eq!(
            c.get_or_load(b, 0, || Ok::<_, ()>(vec![2; 10])).unwrap()[0],
            2
        );
        for i in 1..200 {
            c.get_or_load(a, i, || Ok::<_, ()>(vec![0; 1000])).unwrap();
        }
        let s = c.stats();
        assert!(s.bytes <= 10_000, "{s:?}");
        assert_eq!((s.hits, s.misses), (1, 201));
    }

    #[test]
    fn a_failed_load_caches_nothing_and_zero_capacity_disables() {
        let c = BlockCache::new(10_000);
        assert_eq!(c.get_or_load(1, 0, || Err::<Vec<u8>, _>("bad")), Err("bad"));
        assert_eq!(
            c.get_or_load(1, 0, || Ok::<_, ()>(vec![7])).unwrap()[..],
            [7]
        );
        let off = BlockCache::new(0);
        assert_eq!(off.capacity(), 0);
        off.get_or_load(1, 0, || Ok::<_, ()>(vec![7])).unwrap();
        off.get_or_load(1, 0, || Ok::<_, ()>(vec![7])).unwrap();
        assert_eq!(off.stats().misses, 2);
    }
}
