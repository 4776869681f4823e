//! The memtable: a concurrent skiplist of internal keys.
//!
//! Keys are full internal keys ordered by [`compare_internal`], so one skiplist holds every
//! version of a key, newest first, and a read at snapshot `s` is a single `lower_bound`.
//! Only the write-group leader inserts, but readers and the flush thread iterate concurrently,
//! which is why this is a lock-free skiplist rather than a `BTreeMap` behind a lock.

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

use crossbeam_skiplist::SkipMap;

use crate::key::{self, Kind, SeqNo, compare_internal};

mod iter;

pub use iter::MemtableIter;

/// An internal key with the engine's ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemKey(Box<[u8]>);

impl Ord for MemKey {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_internal(&self.0, &other.0)
    }
}

impl PartialOrd for MemKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Per-entry bookkeeping the skiplist adds (node, tower, allocation headers), an estimate
/// used only for the flush trigger.
const ENTRY_OVERHEAD: usize = 64;

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

/// An entry expiring at `expires_at_ms` is gone from that millisecond on.
#[inline]
pub fn is_expired(expires_at_ms: u64, now_ms: u64) -> bool {
    now_ms >= expires_at_ms
}

/// An in-memory sorted buffer of recent writes, backed by one WAL segment.
#[derive(Debug)]
pub struct Memtable {
    map: SkipMap<MemKey, Box<[u8]>>,
    bytes: AtomicUsize,
    wal_number: u64,
}

impl Memtable {
    /// A memtable whose writes are logged in WAL segment `wal_number`.
    pub fn new(wal_number: u64) -> Self {
        Memtable {
            map: SkipMap::new(),
            bytes: AtomicUsize::new(0),
            wal_number,
        }
    }

    /// The WAL segment that holds this memtable's writes.
    pub fn wal_number(&self) -> u64 {
        self.wal_number
    }

    /// Inserts one entry. Seqnos are unique, so an existing key is never overwritten.
    pub fn insert(&self, user_key: &[u8], seq: SeqNo, kind: u8, value: &[u8]) {
        let k = key::make_internal_key(user_key, seq, kind);
        self.bytes.fetch_add(
            k.len() + value.len() + ENTRY_OVERHEAD,
            AtomicOrdering::Relaxed,
        );
        self.map.insert(
            MemKey(k.into_boxed_slice()),
            value.to_vec().into_boxed_slice(),
        );
    }

    /// The newest entry of `user_key` with seqno `<= snapshot`, if any.
    pub fn get(&self, user_key: &[u8], snapshot: SeqNo) -> Option<Lookup> {
        let probe = MemKey(key::lookup_key(user_key, snapshot).into_boxed_slice());
        let e = self.map.lower_bound(Bound::Included(&probe))?;
        let p = key::parse_internal_key(&e.key().0)?;
        if p.user_key != user_key {
            return None;
        }
        // Entries come from validated batches, so the kind and any expiry prefix are sound;
        // reading one that is not as deleted keeps this path panic-free regardless.
        let l = Lookup::from_entry(p.kind, e.value().to_vec());
        debug_assert!(l.is_some(), "malformed memtable entry");
        Some(l.unwrap_or(Lookup::Deleted))
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
