//! Counters and the stats snapshot returned by `Db::stats`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters, updated with relaxed atomics on the hot paths.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub writes: AtomicU64,
    pub write_groups: AtomicU64,
    pub wal_bytes: AtomicU64,
    pub wal_syncs: AtomicU64,
    pub flushes: AtomicU64,
    pub flush_bytes: AtomicU64,
    pub flush_errors: AtomicU64,
    pub stall_micros: AtomicU64,
    pub stalls: AtomicU64,
    pub gets: AtomicU64,
    pub compactions: AtomicU64,
    pub trivial_moves: AtomicU64,
    pub idle_compactions: AtomicU64,
    pub compactions_abandoned: AtomicU64,
    pub compaction_errors: AtomicU64,
    pub compaction_bytes_in: AtomicU64,
    pub compaction_bytes_out: AtomicU64,
    pub compaction_entries_dropped: AtomicU64,
    pub compaction_micros: AtomicU64,
    pub slowdowns: AtomicU64,
    pub stops: AtomicU64,
}

/// Per-level table counts and sizes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LevelStats {
    pub files: usize,
    pub bytes: u64,
    /// Key and value bytes before encoding and compression (for the compression ratio).
    pub raw_bytes: u64,
    pub entries: u64,
}

/// What recovery found when the database was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryInfo {
    /// WAL segments replayed.
    pub wal_segments: u64,
    /// Batches replayed from them.
    pub wal_batches: u64,
    /// Where a torn (incompletely written, never acknowledged) WAL tail was cut, if any:
    /// `(segment file, offset)`.
    pub torn_tail: Option<(String, u64)>,
    /// WAL segments skipped because their header was never durable and a later segment
    /// exists (the leftover of a failed segment creation; see format-spec/manifest.md).
    pub headerless_wal_segments_skipped: u64,
    /// Files deleted because no live version referenced them (leftovers of a crash).
    pub orphans_removed: u64,
}

/// A point-in-time view of the engine's state and counters.
#[derive(Debug, Clone, Default)]
pub struct DbStats {
    pub levels: Vec<LevelStats>,
    pub memtable_bytes: u64,
    pub immutable_memtables: usize,
    pub last_seqno: u64,
    pub live_snapshots: usize,
    /// `put`/`delete`/`write` calls.
    pub writes: u64,
    /// WAL appends: `writes / write_groups` is the average group-commit size.
    pub write_groups: u64,
    pub wal_bytes: u64,
    pub wal_syncs: u64,
    pub flushes: u64,
    pub flush_bytes: u64,
    pub flush_errors: u64,
    pub stalls: u64,
    pub stall_micros: u64,
    pub gets: u64,
    /// Data blocks read from table files.
    pub blocks_read: u64,
    pub compactions: u64,
    pub trivial_moves: u64,
    /// Idle compaction tasks started (`CompactionOptions::idle_after`). Those that finish
    /// are also in `compactions` or `trivial_moves`; those given up, in
    /// `compactions_abandoned`.
    pub idle_compactions: u64,
    /// Compactions given up part way: the database closing, or idle work giving way to
    /// ordinary compaction. Their partial outputs are removed.
    pub compactions_abandoned: u64,
    pub compaction_errors: u64,
    pub compaction_bytes_in: u64,
    pub compaction_bytes_out: u64,
    /// Versions and tombstones compactions dropped.
    pub compaction_entries_dropped: u64,
    pub compaction_micros: u64,
    /// Write groups delayed because L0 passed its slowdown trigger.
    pub slowdowns: u64,
    /// Write groups held because L0 passed its stop trigger.
    pub stops: u64,
    /// Bytes written to tables (flushes and compactions) per byte written to the WAL.
    pub write_amplification: f64,
    /// Per-level compaction scores (>= 1 means the level is due).
    pub level_scores: Vec<f64>,
    /// The shared block cache: hits, misses, bytes used, and the index/filter/dictionary
    /// bytes pinned by open tables (outside the cache's budget).
    pub cache: crate::cache::CacheStats,
    /// Data blocks read from table files per point read (`blocks_read / gets`).
    pub blocks_read_per_get: f64,
    pub poisoned: bool,
    pub recovery: RecoveryInfo,
    /// The chunk store's figures (`None` without dedup).
    pub dedup: Option<crate::chunk::DedupStats>,
    /// The direct read paths' counters (io_uring submissions and reads, `O_DIRECT` preads,
    /// fallbacks). Process-wide: every database of the process adds to them.
    pub read_path: crate::storage::ReadPathStats,
    /// The raw volume's figures when the database runs on one.
    pub volume: Option<crate::storage::volume::VolumeStats>,
}

pub(crate) fn load(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}
