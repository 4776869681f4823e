//! An in-memory [`Storage`] that injects faults and simulates power loss, for tests.
//!
//! The model follows redb's crash backend and LevelDB's fault-injection `Env`: every file is
//! an inode with its live bytes and the length that the last `sync` (or `truncate`) made
//! durable; the directory has a live namespace and a durable one that only
//! [`Storage::sync_dir`] advances. [`FaultStorage::crash`] builds the image a power loss
//! leaves behind: the durable namespace (optionally plus a prefix of the directory
//! operations since the last `sync_dir`, in order, as a journaling file system may commit
//! them), each file cut to its synced length (optionally keeping a random prefix of the
//! unsynced 512-byte sectors, the last one possibly zeroed or filled with garbage). The old
//! storage is dead afterwards: every call on it, or on a file handle it gave out, fails with
//! `EIO`, so a database still running on it cannot touch the new image.
//!
//! Faults ([`FaultConfig`]): `EIO` or `ENOSPC` on chosen operations, after a countdown or
//! with a probability, once or sticky; short writes (a failing append first writes a random
//! prefix of its data); single-bit flips in the buffers reads return (stored bytes stay
//! intact); and a capacity, beyond which appends write what fits and fail with `ENOSPC`.
//!
//! The random choices come from a seeded generator, so one thread's sequence of calls
//! reproduces from the seed; with background threads the interleaving (and so which call a
//! fault hits) can differ between runs.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::{LockGuard, RandomAccessFile, Storage, SyncHandle, WritableFile};

/// Torn writes keep or lose whole sectors of this size.
pub const SECTOR: usize = 512;

const EIO: i32 = 5;
const ENOSPC: i32 = 28;

/// Storage operations a fault can hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ops {
    /// `WritableFile::append`.
    pub write: bool,
    /// `WritableFile::sync` and `Storage::sync_dir`.
    pub sync: bool,
    /// `RandomAccessFile::read_exact_at` (and so `read_all`).
    pub read: bool,
    /// `Storage::rename`.
    pub rename: bool,
    /// `Storage::create`, `open_read`, `remove`, `truncate`.
    pub meta: bool,
}

impl Ops {
    /// Every kind of operation.
    pub const ALL: Ops = Ops {
        write: true,
        sync: true,
        read: true,
        rename: true,
        meta: true,
    };
    /// Only appends.
    pub const WRITE: Ops = Ops {
        write: true,
        sync: false,
        read: false,
        rename: false,
        meta: false,
    };
}

/// Which error an injected failure returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InjectedError {
    /// `EIO`.
    #[default]
    Eio,
    /// `ENOSPC`.
    NoSpace,
    /// Either, at random.
    Mixed,
}

/// What to inject. `FaultConfig::default()` injects nothing.
#[derive(Debug, Clone, Default)]
pub struct FaultConfig {
    /// Operations the countdown and the probability apply to.
    pub ops: Ops,
    /// Fail the operation after this many eligible ones (0: the next one).
    pub fail_after: Option<u64>,
    /// Once the countdown fires, keep failing every eligible operation (a dead disk).
    pub sticky: bool,
    /// Chance, in parts per million, that any eligible operation fails.
    pub fail_ppm: u32,
    /// The error returned.
    pub error: InjectedError,
    /// A failing append first writes a random prefix of its data.
    pub short_writes: bool,
    /// Chance, in parts per million, that a read returns its buffer with one bit flipped.
    pub read_flip_ppm: u32,
}

/// How a power loss treats what was not synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CrashMode {
    /// Keep a random prefix of each file's unsynced sectors (otherwise drop them all).
    pub torn_sectors: bool,
    /// The last kept unsynced sector may end in zeros or random bytes.
    pub garbage: bool,
    /// Keep a random prefix of the directory operations since the last `sync_dir`.
    pub torn_dir: bool,
}

/// Counts of injected faults (for test reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultStats {
    /// Operations failed with `EIO`.
    pub eio: u64,
    /// Operations failed with `ENOSPC` (injected or over capacity).
    pub enospc: u64,
    /// Failed appends that wrote part of their data first.
    pub short_writes: u64,
    /// Reads returned with a flipped bit.
    pub bit_flips: u64,
    /// Power losses simulated.
    pub crashes: u64,
}

