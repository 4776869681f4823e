//! Reads served entirely from the memtable: point gets (hit and miss) and a 10k-key scan.
//!
//! Run: `cargo bench --bench memtable`; smoke: `cargo bench --bench memtable -- --test`.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;

use common::{bulk_opts, key, load, open, probes, shuffled};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Entries loaded (keys `key(0), key(2), ..`): ~12 MiB raw, far below the memtable size.
const N: u64 = 100_000;
const SCAN: usize = 10_000;

fn bench(c: &mut Criterion) {
    let (_dir, db) = open(bulk_opts(256 << 20));
    load(&db, shuffled(N, 1));
    let s = db.stats();
    assert_eq!(s.flushes, 0, "data must stay in the memtable");
    assert!(s.levels.iter().all(|l| l.files == 0));
    let (hits, misses) = probes(N);

    let mut group = c.benchmark_group("memtable");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("get_hit", |b| {
        b.iter(|| {
            i = (i + 1) % hits.len();
            assert!(db.get(black_box(&hits[i])).unwrap().is_some());
        })
    });
    group.bench_function("get_miss", |b| {
        b.iter(|| {
            i = (i + 1) % misses.len();
            assert!(db.get(black_box(&misses[i])).unwrap().is_none());
        })
    });
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

criterion_group!(benches, bench);
criterion_main!(benches);
