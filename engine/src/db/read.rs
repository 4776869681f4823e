//! Point reads: memtable, immutable memtables, then tables, newest first.

use std::sync::atomic::Ordering;

use super::DbInner;
use crate::Result;
use crate::key::SeqNo;
use crate::memtable::Lookup;

impl DbInner {
    pub(crate) fn get_at(&self, key: &[u8], seq: SeqNo) -> Result<Option<Vec<u8>>> {
        self.stats.gets.fetch_add(1, Ordering::Relaxed);
        let sv = self.current_sv();
        let found = match sv.mem.get(key, seq) {
            Some(l) => Some(l),
            None => match sv.imms.iter().find_map(|m| m.get(key, seq)) {
                Some(l) => Some(l),
                None => sv.version.get(key, seq)?,
            },
        };
        Ok(match found {
            Some(Lookup::Value(v)) => Some(v),
            Some(Lookup::Deleted) | None => None,
        })
    }

    pub(crate) fn multi_get_at<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        seq: SeqNo,
    ) -> Result<Vec<Option<Vec<u8>>>> {
        keys.iter().map(|k| self.get_at(k.as_ref(), seq)).collect()
    }
}