#[derive(Debug, Clone)]
struct Inode {
    data: Vec<u8>,
    synced: usize,
}

#[derive(Debug, Clone)]
enum DirOp {
    Link(String, u64),
    Unlink(String),
}

#[derive(Debug)]
struct State {
    dead: bool,
    locked: bool,
    inodes: HashMap<u64, Inode>,
    next_inode: u64,
    live: HashMap<String, u64>,
    durable: HashMap<String, u64>,
    pending: Vec<DirOp>,
    inj: Injector,
    capacity: Option<u64>,
}

/// The fault decisions of [`FaultStorage`], shared with the raw volume's
/// [`super::volume::MemDevice`] so that both inject faults the same way: a countdown, a
/// probability, a dead disk after the first failure (sticky), and which error.
#[derive(Debug)]
pub(crate) struct Injector {
    pub(crate) config: FaultConfig,
    fired: bool,
    rng: u64,
    pub(crate) stats: FaultStats,
}

impl Injector {
    pub(crate) fn new(seed: u64) -> Injector {
        Injector {
            config: FaultConfig::default(),
            fired: false,
            rng: seed,
            stats: FaultStats::default(),
        }
    }

    /// Arms `config` (a new countdown; a sticky failure is forgotten).
    pub(crate) fn set(&mut self, config: FaultConfig) {
        self.config = config;
        self.fired = false;
    }

    /// SplitMix64.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// Decides whether this operation fails, and with which error.
    pub(crate) fn inject(&mut self, eligible: bool) -> Option<io::Error> {
        if !eligible {
            return None;
        }
        let mut fail = false;
        if self.fired && self.config.sticky {
            fail = true;
        } else if let Some(n) = self.config.fail_after {
            if n == 0 {
                self.config.fail_after = None;
                self.fired = true;
                fail = true;
            } else {
                self.config.fail_after = Some(n - 1);
            }
        }
        if !fail && self.config.fail_ppm > 0 {
            fail = self.below(1_000_000) < u64::from(self.config.fail_ppm);
        }
        if !fail {
            return None;
        }
        let no_space = match self.config.error {
            InjectedError::Eio => false,
            InjectedError::NoSpace => true,
            InjectedError::Mixed => self.below(2) == 0,
        };
        Some(self.error(no_space))
    }

    pub(crate) fn error(&mut self, no_space: bool) -> io::Error {
        if no_space {
            self.stats.enospc += 1;
            io::Error::from_raw_os_error(ENOSPC)
        } else {
            self.stats.eio += 1;
            io::Error::from_raw_os_error(EIO)
        }
    }

    /// Flips one bit of a read's `buf` per `read_flip_ppm`.
    pub(crate) fn maybe_flip(&mut self, buf: &mut [u8]) {
        let ppm = self.config.read_flip_ppm;
        if ppm > 0 && !buf.is_empty() && self.below(1_000_000) < u64::from(ppm) {
            let bit = self.below(buf.len() as u64 * 8);
            buf[(bit / 8) as usize] ^= 1 << (bit % 8);
            self.stats.bit_flips += 1;
        }
    }
}

