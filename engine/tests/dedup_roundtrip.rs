//! The chunk store seen through the ordinary API: round trips of every size, dedup of
//! identical and edited values, hidden internal keys, fixed prefixes, space given back.

mod common;

use common::{Rng, seed};
use scipkv_engine::{CompactionOptions, Compression, Db, DedupOptions, Options, SyncMode};

fn random(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        v.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    v.truncate(len);
    v
}

/// LZ4 at every level: the default zstd-19 bottom level costs seconds per compaction in a
/// debug build, and random test data does not compress anyway.
fn opts(prefixes: &[&[u8]]) -> Options {
    Options {
        sync: SyncMode::Never,
        compaction: CompactionOptions {
            level_compression: vec![Compression::Lz4],
            ..CompactionOptions::default()
        },
        dedup: Some(DedupOptions {
            prefixes: prefixes.iter().map(|p| p.to_vec()).collect(),
            ..DedupOptions::default()
        }),
        ..Options::default()
    }
}

fn disk_bytes(db: &Db) -> u64 {
    db.flush().unwrap();
    db.compact_all().unwrap();
    db.stats().levels.iter().map(|l| l.bytes).sum()
}

#[test]
fn values_of_every_size_round_trip_through_every_read_path() {
    let seed = seed("values_of_every_size_round_trip_through_every_read_path");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let sizes = [
        0usize,
        1,
        4095,
        4096,
        4097,
        8192,
        65_537,
        1 << 20,
        3 << 20,
        10_000_019,
    ];
    let values: Vec<Vec<u8>> = sizes.iter().map(|&n| random(&mut rng, n)).collect();
    let key = |i: usize| format!("v{i:02}").into_bytes();
    {
        let db = Db::open(dir.path(), opts(&[])).unwrap();
        for (i, v) in values.iter().enumerate() {
            db.put(key(i), v).unwrap();
        }
        let snap = db.snapshot();
        for (i, v) in values.iter().enumerate() {
            assert_eq!(
                db.get(key(i)).unwrap().as_ref(),
                Some(v),
                "size {}",
                v.len()
            );
            assert_eq!(snap.get(&key(i)).unwrap().as_ref(), Some(v));
        }
        let all: Vec<_> = db.iter::<&[u8]>(..).map(|r| r.unwrap()).collect();
        assert_eq!(all.len(), values.len(), "only user keys are listed");
        for (i, (k, v)) in all.iter().enumerate() {
            assert_eq!((k, v), (&key(i), &values[i]));
        }
        let back: Vec<_> = db.iter::<&[u8]>(..).rev().map(|r| r.unwrap().0).collect();
        assert_eq!(back.len(), values.len());
        let got = db.multi_get(&[key(9), key(0)]).unwrap();
        assert_eq!(got, vec![Some(values[9].clone()), Some(values[0].clone())]);
        db.flush().unwrap();
        db.compact_all().unwrap();
        assert_eq!(db.get(key(9)).unwrap().as_ref(), Some(&values[9]));
        db.close().unwrap();
    }
    let db = Db::open(dir.path(), opts(&[])).unwrap();
    for (i, v) in values.iter().enumerate() {
        assert_eq!(db.get(key(i)).unwrap().as_ref(), Some(v), "after reopen");
    }
    let report = db.verify_chunks().unwrap();
    assert_eq!((report.missing_chunks, report.half_written_chunks), (0, 0));
    assert_eq!(report.unreferenced_chunks, 0);
}

#[test]
fn identical_values_are_stored_once() {
    let mut rng = Rng::new(seed("identical_values_are_stored_once"));
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts(&[])).unwrap();
    let v = random(&mut rng, 1 << 20);
    db.put("a", &v).unwrap();
    let one = db.stats().dedup.unwrap();
    for k in ["b", "c", "d", "e"] {
        db.put(k, &v).unwrap();
    }
    let s = db.stats().dedup.unwrap();
    assert_eq!(
        s.chunks_written, one.chunks_written,
        "no chunk written twice"
    );
    assert_eq!(s.chunk_bytes, 1 << 20);
    assert_eq!(s.chunks_reused, 4 * one.chunks_written);
    assert_eq!(s.logical_bytes_written, 5 << 20);
    db.gc().unwrap();
    let s = db.stats().dedup.unwrap();
    assert_eq!(s.live_logical_bytes, 5 << 20);
    assert!(
        (s.dedup_ratio - 5.0).abs() < 1e-9,
        "ratio {}",
        s.dedup_ratio
    );
}

#[test]
fn a_one_byte_edit_adds_at_most_two_chunks_on_average() {
    let mut rng = Rng::new(seed("a_one_byte_edit_adds_at_most_two_chunks_on_average"));
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts(&[])).unwrap();
    let base = random(&mut rng, 1 << 20);
    db.put("base", &base).unwrap();
    let trials = 40;
    let before = db.stats().dedup.unwrap().chunks_written;
    for t in 0..trials {
        let mut v = base.clone();
        let at = rng.below(v.len() as u64) as usize;
        v[at] ^= 1 + rng.below(255) as u8;
        db.put(format!("edit{t}"), &v).unwrap();
        assert_eq!(db.get(format!("edit{t}")).unwrap(), Some(v));
    }
    let added = db.stats().dedup.unwrap().chunks_written - before;
    let mean = added as f64 / trials as f64;
    eprintln!("new chunks per one-byte edit: {mean:.2}");
    assert!(mean <= 2.0, "mean new chunks per edit {mean}");
}

