//! Memtable flush throughput: fill a fresh memtable with ~8 MiB of 100-byte-value entries
//! (untimed, `SyncMode::Never`), then time `flush()` (table write + fsync + manifest edit).
//!
//! Run: `cargo bench --bench flush`; smoke: `cargo bench --bench flush -- --test`.

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{VALUE_LEN, bulk_opts, key, load, open, shuffled};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Entries per flush: ~8 MiB of raw key + value bytes.
const N: u64 = (8 << 20) / (19 + VALUE_LEN as u64);

fn bench(c: &mut Criterion) {
    let raw = N * (key(0).len() + VALUE_LEN) as u64;
    let order = shuffled(N, 7);
    let mut group = c.benchmark_group("flush");
    group.throughput(Throughput::Bytes(raw));
    group.sample_size(10);
    group.bench_function("8MiB", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // A fresh Db each time, so tables do not pile up across iterations.
                let (_dir, db) = open(bulk_opts(64 << 20));
                load(&db, order.iter().copied());
                let start = Instant::now();
                db.flush().unwrap();
                total += start.elapsed();
                let s = db.stats();
                assert_eq!((s.flushes, s.memtable_bytes), (1, 0));
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
