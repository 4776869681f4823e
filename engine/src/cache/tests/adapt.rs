//! Scan resistance must not freeze the cache: a new working set still takes over.

use super::{block_for, key};
use crate::cache::BlockCache;
use crate::log::tests::Rng;

const CAPACITY: usize = 8 << 20;

/// Hit ratio of `accesses` uniform accesses to `set` through `get_or_load`.
fn hit_ratio(
    cache: &BlockCache,
    set: &[(u64, usize)],
    file: u64,
    accesses: usize,
    rng: &mut Rng,
) -> f64 {
    let mut hits = 0;
    for _ in 0..accesses {
        let (offset, len) = set[rng.below(set.len())];
        let k = key(file, offset);
        let mut hit = true;
        cache
            .get_or_load(k, || {
                hit = false;
                Ok(block_for(k, len))
            })
            .unwrap();
        hits += u32::from(hit);
    }
    f64::from(hits) / accesses as f64
}

#[test]
fn new_working_set_displaces_the_old_one() {
    let mut rng = Rng::seeded("new_working_set_displaces_the_old_one");
    // Two disjoint sets of 60% of the capacity each: they cannot both fit.
    let mut set = Vec::new();
    let mut bytes = 0;
    while bytes < CAPACITY * 3 / 5 {
        let len = (4 << 10) + rng.below(12 << 10);
        set.push((set.len() as u64 * (16 << 10), len));
        bytes += len;
    }
    let cache = BlockCache::new(CAPACITY);
    let rounds = 6 * set.len();
    hit_ratio(&cache, &set, 1, rounds, &mut rng);
    let old = hit_ratio(&cache, &set, 1, 2000, &mut rng);
    hit_ratio(&cache, &set, 2, rounds, &mut rng);
    let new = hit_ratio(&cache, &set, 2, 2000, &mut rng);
    println!(
        "old working set {:.1}%, new working set after the switch {:.1}%",
        old * 100.0,
        new * 100.0
    );
    assert!(old >= 0.9 && new >= 0.9, "old {old:.3}, new {new:.3}");
}
