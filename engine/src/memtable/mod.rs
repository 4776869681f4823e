//! The memtable: a concurrent skiplist of internal keys.
//!
//! Entries are ordered as internal keys ([`crate::key::compare_internal`]), so one skiplist
//! holds every version of a key, newest first, and a read at snapshot `s` is a single
//! `lower_bound`.
//! Only the write-group leader inserts, but readers and the flush thread iterate concurrently,
//! which is why this is a lock-free skiplist rather than a `BTreeMap` behind a lock.
//! Beside it, a hash index of each user key's newest entry (`index.rs`) answers point reads
//! that see that entry, hits and misses alike, without a skiplist search.

use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

use crossbeam_skiplist::SkipMap;

use crate::key::{self, Kind, SeqNo};

mod arena;
mod entry;
mod index;
mod iter;

use arena::Arena;
use entry::{EntryKey, MemKey, Probe};
use index::{PointIndex, Probed};
pub use iter::MemtableIter;

/// Per-entry bookkeeping beyond the counted key and value bytes (skiplist node and tower
/// with the entry's inline key head, the point index's slot, allocator rounding), used
/// only for the flush trigger. Measured with `examples/point_ops.rs`: 1M entries of
/// 16 + 100 B took ~274 MB of resident memory, ~150 B per entry beyond the 124 B counted
/// (~171 B when each entry was its own `Arc` allocation, before the arena); plus 16 B since
/// the inline key head grew from 16 to 32 bytes (`entry.rs`).
const ENTRY_OVERHEAD: usize = 168;

/// What a point lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The newest visible entry is a value.
    Value(Vec<u8>),
    /// The newest visible entry is a value with an expiry (unix ms); once the clock reaches
    /// it, it is a tombstone. Older layers must not be consulted either way.
    Expiring { expires_at_ms: u64, value: Vec<u8> },
    /// The newest visible entry is a tombstone: older layers must not be consulted.
    Deleted,
}

impl Lookup {
    /// Interprets a stored entry; `None` for an unknown kind or an expiring value without
    /// its expiry prefix (callers reading from disk report that as corruption).
    pub fn from_entry(kind: u8, mut stored: Vec<u8>) -> Option<Lookup> {
        Some(match Kind::from_u8(kind)? {
            Kind::Delete => Lookup::Deleted,
            Kind::Put => Lookup::Value(stored),
            Kind::PutExpiring => {
                let (expires_at_ms, _) = key::split_expiring(&stored)?;
                stored.drain(..key::EXPIRY_LEN);
                Lookup::Expiring {
                    expires_at_ms,
                    value: stored,
                }
            }
        })
    }

    /// The value and its expiry as a reader at `now_ms` sees it: `None` if deleted or expired.
    pub fn live(self, now_ms: u64) -> Option<(Vec<u8>, Option<u64>)> {
        self.live_with(|| now_ms)
    }

    /// Like [`Lookup::live`], asking the clock only for an expiring entry: reading the
    /// system clock on every point read is a measurable share of a cached read.
    pub fn live_with(self, now_ms: impl FnOnce() -> u64) -> Option<(Vec<u8>, Option<u64>)> {
        match self {
            Lookup::Value(v) => Some((v, None)),
            Lookup::Expiring {
                expires_at_ms,
                value,
            } => (!is_expired(expires_at_ms, now_ms())).then_some((value, Some(expires_at_ms))),
            Lookup::Deleted => None,
        }
    }
}

/// The lookup result of an entry. Entries come from validated batches, so the kind and any
/// expiry prefix are sound; reading one that is not as deleted keeps this path panic-free
/// regardless.
fn to_lookup(kind: u8, value: &[u8]) -> Lookup {
    let l = Lookup::from_entry(kind, value.to_vec());
    debug_assert!(l.is_some(), "malformed memtable entry");
    l.unwrap_or(Lookup::Deleted)
}

/// An entry expiring at `expires_at_ms` is gone from that millisecond on.
#[inline]
pub fn is_expired(expires_at_ms: u64, now_ms: u64) -> bool {
    now_ms >= expires_at_ms
}

/// An in-memory sorted buffer of recent writes, backed by one WAL segment.
///
/// The skiplist holds every version in internal-key order (iterators, flush, reads at old
/// snapshots); the point index maps each user key to its newest entry, which answers most
/// point reads with one hash probe (see `index.rs`).
#[derive(Debug)]
pub struct Memtable {
    // The skiplist and the index hold views into `arena` (dropping them reads none).
    map: SkipMap<MemKey, ()>,
    index: PointIndex,
    arena: Arena,
    bytes: AtomicUsize,
    wal_number: u64,
}

impl Memtable {
    /// A memtable whose writes are logged in WAL segment `wal_number`.
    pub fn new(wal_number: u64) -> Self {
        Memtable {
            map: SkipMap::new(),
            index: PointIndex::new(),
            arena: Arena::default(),
            bytes: AtomicUsize::new(0),
            wal_number,
        }
    }

    /// The WAL segment that holds this memtable's writes.
    pub fn wal_number(&self) -> u64 {
        self.wal_number
    }

    /// Inserts one entry. Seqnos are unique, so an existing key is never overwritten.
    /// Entries must be inserted in seqno order (the write path and recovery do), which is
    /// what keeps the point index's newest entry per key exact.
    pub fn insert(&self, user_key: &[u8], seq: SeqNo, kind: u8, value: &[u8]) {
        let e = MemKey::new(&self.arena, user_key, key::pack_trailer(seq, kind), value);
        self.bytes
            .fetch_add(e.encoded_len() + ENTRY_OVERHEAD, AtomicOrdering::Relaxed);
        self.map.insert(e, ());
        self.index.insert(&e);
    }

    /// The newest entry of `user_key` with seqno `<= snapshot`, if any.
    pub fn get(&self, user_key: &[u8], snapshot: SeqNo) -> Option<Lookup> {
        match self
            .index
            .probe(user_key, snapshot, |e| to_lookup(e.kind(), e.value()))
        {
            Probed::Absent => None,
            Probed::Newest(l) => Some(l),
            Probed::TooNew => self.get_in_skiplist(user_key, snapshot),
        }
    }

    /// [`Memtable::get`] by a skiplist search: reads at a snapshot older than the key's
    /// newest entry.
    fn get_in_skiplist(&self, user_key: &[u8], snapshot: SeqNo) -> Option<Lookup> {
        let probe = Probe::new(user_key, key::pack_trailer(snapshot, key::MAX_KIND));
        let e = self
            .map
            .lower_bound(Bound::Included(&probe as &dyn EntryKey))?;
        if e.key().user_key() != user_key {
            return None;
        }
        Some(to_lookup(e.key().kind(), e.key().value()))
    }

    /// Approximate memory used, for the flush trigger.
    pub fn approximate_bytes(&self) -> usize {
        self.bytes.load(AtomicOrdering::Relaxed)
    }

    /// Number of entries (all versions).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when nothing was inserted.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// A cursor over all entries in internal-key order.
    pub fn iter(self: &Arc<Self>) -> MemtableIter {
        MemtableIter::new(Arc::clone(self))
    }
}

/// Drives a cursor to the end and returns everything (tests).
#[cfg(test)]
pub(crate) fn collect_all(
    it: &mut dyn crate::iter::InternalIterator,
) -> crate::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    it.seek_to_first()?;
    while it.valid() {
        out.push((it.key().to_vec(), it.value().to_vec()));
        it.next()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
