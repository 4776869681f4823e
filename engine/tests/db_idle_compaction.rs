//! Idle compaction (`CompactionOptions::idle_after`): once writes stop, data left in L0 or in
//! warmer levels moves down to the last level's codec, within a write-amplification bound,
//! and reads answer the same throughout.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::Rng;
use scipkv_engine::{CompactionOptions, Compression, Db, Options, SyncMode, TableOptions};

const REST: Duration = Duration::from_secs(120);

/// Compressible, varied records, like the postings the SCIP layer stores.
fn record(i: u64, round: u64) -> Vec<u8> {
    format!(
        "{{\"symbol\":\"scip-python python django 5.1.4 django/db/models/op{}.py/op{}().\",\
         \"round\":{round},\"range\":[{},{},{}]}}",
        i % 97,
        i,
        i % 500,
        i % 80,
        i % 90 + 3
    )
    .into_bytes()
}

fn key(i: u64) -> Vec<u8> {
    format!("k{i:06}").into_bytes()
}

fn options(idle_after: Option<Duration>, level_compression: Vec<Compression>) -> Options {
    Options {
        sync: SyncMode::Never,
        // Large enough that each fill below is one flush, under L0's compaction trigger.
        memtable_size: 16 << 20,
        table: TableOptions {
            block_size: 4096,
            ..TableOptions::default()
        },
        compaction: CompactionOptions {
            idle_after,
            level_compression,
            ..CompactionOptions::default()
        },
        ..Options::default()
    }
}

fn default_levels() -> Vec<Compression> {
    CompactionOptions::default().level_compression
}

/// zstd-3 down to L5 (moves between them keep the bytes), a dictionary only in L6.
fn cold_only_at_the_bottom() -> Vec<Compression> {
    let mut v = vec![Compression::Zstd { level: 3 }; 5];
    v.push(Compression::ZstdDictionary { level: 3 });
    v
}

fn check_model(db: &Db, model: &BTreeMap<Vec<u8>, Vec<u8>>, when: &str) {
    let got: Vec<(Vec<u8>, Vec<u8>)> = db
        .iter::<&[u8]>(..)
        .map(|kv| kv.unwrap())
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect();
    let want: Vec<(Vec<u8>, Vec<u8>)> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert_eq!(got.len(), want.len(), "{when}: number of keys");
    assert!(got == want, "{when}: scan differs from the model");
    for (k, v) in model.iter().step_by(7) {
        assert_eq!(
            db.get(k).unwrap().as_deref(),
            Some(v.as_slice()),
            "{when}: get"
        );
    }
}

fn levels(db: &Db) -> Vec<usize> {
    db.tables().iter().map(|t| t.level).collect()
}

fn table_bytes(db: &Db) -> u64 {
    db.tables().iter().map(|t| t.file_size).sum()
}

/// Writes `n` records (seeded overwrites and deletes among them), flushed, into `model`.
fn fill(db: &Db, model: &mut BTreeMap<Vec<u8>, Vec<u8>>, rng: &mut Rng, n: u64, round: u64) {
    for i in 0..n {
        let k = key(rng.below(n * 2));
        if rng.chance(5) {
            db.delete(&k).unwrap();
            model.remove(&k);
        } else {
            let v = record(i, round);
            db.put(&k, &v).unwrap();
            model.insert(k, v);
        }
    }
    db.flush().unwrap();
}

#[test]
fn a_store_whose_writes_stopped_moves_to_the_cold_codec_and_shrinks() {
    let seed = common::seed("a_store_whose_writes_stopped_moves_to_the_cold_codec_and_shrinks");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut model = BTreeMap::new();

    // Written with idle compaction off: the flushes stay in L0, under its trigger.
    let db = Db::open(dir.path(), options(None, default_levels())).unwrap();
    fill(&db, &mut model, &mut rng, 12_000, 0);
    assert!(
        db.wait_for_rest(REST).unwrap(),
        "no rest with idle compaction off"
    );
    assert!(levels(&db).iter().all(|l| *l == 0), "{:?}", levels(&db));
    let hot = table_bytes(&db);
    check_model(&db, &model, "written");
    db.close().unwrap();

    // Reopened with it on: nothing is written, and the quiet period passes.
    let quiet = options(Some(Duration::from_millis(20)), default_levels());
    let db = Db::open(dir.path(), quiet.clone()).unwrap();
    assert!(
        db.wait_for_rest(REST).unwrap(),
        "not at rest after {REST:?}"
    );
    let at_rest = levels(&db);
    assert!(
        !at_rest.is_empty() && at_rest.iter().all(|l| *l == 2),
        "tables should sit in L2, the first level with the last level's codec: {at_rest:?}"
    );
    assert!(db.stats().idle_compactions >= 2, "L0 -> L1 -> L2");
    let cold = table_bytes(&db);
    assert!(
        cold * 10 < hot * 9,
        "the cold codec should save over 10%: {hot} bytes before, {cold} after"
    );
    check_model(&db, &model, "at rest");

    // More writes after rest: they reach L2 as well, merged with what is there.
    fill(&db, &mut model, &mut rng, 3_000, 1);
    assert!(db.wait_for_rest(REST).unwrap());
    assert!(levels(&db).iter().all(|l| *l == 2), "{:?}", levels(&db));
    check_model(&db, &model, "second rest");
    db.close().unwrap();

    let db = Db::open(dir.path(), quiet).unwrap();
    check_model(&db, &model, "reopened");
}

