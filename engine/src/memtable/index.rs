//! The point-lookup index beside the skiplist: user key -> its newest entry.
//!
//! A skiplist search is ~20-40 comparisons with pointer chasing; under a point-read load it
//! was most of a `Db::get` (callgrind). Reads at a snapshot that sees a key's newest entry
//! (every read at the latest sequence, the common case) are one hash probe here instead;
//! a key absent here has no entry in the memtable at all, so misses are one probe too. Only
//! a read at an older snapshot whose key was overwritten since falls back to the skiplist.
//!
//! Why this is exact: the single inserter (the write-group leader, or recovery) inserts in
//! sequence order and publishes a sequence number only after every entry up to it is in
//! both structures. A reader at snapshot `s` therefore finds here either nothing (no entry
//! of the key with seqno <= `s` exists), an entry with seqno <= `s` (the newest with seqno
//! <= `s`, since anything newer up to `s` would have replaced it), or a newer one (it must
//! search the skiplist).
//!
//! Sharded `RwLock`ed hash tables: readers of different shards never touch the same lock,
//! and the one writer blocks only the readers of the shard it is inserting into.

use hashbrown::HashTable;
use parking_lot::RwLock;
use xxhash_rust::xxh3::xxh3_64;

use super::arena::EntryBytes;
use super::entry::{EntryKey, MemKey};

/// Power of two. The shard comes from bits 32.. of the key's hash and the table hash from
/// bits 0..32: a table indexes buckets by the low bits of its hash and filters probes by
/// the top seven, so shard bits shared with either would be the same for every key of a
/// shard and cluster them (taking the shard from the low bits made probes walk long runs of
/// full buckets).
const SHARDS: usize = 64;
const SHARD_SHIFT: u32 = 32;

/// One key's newest entry: its bytes in the memtable's arena, trailer and key length, and the low half of
/// its hash, so a table grows without reading any entry (each read a cache miss) and most
/// probes of other keys are told apart without one. 32 bytes, half a cache line.
#[derive(Debug)]
pub(crate) struct Slot {
    data: EntryBytes,
    trailer: u64,
    key_len: u32,
    hash: u32,
}

const _: () = assert!(std::mem::size_of::<Slot>() == 32);

impl Slot {
    fn user_key(&self) -> &[u8] {
        &self.data.as_slice()[..self.key_len as usize]
    }

    pub(crate) fn value(&self) -> &[u8] {
        &self.data.as_slice()[self.key_len as usize..]
    }

    pub(crate) fn kind(&self) -> u8 {
        self.trailer as u8
    }

    fn seq(&self) -> u64 {
        self.trailer >> 8
    }
}

/// The table's hash of a key whose 32-bit hash is `h`: multiplying by an odd constant
/// spreads it into the top bits the table filters probes by.
#[inline]
fn table_hash(h: u32) -> u64 {
    u64::from(h).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[derive(Debug)]
pub(crate) struct PointIndex {
    shards: Box<[RwLock<HashTable<Slot>>]>,
}

/// What the index says about a key at a snapshot.
pub(crate) enum Probed<T> {
    /// No entry of the key is in the memtable.
    Absent,
    /// The key's newest entry is visible at the snapshot: `f` applied to it.
    Newest(T),
    /// The key's newest entry is newer than the snapshot: search the skiplist.
    TooNew,
}

impl PointIndex {
    pub(crate) fn new() -> Self {
        PointIndex {
            shards: (0..SHARDS).map(|_| RwLock::new(HashTable::new())).collect(),
        }
    }

    fn shard(&self, hash: u64) -> &RwLock<HashTable<Slot>> {
        &self.shards[(hash >> SHARD_SHIFT) as usize & (SHARDS - 1)]
    }

    /// Records `e` as its key's newest entry unless a newer one is already there (callers
    /// insert in sequence order, so that does not happen; the check keeps the index exact
    /// regardless).
    pub(crate) fn insert(&self, e: &MemKey) {
        let full = xxh3_64(e.user_key());
        let h = full as u32;
        let mut t = self.shard(full).write();
        match t.find_mut(table_hash(h), |x| {
            x.hash == h && x.user_key() == e.user_key()
        }) {
            Some(old) => {
                if old.seq() < e.seq() {
                    old.data = e.data();
                    old.trailer = e.trailer();
                }
            }
            None => {
                let slot = Slot {
                    data: e.data(),
                    trailer: e.trailer(),
                    key_len: e.user_key().len() as u32,
                    hash: h,
                };
                t.insert_unique(table_hash(h), slot, |x| table_hash(x.hash));
            }
        }
    }

    /// Looks `user_key` up as of `snapshot`, reading a visible newest entry through `f`
    /// while the shard is locked (so nothing is cloned that the caller would not keep).
    pub(crate) fn probe<T>(
        &self,
        user_key: &[u8],
        snapshot: u64,
        f: impl FnOnce(&Slot) -> T,
    ) -> Probed<T> {
        let full = xxh3_64(user_key);
        let h = full as u32;
        let t = self.shard(full).read();
        match t.find(table_hash(h), |x| x.hash == h && x.user_key() == user_key) {
            None => Probed::Absent,
            Some(x) if x.seq() <= snapshot => Probed::Newest(f(x)),
            Some(_) => Probed::TooNew,
        }
    }
}
