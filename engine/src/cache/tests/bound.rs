//! The byte budget holds whatever is thrown at the cache.

use std::sync::Arc;

use super::{block_for, key, slack};
use crate::cache::{BlockCache, ENTRY_OVERHEAD};
use crate::log::tests::Rng;

#[test]
fn usage_never_exceeds_capacity() {
    let mut rng = Rng::seeded("usage_never_exceeds_capacity");
    let capacity = 1 << 20;
    let cache = BlockCache::new(capacity);
    let limit = capacity as u64 + slack(&cache);
    let mut inserted = 0u64;
    let mut offset = 0;
    // 20× the capacity in blocks of 1 byte to 16 KiB, with some keys reused.
    while inserted < 20 * capacity as u64 {
        let len = 1 + rng.below(16 << 10);
        let k = if rng.below(8) == 0 {
            key(1, rng.below(64) as u64)
        } else {
            key(2, offset)
        };
        offset += 1;
        cache.insert(k, block_for(k, len));
        inserted += len as u64;
        let usage = cache.stats().usage_bytes;
        assert!(
            usage <= limit,
            "usage {usage} over {limit} after {inserted} bytes"
        );
    }
    let stats = cache.stats();
    println!("after {inserted} bytes inserted: {stats:?}");
    assert!(stats.evictions > 0);
    // The cache stays useful: most of the budget is in use, not just bounded.
    assert!(
        stats.usage_bytes > limit / 2,
        "cache nearly empty: {stats:?}"
    );
}

#[test]
fn usage_counts_block_bytes_plus_entry_overhead() {
    let cache = BlockCache::new(1 << 20);
    cache.insert(key(1, 0), vec![0; 1000].into());
    cache.insert(key(1, 1000), Arc::from(Vec::new()));
    let stats = cache.stats();
    assert_eq!(stats.entries, 2);
    assert_eq!(stats.usage_bytes, 1000 + 2 * ENTRY_OVERHEAD);
    assert_eq!(stats.capacity, 1 << 20);
}

#[test]
fn zero_capacity_caches_nothing() {
    let cache = BlockCache::new(0);
    cache.insert(key(1, 0), vec![1; 10].into());
    assert_eq!(cache.get(&key(1, 0)), None);
    let stats = cache.stats();
    assert_eq!((stats.entries, stats.usage_bytes), (0, 0));
}

#[test]
fn oversized_block_is_refused_and_counted_as_evicted() {
    let cache = BlockCache::new(64 << 10);
    cache.insert(key(1, 0), vec![1; 1 << 20].into());
    assert_eq!(cache.get(&key(1, 0)), None);
    let stats = cache.stats();
    assert_eq!((stats.entries, stats.evictions, stats.inserts), (0, 1, 1));
}

#[test]
fn remove_file_drops_only_that_files_blocks() {
    let cache = BlockCache::new(1 << 20);
    for offset in 0..10 {
        for file in [7, 8] {
            cache.insert(key(file, offset), block_for(key(file, offset), 100));
        }
    }
    cache.remove_file(7);
    for offset in 0..10 {
        assert_eq!(cache.get(&key(7, offset)), None);
        assert_eq!(
            cache.get(&key(8, offset)),
            Some(block_for(key(8, offset), 100))
        );
    }
    let stats = cache.stats();
    assert_eq!(stats.entries, 10);
    assert_eq!(stats.usage_bytes, 10 * (100 + ENTRY_OVERHEAD));
    assert_eq!(stats.evictions, 0, "removal is not eviction");
}

#[test]
fn pinned_bytes_are_reported_but_not_charged() {
    let cache = BlockCache::new(1 << 20);
    cache.add_pinned(5000);
    cache.add_pinned(300);
    cache.add_pinned(-5000);
    let stats = cache.stats();
    assert_eq!(stats.pinned_bytes, 300);
    assert_eq!(stats.usage_bytes, 0);
}

#[test]
fn hits_and_misses_are_counted() {
    let cache = BlockCache::new(1 << 20);
    assert_eq!(cache.get(&key(1, 0)), None);
    cache.insert(key(1, 0), block_for(key(1, 0), 10));
    assert!(cache.get(&key(1, 0)).is_some());
    assert!(cache.get(&key(1, 0)).is_some());
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.inserts), (2, 1, 1));
}
