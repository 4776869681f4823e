//! Hooks that route user operations through the chunk store when dedup is on
//! (`crate::chunk::store`; design in `format-spec/chunking.md`, "Chunk store").
//!
//! A chunked value is read from one `SuperVersion` at one sequence number: the user key and
//! every chunk. Reading the chunks through a newer version could miss a chunk that GC deleted
//! and compaction dropped after the manifest was read; the pinned version still holds it.

use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::write::Request;
use super::{Db, DbInner, DbIter, SuperVersion};
use crate::batch::WriteBatch;
use crate::chunk::keys::{ChunkId, RESERVED_PREFIX, config_key, index_range, is_reserved};
use crate::chunk::options::{DedupOptions, decode_config, encode_config};
use crate::chunk::store::{ChunkFilter, ChunkStore, gc, resolve};
use crate::chunk::{GcReport, VerifyReport};
use crate::key::SeqNo;
use crate::{Error, Result};

/// A point read in one version (what `get_at` does, without counting it as a user read).
/// Reserved-space records (config, index, chunks) never expire, so no clock is needed.
pub(crate) fn lookup_in(sv: &SuperVersion, key: &[u8], seq: SeqNo) -> Result<Option<Vec<u8>>> {
    Ok(lookup_entry_in(sv, key, seq, 0)?.map(|(v, _)| v))
}

/// A point read in one version as a reader at `now_ms` sees it: the stored value (an
/// envelope for chunked keys) and its expiry.
pub(crate) fn lookup_entry_in(
    sv: &SuperVersion,
    key: &[u8],
    seq: SeqNo,
    now_ms: u64,
) -> Result<Option<(Vec<u8>, Option<u64>)>> {
    let found = match sv.mem.get(key, seq) {
        Some(l) => Some(l),
        None => match sv.imms.iter().find_map(|m| m.get(key, seq)) {
            Some(l) => Some(l),
            None => sv.version.get(key, seq)?,
        },
    };
    Ok(found.and_then(|l| l.live(now_ms)))
}

impl DbInner {
    pub(crate) fn dedup(&self) -> Option<&Arc<ChunkStore>> {
        self.dedup.get().and_then(Option::as_ref)
    }

    /// Runs at the end of open, once background threads run (the first open with dedup
    /// writes the configuration). Fixes the prefixes (see `DedupOptions`) and builds the
    /// chunk filter from the index records.
    pub(crate) fn init_dedup(&self) -> Result<()> {
        let sv = self.current_sv();
        let seq = self.visible_seq.load(Ordering::Acquire);
        let stored = match lookup_in(&sv, &config_key(), seq)? {
            Some(v) => Some(decode_config(&v)?),
            None => None,
        };
        let opts = match (&self.opts.dedup, stored) {
            (None, None) => {
                let _ = self.dedup.set(None);
                return Ok(());
            }
            (None, Some(prefixes)) => DedupOptions {
                prefixes,
                ..DedupOptions::default()
            },
            (Some(o), Some(prefixes)) => {
                o.validate()?;
                if o.normalized_prefixes() != prefixes {
                    return Err(Error::InvalidArgument(
                        "dedup prefixes differ from the ones this database was created with".into(),
                    ));
                }
                DedupOptions {
                    threshold: o.threshold,
                    prefixes,
                }
            }
            (Some(o), None) => {
                o.validate()?;
                let opts = DedupOptions {
                    threshold: o.threshold,
                    prefixes: o.normalized_prefixes(),
                };
                self.enable_dedup(&opts, &sv, seq)?;
                opts
            }
        };
        let (lo, hi) = index_range();
        let mut hashes = Vec::new();
        let mut bytes = 0u64;
        for entry in DbIter::new(Arc::clone(&sv), seq, lo..hi) {
            let (k, _) = entry?;
            if let Some(id) = ChunkId::from_index_key(&k) {
                hashes.push(id.filter_hash());
                bytes += u64::from(id.len);
            }
        }
        let filter = ChunkFilter::from_hashes(&hashes);
        let store = ChunkStore::new(opts, filter, hashes.len() as u64, bytes);
        let _ = self.dedup.set(Some(Arc::new(store)));
        Ok(())
    }

    /// First open with dedup: existing values under the prefixes have no envelope, so
    /// dedup can only start on prefixes (and a reserved space) that hold nothing yet.
    fn enable_dedup(&self, opts: &DedupOptions, sv: &Arc<SuperVersion>, seq: SeqNo) -> Result<()> {
        let reserved = (
            Bound::Included(RESERVED_PREFIX.to_vec()),
            Bound::<Vec<u8>>::Unbounded,
        );
        let mut probes = vec![DbIter::new(Arc::clone(sv), seq, reserved)];
        if opts.prefixes.is_empty() {
            probes.push(DbIter::new::<&[u8]>(Arc::clone(sv), seq, ..));
        }
        for p in &opts.prefixes {
            probes.push(DbIter::prefix(Arc::clone(sv), seq, p));
        }
        for mut it in probes {
            if let Some(e) = it.next() {
                e?;
                return Err(Error::InvalidArgument(
                    "dedup can only be enabled on key prefixes that hold no data yet".into(),
                ));
            }
        }
        let mut b = WriteBatch::new();
        b.put(config_key(), encode_config(&opts.prefixes));
        self.submit(Request::Batch(b))
    }

