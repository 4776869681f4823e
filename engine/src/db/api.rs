//! The public operations of [`Db`].

use std::ops::RangeBounds;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::stats::{DbStats, LevelStats, load};
use super::write::Request;
use super::{Db, DbIter, Snapshot};

/// One live table, as listed by [`Db::tables`].
#[derive(Debug, Clone)]
pub struct LiveTable {
    pub level: usize,
    pub number: u64,
    pub file_size: u64,
    pub table: Arc<crate::sstable::Table>,
}
use crate::batch::WriteBatch;
use crate::key::MAX_KEY_LEN;
use crate::{Error, Result};

fn check_key(key: &[u8]) -> Result<()> {
    if key.len() > MAX_KEY_LEN {
        return Err(Error::InvalidArgument(format!(
            "key of {} bytes exceeds the {MAX_KEY_LEN}-byte limit",
            key.len()
        )));
    }
    Ok(())
}

/// Largest batch: a WAL record holds one batch and is capped at 512 MiB.
const MAX_BATCH_BYTES: usize = 512 << 20;

impl Db {
    /// Stores `value` under `key`. Returns once durable per [`crate::SyncMode`].
    pub fn put(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        let (key, value) = (key.as_ref(), value.as_ref());
        let mut b = WriteBatch::with_capacity(1, key.len() + value.len());
        b.put(key, value);
        self.write(b)
    }

    /// Stores `value` under `key` until `expires_at_ms` (unix milliseconds by
    /// [`crate::Options::clock`]); from then on every read treats the key as deleted and
    /// compaction reclaims it.
    pub fn put_with_expiry(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        expires_at_ms: u64,
    ) -> Result<()> {
        let mut b = WriteBatch::new();
        b.put_with_expiry(key, value, expires_at_ms);
        self.write(b)
    }

    /// Deletes `key` (a tombstone; absent keys are fine).
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Result<()> {
        let key = key.as_ref();
        let mut b = WriteBatch::with_capacity(1, key.len());
        b.delete(key);
        self.write(b)
    }

    /// Applies every operation of `batch` atomically: readers and recovery see all or none.
    pub fn write(&self, batch: WriteBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        if let Some(store) = self.inner.dedup() {
            return self.write_deduped(store, batch);
        }
        self.write_raw(batch)
    }

    /// `write` without the chunk store: the batch goes to the log as it is.
    pub(super) fn write_raw(&self, batch: WriteBatch) -> Result<()> {
        batch.validate()?;
        if batch.approximate_size() > MAX_BATCH_BYTES {
            return Err(Error::InvalidArgument(format!(
                "batch of {} bytes exceeds the {MAX_BATCH_BYTES}-byte limit",
                batch.approximate_size()
            )));
        }
        self.inner.submit(Request::Batch(batch))
    }

