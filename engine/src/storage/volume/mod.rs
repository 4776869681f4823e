//! A raw-volume [`Storage`]: the engine's files as extents on one block device or
//! preallocated file, without a file system (format-spec/volume.md).
//!
//! Layout: two superblock copies (blocks 0 and 1), two journal areas, then the data region.
//! The journal records the file table (name -> inode -> length and extents). Allocator state
//! is not journaled separately: free space is whatever no recorded extent covers, so the
//! journal is the allocator's own manifest. The engine's manifest could not play that role:
//! it lives in a file on the volume, so the volume must already know where that file is
//! before it can read it.
//!
//! Ordering rules that make this crash-safe:
//! - a commit flushes the device before writing its journal blocks, so a record never
//!   describes data that is not durable, and flushes again before returning;
//! - every commit carries all records queued since the last one, in order, so the durable
//!   table is always the live table as of some moment;
//! - blocks given up by a file become allocatable only after a commit (so after the record
//!   that gave them up is durable), and are then discarded (best effort);
//! - a file removed or replaced while its writer is open keeps its blocks until the writer
//!   is dropped; tables are removed only once no reader holds them (`TableFile` drops).
//!
//! Data reads go through the device's `O_DIRECT` descriptor: a range inside one extent is
//! batched with others into one io_uring submission by [`crate::storage::read_batch`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use parking_lot::Mutex;

mod alloc;
mod commit;
mod device;
mod file;
#[doc(hidden)]
pub mod fuzzing;
mod journal;
mod mem;
mod open;
mod ops;
mod superblock;
mod table;
mod tail;

pub use alloc::Extent;
pub use device::{BLOCK, Device, FileDevice, create_file};
pub use file::{VolumeFile, VolumeWriter};
pub use mem::MemDevice;
pub use superblock::Superblock;

use alloc::Allocator;
use table::{Record, Table};
use tail::TailEntry;

/// Largest run a growing file asks for at once (8 MiB): files double their allocation up to
/// this, so even a large table has few extents.
const MAX_GROW_BLOCKS: u64 = 2048;

/// Counters of one open volume.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VolumeStats {
    pub generation: u64,
    pub commits: u64,
    pub checkpoints: u64,
    pub journal_blocks: u64,
    /// Blocks of the live journal area in use.
    pub journal_used_blocks: u64,
    pub data_bytes: u64,
    pub free_bytes: u64,
    /// Freed, waiting for a commit before reuse.
    pub pending_free_bytes: u64,
    pub files: u64,
    /// Freed extents discarded, and discards the device did not support or failed.
    pub discards: u64,
    pub discards_unsupported: u64,
    pub discard_errors: u64,
    /// The journal ended in a damaged (torn, never acknowledged) commit at open.
    pub torn_commit_at_open: bool,
    /// Tail entries applied at open (files lengthened to bytes written but not synced
    /// before the last process ended), and entries dropped because the device did not hold
    /// their bytes (a power loss).
    pub tail_entries_recovered: u64,
    pub tail_entries_dropped: u64,
}

/// What became of a file whose writer is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writer {
    Attached,
    /// Truncated under it: the writer may no longer grow or record the file.
    Detached,
    /// No name links to it any more: its blocks are freed when the writer is dropped.
    Orphan,
}

#[derive(Debug)]
struct State {
    sb: Superblock,
    next_block: u64,
    next_seq: u64,
    /// The table as the durable journal describes it.
    journaled: Table,
    /// The table as the engine sees it now (open writers' lengths and extents included).
    live: Table,
    /// Inodes with an open writer.
    writers: HashMap<u64, Writer>,
    pending: Vec<Record>,
    /// Files with bytes on the device past their journaled length, as listed in the tail
    /// block (`tail.rs`).
    tail: BTreeMap<u64, TailEntry>,
    alloc: Allocator,
    next_id: u64,
    failed: Option<String>,
    locked: bool,
    /// Data blocks in use (allocated or waiting to be freed) beyond which growing fails
    /// with "volume full" (`VolumeStorage::set_space_limit`).
    space_limit: Option<u64>,
}

#[derive(Debug)]
struct Inner {
    dev: Arc<dyn Device>,
    state: Mutex<State>,
    commits: AtomicU64,
    checkpoints: AtomicU64,
    discards: AtomicU64,
    discards_unsupported: AtomicU64,
    discard_errors: AtomicU64,
    torn_at_open: AtomicBool,
    tail_recovered: AtomicU64,
    tail_dropped: AtomicU64,
    /// Data was written since the last flush (set by writers before they queue a record).
    data_dirty: AtomicBool,
    /// Files opened for reading offer their extents to `read_batch` (io_uring batches).
    batched_reads: AtomicBool,
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct VolumeStorage {
    inner: Arc<Inner>,
}

#[cfg(test)]
mod tests;
