//! Power loss at random points on the raw-volume backend, in `SyncMode::Always` (the suite of
//! fault_power_loss.rs, body in fault_support/power_loss.rs, on `fault_support::disk::VolumeDisk`).
//!
//! The database runs on a `VolumeStorage` over the memory device, whose unflushed writes a
//! power loss drops (or keeps sector by sector, at random: a disk cache may write any subset
//! of them). Each round arms a countdown after which every device call fails (the moment the
//! power goes; it may land in a WAL append, a table write, a journal commit or its tail, a
//! checkpoint or a superblock write), runs random writes, reads, snapshots, flushes and
//! compactions against a model, builds the device image the power loss leaves, reopens the
//! volume and the database, and checks that the state is every acknowledged write plus at
//! most the one in flight. `SCIPKV_FAULT_CRASHES` sets the rounds (default 150 here);
//! `SCIPKV_SEED` reruns a failure.

mod common;
mod fault_support;

use common::seed;
use fault_support::disk::VolumeDisk;
use fault_support::power_loss::{crashes, run};

#[test]
fn volume_power_loss_recovers_every_acknowledged_write_and_nothing_else() {
    let seed = seed("volume_power_loss");
    run::<VolumeDisk>("volume_power_loss", seed, crashes() / 2, false);
}
