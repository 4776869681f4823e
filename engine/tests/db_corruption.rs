//! One flipped byte in any file of a database (WAL record, data block, index, filter,
//! properties, footer, manifest, CURRENT) yields a `Corruption` error or, for the last WAL
//! record, a clean truncation: never wrong data, never a panic.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Rng, seed};
use scipkv_engine::{Db, Error, Options, SyncMode, TableOptions};

fn options() -> Options {
    Options {
        sync: SyncMode::Always,
        memtable_size: 8 << 10,
        table: TableOptions {
            block_size: 512,
            ..TableOptions::default()
        },
        ..Options::default()
    }
}

/// Keys `t…` end up in tables; keys `w…` are written one per batch after the last flush, so
/// they live only in the WAL, in order.
type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn build(dir: &Path) -> (Model, Vec<Vec<u8>>) {
    let db = Db::open(dir, options()).unwrap();
    let mut model = BTreeMap::new();
    for i in 0..250u32 {
        let (k, v) = (
            format!("t{i:05}").into_bytes(),
            format!("table value {i}").into_bytes(),
        );
        db.put(&k, &v).unwrap();
        model.insert(k, v);
    }
    db.delete(b"t00007").unwrap();
    model.remove(&b"t00007"[..]);
    db.flush().unwrap();
    let mut wal_keys = Vec::new();
    for i in 0..20u32 {
        let (k, v) = (
            format!("w{i:03}").into_bytes(),
            format!("wal value {i}").into_bytes(),
        );
        db.put(&k, &v).unwrap();
        model.insert(k.clone(), v);
        wal_keys.push(k);
    }
    db.close().unwrap();
    (model, wal_keys)
}

/// Scratch directories on tmpfs when the machine has one: each reopen fsyncs, and thousands
/// of reopens on a real disk would dominate the test's time.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    }
}

/// Start of the last record of a log file (its header), from the engine's own reader.
fn last_record_start(dir: &Path, name: &str) -> usize {
    use scipkv_engine::log::format::RECORD_HEADER_LEN;
    use scipkv_engine::log::{LogKind, LogReader};
    let storage =
        scipkv_engine::storage::FsStorage::new(dir, scipkv_engine::ReadPath::Pread).unwrap();
    let mut r = LogReader::open(&storage, name, LogKind::Manifest).unwrap();
    let mut start = 0;
    while r.next_record().unwrap().is_some() {
        start = r.record_offset() as usize - RECORD_HEADER_LEN;
    }
    start
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

enum Outcome {
    Corruption,
    Intact,
    TruncatedWal,
}

/// Opens and reads everything; any error must be `Corruption`, any data must be right.
fn read_back(dir: &Path, model: &Model, wal_keys: &[Vec<u8>], what: &str) -> Outcome {
    let db = match Db::open(dir, options()) {
        Ok(db) => db,
        Err(Error::Corruption { .. }) => return Outcome::Corruption,
        Err(e) => panic!("{what}: open failed with a non-corruption error: {e}"),
    };
    let mut got = BTreeMap::new();
    for item in db.iter::<&[u8]>(..) {
        match item {
            Ok((k, v)) => {
                got.insert(k, v);
            }
            Err(Error::Corruption { .. }) => return Outcome::Corruption,
            Err(e) => panic!("{what}: iteration failed with a non-corruption error: {e}"),
        }
    }
    for k in model.keys() {
        match db.get(k) {
            Ok(v) => assert_eq!(
                v.as_ref(),
                got.get(k),
                "{what}: get and iter disagree on {k:?}"
            ),
            Err(Error::Corruption { .. }) => return Outcome::Corruption,
            Err(e) => panic!("{what}: get failed with a non-corruption error: {e}"),
        }
    }
    if &got == model {
        return Outcome::Intact;
    }
    // Only a clean truncation of the WAL's tail is acceptable: a prefix of the WAL-only keys.
    let present = wal_keys.iter().take_while(|k| got.contains_key(*k)).count();
    let mut expected = model.clone();
    for k in &wal_keys[present..] {
        expected.remove(k);
    }
    assert!(
        got == expected,
        "{what}: wrong data served (neither intact, nor a WAL prefix, nor an error)"
    );
    Outcome::TruncatedWal
}

#[test]
fn a_flipped_byte_anywhere_is_detected_or_truncates_the_wal_tail() {
    let seed = seed("a_flipped_byte_anywhere_is_detected_or_truncates_the_wal_tail");
    let mut rng = Rng::new(seed);
    let base = scratch();
    let (model, wal_keys) = build(base.path());
    let mut files: Vec<_> = std::fs::read_dir(base.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "LOCK")
        .collect();
    files.sort();
    assert!(files.iter().any(|f| f.ends_with(".sst")), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with(".wal")), "{files:?}");
    assert!(
        files.iter().any(|f| f.starts_with("MANIFEST-")),
        "{files:?}"
    );
    let mut summary = BTreeMap::new();
    for f in &files {
        let len = std::fs::metadata(base.path().join(f)).unwrap().len() as usize;
        // Every byte of small files; for larger ones the head and tail (headers, footer,
        // index, filter, properties) in full plus a random sample of the middle.
        // Every byte of small files; for larger ones every byte of the tail (footer,
        // properties, filter, index) and a random sample of the rest.
        let mut offsets: Vec<usize> = if len <= 1024 {
            (0..len).collect()
        } else {
            (len - 512..len).collect()
        };
        if len > 1024 {
            offsets.extend((0..192).map(|_| rng.below((len - 512) as u64) as usize));
        }
        let manifest_tail = f
            .starts_with("MANIFEST-")
            .then(|| last_record_start(base.path(), f));
        let (mut corrupt, mut intact, mut truncated) = (0, 0, 0);
        for off in offsets {
            let dir = scratch();
            copy_dir(base.path(), dir.path());
            let p = dir.path().join(f);
            let mut bytes = std::fs::read(&p).unwrap();
            bytes[off] ^= 1 << rng.below(8);
            std::fs::write(&p, &bytes).unwrap();
            match read_back(dir.path(), &model, &wal_keys, &format!("{f} byte {off}")) {
                Outcome::Corruption => corrupt += 1,
                Outcome::Intact => {
                    if let Some(tail) = manifest_tail {
                        // A damaged last edit reads as a torn write and is dropped; the files
                        // it replaced were kept for exactly this case, so nothing is lost.
                        assert!(
                            off >= tail,
                            "{f} byte {off}: flip before the last record went unnoticed"
                        );
                    }
                    intact += 1
                }
                Outcome::TruncatedWal => {
                    assert!(
                        f.ends_with(".wal"),
                        "{f} byte {off}: only a WAL tail may be truncated"
                    );
                    truncated += 1
                }
            }
        }
        summary.insert(f.clone(), (corrupt, intact, truncated));
    }
    for (f, (c, i, t)) in &summary {
        eprintln!("{f}: {c} corruption, {i} intact, {t} truncated WAL tail");
        if !f.ends_with(".wal") && !f.starts_with("MANIFEST-") {
            // Outside the WAL nothing is redundant: every flip must be caught.
            assert_eq!(*i, 0, "{f}: a flipped byte went unnoticed");
        }
    }
}
