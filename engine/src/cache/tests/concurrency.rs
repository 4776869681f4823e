//! Several threads on overlapping keys: no panic, no wrong block, counters add up.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Barrier};
use std::thread;

use super::{block_for, key, slack};
use crate::cache::{BlockCache, BlockKey, ENTRY_OVERHEAD};
use crate::log::tests::Rng;

const THREADS: usize = 4;

#[derive(Clone, Copy)]
enum Op {
    Get(BlockKey),
    Insert(BlockKey),
    Load(BlockKey),
}

/// Each key always maps to the same length, so any served block can be checked.
fn len_of(k: BlockKey) -> usize {
    1024 + (k.offset as usize * 37 % 3072)
}

#[test]
fn four_threads_on_overlapping_keys() {
    let mut rng = Rng::seeded("four_threads_on_overlapping_keys");
    // 300 keys of 1–4 KiB (~750 KiB) through a 256 KiB cache: constant eviction.
    let ops: Vec<Vec<Op>> = (0..THREADS)
        .map(|_| {
            (0..20_000)
                .map(|_| {
                    let k = key(1 + rng.below(3) as u64, rng.below(100) as u64);
                    match rng.below(3) {
                        0 => Op::Get(k),
                        1 => Op::Insert(k),
                        _ => Op::Load(k),
                    }
                })
                .collect()
        })
        .collect();
    let cache = Arc::new(BlockCache::new(256 << 10));
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = ops
        .into_iter()
        .map(|ops| {
            let (cache, start) = (Arc::clone(&cache), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                let (mut lookups, mut insert_calls, mut loads) = (0u64, 0u64, 0u64);
                for op in ops {
                    match op {
                        Op::Get(k) => {
                            lookups += 1;
                            if let Some(b) = cache.get(&k) {
                                assert_eq!(b, block_for(k, len_of(k)), "wrong block for {k:?}");
                            }
                        }
                        Op::Insert(k) => {
                            insert_calls += 1;
                            cache.insert(k, block_for(k, len_of(k)));
                        }
                        Op::Load(k) => {
                            lookups += 1;
                            let b = cache
                                .get_or_load(k, || {
                                    loads += 1;
                                    Ok(block_for(k, len_of(k)))
                                })
                                .unwrap();
                            assert_eq!(b, block_for(k, len_of(k)), "wrong block for {k:?}");
                        }
                    }
                }
                (lookups, insert_calls, loads)
            })
        })
        .collect();
    let (mut lookups, mut insert_calls, mut loads) = (0, 0, 0);
    for w in workers {
        let (l, i, d) = w.join().expect("worker panicked");
        lookups += l;
        insert_calls += i;
        loads += d;
    }
    let stats = cache.stats();
    println!("{stats:?}");
    assert_eq!(stats.hits + stats.misses, lookups);
    // Every insert call counts; a load's block counts unless a racing insert took its slot.
    assert!(stats.inserts >= insert_calls && stats.inserts <= insert_calls + loads);
    assert!(stats.usage_bytes <= stats.capacity + slack(&cache));
    assert!(stats.usage_bytes >= stats.entries * (1024 + ENTRY_OVERHEAD));
    assert!(stats.entries <= 300);
    assert!(
        stats.evictions > 0,
        "the test should run under eviction pressure"
    );
}

#[test]
fn concurrent_misses_share_one_load() {
    let mut rng = Rng::seeded("concurrent_misses_share_one_load");
    const KEYS: u64 = 500;
    // Every thread walks all keys, each in its own order, so misses collide.
    let orders: Vec<Vec<u64>> = (0..THREADS)
        .map(|_| {
            let mut order: Vec<u64> = (0..KEYS).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i + 1));
            }
            order
        })
        .collect();
    // Roomy enough that nothing is evicted, so a second load could only be a race.
    let cache = Arc::new(BlockCache::new(8 << 20));
    let loads: Arc<Vec<AtomicU32>> = Arc::new((0..KEYS).map(|_| AtomicU32::new(0)).collect());
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = orders
        .into_iter()
        .map(|order| {
            let (cache, loads, start) =
                (Arc::clone(&cache), Arc::clone(&loads), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                for offset in order {
                    let k = key(9, offset);
                    let b = cache
                        .get_or_load(k, || {
                            loads[offset as usize].fetch_add(1, Relaxed);
                            Ok(block_for(k, 1024))
                        })
                        .unwrap();
                    assert_eq!(b, block_for(k, 1024));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker panicked");
    }
    let stats = cache.stats();
    assert_eq!(stats.evictions, 0);
    for (offset, n) in loads.iter().enumerate() {
        assert_eq!(
            n.load(Relaxed),
            1,
            "key {offset} loaded {} times",
            n.load(Relaxed)
        );
    }
    assert_eq!(stats.misses, KEYS);
    assert_eq!(stats.hits, KEYS * (THREADS as u64 - 1));
}
