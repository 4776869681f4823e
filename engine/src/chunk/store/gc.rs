//! Garbage collection (mark and sweep at one sequence number) and the consistency check.
//!
//! The caller (`db/dedup.rs`) holds `gc_lock`, starts the pins' `touched` record, and only
//! then takes a snapshot at sequence number `S`, in that order: every manifest committed after
//! `S` belongs to an upload that pinned its chunks before `S` (so they were copied into
//! `touched` at the start) or after the start (so they were added). The pass then marks every
//! chunk referenced by a manifest visible at `S`, lists the chunks stored at `S`, and deletes
//! the rest except `touched`. Snapshots older than `S` need no marking: GC deletes with
//! tombstones newer than them, and compaction keeps the versions a live snapshot can see.

use std::collections::HashSet;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::ChunkStore;
use crate::batch::WriteBatch;
use crate::chunk::keys::{ChunkId, DATA_TAG, RESERVED_PREFIX, index_range};
use crate::chunk::manifest::{Stored, decode};
use crate::chunk::options::{GcReport, VerifyReport};
use crate::db::{DbIter, SuperVersion};
use crate::key::SeqNo;
use crate::{Error, Result};

/// Chunks deleted per batch: bounded so one GC commit never holds the write path for long.
const DELETES_PER_BATCH: usize = 4096;

/// Ends a GC pass's `touched` record however the pass ends.
#[derive(Debug)]
pub(crate) struct EndGc<'a>(pub &'a ChunkStore);

impl Drop for EndGc<'_> {
    fn drop(&mut self) {
        self.0.pins.lock().touched = None;
    }
}

/// What a scan at one sequence number found.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub live: HashSet<ChunkId>,
    pub manifests: u64,
    pub logical: u64,
    /// Every chunk with an index record.
    pub stored: Vec<ChunkId>,
}

/// Raw (enveloped) values of every key under the dedup prefixes.
fn user_ranges(store: &ChunkStore, sv: &Arc<SuperVersion>, seq: SeqNo) -> Vec<DbIter> {
    if store.opts.prefixes.is_empty() {
        let all = (Bound::Unbounded, Bound::Excluded(RESERVED_PREFIX.to_vec()));
        return vec![DbIter::new(Arc::clone(sv), seq, all)];
    }
    store
        .opts
        .prefixes
        .iter()
        .map(|p| DbIter::prefix(Arc::clone(sv), seq, p))
        .collect()
}

pub(crate) fn scan(store: &ChunkStore, sv: &Arc<SuperVersion>, seq: SeqNo) -> Result<Scan> {
    let mut s = Scan::default();
    for it in user_ranges(store, sv, seq) {
        for entry in it {
            let (k, v) = entry?;
            // A value that does not decode stops the pass: deleting after an incomplete
            // mark could reclaim live chunks.
            if let Stored::Chunked(m) = decode(&v).map_err(|e| in_key(e, &k))? {
                s.manifests += 1;
                s.logical += m.total_len;
                s.live.extend(m.chunks);
            }
        }
    }
    let (lo, hi) = index_range();
    for entry in DbIter::new(Arc::clone(sv), seq, lo..hi) {
        let (k, _) = entry?;
        let id = ChunkId::from_index_key(&k)
            .ok_or_else(|| Error::corruption("chunk index", 0, "malformed index key"))?;
        s.stored.push(id);
    }
    Ok(s)
}

fn in_key(e: Error, k: &[u8]) -> Error {
    match e {
        Error::Corruption { what, .. } => Error::corruption(
            format!("value of key {}", String::from_utf8_lossy(k)),
            0,
            what,
        ),
        e => e,
    }
}