    /// The current value of `key`.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        check_key(key)?;
        let seq = self.inner.visible_seq.load(Ordering::Acquire);
        self.inner.get_user(key, seq)
    }

    /// The current value of `key` and its expiry in unix ms (`None`: it never expires).
    pub fn get_with_expiry(&self, key: impl AsRef<[u8]>) -> Result<Option<(Vec<u8>, Option<u64>)>> {
        let key = key.as_ref();
        check_key(key)?;
        let seq = self.inner.visible_seq.load(Ordering::Acquire);
        self.inner.get_user_entry(key, seq)
    }

    /// "Now" by the database's clock, in unix ms: the time expiry is judged by.
    pub fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }

    /// Values of several keys, all read at the same sequence number.
    pub fn multi_get<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Option<Vec<u8>>>> {
        for k in keys {
            check_key(k.as_ref())?;
        }
        let seq = self.inner.visible_seq.load(Ordering::Acquire);
        if self.inner.dedup().is_some() {
            return keys
                .iter()
                .map(|k| self.inner.get_user(k.as_ref(), seq))
                .collect();
        }
        self.inner.multi_get_at(keys, seq)
    }

    /// Iterates over `range` (any `RangeBounds` of byte-like keys), forward or with `.rev()`.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = scipkv_engine::Db::open(dir.path(), Default::default()).unwrap();
    /// for k in ["a", "b", "c"] { db.put(k, "v").unwrap(); }
    /// let keys: Vec<_> = db.iter(&b"b"[..]..).rev().map(|r| r.unwrap().0).collect();
    /// assert_eq!(keys, vec![b"c".to_vec(), b"b".to_vec()]);
    /// ```
    pub fn iter<K: AsRef<[u8]>>(&self, range: impl RangeBounds<K>) -> DbIter {
        let seq = self.inner.visible_seq.load(Ordering::Acquire);
        self.inner
            .user_iter(DbIter::new(self.inner.current_sv(), seq, range))
    }

    /// Iterates over the keys that start with `prefix`.
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> DbIter {
        let seq = self.inner.visible_seq.load(Ordering::Acquire);
        self.inner.user_iter(DbIter::prefix(
            self.inner.current_sv(),
            seq,
            prefix.as_ref(),
        ))
    }

    /// A consistent read-only view as of now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::new(Arc::clone(&self.inner))
    }

    /// Writes the memtable out as a table and waits until every memtable that held data
    /// when the call began is in a table (so the WAL no longer needs replaying).
    pub fn flush(&self) -> Result<()> {
        self.inner.submit(Request::SwitchMemtable)?;
        let inner = &self.inner;
        let target = inner.current_sv().mem.wal_number();
        let mut f = inner.flush.lock();
        let start_gen = f.generation;
        loop {
            if !inner
                .current_sv()
                .imms
                .iter()
                .any(|m| m.wal_number() < target)
            {
                return Ok(());
            }
            if f.shutting_down {
                return Err(Error::Closed);
            }
            // Only an attempt that began after this call (two generations on) counts: one
            // already running may have failed on a condition that has since cleared.
            if let (Some(e), true) = (&f.error, f.generation >= start_gen + 2) {
                return Err(Error::io(
                    "flushing memtables",
                    std::io::Error::other(e.clone()),
                ));
            }
            inner.flush_wake.notify_one();
            inner.flush_done.wait(&mut f);
        }
    }

    /// Compacts until no level is over its target (what the background threads do anyway).
    pub fn compact(&self) -> Result<()> {
        self.inner.check_writable()?;
        self.inner.compact_now(false)
    }

    /// Moves all table data down to the last level, rewriting it with each level's codec on
    /// the way and dropping every version no snapshot can see. For reclaiming space after bulk
    /// deletes, and for tests and benchmarks.
    pub fn compact_all(&self) -> Result<()> {
        self.inner.check_writable()?;
        self.inner.compact_now(true)
    }

    /// Waits until background compaction has nothing left to do for the data as it is now:
    /// no level over its target and, if `CompactionOptions::idle_after` is set, that long
    /// without writes and idle compaction finished. `Ok(false)` if `timeout` passes first.
    /// Memtables are not flushed (see `flush`). For benchmarks that measure a store at rest
    /// and for tests; an error if background compaction is off.
    pub fn wait_for_rest(&self, timeout: std::time::Duration) -> Result<bool> {
        self.inner.wait_for_rest(timeout)
    }

    /// Makes every acknowledged write durable (useful with `SyncMode::Interval` or `Never`).
    pub fn sync_wal(&self) -> Result<()> {
        self.inner.check_writable()?;
        self.inner.sync_wal()
    }

    /// Stops background work and syncs the WAL. Further calls on any clone fail or are no-ops.
    /// Dropping the last clone does the same, ignoring errors.
    pub fn close(self) -> Result<()> {
        self.guard.close()
    }

    /// The live tables, level by level (L0 newest first), for tools and tests that inspect
    /// the files themselves (e.g. which codec each block uses).
    pub fn tables(&self) -> Vec<LiveTable> {
        self.inner
            .current_sv()
            .version
            .all_tables()
            .map(|(level, t)| LiveTable {
                level,
                number: t.meta.number,
                file_size: t.meta.file_size,
                table: Arc::clone(&t.table),
            })
            .collect()
    }

    /// What recovery found at open.
    pub fn recovery_info(&self) -> &super::RecoveryInfo {
        &self.inner.recovery
    }

    /// Counters and sizes, for monitoring and tests.
    pub fn stats(&self) -> DbStats {
        let i = &self.inner;
        let sv = i.current_sv();
        let levels = sv
            .version
            .levels
            .iter()
            .map(|l| LevelStats {
                files: l.len(),
                bytes: l.iter().map(|t| t.meta.file_size).sum(),
                raw_bytes: l
                    .iter()
                    .map(|t| {
                        t.table.properties().raw_key_bytes + t.table.properties().raw_value_bytes
                    })
                    .sum(),
                entries: l.iter().map(|t| t.meta.num_entries).sum(),
            })
            .collect();
        let c = &i.stats;
        let blocks_read: u64 = sv
            .version
            .all_tables()
            .map(|(_, t)| t.table.blocks_read())
            .sum();
        DbStats {
            levels,
            memtable_bytes: sv.mem.approximate_bytes() as u64
                + sv.imms
                    .iter()
                    .map(|m| m.approximate_bytes() as u64)
                    .sum::<u64>(),
            immutable_memtables: sv.imms.len(),
            last_seqno: i.visible_seq.load(Ordering::Acquire),
            live_snapshots: i.snapshots.len(),
            writes: load(&c.writes),
            write_groups: load(&c.write_groups),
            wal_bytes: load(&c.wal_bytes),
            wal_syncs: load(&c.wal_syncs),
            flushes: load(&c.flushes),
            flush_bytes: load(&c.flush_bytes),
            flush_errors: load(&c.flush_errors),
            stalls: load(&c.stalls),
            stall_micros: load(&c.stall_micros),
            gets: load(&c.gets),
            blocks_read,
            compactions: load(&c.compactions),
            trivial_moves: load(&c.trivial_moves),
            idle_compactions: load(&c.idle_compactions),
            compactions_abandoned: load(&c.compactions_abandoned),
            compaction_errors: load(&c.compaction_errors),
            compaction_bytes_in: load(&c.compaction_bytes_in),
            compaction_bytes_out: load(&c.compaction_bytes_out),
            compaction_entries_dropped: load(&c.compaction_entries_dropped),
            compaction_micros: load(&c.compaction_micros),
            slowdowns: load(&c.slowdowns),
            stops: load(&c.stops),
            write_amplification: {
                let wal = load(&c.wal_bytes);
                if wal == 0 {
                    0.0
                } else {
                    (load(&c.flush_bytes) + load(&c.compaction_bytes_out)) as f64 / wal as f64
                }
            },
            level_scores: crate::compaction::picker::scores(&sv.version, &i.opts.compaction),
            cache: i.cache.stats(),
            blocks_read_per_get: match load(&c.gets) {
                0 => 0.0,
                gets => blocks_read as f64 / gets as f64,
            },
            poisoned: i.poisoned.load(Ordering::Acquire),
            dedup: i.dedup().map(|d| d.stats()),
            read_path: crate::storage::read_path_stats(),
            volume: i.storage.volume_stats(),
            recovery: i.recovery.clone(),
        }
    }
}
