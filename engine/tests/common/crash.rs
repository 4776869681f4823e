//! The SIGKILL crash test of crash_sigkill.rs, parameterized by read path (used by
//! read_path_crash.rs): the child writes with background compaction reading tables through
//! the read path under test, and the parent verifies through it, by scan and by multi_get.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use std::sync::Arc;

use crate::common::Rng;
use scipkv_engine::storage::Storage;
use scipkv_engine::storage::volume::{FileDevice, VolumeStorage};
use scipkv_engine::{CompactionOptions, Db, Options, ReadPath, SyncMode, TableOptions, WriteBatch};

/// Where the database lives: a directory read through a read path, or a raw volume in a
/// preallocated file (`volume.img` in the test directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Dir(ReadPath),
    Volume,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Dir(p) => p.name(),
            Backend::Volume => "volume",
        }
    }

    fn from_name(n: &str) -> Backend {
        match n {
            "volume" => Backend::Volume,
            _ => Backend::Dir(ReadPath::from_name(n).unwrap()),
        }
    }
}

fn volume_path(dir: &Path) -> std::path::PathBuf {
    dir.join("volume.img")
}

/// The child's sync mode: `Always`, or `Interval` with an interval no run reaches, so that
/// every write the child acknowledges was synced only where the engine syncs on its own
/// (segment switches); the rest must survive the kill from what each write handed over.
fn sync_mode(name: &str) -> SyncMode {
    match name {
        "always" => SyncMode::Always,
        "interval" => SyncMode::Interval(std::time::Duration::from_secs(3600)),
        n => panic!("unknown crash sync mode {n}"),
    }
}

/// Opens the database of `backend` in `dir`, and the storage it runs on (for listing).
fn open_db(
    dir: &Path,
    background: bool,
    backend: Backend,
    sync: SyncMode,
) -> (Db, Option<Arc<VolumeStorage>>) {
    match backend {
        Backend::Dir(p) => {
            let mut o = options(background, p);
            o.sync = sync;
            (Db::open(dir, o).expect("open"), None)
        }
        Backend::Volume => {
            let vol = Arc::new(VolumeStorage::open_path(&volume_path(dir)).expect("open volume"));
            let mut o = options(background, ReadPath::IoUring);
            o.sync = sync;
            o.storage = Some(vol.clone());
            (Db::open(dir, o).expect("open on the volume"), Some(vol))
        }
    }
}

const LAST_KEY: &[u8] = b"meta/last";

/// The child writes with tiny memtables and levels so that kills land in flushes and
/// compactions; the verifying parent opens with background compaction off, so that what it
/// inspects is exactly what recovery left.
fn options(background_compaction: bool, read_path: ReadPath) -> Options {
    Options {
        read_path,
        // Small, so that reads really go to the files.
        block_cache_bytes: 64 << 10,
        compaction: CompactionOptions {
            l0_compaction_trigger: 2,
            l1_target_bytes: 16 << 10,
            level_size_ratio: 2,
            target_table_bytes: 8 << 10,
            auto: background_compaction,
            // Idle compaction in every pause of the child's writes, so kills land in it too.
            idle_after: Some(std::time::Duration::from_millis(1)),
            ..CompactionOptions::default()
        },
        sync: SyncMode::Always,
        memtable_size: 32 << 10,
        table: TableOptions {
            block_size: 1024,
            ..TableOptions::default()
        },
        ..Options::default()
    }
}

/// Batch `i` of the run with `seed`: a few puts and deletes plus the progress marker.
fn batch_ops(seed: u64, i: u64) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let mut rng = Rng::new(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut ops = Vec::new();
    for j in 0..1 + rng.below(8) {
        let k = format!("k{:04}", rng.below(500)).into_bytes();
        if rng.chance(20) {
            ops.push((k, None));
        } else {
            let mut v = format!("{i}:{j}:").into_bytes();
            v.extend(std::iter::repeat_n(b'x', rng.below(300) as usize));
            ops.push((k, Some(v)));
        }
    }
    ops.push((LAST_KEY.to_vec(), Some(i.to_string().into_bytes())));
    ops
}

fn last_index(db: &Db) -> Option<u64> {
    db.get(LAST_KEY)
        .unwrap()
        .map(|v| String::from_utf8(v).unwrap().parse().unwrap())
}

