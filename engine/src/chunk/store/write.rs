//! The write path: turns a user batch into chunk records plus a batch of manifests.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use super::{ChunkStore, PinGuard};
use crate::batch::WriteBatch;
use crate::chunk::cdc::chunks;
use crate::chunk::keys::{ChunkId, is_reserved};
use crate::chunk::manifest::{MAX_DEDUP_VALUE_LEN, Manifest, encode_inline};
use crate::key::Kind;
use crate::{Error, Result};

/// New chunks and the user's ops go in one atomic batch when together they stay under this;
/// bigger uploads commit their chunks first, in batches of [`CHUNK_BATCH_BYTES`]. Chunks
/// without a manifest are harmless (the next GC removes them), a manifest never commits
/// before its chunks.
const SINGLE_BATCH_BYTES: usize = 32 << 20;
const CHUNK_BATCH_BYTES: usize = 64 << 20;

/// A user batch ready to commit: `chunk_batches` first, in order, then `batch`. Holds the
/// upload's pins until dropped, i.e. until after the commits.
#[derive(Debug)]
pub(crate) struct Prepared<'a> {
    pub chunk_batches: Vec<WriteBatch>,
    pub batch: WriteBatch,
    /// Held, never read: dropping it unpins.
    pub _pins: PinGuard<'a>,
    new_chunks: u64,
    new_bytes: u64,
    reused: u64,
    logical: u64,
}

impl ChunkStore {
    /// Chunks the batch's large values. `exists` reads an index record at the newest
    /// sequence number; it is asked only about chunks the filter may hold, and only after the
    /// chunks are pinned (see `pins`).
    pub(crate) fn prepare(
        &self,
        batch: &WriteBatch,
        mut exists: impl FnMut(&ChunkId) -> Result<bool>,
    ) -> Result<Prepared<'_>> {
        let mut out = WriteBatch::new();
        let mut seen = HashSet::new();
        let mut distinct: Vec<(ChunkId, &[u8])> = Vec::new();
        let mut logical = 0u64;
        let mut buf = Vec::new();
        for (i, op) in batch.iter().enumerate() {
            if is_reserved(op.key) {
                return Err(Error::InvalidArgument(format!(
                    "key of operation {i} starts with the reserved prefix 0xFF x 8"
                )));
            }
            if op.kind == Kind::Delete {
                out.delete(op.key);
                continue;
            }
            if !self.opts.applies_to(op.key) {
                out.push_op(&op);
                continue;
            }
            // An expiring value is chunked like any other; its envelope is stored expiring.
            let Some((value, expiry)) = op.user_value() else {
                out.delete(op.key);
                continue;
            };
            buf.clear();
            if value.len() <= self.opts.threshold {
                encode_inline(value, &mut buf);
            } else {
                if value.len() as u64 > MAX_DEDUP_VALUE_LEN {
                    return Err(Error::InvalidArgument(format!(
                        "value of operation {i} is {} bytes, the limit is {MAX_DEDUP_VALUE_LEN}",
                        value.len()
                    )));
                }
                let mut m = Manifest {
                    total_len: value.len() as u64,
                    chunks: Vec::new(),
                };
                for c in chunks(&self.chunker, value) {
                    let id = ChunkId::of(c);
                    m.chunks.push(id);
                    if seen.insert(id) {
                        distinct.push((id, c));
                    }
                }
                logical += m.total_len;
                m.encode(&mut buf);
            }
            match expiry {
                Some(t) => out.put_with_expiry(op.key, &buf, t),
                None => out.put(op.key, &buf),
            }
        }
        let pins = self.pin(distinct.iter().map(|(id, _)| *id).collect());
        let mut fresh = Vec::new();
        for (id, c) in distinct {
            if !(self.filter.may_contain(&id) && exists(&id)?) {
                fresh.push((id, c));
            }
        }
        let reused = seen.len() as u64 - fresh.len() as u64;
        let new_bytes: usize = fresh.iter().map(|(_, c)| c.len()).sum();
        let mut chunk_batches = Vec::new();
        let batch = if new_bytes + out.approximate_size() <= SINGLE_BATCH_BYTES {
            let mut one = WriteBatch::new();
            add_chunks(&mut one, &fresh);
            for op in out.iter() {
                one.push_op(&op);
            }
            one
        } else {
            let mut cur = WriteBatch::new();
            for f in &fresh {
                if cur.approximate_size() + f.1.len() > CHUNK_BATCH_BYTES {
                    chunk_batches.push(std::mem::take(&mut cur));
                }
                add_chunks(&mut cur, std::slice::from_ref(f));
            }
            if !cur.is_empty() {
                chunk_batches.push(cur);
            }
            out
        };
        for (id, _) in &fresh {
            self.filter.insert(id);
        }
        Ok(Prepared {
            chunk_batches,
            batch,
            _pins: pins,
            new_chunks: fresh.len() as u64,
            new_bytes: new_bytes as u64,
            reused,
            logical,
        })
    }

    /// Whether `prepare` would change the batch: false when no op puts under a dedup prefix
    /// or touches the reserved space, so such batches skip the copy.
    pub(crate) fn rewrites(&self, batch: &WriteBatch) -> bool {
        batch.iter().any(|op| {
            is_reserved(op.key) || (op.kind != Kind::Delete && self.opts.applies_to(op.key))
        })
    }

    /// Counts a prepared batch once it is committed.
    pub(crate) fn committed(&self, p: &Prepared<'_>) {
        let c = &self.counters;
        c.chunks.fetch_add(p.new_chunks, Ordering::Relaxed);
        c.chunk_bytes.fetch_add(p.new_bytes, Ordering::Relaxed);
        c.chunks_written.fetch_add(p.new_chunks, Ordering::Relaxed);
        c.chunk_bytes_written
            .fetch_add(p.new_bytes, Ordering::Relaxed);
        c.chunks_reused.fetch_add(p.reused, Ordering::Relaxed);
        c.logical_bytes_written
            .fetch_add(p.logical, Ordering::Relaxed);
    }
}

/// A chunk is two records, always written (and deleted) in the same batch.
fn add_chunks(b: &mut WriteBatch, chunks: &[(ChunkId, &[u8])]) {
    for (id, c) in chunks {
        b.put(id.data_key(), c);
        b.put(id.index_key(), []);
    }
}
