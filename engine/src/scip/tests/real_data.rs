//! The real indexes in `<shared>/scip` (see its README): counts, validation, symbol round
//! trips and streaming memory, on exactly what scip-python and scip-typescript emit.
//!
//! Run with `SCIPKV_SHARED=/work/shared` when the worktree is not next to `shared/`; a missing
//! file fails the test (see [`scip_file`]).

use std::collections::HashSet;
use std::fs::File;
use std::time::Instant;

use crate::scip::compression::Compression;
use crate::scip::testdata::scip_file;
use crate::scip::{
    DuplicateCheck, IndexItem, IndexReader, SymbolInformation, format_symbol, parse_symbol,
    validate_document,
};

struct Expected {
    file: &'static str,
    documents: usize,
    occurrences: usize,
    raw_size: u64,
    tool: &'static str,
}

fn collect_symbols(info: &SymbolInformation, out: &mut HashSet<String>) {
    out.insert(info.symbol.clone());
    for rel in &info.relationships {
        out.insert(rel.symbol.clone());
    }
    if !info.enclosing_symbol.is_empty() {
        out.insert(info.enclosing_symbol.clone());
    }
}

fn check(e: Expected) {
    let path = scip_file(e.file);
    let compressed_size = std::fs::metadata(&path).unwrap().len();
    let started = Instant::now();
    let mut reader = IndexReader::new(File::open(&path).unwrap()).unwrap();
    assert_eq!(reader.compression(), Compression::Zstd);
    let (mut docs, mut occs, mut metadata) = (0, 0, 0);
    let mut paths = DuplicateCheck::new();
    let mut symbols = HashSet::new();
    while let Some(item) = reader.next_item().unwrap() {
        match item {
            IndexItem::Metadata(m) => {
                metadata += 1;
                assert_eq!(m.tool_info.unwrap().name, e.tool);
            }
            IndexItem::Document(doc) => {
                docs += 1;
                occs += doc.occurrences.len();
                validate_document(&doc).unwrap();
                paths.check(&doc.relative_path).unwrap();
                for occ in &doc.occurrences {
                    symbols.insert(occ.symbol.clone());
                }
                for info in &doc.symbols {
                    collect_symbols(info, &mut symbols);
                }
            }
            IndexItem::ExternalSymbol(info) => collect_symbols(&info, &mut symbols),
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(metadata, 1, "{}: metadata items", e.file);
    assert_eq!(docs, e.documents, "{}: documents", e.file);
    assert_eq!(occs, e.occurrences, "{}: occurrences", e.file);
    assert_eq!(
        reader.decompressed_offset(),
        e.raw_size,
        "{}: raw size",
        e.file
    );
    assert_eq!(
        reader.bytes_read(),
        compressed_size,
        "{}: compressed size",
        e.file
    );
    // Streaming: the largest buffered item is a small fraction of the index.
    assert!(
        (reader.max_item_bytes() as u64) * 10 < e.raw_size,
        "{}: largest item {} bytes of {}",
        e.file,
        reader.max_item_bytes(),
        e.raw_size
    );
    let mut locals = 0;
    for s in &symbols {
        let sym = parse_symbol(s).unwrap_or_else(|err| panic!("{}: {s:?}: {err}", e.file));
        assert_eq!(&format_symbol(&sym), s, "{}: round trip", e.file);
        locals += usize::from(sym.is_local());
    }
    assert!(locals > 0, "{}: the index has local symbols", e.file);
    println!(
        "{}: {docs} documents, {occs} occurrences, {} distinct symbols ({locals} local), \
         largest item {} bytes, decoded+validated+parsed in {elapsed:?} ({:.1} MB/s raw)",
        e.file,
        symbols.len(),
        reader.max_item_bytes(),
        e.raw_size as f64 / 1e6 / elapsed.as_secs_f64()
    );
}

#[test]
fn real_django_index() {
    check(Expected {
        file: "django.scip.zst",
        documents: 879,
        occurrences: 207_919,
        raw_size: 23_307_522,
        tool: "scip-python",
    });
}

#[test]
fn real_rxjs_index() {
    check(Expected {
        file: "rxjs.scip.zst",
        documents: 534,
        occurrences: 499_329,
        raw_size: 38_311_456,
        tool: "scip-typescript",
    });
}

#[test]
fn real_rxjs_01_index() {
    check(Expected {
        file: "rxjs-01-be72ebf1a.scip.zst",
        documents: 231,
        occurrences: 152_082,
        raw_size: 12_250_490,
        tool: "scip-typescript",
    });
}

#[test]
fn real_rxjs_02_index() {
    check(Expected {
        file: "rxjs-02-7a9407bbe.scip.zst",
        documents: 231,
        occurrences: 158_098,
        raw_size: 12_770_143,
        tool: "scip-typescript",
    });
}

#[test]
fn real_rxjs_03_index() {
    check(Expected {
        file: "rxjs-03-c0ccc04b2.scip.zst",
        documents: 231,
        occurrences: 158_455,
        raw_size: 12_801_842,
        tool: "scip-typescript",
    });
}
