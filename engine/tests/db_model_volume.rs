//! The model test (common/model.rs) on the raw-volume backend: the database on a
//! preallocated file formatted as a volume, reopened through `Db::open_volume` (each reopen
//! replays the volume journal), with a tiny block cache so that table reads really go to the
//! device, batched through io_uring. Asserts the ring was used, not a silent fallback.

mod common;
#[path = "common/model.rs"]
mod model;

use std::path::Path;
use std::sync::Arc;

use common::seed;
use scipkv_engine::storage::read_path_stats;
use scipkv_engine::storage::volume::{FileDevice, MemDevice, VolumeStorage};
use scipkv_engine::{Db, ManualClock, ReadPath};

/// A formatted volume in a file of `bytes` (sparse: only written blocks take disk space).
pub fn volume_file(dir: &Path, bytes: u64) -> std::path::PathBuf {
    let path = dir.join("volume.img");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(bytes)
        .unwrap();
    let dev = FileDevice::open(&path).unwrap();
    VolumeStorage::format(&dev, false).unwrap();
    path
}

#[test]
fn model_on_a_volume_file() {
    let s = seed("model_on_a_volume_file");
    let before = read_path_stats();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = volume_file(dir.path(), 256 << 20);
    let open = |clock: &ManualClock| {
        Db::open_volume(&path, model::options(ReadPath::IoUring, 16 << 10, clock)).unwrap()
    };
    model::run_with(s, 2000, &open);
    let v = open(&ManualClock::new(0))
        .stats()
        .volume
        .expect("volume stats");
    eprintln!("model_on_a_volume_file: {v:?}");
    assert!(v.files > 0 && v.free_bytes < v.data_bytes, "{v:?}");
    let after = read_path_stats();
    eprintln!("model_on_a_volume_file: {before:?} -> {after:?}");
    assert!(
        after.uring_reads > before.uring_reads + 100,
        "the io_uring path was not used: {before:?} -> {after:?}"
    );
}

/// The same on the memory device, without a block cache, every reopen replaying the volume
/// journal from the device; the journal wraps (checkpoints) many times.
#[test]
fn model_on_a_memory_volume() {
    let s = seed("model_on_a_memory_volume");
    let dev = Arc::new(MemDevice::new(128 << 20, s));
    VolumeStorage::format(&*dev, false).unwrap();
    let open = |clock: &ManualClock| {
        let mut o = model::options(ReadPath::IoUring, 0, clock);
        let volume = VolumeStorage::open(dev.clone()).unwrap();
        o.storage = Some(Arc::new(volume));
        Db::open("memory-volume", o).unwrap()
    };
    model::run_with(s, 2000, &open);
    let db = open(&ManualClock::new(0));
    let v = db.stats().volume.expect("volume stats");
    eprintln!("model_on_a_memory_volume: {v:?} {:?}", db.stats().levels);
    assert!(v.generation > 2, "the journal was checkpointed: {v:?}");
    assert!(dev.discards() > 0, "freed extents were discarded");
}