    /// A user read: the stored value, reassembled if it is chunked.
    pub(crate) fn get_user(&self, key: &[u8], seq: SeqNo) -> Result<Option<Vec<u8>>> {
        Ok(self.get_user_entry(key, seq)?.map(|(v, _)| v))
    }

    /// A user read with the value's expiry (unix ms), if it has one.
    pub(crate) fn get_user_entry(
        &self,
        key: &[u8],
        seq: SeqNo,
    ) -> Result<Option<(Vec<u8>, Option<u64>)>> {
        let Some(store) = self.dedup() else {
            return self.get_entry_at(key, seq);
        };
        self.stats.gets.fetch_add(1, Ordering::Relaxed);
        if is_reserved(key) {
            return Ok(None);
        }
        let sv = self.current_sv();
        let Some((raw, expiry)) = lookup_entry_in(&sv, key, seq, self.now_ms())? else {
            return Ok(None);
        };
        if !store.opts.applies_to(key) {
            return Ok(Some((raw, expiry)));
        }
        resolve(raw, key, |k| lookup_in(&sv, k, seq)).map(|v| Some((v, expiry)))
    }

    /// A user iterator: the reserved space hidden, chunked values reassembled.
    pub(crate) fn user_iter(&self, mut it: DbIter) -> DbIter {
        if let Some(store) = self.dedup() {
            let cap = RESERVED_PREFIX.to_vec();
            let inside = match &it.upper {
                Bound::Unbounded => false,
                Bound::Included(u) => u.as_slice() < cap.as_slice(),
                Bound::Excluded(u) => u.as_slice() <= cap.as_slice(),
            };
            if !inside {
                it.upper = Bound::Excluded(cap);
            }
            it.dedup = Some(Arc::clone(store));
        }
        it.now_ms = Some(self.now_ms());
        it
    }
}

impl DbIter {
    /// The user's value for a raw entry this iterator produced.
    pub(super) fn user_value(&self, key: &[u8], raw: Vec<u8>) -> Result<Vec<u8>> {
        match &self.dedup {
            Some(s) if s.opts.applies_to(key) => {
                resolve(raw, key, |k| lookup_in(&self.sv, k, self.seq))
            }
            _ => Ok(raw),
        }
    }
}

impl Db {
    /// The dedup write path: chunk, commit new chunks, then the manifests.
    pub(super) fn write_deduped(&self, store: &ChunkStore, batch: WriteBatch) -> Result<()> {
        let inner = &self.inner;
        if !store.rewrites(&batch) {
            return self.write_raw(batch);
        }
        let mut p = store.prepare(&batch, |id| {
            let seq = inner.visible_seq.load(Ordering::Acquire);
            Ok(lookup_in(&inner.current_sv(), &id.index_key(), seq)?.is_some())
        })?;
        drop(batch);
        for b in std::mem::take(&mut p.chunk_batches) {
            self.write_raw(b)?;
        }
        self.write_raw(std::mem::take(&mut p.batch))?;
        store.committed(&p);
        Ok(())
    }

    /// Runs one garbage-collection pass: deletes every stored chunk that no live value
    /// references, except chunks an upload running meanwhile relies on. Values visible to live
    /// snapshots stay readable. The space returns once compaction drops the deleted records
    /// (`compact_all` forces it). Without dedup, does nothing.
    pub fn gc(&self) -> Result<GcReport> {
        let inner = &self.inner;
        inner.check_writable()?;
        let Some(store) = inner.dedup() else {
            return Ok(GcReport::default());
        };
        let _one = store.gc_lock.lock();
        // Order matters (see chunk/store/gc.rs): start recording claims, then pick S.
        store.pins.lock().begin_gc();
        let _end = gc::EndGc(store);
        let snap = self.snapshot();
        let sv = inner.current_sv();
        gc::run(store, &sv, snap.seqno(), |b| self.write_raw(b))
    }

    /// Checks the chunk store at the current sequence number: every chunk a live value
    /// references must be stored (`missing_chunks == 0`); also counts garbage. Reads every
    /// chunk: for tests and repair tools.
    pub fn verify_chunks(&self) -> Result<VerifyReport> {
        let Some(store) = self.inner.dedup() else {
            return Ok(VerifyReport::default());
        };
        let _one = store.gc_lock.lock();
        let snap = self.snapshot();
        let sv = self.inner.current_sv();
        gc::verify(store, &sv, snap.seqno())
    }
}
