//! The database: ties the WAL, memtables, tables and version set together.
//!
//! Concurrency model: one write path (group commit: a leader writes the whole queue's
//! batches to the WAL with one append and one fsync, then inserts them into the memtable and
//! publishes the last sequence number); readers never take a write lock, they clone the
//! current [`SuperVersion`] (memtable, immutable memtables, version) and read the published
//! sequence number. A background thread flushes immutable memtables to L0 tables.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex, RwLock};

use crate::key::SeqNo;
use crate::log::LogWriter;
use crate::memtable::Memtable;
use crate::options::Options;
use crate::storage::{LockGuard, Storage};
use crate::version::levels::Version;
use crate::version::set::VersionSet;
use crate::{Error, Result};

mod api;
mod compact;
mod dedup;
mod flush;
mod iter;
mod open;
mod read;
mod snapshot;
mod stats;
mod write;

pub use api::LiveTable;
pub(crate) use flush::open_written;
pub use iter::DbIter;
pub use snapshot::Snapshot;
pub use stats::{DbStats, LevelStats, RecoveryInfo};

/// An open database. Cheap to clone and share across threads; the database closes when the
/// last clone is dropped (or explicitly with [`Db::close`]).
#[derive(Clone, Debug)]
pub struct Db {
    inner: Arc<DbInner>,
    guard: Arc<CloseGuard>,
}

/// What readers see: the mutable memtable, immutable ones waiting for flush (newest first),
/// and the table version. Replaced as a whole, never modified.
#[derive(Debug)]
pub(crate) struct SuperVersion {
    pub mem: Arc<Memtable>,
    pub imms: Vec<Arc<Memtable>>,
    pub version: Arc<Version>,
}

/// State only the write-group leader touches (and the interval syncer, briefly).
#[derive(Debug)]
pub(crate) struct WalState {
    pub writer: LogWriter,
    /// Bytes appended since the last fsync.
    pub dirty: bool,
    pub next_seq: SeqNo,
    /// The group's framed records, kept between groups so a write allocates no buffer.
    pub framed: Vec<u8>,
}

#[derive(Debug, Default)]
pub(crate) struct FlushState {
    /// The last background flush error, reported to stalled writers and `flush()`.
    pub error: Option<String>,
    pub shutting_down: bool,
    /// Bumped after every flush attempt so waiters can tell progress from a spurious wakeup.
    pub generation: u64,
}

#[derive(Debug)]
pub(crate) struct DbInner {
    pub storage: Arc<dyn Storage>,
    pub cache: Arc<crate::cache::BlockCache>,
    pub opts: Options,
    pub versions: VersionSet,
    pub sv: RwLock<Arc<SuperVersion>>,
    /// Serializes replacements of `sv` (memtable switch by the leader, flush installs).
    pub sv_install: Mutex<()>,
    pub writers: write::WriteQueue,
    pub wal: Mutex<WalState>,
    /// Highest sequence number visible to readers.
    pub visible_seq: AtomicU64,
    pub poisoned: AtomicBool,
    pub poison_reason: Mutex<Option<String>>,
    pub flush: Mutex<FlushState>,
    /// Wakes the flush thread.
    pub flush_wake: Condvar,
    /// Signalled after each flush attempt (stalled writers and `flush()` wait on it).
    pub flush_done: Condvar,
    pub snapshots: snapshot::SnapshotList,
    pub compact: Mutex<compact::CompactState>,
    /// Wakes compaction threads (new L0 table, finished compaction, shutdown).
    pub compact_wake: Condvar,
    /// Wakes `wait_for_rest` callers (finished compaction, idle compaction at rest,
    /// shutdown); with `compact`. Apart from `compact_wake` so that a flush's wakeup always
    /// reaches a compaction thread.
    pub rest_wake: Condvar,
    /// Set once at close; checked by background threads without taking other locks.
    pub shutdown: AtomicBool,
    pub stats: stats::Counters,
    pub recovery: RecoveryInfo,
    /// The chunk store, set once at the end of open (`None`: dedup off).
    pub dedup: std::sync::OnceLock<Option<Arc<crate::chunk::store::ChunkStore>>>,
    pub _lock: Box<dyn LockGuard>,
}

