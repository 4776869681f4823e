//! Regression: a crash inside the very first open of a database left a WAL segment and a
//! manifest without CURRENT (written last), and every later open refused the directory
//! ("CURRENT missing, but the directory holds tables, logs or manifests"), so one badly
//! timed kill made a new data directory unusable until someone cleaned it by hand. Found by
//! `crash_sigkill` with 40 kills (seed 1795287871851377981: its first round kills the child
//! while it creates the database). Nothing can have been acknowledged before CURRENT
//! exists, so such a directory is a new database; a table, or a WAL record, still means an
//! existing database lost its CURRENT (`Corruption`).

use std::sync::Arc;

use scipkv_engine::storage::fault::{CrashMode, FaultConfig, FaultStorage, Ops};
use scipkv_engine::{Db, Error, Options, SyncMode};

fn options(storage: &FaultStorage) -> Options {
    Options {
        sync: SyncMode::Always,
        storage: Some(Arc::new(storage.clone())),
        ..Options::default()
    }
}

/// The creation cut after every storage call, then a power loss in each mode: the next open
/// must give an empty, writable database.
#[test]
fn a_creation_cut_anywhere_reopens_as_a_new_database() {
    let modes = [
        CrashMode::default(),
        CrashMode {
            torn_sectors: true,
            garbage: true,
            torn_dir: true,
        },
        CrashMode {
            torn_sectors: false,
            garbage: false,
            torn_dir: true,
        },
    ];
    let mut cut = 0;
    for countdown in 0..200u64 {
        for (m, mode) in modes.iter().enumerate() {
            let storage = FaultStorage::new(countdown * 7 + m as u64);
            storage.set_faults(FaultConfig {
                ops: Ops::ALL,
                fail_after: Some(countdown),
                sticky: true,
                ..FaultConfig::default()
            });
            let opened = Db::open("db", options(&storage));
            if let Ok(db) = opened {
                // The countdown outlasted the creation: every smaller one cut it.
                drop(db);
                assert!(countdown > 0);
                println!("creation takes {countdown} storage calls; {cut} cuts checked");
                assert!(cut > 10, "too few cuts: {cut}");
                return;
            }
            cut += 1;
            let image = storage.crash(*mode);
            image.clear_faults();
            let db = Db::open("db", options(&image)).unwrap_or_else(|e| {
                panic!("reopen after a creation cut after {countdown} calls ({mode:?}): {e}")
            });
            assert_eq!(db.iter::<&[u8]>(..).count(), 0, "cut after {countdown}");
            db.put("k", "v").unwrap();
            db.close().unwrap();
            let db = Db::open("db", options(&image)).unwrap();
            assert_eq!(db.get("k").unwrap().as_deref(), Some(&b"v"[..]));
            db.close().unwrap();
        }
    }
    panic!("the creation never completed within 200 storage calls");
}

/// CURRENT lost from a database holding an acknowledged write: still `Corruption`.
#[test]
fn a_lost_current_with_a_logged_write_is_still_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    db.put("k", "v").unwrap();
    drop(db); // the write lives only in the WAL segment
    assert_lost_current_is_corruption(dir.path(), "holds writes");
}

/// CURRENT lost from a database with a table: still `Corruption`.
#[test]
fn a_lost_current_with_a_table_is_still_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    db.put("k", "v").unwrap();
    db.flush().unwrap();
    db.close().unwrap();
    assert_lost_current_is_corruption(dir.path(), "table");
}

/// Removes CURRENT from the closed database in `dir`; the next open must be `Corruption`
/// naming CURRENT, with `why` in its description.
fn assert_lost_current_is_corruption(dir: &std::path::Path, why: &str) {
    std::fs::remove_file(dir.join("CURRENT")).unwrap();
    match Db::open(dir, Options::default()) {
        Err(Error::Corruption { file, what, .. }) => {
            assert_eq!(file, "CURRENT");
            assert!(what.contains(why), "{what}");
        }
        other => panic!("expected corruption, got {:?}", other.map(|_| ())),
    }
}
