//! `get_or_load`: one load per key, errors returned and never cached.

use std::cell::Cell;
use std::sync::Arc;

use super::{block_for, key};
use crate::cache::BlockCache;
use crate::error::Error;

#[test]
fn second_call_is_served_without_loading() {
    let cache = BlockCache::new(1 << 20);
    let loads = Cell::new(0);
    let k = key(3, 4096);
    for _ in 0..2 {
        let got = cache
            .get_or_load(k, || {
                loads.set(loads.get() + 1);
                Ok(block_for(k, 4096))
            })
            .unwrap();
        assert_eq!(got, block_for(k, 4096));
    }
    assert_eq!(loads.get(), 1);
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.inserts), (1, 1, 1));
}

#[test]
fn load_error_is_returned_and_not_cached() {
    let cache = BlockCache::new(1 << 20);
    let k = key(3, 0);
    let err = cache
        .get_or_load(k, || {
            Err(Error::Corruption {
                file: "3.sst".into(),
                offset: 0,
                what: "bad crc".into(),
            })
        })
        .unwrap_err();
    assert!(matches!(err, Error::Corruption { .. }), "{err}");
    assert_eq!(cache.get(&k), None);

    // The next caller loads again and its block is cached.
    let loaded = Cell::new(false);
    let got = cache
        .get_or_load(k, || {
            loaded.set(true);
            Ok(block_for(k, 100))
        })
        .unwrap();
    assert!(loaded.get());
    assert_eq!(got, block_for(k, 100));
    assert_eq!(cache.get(&k), Some(block_for(k, 100)));
    let stats = cache.stats();
    assert_eq!((stats.entries, stats.inserts), (1, 1));
}

#[test]
fn loaded_block_is_the_one_returned_by_get() {
    let cache = BlockCache::new(1 << 20);
    let block: Arc<[u8]> = vec![9; 50].into();
    let k = key(1, 1);
    let got = cache.get_or_load(k, || Ok(Arc::clone(&block))).unwrap();
    assert!(Arc::ptr_eq(&got, &block));
    assert!(
        Arc::ptr_eq(&cache.get(&k).unwrap(), &block),
        "the cache shares, not copies"
    );
}