#[derive(Debug)]
struct CloseGuard {
    inner: Arc<DbInner>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    closed: AtomicBool,
}

impl CloseGuard {
    fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        {
            let mut f = self.inner.flush.lock();
            f.shutting_down = true;
        }
        {
            // Set under the compaction lock so a compaction thread between its check and
            // its wait cannot miss the wakeup.
            let _c = self.inner.compact.lock();
            self.inner.shutdown.store(true, Ordering::Release);
            self.inner.compact_wake.notify_all();
            self.inner.rest_wake.notify_all();
        }
        self.inner.flush_wake.notify_all();
        self.inner.flush_done.notify_all();
        for t in self.threads.lock().drain(..) {
            let _ = t.join();
        }
        {
            // A manual compaction on another clone (`Db::compact_all`) gives up at its next
            // stop check; after this, nothing edits the manifest.
            let mut c = self.inner.compact.lock();
            while c.running > 0 {
                self.inner.compact_wake.wait(&mut c);
            }
        }
        // Whatever the sync mode, a clean close leaves the WAL durable.
        self.inner.sync_wal()
    }
}

impl Drop for CloseGuard {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

impl DbInner {
    pub(crate) fn current_sv(&self) -> Arc<SuperVersion> {
        Arc::clone(&self.sv.read())
    }

    pub(crate) fn check_writable(&self) -> Result<()> {
        if self.poisoned.load(Ordering::Acquire) {
            let why = self.poison_reason.lock().clone().unwrap_or_default();
            return Err(Error::Poisoned(why));
        }
        Ok(())
    }

    /// After a failed fsync the kernel may have dropped dirty pages, so nothing written
    /// since the last good sync can be trusted to be durable: refuse writes until reopen.
    pub(crate) fn poison(&self, err: &Error) {
        let mut r = self.poison_reason.lock();
        if r.is_none() {
            *r = Some(err.to_string());
        }
        self.poisoned.store(true, Ordering::Release);
    }

    /// Makes every write acknowledged so far durable. The fsync runs without the WAL lock
    /// where the file allows it (a filesystem file does; a raw volume does not), so writes
    /// go on meanwhile instead of all waiting out a slow disk: what the interval syncer
    /// does once per interval would otherwise be a stall of every writer, the tail latency
    /// of `SyncMode::Interval`.
    pub(crate) fn sync_wal(&self) -> Result<()> {
        let (handle, segment, len) = {
            let mut wal = self.wal.lock();
            if !wal.dirty {
                return Ok(());
            }
            match wal.writer.sync_handle() {
                Some(h) => (h, wal.writer.name().to_string(), wal.writer.len()),
                None => {
                    return match wal.writer.sync() {
                        Ok(()) => {
                            wal.dirty = false;
                            self.stats.wal_syncs.fetch_add(1, Ordering::Relaxed);
                            Ok(())
                        }
                        Err(e) => {
                            self.poison(&e);
                            Err(e)
                        }
                    };
                }
            }
        };
        let synced = handle.sync();
        let mut wal = self.wal.lock();
        // A segment switched meanwhile was synced by the switch itself; only the segment
        // still in use has a `dirty` flag to clear, and only if nothing was appended since.
        let same = wal.writer.name() == segment;
        match synced {
            Ok(()) => {
                if same && wal.writer.len() == len {
                    wal.dirty = false;
                }
                self.stats.wal_syncs.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                let e = if same && wal.writer.len() == len {
                    wal.writer.sync_failed(e)
                } else {
                    Error::io(format!("syncing log {segment}"), e)
                };
                self.poison(&e);
                Err(e)
            }
        }
    }
}
