//! Regression: a power loss can leave the live WAL segment's last sector partly written, the
//! final (unacknowledged) record's tail and what follows it random bytes. The WAL reader
//! called a bad final record torn only when zeros followed it, so it reported this as
//! `Corruption` and the database refused to open, though every acknowledged write was intact
//! before it (`fault_power_loss`, garbage mode, seed 1795256361383446243; tests/RELIABILITY.md).
//! Here the tail is made by hand: a record header for a payload that never fully arrived,
//! part of the payload, then random bytes to the end of the sector.

mod common;

use scipkv_engine::{Db, Options, SyncMode};

fn opts() -> Options {
    Options {
        sync: SyncMode::Always,
        ..Options::default()
    }
}

fn live_segment(dir: &std::path::Path) -> std::path::PathBuf {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    v.sort();
    v.pop().expect("a WAL segment")
}

/// A record header (format-spec/wal.md) for `payload`: length, payload xxh3, header check.
fn record_header(payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    h.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(payload).to_le_bytes());
    let check = xxhash_rust::xxh3::xxh3_64(&h) as u32;
    h.extend_from_slice(&check.to_le_bytes());
    h
}

fn check(to_sector_end: bool, header_too: bool) {
    let dir = tempfile::tempdir().unwrap();
    let writes;
    {
        let db = Db::open(dir.path(), opts()).unwrap();
        // At least 20 writes, ending early in a sector so the lost record can start there.
        let mut i = 0u32;
        while i < 20
            || !(50..300)
                .contains(&(std::fs::metadata(live_segment(dir.path())).unwrap().len() % 512))
        {
            let (k, v) = common::numbered(i);
            db.put(k, v).unwrap();
            i += 1;
            assert!(i < 1000, "the WAL never ended early in a sector");
        }
        writes = i;
        // Dropped without close: the writes stay in the WAL only.
        drop(db);
    }
    let wal = live_segment(dir.path());
    let mut bytes = std::fs::read(&wal).unwrap();
    let acknowledged_len = bytes.len();
    assert!(
        acknowledged_len > 24,
        "the writes must be in the WAL for this test"
    );
    // The lost write: a whole record, then from somewhere in its payload to the end of its
    // sector (or a bit short of it), random bytes, as a partly written sector leaves it. The
    // payload length puts the record's end mid-sector, so non-zero bytes follow the record.
    let mut len = if header_too { 60 } else { 300 };
    while !(100..400).contains(&((acknowledged_len + 16 + len) % 512)) {
        len += 1;
    }
    let payload: Vec<u8> = (0..len as u32).map(|i| (i * 31 + 7) as u8).collect();
    bytes.extend_from_slice(&record_header(&payload));
    bytes.extend_from_slice(&payload);
    let record_end = bytes.len();
    let sector_start = record_end / 512 * 512;
    // With `header_too` the random bytes start inside the record's header.
    let from = if header_too {
        acknowledged_len + 5
    } else {
        record_end - len / 2
    }
    .max(sector_start);
    let to = if to_sector_end {
        sector_start + 512
    } else {
        record_end + 40
    };
    bytes.resize(to, 0);
    // A fixed seed: the layout is deterministic, only the garbage bytes come from it.
    let mut rng = common::Rng::new(0x9e37_79b9_7f4a_7c15);
    for b in &mut bytes[from..to] {
        *b = rng.next_u64() as u8 | 1;
    }
    std::fs::write(&wal, &bytes).unwrap();

    let db = Db::open(dir.path(), opts()).unwrap_or_else(|e| panic!("reopen refused: {e}"));
    let info = db.recovery_info().clone();
    assert!(info.torn_tail.is_some(), "{info:?}");
    common::assert_numbered_writes(&db, writes);
    db.close().unwrap();
}

#[test]
fn random_bytes_after_a_half_written_record_are_a_torn_tail() {
    check(false, false);
}

#[test]
fn random_bytes_to_the_sector_end_are_a_torn_tail() {
    check(true, false);
}

#[test]
fn a_damaged_header_with_random_bytes_after_it_is_a_torn_tail() {
    check(true, true);
}
