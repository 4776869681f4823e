//! The in-memory filter of stored chunk ids: "is this chunk new?" without a read.
//!
//! Built at open from the index records and rebuilt by each GC pass (a bloom filter cannot
//! forget deleted chunks). Only an optimization: a false positive costs a point read of the
//! chunk's index record; a false negative (a chunk stored after a rebuild began) costs writing
//! the chunk again, which is harmless because identical content gets an identical record.

use fastbloom::AtomicBloomFilter;
use parking_lot::RwLock;

use crate::chunk::keys::ChunkId;

/// Seed handed to fastbloom; we pass our own hashes, so it only keeps the filter deterministic.
const SEED: u128 = 0x7363_6970_6b76_2d63_6875_6e6b_2d76_3031; // "scipkv-chunk-v01"

/// Capacity of a filter for few chunks; about 1.2 MB at a 1% false-positive rate.
const MIN_CAPACITY: usize = 1 << 20;

#[derive(Debug)]
pub(crate) struct ChunkFilter {
    bloom: RwLock<AtomicBloomFilter>,
}

fn build(ids: &[u64]) -> AtomicBloomFilter {
    // Twice the current count leaves room to grow until the next GC rebuilds it.
    let cap = (ids.len() * 2).max(MIN_CAPACITY);
    let f = AtomicBloomFilter::with_false_pos(0.01)
        .seed(&SEED)
        .expected_items(cap);
    for h in ids {
        f.insert_hash(*h);
    }
    f
}

impl ChunkFilter {
    /// A filter holding `hashes` (from [`ChunkId::filter_hash`]).
    pub(crate) fn from_hashes(hashes: &[u64]) -> Self {
        ChunkFilter {
            bloom: RwLock::new(build(hashes)),
        }
    }

    pub(crate) fn may_contain(&self, id: &ChunkId) -> bool {
        self.bloom.read().contains_hash(id.filter_hash())
    }

    pub(crate) fn insert(&self, id: &ChunkId) {
        self.bloom.read().insert_hash(id.filter_hash());
    }

    /// Replaces the filter with one holding `hashes`.
    pub(crate) fn rebuild(&self, hashes: &[u64]) {
        let f = build(hashes);
        *self.bloom.write() = f;
    }
}
