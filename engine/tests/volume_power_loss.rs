//! Power loss at random points on the raw-volume backend, in `SyncMode::Always`.
//!
//! The database runs on a `VolumeStorage` over the memory device, whose unflushed writes a
//! power loss drops (or keeps sector by sector, at random: a disk cache may write any subset
//! of them). Each round arms a countdown after which every device call fails (the moment the
//! power goes; it may land in a WAL append, a table write, a journal commit, a checkpoint or
//! a superblock write), runs random writes, reads, snapshots, flushes and compactions
//! against a model, builds the device image the power loss leaves, reopens the volume and
//! the database, and checks that the state is every acknowledged write plus at most the one
//! in flight. `SCIPKV_FAULT_CRASHES` sets the rounds (default 150); `SCIPKV_SEED` reruns a
//! failure.

mod common;
mod fault_support;

use std::sync::Arc;

use common::{Rng, seed};
use fault_support::{Model, Step, check_recovered, options_on, step};
use scipkv_engine::Db;
use scipkv_engine::storage::volume::{MemDevice, VolumeStorage};

fn crashes() -> u64 {
    std::env::var("SCIPKV_FAULT_CRASHES")
        .map(|s| s.parse().expect("SCIPKV_FAULT_CRASHES must be a number"))
        .unwrap_or(150)
}

fn open(dev: &Arc<MemDevice>) -> scipkv_engine::Result<Db> {
    let volume = VolumeStorage::open(dev.clone())?;
    Db::open("memory-volume", options_on(Arc::new(volume)))
}

#[test]
fn volume_power_loss_recovers_every_acknowledged_write_and_nothing_else() {
    let seed = seed("volume_power_loss");
    let mut rng = Rng::new(seed);
    let mut dev = Arc::new(MemDevice::new(32 << 20, seed));
    VolumeStorage::format(&*dev, false).unwrap();
    let mut db = open(&dev).unwrap();
    let mut acked = Model::new();
    let (mut tag, mut acks, mut kept, mut generations) = (0, 0u64, 0u64, 0u64);
    let rounds = crashes();
    for round in 0..rounds {
        let ctx = format!("seed {seed} round {round} (rerun with SCIPKV_SEED={seed})");
        dev.fail_after(rng.below(300));
        let mut in_flight = None;
        let mut snaps = Vec::new();
        for _ in 0..rng.below(120) {
            tag += 1;
            match step(&db, &mut rng, &mut acked, &mut snaps, tag, &ctx) {
                Step::Acked => acks += 1,
                Step::ReadOk => {}
                Step::WriteFailed(w, _) => {
                    in_flight = Some(w);
                    break;
                }
                Step::OtherFailed(_) => break,
            }
        }
        drop(snaps);
        let torn = rng.chance(50);
        let image = Arc::new(dev.crash(torn));
        drop(db);
        dev = image;
        db = open(&dev)
            .unwrap_or_else(|e| panic!("{ctx}: reopen after power loss (torn {torn}) failed: {e}"));
        generations = db.stats().volume.map_or(0, |v| v.generation);
        let before = acked.clone();
        acked = check_recovered(
            &db,
            &acked,
            in_flight.as_ref(),
            &format!("{ctx} torn {torn}"),
        );
        kept += u64::from(acked != before);
    }
    println!(
        "volume_power_loss: {rounds} power losses, {acks} acknowledged writes, {kept} in-flight \
         writes survived, volume generation {generations} at the end, seed {seed}"
    );
    assert!(acks > rounds, "the workload made progress");
}
