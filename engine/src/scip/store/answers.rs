//! Per-upload, per-symbol read results, cached.
//!
//! At one position scip-typescript records an occurrence per merged declaration, so one
//! definition or hover fans out to dozens of symbol scans, and the same hot families
//! (`Observable`, `pipe`, ...) come back at position after position. What such a scan returns
//! depends only on the upload's manifest and on content-addressed records, both immutable for
//! a given upload id (ids are never reused, and GC never deletes a document a published upload
//! references), so a cached result never goes stale; entries of deleted uploads simply age
//! out. The one entry that depends on other projects' state, which stored versions provide a
//! package, is keyed by the generation of the store's metadata writes instead of an upload
//! id (`meta.rs`), so a write makes it unreachable and it ages out the same way.

use super::evict::evict_oldest;
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use xxhash_rust::xxh3::Xxh3Builder;

/// Default bound, in weight units (roughly one per posting or record held): tens of MB.
pub const DEFAULT_ANSWER_WEIGHT: usize = 1 << 20;

/// Which scan a cached result belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnswerKey {
    /// xxh3-128 of the tenant's key prefix.
    pub tenant: u128,
    pub upload: u64,
    /// The record tag scanned, or a query-specific discriminator.
    pub kind: u8,
    pub symbol: String,
    pub scope: Option<u128>,
}

type Entry = (Arc<dyn Any + Send + Sync>, usize, u64);

/// xxh3 with a per-process random seed: SipHash over long symbol strings was a tenth of a
/// cached definition's cost, and the seed keeps crafted symbols from colliding on purpose.
fn hasher() -> Xxh3Builder {
    use std::hash::BuildHasher;
    Xxh3Builder::new().with_seed(std::collections::hash_map::RandomState::new().hash_one(0u64))
}

struct Inner {
    map: HashMap<AnswerKey, Entry, Xxh3Builder>,
    clock: u64,
    weight: usize,
}

/// LRU of scan results bounded by total weight.
pub struct AnswerCache {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl std::fmt::Debug for AnswerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AnswerCache(capacity {})", self.capacity)
    }
}

impl Default for AnswerCache {
    fn default() -> Self {
        AnswerCache::new(DEFAULT_ANSWER_WEIGHT)
    }
}

impl AnswerCache {
    pub fn new(capacity: usize) -> Self {
        AnswerCache {
            inner: Mutex::new(Inner {
                map: HashMap::with_hasher(hasher()),
                clock: 0,
                weight: 0,
            }),
            capacity,
        }
    }

    /// The cached value for `key`, else `load()` (cached with weight `weight(&value)`).
    pub fn get_or_load<T, E>(
        &self,
        key: AnswerKey,
        load: impl FnOnce() -> Result<T, E>,
        weight: impl FnOnce(&T) -> usize,
    ) -> Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
    {
        {
            let mut g = self.inner.lock();
            g.clock += 1;
            let now = g.clock;
            if let Some(e) = g.map.get_mut(&key) {
                e.2 = now;
                if let Ok(v) = Arc::clone(&e.0).downcast::<T>() {
                    return Ok(v);
                }
            }
        }
        let v = load()?;
        let w = weight(&v) + 1;
        let v = Arc::new(v);
        if w > self.capacity {
            return Ok(v);
        }
        let mut g = self.inner.lock();
        g.clock += 1;
        let now = g.clock;
        let any: Arc<dyn Any + Send + Sync> = Arc::clone(&v) as _;
        if let Some(old) = g.map.insert(key, (any, w, now)) {
            g.weight -= old.1;
        }
        g.weight += w;
        let g = &mut *g;
        evict_oldest(&mut g.map, &mut g.weight, self.capacity, |e| e.2, |e| e.1);
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64) -> AnswerKey {
        AnswerKey {
            tenant: 0,
            upload: n,
            kind: 0,
            symbol: String::new(),
            scope: None,
        }
    }

    #[test]
    fn loads_once_and_evicts_by_weight() {
        let c = AnswerCache::new(100);
        let mut loads = 0;
        for _ in 0..3 {
            let v = c
                .get_or_load::<_, ()>(
                    key(1),
                    || {
                        loads += 1;
                        Ok(vec![1u8; 10])
                    },
                    Vec::len,
                )
                .unwrap();
            assert_eq!(v.len(), 10);
        }
        assert_eq!(loads, 1);
        for n in 2..40 {
            c.get_or_load::<_, ()>(key(n), || Ok(vec![0u8; 10]), Vec::len)
                .unwrap();
        }
        assert!(c.inner.lock().weight <= 100);
        // Key 1 was evicted (least recently used): loading it again calls the loader.
        c.get_or_load::<_, ()>(
            key(1),
            || {
                loads += 1;
                Ok(vec![1u8; 10])
            },
            Vec::len,
        )
        .unwrap();
        assert_eq!(loads, 2);
    }
}
