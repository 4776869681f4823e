//! Writes the committed seed corpus, fuzz/corpus/<target>/, from the engine's real encoders.
//!
//! Run once after a format change (from fuzz/): `cargo run --example make_corpus`. Files are
//! named by content so re-running is idempotent; it does not delete stale seeds, remove the
//! corpus directory first for a clean regeneration.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use scipkv_engine::WriteBatch;
use scipkv_engine::checksum::xxh3;
use scipkv_engine::key::make_internal_key;
use scipkv_engine::log::LogKind;
use scipkv_engine::log::LogWriter;
use scipkv_engine::log::format::file_header;
use scipkv_engine::scip::proto::{
    Diagnostic, Document, Metadata, Occurrence, Relationship, SymbolInformation, ToolInfo,
};
use scipkv_engine::scip::{encode_index, format_symbol, parse_symbol};
use scipkv_engine::sstable::{Codec, TableOptions};
use scipkv_engine::version::current::current_contents;
use scipkv_engine::version::edit::{TableMeta, VersionEdit};
use scipkv_engine::version::names::manifest_name;
use scipkv_fuzz::{build_table, prefix_block, simple_block};
use scipkv_server::resp::{Protocol, Value, encode};

struct Corpus {
    root: PathBuf,
    total: usize,
}

impl Corpus {
    fn add(&mut self, target: &str, bytes: &[u8]) {
        assert!(
            bytes.len() < 64 * 1024,
            "{target} seed of {} bytes",
            bytes.len()
        );
        let dir = self.root.join(target);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(format!("{:016x}", xxh3(bytes))), bytes).unwrap();
        self.total += bytes.len();
    }
}

/// A tiny deterministic generator for byte-program seeds.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u8 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 24) as u8
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next()).collect()
    }
}

fn batches() -> Vec<(u64, WriteBatch)> {
    let mut out = Vec::new();
    let mut b = WriteBatch::new();
    b.put(b"k1", b"v1");
    out.push((1, b.clone()));
    b.delete(b"k0");
    b.put(b"", b"empty key");
    b.put(b"doc/src/main.rs", vec![7u8; 300]);
    out.push((1000, b));
    let mut d = WriteBatch::new();
    d.delete(b"gone");
    out.push(((1 << 56) - 1, d));
    out.push((5, WriteBatch::new()));
    out
}

fn payload(first_seq: u64, b: &WriteBatch) -> Vec<u8> {
    let mut p = Vec::new();
    b.encode_payload(first_seq, &mut p);
    p
}

fn edits() -> Vec<VersionEdit> {
    let table = |n: u64, lo: &[u8], hi: &[u8]| TableMeta {
        number: n,
        file_size: 4096 * n,
        smallest: make_internal_key(lo, 10, 1),
        largest: make_internal_key(hi, 3, 0),
        smallest_seq: 3,
        largest_seq: 10,
        num_entries: 42,
    };
    vec![
        VersionEdit {
            log_number: Some(4),
            next_file_number: Some(9),
            last_seqno: Some(1234),
            ..VersionEdit::default()
        },
        VersionEdit {
            new_tables: vec![(0, table(7, b"a", b"m")), (1, table(8, b"n", b"z"))],
            deleted_tables: vec![(0, 5), (0, 6)],
            last_seqno: Some(99),
            ..VersionEdit::default()
        },
        VersionEdit {
            deleted_tables: vec![(15, u64::MAX)],
            ..VersionEdit::default()
        },
    ]
}

fn encode_edit(e: &VersionEdit) -> Vec<u8> {
    let mut out = Vec::new();
    e.encode(&mut out);
    out
}

fn log(kind: LogKind, records: &[Vec<u8>]) -> Vec<u8> {
    let mut f = file_header(kind).to_vec();
    for r in records {
        LogWriter::encode_record(&mut f, r).unwrap();
    }
    f
}