pub fn child(dir: &Path, seed: u64, backend: Backend, sync: SyncMode) {
    let (db, _volume) = open_db(dir, true, backend, sync);
    let start = last_index(&db).map_or(0, |l| l + 1);
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready {start}").unwrap();
    out.flush().unwrap();
    for i in start.. {
        let mut b = WriteBatch::new();
        for (k, v) in batch_ops(seed, i) {
            match v {
                Some(v) => b.put(k, v),
                None => b.delete(k),
            }
        }
        db.write(b).expect("child write");
        writeln!(out, "ack {i}").unwrap();
        out.flush().unwrap();
    }
}

fn apply(model: &mut BTreeMap<Vec<u8>, Vec<u8>>, seed: u64, i: u64) {
    for (k, v) in batch_ops(seed, i) {
        match v {
            Some(v) => model.insert(k, v),
            None => model.remove(&k),
        };
    }
}

#[allow(dead_code, reason = "the volume tests use only parent_on")]
pub fn parent(seed: u64, kills: u64, read_path: ReadPath) {
    parent_on(seed, kills, Backend::Dir(read_path), "always");
}

/// The crash test on `backend`, the child writing in sync mode `sync` ("always" or
/// "interval"): in both, a process crash loses no acknowledged write.
pub fn parent_on(seed: u64, kills: u64, backend: Backend, sync: &str) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    if backend == Backend::Volume {
        let path = volume_path(dir.path());
        std::fs::File::create(&path)
            .unwrap()
            .set_len(256 << 20)
            .unwrap();
        VolumeStorage::format(&FileDevice::open(&path).unwrap(), false).unwrap();
    }
    let mut rng = Rng::new(seed);
    let mut model = BTreeMap::new();
    let mut applied: Option<u64> = None;
    let exe = std::env::current_exe().unwrap();
    let mut total_acks = 0;
    for round in 0..kills {
        let mut child = Command::new(&exe)
            .env("SCIPKV_CRASH_CHILD_DIR", dir.path())
            .env("SCIPKV_CRASH_CHILD_SEED", seed.to_string())
            .env("SCIPKV_CRASH_CHILD_READ_PATH", backend.name())
            .env("SCIPKV_CRASH_CHILD_SYNC", sync)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let expected_start = applied.map_or(0, |a| a + 1);
        let mut last_acked: Option<u64> = None;
        // One round in eight kills the child while it is still opening (recovery).
        if !rng.chance(12) {
            let ready = lines.next().expect("child exited before ready").unwrap();
            assert_eq!(ready, format!("ready {expected_start}"), "round {round}");
            for _ in 0..rng.below(60) {
                let Some(l) = lines.next() else { break };
                let i: u64 = l.unwrap().strip_prefix("ack ").unwrap().parse().unwrap();
                last_acked = Some(i);
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Acks already in the pipe were sent before death: they count as acknowledged.
        for l in lines {
            let l = l.unwrap();
            if let Some(i) = l.strip_prefix("ack ") {
                last_acked = Some(i.parse().unwrap());
            }
        }
        total_acks += last_acked.map_or(0, |a| a + 1 - expected_start);

        let (db, volume) = open_db(dir.path(), false, backend, SyncMode::Always);
        let recovered = last_index(&db);
        if let Some(a) = last_acked {
            let r = recovered.expect("acknowledged batches lost entirely");
            assert!(
                r >= a,
                "round {round}: batch {a} was acknowledged but only {r} survived"
            );
            // The child writes one batch at a time, so at most one unacknowledged batch exists.
            assert!(
                r <= a + 1,
                "round {round}: batch {r} appeared but only {a} was written"
            );
        }
        if let (Some(r), Some(prev)) = (recovered, applied) {
            assert!(
                r >= prev,
                "round {round}: state went back from {prev} to {r}"
            );
        }
        let from = applied.map_or(0, |a| a + 1);
        if let Some(r) = recovered {
            for i in from..=r {
                apply(&mut model, seed, i);
            }
        }
        applied = recovered;
        let got: BTreeMap<Vec<u8>, Vec<u8>> = db.iter::<&[u8]>(..).map(Result::unwrap).collect();
        // The batched point-read path agrees with the scan, for every key ever written.
        let keys: Vec<Vec<u8>> = (0..500).map(|k| format!("k{k:04}").into_bytes()).collect();
        let want: Vec<_> = keys.iter().map(|k| model.get(k).cloned()).collect();
        assert_eq!(
            db.multi_get(&keys).unwrap(),
            want,
            "round {round}: multi_get"
        );
        assert!(
            got == model,
            "round {round}: recovered state is not the prefix up to {recovered:?}"
        );
        let stats = db.stats();
        let tables: usize = stats.levels.iter().map(|l| l.files).sum();
        let names: Vec<String> = match &volume {
            Some(v) => v.list().unwrap(),
            None => std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect(),
        };
        check_no_orphans(names, tables, round);
        db.close().unwrap();
        drop(volume);
    }
    let stats = open_db(dir.path(), false, backend, SyncMode::Always)
        .0
        .stats();
    if let Some(v) = stats.volume {
        println!("crash volume: {v:?}");
    }
    let levels: Vec<usize> = stats.levels.iter().map(|l| l.files).collect();
    let name = backend.name();
    println!("crash {name}: tables per level at the end {levels:?}");
    println!(
        "crash {name} ({sync}): {kills} kills survived, {total_acks} acknowledged batches \
         checked, seed {seed}"
    );
}

/// After a clean reopen the directory (or volume) holds exactly the live files.
fn check_no_orphans(names: Vec<String>, live_tables: usize, round: u64) {
    let mut counts = BTreeMap::new();
    for name in names {
        let kind = if name.ends_with(".sst") {
            "sst"
        } else if name.ends_with(".wal") {
            "wal"
        } else if name.starts_with("MANIFEST-") {
            "manifest"
        } else {
            match name.as_str() {
                "CURRENT" | "LOCK" | "volume.img" => "fixed",
                _ => panic!("round {round}: unexpected file {name}"),
            }
        };
        *counts.entry(kind).or_insert(0usize) += 1;
    }
    assert_eq!(
        counts.get("sst").copied().unwrap_or(0),
        live_tables,
        "round {round}: orphaned tables: {counts:?}"
    );
    assert_eq!(counts.get("wal"), Some(&1), "round {round}: {counts:?}");
    assert_eq!(
        counts.get("manifest"),
        Some(&1),
        "round {round}: {counts:?}"
    );
}

/// The whole `main` of a crash-test binary (`harness = false`): runs the child when this
/// process is one, answers a test runner's `--list`, honours a name filter, and otherwise runs
/// `run(seed, kills)` with `SCIPKV_CRASH_KILLS` (default `default_kills`) and a printed seed.
pub fn main_with(name: &str, default_kills: u64, run: impl FnOnce(u64, u64)) {
    if let Ok(dir) = std::env::var("SCIPKV_CRASH_CHILD_DIR") {
        let seed = std::env::var("SCIPKV_CRASH_CHILD_SEED")
            .unwrap()
            .parse()
            .unwrap();
        let path = std::env::var("SCIPKV_CRASH_CHILD_READ_PATH").unwrap();
        let sync = std::env::var("SCIPKV_CRASH_CHILD_SYNC").unwrap();
        child(
            Path::new(&dir),
            seed,
            Backend::from_name(&path),
            sync_mode(&sync),
        );
        return;
    }
    let all: Vec<String> = std::env::args().collect();
    if all.iter().any(|a| a == "--list") {
        // The listing format of libtest, which cargo-nextest reads.
        if !all.iter().any(|a| a == "--ignored") {
            println!("{name}: test");
        }
        return;
    }
    // Accept (and ignore) the arguments test runners pass; a filter that does not match
    // this binary's one test skips it, as the standard harness would.
    let filters: Vec<&String> = all.iter().skip(1).filter(|a| !a.starts_with('-')).collect();
    if filters.iter().any(|f| !name.contains(f.as_str())) {
        println!("0 passed, 0 failed");
        return;
    }
    let kills = std::env::var("SCIPKV_CRASH_KILLS").map_or(default_kills, |k| k.parse().unwrap());
    let seed = crate::common::seed(name);
    run(seed, kills);
    println!("1 passed, 0 failed");
}
