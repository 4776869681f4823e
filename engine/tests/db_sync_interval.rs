//! `SyncMode::Interval` and `Never`: writes return without waiting for an fsync (fewer syncs
//! than writes), the interval thread syncs the WAL on its own, and everything written reads
//! back after a reopen. (Durability against power loss per mode is the fault-storage tests'.)

use std::sync::{Arc, mpsc};
use std::time::Duration;

use scipkv_engine::storage::fault::{CrashMode, FaultStorage};
use scipkv_engine::{Db, Options, SyncMode};

fn round_trip(mode: SyncMode) {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        sync: mode,
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    for i in 0..500u32 {
        db.put(i.to_be_bytes(), i.to_le_bytes()).unwrap();
    }
    let s = db.stats();
    assert_eq!(s.writes, 500);
    // Writes did not each wait for an fsync.
    assert!(
        s.wal_syncs < 500,
        "{mode:?}: {} syncs for 500 writes",
        s.wal_syncs
    );
    db.sync_wal().unwrap();
    drop(db);
    let db = Db::open(dir.path(), opts).unwrap();
    for i in 0..500u32 {
        assert_eq!(
            db.get(i.to_be_bytes()).unwrap(),
            Some(i.to_le_bytes().to_vec()),
            "{mode:?}: key {i}"
        );
    }
}

#[test]
fn interval_mode_round_trips_and_syncs_in_the_background() {
    round_trip(SyncMode::Interval(Duration::from_millis(5)));
}

#[test]
fn never_mode_round_trips() {
    round_trip(SyncMode::Never);
}

#[test]
fn interval_mode_syncs_without_being_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            sync: SyncMode::Interval(Duration::from_millis(1)),
            ..Options::default()
        },
    )
    .unwrap();
    db.put(b"k", b"v").unwrap();
    // The syncer runs on its own: wait for its fsync to show up in the counters.
    let mut spins = 0u64;
    while db.stats().wal_syncs == 0 {
        std::thread::yield_now();
        spins += 1;
        assert!(
            spins < 50_000_000,
            "the interval syncer never synced the WAL"
        );
    }
}

#[test]
fn a_zero_interval_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let r = Db::open(
        dir.path(),
        Options {
            sync: SyncMode::Interval(Duration::ZERO),
            ..Options::default()
        },
    );
    assert!(matches!(r, Err(scipkv_engine::Error::InvalidArgument(_))));
}

fn on_fault_storage(storage: &FaultStorage, every: Duration) -> Options {
    Options {
        sync: SyncMode::Interval(every),
        storage: Some(Arc::new(storage.clone())),
        ..Options::default()
    }
}

#[test]
fn a_write_does_not_wait_for_the_interval_fsync() {
    // The bug: the interval syncer held the WAL lock through its fsync, so on a slow disk
    // every write stalled for the fsync's duration once per interval (the p99 of `SET` at
    // `sync = "interval:1000"`). Here the fsync never finishes until the test lets it.
    let storage = FaultStorage::new(1);
    let db = Db::open("db", on_fault_storage(&storage, Duration::from_millis(1))).unwrap();
    db.put(b"before", b"1").unwrap();
    storage.hold_syncs();
    storage.wait_for_held_sync();
    let (tx, rx) = mpsc::channel();
    let writer = {
        let db = db.clone();
        std::thread::spawn(move || {
            tx.send(db.put(b"during", b"2")).unwrap();
        })
    };
    // A generous bound that only a write blocked behind the fsync reaches.
    let outcome = rx.recv_timeout(Duration::from_secs(60));
    storage.release_syncs();
    writer.join().unwrap();
    match outcome {
        Ok(r) => r.unwrap(),
        Err(_) => panic!("a write waited for the interval syncer's fsync"),
    }
    db.sync_wal().unwrap();
    assert_eq!(db.get(b"during").unwrap(), Some(b"2".to_vec()));
}

/// An interval no test reaches: only explicit `sync_wal` calls sync.
fn explicit_syncs(s: &FaultStorage) -> Options {
    on_fault_storage(s, Duration::from_secs(3600))
}

/// Keys 0..100 written, then a `sync_wal` during which keys 100..200 are acknowledged.
fn sync_during_writes(seed: u64) -> (FaultStorage, Db) {
    let storage = FaultStorage::new(seed);
    let db = Db::open("db", explicit_syncs(&storage)).unwrap();
    for i in 0..100u32 {
        db.put(i.to_be_bytes(), b"before").unwrap();
    }
    storage.hold_syncs();
    let syncer = {
        let db = db.clone();
        std::thread::spawn(move || db.sync_wal())
    };
    storage.wait_for_held_sync();
    for i in 100..200u32 {
        db.put(i.to_be_bytes(), b"during").unwrap();
    }
    storage.release_syncs();
    syncer.join().unwrap().unwrap();
    (storage, db)
}

fn assert_present(db: &Db, keys: std::ops::Range<u32>, value: &[u8]) {
    for i in keys {
        assert_eq!(
            db.get(i.to_be_bytes()).unwrap().as_deref(),
            Some(value),
            "key {i} was lost in the power loss"
        );
    }
}

#[test]
fn a_sync_keeps_what_was_acknowledged_before_it_began() {
    let (storage, _db) = sync_during_writes(2);
    let after = storage.crash(CrashMode::default());
    let reopened = Db::open("db", explicit_syncs(&after)).unwrap();
    assert_present(&reopened, 0..100, b"before");
}

#[test]
fn writes_acknowledged_during_a_sync_are_synced_by_the_next_one() {
    // The sync that was running when they were appended does not count for them: the WAL
    // stays dirty, and the next `sync_wal` syncs again instead of returning at once.
    let (storage, db) = sync_during_writes(3);
    db.sync_wal().unwrap();
    let after = storage.crash(CrashMode::default());
    let reopened = Db::open("db", explicit_syncs(&after)).unwrap();
    assert_present(&reopened, 0..100, b"before");
    assert_present(&reopened, 100..200, b"during");
}
