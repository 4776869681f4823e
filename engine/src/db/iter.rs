//! The user-facing iterator: merges every source, hides old versions and tombstones.
//!
//! It is double-ended: `next` and `next_back` each drive their own merged cursor (created on
//! first use), and the two stop when they meet, so a caller can read from either end or both.

use std::cmp::Ordering;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use super::SuperVersion;
use crate::iter::InternalIterator;
use crate::iter::level::LevelIter;
use crate::iter::merge::MergingIterator;
use crate::key::{self, MAX_SEQNO, SeqNo};
use crate::{Error, Result};

/// Iterator over `(key, value)` pairs in key order (or reverse order with `.rev()`).
/// Yields an error once, and then ends, if a table read fails.
pub struct DbIter {
    pub(super) sv: Arc<SuperVersion>,
    pub(super) seq: SeqNo,
    lower: Bound<Vec<u8>>,
    pub(super) upper: Bound<Vec<u8>>,
    /// Set for user iterators with dedup on: values are reassembled (see `dedup.rs`).
    pub(super) dedup: Option<Arc<crate::chunk::store::ChunkStore>>,
    /// The time expiry is judged at, fixed when a user iterator is made so one scan sees one
    /// moment. `None` (internal scans of the reserved space) treats nothing as expired.
    pub(super) now_ms: Option<u64>,
    front: Option<MergingIterator>,
    back: Option<MergingIterator>,
    front_last: Option<Vec<u8>>,
    back_last: Option<Vec<u8>>,
    done: bool,
}

impl std::fmt::Debug for DbIter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbIter").field("seq", &self.seq).finish()
    }
}

