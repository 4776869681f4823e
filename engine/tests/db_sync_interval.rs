//! `SyncMode::Interval` and `Never`: writes return without waiting for an fsync (fewer syncs
//! than writes), the interval thread syncs the WAL on its own, and everything written reads
//! back after a reopen. (Durability against power loss per mode is the fault-storage tests'.)

use std::time::Duration;

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
