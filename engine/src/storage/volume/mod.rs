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

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{
    AtomicBool, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};

use parking_lot::{Mutex, MutexGuard};

use crate::error::{Error, Result};
use crate::storage::aligned::AlignedBuf;

use super::{LockGuard, RandomAccessFile, Storage, WritableFile};

mod alloc;
mod device;
mod file;
mod journal;
mod mem;
mod superblock;
mod table;

pub use alloc::Extent;
pub use device::{BLOCK, Device, FileDevice, create_file};
pub use file::{VolumeFile, VolumeWriter};
pub use mem::MemDevice;
pub use superblock::Superblock;

use alloc::Allocator;
use superblock::Selected;
use table::{Inode, Record, Table};

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
    alloc: Allocator,
    next_id: u64,
    failed: Option<String>,
    locked: bool,
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

fn corrupt(offset: u64, what: impl Into<String>) -> Error {
    Error::corruption("volume metadata", offset, what)
}

fn read_superblocks(dev: &dyn Device) -> io::Result<Vec<u8>> {
    let mut b = vec![0u8; 2 * BLOCK as usize];
    if dev.len() >= 2 * BLOCK {
        dev.read_at(&mut b, 0)?;
    }
    Ok(b)
}

fn write_superblock(dev: &dyn Device, sb: &Superblock) -> io::Result<()> {
    let mut buf = AlignedBuf::new(BLOCK as usize);
    buf.as_mut_slice()[..superblock::ENCODED_LEN].copy_from_slice(&sb.encode());
    dev.write_at(buf.as_slice(), sb.slot() * BLOCK)
}

fn no_space(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::StorageFull, format!("volume full: {what}"))
}

impl VolumeStorage {
    /// Writes an empty volume over `dev`. Refuses a device that already holds a valid
    /// superblock unless `force`.
    pub fn format(dev: &dyn Device, force: bool) -> Result<Superblock> {
        let old = read_superblocks(dev).map_err(|e| Error::io("reading superblocks", e))?;
        let blocks = dev.len() / BLOCK;
        if let Selected::Use { sb, .. } =
            superblock::select([&old[..BLOCK as usize], &old[BLOCK as usize..]], blocks)
            && !force
        {
            return Err(Error::InvalidArgument(format!(
                "the device already holds a volume (generation {}); use --force to overwrite",
                sb.generation
            )));
        }
        let sb = Superblock::for_volume(dev.len()).map_err(Error::InvalidArgument)?;
        let io = |what: &'static str| move |e| Error::io(what, e);
        // Zero both journal areas so that no commit of an earlier volume can be replayed.
        let chunk = AlignedBuf::new(256 * BLOCK as usize);
        let (mut at, end) = (superblock::JOURNAL_START, sb.data_start());
        while at < end {
            let n = (end - at).min(256);
            dev.write_at(&chunk.as_slice()[..(n * BLOCK) as usize], at * BLOCK)
                .map_err(io("zeroing the journal areas"))?;
            at += n;
        }
        let snap = journal::frame(sb.generation, 0, true, &[]);
        dev.write_at(snap.as_slice(), sb.area_start(sb.active_area()) * BLOCK)
            .map_err(io("writing the first journal snapshot"))?;
        dev.flush().map_err(io("flushing the journal"))?;
        // The other copy is zeroed: an old volume's copy must not outrank generation 1.
        let zero = AlignedBuf::new(BLOCK as usize);
        dev.write_at(zero.as_slice(), (1 - sb.slot()) * BLOCK)
            .map_err(io("clearing the old superblock"))?;
        write_superblock(dev, &sb).map_err(io("writing the superblock"))?;
        dev.flush().map_err(io("flushing the superblock"))?;
        // No discard of the empty data region: on a file it would punch out the blocks
        // `volume format --size` just preallocated.
        Ok(sb)
    }