/// One GC pass at `seq` (see the module comment for what the caller must do first).
pub(crate) fn run(
    store: &ChunkStore,
    sv: &Arc<SuperVersion>,
    seq: SeqNo,
    mut submit: impl FnMut(WriteBatch) -> Result<()>,
) -> Result<GcReport> {
    let c = &store.counters;
    let written_at_start = (
        c.chunks_written.load(Ordering::Relaxed),
        c.chunk_bytes_written.load(Ordering::Relaxed),
    );
    let scan = scan(store, sv, seq)?;
    let mut report = GcReport {
        seqno: seq,
        manifests: scan.manifests,
        chunks_scanned: scan.stored.len() as u64,
        ..GcReport::default()
    };
    let mut candidates: Vec<ChunkId> = scan
        .stored
        .iter()
        .filter(|id| !scan.live.contains(id))
        .copied()
        .collect();
    {
        let mut pins = store.pins.lock();
        let touched = pins.touched.take().unwrap_or_default();
        let before = candidates.len();
        candidates.retain(|id| !touched.contains(id));
        report.chunks_kept_in_flight = (before - candidates.len()) as u64;
        // Deletes commit while the pins lock is held, so no upload can claim one of these
        // chunks between the check above and the delete becoming visible.
        for group in candidates.chunks(DELETES_PER_BATCH) {
            let mut b = WriteBatch::new();
            for id in group {
                b.delete(id.data_key());
                b.delete(id.index_key());
            }
            submit(b)?;
            report.chunks_deleted += group.len() as u64;
            report.bytes_deleted += group.iter().map(|id| u64::from(id.len)).sum::<u64>();
        }
    }
    let deleted: HashSet<ChunkId> = candidates.into_iter().collect();
    let survivors: Vec<u64> = scan
        .stored
        .iter()
        .filter(|id| !deleted.contains(id))
        .map(ChunkId::filter_hash)
        .collect();
    store.filter.rebuild(&survivors);
    let stored_bytes: u64 = scan.stored.iter().map(|id| u64::from(id.len)).sum();
    let live_bytes: u64 = scan.live.iter().map(|id| u64::from(id.len)).sum();
    let since = (
        c.chunks_written.load(Ordering::Relaxed) - written_at_start.0,
        c.chunk_bytes_written.load(Ordering::Relaxed) - written_at_start.1,
    );
    c.chunks
        .store(survivors.len() as u64 + since.0, Ordering::Relaxed);
    c.chunk_bytes.store(
        stored_bytes - report.bytes_deleted + since.1,
        Ordering::Relaxed,
    );
    c.live_logical_bytes.store(scan.logical, Ordering::Relaxed);
    c.live_chunk_bytes.store(live_bytes, Ordering::Relaxed);
    c.gc_runs.fetch_add(1, Ordering::Relaxed);
    c.gc_chunks_reclaimed
        .fetch_add(report.chunks_deleted, Ordering::Relaxed);
    c.gc_bytes_reclaimed
        .fetch_add(report.bytes_deleted, Ordering::Relaxed);
    Ok(report)
}

/// Checks, at `seq`, that every referenced chunk has both records and counts garbage.
pub(crate) fn verify(
    store: &ChunkStore,
    sv: &Arc<SuperVersion>,
    seq: SeqNo,
) -> Result<VerifyReport> {
    let scan = scan(store, sv, seq)?;
    let mut data = HashSet::new();
    let mut lo = RESERVED_PREFIX.to_vec();
    lo.push(DATA_TAG);
    let mut hi = RESERVED_PREFIX.to_vec();
    hi.push(DATA_TAG + 1);
    for entry in DbIter::new(Arc::clone(sv), seq, lo..hi) {
        let (k, v) = entry?;
        let id = ChunkId::of(&v);
        if k != id.data_key() {
            return Err(Error::corruption(
                "chunk data",
                0,
                "a chunk's content does not match its key",
            ));
        }
        data.insert(id);
    }
    let index: HashSet<ChunkId> = scan.stored.iter().copied().collect();
    let c = &store.counters;
    c.live_logical_bytes.store(scan.logical, Ordering::Relaxed);
    let live_bytes = scan.live.iter().map(|id| u64::from(id.len)).sum();
    c.live_chunk_bytes.store(live_bytes, Ordering::Relaxed);
    Ok(VerifyReport {
        seqno: seq,
        manifests: scan.manifests,
        referenced_chunks: scan.live.len() as u64,
        missing_chunks: scan
            .live
            .iter()
            .filter(|id| !index.contains(id) || !data.contains(id))
            .count() as u64,
        unreferenced_chunks: index.iter().filter(|id| !scan.live.contains(id)).count() as u64,
        half_written_chunks: index.symmetric_difference(&data).count() as u64,
        logical_bytes: scan.logical,
        referenced_chunk_bytes: live_bytes,
    })
}
