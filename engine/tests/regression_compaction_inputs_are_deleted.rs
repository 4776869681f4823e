//! A compaction's input tables stayed on disk until the database's next manifest edit (its
//! next flush or compaction): an idle database that had just compacted held its data twice
//! (found by `benches/compare`: 124.5 MB on disk after a fill whose tables held 63 MB). And
//! a background compaction reported itself done while still holding its inputs, so
//! `Db::compact` could return before they were deleted.

use scipkv_engine::version::names::table_name;
use scipkv_engine::{CompactionOptions, Db, Options, SyncMode};

#[test]
fn after_a_compaction_only_live_tables_are_on_disk() {
    only_live_tables_after_compact(false);
}

/// The outcome only: whether the background compaction still holds its inputs when
/// `compact()` returns depends on timing (a standalone fill of 1M keys measured 115 MB on
/// disk before the fix, 63 MB after).
#[test]
fn after_a_background_compaction_only_live_tables_are_on_disk() {
    only_live_tables_after_compact(true);
}

fn only_live_tables_after_compact(auto: bool) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            sync: SyncMode::Never,
            compaction: CompactionOptions {
                auto,
                ..CompactionOptions::default()
            },
            ..Options::default()
        },
    )
    .unwrap();
    for round in 0..6u32 {
        for i in 0..500u32 {
            db.put(format!("{i:05}"), format!("{round}-{i}")).unwrap();
        }
        db.flush().unwrap();
    }
    db.compact().unwrap();
    let mut live: Vec<String> = db.tables().iter().map(|t| table_name(t.number)).collect();
    live.sort();
    let mut on_disk: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sst"))
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, live, "tables on disk besides the live ones");
    assert_eq!(db.get("00042").unwrap(), Some(b"5-42".to_vec()));
}