fn wal_log(c: &mut Corpus) {
    let wal: Vec<Vec<u8>> = batches().iter().map(|(s, b)| payload(*s, b)).collect();
    let man: Vec<Vec<u8>> = edits().iter().map(encode_edit).collect();
    for (flag, kind, recs) in [(0u8, LogKind::Wal, &wal), (1, LogKind::Manifest, &man)] {
        let full = log(kind, recs);
        let with_flag = |b: &[u8]| [&[flag][..], b].concat();
        c.add("wal_log", &with_flag(&full));
        c.add("wal_log", &with_flag(&log(kind, &recs[..1])));
        c.add("wal_log", &with_flag(&file_header(kind)));
        // Torn tail: the last record cut short; and a zero-filled tail.
        c.add("wal_log", &with_flag(&full[..full.len() - 5]));
        let mut zeros = full.clone();
        zeros.extend_from_slice(&[0; 40]);
        c.add("wal_log", &with_flag(&zeros));
    }
    // A torn header.
    c.add("wal_log", &[0, b'S', b'C', b'I', b'P']);
}

fn wal_batch(c: &mut Corpus) {
    for (s, b) in batches() {
        c.add("wal_batch", &payload(s, &b));
    }
}

fn manifest_edit(c: &mut Corpus) {
    for e in edits() {
        c.add("manifest_edit", &encode_edit(&e));
    }
}

fn current_file(c: &mut Corpus) {
    for n in [1, 42, 999_999] {
        c.add(
            "current_file",
            current_contents(&manifest_name(n)).as_bytes(),
        );
    }
}

fn entries(keys: &[(&[u8], u64, u8, &[u8])]) -> Vec<(Vec<u8>, Vec<u8>)> {
    keys.iter()
        .map(|(k, s, kind, v)| (make_internal_key(k, *s, *kind), v.to_vec()))
        .collect()
}

fn sample_entries() -> Vec<(Vec<u8>, Vec<u8>)> {
    entries(&[
        (b"apple", 9, 1, b"red"),
        (b"apple", 4, 0, b""),
        (b"apricot", 7, 1, b"orange"),
        (b"banana", 3, 1, b"yellow"),
        (b"band", 12, 1, b"music"),
        (b"bandana", 2, 1, b"cloth"),
        (b"cherry", 5, 0, b""),
    ])
}

fn sstable_block(c: &mut Corpus) {
    let e = sample_entries();
    // Data blocks (flag 0) with several restart intervals; an index-like block (flag 1).
    for interval in [1, 2, 16] {
        c.add(
            "sstable_block",
            &[&[0u8][..], &prefix_block(&e, interval)].concat(),
        );
    }
    let mut handle = Vec::new();
    scipkv_engine::coding::put_varint(&mut handle, 0);
    scipkv_engine::coding::put_varint(&mut handle, 60);
    let index = simple_block(&[(make_internal_key(&[0xff; 4], 0, 0), handle)]);
    c.add("sstable_block", &[&[1u8][..], &index].concat());
}

fn sstable_table(c: &mut Corpus) {
    let e = sample_entries();
    let opts = |block_size, bloom, codec| TableOptions {
        block_size,
        restart_interval: 2,
        bloom_bits_per_key: bloom,
        codec,
        ..TableOptions::default()
    };
    c.add(
        "sstable_table",
        &build_table(&e, opts(4096, 10, Codec::None)),
    );
    c.add("sstable_table", &build_table(&e, opts(32, 0, Codec::None)));
    c.add("sstable_table", &build_table(&e, opts(64, 10, Codec::Lz4)));
    c.add(
        "sstable_table",
        &build_table(&e, opts(64, 6, Codec::Zstd { level: 1 })),
    );
    c.add(
        "sstable_table",
        &build_table(&e[..1], opts(4096, 10, Codec::None)),
    );
}

fn structured(c: &mut Corpus, rng: &mut Rng) {
    // Options bytes, entry count, entries, then damage (offset, xor) pairs.
    c.add(
        "sstable_table_structured",
        &[10, 2, 10, 0, 3, 3, b'a', b'b', b'c', 1, 0, 0, 0, 1, 5],
    );
    for n in [24, 64, 200] {
        c.add("sstable_table_structured", &rng.bytes(n));
    }
}

