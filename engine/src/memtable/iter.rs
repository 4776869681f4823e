//! A cursor over a memtable.
//!
//! Skiplist entries borrow the map, so a cursor that owns an `Arc<Memtable>` cannot hold one.
//! It copies a run of entries in the current direction into one buffer (keys and values back
//! to back) and steps through that; only when the run is used up does it seek again, from the
//! last entry it holds. A step is then a slice move, and a seek plus a copy is paid once per
//! run instead of once per entry (the flush thread walks every entry this way). Runs start
//! short after a seek (point-like use copies little) and double up to [`MAX_RUN`].
//!
//! Entries inserted after a run was copied, between two of its keys, are not seen. The
//! engine's readers cannot miss anything by this: an entry becomes visible (its seqno
//! published) only after its insert, so every entry a cursor's snapshot can see is in the
//! skiplist before the cursor exists; flushes walk immutable memtables.

use std::ops::Bound;
use std::sync::Arc;

use super::Memtable;
use super::entry::{EntryKey, MemKey, Probe};
use crate::Result;
use crate::iter::InternalIterator;

/// Entries copied by the first run after a seek.
const FIRST_RUN: usize = 4;
/// Most entries one run copies.
pub(crate) const MAX_RUN: usize = 64;
/// A run stops after this many bytes (at least one entry is always copied).
const MAX_RUN_BYTES: usize = 256 * 1024;

/// An [`InternalIterator`] over one memtable.
#[derive(Debug)]
pub struct MemtableIter {
    mem: Arc<Memtable>,
    /// Keys and values of the current run, back to back.
    buf: Vec<u8>,
    /// `(start, key length, value length)` of each entry of the run in `buf`, in the order
    /// the cursor visits them (descending keys when moving backward).
    spans: Vec<(usize, usize, usize)>,
    /// Index of the current entry in `spans`; `spans.len()` when not positioned.
    pos: usize,
    forward: bool,
    /// Length of the next run in the current direction.
    run: usize,
}

impl MemtableIter {
    pub(super) fn new(mem: Arc<Memtable>) -> Self {
        MemtableIter {
            mem,
            buf: Vec::new(),
            spans: Vec::new(),
            pos: 0,
            forward: true,
            run: FIRST_RUN,
        }
    }

    /// Replaces the run with up to `self.run` entries from `from` in direction `forward`.
    fn fill(&mut self, from: Bound<&dyn EntryKey>, forward: bool) {
        self.buf.clear();
        self.spans.clear();
        self.pos = 0;
        self.forward = forward;
        let limit = self.run;
        let (buf, spans) = (&mut self.buf, &mut self.spans);
        let mut push = |e: &MemKey| {
            let start = buf.len();
            e.append_internal_key(buf);
            let key_len = buf.len() - start;
            buf.extend_from_slice(e.value());
            spans.push((start, key_len, e.value().len()));
            spans.len() >= limit || buf.len() >= MAX_RUN_BYTES
        };
        if forward {
            for e in self
                .mem
                .map
                .range::<dyn EntryKey, _>((from, Bound::Unbounded))
            {
                if push(e.key()) {
                    break;
                }
            }
        } else {
            for e in self
                .mem
                .map
                .range::<dyn EntryKey, _>((Bound::Unbounded, from))
                .rev()
            {
                if push(e.key()) {
                    break;
                }
            }
        }
    }

    /// A seek: a fresh, short run.
    fn seek_run(&mut self, from: Bound<&dyn EntryKey>, forward: bool) {
        self.run = FIRST_RUN;
        self.fill(from, forward);
    }

    /// One step in direction `forward` from the current entry.
    fn step(&mut self, forward: bool) {
        if !self.valid() {
            return;
        }
        if self.forward == forward && self.pos + 1 < self.spans.len() {
            self.pos += 1;
            return;
        }
        // The run is used up, or the direction changes: continue after the current key.
        // The probe borrows the run's buffer, which `fill` rewrites: copy the key out.
        let cur = self.key().to_vec();
        let cur = Probe::from_internal(&cur);
        if self.forward == forward {
            self.run = (self.run * 2).min(MAX_RUN);
        } else {
            self.run = FIRST_RUN;
        }
        self.fill(Bound::Excluded(&cur as &dyn EntryKey), forward);
    }
}

impl InternalIterator for MemtableIter {
    fn valid(&self) -> bool {
        self.pos < self.spans.len()
    }

    fn seek_to_first(&mut self) -> Result<()> {
        self.seek_run(Bound::Unbounded, true);
        Ok(())
    }

    fn seek_to_last(&mut self) -> Result<()> {
        self.seek_run(Bound::Unbounded, false);
        Ok(())
    }

    fn seek(&mut self, target: &[u8]) -> Result<()> {
        self.seek_run(
            Bound::Included(&Probe::from_internal(target) as &dyn EntryKey),
            true,
        );
        Ok(())
    }

    fn seek_for_prev(&mut self, target: &[u8]) -> Result<()> {
        self.seek_run(
            Bound::Included(&Probe::from_internal(target) as &dyn EntryKey),
            false,
        );
        Ok(())
    }

    fn next(&mut self) -> Result<()> {
        self.step(true);
        Ok(())
    }

    fn prev(&mut self) -> Result<()> {
        self.step(false);
        Ok(())
    }

    fn key(&self) -> &[u8] {
        match self.spans.get(self.pos) {
            Some(&(start, k, _)) => &self.buf[start..start + k],
            None => &[],
        }
    }

    fn value(&self) -> &[u8] {
        match self.spans.get(self.pos) {
            Some(&(start, k, v)) => &self.buf[start + k..start + k + v],
            None => &[],
        }
    }
}