#[test]
fn idle_compaction_never_rewrites_a_deep_level_for_a_little_data() {
    let seed = common::seed("idle_compaction_never_rewrites_a_deep_level_for_a_little_data");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut model = BTreeMap::new();

    let db = Db::open(dir.path(), options(None, cold_only_at_the_bottom())).unwrap();
    fill(&db, &mut model, &mut rng, 20_000, 0);
    db.compact_all().unwrap();
    assert!(levels(&db).iter().all(|l| *l == 6));
    let bottom: Vec<u64> = db.tables().iter().map(|t| t.number).collect();
    db.close().unwrap();

    let db = Db::open(
        dir.path(),
        options(Some(Duration::from_millis(20)), cold_only_at_the_bottom()),
    )
    .unwrap();
    // Two keys spanning the whole key range: any move into L6 would rewrite all of it.
    for k in [b"k".to_vec(), b"k999999z".to_vec()] {
        db.put(&k, b"edge").unwrap();
        model.insert(k, b"edge".to_vec());
    }
    db.flush().unwrap();
    assert!(db.wait_for_rest(REST).unwrap());
    let small: Vec<_> = db.tables().into_iter().filter(|t| t.level != 6).collect();
    assert_eq!(
        small.len(),
        1,
        "the small table stays above L6: {:?}",
        levels(&db)
    );
    assert!(
        (1..6).contains(&small[0].level),
        "it leaves L0 but not for L6: L{}",
        small[0].level
    );
    let still: Vec<u64> = db
        .tables()
        .iter()
        .filter(|t| t.level == 6)
        .map(|t| t.number)
        .collect();
    assert_eq!(still, bottom, "L6 must not have been rewritten");
    check_model(&db, &model, "small table at rest");

    // A fifth of the data again, over the same range: worth merging into L6.
    fill(&db, &mut model, &mut rng, 4_000, 1);
    assert!(db.wait_for_rest(REST).unwrap());
    assert!(
        levels(&db).iter().all(|l| *l == 6),
        "everything should be in L6: {:?}",
        levels(&db)
    );
    check_model(&db, &model, "merged into L6");
}

/// Returns as soon as the first idle compaction has been picked, so a test can act while it
/// runs. Not a wait for a state to settle: it polls for an event, bounded by [`REST`].
fn until_idle_work_starts(db: &Db) {
    let deadline = std::time::Instant::now() + REST;
    while db.stats().idle_compactions == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "idle compaction never started"
        );
        std::thread::yield_now();
    }
}

/// A store of 2,000 records in one L0 table, with idle compaction after `idle_after`.
fn small_store(dir: &std::path::Path, idle_after: Duration) -> Db {
    let db = Db::open(dir, options(Some(idle_after), default_levels())).unwrap();
    fill(&db, &mut BTreeMap::new(), &mut Rng::new(1), 2_000, 0);
    db
}

#[test]
fn nothing_moves_before_the_quiet_period_ends() {
    let dir = tempfile::tempdir().unwrap();
    let db = small_store(dir.path(), Duration::from_secs(3600));
    // The failure this looks for is a move, which would happen within milliseconds.
    assert!(!db.wait_for_rest(Duration::from_millis(300)).unwrap());
    assert_eq!(levels(&db), vec![0]);
    assert_eq!(db.stats().idle_compactions, 0);
}

#[test]
fn waiting_for_rest_without_background_compaction_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = options(Some(Duration::from_millis(1)), default_levels());
    o.compaction.auto = false;
    let db = Db::open(dir.path(), o).unwrap();
    assert!(db.wait_for_rest(Duration::from_secs(1)).is_err());
}

