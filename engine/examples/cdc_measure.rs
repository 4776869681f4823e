//! Measures dedup of content-defined chunking on real SCIP indexes, to choose the default
//! chunk sizes recorded in `format-spec/chunking.md`.
//!
//! Run: `cargo run --release --example cdc_measure -p scipkv-engine` (reads
//! `<root>/../shared/scip`; `SCIPKV_SHARED=/path/to/shared` overrides the shared root).

use std::collections::HashMap;

use scipkv_engine::chunk::cdc::{ChunkSizes, Chunker, GearChunker, RabinChunker, chunks};

/// Bytes a value spends per chunk reference (hash + length + offset) in the chunk store.
const REF_BYTES: usize = 24;

fn load(name: &str) -> Vec<u8> {
    let path = scipkv_engine::scip::testdata::scip_file(name);
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

/// Top-level protobuf records of an `Index` (metadata, each document, each external symbol),
/// each with its tag and length prefix. Only length-delimited fields occur at the top level.
fn records(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let start = pos;
        let tag = varint(data, &mut pos);
        assert_eq!(
            tag & 7,
            2,
            "top-level field {} is not length-delimited",
            tag >> 3
        );
        let len = varint(data, &mut pos) as usize;
        pos += len;
        out.push(&data[start..pos]);
    }
    out
}

/// Distinct pieces by content hash, as the chunk store would keep them.
#[derive(Default)]
struct Dedup {
    unique: HashMap<u128, usize>,
    refs: usize,
    compressed: usize,
}

impl Dedup {
    fn add(&mut self, piece: &[u8], compress: bool) {
        self.refs += 1;
        let key = xxhash_rust::xxh3::xxh3_128(piece);
        if self.unique.insert(key, piece.len()).is_none() && compress {
            self.compressed += zstd::bulk::compress(piece, 3).unwrap().len();
        }
    }
    fn unique_bytes(&self) -> usize {
        self.unique.values().sum()
    }
}

fn row(label: &str, d: &Dedup, base: f64) {
    let unique = d.unique_bytes() as f64;
    let meta = (d.refs * REF_BYTES) as f64;
    let comp = if d.compressed > 0 {
        format!("{:.3}", d.compressed as f64 / base)
    } else {
        "-".into()
    };
    println!(
        "| {label} | {} | {} | {:.0} | {:.3} | {:.3} | {comp} |",
        d.refs,
        d.unique.len(),
        3.0 * base / d.refs as f64,
        unique / base,
        (unique + meta) / base,
    );
}

fn main() {
    let versions: Vec<Vec<u8>> = [
        "rxjs-01-be72ebf1a",
        "rxjs-02-7a9407bbe",
        "rxjs-03-c0ccc04b2",
    ]
    .iter()
    .map(|v| load(&format!("{v}.scip.zst")))
    .collect();
    let django = load("django.scip.zst");
    let sizes: Vec<usize> = versions.iter().map(Vec::len).collect();
    let base = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
    println!("rxjs-01..03 sizes {sizes:?}, mean {base:.0} bytes; ratios are unique bytes / mean");
    println!("`+refs` adds {REF_BYTES} bytes per chunk reference; `zstd` = unique chunks each");
    println!("compressed at zstd level 3, / mean (whole file at level 3 for comparison below).\n");
    println!(
        "| unit | refs (3 versions) | unique | mean chunk | unique / version | +refs | zstd |"
    );
    println!("|---|---|---|---|---|---|---|");

    let mut whole = Dedup::default();
    let mut docs = Dedup::default();
    for v in &versions {
        whole.add(v, false);
        records(v).into_iter().for_each(|r| docs.add(r, false));
    }
    row("whole file", &whole, base);
    row("top-level record (document)", &docs, base);

    let mut increments = Vec::new();
    for avg_kib in [2, 4, 8, 16] {
        let avg = avg_kib * 1024;
        let s = ChunkSizes {
            min: avg / 4,
            avg,
            max: avg * 8,
        };
        let gear = GearChunker::new(s).unwrap();
        let rabin = RabinChunker::new(s).unwrap();
        let runs: [(&str, &dyn Chunker); 2] = [("gear", &gear), ("rabin", &rabin)];
        for (name, c) in runs {
            let mut value = Dedup::default();
            let mut per_doc = Dedup::default();
            let mut first_compressed = 0;
            for v in &versions {
                chunks(c, v).for_each(|ch| value.add(ch, name == "gear"));
                if first_compressed == 0 {
                    first_compressed = value.compressed;
                }
                for r in records(v) {
                    chunks(c, r).for_each(|ch| per_doc.add(ch, false));
                }
            }
            row(&format!("{name} {avg_kib} KiB, whole value"), &value, base);
            if name == "gear" {
                increments.push(format!(
                    "| gear {avg_kib} KiB | {:.3} | {:.3} | {:.1}% | {:.1}% |",
                    first_compressed as f64 / sizes[0] as f64,
                    value.compressed as f64 / first_compressed as f64,
                    (value.unique_bytes() as f64 / base - 1.0) * 50.0,
                    (value.compressed as f64 / first_compressed as f64 - 1.0) * 50.0,
                ));
            }
            row(
                &format!("{name} {avg_kib} KiB, per document"),
                &per_doc,
                base,
            );
        }
    }

    let whole_zstd: usize = versions
        .iter()
        .map(|v| zstd::bulk::compress(v, 3).unwrap().len())
        .sum();
    println!("\nCost of each further version (gear, whole value, chunks compressed one by one):\n");
    println!(
        "| chunker | version 1 zstd / raw | 3 versions / version 1 (zstd) | raw growth per version | zstd growth per version |"
    );
    println!("|---|---|---|---|---|");
    increments.iter().for_each(|r| println!("{r}"));
    let first_whole = zstd::bulk::compress(&versions[0], 3).unwrap().len();
    println!(
        "| whole file zstd-3 | {:.3} | 3.000 | 100% | 100% |",
        first_whole as f64 / sizes[0] as f64
    );
    println!(
        "\nthree versions each compressed whole at zstd level 3: {:.3} of one version",
        whole_zstd as f64 / base
    );

    println!(
        "\ndjango ({} bytes, one version): chunks and self-dedup",
        django.len()
    );
    println!("\n| chunker | chunks | mean chunk | unique / size |");
    println!("|---|---|---|---|");
    for avg_kib in [2, 4, 8, 16] {
        let avg = avg_kib * 1024;
        let s = ChunkSizes {
            min: avg / 4,
            avg,
            max: avg * 8,
        };
        let gear = GearChunker::new(s).unwrap();
        let rabin = RabinChunker::new(s).unwrap();
        let runs: [(&str, &dyn Chunker); 2] = [("gear", &gear), ("rabin", &rabin)];
        for (name, c) in runs {
            let mut d = Dedup::default();
            chunks(c, &django).for_each(|ch| d.add(ch, false));
            println!(
                "| {name} {avg_kib} KiB | {} | {:.0} | {:.3} |",
                d.refs,
                django.len() as f64 / d.refs as f64,
                d.unique_bytes() as f64 / django.len() as f64
            );
        }
    }
}