    /// Opens the volume on `dev`: picks the superblock, replays the journal, rebuilds the
    /// allocator. Damaged metadata is `Error::Corruption`.
    pub fn open(dev: Arc<dyn Device>) -> Result<VolumeStorage> {
        let raw = read_superblocks(&*dev).map_err(|e| Error::io("reading superblocks", e))?;
        let blocks = dev.len() / BLOCK;
        let (sb, other_valid) =
            match superblock::select([&raw[..BLOCK as usize], &raw[BLOCK as usize..]], blocks) {
                Selected::Use { sb, other_valid } => (sb, other_valid),
                Selected::Unformatted => {
                    return Err(Error::InvalidArgument(
                        "the device holds no volume (run `scipkv volume format`)".into(),
                    ));
                }
                Selected::Invalid(why) => return Err(corrupt(0, why)),
            };
        let j = sb.journal_blocks;
        if !other_valid {
            // The other copy may be a newer generation that went bad: its journal area
            // would then hold commits beyond a snapshot, and this copy's state is stale.
            let newer = sb.generation + 1;
            let area = sb.area_start(newer % 2);
            if journal::has_commits_after_snapshot(&*dev, area, j, newer)
                .map_err(|e| Error::io("reading the journal", e))?
            {
                return Err(corrupt(
                    (newer % 2) * BLOCK,
                    format!("superblock generation {newer} is damaged but its journal is in use"),
                ));
            }
        }
        let area = sb.area_start(sb.active_area());
        let replayed = match journal::replay(&*dev, area, j, sb.generation) {
            Ok(r) => r,
            Err(journal::ReplayError::Io(e)) => return Err(Error::io("reading the journal", e)),
            Err(journal::ReplayError::Corrupt { block, what }) => {
                return Err(corrupt(block * BLOCK, what));
            }
        };
        let alloc = replayed
            .table
            .allocator(sb.data_start(), sb.data_blocks())
            .map_err(|w| corrupt(area * BLOCK, w))?;
        let next_id = replayed.table.next_id();
        let state = State {
            sb,
            next_block: replayed.next_block,
            next_seq: replayed.next_seq,
            live: replayed.table.clone(),
            journaled: replayed.table,
            writers: HashMap::new(),
            pending: Vec::new(),
            alloc,
            next_id,
            failed: None,
            locked: false,
        };
        Ok(VolumeStorage {
            inner: Arc::new(Inner {
                dev,
                state: Mutex::new(state),
                commits: AtomicU64::new(0),
                checkpoints: AtomicU64::new(0),
                discards: AtomicU64::new(0),
                discards_unsupported: AtomicU64::new(0),
                discard_errors: AtomicU64::new(0),
                torn_at_open: AtomicBool::new(replayed.torn),
                data_dirty: AtomicBool::new(false),
                batched_reads: AtomicBool::new(true),
            }),
        })
    }

    /// Opens the volume on the block device or file at `path` (locked for this process).
    pub fn open_path(path: &Path) -> Result<VolumeStorage> {
        let dev = FileDevice::open(path).map_err(|e| {
            if e.kind() == io::ErrorKind::WouldBlock {
                Error::Locked(e.to_string())
            } else {
                Error::io(format!("opening volume {}", path.display()), e)
            }
        })?;
        VolumeStorage::open(Arc::new(dev))
    }

    /// With `false`, files opened afterwards are read one `O_DIRECT` pread at a time, never
    /// batched through io_uring: the volume's own pread baseline for cold-read benchmarks.
    pub fn with_batched_reads(self, on: bool) -> Self {
        self.inner.batched_reads.store(on, Relaxed);
        self
    }

