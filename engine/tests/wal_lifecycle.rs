//! A flushed WAL segment is deleted as soon as the manifest edit recording the flush is
//! durable and no longer the manifest's last record (`VersionSet::seal`), not at the next
//! flush or compaction: at most the live segment stays. Checked against a BTreeMap model
//! across flushes and a reopen. (That the sealed edit survives a damaged last record is
//! `db_corruption`'s byte-flip test; crashes around it are the power-loss and SIGKILL tests.)

use std::collections::BTreeMap;

use scipkv_engine::{Db, Options, SyncMode};

fn wal_segments(dir: &std::path::Path) -> Vec<u64> {
    let mut v: Vec<u64> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().ok()?;
            name.strip_suffix(".wal")?.parse().ok()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_flushed_segment_goes_as_soon_as_its_edit_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    let opts = || Options {
        sync: SyncMode::Always,
        ..Options::default()
    };
    let mut model = BTreeMap::new();
    {
        let db = Db::open(dir.path(), opts()).unwrap();
        for round in 0..4u32 {
            for i in 0..200u32 {
                let (k, v) = (
                    format!("k{:04}", (i * 7 + round) % 500),
                    format!("v{round}-{i}"),
                );
                db.put(&k, &v).unwrap();
                model.insert(k, v);
            }
            let before = wal_segments(dir.path());
            assert_eq!(before.len(), 1, "round {round}: {before:?}");
            db.flush().unwrap();
            let after = wal_segments(dir.path());
            assert_eq!(
                after.len(),
                1,
                "round {round}: flushed segment kept: {after:?}"
            );
            assert!(
                after[0] > before[0],
                "round {round}: {before:?} -> {after:?}"
            );
            for (k, v) in &model {
                assert_eq!(db.get(k).unwrap().as_deref(), Some(v.as_bytes()), "{k}");
            }
        }
        db.close().unwrap();
    }
    let db = Db::open(dir.path(), opts()).unwrap();
    let got: BTreeMap<String, String> = db
        .iter::<&[u8]>(..)
        .map(|kv| {
            let (k, v) = kv.unwrap();
            (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap())
        })
        .collect();
    assert_eq!(got, model);
}
