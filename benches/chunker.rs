//! Chunker throughput on a real SCIP index and on random bytes (figures in
//! `format-spec/chunking.md`).
//!
//! Run: `cargo bench --bench chunker`; the index is read from `<root>/../shared/scip`
//! (`SCIPKV_SHARED=/path/to/shared` overrides the shared root).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scipkv::chunk::cdc::{Chunker, GearChunker, RabinChunker, chunks, splitmix64};

fn rxjs() -> Vec<u8> {
    let path = scipkv::scip::testdata::scip_file("rxjs.scip.zst");
    let compressed = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set SCIPKV_SHARED)", path.display()));
    zstd::decode_all(&compressed[..]).expect("valid zstd")
}

fn random(len: usize) -> Vec<u8> {
    let mut state = 0xB3AC;
    (0..len.div_ceil(8))
        .flat_map(|_| splitmix64(&mut state).to_le_bytes())
        .take(len)
        .collect()
}

fn bench(c: &mut Criterion) {
    let inputs = [("rxjs", rxjs()), ("random", random(16 << 20))];
    let gear = GearChunker::default();
    let rabin = RabinChunker::default();
    let chunkers: [(&str, &dyn Chunker); 2] = [("gear", &gear), ("rabin", &rabin)];
    for (input, data) in &inputs {
        let mut group = c.benchmark_group(format!("chunker/{input}"));
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(5));
        for (name, chunker) in chunkers {
            group.bench_function(name, |b| {
                b.iter(|| chunks(chunker, black_box(data)).count())
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
