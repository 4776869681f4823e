//! Compaction on real SCIP data: bytes on disk per level codec, dictionary versus no
//! dictionary, and compaction throughput.
//!
//! The data set is what a store of SCIP would hold before the SCIP layer exists: every
//! `Document` and external `SymbolInformation` of `rxjs.scip` as a raw protobuf value (keys:
//! the document path, the symbol string). Run `cargo bench --bench compaction`; the size
//! report (printed once, to stderr) is skipped in `--test` mode, where a small slice of the
//! data is compacted once so the bench cannot rot.

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;
use scipkv::scip::{IndexItem, IndexReader};
use scipkv::{CompactionOptions, Compression, Db, Options, SyncMode, TableOptions, WriteBatch};

/// True under `cargo bench` (which passes `--bench`), false in criterion's `--test` smoke
/// mode and under `cargo test`.
fn bench_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test")
}

/// `(key, value)` pairs from the index, at most `limit` bytes of values.
fn scip_values(limit: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let path = scipkv::scip::testdata::scip_file("rxjs.scip.zst");
    let file = std::fs::File::open(&path).unwrap();
    let mut reader = IndexReader::new(std::io::BufReader::new(file)).unwrap();
    let mut out = Vec::new();
    let mut total = 0;
    while let Some(item) = reader.next_item().unwrap() {
        let (k, v) = match item {
            IndexItem::Document(d) => (format!("doc/{}", d.relative_path), d.encode_to_vec()),
            IndexItem::ExternalSymbol(s) => (format!("sym/{}", s.symbol), s.encode_to_vec()),
            IndexItem::Metadata(_) => continue,
        };
        total += v.len();
        out.push((k.into_bytes(), v));
        if total >= limit {
            break;
        }
    }
    out
}

fn options(block_size: usize, bottom: Compression) -> Options {
    Options {
        sync: SyncMode::Never,
        memtable_size: 8 << 20,
        table: TableOptions {
            block_size,
            ..TableOptions::default()
        },
        compaction: CompactionOptions {
            auto: false,
            level_compression: vec![Compression::Zstd { level: 3 }, bottom],
            ..CompactionOptions::default()
        },
        ..Options::default()
    }
}

fn load(db: &Db, values: &[(Vec<u8>, Vec<u8>)]) {
    let mut b = WriteBatch::new();
    for (k, v) in values {
        b.put(k, v);
        if b.approximate_size() > 4 << 20 {
            db.write(std::mem::take(&mut b)).unwrap();
        }
    }
    db.write(b).unwrap();
    db.flush().unwrap();
}

fn level_bytes(db: &Db) -> (u64, u64, usize) {
    let s = db.stats();
    let (l, bytes) = s
        .levels
        .iter()
        .enumerate()
        .filter(|(_, l)| l.files > 0)
        .map(|(i, l)| (i, l.bytes))
        .next_back()
        .unwrap_or((0, 0));
    let raw: u64 = s.levels.iter().map(|l| l.raw_bytes).sum();
    (bytes, raw, l)
}

/// Prints bytes on disk at L0 (LZ4), L1 (zstd-3) and the bottom (zstd-19 with and without a
/// dictionary), for 4 KiB and 16 KiB blocks.
fn size_report(values: &[(Vec<u8>, Vec<u8>)]) {
    let raw: usize = values.iter().map(|(k, v)| k.len() + v.len()).sum();
    eprintln!(
        "compaction size report: rxjs.scip, {} values, {raw} raw bytes",
        values.len()
    );
    eprintln!("| block | level | codec | bytes on disk | ratio to raw |");
    eprintln!("|---|---|---|---|---|");
    for block in [4096, 16384] {
        for (name, bottom) in [
            (
                "zstd-19 + dictionary",
                Compression::ZstdDictionary { level: 19 },
            ),
            ("zstd-19, no dictionary", Compression::Zstd { level: 19 }),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let db = Db::open(dir.path(), options(block, bottom)).unwrap();
            load(&db, values);
            if matches!(bottom, Compression::ZstdDictionary { .. }) {
                let (b, _, l) = level_bytes(&db);
                eprintln!(
                    "| {block} | L{l} | LZ4 | {b} | {:.3} |",
                    b as f64 / raw as f64
                );
                db.compact().unwrap();
                let tables = db.tables();
                let l1: u64 = tables
                    .iter()
                    .filter(|t| t.level == 1)
                    .map(|t| t.file_size)
                    .sum();
                if l1 > 0 {
                    eprintln!(
                        "| {block} | L1 | zstd-3 | {l1} | {:.3} |",
                        l1 as f64 / raw as f64
                    );
                }
            }
            let start = Instant::now();
            db.compact_all().unwrap();
            let secs = start.elapsed().as_secs_f64();
            let (b, _, l) = level_bytes(&db);
            eprintln!(
                "| {block} | L{l} | {name} | {b} | {:.3} | ({:.1} MB/s to the bottom)",
                b as f64 / raw as f64,
                raw as f64 / secs / 1e6
            );
        }
    }
}

fn compaction_throughput(c: &mut Criterion) {
    let limit = if bench_mode() { 8 << 20 } else { 256 << 10 };
    let values = scip_values(limit);
    if bench_mode() {
        size_report(&scip_values(usize::MAX));
    }
    let raw: usize = values.iter().map(|(k, v)| k.len() + v.len()).sum();
    let mut g = c.benchmark_group("compaction");
    g.throughput(Throughput::Bytes(raw as u64));
    g.sample_size(10);
    for (name, bottom) in [
        ("to_bottom_zstd3", Compression::Zstd { level: 3 }),
        (
            "to_bottom_zstd19_dict",
            Compression::ZstdDictionary { level: 19 },
        ),
    ] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let dir = tempfile::tempdir().unwrap();
                    let db = Db::open(dir.path(), options(16384, bottom)).unwrap();
                    load(&db, &values);
                    let start = Instant::now();
                    db.compact_all().unwrap();
                    total += start.elapsed();
                }
                total
            })
        });
    }
    g.finish();
}

criterion_group!(benches, compaction_throughput);
criterion_main!(benches);
