//! Closing the database while a long compaction runs: the compaction gives up (its partial
//! outputs removed) instead of holding up the close, never leaves files behind or loses
//! data, and the next open reads everything back. Before, close waited for the whole
//! compaction: minutes for a deep zstd-19 level, and a SIGTERM'd server would be killed
//! before it finished draining.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use scipkv_engine::{CompactionOptions, Db, Error, Options, SyncMode};

fn options(idle_after: Option<Duration>) -> Options {
    Options {
        sync: SyncMode::Never,
        memtable_size: 64 << 20,
        compaction: CompactionOptions {
            idle_after,
            ..CompactionOptions::default()
        },
        ..Options::default()
    }
}

fn table_files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sst"))
        .collect();
    v.sort();
    v
}

/// 60K entries in one flushed L0 table.
fn fill(db: &Db) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut model = BTreeMap::new();
    for i in 0..60_000u64 {
        let k = format!("key{:08}", i.wrapping_mul(0x9e37_79b9) % 1_000_000).into_bytes();
        let v = format!("value {i} of a compressible record {}", i % 113).into_bytes();
        db.put(&k, &v).unwrap();
        model.insert(k, v);
    }
    db.flush().unwrap();
    model
}

/// Reopens: no table file beyond the live ones (open would delete strays, so they are
/// counted before), and every entry back.
fn check_reopened(dir: &std::path::Path, model: &BTreeMap<Vec<u8>, Vec<u8>>) {
    let before = table_files(dir);
    let db = Db::open(dir, options(None)).unwrap();
    let mut live: Vec<String> = db
        .tables()
        .iter()
        .map(|t| format!("{:06}.sst", t.number))
        .collect();
    live.sort();
    assert_eq!(before, live, "table files beyond the live ones after close");
    let got: Vec<(Vec<u8>, Vec<u8>)> = db
        .iter::<&[u8]>(..)
        .map(|kv| kv.unwrap())
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect();
    assert_eq!(got.len(), model.len());
    assert!(
        got.iter()
            .zip(model)
            .all(|(a, b)| a.0 == *b.0 && a.1 == *b.1),
        "contents differ after reopening"
    );
}

#[test]
fn close_gives_up_a_background_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options(None)).unwrap();
    let model = fill(&db);
    db.close().unwrap();

    // Idle compaction of the L0 table starts 20 ms after open; close while it runs.
    let db = Db::open(dir.path(), options(Some(Duration::from_millis(20)))).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while db.stats().idle_compactions == 0 {
        assert!(Instant::now() < deadline, "idle compaction never started");
        std::thread::yield_now();
    }
    let watcher = db.clone();
    db.close().unwrap();
    let s = watcher.stats();
    assert!(
        s.compactions_abandoned >= 1,
        "close should have given up the running compaction: {s:?}"
    );
    assert_eq!(s.compaction_errors, 0);
    drop(watcher);
    check_reopened(dir.path(), &model);
}

#[test]
fn close_during_a_manual_compaction_keeps_every_entry_and_no_stray_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options(None)).unwrap();
    let model = fill(&db);
    let compacting = db.clone();
    let worker = std::thread::spawn(move || compacting.compact_all());
    db.close().unwrap();
    // Once close has returned, the compaction has finished or given up: it installs nothing
    // more.
    match worker.join().unwrap() {
        Ok(()) | Err(Error::Closed) => {}
        Err(e) => panic!("compaction ended with {e}"),
    }
    check_reopened(dir.path(), &model);
}
