//! Upload pins: how GC and concurrent uploads agree on which chunks must survive.
//!
//! An upload pins every chunk of its values *before* it checks which of them are already
//! stored, and unpins after its manifests are committed (or it failed). A GC pass starts by
//! copying the pinned set into `touched`; every pin taken while the pass runs is added to
//! it; the pass deletes nothing in `touched`, and reads `touched` and commits its deletes
//! under the same lock. So an upload either pinned before the deletes (its chunks are kept)
//! or after them (its existence check sees the deletion and it writes the chunk again).
//! Pins are memory only: a crash ends every upload and every GC pass at once.

use std::collections::{HashMap, HashSet};

use super::ChunkStore;
use crate::chunk::keys::ChunkId;

#[derive(Debug, Default)]
pub(crate) struct Pins {
    counts: HashMap<ChunkId, u32>,
    /// `Some` while a GC pass runs: chunks pinned at its start or since.
    pub touched: Option<HashSet<ChunkId>>,
}

impl Pins {
    /// Starts a GC pass's record of claimed chunks.
    pub(crate) fn begin_gc(&mut self) {
        self.touched = Some(self.counts.keys().copied().collect());
    }
}

/// Releases its pins when dropped.
#[derive(Debug)]
pub(crate) struct PinGuard<'a> {
    store: &'a ChunkStore,
    ids: Vec<ChunkId>,
}

impl ChunkStore {
    pub(crate) fn pin(&self, ids: Vec<ChunkId>) -> PinGuard<'_> {
        let mut p = self.pins.lock();
        let Pins { counts, touched } = &mut *p;
        for id in &ids {
            *counts.entry(*id).or_insert(0) += 1;
            if let Some(t) = touched {
                t.insert(*id);
            }
        }
        PinGuard { store: self, ids }
    }
}

impl Drop for PinGuard<'_> {
    fn drop(&mut self) {
        if self.ids.is_empty() {
            return;
        }
        let mut p = self.store.pins.lock();
        for id in &self.ids {
            if let Some(c) = p.counts.get_mut(id) {
                *c -= 1;
                if *c == 0 {
                    p.counts.remove(id);
                }
            }
        }
    }
}
