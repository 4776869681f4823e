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

use super::entry::MemKey;

/// Power of two; the low bits of the hash pick the shard, the table uses all of it.
const SHARDS: usize = 64;

#[derive(Debug)]
pub(crate) struct PointIndex {
    shards: Box<[RwLock<HashTable<MemKey>>]>,
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

    fn shard(&self, hash: u64) -> &RwLock<HashTable<MemKey>> {
        &self.shards[hash as usize & (SHARDS - 1)]
    }

    /// Records `e` as its key's newest entry unless a newer one is already there (callers
    /// insert in sequence order, so that does not happen; the check keeps the index exact
    /// regardless).
    pub(crate) fn insert(&self, e: &MemKey) {
        let hash = xxh3_64(e.user_key());
        let mut t = self.shard(hash).write();
        match t.find_mut(hash, |x| x.user_key() == e.user_key()) {
            Some(old) => {
                if old.seq() < e.seq() {
                    *old = e.clone();
                }
            }
            None => {
                t.insert_unique(hash, e.clone(), |x| xxh3_64(x.user_key()));
            }
        }
    }

    /// Looks `user_key` up as of `snapshot`, reading a visible newest entry through `f`
    /// while the shard is locked (so nothing is cloned that the caller would not keep).
    pub(crate) fn probe<T>(
        &self,
        user_key: &[u8],
        snapshot: u64,
        f: impl FnOnce(&MemKey) -> T,
    ) -> Probed<T> {
        let hash = xxh3_64(user_key);
        let t = self.shard(hash).read();
        match t.find(hash, |x| x.user_key() == user_key) {
            None => Probed::Absent,
            Some(e) if e.seq() <= snapshot => Probed::Newest(f(e)),
            Some(_) => Probed::TooNew,
        }
    }
}