impl State {
    fn new(seed: u64) -> State {
        State {
            dead: false,
            locked: false,
            inodes: HashMap::new(),
            next_inode: 1,
            live: HashMap::new(),
            durable: HashMap::new(),
            pending: Vec::new(),
            inj: Injector::new(seed),
            capacity: None,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.inj.next_u64()
    }

    fn below(&mut self, n: u64) -> u64 {
        self.inj.below(n)
    }

    fn alive(&self) -> io::Result<()> {
        if self.dead {
            return Err(io::Error::from_raw_os_error(EIO));
        }
        Ok(())
    }

    fn inject(&mut self, eligible: bool) -> Option<io::Error> {
        self.inj.inject(eligible)
    }

    fn error(&mut self, no_space: bool) -> io::Error {
        self.inj.error(no_space)
    }

    fn used(&self) -> u64 {
        let mut seen = std::collections::HashSet::new();
        self.live
            .values()
            .filter(|i| seen.insert(**i))
            .map(|i| self.inodes.get(i).map_or(0, |n| n.data.len() as u64))
            .sum()
    }

    fn link(&mut self, name: &str, inode: u64) {
        self.live.insert(name.to_string(), inode);
        self.pending.push(DirOp::Link(name.to_string(), inode));
    }

    fn unlink(&mut self, name: &str) {
        self.live.remove(name);
        self.pending.push(DirOp::Unlink(name.to_string()));
    }

    fn inode_of(&self, name: &str) -> io::Result<u64> {
        self.live
            .get(name)
            .copied()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{name}: no such file")))
    }

    /// The image a power loss leaves behind.
    fn crash_image(&mut self, mode: CrashMode) -> State {
        let mut dir = self.durable.clone();
        let keep_ops = if mode.torn_dir {
            self.below(self.pending.len() as u64 + 1) as usize
        } else {
            0
        };
        let kept: Vec<DirOp> = self.pending[..keep_ops].to_vec();
        for op in kept {
            match op {
                DirOp::Link(n, i) => dir.insert(n, i),
                DirOp::Unlink(n) => dir.remove(&n),
            };
        }
        let mut inodes = HashMap::new();
        let mut ids: Vec<u64> = dir.values().copied().collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            let Some(old) = self.inodes.get(&id).cloned() else {
                continue;
            };
            let mut data = old.data[..old.synced].to_vec();
            if mode.torn_sectors && old.data.len() > old.synced {
                // Sectors end at multiples of SECTOR; keep a random number of the unsynced ones.
                let first_end = (old.synced / SECTOR + 1) * SECTOR;
                let ends: Vec<usize> = (0..)
                    .map(|k| first_end + k * SECTOR)
                    .take_while(|e| *e < old.data.len() + SECTOR)
                    .map(|e| e.min(old.data.len()))
                    .collect();
                let k = self.below(ends.len() as u64 + 1) as usize;
                if k > 0 {
                    let end = ends[k - 1];
                    data = old.data[..end].to_vec();
                    if mode.garbage && self.below(2) == 0 {
                        // The last kept sector was only partly written: its tail is zeros or
                        // stale bytes, and the file may even extend to the sector's end.
                        let sector_start = ((end - 1) / SECTOR * SECTOR).max(old.synced);
                        let from = sector_start + self.below((end - sector_start) as u64) as usize;
                        let to = if self.below(2) == 0 {
                            end
                        } else {
                            (sector_start / SECTOR + 1) * SECTOR
                        };
                        data.resize(to, 0);
                        let zeros = self.below(2) == 0;
                        for b in &mut data[from..to] {
                            *b = if zeros { 0 } else { self.next_u64() as u8 };
                        }
                    }
                }
            }
            let synced = data.len();
            inodes.insert(id, Inode { data, synced });
        }
        let mut s = State::new(self.next_u64());
        s.next_inode = self.next_inode;
        s.inodes = inodes;
        s.live = dir.clone();
        s.durable = dir;
        s.inj.stats = self.inj.stats;
        s.inj.stats.crashes += 1;
        s
    }
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Held syncs (see [`FaultStorage::hold_syncs`]); apart from `state` so a sync waiting
    /// here does not block every other file operation.
    gate: Mutex<Gate>,
    gate_cv: Condvar,
}

#[derive(Debug, Default)]
struct Gate {
    closed: bool,
    waiting: usize,
}

