//! Crash test with real SIGKILL during uploads, deletes and GC passes.
//!
//! The test re-executes its own binary, filtered to `child_process`, as a child that opens a
//! dedup database and writes deterministic batches (a put of a value that shares chunks with
//! others, or a delete, plus a progress marker) in `SyncMode::Always`, while a second thread
//! runs GC passes back to back. The parent kills it after a random number of acknowledged
//! batches, reopens, and checks: every referenced chunk is stored, every value reads back as
//! the model says (the batch in flight may or may not have landed), and one GC pass leaves no
//! unreferenced chunk. `SCIPKV_DEDUP_CRASH_KILLS` sets the kills (default 12); `SCIPKV_SEED`
//! reruns a failure.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Rng, seed};
use scipkv_engine::{
    CompactionOptions, Compression, Db, DedupOptions, Options, SyncMode, WriteBatch,
};

const LAST_KEY: &[u8] = b"meta/last";
const CHILD_DIR: &str = "SCIPKV_DEDUP_CRASH_DIR";
const CHILD_SEED: &str = "SCIPKV_DEDUP_CRASH_SEED";

fn options(background: bool) -> Options {
    Options {
        sync: SyncMode::Always,
        memtable_size: 256 << 10,
        compaction: CompactionOptions {
            level_compression: vec![Compression::Lz4],
            l0_compaction_trigger: 2,
            target_table_bytes: 256 << 10,
            l1_target_bytes: 1 << 20,
            auto: background,
            ..CompactionOptions::default()
        },
        dedup: Some(DedupOptions::default()),
        ..Options::default()
    }
}

fn blobs(seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    (0..3)
        .map(|_| (0..80_000).map(|_| rng.next_u64() as u8).collect())
        .collect()
}

/// Batch `i`: `(key, Some(value))` or `(key, None)` for a delete.
fn op(seed: u64, blobs: &[Vec<u8>], i: u64) -> (String, Option<Vec<u8>>) {
    let mut rng = Rng::new(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let k = format!("k{}", rng.below(12));
    if rng.chance(25) {
        return (k, None);
    }
    let b = &blobs[rng.below(blobs.len() as u64) as usize];
    let len = 5_000 + rng.below(50_000) as usize;
    let start = rng.below((b.len() - len) as u64) as usize;
    let mut v = b[start..start + len].to_vec();
    v[rng.below(len as u64) as usize] ^= 0x33;
    (k, Some(v))
}

fn last_index(db: &Db) -> Option<u64> {
    db.get(LAST_KEY)
        .unwrap()
        .map(|v| String::from_utf8(v).unwrap().parse().unwrap())
}

/// Runs only inside the re-executed child (the variable is unset in a normal test run).
#[test]
fn child_process() {
    let (Ok(dir), Ok(seed)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_SEED)) else {
        return;
    };
    let seed: u64 = seed.parse().unwrap();
    let blobs = blobs(seed);
    let db = Db::open(Path::new(&dir), options(true)).expect("child open");
    let gc_db = db.clone();
    std::thread::spawn(move || {
        loop {
            gc_db.gc().expect("child gc");
        }
    });
    let start = last_index(&db).map_or(0, |l| l + 1);
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready {start}").unwrap();
    out.flush().unwrap();
    for i in start.. {
        let mut b = WriteBatch::new();
        match op(seed, &blobs, i) {
            (k, Some(v)) => b.put(k, v),
            (k, None) => b.delete(k),
        }
        b.put(LAST_KEY, i.to_string());
        db.write(b).expect("child write");
        writeln!(out, "ack {i}").unwrap();
        out.flush().unwrap();
    }
}

fn model_after(seed: u64, blobs: &[Vec<u8>], last: Option<u64>) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    for i in 0..last.map_or(0, |l| l + 1) {
        match op(seed, blobs, i) {
            (k, Some(v)) => m.insert(k, v),
            (k, None) => m.remove(&k),
        };
    }
    m
}

fn check(db: &Db, seed: u64, blobs: &[Vec<u8>], acked: Option<u64>, round: u64) -> Option<u64> {
    let v = db.verify_chunks().unwrap();
    assert_eq!(v.missing_chunks, 0, "round {round}: {v:?}");
    assert_eq!(v.half_written_chunks, 0, "round {round}: {v:?}");
    let last = last_index(db);
    // Every acknowledged batch is durable; the one in flight may have landed too.
    assert!(
        last >= acked,
        "round {round}: lost acked batch {acked:?}, found {last:?}"
    );
    assert!(
        last <= acked.map_or(Some(0), |a| Some(a + 1)),
        "round {round}"
    );
    let model = model_after(seed, blobs, last);
    for k in 0..12 {
        let k = format!("k{k}");
        assert_eq!(
            db.get(&k).unwrap().as_ref(),
            model.get(&k),
            "round {round}, key {k}"
        );
    }
    let r = db.gc().unwrap();
    let after = db.verify_chunks().unwrap();
    assert_eq!(
        (after.unreferenced_chunks, after.missing_chunks),
        (0, 0),
        "round {round}: after {r:?}: {after:?}"
    );
    last
}

#[test]
fn sigkill_during_uploads_deletes_and_gc_loses_and_leaks_nothing() {
    let seed = seed("sigkill_during_uploads_deletes_and_gc_loses_and_leaks_nothing");
    let kills: u64 = std::env::var("SCIPKV_DEDUP_CRASH_KILLS")
        .map(|k| k.parse().unwrap())
        .unwrap_or(12);
    let blobs = blobs(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(seed);
    let exe = std::env::current_exe().unwrap();
    let mut applied: Option<u64> = None;
    for round in 0..kills {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "child_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_SEED, seed.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let want = 1 + rng.below(40);
        let mut acked = applied;
        let mut seen = 0;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(i) = line.strip_prefix("ack ") {
                acked = Some(i.parse().unwrap());
                seen += 1;
                if seen == want {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Acks the child printed before it died are acknowledged writes too.
        for line in lines.map_while(Result::ok) {
            if let Some(i) = line.strip_prefix("ack ") {
                acked = Some(i.parse().unwrap());
            }
        }
        let db = Db::open(dir.path(), options(false)).unwrap();
        applied = check(&db, seed, &blobs, acked, round);
        db.close().unwrap();
    }
    eprintln!("{kills} kills, {applied:?} batches applied");
    assert!(applied.is_some());
}
