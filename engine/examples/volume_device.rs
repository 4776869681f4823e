//! The model test (tests/common/model.rs) on a raw volume on a real block device, for
//! scripts/volume-loop-test (which sets up a loop device; CI machines may have none, so this
//! is not part of `cargo test`). Formats DEVICE (destroying its contents), runs the model
//! workload with reopens through `Db::open_volume`, and checks that the block-device code
//! paths ran: `O_DIRECT` reads through io_uring and `BLKDISCARD` of freed extents.
//!
//!   cargo run --release -p scipkv-engine --example volume_device -- /dev/loopN

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/model.rs"]
#[allow(dead_code, reason = "only run_with is used")]
mod model;

use std::path::PathBuf;

use scipkv_engine::storage::read_path_stats;
use scipkv_engine::storage::volume::{FileDevice, VolumeStorage};
use scipkv_engine::{Db, ManualClock, ReadPath};

fn main() {
    let device: PathBuf = std::env::args_os()
        .nth(1)
        .expect("usage: volume_device DEVICE")
        .into();
    {
        let dev = FileDevice::open(&device).expect("open device");
        assert!(
            dev.is_block_device(),
            "{} is not a block device",
            device.display()
        );
        VolumeStorage::format(&dev, true).expect("format");
    }
    let seed = common::seed("volume_device");
    let before = read_path_stats();
    let open = |clock: &ManualClock| {
        Db::open_volume(&device, model::options(ReadPath::IoUring, 16 << 10, clock)).unwrap()
    };
    model::run_with(seed, 2000, &open);
    let db = open(&ManualClock::new(0));
    let v = db.stats().volume.expect("volume stats");
    let after = read_path_stats();
    println!("volume_device: {v:?}");
    println!("volume_device: read paths {before:?} -> {after:?}");
    assert!(after.uring_reads > before.uring_reads, "no io_uring reads");
    assert!(after.fallbacks == before.fallbacks, "a read path fell back");
    assert!(
        v.discards > 0 && v.discard_errors == 0,
        "BLKDISCARD did not run: {v:?}"
    );
    db.close().unwrap();
    println!("volume_device: model test passed on {}", device.display());
}
