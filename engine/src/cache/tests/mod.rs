//! Behaviour of the block cache: the byte bound, scan resistance, concurrency, loading.

mod adapt;
mod bound;
mod concurrency;
mod load;
mod scan;

use std::sync::Arc;

use super::{BlockCache, BlockKey};

fn key(file: u64, offset: u64) -> BlockKey {
    BlockKey { file, offset }
}

/// A block whose bytes identify its key, so a wrong block served for a key shows up.
fn block_for(key: BlockKey, len: usize) -> Arc<[u8]> {
    let tag = (key.file as u8) ^ (key.offset as u8).rotate_left(3);
    vec![tag; len].into()
}

/// Slack allowed over the capacity: the capacity rounded up to whole shards.
fn slack(cache: &BlockCache) -> u64 {
    cache.inner.num_shards() as u64
}

#[test]
fn block_cache_is_send_and_sync() {
    fn shared<T: Send + Sync>() {}
    shared::<BlockCache>();
}
