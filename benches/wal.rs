//! WAL write path: single-writer `put` under `SyncMode::Always` (one fsync per put) vs
//! `SyncMode::Never`, and group commit with 8 writer threads under `Always`.
//!
//! Run: `cargo bench --bench wal`; smoke: `cargo bench --bench wal -- --test`.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{key, open, value};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scipkv::{Db, Options, SyncMode};

fn put_single(c: &mut Criterion) {
    let mut group = c.benchmark_group("wal/put");
    group.throughput(Throughput::Elements(1));
    // An fsync per put costs milliseconds on a virtio disk: keep the minimum iteration count low.
    group.sample_size(20);
    for (name, sync) in [("always", SyncMode::Always), ("never", SyncMode::Never)] {
        let (_dir, db) = open(Options {
            sync,
            ..Options::default()
        });
        let v = value(1);
        let mut i = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                i += 1;
                db.put(key(i), black_box(&v)).unwrap()
            })
        });
    }
    group.finish();
}

/// `iters` puts spread over `threads` writers; returns the wall time for all of them.
fn run_writers(db: &Db, next: &AtomicU64, threads: u64, iters: u64) -> Duration {
    let per_thread = iters.div_ceil(threads);
    let v = value(2);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..per_thread {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    db.put(key(i), &v).unwrap();
                }
            });
        }
    });
    // Report per op over what was actually written (per_thread * threads >= iters).
    start
        .elapsed()
        .mul_f64(iters as f64 / (per_thread * threads) as f64)
}

fn group_commit(c: &mut Criterion) {
    let mut group = c.benchmark_group("wal/group_commit_always");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    for threads in [1u64, 2, 4, 8] {
        let (_dir, db) = open(Options::default()); // SyncMode::Always
        let next = AtomicU64::new(0);
        let mut busy = Duration::ZERO;
        group.bench_function(format!("{threads}_writers"), |b| {
            b.iter_custom(|iters| {
                let t = run_writers(&db, &next, threads, iters);
                busy += t;
                t
            })
        });
        // Over warm-up and measurement together.
        let s = db.stats();
        eprintln!(
            "wal/group_commit_always/{threads}_writers: writes={} write_groups={} wal_syncs={} \
             avg group size={:.2} avg wall time per group={:.1} us",
            s.writes,
            s.write_groups,
            s.wal_syncs,
            s.writes as f64 / s.write_groups.max(1) as f64,
            busy.as_secs_f64() * 1e6 / s.write_groups.max(1) as f64
        );
    }
    group.finish();
}

criterion_group!(benches, put_single, group_commit);
criterion_main!(benches);
