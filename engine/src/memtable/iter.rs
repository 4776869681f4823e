//! A cursor over a memtable.
//!
//! Skiplist entries borrow the map, so a cursor that owns an `Arc<Memtable>` cannot hold one;
//! it keeps a copy of the current entry and re-seeks from it on each step (O(log n) per step).

use std::ops::Bound;
use std::sync::Arc;

use super::{MemKey, Memtable};
use crate::Result;
use crate::iter::InternalIterator;

/// An [`InternalIterator`] over one memtable.
#[derive(Debug)]
pub struct MemtableIter {
    mem: Arc<Memtable>,
    cur: Option<(Vec<u8>, Vec<u8>)>,
}

impl MemtableIter {
    pub(super) fn new(mem: Arc<Memtable>) -> Self {
        MemtableIter { mem, cur: None }
    }

    fn probe(k: &[u8]) -> MemKey {
        MemKey(k.to_vec().into_boxed_slice())
    }
}

impl InternalIterator for MemtableIter {
    fn valid(&self) -> bool {
        self.cur.is_some()
    }

    fn seek_to_first(&mut self) -> Result<()> {
        self.cur = self.mem.first_at(Bound::Unbounded);
        Ok(())
    }

    fn seek_to_last(&mut self) -> Result<()> {
        self.cur = self.mem.last_at(Bound::Unbounded);
        Ok(())
    }

    fn seek(&mut self, target: &[u8]) -> Result<()> {
        self.cur = self.mem.first_at(Bound::Included(&Self::probe(target)));
        Ok(())
    }

    fn seek_for_prev(&mut self, target: &[u8]) -> Result<()> {
        self.cur = self.mem.last_at(Bound::Included(&Self::probe(target)));
        Ok(())
    }

    fn next(&mut self) -> Result<()> {
        if let Some((k, _)) = self.cur.take() {
            self.cur = self.mem.first_at(Bound::Excluded(&Self::probe(&k)));
        }
        Ok(())
    }

    fn prev(&mut self) -> Result<()> {
        if let Some((k, _)) = self.cur.take() {
            self.cur = self.mem.last_at(Bound::Excluded(&Self::probe(&k)));
        }
        Ok(())
    }

    fn key(&self) -> &[u8] {
        self.cur.as_ref().map_or(&[], |(k, _)| k)
    }

    fn value(&self) -> &[u8] {
        self.cur.as_ref().map_or(&[], |(_, v)| v)
    }
}