impl Shared {
    fn new(state: State) -> Shared {
        Shared {
            state: Mutex::new(state),
            gate: Mutex::new(Gate::default()),
            gate_cv: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the state from the others.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn gate(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A sync of `inode` that makes its first `upto` bytes durable (all of them with
    /// `usize::MAX`), after the gate and the fault injection.
    fn sync(&self, inode: u64, upto: usize) -> io::Result<()> {
        self.pass_gate();
        let mut s = self.lock();
        s.alive()?;
        let sync = s.inj.config.ops.sync;
        if let Some(e) = s.inject(sync) {
            return Err(e);
        }
        // The file may be gone (a WAL segment retired after its flush): nothing to keep.
        if let Some(inode) = s.inodes.get_mut(&inode) {
            inode.synced = inode.synced.max(upto.min(inode.data.len()));
        }
        Ok(())
    }

    /// Where every sync starts: waits while syncs are held.
    fn pass_gate(&self) {
        let mut g = self.gate();
        if !g.closed {
            return;
        }
        g.waiting += 1;
        self.gate_cv.notify_all();
        while g.closed {
            g = self.gate_cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        g.waiting -= 1;
    }
}

/// The fault-injecting in-memory storage. Clones share the same files and faults.
#[derive(Clone)]
pub struct FaultStorage {
    shared: Arc<Shared>,
}

impl fmt::Debug for FaultStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.shared.lock();
        f.debug_struct("FaultStorage")
            .field("files", &s.live.len())
            .field("dead", &s.dead)
            .field("stats", &s.inj.stats)
            .finish()
    }
}

impl FaultStorage {
    /// An empty storage whose random choices derive from `seed`.
    pub fn new(seed: u64) -> FaultStorage {
        FaultStorage {
            shared: Arc::new(Shared::new(State::new(seed))),
        }
    }

    /// Replaces the fault configuration (and re-arms the countdown).
    pub fn set_faults(&self, config: FaultConfig) {
        self.shared.lock().inj.set(config);
    }

    /// Stops injecting faults and removes the capacity limit.
    pub fn clear_faults(&self) {
        let mut s = self.shared.lock();
        s.inj.set(FaultConfig::default());
        s.capacity = None;
    }

    /// Limits the total size of live files (`None`: unlimited). Appends past the limit write
    /// what fits and fail with `ENOSPC`.
    pub fn set_capacity(&self, bytes: Option<u64>) {
        self.shared.lock().capacity = bytes;
    }

    /// From now on every file sync (through a writer or a [`SyncHandle`]) waits at its start
    /// until [`FaultStorage::release_syncs`]: lets a test act while a sync is in progress,
    /// the way a slow disk would leave it.
    pub fn hold_syncs(&self) {
        self.shared.gate().closed = true;
    }

    /// Lets held syncs (and later ones) proceed.
    pub fn release_syncs(&self) {
        self.shared.gate().closed = false;
        self.shared.gate_cv.notify_all();
    }

    /// Blocks until some sync is waiting in [`FaultStorage::hold_syncs`]'s gate.
    pub fn wait_for_held_sync(&self) {
        let mut g = self.shared.gate();
        while g.waiting == 0 {
            g = self
                .shared
                .gate_cv
                .wait(g)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Total bytes in live files.
    pub fn used_bytes(&self) -> u64 {
        self.shared.lock().used()
    }

    /// Faults injected so far (carried over by [`FaultStorage::crash`]).
    pub fn stats(&self) -> FaultStats {
        self.shared.lock().inj.stats
    }

    /// Simulates a power loss: returns a new storage holding what survives, and makes this
    /// one (and every file handle it gave out) fail with `EIO` from now on.
    pub fn crash(&self, mode: CrashMode) -> FaultStorage {
        let mut s = self.shared.lock();
        s.dead = true;
        let image = s.crash_image(mode);
        FaultStorage {
            shared: Arc::new(Shared::new(image)),
        }
    }

    /// The live bytes of `name` (for tests that inspect or damage files).
    pub fn file(&self, name: &str) -> Option<Vec<u8>> {
        let s = self.shared.lock();
        let id = s.live.get(name)?;
        s.inodes.get(id).map(|i| i.data.clone())
    }

    /// Flips bit `bit` of byte `offset` of `name` on "disk" (durably).
    pub fn corrupt(&self, name: &str, offset: usize, bit: u8) -> io::Result<()> {
        let mut s = self.shared.lock();
        let id = s.inode_of(name)?;
        let inode = s.inodes.get_mut(&id).expect("linked inodes exist");
        match inode.data.get_mut(offset) {
            Some(b) => {
                *b ^= 1 << (bit % 8);
                Ok(())
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "offset past end",
            )),
        }
    }
}

impl Storage for FaultStorage {
    fn create(&self, name: &str) -> io::Result<Box<dyn WritableFile>> {
        let mut s = self.shared.lock();
        s.alive()?;
        let meta = s.inj.config.ops.meta;
        if let Some(e) = s.inject(meta) {
            return Err(e);
        }
        let id = s.next_inode;
        s.next_inode += 1;
        s.inodes.insert(
            id,
            Inode {
                data: Vec::new(),
                synced: 0,
            },
        );
        s.link(name, id);
        Ok(Box::new(FaultFile {
            shared: Arc::clone(&self.shared),
            inode: id,
            len: 0,
        }))
    }

    fn open_read(&self, name: &str) -> io::Result<Arc<dyn RandomAccessFile>> {
        let mut s = self.shared.lock();
        s.alive()?;
        let meta = s.inj.config.ops.meta;
        if let Some(e) = s.inject(meta) {
            return Err(e);
        }
        let id = s.inode_of(name)?;
        let len = s.inodes[&id].data.len() as u64;
        Ok(Arc::new(FaultReader {
            shared: Arc::clone(&self.shared),
            inode: id,
            len,
        }))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let mut s = self.shared.lock();
        s.alive()?;
        let rename = s.inj.config.ops.rename;
        if let Some(e) = s.inject(rename) {
            return Err(e);
        }
        let id = s.inode_of(from)?;
        s.unlink(from);
        s.link(to, id);
        Ok(())
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        let mut s = self.shared.lock();
        s.alive()?;
        let meta = s.inj.config.ops.meta;
        if let Some(e) = s.inject(meta) {
            return Err(e);
        }
        s.inode_of(name)?;
        s.unlink(name);
        Ok(())
    }

    fn truncate(&self, name: &str, len: u64) -> io::Result<()> {
        let mut s = self.shared.lock();
        s.alive()?;
        let meta = s.inj.config.ops.meta;
        if let Some(e) = s.inject(meta) {
            return Err(e);
        }
        let id = s.inode_of(name)?;
        let inode = s.inodes.get_mut(&id).expect("linked inodes exist");
        inode.data.resize(len as usize, 0);
        inode.synced = inode.data.len();
        Ok(())
    }

    fn list(&self) -> io::Result<Vec<String>> {
        let s = self.shared.lock();
        s.alive()?;
        Ok(s.live.keys().cloned().collect())
    }

    fn sync_dir(&self) -> io::Result<()> {
        let mut s = self.shared.lock();
        s.alive()?;
        let sync = s.inj.config.ops.sync;
        if let Some(e) = s.inject(sync) {
            return Err(e);
        }
        s.durable = s.live.clone();
        s.pending.clear();
        Ok(())
    }

    fn lock(&self) -> io::Result<Box<dyn LockGuard>> {
        let mut s = self.shared.lock();
        s.alive()?;
        if s.locked {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "the fault storage is locked",
            ));
        }
        s.locked = true;
        Ok(Box::new(FaultLock {
            shared: Arc::clone(&self.shared),
        }))
    }
}

struct FaultLock {
    shared: Arc<Shared>,
}

impl fmt::Debug for FaultLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FaultLock")
    }
}

