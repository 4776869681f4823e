//! The model test's body, shared by `db_model` (default read path) and `read_path_model`
//! (every read path): random operations against the engine and a `BTreeMap`, with tiny
//! memtables and level sizes so that many tables exist and background compaction runs all
//! the time through every level, plus forced full compactions and reopens in between.
//! Some puts expire: a manual clock moves forward at random, and every read must treat an
//! expired key exactly as deleted (never resurfacing an older version), across flushes,
//! compactions (which turn expired values into tombstones) and reopens.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;

use crate::common::Rng;
use scipkv_engine::{
    Clock, CompactionOptions, Compression, Db, ManualClock, Options, ReadPath, SyncMode,
    TableOptions, WriteBatch,
};

/// What the user sees: key -> value.
type Model = BTreeMap<Vec<u8>, Vec<u8>>;
/// What was written: key -> (value, expiry in unix ms).
type Stored = BTreeMap<Vec<u8>, (Vec<u8>, Option<u64>)>;

/// The entries of `m` still alive at `now`.
fn live(m: &Stored, now: u64) -> Model {
    m.iter()
        .filter(|(_, (_, t))| t.is_none_or(|t| now < t))
        .map(|(k, (v, _))| (k.clone(), v.clone()))
        .collect()
}

/// An expiry near `now`: some already passed, most a few clock steps away.
fn random_expiry(rng: &mut Rng, now: u64) -> u64 {
    (now + rng.below(400)).saturating_sub(20)
}

pub fn options(read_path: ReadPath, block_cache_bytes: usize, clock: &ManualClock) -> Options {
    Options {
        clock: std::sync::Arc::new(clock.clone()),
        read_path,
        block_cache_bytes,
        sync: SyncMode::Never,
        memtable_size: 4096,
        table: TableOptions {
            block_size: 256,
            ..TableOptions::default()
        },
        compaction: CompactionOptions {
            l0_compaction_trigger: 2,
            l0_slowdown_trigger: 6,
            l0_stop_trigger: 10,
            l1_target_bytes: 8 << 10,
            level_size_ratio: 2,
            target_table_bytes: 4 << 10,
            // Every codec path, at cheap levels: zstd-19 is covered by the codec test, and
            // here compaction runs thousands of times.
            level_compression: vec![
                Compression::Lz4,
                Compression::Zstd { level: 1 },
                Compression::ZstdDictionary { level: 1 },
            ],
            // Idle compaction in every pause between steps, checked against the model too.
            idle_after: Some(std::time::Duration::from_millis(1)),
            ..CompactionOptions::default()
        },
        ..Options::default()
    }
}

fn random_key(rng: &mut Rng) -> Vec<u8> {
    // A small key space with shared prefixes, so overwrites, deletes and prefix scans meet.
    let n = rng.below(300);
    let mut k = format!("key/{:02}/{}", n % 17, n).into_bytes();
    if rng.chance(5) {
        k.clear(); // the empty key is a valid key
    }
    k
}

fn random_value(rng: &mut Rng) -> Vec<u8> {
    let len = match rng.below(10) {
        0 => 0,
        1 => 2000 + rng.below(3000) as usize,
        _ => rng.below(40) as usize,
    };
    rng.bytes(len)
}

