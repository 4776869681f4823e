//! Key expiry end to end, with a manual clock: expired keys read as deleted everywhere, an
//! expired value never lets an older version of its key resurface (before, during or after
//! compaction, at any level), and a full compaction reclaims expired entries.

use std::sync::Arc;

use scipkv_engine::{Db, ManualClock, Options, SyncMode, WriteBatch};

fn open(dir: &std::path::Path, clock: &ManualClock) -> Db {
    Db::open(
        dir,
        Options {
            sync: SyncMode::Never,
            clock: Arc::new(clock.clone()),
            ..Options::default()
        },
    )
    .unwrap()
}

fn entries(db: &Db) -> u64 {
    db.stats().levels.iter().map(|l| l.entries).sum()
}

#[test]
fn an_expired_value_hides_older_versions_at_every_stage() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(10_000);
    let db = open(dir.path(), &clock);
    // v1 at the bottom of the tree, v2 (expiring) above it.
    db.put("k", "v1").unwrap();
    db.flush().unwrap();
    db.compact_all().unwrap();
    db.put_with_expiry("k", "v2", 10_500).unwrap();
    assert_eq!(
        db.get_with_expiry("k").unwrap(),
        Some((b"v2".to_vec(), Some(10_500)))
    );
    clock.set(10_499);
    assert_eq!(db.get("k").unwrap().as_deref(), Some(&b"v2"[..]));
    clock.set(10_500);
    let gone = |db: &Db, what: &str| {
        assert_eq!(db.get("k").unwrap(), None, "get {what}");
        assert_eq!(
            db.get_with_expiry("k").unwrap(),
            None,
            "get_with_expiry {what}"
        );
        assert_eq!(
            db.multi_get(&["k", "k"]).unwrap(),
            vec![None, None],
            "{what}"
        );
        assert_eq!(db.iter::<&[u8]>(..).count(), 0, "iter {what}");
        assert_eq!(db.iter::<&[u8]>(..).rev().count(), 0, "rev iter {what}");
        assert_eq!(db.snapshot().get(b"k").unwrap(), None, "snapshot {what}");
    };
    gone(&db, "in the memtable");
    db.flush().unwrap();
    gone(&db, "in L0 over v1 at the bottom");
    // The first compaction step (L0 -> L1) is not the bottom: v1 still lies below, so the
    // expired value must survive as a tombstone.
    db.compact().unwrap();
    gone(&db, "after a partial compaction");
    db.compact_all().unwrap();
    gone(&db, "after a full compaction");
    assert_eq!(
        entries(&db),
        0,
        "a full compaction reclaims the expired key"
    );
    db.close().unwrap();
    let db = open(dir.path(), &clock);
    gone(&db, "after reopen");
}

#[test]
fn expiry_survives_the_wal_and_tables_and_compaction_reclaims_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_000);
    let db = open(dir.path(), &clock);
    let mut b = WriteBatch::new();
    for i in 0..100u64 {
        b.put_with_expiry(format!("e{i:03}"), format!("v{i}"), 2_000 + i);
        b.put(format!("p{i:03}"), format!("v{i}"));
    }
    db.write(b).unwrap();
    // Reopen replays the WAL: expiries come back.
    db.close().unwrap();
    let db = open(dir.path(), &clock);
    assert_eq!(
        db.get_with_expiry("e007").unwrap(),
        Some((b"v7".to_vec(), Some(2_007)))
    );
    db.flush().unwrap();
    db.close().unwrap();
    let db = open(dir.path(), &clock);
    assert_eq!(
        db.get_with_expiry("e042").unwrap(),
        Some((b"v42".to_vec(), Some(2_042)))
    );
    clock.set(2_050);
    let keys: Vec<String> = db
        .iter::<&[u8]>(..)
        .map(|r| String::from_utf8(r.unwrap().0).unwrap())
        .collect();
    // e050 expires at 2_050: gone from that millisecond on.
    let want: Vec<String> = (51..100)
        .map(|i| format!("e{i:03}"))
        .chain((0..100).map(|i| format!("p{i:03}")))
        .collect();
    assert_eq!(keys, want);
    // A snapshot reads expiry by the clock too: it freezes writes, not time.
    let snap = db.snapshot();
    clock.set(3_000);
    assert_eq!(snap.get(b"e099").unwrap(), None);
    drop(snap);
    db.compact_all().unwrap();
    assert_eq!(entries(&db), 100, "only the 100 plain keys remain");
    assert_eq!(db.iter::<&[u8]>(..).count(), 100);
}

#[test]
fn a_live_snapshot_keeps_what_it_can_see_below_an_expired_value() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_000);
    let db = open(dir.path(), &clock);
    db.put("k", "old").unwrap();
    let snap = db.snapshot();
    db.put_with_expiry("k", "new", 1_100).unwrap();
    clock.set(1_200);
    db.flush().unwrap();
    db.compact_all().unwrap();
    assert_eq!(db.get("k").unwrap(), None);
    assert_eq!(snap.get(b"k").unwrap().as_deref(), Some(&b"old"[..]));
    drop(snap);
    db.compact_all().unwrap();
    assert_eq!(db.get("k").unwrap(), None);
}

#[test]
fn chunked_values_expire_and_their_chunks_are_collected() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_000);
    let opts = || Options {
        sync: SyncMode::Never,
        clock: Arc::new(clock.clone()),
        dedup: Some(scipkv_engine::DedupOptions::default()),
        ..Options::default()
    };
    // Big enough to be chunked (over the inline threshold), incompressible.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let big: Vec<u8> = (0..(1 << 20))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let db = Db::open(dir.path(), opts()).unwrap();
    db.put("keep", "small").unwrap();
    db.put_with_expiry("big", &big, 2_000).unwrap();
    assert_eq!(
        db.get_with_expiry("big").unwrap(),
        Some((big.clone(), Some(2_000)))
    );
    assert!(
        db.stats().dedup.unwrap().chunks_written > 0,
        "the value was chunked"
    );
    db.close().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(db.get("big").unwrap().as_ref(), Some(&big));
    let keys: Vec<_> = db.iter::<&[u8]>(..).map(|r| r.unwrap().0).collect();
    assert_eq!(keys, vec![b"big".to_vec(), b"keep".to_vec()]);
    clock.set(2_000);
    assert_eq!(db.get("big").unwrap(), None);
    assert_eq!(db.get_with_expiry("big").unwrap(), None);
    let keys: Vec<_> = db.iter::<&[u8]>(..).map(|r| r.unwrap().0).collect();
    assert_eq!(keys, vec![b"keep".to_vec()]);
    // Compaction turns the expired manifest into a tombstone; GC then frees its chunks.
    db.flush().unwrap();
    db.compact_all().unwrap();
    let r = db.gc().unwrap();
    assert!(r.chunks_deleted > 0, "{r:?}");
    let v = db.verify_chunks().unwrap();
    assert_eq!(
        (
            v.missing_chunks,
            v.unreferenced_chunks,
            v.half_written_chunks
        ),
        (0, 0, 0),
        "{v:?}"
    );
    assert_eq!(db.get("keep").unwrap().as_deref(), Some(&b"small"[..]));
}
