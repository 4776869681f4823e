//! How quick_cache weighs and evicts our blocks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use quick_cache::{Lifecycle, Weighter};

use super::BlockKey;

/// Bytes charged per entry on top of the block itself: the key (16), the `Arc<[u8]>`
/// fat pointer (16) and its counts (16), and quick_cache's ~21 bytes of slot
/// bookkeeping, rounded up. Without it a flood of tiny blocks would make the real
/// footprint overshoot the budget, and an empty block would weigh 0, which
/// quick_cache treats as "never evict".
pub const ENTRY_OVERHEAD: u64 = 80;

/// Weighs a block by the heap it keeps alive, so the capacity is a byte budget.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct BlockWeighter;

impl Weighter<BlockKey, Arc<[u8]>> for BlockWeighter {
    fn weight(&self, _key: &BlockKey, block: &Arc<[u8]>) -> u64 {
        block.len() as u64 + ENTRY_OVERHEAD
    }
}

/// Counts evictions (one shared counter across shards: quick_cache clones the
/// lifecycle into each shard) and defers dropping evicted blocks until the shard
/// lock is released, so a `free` of a 16 KiB block never runs under the lock.
#[derive(Clone, Debug, Default)]
pub(super) struct EvictionCounter {
    pub evictions: Arc<AtomicU64>,
}

/// Evicted blocks, dropped when quick_cache drops the request state after unlocking.
/// One insert usually evicts one or two blocks of similar size, so two slots are held
/// inline; the rare larger burst drops the rest in place rather than allocate.
#[derive(Debug, Default)]
pub(super) struct Evicted([Option<Arc<[u8]>>; 2]);

impl Evicted {
    fn push(&mut self, block: Arc<[u8]>) {
        if let Some(slot) = self.0.iter_mut().find(|s| s.is_none()) {
            *slot = Some(block);
        }
    }
}

impl Lifecycle<BlockKey, Arc<[u8]>> for EvictionCounter {
    type RequestState = Evicted;

    fn on_evict(&self, state: &mut Self::RequestState, _key: BlockKey, block: Arc<[u8]>) {
        self.evictions.fetch_add(1, Relaxed);
        state.push(block);
    }
}
