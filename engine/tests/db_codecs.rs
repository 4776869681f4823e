//! Per-level codecs: after data has moved through every level, each table's blocks use the
//! codec configured for its level (LZ4 in L0, zstd-3 in L1, zstd-19 with a trained dictionary
//! below), and everything reads back.

use std::collections::BTreeMap;

use scipkv_engine::{CompactionOptions, Db, Options, SyncMode, TableOptions};

const RAW: u8 = 0;
const LZ4: u8 = 1;
const ZSTD: u8 = 2;
const ZSTD_DICT: u8 = 3;

/// Compressible, varied records, like the symbol documents the SCIP layer stores.
fn record(i: u64) -> Vec<u8> {
    format!(
        "{{\"symbol\":\"scip-typescript npm rxjs 8.0.0 src/internal/operators/op{}.ts/op{}().\",\
         \"kind\":{},\"documentation\":[\"Emits values from the source Observable {}\"],\
         \"range\":[{},{},{}]}}",
        i % 97,
        i,
        i % 30,
        i * 7,
        i % 500,
        i % 80,
        i % 90 + 3
    )
    .into_bytes()
}

fn expected_codec(level: usize) -> u8 {
    match level {
        0 => LZ4,
        1 => ZSTD,
        _ => ZSTD_DICT,
    }
}

/// Checks every table's codecs; returns the levels holding tables and how many tables at
/// dictionary levels used a dictionary.
fn check_codecs(db: &Db, when: &str) -> (usize, usize) {
    let mut seen_levels = std::collections::BTreeSet::new();
    let mut with_dictionary = 0;
    for t in db.tables() {
        let codecs = t.table.data_block_codecs().unwrap();
        let want = expected_codec(t.level);
        let last = codecs.len().saturating_sub(1);
        with_dictionary += usize::from(codecs.contains(&ZSTD_DICT));
        for (i, c) in codecs.iter().enumerate() {
            // A block that compresses by less than 12.5% is stored raw; full blocks of this
            // data always compress, only a table's short last block may not. A compaction
            // whose input is too small to train a dictionary on writes plain zstd.
            assert!(
                *c == want || (i == last && *c == RAW) || (want == ZSTD_DICT && *c == ZSTD),
                "{when}: table {} at L{} block {i} uses codec {c}, expected {want} (raw is {RAW})",
                t.number,
                t.level
            );
        }
        seen_levels.insert(t.level);
    }
    (seen_levels.len(), with_dictionary)
}

#[test]
fn each_level_uses_its_codec_and_everything_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            sync: SyncMode::Never,
            // ~9 L0 tables per round (each round is flushed and compacted): below the stop
            // trigger (12), which would hold writes for good with automatic compaction off.
            memtable_size: 96 << 10,
            table: TableOptions {
                block_size: 4096,
                ..TableOptions::default()
            },
            compaction: CompactionOptions {
                l0_compaction_trigger: 3,
                // zstd-19 shrinks this data about sevenfold below L1, so it takes ~4 MB raw
                // to fill L1..L3 and reach L4 with these 32 KiB..128 KiB targets. Tables of 32 KiB allow 2 KiB dictionaries (a
                // dictionary is capped at a sixteenth of the table).
                l1_target_bytes: 32 << 10,
                level_size_ratio: 2,
                target_table_bytes: 32 << 10,
                // Defaults for the codecs: zstd-3 at L1, zstd-19 + dictionary below.
                auto: false,
                ..CompactionOptions::default()
            },
            ..Options::default()
        },
    )
    .unwrap();
    let mut model = BTreeMap::new();
    let mut max_levels = 0;
    let mut dictionary_tables = 0;
    for round in 0..12u64 {
        for i in 0..2400u64 {
            let k = format!("sym/{:06}", (i * 7919 + round * 13) % 20_000).into_bytes();
            let v = record(i + round * 2400);
            db.put(&k, &v).unwrap();
            model.insert(k, v);
        }
        db.flush().unwrap();
        db.compact().unwrap();
        let (levels, dict) = check_codecs(&db, &format!("round {round}"));
        max_levels = max_levels.max(levels);
        dictionary_tables += dict;
    }
    assert!(
        max_levels >= 4,
        "data should have spread over at least 4 levels, saw {max_levels}"
    );
    assert!(
        dictionary_tables > 0,
        "no table at a dictionary level was written with a dictionary"
    );
    db.compact_all().unwrap();
    let (_, dict) = check_codecs(&db, "after compact_all");
    assert!(dict > 0, "compact_all wrote L6 without a dictionary");
    let tables = db.tables();
    assert!(
        tables.iter().all(|t| t.level == 6),
        "compact_all leaves everything in L6"
    );
    let got: BTreeMap<Vec<u8>, Vec<u8>> = db.iter::<&[u8]>(..).map(Result::unwrap).collect();
    assert!(got == model, "data changed on its way down the levels");
    for (k, v) in model.iter().step_by(37) {
        assert_eq!(db.get(k).unwrap().as_ref(), Some(v));
    }
    let s = db.stats();
    let raw: u64 = s.levels.iter().map(|l| l.raw_bytes).sum();
    let disk: u64 = s.levels.iter().map(|l| l.bytes).sum();
    eprintln!(
        "L6: {disk} bytes on disk for {raw} raw bytes ({:.3})",
        disk as f64 / raw as f64
    );
}

/// Writes `n` records with `flush_dictionary` on or off, flushes, and returns each L0
/// table's block codecs and file size, with the open store.
fn flushed(n: u64, flush_dictionary: bool) -> (Vec<(Vec<u8>, u64)>, tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            sync: SyncMode::Never,
            table: TableOptions {
                block_size: 4096,
                codec: scipkv_engine::sstable::Codec::Zstd { level: 3 },
                ..TableOptions::default()
            },
            compaction: CompactionOptions {
                auto: false,
                ..CompactionOptions::default()
            },
            flush_dictionary,
            ..Options::default()
        },
    )
    .unwrap();
    for i in 0..n {
        db.put(i.to_be_bytes(), record(i)).unwrap();
    }
    db.flush().unwrap();
    let tables = db
        .tables()
        .iter()
        .map(|t| {
            assert_eq!(t.level, 0);
            (t.table.data_block_codecs().unwrap(), t.file_size)
        })
        .collect();
    (tables, dir, db)
}

#[test]
fn flush_dictionary_writes_the_l0_table_with_a_trained_dictionary() {
    let n = 20_000;
    let (with, _d1, db) = flushed(n, true);
    let (without, _d2, _) = flushed(n, false);
    assert_eq!((with.len(), without.len()), (1, 1));
    let (codecs, size) = &with[0];
    let last = codecs.len() - 1;
    for (i, c) in codecs.iter().enumerate() {
        assert!(
            *c == ZSTD_DICT || (i == last && *c == RAW),
            "block {i} uses codec {c}"
        );
    }
    assert!(without[0].0.iter().all(|c| *c != ZSTD_DICT));
    assert!(
        *size < without[0].1,
        "with a dictionary {size} B, without {} B",
        without[0].1
    );
    for i in 0..n {
        assert_eq!(db.get(i.to_be_bytes()).unwrap(), Some(record(i)), "key {i}");
    }
    // Too little data to train on: plain zstd, no error.
    let (small, _d3, db) = flushed(20, true);
    assert!(
        small[0].0.iter().all(|c| *c == ZSTD || *c == RAW),
        "{small:?}"
    );
    assert_eq!(db.get(3u64.to_be_bytes()).unwrap(), Some(record(3)));
}