impl LockGuard for FaultLock {}

impl Drop for FaultLock {
    fn drop(&mut self) {
        self.shared.lock().locked = false;
    }
}

struct FaultFile {
    shared: Arc<Shared>,
    inode: u64,
    len: u64,
}

impl fmt::Debug for FaultFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultFile")
            .field("inode", &self.inode)
            .field("len", &self.len)
            .finish()
    }
}

impl WritableFile for FaultFile {
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        let mut s = self.shared.lock();
        s.alive()?;
        let write = s.inj.config.ops.write;
        let (mut keep, mut err) = match s.inject(write) {
            Some(e) => {
                let keep = if s.inj.config.short_writes && !data.is_empty() {
                    s.below(data.len() as u64) as usize
                } else {
                    0
                };
                (keep, Some(e))
            }
            None => (data.len(), None),
        };
        if let Some(cap) = s.capacity {
            let free = cap.saturating_sub(s.used()) as usize;
            if keep > free {
                keep = free;
                if err.is_none() {
                    err = Some(s.error(true));
                }
            }
        }
        if err.is_some() && keep > 0 {
            s.inj.stats.short_writes += 1;
        }
        let inode = s.inodes.get_mut(&self.inode).expect("open inodes exist");
        inode.data.extend_from_slice(&data[..keep]);
        self.len = inode.data.len() as u64;
        match err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn sync(&mut self) -> io::Result<()> {
        self.shared.sync(self.inode, usize::MAX)
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn sync_handle(&self) -> Option<Box<dyn SyncHandle>> {
        Some(Box::new(FaultSync {
            shared: Arc::clone(&self.shared),
            inode: self.inode,
            len: self.len as usize,
        }))
    }
}

/// A [`SyncHandle`] of a [`FaultFile`]: makes durable exactly the bytes appended before it
/// was taken, the least a real fdatasync through another descriptor guarantees, so the
/// power-loss model never credits it with bytes appended while it ran.
struct FaultSync {
    shared: Arc<Shared>,
    inode: u64,
    len: usize,
}

impl SyncHandle for FaultSync {
    fn sync(&self) -> io::Result<()> {
        self.shared.sync(self.inode, self.len)
    }
}

struct FaultReader {
    shared: Arc<Shared>,
    inode: u64,
    len: u64,
}

impl fmt::Debug for FaultReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultReader")
            .field("inode", &self.inode)
            .field("len", &self.len)
            .finish()
    }
}