fn scip_index() -> (Vec<u8>, Vec<u8>) {
    let meta = Metadata {
        version: 0,
        tool_info: Some(ToolInfo {
            name: "scip-fuzz".into(),
            version: "0.1".into(),
            arguments: vec!["--seed".into()],
        }),
        project_root: "file:///src/project".into(),
        text_document_encoding: 1,
    };
    let sym = "scip-python python django 4.2 django/db/models/query/QuerySet#filter().";
    let doc = Document {
        relative_path: "src/query.py".into(),
        language: "python".into(),
        occurrences: vec![
            Occurrence {
                range: vec![3, 4, 10],
                symbol: sym.into(),
                symbol_roles: 1,
                enclosing_range: vec![3, 0, 9, 1],
                diagnostics: vec![Diagnostic {
                    severity: 2,
                    code: "W1".into(),
                    message: "unused".into(),
                    source: "lint".into(),
                    tags: vec![1],
                }],
                ..Occurrence::default()
            },
            Occurrence {
                range: vec![12, 2, 14, 8],
                symbol: "local 3".into(),
                ..Occurrence::default()
            },
        ],
        symbols: vec![SymbolInformation {
            symbol: sym.into(),
            documentation: vec!["Filters a queryset.".into()],
            relationships: vec![Relationship {
                symbol: "scip-python python django 4.2 django/db/models/query/BaseQuerySet#".into(),
                is_implementation: true,
                ..Relationship::default()
            }],
            kind: 26,
            display_name: "filter".into(),
            ..SymbolInformation::default()
        }],
        position_encoding: 1,
        ..Document::default()
    };
    let ext = SymbolInformation {
        symbol: "scip-python python builtins 3.11 builtins/str#".into(),
        display_name: "str".into(),
        ..SymbolInformation::default()
    };
    (
        encode_index(&meta, &[doc.clone()], &[ext]),
        encode_index(&meta, &[doc], &[]),
    )
}

fn scip_reader(c: &mut Corpus) {
    let (full, small) = scip_index();
    c.add("scip_reader", &full);
    c.add("scip_reader", &small);
    c.add("scip_reader", &zstd::encode_all(&full[..], 3).unwrap());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&full).unwrap();
    c.add("scip_reader", &gz.finish().unwrap());
    // An unknown field (number 9, varint) before the metadata: must be skipped.
    c.add("scip_reader", &[&[9 << 3, 1][..], &small].concat());
}

/// The documents of the reader's seed index, as the bytes ingest decodes, plus the wire
/// forms prost accepts that encoders rarely produce: an unpacked range split over two
/// fields, an unknown group, a repeated path (the last wins).
fn scip_docview(c: &mut Corpus) {
    let (full, _) = scip_index();
    let mut r = scipkv_engine::scip::IndexReader::new(&full[..]).unwrap();
    while let Some(item) = r.next_raw().unwrap() {
        if let scipkv_engine::scip::RawItem::Document { payload, .. } = item {
            c.add("scip_docview", payload);
        }
    }
    let occurrence = [
        &[1 << 3 | 2, 2, 3, 4][..],
        &[1 << 3, 9],
        &[2 << 3 | 2, 7],
        b"local 1",
        &[9 << 3 | 3, 1 << 3, 1, 9 << 3 | 4],
    ]
    .concat();
    let mut doc = vec![1 << 3 | 2, 4];
    doc.extend_from_slice(b"x.py");
    doc.extend_from_slice(&[2 << 3 | 2, occurrence.len() as u8]);
    doc.extend_from_slice(&occurrence);
    doc.extend_from_slice(&[1 << 3 | 2, 4]);
    doc.extend_from_slice(b"y.py");
    c.add("scip_docview", &doc);
}

fn scip_symbol(c: &mut Corpus) {
    for s in [
        "local 42",
        "scip-typescript npm rxjs 7.8.1 src/`Observable.ts`/Observable#subscribe().",
        "scip-python python django 4.2 django/db/models/query/QuerySet#filter().",
        "rust-analyzer cargo serde 1.0.197 de/Deserialize#deserialize().",
        "scip-java maven com.google.guava:guava 32.1 com/google/common/collect/ImmutableList#of(+1).",
        "scip-go gomod github.com/sourcegraph/scip v0.3.1 `github.com/sourcegraph/scip/bindings/go/scip`/Index#Documents.",
        "rust-analyzer cargo std . io/Read#[T](buf)",
        "scip-ruby gem . . Kernel#puts().",
        "scip-clang cxx . . $meta: std/println!",
        "my  scheme cargo `a``b` 1.0 x/",
    ] {
        if let Ok(sym) = parse_symbol(s) {
            c.add("scip_symbol", s.as_bytes());
            let canon = format_symbol(&sym);
            if canon != s {
                c.add("scip_symbol", canon.as_bytes());
            }
        }
    }
}

