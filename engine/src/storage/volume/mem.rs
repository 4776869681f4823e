//! A memory [`Device`] with power-loss semantics, for tests of the volume's crash safety.
//!
//! Writes land in the live image at once; [`Device::flush`] copies the sectors written since
//! the last flush into the durable image. [`MemDevice::crash`] returns the device a power loss
//! leaves: the durable image, plus (with `torn`) each unflushed 512-byte sector independently
//! either kept or lost, as a disk that reorders its cache writes may leave it (sectors are
//! atomic; blocks are not). [`MemDevice::fail_after`] arms a countdown after which every call
//! fails with `EIO` (the moment the power goes), so the volume code above runs into the
//! failure at a random point. [`MemDevice::set_faults`] injects the fault storage's faults
//! (`crate::storage::fault::FaultConfig`) at the device: `EIO` or `ENOSPC` on reads, writes,
//! flushes or discards, short writes (a prefix of the sectors written, then the error) and
//! bit flips on read, so the fault suites run on a volume as they run on `FaultStorage`.

use std::collections::BTreeSet;
use std::io;
use std::sync::Mutex;

use super::device::{Device, check_aligned_write};
use crate::storage::fault::{FaultConfig, FaultStats, Injector};

/// Unflushed writes are kept or lost in units of this many bytes.
pub const SECTOR: u64 = 512;

struct State {
    live: Vec<u8>,
    durable: Vec<u8>,
    dirty: BTreeSet<u64>,
    fail_after: Option<u64>,
    dead: bool,
    rng: u64,
    discards: u64,
    inj: Injector,
}

impl State {
    fn next_u64(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Counts down the armed failure; errors once the power is gone.
    fn tick(&mut self) -> io::Result<()> {
        if let Some(n) = self.fail_after {
            if n == 0 {
                self.dead = true;
            } else {
                self.fail_after = Some(n - 1);
            }
        }
        if self.dead {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        Ok(())
    }
}

/// See the module documentation.
pub struct MemDevice {
    state: Mutex<State>,
}

impl std::fmt::Debug for MemDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemDevice")
            .field("len", &self.len())
            .finish()
    }
}

impl MemDevice {
    /// A zero-filled device of `len` bytes; `seed` drives the torn-sector choices.
    pub fn new(len: u64, seed: u64) -> MemDevice {
        let len = usize::try_from(len).expect("memory device fits in memory");
        MemDevice::from_image(vec![0; len], seed)
    }

    fn from_image(image: Vec<u8>, seed: u64) -> MemDevice {
        MemDevice {
            state: Mutex::new(State {
                live: image.clone(),
                durable: image,
                dirty: BTreeSet::new(),
                fail_after: None,
                dead: false,
                rng: seed,
                discards: 0,
                inj: Injector::new(seed ^ 0x5EED),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// After `ops` more reads, writes, flushes or discards, every call fails with `EIO`.
    pub fn fail_after(&self, ops: u64) {
        self.lock().fail_after = Some(ops);
    }

    /// The device a power loss leaves now (this one is dead afterwards).
    pub fn crash(&self, torn: bool) -> MemDevice {
        let mut s = self.lock();
        s.dead = true;
        let mut image = s.durable.clone();
        let dirty: Vec<u64> = s.dirty.iter().copied().collect();
        for sector in dirty {
            if torn && s.next_u64().is_multiple_of(2) {
                let a = (sector * SECTOR) as usize;
                let b = a + SECTOR as usize;
                image[a..b].copy_from_slice(&s.live[a..b]);
            }
        }
        let seed = s.next_u64();
        let next = MemDevice::from_image(image, seed);
        let mut stats = s.inj.stats;
        stats.crashes += 1;
        next.lock().inj.stats = stats;
        next
    }

    /// A copy of the live bytes (for corruption tests).
    pub fn image(&self) -> Vec<u8> {
        self.lock().live.clone()
    }

    /// Overwrites bytes in both images, as damage at rest would.
    pub fn corrupt(&self, offset: usize, bytes: &[u8]) {
        let mut s = self.lock();
        s.live[offset..offset + bytes.len()].copy_from_slice(bytes);
        s.durable[offset..offset + bytes.len()].copy_from_slice(bytes);
    }

    /// Injects `config`'s faults from now on (besides [`MemDevice::fail_after`]). Its `ops`
    /// map to the device: `read`, `write`, `sync` (flush) and `meta` (discard).
    pub fn set_faults(&self, config: FaultConfig) {
        self.lock().inj.set(config);
    }

    /// Stops injecting faults.
    pub fn clear_faults(&self) {
        self.lock().inj.set(FaultConfig::default());
    }

    /// Faults injected so far (carried over by [`MemDevice::crash`]; `crashes` counts them).
    pub fn fault_stats(&self) -> FaultStats {
        self.lock().inj.stats
    }

    /// Discards performed.
    pub fn discards(&self) -> u64 {
        self.lock().discards
    }
}

impl Device for MemDevice {
    fn len(&self) -> u64 {
        self.lock().live.len() as u64
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut s = self.lock();
        s.tick()?;
        let read = s.inj.config.ops.read;
        if let Some(e) = s.inj.inject(read) {
            return Err(e);
        }
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        match start.checked_add(buf.len()) {
            Some(end) if end <= s.live.len() => {
                buf.copy_from_slice(&s.live[start..end]);
                s.inj.maybe_flip(buf);
                Ok(())
            }
            _ => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the device end",
            )),
        }
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        let mut s = self.lock();
        s.tick()?;
        check_aligned_write(buf, offset, s.live.len() as u64)?;
        let write = s.inj.config.ops.write;
        let (keep, err) = match s.inj.inject(write) {
            None => (buf.len(), None),
            // A short write: some leading sectors landed before the error.
            Some(e) if s.inj.config.short_writes => {
                let sectors = s.inj.below(buf.len() as u64 / SECTOR) as usize;
                if sectors > 0 {
                    s.inj.stats.short_writes += 1;
                }
                (sectors * SECTOR as usize, Some(e))
            }
            Some(e) => (0, Some(e)),
        };
        let start = offset as usize;
        s.live[start..start + keep].copy_from_slice(&buf[..keep]);
        let first = offset / SECTOR;
        for sector in first..first + keep as u64 / SECTOR {
            s.dirty.insert(sector);
        }
        match err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn flush(&self) -> io::Result<()> {
        let mut s = self.lock();
        s.tick()?;
        let sync = s.inj.config.ops.sync;
        if let Some(e) = s.inj.inject(sync) {
            return Err(e);
        }
        let dirty = std::mem::take(&mut s.dirty);
        for sector in dirty {
            let a = (sector * SECTOR) as usize;
            let b = a + SECTOR as usize;
            let State { live, durable, .. } = &mut *s;
            durable[a..b].copy_from_slice(&live[a..b]);
        }
        Ok(())
    }

    fn discard(&self, offset: u64, len: u64) -> io::Result<bool> {
        let mut s = self.lock();
        s.tick()?;
        let meta = s.inj.config.ops.meta;
        if let Some(e) = s.inj.inject(meta) {
            return Err(e);
        }
        // A discarded range reads back undefined on a real device: fill it with a pattern in
        // both images, so a volume that still read it would see garbage and fail its checks.
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
        if end > s.live.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "discard past the device end",
            ));
        }
        s.live[start..end].fill(0xD5);
        s.durable[start..end].fill(0xD5);
        s.discards += 1;
        Ok(true)
    }
}
