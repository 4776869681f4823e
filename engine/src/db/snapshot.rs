//! Snapshots: a sequence number pinned for consistent reads.

use std::collections::BTreeMap;
use std::ops::RangeBounds;
use std::sync::Arc;

use parking_lot::Mutex;

use super::{DbInner, DbIter};
use crate::Result;
use crate::key::SeqNo;

/// Live snapshot seqnos with reference counts; compaction keeps every version a live
/// snapshot can still see.
#[derive(Debug, Default)]
pub(crate) struct SnapshotList {
    live: Mutex<BTreeMap<SeqNo, usize>>,
}

impl SnapshotList {
    /// Reads the visible seqno and registers it under the list's lock, so that a compaction
    /// (which reads the list and the visible seqno under the same lock) either sees this
    /// snapshot or started before it and only drops versions shadowed at or below its seqno.
    fn acquire(&self, visible: &std::sync::atomic::AtomicU64) -> SeqNo {
        let mut l = self.live.lock();
        let seq = visible.load(std::sync::atomic::Ordering::Acquire);
        *l.entry(seq).or_insert(0) += 1;
        seq
    }

    fn release(&self, seq: SeqNo) {
        let mut l = self.live.lock();
        if let Some(c) = l.get_mut(&seq) {
            *c -= 1;
            if *c == 0 {
                l.remove(&seq);
            }
        }
    }

    /// All live snapshot seqnos, ascending, and the visible seqno, read together.
    #[allow(dead_code, reason = "used by compaction")]
    pub(crate) fn seqnos(&self, visible: &std::sync::atomic::AtomicU64) -> (Vec<SeqNo>, SeqNo) {
        let l = self.live.lock();
        let v = visible.load(std::sync::atomic::Ordering::Acquire);
        (l.keys().copied().collect(), v)
    }

    pub(crate) fn len(&self) -> usize {
        self.live.lock().values().sum()
    }
}

/// A consistent, read-only view of the database as of one moment. Reads through it ignore
/// every later write. Dropping it lets compaction discard the versions only it could see.
#[derive(Debug)]
pub struct Snapshot {
    inner: Arc<DbInner>,
    seq: SeqNo,
}

impl Snapshot {
    pub(crate) fn new(inner: Arc<DbInner>) -> Snapshot {
        let seq = inner.snapshots.acquire(&inner.visible_seq);
        Snapshot { inner, seq }
    }

    /// The sequence number this snapshot reads at.
    pub fn seqno(&self) -> SeqNo {
        self.seq
    }

    /// The value of `key` as of the snapshot.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.inner.get_user(key, self.seq)
    }

    /// Values of several keys as of the snapshot.
    pub fn multi_get<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Option<Vec<u8>>>> {
        keys.iter()
            .map(|k| self.inner.get_user(k.as_ref(), self.seq))
            .collect()
    }

    /// Entries in `range` as of the snapshot.
    pub fn iter<K: AsRef<[u8]>>(&self, range: impl RangeBounds<K>) -> DbIter {
        self.inner
            .user_iter(DbIter::new(self.inner.current_sv(), self.seq, range))
    }

    /// Entries whose key starts with `prefix`, as of the snapshot.
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> DbIter {
        self.inner.user_iter(DbIter::prefix(
            self.inner.current_sv(),
            self.seq,
            prefix.as_ref(),
        ))
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        self.inner.snapshots.release(self.seq);
    }
}