fn resp_request(c: &mut Corpus) {
    for r in [
        &b"*1\r\n$4\r\nPING\r\n"[..],
        b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
        b"PING\r\nGET key\r\n",
        b"SET \"quoted key\" 'v\\x41'\r\n",
        b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*0\r\n\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n",
        b"*3\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$0\r\n\r\n",
    ] {
        c.add("resp_request", r);
    }
}

fn http_params(c: &mut Corpus) {
    for q in [
        "path=src%2Fa.ts&line=10&character=4",
        "path=a&line=1&character=2&includeDeclaration=true",
        "query=Observ&limit=20",
        "symbol=scip-python+python+django+5.1.4+django%2Fdb%2Fmodels%2FQuerySet%23filter().",
        "symbol=x&project=p&version=latest",
        "path=%E2%9C%93&line=4294967295&character=0",
        "line=-1&&=&%zz&limit=1001",
    ] {
        c.add("http_params", q.as_bytes());
    }
}

fn resp_reply(c: &mut Corpus) {
    let values = [
        Value::ok(),
        Value::Error("ERR unknown command".into()),
        Value::Integer(-42),
        Value::bulk(&b"hello\r\nworld"[..]),
        Value::Null,
        Value::NullArray,
        Value::Array(vec![
            Value::Integer(1),
            Value::Array(vec![Value::bulk("x")]),
        ]),
        Value::Map(vec![(Value::bulk("k"), Value::Double(1.5))]),
        Value::Set(vec![Value::Boolean(true), Value::Boolean(false)]),
        Value::Double(f64::INFINITY),
        Value::Verbatim {
            format: *b"txt",
            text: "some text".into(),
        },
        Value::BigNumber("-123456789012345678901234567890".into()),
    ];
    for v in &values {
        for proto in [Protocol::Resp2, Protocol::Resp3] {
            let mut out = Vec::new();
            encode(v, proto, &mut out);
            c.add("resp_reply", &out);
        }
    }
}

fn db_ops(c: &mut Corpus, rng: &mut Rng) {
    // setup, then opcodes (see fuzz_targets/db_ops.rs): puts, a big value, flush, get,
    // snapshot, delete, snapshot read, reopen, range, prefix scan.
    c.add(
        "db_ops",
        &[
            0, 0, 5, 9, 1, 6, 16, 0, 9, 0, 4, 5, 6, 2, 5, 7, 0, 0, 5, 10, 5, 0, 2, 0, 1, 11, 1,
        ],
    );
    // A batch-heavy program, and pseudo-random ones.
    c.add(
        "db_ops",
        &[
            3, 3, 7, 5, 0, 6, 9, 1, 21, 0, 0, 0, 4, 5, 1, 1, 8, 5, 7, 9, 10,
        ],
    );
    for n in [64, 256, 600] {
        let mut p = rng.bytes(n);
        p[0] = n as u8;
        c.add("db_ops", &p);
    }
    // Setup bit 3: the fault mode (fuzz_targets/db_ops_faults.rs). Storage seed (2 bytes),
    // countdown (2), fault flags, then writes (op 0), reads (3), scans (5), flushes (6) and
    // a reopen (7); the countdown fires part way, then the power fails.
    for (countdown, flags) in [(3u8, 0b0_0001u8), (12, 0b1_1010), (40, 0b0_1101)] {
        let mut p = vec![8, countdown, 1, countdown, 0, flags];
        for i in 0..40u8 {
            p.extend_from_slice(match i % 8 {
                0..=3 => &[0, 1, 0x41, 9][..],
                4 => &[3, 0x41],
                5 => &[5],
                6 => &[6],
                _ => &[7],
            });
        }
        p.push(0b111);
        c.add("db_ops", &p);
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut c = Corpus { root, total: 0 };
    let mut rng = Rng(0x5eed_c0de_1234_5678);
    wal_log(&mut c);
    wal_batch(&mut c);
    manifest_edit(&mut c);
    current_file(&mut c);
    sstable_block(&mut c);
    sstable_table(&mut c);
    structured(&mut c, &mut rng);
    scip_reader(&mut c);
    scip_docview(&mut c);
    scip_symbol(&mut c);
    resp_request(&mut c);
    resp_reply(&mut c);
    http_params(&mut c);
    db_ops(&mut c, &mut rng);
    for seed in scipkv_engine::storage::volume::fuzzing::seeds() {
        c.add("volume_open", &seed);
    }
    println!(
        "wrote {} bytes of seeds under {}",
        c.total,
        c.root.display()
    );
}
