//! A full disk (the fault storage's capacity): writes fail with an error whose
//! `is_no_space()` is true, the database is not poisoned, reads keep working, writes resume
//! once space returns (no reopen), and after a power loss every acknowledged write, and no
//! failed one, is there. `SCIPKV_SEED` reruns a failure.

mod common;
mod fault_support;

use common::{Rng, seed};
use fault_support::{Model, model_vec, open, random_value, scan};
use scipkv_engine::storage::fault::{CrashMode, FaultStorage};

#[test]
fn a_full_disk_fails_the_wal_append_cleanly_and_writes_resume_when_space_returns() {
    let storage = FaultStorage::new(1);
    let db = open(&storage).unwrap();
    db.put(b"before", b"1").unwrap();
    // Room for a little more than the next record's header, not the record.
    storage.set_capacity(Some(storage.used_bytes() + 20));
    let err = db.put(b"big", vec![7u8; 1000]).unwrap_err();
    assert!(err.is_no_space(), "{err}");
    assert!(!db.stats().poisoned);
    // Reads go on; the failed write is not visible.
    assert_eq!(db.get(b"before").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(db.get(b"big").unwrap(), None);
    // Still full: the next write fails the same way (it cannot even start a new segment).
    let err = db.put(b"big", vec![7u8; 1000]).unwrap_err();
    assert!(err.is_no_space(), "{err}");

    storage.set_capacity(None);
    db.put(b"after", b"3").unwrap();
    assert_eq!(db.get(b"after").unwrap().as_deref(), Some(&b"3"[..]));

    // A power loss keeps exactly the acknowledged writes.
    let image = storage.crash(CrashMode::default());
    drop(db);
    let db = open(&image).unwrap();
    let got = scan(&db).unwrap();
    assert_eq!(
        got,
        vec![
            (b"after".to_vec(), b"3".to_vec()),
            (b"before".to_vec(), b"1".to_vec())
        ]
    );
}

#[test]
fn fill_fail_free_continue_loses_nothing_acknowledged() {
    let seed = seed("fault_enospc");
    let mut rng = Rng::new(seed);
    let storage = FaultStorage::new(seed);
    let db = open(&storage).unwrap();
    let mut model = Model::new();
    let (mut acked, mut refused) = (0u64, 0u64);
    let mut tag = 0;
    for cycle in 0..15 {
        let ctx = format!("seed {seed} cycle {cycle} (rerun with SCIPKV_SEED={seed})");
        // Fill: a random amount of room, then write until the disk refuses several times.
        storage.set_capacity(Some(storage.used_bytes() + rng.below(48 << 10)));
        let mut failures = 0;
        while failures < 3 {
            tag += 1;
            let k = format!("k{:03}", rng.below(300)).into_bytes();
            let v = random_value(&mut rng, tag);
            match db.put(&k, &v) {
                Ok(()) => {
                    model.insert(k, v);
                    acked += 1;
                }
                Err(e) => {
                    assert!(e.is_no_space(), "{ctx}: {e}");
                    assert!(
                        !db.stats().poisoned,
                        "{ctx}: poisoned after {e}: {:?}",
                        db.put(b"x", b"y")
                    );
                    failures += 1;
                    refused += 1;
                }
            }
        }
        // Reads keep working on a full disk.
        let k = format!("k{:03}", rng.below(300)).into_bytes();
        assert_eq!(db.get(&k).unwrap(), model.get(&k).cloned(), "{ctx}");
        // Free: writes resume without a reopen (flush retries in the background).
        storage.set_capacity(None);
        for _ in 0..1 + rng.below(20) {
            tag += 1;
            let k = format!("k{:03}", rng.below(300)).into_bytes();
            let v = random_value(&mut rng, tag);
            db.put(&k, &v)
                .unwrap_or_else(|e| panic!("{ctx}: write after space returned: {e}"));
            model.insert(k, v);
            acked += 1;
        }
        assert!(scan(&db).unwrap() == model_vec(&model), "{ctx}: live scan");
    }
    let image = storage.crash(CrashMode {
        torn_sectors: true,
        ..CrashMode::default()
    });
    drop(db);
    let db = open(&image).unwrap();
    assert!(
        scan(&db).unwrap() == model_vec(&model),
        "seed {seed}: state after power loss"
    );
    println!(
        "fault_enospc: {acked} acknowledged writes, {refused} refused for lack of space, {} ENOSPC injected, seed {seed}",
        image.stats().enospc
    );
}
