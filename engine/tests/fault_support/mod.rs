//! Shared by the fault_* tests: a random workload run against the engine and a `BTreeMap`
//! model, where any call may fail but no read may return wrong data.
#![allow(dead_code, reason = "each test binary uses a different subset")]

pub mod disk;
pub mod power_loss;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::common::Rng;
use scipkv_engine::storage::Storage;
use scipkv_engine::storage::fault::{CrashMode, FaultStorage};
use scipkv_engine::{
    CompactionOptions, Db, Error, Options, Snapshot, SyncMode, TableOptions, WriteBatch,
};

pub type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// One write: a put, a delete, or a batch of them (applied atomically).
#[derive(Debug, Clone)]
pub struct Write(pub Vec<(Vec<u8>, Option<Vec<u8>>)>);

impl Write {
    pub fn apply(&self, m: &mut Model) {
        for (k, v) in &self.0 {
            match v {
                Some(v) => m.insert(k.clone(), v.clone()),
                None => m.remove(k),
            };
        }
    }

    pub fn submit(&self, db: &Db) -> scipkv_engine::Result<()> {
        match &self.0[..] {
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
}

/// Tiny memtables, tables and levels so that flushes and compactions happen every few writes.
pub fn options(storage: &FaultStorage) -> Options {
    options_on(Arc::new(storage.clone()))
}

/// The same options over any storage (the raw volume's power-loss test).
pub fn options_on(storage: Arc<dyn Storage>) -> Options {
    Options {
        sync: SyncMode::Always,
        memtable_size: 4096,
        max_immutable_memtables: 2,
        block_cache_bytes: 64 << 10,
        table: TableOptions {
            block_size: 256,
            ..TableOptions::default()
        },
        compaction: CompactionOptions {
            l0_compaction_trigger: 2,
            l0_slowdown_trigger: 100,
            l0_stop_trigger: 200,
            l1_target_bytes: 8 << 10,
            level_size_ratio: 2,
            target_table_bytes: 4 << 10,
            ..CompactionOptions::default()
        },
        storage: Some(storage),
        ..Options::default()
    }
}

pub fn open(storage: &FaultStorage) -> scipkv_engine::Result<Db> {
    Db::open("fault-storage", options(storage))
}

pub fn random_key(rng: &mut Rng) -> Vec<u8> {
    format!("k{:03}", rng.below(200)).into_bytes()
}

pub fn random_value(rng: &mut Rng, tag: u64) -> Vec<u8> {
    let len = match rng.below(10) {
        0 => 0,
        1 => 600 + rng.below(1500) as usize,
        _ => rng.below(60) as usize,
    };
    // A unique tag first, so a value from the wrong write can never compare equal.
    let mut v = format!("{tag}:").into_bytes();
    v.extend(rng.bytes(len));
    v
}

pub fn random_write(rng: &mut Rng, tag: u64) -> Write {
    let n = if rng.chance(25) { 1 + rng.below(12) } else { 1 };
    Write(
        (0..n)
            .map(|_| {
                let k = random_key(rng);
                let v = (!rng.chance(20)).then(|| random_value(rng, tag));
                (k, v)
            })
            .collect(),
    )
}

/// What one random step did.
#[derive(Debug)]
pub enum Step {
    /// A write returned Ok (it is acknowledged and already applied to the model).
    Acked,
    /// A write failed; whether it reached the log is for the caller to decide.
    WriteFailed(Write, Error),
    /// A read, flush or compaction failed (the model is unchanged).
    OtherFailed(Error),
    /// A read returned data, and it was right.
    ReadOk,
}

/// Only these errors are acceptable from a faulty disk.
pub fn check_error(e: &Error, what: &str) {
    assert!(
        matches!(
            e,
            Error::Io { .. } | Error::Corruption { .. } | Error::Poisoned(_)
        ),
        "{what}: unexpected error kind: {e}"
    );
}

/// Full ordered scan; `Err` if the scan hit an error.
pub fn scan(db: &Db) -> scipkv_engine::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    db.iter::<&[u8]>(..).collect()
}

pub fn model_vec(m: &Model) -> Vec<(Vec<u8>, Vec<u8>)> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Runs one random operation. Panics if a read returns data that differs from `model`.
pub fn step(
    db: &Db,
    rng: &mut Rng,
    model: &mut Model,
    snaps: &mut Vec<(Snapshot, Model)>,
    tag: u64,
    ctx: &str,
) -> Step {
    match rng.below(100) {
        0..=54 => {
            let w = random_write(rng, tag);
            match w.submit(db) {
                Ok(()) => {
                    w.apply(model);
                    Step::Acked
                }
                Err(e) => {
                    check_error(&e, ctx);
                    Step::WriteFailed(w, e)
                }
            }
        }
        55..=69 => {
            let k = random_key(rng);
            match db.get(&k) {
                Ok(v) => {
                    assert_eq!(v, model.get(&k).cloned(), "{ctx}: get {k:?}");
                    Step::ReadOk
                }
                Err(e) => {
                    check_error(&e, ctx);
                    Step::OtherFailed(e)
                }
            }
        }
        70..=77 => {
            let lo = random_key(rng);
            let want: Vec<_> = model
                .range(lo.clone()..)
                .take(20)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let got: scipkv_engine::Result<Vec<_>> = db.iter(lo.as_slice()..).take(20).collect();
            match got {
                Ok(got) => {
                    assert!(got == want, "{ctx}: iter from {lo:?}");
                    Step::ReadOk
                }
                Err(e) => {
                    check_error(&e, ctx);
                    Step::OtherFailed(e)
                }
            }
        }
        78..=83 => {
            if snaps.len() < 3 {
                snaps.push((db.snapshot(), model.clone()));
                Step::ReadOk
            } else {
                let (s, m) = snaps.remove(rng.below(3) as usize);
                let got: scipkv_engine::Result<Vec<_>> = s.iter::<&[u8]>(..).collect();
                match got {
                    Ok(got) => {
                        assert!(got == model_vec(&m), "{ctx}: snapshot scan");
                        Step::ReadOk
                    }
                    Err(e) => {
                        check_error(&e, ctx);
                        Step::OtherFailed(e)
                    }
                }
            }
        }
        84..=91 => match db.flush() {
            Ok(()) => Step::ReadOk,
            Err(e) => {
                check_error(&e, ctx);
                Step::OtherFailed(e)
            }
        },
        _ => {
            let r = if rng.chance(30) {
                db.compact_all()
            } else {
                db.compact()
            };
            match r {
                Ok(()) => Step::ReadOk,
                Err(e) => {
                    check_error(&e, ctx);
                    Step::OtherFailed(e)
                }
            }
        }
    }
}

pub fn random_crash_mode(rng: &mut Rng, garbage: bool) -> CrashMode {
    CrashMode {
        torn_sectors: rng.chance(50),
        garbage: garbage && rng.chance(50),
        torn_dir: rng.chance(50),
    }
}

/// The recovered state must be `acked`, or `acked` plus the one write that was in flight.
pub fn check_recovered(db: &Db, acked: &Model, in_flight: Option<&Write>, ctx: &str) -> Model {
    let got = scan(db).unwrap_or_else(|e| panic!("{ctx}: scan after reopen failed: {e}"));
    if got == model_vec(acked) {
        return acked.clone();
    }
    if let Some(w) = in_flight {
        let mut with = acked.clone();
        w.apply(&mut with);
        if got == model_vec(&with) {
            return with;
        }
    }
    let got: Model = got.into_iter().collect();
    let missing: Vec<_> = acked
        .iter()
        .filter(|(k, v)| got.get(*k) != Some(*v))
        .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
        .take(5)
        .collect();
    let extra: Vec<_> = got
        .keys()
        .filter(|k| !acked.contains_key(*k))
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .take(5)
        .collect();
    panic!(
        "{ctx}: recovered state is not a prefix of the acknowledged writes \
         (in flight: {}); keys lost or changed: {missing:?}; keys that should not exist: {extra:?}",
        in_flight.is_some()
    );
}
