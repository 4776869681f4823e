//! Regression: with a target table size near the 64 KiB dictionary, every table a
//! dictionary level wrote held its dictionary and one entry (output cuts count the
//! dictionary), so tables multiplied faster than compaction merged them: the crash-loop
//! stress tester (64 KiB tables), once it wrote chunked values, grew its database to 137 MB
//! in 2,380 tables within ten rounds, most of them at L5 and L6 holding a single entry.
//! Dictionaries are now capped at a sixteenth of the table size.

use scipkv_engine::{CompactionOptions, Db, Options, SyncMode, TableOptions};

#[test]
fn small_tables_at_dictionary_levels_hold_many_entries() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        sync: SyncMode::Never,
        memtable_size: 64 << 10,
        table: TableOptions {
            block_size: 1024,
            ..TableOptions::default()
        },
        compaction: CompactionOptions {
            l0_compaction_trigger: 2,
            l1_target_bytes: 128 << 10,
            level_size_ratio: 4,
            target_table_bytes: 64 << 10,
            ..CompactionOptions::default()
        },
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts).unwrap();
    // ~3 MiB of values built from a palette of random blocks: repetitive enough that zstd
    // trains a dictionary of the full 64 KiB on them (as on chunk-store data).
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let palette: Vec<Vec<u8>> = (0..256)
        .map(|_| (0..512).map(|_| b'0' + (next() % 64) as u8).collect())
        .collect();
    let mut raw = 0u64;
    for i in 0..2_000u64 {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.extend_from_slice(&palette[(next() % 256) as usize]);
        }
        raw += v.len() as u64;
        db.put(format!("key{i:08}"), v).unwrap();
    }
    db.compact_all().unwrap();
    let tables = db.tables();
    let deep: Vec<_> = tables.iter().filter(|t| t.level >= 2).collect();
    assert!(
        !deep.is_empty(),
        "the data never reached a dictionary level"
    );
    let on_disk: u64 = tables.iter().map(|t| t.file_size).sum();
    // The last table of each compaction may be small; the mean may not.
    let entries: u64 = deep.iter().map(|t| t.table.properties().num_entries).sum();
    let shape: Vec<_> = deep
        .iter()
        .map(|t| (t.level, t.table.properties().num_entries, t.file_size))
        .collect();
    assert!(
        entries / deep.len() as u64 >= 20,
        "{} tables at dictionary levels hold {entries} entries: (level, entries, bytes) {shape:?}",
        deep.len()
    );
    assert!(
        on_disk < raw * 2,
        "{} tables take {on_disk} bytes for {raw} raw bytes",
        tables.len()
    );
    db.close().unwrap();
}
