//! Block codecs on real SSTable data blocks of the SCIP store: LZ4, zstd-3, zstd-19 and
//! zstd-19 with a trained dictionary (the per-level codecs of `CompactionOptions`), through the
//! engine's own codec functions. Compress and decompress throughput (of raw bytes) and, printed
//! once to stderr, the compression ratio of each.
//!
//! Data: django.scip ingested with `ScipStore::recommended_options()` (32 KiB blocks),
//! flushed, and its data blocks read back decompressed (the first 4 MiB). The dictionary is
//! trained as compaction trains it: on up to 256 spread-out blocks, at most
//! `max_dictionary_bytes` (64 KiB), and applied to all of them. `cargo bench --bench codecs`;
//! in `--test` mode (or `cargo test`) the smaller rxjs-01 index, 1 MiB of blocks and a 16 KiB
//! dictionary are used and each codec runs once.

mod scip_common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scip_common::raw_index;
use scipkv_engine::scip::store::ScipStore;
use scipkv_engine::sstable::{
    Codec, DictDecoder, DictEncoder, decompress_block, sample_blocks, train_dictionary,
};

/// Raw bytes of data blocks measured per iteration (zstd-19 compresses a few MB/s).
const MAX_BYTES: usize = 4 << 20;
/// Blocks the dictionary is trained on (compaction's `DICTIONARY_SAMPLES`).
const SAMPLES: usize = 256;

/// True under `cargo bench` (which passes `--bench`), false in criterion's `--test` smoke
/// mode and under `cargo test`.
fn bench_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test")
}

/// Decompressed data blocks of the SCIP store's tables for `index`.
fn blocks(index: &str, max_bytes: usize) -> Vec<Vec<u8>> {
    let raw = raw_index(index);
    let dir = tempfile::tempdir().unwrap();
    let store = ScipStore::open(dir.path()).unwrap();
    store.ingest("t", "p", "v", &raw[..]).unwrap();
    store.db().flush().unwrap();
    let mut out = Vec::new();
    let mut total = 0;
    for t in store.db().tables() {
        for b in sample_blocks(&t.table, usize::MAX).unwrap() {
            if total >= max_bytes {
                return out;
            }
            total += b.len();
            out.push(b);
        }
    }
    assert!(!out.is_empty(), "the store wrote no data blocks");
    out
}

/// A codec under test: compress one block, and decompress what it produced.
enum Variant {
    Plain(Codec),
    Dict(DictEncoder, DictDecoder),
}

impl Variant {
    fn compress(&mut self, raw: &[u8]) -> Vec<u8> {
        match self {
            Variant::Plain(c) => c.compress(raw).expect("compressible"),
            Variant::Dict(e, _) => e.compress(raw).expect("compressible"),
        }
    }

    fn decompress(&self, payload: &[u8], len: usize) -> Vec<u8> {
        match self {
            Variant::Plain(c) => decompress_block(c.id(), payload, len, None).unwrap(),
            // Codec id 3: zstd with the table's dictionary.
            Variant::Dict(_, d) => decompress_block(3, payload, len, Some(d)).unwrap(),
        }
    }
}

fn codecs(c: &mut Criterion) {
    let full = bench_mode();
    let (blocks, dict_max) = if full {
        (blocks("django.scip.zst", MAX_BYTES), 64 << 10)
    } else {
        (blocks("rxjs-01-be72ebf1a.scip.zst", 1 << 20), 16 << 10)
    };
    let raw: usize = blocks.iter().map(Vec::len).sum();
    let n = blocks.len();
    let step = n.div_ceil(SAMPLES.min(n));
    let samples: Vec<&Vec<u8>> = blocks.iter().step_by(step).collect();
    let dict = train_dictionary(&samples, dict_max).expect("enough sample data to train");

    let variants: Vec<(&str, Variant)> = vec![
        ("lz4", Variant::Plain(Codec::Lz4)),
        ("zstd3", Variant::Plain(Codec::Zstd { level: 3 })),
        ("zstd19", Variant::Plain(Codec::Zstd { level: 19 })),
        (
            "zstd19_dict",
            Variant::Dict(
                DictEncoder::new(&dict, 19).unwrap(),
                DictDecoder::new(&dict).unwrap(),
            ),
        ),
    ];
    let mut g = c.benchmark_group("codecs");
    g.throughput(Throughput::Bytes(raw as u64));
    if full {
        g.sample_size(10);
    }
    for (name, mut v) in variants {
        let compressed: Vec<Vec<u8>> = blocks.iter().map(|b| v.compress(b)).collect();
        for (b, z) in blocks.iter().zip(&compressed) {
            assert_eq!(&v.decompress(z, b.len()), b, "{name} round trip");
        }
        let stored: usize = compressed.iter().map(Vec::len).sum();
        eprintln!(
            "codecs/{name}: {n} blocks, {raw} raw bytes -> {stored} ({:.2}x, {:.3} of raw){}",
            raw as f64 / stored as f64,
            stored as f64 / raw as f64,
            if name == "zstd19_dict" {
                format!(" + {} dictionary bytes", dict.len())
            } else {
                String::new()
            }
        );
        g.bench_function(format!("{name}/compress"), |bench| {
            bench.iter(|| {
                for b in &blocks {
                    std::hint::black_box(v.compress(b));
                }
            })
        });
        g.bench_function(format!("{name}/decompress"), |bench| {
            bench.iter(|| {
                for (b, z) in blocks.iter().zip(&compressed) {
                    std::hint::black_box(v.decompress(z, b.len()));
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, codecs);
criterion_main!(benches);
