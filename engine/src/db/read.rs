//! Point reads: memtable, immutable memtables, then tables, newest first.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::DbInner;
use crate::key::{self, SeqNo};
use crate::memtable::Lookup;
use crate::sstable::Table;
use crate::version::levels::{TableFile, Version, find_in_level};
use crate::{Error, Result};

impl DbInner {
    /// The clock's "now", the time expiry is judged by.
    pub(crate) fn now_ms(&self) -> u64 {
        self.opts.clock.now_ms()
    }

    pub(crate) fn get_at(&self, key: &[u8], seq: SeqNo) -> Result<Option<Vec<u8>>> {
        Ok(self.get_entry_at(key, seq)?.map(|(v, _)| v))
    }

    /// The live value of `key` at `seq` and its expiry (an expired entry reads as deleted).
    pub(crate) fn get_entry_at(
        &self,
        key: &[u8],
        seq: SeqNo,
    ) -> Result<Option<(Vec<u8>, Option<u64>)>> {
        self.stats.gets.fetch_add(1, Ordering::Relaxed);
        let sv = self.current_sv();
        let found = match sv.mem.get(key, seq) {
            Some(l) => Some(l),
            None => match sv.imms.iter().find_map(|m| m.get(key, seq)) {
                Some(l) => Some(l),
                None => sv.version.get(key, seq)?,
            },
        };
        Ok(found.and_then(|l| l.live_with(|| self.now_ms())))
    }

    /// Like `get_at` for every key, with the table level batched: see [`tables_multi_get`].
    pub(crate) fn multi_get_at<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        seq: SeqNo,
    ) -> Result<Vec<Option<Vec<u8>>>> {
        if keys.len() == 1 {
            return Ok(vec![self.get_at(keys[0].as_ref(), seq)?]);
        }
        self.stats
            .gets
            .fetch_add(keys.len() as u64, Ordering::Relaxed);
        let sv = self.current_sv();
        let mut found: Vec<Option<Lookup>> = Vec::with_capacity(keys.len());
        let mut in_tables = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            let k = k.as_ref();
            let l = sv
                .mem
                .get(k, seq)
                .or_else(|| sv.imms.iter().find_map(|m| m.get(k, seq)));
            if l.is_none() {
                in_tables.push(i);
            }
            found.push(l);
        }
        let wanted: Vec<&[u8]> = in_tables.iter().map(|&i| keys[i].as_ref()).collect();
        for (i, l) in in_tables
            .into_iter()
            .zip(tables_multi_get(&sv.version, &wanted, seq)?)
        {
            found[i] = l;
        }
        let now = self.now_ms();
        Ok(found
            .into_iter()
            .map(|l| l.and_then(|l| l.live(now)).map(|(v, _)| v))
            .collect())
    }
}

/// `Version::get` for many keys at once. Each key walks the same tables in the same order
/// as a single get (L0 newest first, then the one candidate table of each deeper level),
/// but in rounds: every unresolved key advances past the tables its filter and index rule
/// out (no I/O) to its next candidate data block; the round's blocks are loaded together by
/// [`Table::read_blocks`] (cache first, the misses in one batched read), then searched.
/// Keys found (value or tombstone) drop out; the rest go on to their next table. Usually one
/// round settles every key.
fn tables_multi_get(version: &Version, keys: &[&[u8]], seq: SeqNo) -> Result<Vec<Option<Lookup>>> {
    let candidates: Vec<Vec<&Arc<TableFile>>> = keys
        .iter()
        .map(|k| {
            let l0 = version.levels[0]
                .iter()
                .filter(|t| t.meta.smallest_seq <= seq && user_range_contains(t, k));
            let deeper = version
                .levels
                .iter()
                .skip(1)
                .filter_map(|l| find_in_level(l, k));
            l0.chain(deeper).collect()
        })
        .collect();
    let mut next = vec![0usize; keys.len()];
    let mut out: Vec<Option<Lookup>> = (0..keys.len()).map(|_| None).collect();
    let mut open: Vec<usize> = (0..keys.len()).collect();
    while !open.is_empty() {
        let mut reqs = Vec::new();
        let mut owners = Vec::new();
        for &k in &open {
            while let Some(t) = candidates[k].get(next[k]) {
                match t.table.locate(keys[k], seq)? {
                    Some(h) => {
                        reqs.push((&*t.table, h));
                        owners.push(k);
                        break;
                    }
                    None => next[k] += 1,
                }
            }
        }
        if reqs.is_empty() {
            break;
        }
        let blocks = Table::read_blocks(&reqs);
        let mut still_open = Vec::new();
        for ((block, k), (table, _)) in blocks.into_iter().zip(owners).zip(&reqs) {
            match table.get_in_block(block?, keys[k], seq)? {
                Some(e) => {
                    // get_in_block rejected unknown kinds and short expiring values.
                    out[k] = Some(
                        Lookup::from_entry(e.kind, e.value)
                            .ok_or_else(|| Error::corruption("table", 0, "malformed entry"))?,
                    )
                }
                None => {
                    next[k] += 1;
                    still_open.push(k);
                }
            }
        }
        open = still_open;
    }
    Ok(out)
}

fn user_range_contains(t: &TableFile, user_key: &[u8]) -> bool {
    key::user_key(&t.meta.smallest) <= user_key && user_key <= key::user_key(&t.meta.largest)
}
