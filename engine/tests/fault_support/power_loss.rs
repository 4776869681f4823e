//! The power-loss suite, on any [`Disk`] (fault_power_loss.rs on the fault storage,
//! volume_power_loss.rs on a raw volume).

use super::disk::Disk;
use super::{Model, Step, check_recovered, step};
use crate::common::Rng;
use scipkv_engine::storage::fault::{FaultConfig, InjectedError, Ops};

/// `SCIPKV_FAULT_CRASHES`, default 300.
pub fn crashes() -> u64 {
    std::env::var("SCIPKV_FAULT_CRASHES")
        .map(|s| s.parse().expect("SCIPKV_FAULT_CRASHES must be a number"))
        .unwrap_or(300)
}

/// Power losses at random points: each round arms a countdown after which every disk call
/// fails (the moment the power goes), runs the random workload, builds the image the power
/// loss leaves, reopens and checks the state is every acknowledged write plus at most the
/// one in flight.
pub fn run<D: Disk>(name: &str, seed: u64, crashes: u64, garbage: bool) {
    let mut rng = Rng::new(seed);
    let mut storage = D::new(seed);
    let mut acked = Model::new();
    let mut tag = 0;
    let mut acks = 0u64;
    let mut in_flight_kept = 0u64;
    let mut db = storage.open().unwrap();
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
        let (image, mode) = storage.crash(&mut rng, garbage);
        drop(db);
        storage = image;
        db = storage
            .open()
            .unwrap_or_else(|e| panic!("{ctx}: reopen after power loss ({mode}) failed: {e}"));
        let before = acked.clone();
        acked = check_recovered(&db, &acked, in_flight.as_ref(), &format!("{ctx} {mode}"));
        if acked != before {
            in_flight_kept += 1;
        }
    }
    let stats = storage.stats();
    println!(
        "{name}: {crashes} power losses (garbage: {garbage}), {acks} acknowledged writes, \
         {in_flight_kept} in-flight writes survived, {} injected EIO, seed {seed}",
        stats.eio
    );
}
