//! The acceptance test: a long one-pass scan must not flush the hot set.
//!
//! The same seeded workload is replayed against the block cache and against an exact
//! byte-bounded LRU; the LRU's collapse shows the workload really is adversarial, so
//! the block cache's steady hit ratio is evidence of scan resistance, not of slack.

use std::collections::{BTreeMap, HashMap};

use super::{block_for, key};
use crate::cache::{BlockCache, BlockKey, ENTRY_OVERHEAD};
use crate::log::tests::Rng;

const CAPACITY: usize = 8 << 20;
/// One hot access per this many scanned blocks: a hot key then recurs only after
/// ~25 MiB of scan traffic on average, 3× the whole cache, which defeats LRU.
const SCAN_BLOCKS_PER_HOT_ACCESS: usize = 16;
const WINDOW: usize = 2000;

/// Which hit-ratio window an access is measured in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Window {
    Unmeasured,
    Before,
    During,
    After,
}

struct Access {
    key: BlockKey,
    len: usize,
    window: Window,
}

fn block_len(rng: &mut Rng) -> usize {
    (4 << 10) + rng.below(12 << 10)
}

/// Fill the cache with one-time blocks, warm a hot set of 20% of the capacity, then
/// measure hot hits before, during (interleaved with a 10× capacity scan) and after.
fn workload(rng: &mut Rng) -> Vec<Access> {
    let mut hot = Vec::new();
    let mut hot_bytes = 0;
    while hot_bytes < CAPACITY / 5 {
        let len = block_len(rng);
        hot.push((key(1, hot.len() as u64), len));
        hot_bytes += len;
    }
    let mut out = Vec::new();
    let one_time = |file: u64, bytes: usize, rng: &mut Rng, out: &mut Vec<Access>| {
        let mut done = 0;
        let mut offset = 0;
        let mut blocks = 0;
        while done < bytes {
            let len = block_len(rng);
            out.push(Access {
                key: key(file, offset),
                len,
                window: Window::Unmeasured,
            });
            offset += len as u64;
            done += len;
            blocks += 1;
            if file == 3 && blocks % SCAN_BLOCKS_PER_HOT_ACCESS == 0 {
                let (k, len) = hot[rng.below(hot.len())];
                out.push(Access {
                    key: k,
                    len,
                    window: Window::During,
                });
            }
        }
    };
    // Start full of unrelated blocks, so the hot set must earn its place.
    one_time(2, CAPACITY, rng, &mut out);
    for _ in 0..5 {
        for _ in 0..hot.len() {
            let (k, len) = hot[rng.below(hot.len())];
            out.push(Access {
                key: k,
                len,
                window: Window::Unmeasured,
            });
        }
    }
    let hot_window = |window, rng: &mut Rng, out: &mut Vec<Access>| {
        for _ in 0..WINDOW {
            let (k, len) = hot[rng.below(hot.len())];
            out.push(Access {
                key: k,
                len,
                window,
            });
        }
    };
    hot_window(Window::Before, rng, &mut out);
    one_time(3, 10 * CAPACITY, rng, &mut out);
    hot_window(Window::After, rng, &mut out);
    out
}

/// Hit ratios of the measured windows: (before, during, after).
fn replay(workload: &[Access], mut access: impl FnMut(BlockKey, usize) -> bool) -> [f64; 3] {
    let mut hits = [0u32; 3];
    let mut total = [0u32; 3];
    for a in workload {
        let hit = access(a.key, a.len);
        let slot = match a.window {
            Window::Unmeasured => continue,
            Window::Before => 0,
            Window::During => 1,
            Window::After => 2,
        };
        total[slot] += 1;
        hits[slot] += u32::from(hit);
    }
    std::array::from_fn(|i| f64::from(hits[i]) / f64::from(total[i].max(1)))
}

/// An exact LRU charged the same bytes per entry as the block cache.
#[derive(Default)]
struct Lru {
    by_key: HashMap<BlockKey, (u64, usize)>,
    by_age: BTreeMap<u64, BlockKey>,
    clock: u64,
    used: usize,
}

impl Lru {
    fn access(&mut self, k: BlockKey, len: usize) -> bool {
        self.clock += 1;
        if let Some((age, _)) = self.by_key.get_mut(&k) {
            self.by_age.remove(age);
            *age = self.clock;
            self.by_age.insert(self.clock, k);
            return true;
        }
        let charge = len + ENTRY_OVERHEAD as usize;
        while self.used + charge > CAPACITY {
            let (_, old) = self
                .by_age
                .pop_first()
                .expect("non-empty while over budget");
            self.used -= self.by_key.remove(&old).expect("indexed both ways").1;
        }
        self.used += charge;
        self.by_key.insert(k, (self.clock, charge));
        self.by_age.insert(self.clock, k);
        false
    }
}

#[test]
fn hot_set_survives_a_long_scan() {
    let mut rng = Rng::seeded("hot_set_survives_a_long_scan");
    let workload = workload(&mut rng);

    let cache = BlockCache::new(CAPACITY);
    let [before, during, after] = replay(&workload, |k, len| {
        let mut hit = true;
        cache
            .get_or_load(k, || {
                hit = false;
                Ok(block_for(k, len))
            })
            .unwrap();
        hit
    });
    let mut lru = Lru::default();
    let [lru_before, lru_during, _] = replay(&workload, |k, len| lru.access(k, len));

    let pct = |r: f64| r * 100.0;
    println!(
        "hot-set hit ratio: before {:.1}%, during scan {:.1}%, after scan {:.1}% \
         (exact LRU: before {:.1}%, during {:.1}%); {:?}",
        pct(before),
        pct(during),
        pct(after),
        pct(lru_before),
        pct(lru_during),
        cache.stats(),
    );
    assert!(
        before >= 0.9,
        "hot set never warmed up: {:.1}%",
        pct(before)
    );
    assert!(
        before - during <= 0.10,
        "scan flushed the hot set: {:.1}% -> {:.1}%",
        pct(before),
        pct(during)
    );
    assert!(
        before - after <= 0.10,
        "hot set lost after the scan: {:.1}% -> {:.1}%",
        pct(before),
        pct(after)
    );
    assert!(
        lru_before - lru_during > 0.4,
        "the workload is too gentle to tell scan resistance apart from LRU"
    );
}
