//! A full disk: writes fail with an error whose `is_no_space()` is true, the database is not
//! poisoned, reads keep working, writes resume once space returns (no reopen), and after a
//! power loss every acknowledged write, and no failed one, is there. Each test runs on the
//! fault storage (its capacity) and on a raw volume (its space limit: a file that would grow
//! past it fails with "volume full"). `SCIPKV_SEED` reruns a failure.

mod common;
mod fault_support;

use common::{Rng, seed};
use fault_support::disk::{Disk, VolumeDisk};
use fault_support::{Model, model_vec, random_value, scan};
use scipkv_engine::storage::fault::FaultStorage;

#[test]
fn a_full_disk_fails_the_wal_append_cleanly_and_writes_resume_when_space_returns() {
    full_then_freed::<FaultStorage>();
}

#[test]
fn a_full_volume_fails_the_wal_append_cleanly_and_writes_resume_when_space_returns() {
    full_then_freed::<VolumeDisk>();
}

#[test]
fn fill_fail_free_continue_loses_nothing_acknowledged() {
    fill_fail_free_continue::<FaultStorage>("fault_enospc");
}

#[test]
fn fill_fail_free_continue_on_a_volume_loses_nothing_acknowledged() {
    fill_fail_free_continue::<VolumeDisk>("fault_enospc_volume");
}

fn full_then_freed<D: Disk>() {
    let storage = D::new(1);
    let db = storage.open().unwrap();
    db.put(b"before", b"1").unwrap();
    let mut model = Model::new();
    model.insert(b"before".to_vec(), b"1".to_vec());
    // Room for a little more than the next record's header, not the record. The fault
    // storage refuses the next write; a volume's files grow in preallocated blocks, so it
    // refuses once the blocks already given to the log are used up.
    storage.set_capacity(Some(storage.used_bytes() + 20));
    let (failed, err) = (0..10_000)
        .find_map(|i| {
            let k = format!("big{i:05}").into_bytes();
            match db.put(&k, vec![7u8; 1000]) {
                Ok(()) => {
                    model.insert(k, vec![7u8; 1000]);
                    None
                }
                Err(e) => Some((k, e)),
            }
        })
        .expect("the disk fills up");
    assert!(err.is_no_space(), "{err}");
    assert!(!db.stats().poisoned);
    // Reads go on; the failed write is not visible.
    assert_eq!(db.get(b"before").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(db.get(&failed).unwrap(), None);
    assert!(scan(&db).unwrap() == model_vec(&model));
    // Still full: the next write fails the same way (it cannot even start a new segment).
    let err = db.put(&failed, vec![7u8; 1000]).unwrap_err();
    assert!(err.is_no_space(), "{err}");

    storage.set_capacity(None);
    db.put(b"after", b"3").unwrap();
    model.insert(b"after".to_vec(), b"3".to_vec());
    assert_eq!(db.get(b"after").unwrap().as_deref(), Some(&b"3"[..]));

    // A power loss keeps exactly the acknowledged writes.
    let (image, mode) = storage.crash(&mut Rng::new(1), false);
    drop(db);
    let db = image.open().unwrap();
    assert!(scan(&db).unwrap() == model_vec(&model), "after {mode}");
}

fn fill_fail_free_continue<D: Disk>(name: &str) {
    let seed = seed(name);
    let mut rng = Rng::new(seed);
    let storage = D::new(seed);
    let db = storage.open().unwrap();
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
    let (image, mode) = storage.crash(&mut rng, false);
    drop(db);
    let db = image.open().unwrap();
    assert!(
        scan(&db).unwrap() == model_vec(&model),
        "seed {seed}: state after power loss ({mode})"
    );
    println!(
        "{name}: {acked} acknowledged writes, {refused} refused for lack of space, {} ENOSPC \
         injected, seed {seed}",
        image.stats().enospc
    );
}