#[test]
fn idle_compaction_gives_way_when_l0_needs_compacting() {
    let seed = common::seed("idle_compaction_gives_way_when_l0_needs_compacting");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut model = BTreeMap::new();
    let trigger_at_2 = |idle_after| {
        let mut o = options(idle_after, default_levels());
        o.compaction.l0_compaction_trigger = 2;
        o
    };
    let db = Db::open(dir.path(), trigger_at_2(None)).unwrap();
    // Enough entries that the idle compactions (L0 -> L1, then L1 -> L2 with zstd-19) run
    // for seconds, while the two flushes below take milliseconds.
    fill(&db, &mut model, &mut rng, 100_000, 0);
    db.close().unwrap();

    let db = Db::open(dir.path(), trigger_at_2(Some(Duration::from_millis(20)))).unwrap();
    // The flushes have to land while idle work runs.
    until_idle_work_starts(&db);
    // Two more L0 tables: L0 is at its trigger whichever idle step is running.
    for k in [b"k".to_vec(), b"k999999z".to_vec()] {
        db.put(&k, b"late").unwrap();
        model.insert(k, b"late".to_vec());
        db.flush().unwrap();
    }
    assert!(db.wait_for_rest(REST).unwrap());
    let s = db.stats();
    assert!(
        s.compactions_abandoned >= 1,
        "the running idle compaction should have given way: {s:?}"
    );
    assert_eq!(s.compaction_errors, 0);
    assert!(levels(&db).iter().all(|l| *l == 2), "{:?}", levels(&db));
    check_model(&db, &model, "after giving way and resting");
}

/// A burst of writes (a megabyte of WAL, all still in the memtable, so no level needs
/// compaction) makes a running idle compaction give up: its zstd-19 rewrite would share the
/// cores with the writes. Once writes stop again, idle work resumes and finishes.
#[test]
fn idle_compaction_gives_way_to_a_burst_of_writes() {
    let seed = common::seed("idle_compaction_gives_way_to_a_burst_of_writes");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut model = BTreeMap::new();
    // zstd-19 already at L1, so the first idle step (L0 -> L1) runs for seconds while the
    // burst below takes milliseconds: the burst lands during it.
    let levels_19 = || {
        vec![
            Compression::Zstd { level: 3 },
            Compression::Zstd { level: 19 },
            Compression::ZstdDictionary { level: 19 },
        ]
    };
    let db = Db::open(dir.path(), options(None, levels_19())).unwrap();
    fill(&db, &mut model, &mut rng, 100_000, 0);
    db.close().unwrap();

    let db = Db::open(
        dir.path(),
        options(Some(Duration::from_millis(20)), levels_19()),
    )
    .unwrap();
    // The burst has to land while idle work runs.
    until_idle_work_starts(&db);
    let wal_before = db.stats().wal_bytes;
    for i in 0..20_000u64 {
        let k = format!("burst{i:06}").into_bytes();
        let v = record(i, 1);
        db.put(&k, &v).unwrap();
        model.insert(k, v);
    }
    assert!(
        db.stats().wal_bytes - wal_before > 1 << 20,
        "the burst is over 1 MiB"
    );
    assert!(db.wait_for_rest(REST).unwrap());
    let s = db.stats();
    assert!(
        s.compactions_abandoned >= 1,
        "the running idle compaction should have given way to the burst: {s:?}"
    );
    assert_eq!(s.compaction_errors, 0);
    // Out of L0 and L1 (zstd-19 without a dictionary) into the dictionary levels.
    assert!(levels(&db).iter().all(|l| *l >= 2), "{:?}", levels(&db));
    check_model(&db, &model, "after giving way to writes and resting");
}

#[test]
fn writes_that_stay_in_the_memtable_leave_the_store_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let db = small_store(dir.path(), Duration::from_millis(20));
    assert!(db.wait_for_rest(REST).unwrap());
    let rested = db.stats().idle_compactions;
    db.put(b"k", b"memtable only").unwrap();
    // Nothing for compaction to do: answered at once, not after the timeout.
    assert!(db.wait_for_rest(REST).unwrap());
    assert_eq!(db.stats().idle_compactions, rested);
}

#[test]
fn a_zero_quiet_period_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let o = options(Some(Duration::ZERO), default_levels());
    assert!(matches!(
        Db::open(dir.path(), o),
        Err(scipkv_engine::Error::InvalidArgument(_))
    ));
}