fn owned(b: Bound<&impl AsRef<[u8]>>) -> Bound<Vec<u8>> {
    match b {
        Bound::Included(k) => Bound::Included(k.as_ref().to_vec()),
        Bound::Excluded(k) => Bound::Excluded(k.as_ref().to_vec()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// The smallest key greater than every key starting with `prefix` (None: no such key).
pub(crate) fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut p = prefix.to_vec();
    while let Some(last) = p.pop() {
        if last < 0xff {
            p.push(last + 1);
            return Some(p);
        }
    }
    None
}

impl DbIter {
    pub(crate) fn new<K: AsRef<[u8]>>(
        sv: Arc<SuperVersion>,
        seq: SeqNo,
        range: impl RangeBounds<K>,
    ) -> Self {
        DbIter {
            sv,
            seq,
            lower: owned(range.start_bound()),
            upper: owned(range.end_bound()),
            front: None,
            back: None,
            front_last: None,
            back_last: None,
            done: false,
            dedup: None,
            now_ms: None,
        }
    }

    pub(crate) fn prefix(sv: Arc<SuperVersion>, seq: SeqNo, prefix: &[u8]) -> Self {
        let mut it = DbIter::new::<&[u8]>(sv, seq, ..);
        it.lower = Bound::Included(prefix.to_vec());
        it.upper = match prefix_successor(prefix) {
            Some(s) => Bound::Excluded(s),
            None => Bound::Unbounded,
        };
        it
    }

    fn merged(&self) -> MergingIterator {
        let mut children: Vec<Box<dyn InternalIterator>> = Vec::new();
        children.push(Box::new(self.sv.mem.iter()));
        for m in &self.sv.imms {
            children.push(Box::new(m.iter()));
        }
        for t in &self.sv.version.levels[0] {
            children.push(Box::new(t.table.iter()));
        }
        for level in self.sv.version.levels.iter().skip(1) {
            if !level.is_empty() {
                children.push(Box::new(LevelIter::new(level.clone())));
            }
        }
        MergingIterator::new(children)
    }

    fn above_lower(&self, k: &[u8]) -> bool {
        match &self.lower {
            Bound::Included(l) => k >= l.as_slice(),
            Bound::Excluded(l) => k > l.as_slice(),
            Bound::Unbounded => true,
        }
    }

    fn below_upper(&self, k: &[u8]) -> bool {
        match &self.upper {
            Bound::Included(u) => k <= u.as_slice(),
            Bound::Excluded(u) => k < u.as_slice(),
            Bound::Unbounded => true,
        }
    }

    fn step_forward(&mut self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let mut it = match self.front.take() {
            Some(it) => it,
            None => {
                let mut it = self.merged();
                match &self.lower {
                    Bound::Unbounded => it.seek_to_first()?,
                    Bound::Included(k) | Bound::Excluded(k) => {
                        it.seek(&key::lookup_key(k, MAX_SEQNO))?
                    }
                }
                it
            }
        };
        let result = loop {
            if !it.valid() {
                break None;
            }
            let p = parse(it.key())?;
            if !self.above_lower(p.user_key) {
                it.next()?;
                continue;
            }
            if !self.below_upper(p.user_key) {
                break None;
            }
            if p.seq > self.seq {
                it.next()?;
                continue;
            }
            let uk = p.user_key.to_vec();
            let value = self.visible_value(p.kind, it.value())?;
            // Skip the older versions of this key.
            loop {
                it.next()?;
                if !it.valid() || key::user_key(it.key()) != uk.as_slice() {
                    break;
                }
            }
            if let Some(v) = value {
                break Some((uk, v));
            }
        };
        self.front = Some(it);
        Ok(result)
    }

    fn step_backward(&mut self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let mut it = match self.back.take() {
            Some(it) => it,
            None => {
                let mut it = self.merged();
                match &self.upper {
                    Bound::Unbounded => it.seek_to_last()?,
                    // (k, seq 0, kind 0) sorts after every other version of k.
                    Bound::Included(k) => it.seek_for_prev(&key::make_internal_key(k, 0, 0))?,
                    Bound::Excluded(k) => it.seek_for_prev(&key::lookup_key(k, MAX_SEQNO))?,
                }
                it
            }
        };
        let result = loop {
            if !it.valid() {
                break None;
            }
            let uk = parse(it.key())?.user_key.to_vec();
            if !self.below_upper(&uk) {
                it.prev()?;
                continue;
            }
            if !self.above_lower(&uk) {
                break None;
            }
            // Versions arrive oldest first; the last one at or below the snapshot wins.
            let mut newest: Option<Option<Vec<u8>>> = None;
            while it.valid() && key::user_key(it.key()) == uk.as_slice() {
                let p = parse(it.key())?;
                if p.seq <= self.seq {
                    newest = Some(self.visible_value(p.kind, it.value())?);
                }
                it.prev()?;
            }
            if let Some(Some(v)) = newest {
                break Some((uk, v));
            }
        };
        self.back = Some(it);
        Ok(result)
    }
}

impl DbIter {
    /// What the newest visible version of a key means to this reader: its value, or `None`
    /// for a tombstone or an expired value (which hides the older versions just the same).
    fn visible_value(&self, kind: u8, stored: &[u8]) -> Result<Option<Vec<u8>>> {
        match key::Kind::from_u8(kind) {
            Some(key::Kind::Put) => Ok(Some(stored.to_vec())),
            Some(key::Kind::Delete) => Ok(None),
            Some(key::Kind::PutExpiring) => {
                let (t, v) = key::split_expiring(stored).ok_or_else(|| {
                    Error::corruption("iterator", 0, "expiring entry shorter than its expiry")
                })?;
                Ok(match self.now_ms {
                    Some(now) if crate::memtable::is_expired(t, now) => None,
                    _ => Some(v.to_vec()),
                })
            }
            None => Err(Error::corruption(
                "iterator",
                0,
                format!("entry has unknown kind {kind}"),
            )),
        }
    }
}

fn parse(ikey: &[u8]) -> Result<key::ParsedKey<'_>> {
    key::parse_internal_key(ikey)
        .ok_or_else(|| Error::corruption("iterator", 0, "internal key shorter than its trailer"))
}

impl DbIter {
    /// Shared tail of `next` and `next_back`: stops where the two ends meet (`crossed` says
    /// whether a key from this end reached the other end's last key), records the key for the
    /// other end, resolves the stored value, and ends the iterator after any error.
    fn finish_step(
        &mut self,
        step: Result<Option<(Vec<u8>, Vec<u8>)>>,
        from_front: bool,
    ) -> Option<Result<(Vec<u8>, Vec<u8>)>> {
        let (k, v) = match step {
            Ok(Some(kv)) => kv,
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let (other, mine, stop_at) = if from_front {
            (&self.back_last, &mut self.front_last, Ordering::Less)
        } else {
            (&self.front_last, &mut self.back_last, Ordering::Greater)
        };
        if other
            .as_ref()
            .is_some_and(|o| k.as_slice().cmp(o) != stop_at)
        {
            self.done = true;
            return None;
        }
        *mine = Some(k.clone());
        let v = self.user_value(&k, v);
        self.done |= v.is_err();
        Some(v.map(|v| (k, v)))
    }
}

impl Iterator for DbIter {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let step = self.step_forward();
        self.finish_step(step, true)
    }
}

impl DoubleEndedIterator for DbIter {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let step = self.step_backward();
        self.finish_step(step, false)
    }
}
