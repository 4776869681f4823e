//! db_corruption.rs's promise for the pread and io_uring read paths, where they differ from
//! mmap: the table files. One flipped byte in a table (data block, index, filter,
//! properties, footer) yields a `Corruption` error from open, scan, get or the batched
//! multi_get: never wrong data, never a panic, never another kind of error. Directories are
//! on the disk (O_DIRECT applies), and the io_uring run checks it really used the ring.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Rng, seed};
use scipkv_engine::storage::read_path_stats;
use scipkv_engine::{CompactionOptions, Db, Error, Options, ReadPath, SyncMode, TableOptions};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn options(read_path: ReadPath) -> Options {
    Options {
        read_path,
        sync: SyncMode::Never,
        // The tables under test stay as built.
        compaction: CompactionOptions {
            auto: false,
            ..CompactionOptions::default()
        },
        memtable_size: 8 << 10,
        table: TableOptions {
            block_size: 512,
            ..TableOptions::default()
        },
        ..Options::default()
    }
}

fn disk_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

/// Several tables (the memtable is tiny), nothing in the WAL.
fn build(dir: &Path) -> Model {
    let db = Db::open(dir, options(ReadPath::Mmap)).unwrap();
    let mut model = BTreeMap::new();
    for round in 0..2u32 {
        for i in (round..300).step_by(2) {
            let (k, v) = (
                format!("t{i:05}").into_bytes(),
                format!("table value {i} {}", "x".repeat(i as usize % 40)).into_bytes(),
            );
            db.put(&k, &v).unwrap();
            model.insert(k, v);
        }
        db.flush().unwrap();
    }
    db.close().unwrap();
    model
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// True when the damage was reported as corruption; panics on wrong data or other errors.
fn detected(dir: &Path, model: &Model, read_path: ReadPath, what: &str) -> bool {
    fn check<T>(r: Result<T, Error>, what: &str) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(Error::Corruption { .. }) => None,
            Err(e) => panic!("{what}: a non-corruption error: {e}"),
        }
    }
    let Some(db) = check(Db::open(dir, options(read_path)), what) else {
        return true;
    };
    // Batched point reads first, on cold tables, so the damaged block is read by them.
    let keys: Vec<&Vec<u8>> = model.keys().collect();
    let Some(values) = check(db.multi_get(&keys), what) else {
        return true;
    };
    for (k, v) in keys.iter().zip(&values) {
        assert_eq!(
            v.as_ref(),
            model.get(*k),
            "{what}: multi_get served wrong data"
        );
    }
    let mut got = BTreeMap::new();
    for item in db.iter::<&[u8]>(..) {
        let Some((k, v)) = check(item, what) else {
            return true;
        };
        got.insert(k, v);
    }
    assert!(&got == model, "{what}: the scan served wrong data");
    for k in model.keys() {
        let Some(v) = check(db.get(k), what) else {
            return true;
        };
        assert_eq!(v.as_ref(), model.get(k), "{what}: get served wrong data");
    }
    false
}

fn flips_are_detected(read_path: ReadPath) {
    let name = format!("flips_are_detected_{}", read_path.name());
    let mut rng = Rng::new(seed(&name));
    let base = disk_dir();
    let model = build(base.path());
    let mut tables: Vec<_> = std::fs::read_dir(base.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sst"))
        .collect();
    tables.sort();
    assert!(tables.len() >= 2, "{tables:?}");
    assert!(!detected(base.path(), &model, read_path, "undamaged"));
    let mut flips = 0;
    for t in &tables {
        let len = std::fs::metadata(base.path().join(t)).unwrap().len() as usize;
        // The footer and the tail before it (properties, filter, index), and a sample of
        // the data blocks.
        let mut offsets: Vec<usize> = (len - 32..len).collect();
        offsets.extend((0..24).map(|_| rng.below(len as u64) as usize));
        for off in offsets {
            let dir = disk_dir();
            copy_dir(base.path(), dir.path());
            let p = dir.path().join(t);
            let mut bytes = std::fs::read(&p).unwrap();
            bytes[off] ^= 1 << rng.below(8);
            std::fs::write(&p, &bytes).unwrap();
            let what = format!("{} {t} byte {off}", read_path.name());
            assert!(
                detected(dir.path(), &model, read_path, &what),
                "{what}: a flipped byte went unnoticed"
            );
            flips += 1;
        }
    }
    eprintln!("{name}: {flips} flips, all detected");
}

#[test]
fn table_flips_are_detected_with_pread() {
    flips_are_detected(ReadPath::Pread);
}

#[test]
fn table_flips_are_detected_with_io_uring() {
    let before = read_path_stats();
    flips_are_detected(ReadPath::IoUring);
    let after = read_path_stats();
    assert!(
        after.uring_reads > before.uring_reads + 100,
        "the io_uring path was not used: {before:?} -> {after:?}"
    );
}
