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

fn check_codecs(db: &Db, when: &str) -> usize {
    let mut seen_levels = std::collections::BTreeSet::new();
    for t in db.tables() {
        let codecs = t.table.data_block_codecs().unwrap();
        let want = expected_codec(t.level);
        let last = codecs.len().saturating_sub(1);
        for (i, c) in codecs.iter().enumerate() {
            // A block that compresses by less than 12.5% is stored raw; full blocks of this
            // data always compress, only a table's short last block may not.
            assert!(
                *c == want || (i == last && *c == RAW),
                "{when}: table {} at L{} block {i} uses codec {c}, expected {want} (raw is {RAW})",
                t.number,
                t.level
            );
        }
        seen_levels.insert(t.level);
    }
    seen_levels.len()
}

#[test]
fn each_level_uses_its_codec_and_everything_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            sync: SyncMode::Never,
            memtable_size: 64 << 10,
            table: TableOptions {
                block_size: 4096,
                ..TableOptions::default()
            },
            compaction: CompactionOptions {
                l0_compaction_trigger: 3,
                l1_target_bytes: 64 << 10,
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
    for round in 0..12u64 {
        for i in 0..600u64 {
            let k = format!("sym/{:06}", (i * 7919 + round * 13) % 5000).into_bytes();
            let v = record(i + round * 600);
            db.put(&k, &v).unwrap();
            model.insert(k, v);
        }
        db.flush().unwrap();
        db.compact().unwrap();
        max_levels = max_levels.max(check_codecs(&db, &format!("round {round}")));
    }
    assert!(
        max_levels >= 4,
        "data should have spread over at least 4 levels, saw {max_levels}"
    );
    db.compact_all().unwrap();
    check_codecs(&db, "after compact_all");
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
