//! The fault half of `db_ops` (chosen by a setup bit): the same kind of program runs on the
//! in-memory `FaultStorage` with an I/O-fault countdown (EIO or ENOSPC on writes, syncs,
//! reads, renames and file operations, short writes, bit flips on read). Any call may fail,
//! with an I/O, corruption or poisoned error only, but no read may return wrong data. The
//! program stops at the first failed write (its fate is unknown); then the power fails
//! (unsynced data and directory entries dropped, perhaps torn or garbage sectors), the faults
//! stop, and the database must reopen holding every acknowledged write, with the failed one
//! applied entirely or not at all.

use std::collections::BTreeMap;
use std::sync::Arc;

use scipkv_engine::storage::fault::{CrashMode, FaultConfig, FaultStorage, InjectedError, Ops};
use scipkv_engine::{CompactionOptions, Db, Error, Options, SyncMode, TableOptions, WriteBatch};
use scipkv_fuzz::Cursor;

use super::{MAX_OPS, Model, key, value};

/// A write the program made: (key, Some(value) = put | None = delete), applied atomically.
type Write = Vec<(Vec<u8>, Option<Vec<u8>>)>;

fn options(storage: &FaultStorage) -> Options {
    Options {
        sync: SyncMode::Always,
        memtable_size: 4096,
        max_immutable_memtables: 2,
        block_cache_bytes: 16 << 10,
        table: TableOptions {
            block_size: 256,
            ..TableOptions::default()
        },
        compaction: CompactionOptions {
            l0_compaction_trigger: 2,
            l1_target_bytes: 8 << 10,
            level_size_ratio: 2,
            target_table_bytes: 4 << 10,
            // Idle compaction (and giving it up) races the injected faults too.
            idle_after: Some(std::time::Duration::from_millis(1)),
            // No zstd-19: see `CHEAP_LEVELS` in db_ops.rs.
            level_compression: super::CHEAP_LEVELS.to_vec(),
            ..CompactionOptions::default()
        },
        storage: Some(Arc::new(storage.clone())),
        ..Options::default()
    }
}

fn open(storage: &FaultStorage) -> scipkv_engine::Result<Db> {
    Db::open("fuzz-fault-storage", options(storage))
}

/// The only errors a faulty disk may cause.
fn check_error(e: &Error, what: &str) {
    assert!(
        matches!(
            e,
            Error::Io { .. } | Error::Corruption { .. } | Error::Poisoned(_)
        ),
        "{what}: unexpected error kind: {e}"
    );
}

fn apply(m: &mut Model, w: &Write) {
    for (k, v) in w {
        match v {
            Some(v) => m.insert(k.clone(), v.clone()),
            None => m.remove(k),
        };
    }
}

fn submit(db: &Db, w: &Write) -> scipkv_engine::Result<()> {
    match &w[..] {
        [(k, Some(v))] => db.put(k, v),
        [(k, None)] => db.delete(k),
        ops => {
            let mut b = WriteBatch::new();
            for (k, v) in ops {
                match v {
                    Some(v) => b.put(k, v),
                    None => b.delete(k),
                }
            }
            db.write(b)
        }
    }
}

fn fault_config(c: &mut Cursor<'_>) -> FaultConfig {
    let countdown = u64::from(c.u8()) * 4 + u64::from(c.u8() % 4);
    let flags = c.u8();
    FaultConfig {
        ops: Ops::ALL,
        fail_after: Some(countdown),
        sticky: flags & 1 == 1,
        error: match (flags >> 1) % 3 {
            0 => InjectedError::Eio,
            1 => InjectedError::NoSpace,
            _ => InjectedError::Mixed,
        },
        short_writes: flags & 8 != 0,
        read_flip_ppm: if flags & 16 != 0 { 20_000 } else { 0 },
        ..FaultConfig::default()
    }
}

pub(crate) fn run(c: &mut Cursor<'_>) {
    let storage = FaultStorage::new(u64::from(c.u8()) | (u64::from(c.u8()) << 8));
    let config = fault_config(c);
    let mut db = Some(open(&storage).expect("open before any fault"));
    storage.set_faults(config);
    let mut model = Model::new();
    let mut in_flight: Option<Write> = None;
    let mut tag = 0u8;

    for _ in 0..MAX_OPS {
        let Some(d) = db.as_ref() else { break };
        if c.is_empty() {
            break;
        }
        tag = tag.wrapping_add(1);
        match c.u8() % 8 {
            0..=2 => {
                let n = if c.u8() % 4 == 0 { 1 + c.u8() % 6 } else { 1 };
                let w: Write = (0..n)
                    .map(|_| {
                        let k = key(c);
                        let v = (c.u8() % 5 != 0).then(|| value(c, tag));
                        (k, v)
                    })
                    .collect();
                match submit(d, &w) {
                    Ok(()) => apply(&mut model, &w),
                    Err(e) => {
                        check_error(&e, "write");
                        in_flight = Some(w);
                        break;
                    }
                }
            }
            3 | 4 => {
                let k = key(c);
                match d.get(&k) {
                    Ok(v) => assert_eq!(v, model.get(&k).cloned(), "get({k:?})"),
                    Err(e) => check_error(&e, "get"),
                }
            }
            5 => {
                let got: scipkv_engine::Result<Vec<_>> = d.iter::<&[u8]>(..).collect();
                match got {
                    Ok(got) => {
                        let want: Vec<_> =
                            model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                        assert!(got == want, "scan: got {got:?}, want {want:?}");
                    }
                    Err(e) => check_error(&e, "scan"),
                }
            }
            6 => {
                if let Err(e) = d.flush() {
                    check_error(&e, "flush");
                }
            }
            _ => {
                // Close and reopen under faults: either may fail; then the power fails.
                let d = db.take().expect("open");
                match d.close() {
                    Ok(()) => match open(&storage) {
                        Ok(d) => db = Some(d),
                        Err(e) => check_error(&e, "reopen under faults"),
                    },
                    Err(e) => check_error(&e, "close"),
                }
            }
        }
    }

    let flags = c.u8();
    let mode = CrashMode {
        torn_sectors: flags & 1 == 1,
        garbage: flags & 2 == 2,
        torn_dir: flags & 4 == 4,
    };
    let image = storage.crash(mode);
    drop(db);
    image.clear_faults();
    let db = open(&image).unwrap_or_else(|e| panic!("reopen after power loss ({mode:?}): {e}"));
    let got: BTreeMap<Vec<u8>, Vec<u8>> = db
        .iter::<&[u8]>(..)
        .map(|r| r.expect("scan after recovery"))
        .collect();
    let mut with = model.clone();
    if let Some(w) = &in_flight {
        apply(&mut with, w);
    }
    assert!(
        got == model || got == with,
        "recovered state is not the acknowledged one ({mode:?}, in flight {in_flight:?}): \
         got {got:?}, acknowledged {model:?}"
    );
    db.close().expect("close after recovery");
}
