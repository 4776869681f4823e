//! The largest value CI round-trips through the chunk store: 256 MiB (`MAX_VALUE_LEN`), and a
//! second copy of it that must cost no new chunks.
//!
//! 256 MiB takes about 75 s in a debug build (chunking and hashing unoptimized, flush stalls),
//! so a debug build runs the same test on 32 MiB and CI runs this binary in release:
//! `cargo test --release -p scipkv-engine --test dedup_huge` (timing in `benches/RESULTS.md`).

mod common;

use std::time::Instant;

use common::{Rng, seed};
use scipkv_engine::{CompactionOptions, Compression, Db, DedupOptions, Options, SyncMode};

#[test]
fn a_256_mib_value_round_trips_and_dedups_against_itself() {
    let mut rng = Rng::new(seed(
        "a_256_mib_value_round_trips_and_dedups_against_itself",
    ));
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        sync: SyncMode::Never,
        compaction: CompactionOptions {
            level_compression: vec![Compression::Lz4],
            ..CompactionOptions::default()
        },
        dedup: Some(DedupOptions::default()),
        ..Options::default()
    };
    let len = if cfg!(debug_assertions) {
        32 << 20
    } else {
        scipkv_engine::key::MAX_VALUE_LEN
    };
    eprintln!("value of {len} bytes");
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        v.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    let t = Instant::now();
    let db = Db::open(dir.path(), opts).unwrap();
    db.put("huge", &v).unwrap();
    eprintln!("put: {:?}", t.elapsed());
    let t = Instant::now();
    let got = db.get("huge").unwrap().unwrap();
    eprintln!("get: {:?}", t.elapsed());
    assert!(got == v, "256 MiB value differs after the round trip");
    drop(got);
    let before = db.stats().dedup.unwrap();
    db.put("again", &v).unwrap();
    let after = db.stats().dedup.unwrap();
    assert_eq!(after.chunks_written, before.chunks_written);
    assert_eq!(after.chunk_bytes, len as u64);
}