    /// Counters and space figures.
    pub fn stats(&self) -> VolumeStats {
        let i = &self.inner;
        let s = i.state.lock();
        VolumeStats {
            generation: s.sb.generation,
            commits: i.commits.load(Relaxed),
            checkpoints: i.checkpoints.load(Relaxed),
            journal_blocks: s.sb.journal_blocks,
            journal_used_blocks: s.next_block,
            data_bytes: s.sb.data_blocks() * BLOCK,
            free_bytes: s.alloc.free_blocks() * BLOCK,
            pending_free_bytes: s.alloc.pending_blocks() * BLOCK,
            files: s.live.names.len() as u64,
            discards: i.discards.load(Relaxed),
            discards_unsupported: i.discards_unsupported.load(Relaxed),
            discard_errors: i.discard_errors.load(Relaxed),
            torn_commit_at_open: i.torn_at_open.load(Relaxed),
        }
    }
}

fn not_found(name: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{name}: no such file"))
}

fn check_name(name: &str) -> io::Result<()> {
    if name.is_empty() || name.len() > table::MAX_NAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("file name of {} bytes", name.len()),
        ));
    }
    Ok(())
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// Drops inode `id`'s last name: frees it now, or at its writer's drop.
    fn release_inode(st: &mut State, id: u64) {
        if st.live.names.values().any(|&i| i == id) {
            return;
        }
        if let Some(w) = st.writers.get_mut(&id) {
            *w = Writer::Orphan;
            return;
        }
        if let Some(inode) = st.live.inodes.remove(&id) {
            for e in inode.extents {
                st.alloc.free_later(e);
            }
        }
    }

    /// Makes every queued record durable (plus `extra`), checkpointing when the journal
    /// area is full. Any failure poisons the volume.
    fn commit(&self, st: &mut State, extra: Option<Record>) -> io::Result<()> {
        if let Some(why) = &st.failed {
            return Err(io::Error::other(why.clone()));
        }
        let mut records = std::mem::take(&mut st.pending);
        records.extend(extra);
        if records.is_empty() {
            return Ok(());
        }
        match self.write_commit(st, &records) {
            Ok(()) => {}
            Err(e) => {
                st.failed = Some(format!("volume journal commit failed: {e}"));
                return Err(e);
            }
        }
        self.commits.fetch_add(1, Relaxed);
        for e in st.alloc.release_pending() {
            match self.dev.discard(e.start * BLOCK, e.blocks * BLOCK) {
                Ok(true) => self.discards.fetch_add(1, Relaxed),
                Ok(false) => self.discards_unsupported.fetch_add(1, Relaxed),
                Err(_) => self.discard_errors.fetch_add(1, Relaxed),
            };
        }
        Ok(())
    }

    fn write_commit(&self, st: &mut State, records: &[Record]) -> io::Result<()> {
        let table_err =
            |w: String| io::Error::new(io::ErrorKind::InvalidData, format!("volume table: {w}"));
        // Data the records describe is durable before the records are.
        if self.data_dirty.swap(false, Acquire) {
            self.dev.flush()?;
        }
        let blocks = journal::commit_blocks(records);
        let j = st.sb.journal_blocks;
        if st.next_block + blocks <= j {
            let buf = journal::frame(st.sb.generation, st.next_seq, false, records);
            let at = st.sb.area_start(st.sb.active_area()) + st.next_block;
            self.dev.write_at(buf.as_slice(), at * BLOCK)?;
            self.dev.flush()?;
            st.next_block += blocks;
            st.next_seq += 1;
            for r in records {
                st.journaled.apply(r).map_err(table_err)?;
            }
            return Ok(());
        }
        // Checkpoint: the whole table into the other area, then flip the superblock.
        let mut next = st.journaled.clone();
        for r in records {
            next.apply(r).map_err(table_err)?;
        }
        let snap = next.snapshot();
        let blocks = journal::commit_blocks(&snap);
        if blocks >= j {
            return Err(no_space("the file table outgrew the journal area"));
        }
        let sb = Superblock {
            generation: st.sb.generation + 1,
            ..st.sb
        };
        let buf = journal::frame(sb.generation, 0, true, &snap);
        self.dev
            .write_at(buf.as_slice(), sb.area_start(sb.active_area()) * BLOCK)?;
        self.dev.flush()?;
        write_superblock(&*self.dev, &sb)?;
        self.dev.flush()?;
        st.sb = sb;
        st.next_block = blocks;
        st.next_seq = 1;
        self.checkpoints.fetch_add(1, Relaxed);
        st.journaled = next;
        Ok(())
    }

    /// Notes that data was written to the device, to be flushed by the next commit.
    fn note_data_written(&self) {
        self.data_dirty.store(true, Release);
    }

    /// Extends inode `id` (whose writer holds `extents`) to at least `need` blocks.
    fn grow(&self, id: u64, extents: &[Extent], need: u64) -> io::Result<Vec<Extent>> {
        let mut st = self.lock();
        if let Some(why) = &st.failed {
            return Err(io::Error::other(why.clone()));
        }
        if st.writers.get(&id) != Some(&Writer::Attached) {
            return Err(io::Error::other(
                "the file was truncated or removed while being written",
            ));
        }
        let mut ex = extents.to_vec();
        let mut have: u64 = ex.iter().map(|e| e.blocks).sum();
        while have < need {
            let want = (need - have).max(have.min(MAX_GROW_BLOCKS));
            let Some(e) = st.alloc.allocate(want) else {
                // Give back what this call took: never recorded nor published, so
                // reusable at once.
                st.alloc.free_unrecorded(extents, &ex);
                return Err(no_space("no free extents"));
            };
            have += e.blocks;
            match ex.last_mut() {
                Some(last) if last.end() == e.start => last.blocks += e.blocks,
                _ => ex.push(e),
            }
        }
        if let Some(inode) = st.live.inodes.get_mut(&id) {
            inode.extents = ex.clone();
        }
        Ok(ex)
    }

    fn publish_len(&self, id: u64, len: u64) {
        let mut st = self.lock();
        // A detached writer (its file was truncated) no longer moves the file's end.
        if st.writers.get(&id) == Some(&Writer::Attached)
            && let Some(inode) = st.live.inodes.get_mut(&id)
        {
            inode.len = inode.len.max(len);
        }
    }

    fn live_len(&self, id: u64) -> u64 {
        self.lock().live.inodes.get(&id).map_or(0, |i| i.len)
    }

    /// A writer's sync: its data is on the device; record length and extents durably.
    fn sync_inode(&self, id: u64, len: u64, extents: &[Extent]) -> io::Result<()> {
        let mut st = self.lock();
        match st.writers.get(&id) {
            // Unlinked while open: nothing names it, nothing to record.
            Some(Writer::Orphan) => {
                self.data_dirty.store(false, Relaxed);
                self.dev.flush()
            }
            Some(Writer::Attached) => {
                let rec = Record::Inode {
                    id,
                    len,
                    extents: extents.to_vec(),
                };
                self.commit(&mut st, Some(rec))
            }
            _ => Err(io::Error::other(
                "the file was truncated while being written",
            )),
        }
    }

    /// A writer's drop: free an unlinked file, or give back the unused preallocated tail.
    fn close_writer(&self, id: u64, len: u64, extents: &[Extent]) {
        let mut st = self.lock();
        match st.writers.remove(&id) {
            Some(Writer::Orphan) => {
                if let Some(inode) = st.live.inodes.remove(&id) {
                    for e in inode.extents {
                        st.alloc.free_later(e);
                    }
                }
            }
            Some(Writer::Attached) => {
                let keep_blocks = len.div_ceil(BLOCK);
                let (mut kept, mut seen) = (Vec::new(), 0u64);
                for e in extents {
                    let k = keep_blocks.saturating_sub(seen).min(e.blocks);
                    if k > 0 {
                        kept.push(Extent {
                            start: e.start,
                            blocks: k,
                        });
                    }
                    if k < e.blocks {
                        st.alloc.free_later(Extent {
                            start: e.start + k,
                            blocks: e.blocks - k,
                        });
                    }
                    seen += e.blocks;
                }
                if let Some(inode) = st.live.inodes.get_mut(&id) {
                    inode.len = len;
                    inode.extents = kept.clone();
                }
                st.pending.push(Record::Inode {
                    id,
                    len,
                    extents: kept,
                });
            }
            // Detached by a truncate: the truncate recorded the inode.
            Some(Writer::Detached) | None => {}
        }
    }
}

