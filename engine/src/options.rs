//! Options for opening a database.

use std::sync::Arc;
use std::time::Duration;

use crate::compaction::CompactionOptions;
use crate::sstable::TableOptions;
use crate::storage::{ReadPath, Storage};

/// When a write is made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// A write returns after its WAL record is fsynced (group commit shares one fsync among
    /// concurrent writers). Survives kill -9 and power loss. The default.
    #[default]
    Always,
    /// A background thread fsyncs the WAL at this interval: a crash of the machine loses at
    /// most the last interval (a crash of the process alone loses nothing written).
    Interval(Duration),
    /// Never fsync the WAL (tables and the manifest are still synced). For bulk loads and tests.
    Never,
}

/// How a database is opened and tuned. `Options::default()` is right for most uses.
#[derive(Debug, Clone)]
pub struct Options {
    /// Create the data directory and an empty database if none exists (default true).
    pub create_if_missing: bool,
    /// Fail if a database already exists (default false).
    pub error_if_exists: bool,
    /// WAL durability (default [`SyncMode::Always`]).
    pub sync: SyncMode,
    /// A memtable becomes immutable and is flushed when it reaches this size (default 64 MiB).
    pub memtable_size: usize,
    /// Immutable memtables waiting for flush before writers are held back (default 2).
    pub max_immutable_memtables: usize,
    /// Layout of tables written by memtable flushes (L0).
    pub table: TableOptions,
    /// How tables are read from a filesystem (ignored with a custom `storage`).
    pub read_path: ReadPath,
    /// Bytes of decompressed data blocks kept in the shared, scan-resistant block cache
    /// (default 256 MiB; 0 disables caching). Index and filter blocks are held by their
    /// tables and not counted here (see `DbStats::cache`).
    pub block_cache_bytes: usize,
    /// Leveled compaction and the codec of each level.
    pub compaction: CompactionOptions,
    /// Train a zstd dictionary on each memtable being flushed and write its L0 table with
    /// it, when `table.codec` is zstd and `table.dictionary` is unset (default false). For
    /// data written once and then only read, whose first table is its last when idle
    /// compaction is off: on 32 KiB blocks of SCIP data, zstd-3 with a 64 KiB
    /// dictionary is ~30% smaller than plain zstd-3 at the same speed, for a few hundred
    /// milliseconds of training per flush. Too little data to train on writes plain zstd.
    pub flush_dictionary: bool,
    /// A custom storage backend (fault injection, raw volumes); `None` uses the filesystem at
    /// the path given to `Db::open`.
    pub storage: Option<Arc<dyn Storage>>,
    /// Content-defined chunking and dedup of large values under some key prefixes (default
    /// off). See [`crate::chunk::DedupOptions`].
    pub dedup: Option<crate::chunk::DedupOptions>,
    /// The time source key expiry is judged by (default the system clock); tests inject a
    /// [`crate::ManualClock`].
    pub clock: Arc<dyn crate::clock::Clock>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            create_if_missing: true,
            error_if_exists: false,
            sync: SyncMode::Always,
            memtable_size: 64 << 20,
            max_immutable_memtables: 2,
            table: TableOptions::default(),
            read_path: ReadPath::Mmap,
            block_cache_bytes: crate::cache::DEFAULT_CAPACITY,
            compaction: CompactionOptions::default(),
            flush_dictionary: false,
            storage: None,
            dedup: None,
            clock: Arc::new(crate::clock::SystemClock),
        }
    }
}

impl Options {
    pub(crate) fn validate(&self) -> crate::Result<()> {
        if self.memtable_size < 4096 {
            return Err(crate::Error::InvalidArgument(
                "memtable_size must be at least 4 KiB".into(),
            ));
        }
        if self.max_immutable_memtables == 0 {
            return Err(crate::Error::InvalidArgument(
                "max_immutable_memtables must be at least 1".into(),
            ));
        }
        self.compaction.validate()?;
        if let SyncMode::Interval(d) = self.sync
            && d.is_zero()
        {
            return Err(crate::Error::InvalidArgument(
                "SyncMode::Interval needs a non-zero interval".into(),
            ));
        }
        Ok(())
    }
}
