//! Power loss at random points, on the fault-injecting storage, in `SyncMode::Always`.
//!
//! Each round opens the database, arms a countdown after which the "disk" dies (every
//! storage call fails, as if power went at that call; it may land inside a write, a flush, a
//! compaction, a manifest or CURRENT update), runs random puts, deletes, batches, gets,
//! iterations, snapshots, flushes and compactions against a model, then builds the image the
//! power loss leaves (unsynced data and directory entries dropped, or torn at a sector
//! boundary), reopens it and checks that the state is every acknowledged write, plus at most
//! the one write that was in flight. `SCIPKV_FAULT_CRASHES` sets the number of power losses
//! (default 300); `SCIPKV_SEED` reruns a failure.

mod common;
mod fault_support;

use common::{Rng, seed};
use fault_support::{Model, Step, check_recovered, open, random_crash_mode, step};
use scipkv_engine::storage::fault::{FaultConfig, FaultStorage, InjectedError, Ops};

fn crashes() -> u64 {
    std::env::var("SCIPKV_FAULT_CRASHES")
        .map(|s| s.parse().expect("SCIPKV_FAULT_CRASHES must be a number"))
        .unwrap_or(300)
}

#[test]
fn power_loss_recovers_every_acknowledged_write_and_nothing_else() {
    let seed = seed("fault_power_loss");
    run(seed, crashes(), false);
}

#[test]
fn power_loss_with_garbage_in_torn_sectors_recovers_every_acknowledged_write() {
    let seed = seed("fault_power_loss_garbage");
    run(seed, crashes() / 3, true);
}

fn run(seed: u64, crashes: u64, garbage: bool) {
    let mut rng = Rng::new(seed);
    let mut storage = FaultStorage::new(seed);
    let mut acked = Model::new();
    let mut tag = 0;
    let mut acks = 0u64;
    let mut in_flight_kept = 0u64;
    let mut db = open(&storage).unwrap();
    for round in 0..crashes {
        let ctx = format!("seed {seed} round {round} (rerun with SCIPKV_SEED={seed})");
        storage.set_faults(FaultConfig {
            ops: Ops::ALL,
            fail_after: Some(rng.below(400)),
            sticky: true,
            error: InjectedError::Eio,
            ..FaultConfig::default()
        });
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
        let mode = random_crash_mode(&mut rng, garbage);
        let image = storage.crash(mode);
        drop(db);
        storage = image;
        db = open(&storage)
            .unwrap_or_else(|e| panic!("{ctx}: reopen after power loss ({mode:?}) failed: {e}"));
        let before = acked.clone();
        acked = check_recovered(&db, &acked, in_flight.as_ref(), &format!("{ctx} {mode:?}"));
        if acked != before {
            in_flight_kept += 1;
        }
    }
    let stats = storage.stats();
    println!(
        "fault_power_loss: {crashes} power losses (garbage: {garbage}), {acks} acknowledged \
         writes, {in_flight_kept} in-flight writes survived, {} injected EIO, seed {seed}",
        stats.eio
    );
}