impl RandomAccessFile for FaultReader {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut s = self.shared.lock();
        s.alive()?;
        let read = s.inj.config.ops.read;
        if let Some(e) = s.inject(read) {
            return Err(e);
        }
        let data = &s.inodes[&self.inode].data;
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        match start.checked_add(buf.len()) {
            Some(end) if end <= data.len() => buf.copy_from_slice(&data[start..end]),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("read of {} bytes at {offset} past the end", buf.len()),
                ));
            }
        }
        s.inj.maybe_flip(buf);
        Ok(())
    }

    fn len(&self) -> u64 {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(s: &FaultStorage, name: &str, data: &[u8], sync: bool) -> Box<dyn WritableFile> {
        let mut f = s.create(name).unwrap();
        f.append(data).unwrap();
        if sync {
            f.sync().unwrap();
        }
        f
    }

    #[test]
    fn power_loss_keeps_only_synced_data_and_synced_directory_entries() {
        let s = FaultStorage::new(1);
        let mut a = write(&s, "a", b"durable", true);
        a.append(b" lost").unwrap();
        s.sync_dir().unwrap();
        write(&s, "b", b"synced data, unsynced entry", true);
        s.rename("a", "c").unwrap();
        let after = s.crash(CrashMode::default());
        let mut names = after.list().unwrap();
        names.sort();
        assert_eq!(names, ["a"]);
        assert_eq!(after.read_all("a").unwrap(), b"durable");
        // The old storage and its handles are dead.
        assert_eq!(a.append(b"x").unwrap_err().raw_os_error(), Some(EIO));
        assert!(s.list().is_err());
    }

    #[test]
    fn torn_sectors_keep_a_prefix_of_the_unsynced_bytes() {
        for seed in 0..64 {
            let s = FaultStorage::new(seed);
            let data: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8 + 1).collect();
            let mut f = write(&s, "f", &data[..700], true);
            f.append(&data[700..]).unwrap();
            s.sync_dir().unwrap();
            let mode = CrashMode {
                torn_sectors: true,
                garbage: false,
                torn_dir: false,
            };
            let got = s.crash(mode).read_all("f").unwrap();
            assert!(got.len() >= 700 && data.starts_with(&got), "seed {seed}");
            assert!(got.len() == 700 || got.len().is_multiple_of(SECTOR) || got.len() == 3000);
        }
    }

    #[test]
    fn countdown_capacity_and_short_writes() {
        let s = FaultStorage::new(7);
        s.set_faults(FaultConfig {
            ops: Ops::WRITE,
            fail_after: Some(1),
            error: InjectedError::NoSpace,
            ..FaultConfig::default()
        });
        let mut f = s.create("f").unwrap();
        f.append(b"one").unwrap();
        let e = f.append(b"two").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(ENOSPC));
        f.append(b"three").unwrap();
        assert_eq!(s.file("f").unwrap(), b"onethree");

        s.clear_faults();
        s.set_capacity(Some(10));
        assert!(f.append(b"12345").is_err());
        assert_eq!(s.file("f").unwrap(), b"onethree12");
        s.remove("f").unwrap();
        assert_eq!(s.used_bytes(), 0);
        let stats = s.stats();
        assert_eq!((stats.enospc, stats.short_writes), (2, 1));
    }

    #[test]
    fn the_lock_is_exclusive_until_dropped() {
        let s = FaultStorage::new(0);
        let g = s.lock().unwrap();
        assert_eq!(s.lock().unwrap_err().kind(), io::ErrorKind::WouldBlock);
        drop(g);
        s.lock().unwrap();
    }
}