fn model_range(m: &Model, lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>) -> Vec<(Vec<u8>, Vec<u8>)> {
    use std::ops::RangeBounds;
    // Filtered rather than `BTreeMap::range`, which panics when the start exceeds the end
    // (the engine must return nothing there).
    let r = (lo.clone(), hi.clone());
    m.iter()
        .filter(|(k, _)| r.contains(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn random_bound(rng: &mut Rng) -> Bound<Vec<u8>> {
    match rng.below(3) {
        0 => Bound::Unbounded,
        1 => Bound::Included(random_key(rng)),
        _ => Bound::Excluded(random_key(rng)),
    }
}

fn check_iter(
    db_items: Vec<(Vec<u8>, Vec<u8>)>,
    expected: Vec<(Vec<u8>, Vec<u8>)>,
    what: &str,
    step: usize,
) {
    assert_eq!(
        db_items.len(),
        expected.len(),
        "{what} length at step {step}"
    );
    assert!(db_items == expected, "{what} contents at step {step}");
}

/// Runs `steps` random operations against the engine opened in `dir` with `read_path` and
/// a block cache of `block_cache_bytes`, checking every read against the model.
#[allow(dead_code, reason = "db_model_volume uses only run_with")]
pub fn run(seed: u64, steps: usize, dir: &Path, read_path: ReadPath, block_cache_bytes: usize) {
    run_with(seed, steps, &|clock| {
        Db::open(dir, options(read_path, block_cache_bytes, clock)).unwrap()
    });
}

/// [`run`] with `open` opening (and reopening) the database with [`options`] on the model's
/// clock: for other backends.
pub fn run_with(seed: u64, steps: usize, open: &dyn Fn(&ManualClock) -> Db) {
    let mut rng = Rng::new(seed);
    let clock = ManualClock::new(1_000_000);
    let mut db = open(&clock);
    let mut stored = Stored::new();
    // Snapshots freeze writes, not time: their models are judged at the current clock too.
    let mut snapshots: Vec<(scipkv_engine::Snapshot, Stored)> = Vec::new();

    for step in 0..steps {
        if rng.chance(4) {
            clock.advance(rng.below(60));
        }
        let now = clock.now_ms();
        let model = live(&stored, now);
        match rng.below(100) {
            0..=34 => {
                let (k, v) = (random_key(&mut rng), random_value(&mut rng));
                if rng.chance(25) {
                    let t = random_expiry(&mut rng, now);
                    db.put_with_expiry(&k, &v, t).unwrap();
                    stored.insert(k, (v, Some(t)));
                } else {
                    db.put(&k, &v).unwrap();
                    stored.insert(k, (v, None));
                }
            }
            35..=44 => {
                let k = random_key(&mut rng);
                db.delete(&k).unwrap();
                stored.remove(&k);
            }
            45..=54 => {
                let mut b = WriteBatch::new();
                for _ in 0..rng.below(20) {
                    let k = random_key(&mut rng);
                    if rng.chance(30) {
                        b.delete(&k);
                        stored.remove(&k);
                    } else if rng.chance(20) {
                        let (v, t) = (random_value(&mut rng), random_expiry(&mut rng, now));
                        b.put_with_expiry(&k, &v, t);
                        stored.insert(k, (v, Some(t)));
                    } else {
                        let v = random_value(&mut rng);
                        b.put(&k, &v);
                        stored.insert(k, (v, None));
                    }
                }
                db.write(b).unwrap();
            }
            55..=69 => {
                let k = random_key(&mut rng);
                assert_eq!(
                    db.get(&k).unwrap(),
                    model.get(&k).cloned(),
                    "get {k:?} at step {step}"
                );
                let want = stored
                    .get(&k)
                    .filter(|(_, t)| t.is_none_or(|t| now < t))
                    .cloned();
                assert_eq!(
                    db.get_with_expiry(&k).unwrap(),
                    want,
                    "get_with_expiry {k:?} at step {step}"
                );
            }
            70..=72 => {
                // Up to 40 keys, repeats allowed: batched table reads across many tables.
                let n = 1 + rng.below(40);
                let keys: Vec<Vec<u8>> = (0..n).map(|_| random_key(&mut rng)).collect();
                let want: Vec<_> = keys.iter().map(|k| model.get(k).cloned()).collect();
                assert_eq!(
                    db.multi_get(&keys).unwrap(),
                    want,
                    "multi_get at step {step}"
                );
            }
            73..=80 => {
                let (lo, hi) = (random_bound(&mut rng), random_bound(&mut rng));
                let want = model_range(&model, &lo, &hi);
                let range = (lo.clone(), hi.clone());
                if rng.chance(50) {
                    let got: Vec<_> = db.iter(range).map(Result::unwrap).collect();
                    check_iter(got, want, "forward iter", step);
                } else {
                    let mut got: Vec<_> = db.iter(range).rev().map(Result::unwrap).collect();
                    got.reverse();
                    check_iter(got, want, "reverse iter", step);
                }
            }
            81..=82 => {
                // Both ends at once: alternate next and next_back until they meet.
                let want: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                let mut it = db.iter::<&[u8]>(..);
                let (mut front, mut back) = (Vec::new(), Vec::new());
                loop {
                    let from_front = rng.chance(50);
                    let item = if from_front {
                        it.next()
                    } else {
                        it.next_back()
                    };
                    match item {
                        None => break,
                        Some(r) if from_front => front.push(r.unwrap()),
                        Some(r) => back.push(r.unwrap()),
                    }
                }
                let mut all = front;
                all.extend(back.into_iter().rev());
                check_iter(all, want, "double-ended iter", step);
            }
            83..=85 => {
                let p = format!("key/{:02}/", rng.below(17)).into_bytes();
                let want: Vec<_> = model
                    .iter()
                    .filter(|(k, _)| k.starts_with(&p))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let got: Vec<_> = db.scan_prefix(&p).map(Result::unwrap).collect();
                check_iter(got, want, "prefix scan", step);
            }
            86..=89 => {
                if snapshots.len() < 4 {
                    snapshots.push((db.snapshot(), stored.clone()));
                } else {
                    snapshots.remove(rng.below(4) as usize);
                }
            }
            90..=94 => {
                if let Some((snap, m)) =
                    snapshots.get(rng.below(snapshots.len().max(1) as u64) as usize)
                {
                    let m = &live(m, now);
                    let k = random_key(&mut rng);
                    assert_eq!(
                        snap.get(&k).unwrap(),
                        m.get(&k).cloned(),
                        "snapshot get at step {step}"
                    );
                    let got: Vec<_> = snap.iter::<&[u8]>(..).map(Result::unwrap).collect();
                    let want: Vec<_> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    check_iter(got, want, "snapshot iter", step);
                }
            }
            95..=96 => db.flush().unwrap(),
            97 => db.compact_all().unwrap(),
            _ => {
                snapshots.clear();
                db.close().unwrap();
                db = open(&clock);
            }
        }
    }
    let model = live(&stored, clock.now_ms());
    let got: Vec<_> = db.iter::<&[u8]>(..).map(Result::unwrap).collect();
    let want: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    check_iter(got, want, "final scan", steps);
    // Every key of the space at once (present and absent), after a reopen: cold tables.
    snapshots.clear();
    db.close().unwrap();
    let db = open(&clock);
    let keys: Vec<Vec<u8>> = (0..300)
        .map(|n| format!("key/{:02}/{}", n % 17, n).into_bytes())
        .chain([Vec::new()])
        .collect();
    let want: Vec<_> = keys.iter().map(|k| model.get(k).cloned()).collect();
    assert_eq!(db.multi_get(&keys).unwrap(), want, "final multi_get");
    // Every expiry passes; a flush and full compaction turn the expired values into
    // tombstones (dropped at the bottom) and no older version resurfaces.
    clock.advance(1_000);
    let model = live(&stored, clock.now_ms());
    db.flush().unwrap();
    db.compact_all().unwrap();
    let want: Vec<_> = keys.iter().map(|k| model.get(k).cloned()).collect();
    assert_eq!(db.multi_get(&keys).unwrap(), want, "multi_get after expiry");
    let got: Vec<_> = db.iter::<&[u8]>(..).map(Result::unwrap).collect();
    let want: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    check_iter(got, want, "scan after expiry", steps);
    let stats = db.stats();
    let deep = stats.levels.iter().skip(2).filter(|l| l.files > 0).count();
    assert!(
        deep > 0,
        "compaction should have run through the levels: {stats:?}"
    );
}