#[derive(Debug)]
struct VolumeLock {
    inner: Arc<Inner>,
}

impl LockGuard for VolumeLock {}

impl Drop for VolumeLock {
    fn drop(&mut self) {
        self.inner.lock().locked = false;
    }
}

impl Storage for VolumeStorage {
    fn create(&self, name: &str) -> io::Result<Box<dyn WritableFile>> {
        check_name(name)?;
        let mut st = self.inner.lock();
        if let Some(why) = &st.failed {
            return Err(io::Error::other(why.clone()));
        }
        let id = st.next_id;
        st.next_id += 1;
        st.live.inodes.insert(id, Inode::default());
        st.writers.insert(id, Writer::Attached);
        st.pending.push(Record::Inode {
            id,
            len: 0,
            extents: Vec::new(),
        });
        st.pending.push(Record::Link {
            name: name.to_string(),
            id,
        });
        if let Some(old) = st.live.names.insert(name.to_string(), id) {
            Inner::release_inode(&mut st, old);
        }
        Ok(Box::new(VolumeWriter::new(
            Arc::clone(&self.inner),
            id,
            name,
        )))
    }

    fn open_read(&self, name: &str) -> io::Result<Arc<dyn RandomAccessFile>> {
        let st = self.inner.lock();
        let id = *st.live.names.get(name).ok_or_else(|| not_found(name))?;
        let inode = st.live.inodes.get(&id).ok_or_else(|| not_found(name))?;
        Ok(Arc::new(VolumeFile {
            dev: Arc::clone(&self.inner.dev),
            len: inode.len,
            extents: inode.extents.clone(),
            batched: self.inner.batched_reads.load(Relaxed),
        }))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        check_name(to)?;
        let mut st = self.inner.lock();
        let id = *st.live.names.get(from).ok_or_else(|| not_found(from))?;
        if from == to {
            return Ok(());
        }
        st.live.names.remove(from);
        st.pending.push(Record::Rename {
            from: from.to_string(),
            to: to.to_string(),
        });
        if let Some(old) = st.live.names.insert(to.to_string(), id)
            && old != id
        {
            Inner::release_inode(&mut st, old);
        }
        Ok(())
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        let mut st = self.inner.lock();
        let id = st.live.names.remove(name).ok_or_else(|| not_found(name))?;
        st.pending.push(Record::Unlink {
            name: name.to_string(),
        });
        Inner::release_inode(&mut st, id);
        Ok(())
    }

