//! The chunk store: on-disk cost of three consecutive rxjs indexes with and without dedup,
//! and put/get throughput of large deduplicated values. Figures in `benches/RESULTS.md`.
//!
//! Run: `cargo bench --bench dedup`; the indexes are read from `<root>/../shared/scip`
//! (`SCIPKV_SHARED=/path/to/shared` overrides the shared root). The storage table is printed once before
//! the timed benchmarks (`SCIPKV_DEDUP_STORAGE=0` skips it).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scipkv::chunk::ChunkId;
use scipkv::{Db, DedupOptions, Options, SyncMode};

const VERSIONS: [&str; 3] = [
    "rxjs-01-be72ebf1a.scip.zst",
    "rxjs-02-7a9407bbe.scip.zst",
    "rxjs-03-c0ccc04b2.scip.zst",
];

fn load(name: &str) -> Vec<u8> {
    let path = scipkv::scip::testdata::scip_file(name);
    let compressed = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set SCIPKV_SHARED)", path.display()));
    zstd::decode_all(&compressed[..]).expect("valid zstd")
}

fn varint(data: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = data[*pos];
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            break;
        }
    }
    v
}

/// Top-level protobuf records of an `Index`: the metadata, each `Document`, each external
/// symbol (all length-delimited), with their tag and length prefix.
fn records(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let start = pos;
        let tag = varint(data, &mut pos);
        assert_eq!(tag & 7, 2, "top-level field is not length-delimited");
        pos += varint(data, &mut pos) as usize;
        out.push(&data[start..pos]);
    }
    out
}

#[derive(Clone, Copy, Debug)]
enum Layout {
    /// Each index one raw value.
    Raw,
    /// Each index one value through the chunk store.
    Chunks,
    /// Each distinct top-level record once under its content hash, plus a per-version list.
    Documents,
}

/// Bytes of table files after storing `n` versions, `flush` and `compact_all`.
fn on_disk(layout: Layout, versions: &[Vec<u8>]) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        sync: SyncMode::Never,
        dedup: matches!(layout, Layout::Chunks).then(DedupOptions::default),
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts).unwrap();
    for (i, v) in versions.iter().enumerate() {
        match layout {
            Layout::Raw | Layout::Chunks => db.put(format!("index/{i}"), v).unwrap(),
            Layout::Documents => {
                let mut list = Vec::new();
                for r in records(v) {
                    let h = ChunkId::of(r).hash.to_be_bytes();
                    list.extend_from_slice(&h);
                    let key = [&b"doc/"[..], &h].concat();
                    if db.get(&key).unwrap().is_none() {
                        db.put(key, r).unwrap();
                    }
                }
                db.put(format!("index/{i}"), list).unwrap();
            }
        }
    }
    db.flush().unwrap();
    db.compact_all().unwrap();
    db.stats().levels.iter().map(|l| l.bytes).sum()
}

fn storage_report(versions: &[Vec<u8>]) {
    let raw: usize = versions[0].len();
    println!("\n## on-disk bytes after flush + compact_all (default options, rxjs-01..03)");
    println!("version 1 raw size: {raw} bytes");
    println!("| layout | 1 version | 3 versions | 3 / 1 | 3 versions / raw-layout 1 version |");
    println!("|---|---|---|---|---|");
    let base = on_disk(Layout::Raw, &versions[..1]);
    for layout in [Layout::Raw, Layout::Chunks, Layout::Documents] {
        let t = Instant::now();
        let one = on_disk(layout, &versions[..1]);
        let three = on_disk(layout, versions);
        println!(
            "| {layout:?} | {one} | {three} | {:.3} | {:.3} | ({:.1?})",
            three as f64 / one as f64,
            three as f64 / base as f64,
            t.elapsed()
        );
    }
}

fn unique_value(base: &[u8], n: u64) -> Vec<u8> {
    // A counter in every 4 KiB changes every chunk: each iteration stores all-new content.
    let mut v = base.to_vec();
    for i in (0..v.len()).step_by(4096) {
        v[i..i + 8].copy_from_slice(&n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
    }
    v
}

fn bench(c: &mut Criterion) {
    let versions: Vec<Vec<u8>> = VERSIONS.iter().map(|n| load(n)).collect();
    // Only under `cargo bench` (not the `--test` smoke run that CI does): it takes minutes.
    let args: Vec<String> = std::env::args().collect();
    let bench_mode = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    if bench_mode && std::env::var("SCIPKV_DEDUP_STORAGE").as_deref() != Ok("0") {
        storage_report(&versions);
    }
    let value = versions[0][..8 << 20].to_vec();
    let mut group = c.benchmark_group("dedup/8MiB-of-rxjs");
    group.throughput(Throughput::Bytes(value.len() as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    for dedup in [false, true] {
        let name = if dedup { "dedup" } else { "plain" };
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(
            dir.path(),
            Options {
                sync: SyncMode::Never,
                dedup: dedup.then(DedupOptions::default),
                ..Options::default()
            },
        )
        .unwrap();
        let mut n = 0u64;
        group.bench_function(format!("put-new/{name}"), |b| {
            b.iter_batched(
                || {
                    n += 1;
                    (format!("new/{n}"), unique_value(&value, n))
                },
                |(k, v)| db.put(k, v).unwrap(),
                criterion::BatchSize::LargeInput,
            )
        });
        db.put("same", &value).unwrap();
        group.bench_function(format!("put-identical/{name}"), |b| {
            b.iter(|| db.put("same", black_box(&value)).unwrap())
        });
        group.bench_function(format!("get/{name}"), |b| {
            b.iter(|| db.get("same").unwrap().unwrap().len())
        });
        if dedup {
            let s = db.stats().dedup.unwrap();
            println!(
                "dedup stats: {} chunks, {} chunk bytes, {} written, {} reused",
                s.chunks, s.chunk_bytes, s.chunks_written, s.chunks_reused
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
