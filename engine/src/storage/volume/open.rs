//! Formatting and opening a volume: superblock selection, journal replay, allocator
//! rebuild (format-spec/volume.md, "Superblock" and "Replay").

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use parking_lot::Mutex;

use crate::error::{Error, Result};
use crate::storage::aligned::AlignedBuf;

use super::superblock::{self, Selected, Superblock};
use super::table::Record;
use super::{BLOCK, Device, FileDevice, Inner, State, VolumeStats, VolumeStorage, journal, tail};

pub(super) fn corrupt(offset: u64, what: impl Into<String>) -> Error {
    Error::corruption("volume metadata", offset, what)
}

pub(super) fn read_superblocks(dev: &dyn Device) -> io::Result<Vec<u8>> {
    let mut b = vec![0u8; 2 * BLOCK as usize];
    if dev.len() >= 2 * BLOCK {
        dev.read_at(&mut b, 0)?;
    }
    Ok(b)
}

pub(super) fn write_superblock(dev: &dyn Device, sb: &Superblock) -> io::Result<()> {
    let mut buf = AlignedBuf::new(BLOCK as usize);
    buf.as_mut_slice()[..superblock::ENCODED_LEN].copy_from_slice(&sb.encode());
    dev.write_at(buf.as_slice(), sb.slot() * BLOCK)
}

pub(super) fn no_space(what: &str) -> io::Error {
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
        // The tail after the snapshot (empty): it seals the snapshot.
        let seal = journal::frame_tail(sb.generation, 1, &tail::encode(&BTreeMap::new()))
            .expect("an empty tail fits");
        dev.write_at(
            seal.as_slice(),
            (sb.area_start(sb.active_area()) + snap.as_slice().len() as u64 / BLOCK) * BLOCK,
        )
        .map_err(io("writing the journal tail"))?;
        dev.flush().map_err(io("flushing the journal tail"))?;
        // No discard of the empty data region: on a file it would punch out the blocks
        // `volume format --size` just preallocated.
        Ok(sb)
    }

    /// Opens the volume on `dev`: picks the superblock, replays the journal, rebuilds the
    /// allocator. Damaged metadata is `Error::Corruption`.
    pub fn open(dev: Arc<dyn Device>) -> Result<VolumeStorage> {
        let blocks = dev.len() / BLOCK;
        let read = || -> Result<Selected> {
            let raw = read_superblocks(&*dev).map_err(|e| Error::io("reading superblocks", e))?;
            Ok(superblock::select(
                [&raw[..BLOCK as usize], &raw[BLOCK as usize..]],
                blocks,
            ))
        };
        // Metadata that looks damaged is read once more before it is judged, so that a
        // transient read error is not taken for damage (or for a torn write, which would
        // silently drop an acknowledged commit).
        let selected = match read()? {
            s @ Selected::Use {
                other_valid: true, ..
            } => s,
            _ => read()?,
        };
        let (sb, other_valid) = match selected {
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
            Ok(r) if !r.torn => Ok(r),
            _ => journal::replay(&*dev, area, j, sb.generation),
        };
        let replayed = match replayed {
            Ok(r) => r,
            Err(journal::ReplayError::Io(e)) => return Err(Error::io("reading the journal", e)),
            Err(journal::ReplayError::Corrupt { block, what }) => {
                return Err(corrupt(block * BLOCK, what));
            }
        };
        let mut table = replayed.table;
        // Bytes a writer put on the device past its journaled length before the last
        // process ended: applied where the device holds exactly what the tail hashed.
        let tail_entries = replayed.tail.unwrap_or_default();
        let applied = tail::apply(
            &*dev,
            &mut table,
            &tail_entries,
            sb.data_start(),
            sb.data_blocks(),
        )
        .map_err(|e| Error::io("reading the data the journal tail describes", e))?
        .map_err(|w| corrupt((area + replayed.next_block) * BLOCK, w))?;
        let alloc = table
            .allocator(sb.data_start(), sb.data_blocks())
            .map_err(|w| corrupt(area * BLOCK, w))?;
        let next_id = table.next_id();
        let state = State {
            sb,
            next_block: replayed.next_block,
            next_seq: replayed.next_seq,
            live: table.clone(),
            journaled: table,
            writers: HashMap::new(),
            pending: Vec::new(),
            tail: BTreeMap::new(),
            alloc,
            next_id,
            failed: None,
            locked: false,
            space_limit: None,
        };
        let vol = VolumeStorage {
            inner: Arc::new(Inner {
                dev,
                state: Mutex::new(state),
                commits: AtomicU64::new(0),
                checkpoints: AtomicU64::new(0),
                discards: AtomicU64::new(0),
                discards_unsupported: AtomicU64::new(0),
                discard_errors: AtomicU64::new(0),
                torn_at_open: AtomicBool::new(replayed.torn),
                tail_recovered: AtomicU64::new(applied.recovered.len() as u64),
                tail_dropped: AtomicU64::new(applied.dropped),
                data_dirty: AtomicBool::new(false),
                batched_reads: AtomicBool::new(true),
            }),
        };
        if !tail_entries.is_empty() {
            vol.settle_tail(&applied.recovered)
                .map_err(|e| Error::io("journaling the files recovered from the tail", e))?;
        }
        Ok(vol)
    }

    /// Makes what the tail recovered durable at open: the recovered lengths are journaled
    /// (after a flush of their data), and the tail is replaced by an empty one, so that an
    /// entry is never judged again against blocks that may since have been reused.
    fn settle_tail(&self, recovered: &[u64]) -> io::Result<()> {
        let i = &self.inner;
        let mut st = i.lock();
        for &id in recovered {
            if let Some(inode) = st.journaled.inodes.get(&id) {
                let rec = Record::Inode {
                    id,
                    len: inode.len,
                    extents: inode.extents.clone(),
                };
                st.pending.push(rec);
            }
        }
        if st.pending.is_empty() {
            i.write_tail(&st)?;
            i.dev.flush()
        } else {
            i.data_dirty.store(true, Relaxed);
            i.commit(&mut st, None)
        }
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

    /// Makes the volume behave as if its data region held only `bytes` (rounded down to
    /// blocks) in use at most: a file that would grow past it fails with "volume full", as
    /// on a full volume, until the limit is lifted or files are removed. For tests of a full
    /// volume (the fault suites), and to keep headroom on a shared device.
    pub fn set_space_limit(&self, bytes: Option<u64>) {
        self.inner.lock().space_limit = bytes.map(|b| b / BLOCK);
    }

    /// Data bytes in use (allocated to files, or freed and waiting for a commit).
    pub fn used_bytes(&self) -> u64 {
        let s = self.inner.lock();
        (s.sb.data_blocks() - s.alloc.free_blocks()) * BLOCK
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
            tail_entries_recovered: i.tail_recovered.load(Relaxed),
            tail_entries_dropped: i.tail_dropped.load(Relaxed),
        }
    }
}