    fn truncate(&self, name: &str, len: u64) -> io::Result<()> {
        let mut guard = self.inner.lock();
        let st = &mut *guard;
        let id = *st.live.names.get(name).ok_or_else(|| not_found(name))?;
        let inode = st.live.inodes.get_mut(&id).ok_or_else(|| not_found(name))?;
        // With a writer attached, bytes it appended but has not written out (unsynced, in
        // its buffer) are dropped as well: they were never durable, and the engine only
        // cuts a log after a failed append and then moves to a new one.
        let len = match st.writers.get(&id) {
            Some(_) => len.min(inode.len),
            None => len,
        };
        if len > inode.len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name}: truncate cannot extend ({len} > {})", inode.len),
            ));
        }
        inode.len = len;
        if let Some(w) = st.writers.get_mut(&id) {
            *w = Writer::Detached;
        } else {
            // No writer: give back the blocks past the new end.
            let keep = len.div_ceil(BLOCK);
            let (mut kept, mut seen) = (Vec::new(), 0u64);
            for e in std::mem::take(&mut inode.extents) {
                let k = keep.saturating_sub(seen).min(e.blocks);
                if k > 0 {
                    kept.push(Extent {
                        start: e.start,
                        blocks: k,
                    });
                }
                if k < e.blocks {
                    st.alloc.free_later(Extent {
                        start: e.start + k,
                        blocks: e.blocks - k,
                    });
                }
                seen += e.blocks;
            }
            inode.extents = kept;
        }
        let rec = Record::Inode {
            id,
            len,
            extents: inode.extents.clone(),
        };
        self.inner.commit(st, Some(rec))
    }

    fn list(&self) -> io::Result<Vec<String>> {
        Ok(self.inner.lock().live.names.keys().cloned().collect())
    }

    fn sync_dir(&self) -> io::Result<()> {
        let mut st = self.inner.lock();
        self.inner.commit(&mut st, None)
    }

    fn lock(&self) -> io::Result<Box<dyn LockGuard>> {
        let mut st = self.inner.lock();
        if st.locked {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "the volume is already open in this process",
            ));
        }
        st.locked = true;
        Ok(Box::new(VolumeLock {
            inner: Arc::clone(&self.inner),
        }))
    }

    fn volume_stats(&self) -> Option<VolumeStats> {
        Some(self.stats())
    }
}

