//! Random EIO and ENOSPC (on writes, syncs, reads, renames, creates, removes), short writes
//! and bit flips on read, in `SyncMode::Always`: on the fault-injecting storage, and on a raw
//! volume whose memory device injects the same faults (reads, writes, flushes, discards).
//!
//! Operations may fail with `Io`, `Corruption` or `Poisoned` errors, but a read that returns
//! data must return the right data. A failed write that did not poison the database must
//! not appear later (it was cut from the log); the one that poisoned it may. Each session
//! ends with the faults cleared and a reopen (half the time after a power loss): the state
//! must be every acknowledged write, plus at most that one failed write. Sometimes the
//! reopen itself runs under faults (it must fail cleanly or open the right state).
//! `SCIPKV_FAULT_SESSIONS` (default 25); `SCIPKV_SEED` reruns a failure.

mod common;
mod fault_support;

use common::{Rng, seed};
use fault_support::disk::{Disk, VolumeDisk};
use fault_support::{Model, Step, check_recovered, step};
use scipkv_engine::storage::fault::{FaultConfig, FaultStorage, InjectedError, Ops};

#[test]
fn injected_io_faults_never_yield_wrong_data_or_lose_acknowledged_writes() {
    run::<FaultStorage>(seed("fault_injection"), "fault_injection");
}

#[test]
fn injected_device_faults_on_a_volume_never_yield_wrong_data_or_lose_acknowledged_writes() {
    run::<VolumeDisk>(seed("fault_injection_volume"), "fault_injection_volume");
}

fn run<D: Disk>(seed: u64, name: &str) {
    let sessions = std::env::var("SCIPKV_FAULT_SESSIONS")
        .map(|s| s.parse().expect("SCIPKV_FAULT_SESSIONS must be a number"))
        .unwrap_or(25);
    let mut rng = Rng::new(seed);
    let mut storage = D::new(seed);
    let mut acked = Model::new();
    let mut tag = 0;
    let (mut acks, mut errors, mut faulty_opens) = (0u64, 0u64, 0u64);
    let mut db = storage.open().unwrap();
    for session in 0..sessions {
        let ctx = format!("seed {seed} session {session} (rerun with SCIPKV_SEED={seed})");
        let config = random_faults(&mut rng);
        storage.set_faults(config.clone());
        let mut maybe = None;
        let mut snaps = Vec::new();
        for _ in 0..rng.below(150) {
            tag += 1;
            match step(&db, &mut rng, &mut acked, &mut snaps, tag, &ctx) {
                Step::Acked => acks += 1,
                Step::ReadOk => {}
                Step::WriteFailed(w, _) => {
                    errors += 1;
                    if db.stats().poisoned {
                        // This write may have reached the log; no later write can.
                        maybe = Some(w);
                        break;
                    }
                }
                Step::OtherFailed(_) => errors += 1,
            }
        }
        drop(snaps);
        if rng.chance(50) {
            let (image, _) = storage.crash(&mut rng, false);
            drop(db);
            storage = image;
        } else {
            storage.clear_faults();
            drop(db);
        }
        if rng.chance(25) {
            // Recovery under faults: an error, or exactly the right state.
            storage.set_faults(random_faults(&mut rng));
            faulty_opens += 1;
            if let Ok(db) = storage.open() {
                storage.clear_faults();
                let got = check_recovered(&db, &acked, maybe.as_ref(), &ctx);
                if got != acked {
                    acked = got;
                    maybe = None;
                }
            }
        }
        storage.clear_faults();
        db = storage
            .open()
            .unwrap_or_else(|e| panic!("{ctx}: reopen without faults: {e}"));
        acked = check_recovered(&db, &acked, maybe.as_ref(), &format!("{ctx} {config:?}"));
    }
    let s = storage.stats();
    println!(
        "{name}: {sessions} sessions, {acks} acknowledged writes, {errors} failed \
         operations, {faulty_opens} reopens under faults; injected {} EIO, {} ENOSPC, {} short \
         writes, {} bit flips, {} power losses; seed {seed}",
        s.eio, s.enospc, s.short_writes, s.bit_flips, s.crashes
    );
}

fn random_faults(rng: &mut Rng) -> FaultConfig {
    let ops = Ops {
        write: rng.chance(60),
        sync: rng.chance(30),
        read: rng.chance(40),
        rename: rng.chance(30),
        meta: rng.chance(30),
    };
    FaultConfig {
        ops,
        fail_after: rng.chance(50).then(|| rng.below(200)),
        sticky: rng.chance(10),
        fail_ppm: [0, 1_000, 10_000, 50_000][rng.below(4) as usize],
        error: [
            InjectedError::Eio,
            InjectedError::NoSpace,
            InjectedError::Mixed,
        ][rng.below(3) as usize],
        short_writes: rng.chance(50),
        read_flip_ppm: [0, 0, 1_000, 20_000][rng.below(4) as usize],
    }
}
