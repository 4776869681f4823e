//! Closing the database while a long compaction runs: the compaction gives up (its partial
//! outputs removed) or finishes, never leaves files behind or loses data, and the next open
//! reads everything back. Before, close waited for the whole compaction, minutes for a deep
//! zstd-19 level (a SIGTERM'd server would be killed before it finished draining).

use std::collections::BTreeMap;

use scipkv_engine::{CompactionOptions, Db, Error, Options, SyncMode};

fn options() -> Options {
    Options {
        sync: SyncMode::Never,
        memtable_size: 64 << 20,
        compaction: CompactionOptions {
            idle_after: None,
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

#[test]
fn close_during_a_compaction_keeps_every_entry_and_no_stray_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    let mut model = BTreeMap::new();
    for i in 0..60_000u64 {
        let k = format!("key{:08}", i.wrapping_mul(0x9e37_79b9) % 1_000_000).into_bytes();
        let v = format!("value {i} of a compressible record {}", i % 113).into_bytes();
        db.put(&k, &v).unwrap();
        model.insert(k, v);
    }
    db.flush().unwrap();

    let compacting = db.clone();
    let worker = std::thread::spawn(move || compacting.compact_all());
    db.close().unwrap();
    let outcome = worker.join().unwrap();
    match &outcome {
        Ok(()) | Err(Error::Closed) => {}
        Err(e) => panic!("compaction ended with {e}"),
    }
    eprintln!("compaction outcome: {outcome:?}");

    // Open deletes table files no manifest lists; nothing should be left for it to delete.
    let before = table_files(dir.path());
    let db = Db::open(dir.path(), options()).unwrap();
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
            .zip(&model)
            .all(|(a, b)| a.0 == *b.0 && a.1 == *b.1),
        "contents differ after reopening"
    );
}