/// Entry points for the `volume_open` fuzz target (not a stable API).
#[doc(hidden)]
pub mod fuzzing {
    use super::*;

    /// A formatted memory volume of the smallest size whose live journal has, after its
    /// snapshot, one validly framed delta commit carrying `payload` (kind byte and records,
    /// as the fuzzer wrote them).
    pub fn volume_with_commit(payload: &[u8]) -> Arc<MemDevice> {
        let dev = Arc::new(MemDevice::new(1 << 20, 1));
        let sb = VolumeStorage::format(&*dev, false).expect("format");
        let buf = journal::frame_payload(sb.generation, 1, payload);
        let at = (sb.area_start(sb.active_area()) + 1) * BLOCK;
        if at + buf.capacity() as u64 <= sb.data_start() * BLOCK {
            dev.write_at(buf.as_slice(), at).expect("write");
        }
        dev
    }

    /// Seed inputs for the fuzz target (mode byte first): the superblocks of a fresh
    /// volume, and commits that create, rename, replace and remove files.
    pub fn seeds() -> Vec<Vec<u8>> {
        let dev = MemDevice::new(1 << 20, 1);
        VolumeStorage::format(&dev, false).expect("format");
        let mut image = vec![0u8];
        image.extend_from_slice(&dev.image()[..2 * BLOCK as usize]);
        let e = |start, blocks| Extent { start, blocks };
        let link = |name: &str, id| Record::Link {
            name: name.into(),
            id,
        };
        let inode = |id, len, extents| Record::Inode { id, len, extents };
        let programs = [
            vec![inode(1, 5000, vec![e(130, 2)]), link("000001.sst", 1)],
            vec![
                inode(1, 10, vec![e(140, 1)]),
                link("CURRENT.tmp", 1),
                Record::Rename {
                    from: "CURRENT.tmp".into(),
                    to: "CURRENT".into(),
                },
            ],
            vec![
                inode(2, 0, vec![]),
                link("a", 2),
                Record::Unlink { name: "a".into() },
            ],
        ];
        let mut out = vec![image];
        for p in programs {
            let mut input = vec![1u8, 1];
            table::encode(&p, &mut input);
            out.push(input);
        }
        out
    }

    /// A memory device whose first bytes are `image` (superblocks and journal areas).
    pub fn raw_volume(image: &[u8]) -> Arc<MemDevice> {
        let dev = Arc::new(MemDevice::new(1 << 20, 1));
        let n = image.len().min(1 << 20);
        dev.corrupt(0, &image[..n]);
        dev
    }
}

#[cfg(test)]
mod tests;
