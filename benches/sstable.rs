//! Reads served from L0 tables after `flush()`: point gets (hit, and miss where the bloom
//! filter answers), a 10k-key scan merged over the tables; and at the `Table` level: building a
//! 100k-entry table and `Table::get` on it directly.
//!
//! Run: `cargo bench --bench sstable`; smoke: `cargo bench --bench sstable -- --test`.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::sync::Arc;

use common::{bulk_opts, key, load, open, probes, shuffled, value};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scipkv::key::{Kind, make_internal_key};
use scipkv::sstable::{Table, TableBuilder, TableOptions};
use scipkv::storage::{FsStorage, ReadPath, Storage};

/// Entries loaded (keys `key(0), key(2), ..`), ~12 MiB raw.
const N: u64 = 100_000;
const SCAN: usize = 10_000;

/// Db-level reads. Keys are inserted in shuffled order through a 4 MiB memtable, so every L0
/// table spans the whole key range (no compaction yet): a get consults each table's bloom
/// filter, and a miss is rejected by the filters alone (~1% false positives at 10 bits/key).
fn db_reads(c: &mut Criterion) {
    let (_dir, db) = open(bulk_opts(4 << 20));
    load(&db, shuffled(N, 1));
    db.flush().unwrap();
    let s = db.stats();
    assert_eq!(s.memtable_bytes, 0, "all data must be in tables");
    eprintln!(
        "sstable: L0 files={} bytes={} entries={}",
        s.levels[0].files, s.levels[0].bytes, s.levels[0].entries
    );
    let (hits, misses) = probes(N);

    let mut group = c.benchmark_group("sstable/db");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("get_hit", |b| {
        b.iter(|| {
            i = (i + 1) % hits.len();
            assert!(db.get(black_box(&hits[i])).unwrap().is_some());
        })
    });
    let blocks_before = db.stats().blocks_read;
    let mut miss_gets = 0u64;
    group.bench_function("get_miss", |b| {
        b.iter(|| {
            i = (i + 1) % misses.len();
            miss_gets += 1;
            assert!(db.get(black_box(&misses[i])).unwrap().is_none());
        })
    });
    eprintln!(
        "sstable/db/get_miss: {:.4} data blocks read per miss",
        (db.stats().blocks_read - blocks_before) as f64 / miss_gets.max(1) as f64
    );
    group.throughput(Throughput::Elements(SCAN as u64));
    group.sample_size(20);
    let start = key(2 * (N / 2));
    group.bench_function("scan_10k", |b| {
        b.iter(|| {
            let mut n = 0;
            for r in db.iter::<&[u8]>(black_box(start.as_slice())..).take(SCAN) {
                black_box(r.unwrap());
                n += 1;
            }
            assert_eq!(n, SCAN);
        })
    });
    group.finish();
}

/// Table level: `TableBuilder` throughput (including the final fsync) and `Table::get`.
fn table(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let storage = FsStorage::new(dir.path(), ReadPath::Mmap).unwrap();
    let entries: Vec<(Vec<u8>, Vec<u8>)> = (0..N)
        .map(|j| {
            (
                make_internal_key(&key(2 * j), j + 1, Kind::Put as u8),
                value(j),
            )
        })
        .collect();
    let raw: u64 = entries
        .iter()
        .map(|(k, v)| (k.len() + v.len()) as u64)
        .sum();
    let build = |name: &str| {
        let file = storage.create(name).unwrap();
        let mut b = TableBuilder::new(file, name.to_string(), TableOptions::default());
        for (k, v) in &entries {
            b.add(k, v).unwrap();
        }
        b.finish().unwrap()
    };

    let mut group = c.benchmark_group("sstable/table");
    group.throughput(Throughput::Bytes(raw));
    group.sample_size(10);
    group.bench_function("build_100k", |b| b.iter(|| build("build.sst")));

    let summary = build("get.sst");
    eprintln!(
        "sstable/table: 100k entries, {raw} raw bytes -> {} file bytes",
        summary.file_size
    );
    let t = Arc::new(Table::open(storage.open_read("get.sst").unwrap(), "get.sst".into()).unwrap());
    let (hits, misses) = probes(N);
    group.throughput(Throughput::Elements(1));
    group.sample_size(100);
    let mut i = 0;
    group.bench_function("get_hit", |b| {
        b.iter(|| {
            i = (i + 1) % hits.len();
            assert!(t.get(black_box(&hits[i]), u64::MAX).unwrap().is_some());
        })
    });
    group.bench_function("get_miss", |b| {
        b.iter(|| {
            i = (i + 1) % misses.len();
            assert!(t.get(black_box(&misses[i]), u64::MAX).unwrap().is_none());
        })
    });
    group.finish();
}

criterion_group!(benches, db_reads, table);
criterion_main!(benches);
