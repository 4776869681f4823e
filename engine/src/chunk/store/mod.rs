//! The chunk store attached to an open database: the chunker, the in-memory filter of stored
//! chunk ids, upload pins, and counters. Design and invariants: `format-spec/chunking.md`,
//! "Chunk store".
//!
//! All dedup work (chunking, hashing, existence checks) runs on the caller's thread before
//! the batch reaches the group-commit leader, which stays unchanged: no reads in the leader.

mod filter;
pub(crate) mod gc;
mod pins;
mod read;
mod write;

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use super::cdc::{ChunkSizes, GearChunker};
use super::options::{DedupOptions, DedupStats};
pub(crate) use filter::ChunkFilter;
pub(crate) use pins::{PinGuard, Pins};
pub(crate) use read::resolve;

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub chunks: AtomicU64,
    pub chunk_bytes: AtomicU64,
    pub live_logical_bytes: AtomicU64,
    pub live_chunk_bytes: AtomicU64,
    pub logical_bytes_written: AtomicU64,
    pub chunks_written: AtomicU64,
    pub chunks_reused: AtomicU64,
    pub chunk_bytes_written: AtomicU64,
    pub gc_runs: AtomicU64,
    pub gc_chunks_reclaimed: AtomicU64,
    pub gc_bytes_reclaimed: AtomicU64,
}

#[derive(Debug)]
pub(crate) struct ChunkStore {
    /// Prefixes normalized (see `DedupOptions::normalized_prefixes`).
    pub opts: DedupOptions,
    pub chunker: GearChunker,
    pub filter: ChunkFilter,
    pub pins: Mutex<Pins>,
    /// One GC pass (or verification) at a time.
    pub gc_lock: Mutex<()>,
    pub counters: Counters,
}

impl ChunkStore {
    pub(crate) fn new(opts: DedupOptions, filter: ChunkFilter, chunks: u64, bytes: u64) -> Self {
        let chunker = GearChunker::new(ChunkSizes::DEFAULT).expect("default sizes are valid");
        let counters = Counters::default();
        counters.chunks.store(chunks, Ordering::Relaxed);
        counters.chunk_bytes.store(bytes, Ordering::Relaxed);
        ChunkStore {
            opts,
            chunker,
            filter,
            pins: Mutex::new(Pins::default()),
            gc_lock: Mutex::new(()),
            counters,
        }
    }

    pub(crate) fn stats(&self) -> DedupStats {
        let c = &self.counters;
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (logical, live) = (l(&c.live_logical_bytes), l(&c.live_chunk_bytes));
        DedupStats {
            chunks: l(&c.chunks),
            chunk_bytes: l(&c.chunk_bytes),
            live_logical_bytes: logical,
            live_chunk_bytes: live,
            dedup_ratio: if live == 0 {
                1.0
            } else {
                logical as f64 / live as f64
            },
            logical_bytes_written: l(&c.logical_bytes_written),
            chunks_written: l(&c.chunks_written),
            chunks_reused: l(&c.chunks_reused),
            chunk_bytes_written: l(&c.chunk_bytes_written),
            gc_runs: l(&c.gc_runs),
            gc_chunks_reclaimed: l(&c.gc_chunks_reclaimed),
            gc_bytes_reclaimed: l(&c.gc_bytes_reclaimed),
        }
    }
}
