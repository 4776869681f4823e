//! Power loss at random points, on the fault-injecting storage, in `SyncMode::Always`.
//!
//! Each round opens the database, arms a countdown after which the "disk" dies (every
//! storage call fails, as if power went at that call; it may land inside a write, a flush, a
//! compaction, a manifest or CURRENT update), runs random puts, deletes, batches, gets,
//! iterations, snapshots, flushes and compactions against a model, then builds the image the
//! power loss leaves (unsynced data and directory entries dropped, or torn at a sector
//! boundary), reopens it and checks that the state is every acknowledged write, plus at most
//! the one write that was in flight. `SCIPKV_FAULT_CRASHES` sets the number of power losses
//! (default 300); `SCIPKV_SEED` reruns a failure. The body is in fault_support/power_loss.rs
//! (volume_power_loss.rs runs it on a raw volume).

mod common;
mod fault_support;

use common::seed;
use fault_support::power_loss::{crashes, run};
use scipkv_engine::storage::fault::FaultStorage;

#[test]
fn power_loss_recovers_every_acknowledged_write_and_nothing_else() {
    let seed = seed("fault_power_loss");
    run::<FaultStorage>("fault_power_loss", seed, crashes(), false);
}

#[test]
fn power_loss_with_garbage_in_torn_sectors_recovers_every_acknowledged_write() {
    let seed = seed("fault_power_loss_garbage");
    run::<FaultStorage>("fault_power_loss_garbage", seed, crashes() / 3, true);
}
