//! Bug: after a failed background compaction, `Db::close` could wait out the whole 200 ms retry delay (the compaction thread did not check `shutdown` before its retry wait, so a close that came while it was compacting went unnoticed).
//!
//! Found by fault_power_loss (a quarter of its reopens took 200 ms). Each round starts a
//! background compaction, then kills the "disk" so that the compaction fails, and closes the
//! database while it runs. With the bug most closes took 200 ms.

use std::sync::Arc;
use std::time::{Duration, Instant};

use scipkv_engine::storage::fault::{FaultConfig, FaultStorage, Ops};
use scipkv_engine::{CompactionOptions, Db, Options, SyncMode};

const ROUNDS: u32 = 20;

fn options(storage: &FaultStorage) -> Options {
    Options {
        sync: SyncMode::Never,
        memtable_size: 16 << 10,
        max_immutable_memtables: 8,
        compaction: CompactionOptions {
            l0_compaction_trigger: 2,
            l0_slowdown_trigger: 1000,
            l0_stop_trigger: 1000,
            ..CompactionOptions::default()
        },
        storage: Some(Arc::new(storage.clone())),
        ..Options::default()
    }
}

#[test]
fn close_does_not_wait_out_the_compaction_retry_delay() {
    // The bug's signature is a close that lasts the whole retry delay (200 ms). Count those
    // instead of bounding the total, so a loaded machine's slow closes do not fail the test.
    let mut waited_out = 0;
    for round in 0..ROUNDS {
        let storage = FaultStorage::new(u64::from(round));
        let db = Db::open("regression", options(&storage)).unwrap();
        for i in 0..600u32 {
            db.put(format!("key{i:05}"), [i as u8; 100]).unwrap();
        }
        db.flush().unwrap();
        // The disk dies: the running (or next) compaction fails.
        storage.set_faults(FaultConfig {
            ops: Ops::ALL,
            fail_after: Some(0),
            sticky: true,
            ..FaultConfig::default()
        });
        let t = Instant::now();
        let _ = db.close();
        if t.elapsed() >= Duration::from_millis(190) {
            waited_out += 1;
        }
    }
    assert!(
        waited_out < ROUNDS / 2,
        "{waited_out} of {ROUNDS} closes waited out the compaction retry delay"
    );
}
