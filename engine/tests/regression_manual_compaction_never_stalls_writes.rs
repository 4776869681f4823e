//! With background compaction off (`CompactionOptions::auto = false`), L0 past its stop
//! trigger held writes until a compaction that nothing would ever start: the writer waited
//! forever (found when a memtable change made `db_codecs` flush more tables per round).

use std::sync::mpsc;
use std::time::Duration;

use scipkv_engine::{CompactionOptions, Db, Options, SyncMode};

#[test]
fn writes_past_the_l0_stop_trigger_go_on_when_compaction_is_manual() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            sync: SyncMode::Never,
            memtable_size: 16 << 10,
            compaction: CompactionOptions {
                auto: false,
                l0_compaction_trigger: 2,
                l0_slowdown_trigger: 3,
                l0_stop_trigger: 4,
                ..CompactionOptions::default()
            },
            ..Options::default()
        },
    )
    .unwrap();
    let (tx, rx) = mpsc::channel();
    let writer = {
        let db = db.clone();
        std::thread::spawn(move || {
            for round in 0..8u32 {
                for i in 0..200u32 {
                    db.put(format!("{round}/{i:04}"), [7u8; 100]).unwrap();
                }
                db.flush().unwrap();
            }
            tx.send(()).unwrap();
        })
    };
    // A generous bound only a held writer reaches.
    if rx.recv_timeout(Duration::from_secs(120)).is_err() {
        panic!("writes were held past the L0 stop trigger with compaction off");
    }
    writer.join().unwrap();
    assert!(db.tables().iter().filter(|t| t.level == 0).count() >= 4);
    db.compact().unwrap();
    assert_eq!(db.get("7/0199").unwrap(), Some(vec![7u8; 100]));
}
