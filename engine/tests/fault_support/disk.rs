//! What the fault suites run on: the fault-injecting file storage, or a raw volume on the
//! memory device with the same faults (`FaultConfig`) injected at the device. Each suite is
//! written once against [`Disk`] and run on both.

use std::sync::{Arc, Mutex};

use super::{options, options_on, random_crash_mode};
use crate::common::Rng;
use scipkv_engine::Db;
use scipkv_engine::storage::fault::{FaultConfig, FaultStats, FaultStorage};
use scipkv_engine::storage::volume::{MemDevice, VolumeStorage};

pub trait Disk: Sized {
    /// A fresh, empty disk.
    fn new(seed: u64) -> Self;

    /// Opens the database on it (on a volume: the volume first, replaying its journal).
    fn open(&self) -> scipkv_engine::Result<Db>;

    fn set_faults(&self, config: FaultConfig);

    /// Stops injecting faults and lifts the space limit.
    fn clear_faults(&self);

    /// The disk a power loss leaves now, in a random way (`garbage`: a torn sector may end
    /// in junk, where the disk can do that), and how.
    fn crash(&self, rng: &mut Rng, garbage: bool) -> (Self, String);

    /// Bytes in use, and a limit on them (`None`: no limit) past which writes fail with
    /// ENOSPC / "volume full".
    fn used_bytes(&self) -> u64;
    fn set_capacity(&self, bytes: Option<u64>);

    fn stats(&self) -> FaultStats;
}

impl Disk for FaultStorage {
    fn new(seed: u64) -> Self {
        FaultStorage::new(seed)
    }

    fn open(&self) -> scipkv_engine::Result<Db> {
        Db::open("fault-storage", options(self))
    }

    fn set_faults(&self, config: FaultConfig) {
        FaultStorage::set_faults(self, config);
    }

    fn clear_faults(&self) {
        FaultStorage::clear_faults(self);
    }

    fn crash(&self, rng: &mut Rng, garbage: bool) -> (Self, String) {
        let mode = random_crash_mode(rng, garbage);
        (FaultStorage::crash(self, mode), format!("{mode:?}"))
    }

    fn used_bytes(&self) -> u64 {
        FaultStorage::used_bytes(self)
    }

    fn set_capacity(&self, bytes: Option<u64>) {
        FaultStorage::set_capacity(self, bytes);
    }

    fn stats(&self) -> FaultStats {
        FaultStorage::stats(self)
    }
}

/// A raw volume on a 32 MiB memory device. The capacity is the volume's space limit (its
/// files grow in whole blocks, with preallocation, so "full" comes in block steps).
pub struct VolumeDisk {
    dev: Arc<MemDevice>,
    /// The volume the last `open` opened (the space limit applies to it).
    vol: Mutex<Option<VolumeStorage>>,
}

impl VolumeDisk {
    fn volume(&self) -> VolumeStorage {
        self.vol
            .lock()
            .unwrap()
            .clone()
            .expect("the volume is opened first")
    }
}

impl Disk for VolumeDisk {
    fn new(seed: u64) -> Self {
        let dev = Arc::new(MemDevice::new(32 << 20, seed));
        VolumeStorage::format(&*dev, false).expect("format");
        VolumeDisk {
            dev,
            vol: Mutex::new(None),
        }
    }

    fn open(&self) -> scipkv_engine::Result<Db> {
        let vol = VolumeStorage::open(self.dev.clone())?;
        *self.vol.lock().unwrap() = Some(vol.clone());
        Db::open("fault-volume", options_on(Arc::new(vol)))
    }

    fn set_faults(&self, config: FaultConfig) {
        self.dev.set_faults(config);
    }

    fn clear_faults(&self) {
        self.dev.clear_faults();
        if let Some(v) = &*self.vol.lock().unwrap() {
            v.set_space_limit(None);
        }
    }

    fn crash(&self, rng: &mut Rng, _garbage: bool) -> (Self, String) {
        // A device's sectors are atomic: a torn write keeps or loses whole sectors.
        let torn = rng.chance(50);
        let disk = VolumeDisk {
            dev: Arc::new(self.dev.crash(torn)),
            vol: Mutex::new(None),
        };
        (disk, format!("volume power loss, torn sectors {torn}"))
    }

    fn used_bytes(&self) -> u64 {
        self.volume().used_bytes()
    }

    fn set_capacity(&self, bytes: Option<u64>) {
        self.volume().set_space_limit(bytes);
    }

    fn stats(&self) -> FaultStats {
        self.dev.fault_stats()
    }
}
