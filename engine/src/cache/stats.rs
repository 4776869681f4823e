//! Counters behind [`CacheStats`](super::CacheStats).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

/// A point-in-time view of the cache, for `DbStats` and for tuning the capacity.
///
/// Counters are read one by one without a global lock, so under concurrent traffic
/// they are individually exact but not a mutually consistent snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// The byte budget the cache was created with.
    pub capacity: u64,
    /// Bytes charged for resident blocks: block length plus a fixed per-entry overhead
    /// ([`ENTRY_OVERHEAD`](super::ENTRY_OVERHEAD)), so many tiny blocks cannot hide their
    /// bookkeeping from the budget.
    pub usage_bytes: u64,
    /// Resident blocks.
    pub entries: u64,
    /// Lookups (`get`, `get_or_load`) answered from the cache.
    pub hits: u64,
    /// Lookups that found nothing; every `get_or_load` miss ran its loader once.
    pub misses: u64,
    /// Blocks handed to the cache (`insert`, and `get_or_load` after a load).
    pub inserts: u64,
    /// Blocks dropped to make room, including blocks refused because a single block
    /// is larger than a shard's budget. `remove_file` does not count here.
    pub evictions: u64,
    /// Index and filter bytes held outside the cache by open tables, as reported by
    /// the engine through `add_pinned`; not part of `usage_bytes`.
    pub pinned_bytes: u64,
}

/// Aligned to its own cache line: every lookup bumps these, and they must not share a
/// line with the shard table pointer and hasher state that every lookup reads.
#[derive(Debug, Default)]
#[repr(align(64))]
pub(super) struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub inserts: AtomicU64,
    pub pinned: AtomicI64,
}

impl Counters {
    pub fn hit(&self) {
        self.hits.fetch_add(1, Relaxed);
    }

    pub fn miss(&self) {
        self.misses.fetch_add(1, Relaxed);
    }

    pub fn inserted(&self) {
        self.inserts.fetch_add(1, Relaxed);
    }

    pub fn add_pinned(&self, bytes: i64) {
        let after = self.pinned.fetch_add(bytes, Relaxed) + bytes;
        debug_assert!(
            after >= 0,
            "pinned bytes went negative ({after}): unbalanced add_pinned"
        );
    }

    pub fn pinned(&self) -> u64 {
        // A transiently negative sum (release reported before its acquire) reads as 0.
        self.pinned.load(Relaxed).max(0) as u64
    }
}
