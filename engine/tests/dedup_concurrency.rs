//! Uploads, overwrites and deletes of values that share chunks, racing GC passes in a loop:
//! no read ever finds a missing chunk, and once the writers stop one GC leaves no garbage.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{Rng, seed};
use scipkv_engine::{CompactionOptions, Compression, Db, DedupOptions, Options, SyncMode};

const WRITERS: u64 = 3;
const OPS: u64 = 150;

/// A value cut from one of a few shared blobs, so values of different threads share chunks
/// and a chunk one thread releases is often the one another is about to reuse.
fn value(blobs: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    let b = &blobs[rng.below(blobs.len() as u64) as usize];
    let len = 5_000 + rng.below(60_000) as usize;
    let start = rng.below((b.len() - len) as u64) as usize;
    let mut v = b[start..start + len].to_vec();
    if rng.chance(50) {
        let at = rng.below(len as u64) as usize;
        v[at] ^= 0x5A;
    }
    v
}

#[test]
fn uploads_deletes_and_gc_race_without_losing_a_chunk() {
    let seed = seed("uploads_deletes_and_gc_race_without_losing_a_chunk");
    let mut rng = Rng::new(seed);
    let blobs: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..3)
            .map(|_| (0..100_000).map(|_| rng.next_u64() as u8).collect())
            .collect(),
    );
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            sync: SyncMode::Never,
            memtable_size: 1 << 20,
            compaction: CompactionOptions {
                level_compression: vec![Compression::Lz4],
                l0_compaction_trigger: 2,
                ..CompactionOptions::default()
            },
            dedup: Some(DedupOptions::default()),
            ..Options::default()
        },
    )
    .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let gc = {
        let (db, stop) = (db.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut passes = 0u64;
            while !stop.load(Ordering::Acquire) {
                db.gc().unwrap();
                passes += 1;
            }
            passes
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|t| {
            let (db, blobs) = (db.clone(), Arc::clone(&blobs));
            std::thread::spawn(move || {
                let mut rng = Rng::new(seed ^ (t + 1).wrapping_mul(0x9E37_79B9));
                let mut model = std::collections::BTreeMap::new();
                for _ in 0..OPS {
                    let k = format!("t{t}/k{}", rng.below(8));
                    if rng.chance(25) {
                        db.delete(&k).unwrap();
                        model.remove(&k);
                    } else {
                        let v = value(&blobs, &mut rng);
                        db.put(&k, &v).unwrap();
                        model.insert(k.clone(), v);
                    }
                    // Read another key of ours back while GC runs.
                    let probe = format!("t{t}/k{}", rng.below(8));
                    assert_eq!(db.get(&probe).unwrap(), model.get(&probe).cloned());
                }
                model
            })
        })
        .collect();
    let mut expected = std::collections::BTreeMap::new();
    for w in writers {
        expected.extend(w.join().unwrap());
    }
    stop.store(true, Ordering::Release);
    let passes = gc.join().unwrap();
    eprintln!("{passes} GC passes ran during the writes");
    assert!(passes > 0);
    let listed: std::collections::BTreeMap<String, Vec<u8>> = db
        .iter::<&[u8]>(..)
        .map(|r| {
            let (k, v) = r.unwrap();
            (String::from_utf8(k).unwrap(), v)
        })
        .collect();
    assert_eq!(listed, expected);
    let v = db.verify_chunks().unwrap();
    assert_eq!((v.missing_chunks, v.half_written_chunks), (0, 0));
    db.gc().unwrap();
    let v = db.verify_chunks().unwrap();
    assert_eq!((v.missing_chunks, v.unreferenced_chunks), (0, 0), "{v:?}");
}
