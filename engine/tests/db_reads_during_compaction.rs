//! Reads racing compaction: a reader never misses a live key and never sees a deleted key
//! come back while versions are rewritten, moved down and dropped underneath it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use scipkv_engine::{CompactionOptions, Db, Options, SyncMode, TableOptions};

const LIVE: usize = 300;
const DEAD: usize = 300;

fn live(i: usize) -> (Vec<u8>, Vec<u8>) {
    (
        format!("live/{i:04}").into_bytes(),
        format!("value-{i}").into_bytes(),
    )
}

fn dead(i: usize) -> Vec<u8> {
    format!("dead/{i:04}").into_bytes()
}

#[test]
fn reads_never_miss_live_keys_or_resurrect_deleted_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            sync: SyncMode::Never,
            memtable_size: 8 << 10,
            table: TableOptions {
                block_size: 512,
                ..TableOptions::default()
            },
            compaction: CompactionOptions {
                l0_compaction_trigger: 2,
                l1_target_bytes: 16 << 10,
                level_size_ratio: 2,
                target_table_bytes: 8 << 10,
                ..CompactionOptions::default()
            },
            ..Options::default()
        },
    )
    .unwrap();
    // Deleted keys first had values that now sit in tables below their tombstones.
    for i in 0..DEAD {
        db.put(dead(i), b"must never be seen again").unwrap();
    }
    db.flush().unwrap();
    for i in 0..DEAD {
        db.delete(dead(i)).unwrap();
    }
    for i in 0..LIVE {
        let (k, v) = live(i);
        db.put(k, v).unwrap();
    }
    db.flush().unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    // Rewriting live keys with their same values keeps flushes and compactions busy.
    let writer = {
        let (db, stop) = (db.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut round = 0;
            while !stop.load(Ordering::Acquire) || round < 5 {
                for i in 0..LIVE {
                    let (k, v) = live(i);
                    db.put(k, v).unwrap();
                }
                if round % 3 == 0 {
                    db.compact_all().unwrap();
                }
                round += 1;
            }
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let (db, stop) = (db.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut passes = 0;
                while !stop.load(Ordering::Acquire) || passes < 10 {
                    for i in 0..LIVE {
                        let (k, v) = live(i);
                        assert_eq!(
                            db.get(&k).unwrap(),
                            Some(v),
                            "reader {r}: live key {i} missed"
                        );
                    }
                    for i in (0..DEAD).step_by(7) {
                        assert_eq!(
                            db.get(dead(i)).unwrap(),
                            None,
                            "reader {r}: dead key {i} came back"
                        );
                    }
                    let scanned: Vec<_> = db.iter::<&[u8]>(..).map(Result::unwrap).collect();
                    assert_eq!(
                        scanned.len(),
                        LIVE,
                        "reader {r}: scan saw the wrong key count"
                    );
                    assert!(
                        scanned.iter().all(|(k, _)| k.starts_with(b"live/")),
                        "reader {r}: scan saw a dead key"
                    );
                    let back: Vec<_> = db.iter::<&[u8]>(..).rev().map(Result::unwrap).collect();
                    assert_eq!(
                        back.len(),
                        LIVE,
                        "reader {r}: reverse scan saw the wrong key count"
                    );
                    passes += 1;
                }
                passes
            })
        })
        .collect();
    // Let the race run until compaction has actually rewritten tables a number of times.
    loop {
        let s = db.stats();
        if s.compactions >= 20 {
            break;
        }
        std::thread::yield_now();
    }
    stop.store(true, Ordering::Release);
    writer.join().unwrap();
    for r in readers {
        assert!(r.join().unwrap() >= 10);
    }
    let s = db.stats();
    assert!(
        s.compaction_entries_dropped > 0,
        "old versions should have been dropped: {s:?}"
    );
    db.compact_all().unwrap();
    // At the bottom, with no snapshots, the tombstones and their shadowed values are gone.
    let entries: u64 = db.stats().levels.iter().map(|l| l.entries).sum();
    assert!(
        entries <= (LIVE + 8) as u64,
        "dead keys still occupy tables: {entries} entries"
    );
}
