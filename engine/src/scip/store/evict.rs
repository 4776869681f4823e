//! The eviction both query caches share: when an insert pushes the total weight over the
//! capacity, drop the least recently used entries down to 3/4 of it, so one O(n) pass pays
//! for many inserts.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

/// Removes entries of `map`, oldest `age(entry)` first, until `weight` is at most 3/4 of
/// `capacity`; `weight_of(entry)` is what each removal takes off `weight`.
pub(crate) fn evict_oldest<K: Clone + Eq + Hash, V, S: BuildHasher>(
    map: &mut HashMap<K, V, S>,
    weight: &mut usize,
    capacity: usize,
    age: impl Fn(&V) -> u64,
    weight_of: impl Fn(&V) -> usize,
) {
    if *weight <= capacity {
        return;
    }
    let mut by_age: Vec<(u64, K, usize)> = map
        .iter()
        .map(|(k, v)| (age(v), k.clone(), weight_of(v)))
        .collect();
    by_age.sort_unstable_by_key(|e| e.0);
    let target = capacity / 4 * 3;
    for (_, k, w) in by_age {
        if *weight <= target {
            break;
        }
        map.remove(&k);
        *weight -= w;
    }
}