#[test]
fn reserved_keys_are_rejected_and_never_listed() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts(&[])).unwrap();
    db.put([0xFF; 7], "ok").unwrap();
    assert!(db.put([0xFF; 8], "no").is_err());
    let mut tail = vec![0xFF; 8];
    tail.extend_from_slice(b"x");
    assert!(db.delete(&tail).is_err());
    db.put("big", vec![7u8; 100_000]).unwrap();
    let keys: Vec<_> = db.iter::<&[u8]>(..).map(|r| r.unwrap().0).collect();
    assert_eq!(keys, vec![b"big".to_vec(), vec![0xFF; 7]]);
    assert_eq!(db.scan_prefix([0xFF; 8]).count(), 0);
    assert_eq!(db.iter(&[0xFFu8; 7][..]..=&[0xFF; 12][..]).count(), 1);
    assert_eq!(db.get(&tail).unwrap(), None);
}

#[test]
fn only_keys_under_the_prefixes_are_chunked_and_prefixes_are_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let big = vec![3u8; 200_000];
    {
        let db = Db::open(dir.path(), opts(&[b"doc/"])).unwrap();
        db.put("doc/x", &big).unwrap();
        db.put("raw/x", &big).unwrap();
        let s = db.stats().dedup.unwrap();
        assert_eq!(s.logical_bytes_written, 200_000, "raw/x not chunked");
        db.close().unwrap();
    }
    let err = Db::open(dir.path(), opts(&[b"other/"])).unwrap_err();
    assert!(err.to_string().contains("prefixes"), "{err}");
    // Opening without dedup options keeps the stored prefixes.
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(db.get("doc/x").unwrap(), Some(big.clone()));
    assert_eq!(db.get("raw/x").unwrap(), Some(big));
    drop(db);
    // Dedup cannot start on a prefix that already holds data.
    let dir2 = tempfile::tempdir().unwrap();
    Db::open(dir2.path(), Options::default())
        .unwrap()
        .put("doc/y", "v")
        .unwrap();
    assert!(Db::open(dir2.path(), opts(&[b"doc/"])).is_err());
    assert!(Db::open(dir2.path(), opts(&[b"new/"])).is_ok());
}

#[test]
fn delete_gc_and_compaction_give_the_bytes_back_on_disk() {
    let mut rng = Rng::new(seed("delete_gc_and_compaction_give_the_bytes_back_on_disk"));
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts(&[])).unwrap();
    db.put("keep", random(&mut rng, 1 << 20)).unwrap();
    let baseline = disk_bytes(&db);
    for i in 0..4 {
        db.put(format!("big{i}"), random(&mut rng, 4 << 20))
            .unwrap();
    }
    let full = disk_bytes(&db);
    assert!(full > baseline + (15 << 20), "{baseline} -> {full}");
    for i in 0..4 {
        db.delete(format!("big{i}")).unwrap();
    }
    let without_gc = disk_bytes(&db);
    assert!(without_gc > baseline + (15 << 20), "chunks stay until GC");
    let r = db.gc().unwrap();
    assert_eq!(r.bytes_deleted, 16 << 20);
    let after = disk_bytes(&db);
    eprintln!("on disk: baseline {baseline}, full {full}, after delete+gc {after}");
    assert!(
        after < baseline + (64 << 10),
        "{after} vs baseline {baseline}"
    );
    let s = db.stats().dedup.unwrap();
    assert_eq!(
        (s.chunk_bytes, s.gc_bytes_reclaimed, s.gc_runs),
        (1 << 20, 16 << 20, 1)
    );
}

#[test]
fn snapshots_keep_released_chunks_readable_through_gc_and_compaction() {
    let mut rng = Rng::new(seed("snapshots_keep_released_chunks_readable"));
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts(&[])).unwrap();
    let old = random(&mut rng, 500_000);
    db.put("k", &old).unwrap();
    let snap = db.snapshot();
    let it = db.iter::<&[u8]>(..);
    db.put("k", random(&mut rng, 300_000)).unwrap();
    let r = db.gc().unwrap();
    assert!(r.chunks_deleted > 0);
    db.flush().unwrap();
    db.compact_all().unwrap();
    assert_eq!(snap.get(b"k").unwrap(), Some(old.clone()));
    let listed: Vec<_> = it.map(|r| r.unwrap()).collect();
    assert_eq!(listed, vec![(b"k".to_vec(), old)]);
    drop(snap);
    db.gc().unwrap();
    let v = db.verify_chunks().unwrap();
    assert_eq!((v.missing_chunks, v.unreferenced_chunks), (0, 0));
    assert_eq!(v.logical_bytes, 300_000);
}
