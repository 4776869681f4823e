//! Behaviour of the log: round trips, torn tails, corruption, and hostile input.

use std::sync::atomic::{AtomicU64, Ordering};

use super::format::{FILE_HEADER_LEN, MAX_RECORD_LEN, RECORD_HEADER_LEN, TORN_SECTOR, file_header};
use super::*;
use crate::error::Error;
use crate::storage::{FsStorage, ReadPath, Storage};

/// A splitmix64 generator: randomized tests print their seed and rerun from `SCIPKV_SEED`.
/// Shared with the batch and version-edit tests.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn seeded(test: &str) -> Rng {
        static SALT: AtomicU64 = AtomicU64::new(0);
        let seed = std::env::var("SCIPKV_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64);
                t ^ SALT.fetch_add(0x9e37_79b9, Ordering::Relaxed)
            });
        println!("{test}: seed {seed} (rerun with SCIPKV_SEED={seed})");
        Rng(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// A log image holding `records`, and the offset where each record starts.
fn build(kind: LogKind, records: &[Vec<u8>]) -> (Vec<u8>, Vec<usize>) {
    let mut buf = file_header(kind).to_vec();
    let mut starts = Vec::new();
    for r in records {
        starts.push(buf.len());
        LogWriter::encode_record(&mut buf, r).unwrap();
    }
    (buf, starts)
}

fn sample_records() -> Vec<Vec<u8>> {
    vec![
        b"first".to_vec(),
        Vec::new(),
        (0..200u32).map(|i| (i * 7) as u8).collect(),
        vec![0xab; 40],
    ]
}

fn decode(bytes: &[u8]) -> crate::Result<(Vec<Vec<u8>>, Tail, u64)> {
    decode_log("test.log", bytes, LogKind::Wal)
}

fn assert_torn_at(bytes: &[u8], records: &[Vec<u8>], offset: usize) {
    let (got, tail, valid) = decode(bytes).unwrap_or_else(|e| panic!("len {}: {e}", bytes.len()));
    assert_eq!(got, records, "len {}", bytes.len());
    assert!(
        matches!(tail, Tail::Torn { offset: o, .. } if o == offset as u64),
        "len {}: {tail:?}",
        bytes.len()
    );
    assert_eq!(valid, offset as u64);
}

#[test]
fn random_records_round_trip_through_storage() {
    let mut rng = Rng::seeded("random_records_round_trip_through_storage");
    let dir = tempfile::tempdir().unwrap();
    let storage = FsStorage::new(dir.path(), ReadPath::Pread).unwrap();
    let mut w = LogWriter::create(&storage, "000001.wal", LogKind::Wal).unwrap();
    assert_eq!(w.len(), FILE_HEADER_LEN as u64);
    assert_eq!(w.name(), "000001.wal");
    let mut records = Vec::new();
    let mut group = Vec::new();
    for _ in 0..40 {
        let len = match rng.below(3) {
            0 => rng.below(16),
            1 => rng.below(4096),
            _ => rng.below(100 * 1024),
        };
        let r = rng.bytes(len);
        if rng.below(2) == 0 {
            w.append_encoded(&group).unwrap();
            group.clear();
            w.add_record(&r).unwrap();
        } else {
            LogWriter::encode_record(&mut group, &r).unwrap();
            if rng.below(3) == 0 {
                w.append_encoded(&group).unwrap();
                group.clear();
            }
        }
        records.push(r);
        if group.is_empty() && rng.below(4) == 0 {
            w.sync().unwrap();
        }
    }
    w.append_encoded(&group).unwrap();
    w.sync().unwrap();
    let total = w.len();
    drop(w);

    for read_path in [ReadPath::Pread, ReadPath::Mmap] {
        let storage = FsStorage::new(dir.path(), read_path).unwrap();
        let mut r = LogReader::open(&storage, "000001.wal", LogKind::Wal).unwrap();
        let mut got = Vec::new();
        let mut offset = FILE_HEADER_LEN as u64;
        while let Some(rec) = r.next_record().unwrap() {
            assert_eq!(r.record_offset(), offset + RECORD_HEADER_LEN as u64);
            offset = r.record_offset() + rec.len() as u64;
            got.push(rec);
        }
        assert!(r.next_record().unwrap().is_none());
        assert_same(&got, &records);
        assert_eq!(r.tail(), &Tail::Clean);
        assert_eq!(r.valid_len(), total);
    }
    let bytes = storage.read_all("000001.wal").unwrap();
    let (got, tail, valid) = decode(&bytes).unwrap();
    assert_same(&got, &records);
    assert_eq!((tail, valid), (Tail::Clean, total));
}

/// Compares record lists without dumping megabytes of bytes on failure.
fn assert_same(got: &[Vec<u8>], want: &[Vec<u8>]) {
    assert_eq!(got.len(), want.len(), "record count");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g == w,
            "record {i} differs ({} vs {} bytes)",
            g.len(),
            w.len()
        );
    }
}

#[test]
fn header_only_log_is_clean_and_empty() {
    let (bytes, _) = build(LogKind::Manifest, &[]);
    let (got, tail, valid) = decode_log("m", &bytes, LogKind::Manifest).unwrap();
    assert!(got.is_empty());
    assert_eq!(tail, Tail::Clean);
    assert_eq!(valid, FILE_HEADER_LEN as u64);
}

#[test]
fn truncation_anywhere_in_the_last_record_is_a_torn_tail() {
    let mut records = sample_records();
    records.push((0..300u32).map(|i| i as u8 | 1).collect());
    let (bytes, starts) = build(LogKind::Wal, &records);
    let last = *starts.last().unwrap();
    let earlier = &records[..records.len() - 1];
    // Every cut inside the header and the payload of the last record.
    for cut in last + 1..bytes.len() {
        assert_torn_at(&bytes[..cut], earlier, last);
    }
    // A cut exactly at a record boundary is a clean, shorter log.
    let (got, tail, _) = decode(&bytes[..last]).unwrap();
    assert_eq!((got.as_slice(), tail), (earlier, Tail::Clean));
}

#[test]
fn truncation_of_an_empty_last_record_header_is_torn() {
    let records = vec![b"a".to_vec(), Vec::new()];
    let (bytes, starts) = build(LogKind::Wal, &records);
    for cut in starts[1] + 1..bytes.len() {
        assert_torn_at(&bytes[..cut], &records[..1], starts[1]);
    }
}

#[test]
fn zero_filled_tails_are_torn() {
    let records = sample_records();
    let (bytes, starts) = build(LogKind::Wal, &records);
    for zeros in [1, 5, 15, 16, 17, 4096, 200_000] {
        let mut b = bytes.clone();
        b.resize(b.len() + zeros, 0);
        assert_torn_at(&b, &records, bytes.len());
    }
    let last = *starts.last().unwrap();
    let earlier = &records[..records.len() - 1];
    // The last record partly or wholly zeroed, with or without zeros after it.
    for from in [
        last,
        last + 4,
        last + 12,
        last + RECORD_HEADER_LEN,
        bytes.len() - 1,
    ] {
        for extra in [0, 1, 100] {
            let mut b = bytes.clone();
            b[from..].fill(0);
            b.resize(b.len() + extra, 0);
            assert_torn_at(&b, earlier, last);
        }
    }
}

#[test]
fn an_all_zero_record_header_fails_its_check() {
    assert!(format::parse_record_header(&[0; RECORD_HEADER_LEN]).is_none());
}

#[test]
fn a_flipped_bit_before_the_last_record_is_corruption() {
    let records = sample_records();
    let (bytes, starts) = build(LogKind::Wal, &records);
    let last = *starts.last().unwrap();
    for i in 0..last {
        for bit in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= bit;
            let err = decode(&b).expect_err(&format!("flip at {i} went unnoticed"));
            let Error::Corruption { file, offset, .. } = err else {
                panic!("flip at {i}: {err}");
            };
            assert_eq!(file, "test.log");
            // Reported at the damaged record's start (or the file header).
            let expected = starts
                .iter()
                .rev()
                .find(|&&s| s <= i)
                .map_or(0, |&s| s as u64);
            assert_eq!(offset, expected, "flip at {i}");
        }
    }
}

#[test]
fn a_flipped_bit_in_the_last_record_never_yields_a_wrong_record() {
    let records = sample_records();
    let (bytes, starts) = build(LogKind::Wal, &records);
    let last = *starts.last().unwrap();
    let earlier = &records[..records.len() - 1];
    for i in last..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x10;
        match decode(&b) {
            Ok((got, tail, valid)) => {
                assert_eq!(got, earlier, "flip at {i}");
                assert!(matches!(tail, Tail::Torn { .. }), "flip at {i}: {tail:?}");
                assert_eq!(valid, last as u64);
            }
            Err(e) => assert!(e.is_corruption(), "flip at {i}: {e}"),
        }
    }
    // A payload flip in a record ending at EOF is exactly the torn-write case.
    let mut b = bytes.clone();
    *b.last_mut().unwrap() ^= 1;
    assert_torn_at(&b, earlier, last);
}

#[test]
fn garbage_after_a_damaged_record_in_the_last_sector_is_torn() {
    // A power loss can leave the last sector partly written: the record's tail and what
    // follows it are stale or random bytes up to the sector's end.
    let records = sample_records();
    let (mut bytes, starts) = build(LogKind::Wal, &records);
    let last = *starts.last().unwrap();
    assert!(
        bytes.len() < TORN_SECTOR as usize,
        "the sample fits one sector"
    );
    bytes[last + RECORD_HEADER_LEN] ^= 1;
    bytes.push(7);
    assert_torn_at(&bytes, &records[..records.len() - 1], last);
    bytes.resize(TORN_SECTOR as usize, 0x5a);
    assert_torn_at(&bytes, &records[..records.len() - 1], last);
    // The same for a damaged header.
    let (mut bytes, _) = build(LogKind::Wal, &records);
    bytes[last] ^= 0x40;
    bytes.extend_from_slice(&[0xee; 9]);
    assert_torn_at(&bytes, &records[..records.len() - 1], last);
}

#[test]
fn bytes_beyond_a_damaged_records_sector_make_it_corruption() {
    let records = sample_records();
    let (mut bytes, starts) = build(LogKind::Wal, &records);
    let last = *starts.last().unwrap();
    bytes[last + RECORD_HEADER_LEN] ^= 1;
    // Non-zero bytes reaching a later sector: the damaged record is not in the last sector,
    // so the damage is not a torn final write.
    bytes.resize(TORN_SECTOR as usize + 100, 7);
    let err = decode(&bytes).unwrap_err();
    assert!(matches!(err, Error::Corruption { offset, .. } if offset == last as u64));
    // A damaged header the same way.
    let (mut bytes, _) = build(LogKind::Wal, &records);
    bytes[last + 2] ^= 1;
    bytes.resize(TORN_SECTOR as usize + 1, 7);
    let err = decode(&bytes).unwrap_err();
    assert!(matches!(err, Error::Corruption { offset, .. } if offset == last as u64));
}

#[test]
fn damage_followed_by_an_intact_record_is_corruption_even_in_the_last_sector() {
    let records = sample_records();
    let n = records.len();
    let (bytes, starts) = build(LogKind::Wal, &records);
    // Payload and header damage of the second-to-last record; the last one is intact.
    for at in [starts[n - 2] + RECORD_HEADER_LEN, starts[n - 2] + 3] {
        let mut b = bytes.clone();
        b[at] ^= 0x08;
        let err = decode(&b).unwrap_err();
        assert!(
            matches!(err, Error::Corruption { offset, .. } if offset == starts[n - 2] as u64),
            "damage at {at}: {err}"
        );
    }
}

#[test]
fn a_partly_written_last_sector_never_loses_a_record_before_it() {
    // The power-loss model of `FaultStorage` (garbage mode): the log is cut at a random
    // length, and the last sector is stale or random from a random point, the file possibly
    // extending to the sector's end. Every record that ends before the damage is recovered.
    let mut rng = Rng::seeded("a_partly_written_last_sector_never_loses_a_record_before_it");
    for round in 0..3000 {
        let count = 1 + rng.below(12);
        let records: Vec<Vec<u8>> = (0..count)
            .map(|_| {
                let n = rng.below(400);
                rng.bytes(n)
            })
            .collect();
        let (mut b, starts) = build(LogKind::Wal, &records);
        let cut = FILE_HEADER_LEN + 1 + rng.below(b.len() - FILE_HEADER_LEN);
        b.truncate(cut);
        let sector = TORN_SECTOR as usize;
        let sector_start = (cut - 1) / sector * sector;
        let from =
            sector_start.max(FILE_HEADER_LEN) + rng.below(cut - sector_start.max(FILE_HEADER_LEN));
        let to = if rng.below(2) == 0 {
            cut
        } else {
            sector_start + sector
        };
        b.resize(to, 0);
        let zeros = rng.below(2) == 0;
        for x in &mut b[from..to] {
            *x = if zeros { 0 } else { rng.next() as u8 };
        }
        let (got, _, _) =
            decode(&b).unwrap_or_else(|e| panic!("round {round}: cut {cut}, from {from}: {e}"));
        let intact = starts
            .iter()
            .zip(&records)
            .take_while(|(s, r)| *s + RECORD_HEADER_LEN + r.len() <= from)
            .count();
        assert!(
            got.len() >= intact,
            "round {round}: lost a record before the damage"
        );
        assert_eq!(got, records[..got.len()], "round {round}");
    }
}

#[test]
fn an_oversized_length_with_a_valid_header_is_corruption() {
    let (mut bytes, _) = build(LogKind::Wal, &[]);
    let start = bytes.len();
    let mut h = [0u8; RECORD_HEADER_LEN];
    h[..4].copy_from_slice(&(MAX_RECORD_LEN as u32 + 1).to_le_bytes());
    let check = format::header_check(&h[..12]);
    h[12..].copy_from_slice(&check.to_le_bytes());
    bytes.extend_from_slice(&h);
    bytes.extend_from_slice(&[1; 64]);
    let err = decode(&bytes).unwrap_err();
    assert!(matches!(err, Error::Corruption { offset, .. } if offset == start as u64));
}

#[test]
fn a_valid_header_claiming_more_than_the_file_is_torn() {
    let (mut bytes, _) = build(LogKind::Wal, &[b"x".to_vec()]);
    let start = bytes.len();
    let mut rec = Vec::new();
    LogWriter::encode_record(&mut rec, &[9; 1000]).unwrap();
    bytes.extend_from_slice(&rec[..RECORD_HEADER_LEN + 10]);
    assert_torn_at(&bytes, &[b"x".to_vec()], start);
}

#[test]
fn bad_file_headers_are_corruption() {
    let (good, _) = build(LogKind::Wal, &[b"r".to_vec()]);
    let corrupt = |b: &[u8], kind: LogKind| -> String {
        match decode_log("f", b, kind) {
            Err(Error::Corruption {
                offset: 0, what, ..
            }) => what,
            other => panic!("expected corruption at 0, got {other:?}"),
        }
    };
    let mut b = good.clone();
    b[0] = b'X';
    assert!(corrupt(&b, LogKind::Wal).contains("magic"));
    let mut b = good.clone();
    b[20] ^= 1;
    assert!(corrupt(&b, LogKind::Wal).contains("checksum"));
    // A well-formed header of another version or kind, checksum recomputed.
    let mut b = good.clone();
    b[8] = 2;
    let sum = crate::checksum::xxh3(&b[..16]);
    b[16..24].copy_from_slice(&sum.to_le_bytes());
    assert!(corrupt(&b, LogKind::Wal).contains("version 2"));
    assert!(corrupt(&good, LogKind::Manifest).contains("kind 1"));
    // A file shorter than the header that holds an intact record was written past its start,
    // so the damage came later.
    let mut b = b"SCI".to_vec();
    b.extend_from_slice(&format::record_header(b"r"));
    b.push(b'r');
    assert!(b.len() < FILE_HEADER_LEN);
    assert!(corrupt(&b, LogKind::Wal).contains("shorter"));
    // A damaged header in a file longer than one sector: the first sector was complete.
    let mut b = file_header(LogKind::Wal).to_vec();
    b[3] ^= 0x40;
    b.resize(TORN_SECTOR as usize + 1, 0x5a);
    assert!(corrupt(&b, LogKind::Wal).contains("magic"));
}

/// Power loss keeps a prefix of an unsynced file's sectors and the last kept one may end in
/// stale or random bytes: a new log whose header never reached the disk intact reads as
/// holding nothing, not as corruption (found by the `db_ops` fuzz target: a WAL created at
/// open whose sync failed, its directory entry kept by the crash).
#[test]
fn a_garbled_header_in_the_only_sector_is_torn_at_zero() {
    let mut rng = Rng::seeded("a_garbled_header_in_the_only_sector_is_torn_at_zero");
    let header = file_header(LogKind::Wal);
    for _ in 0..500 {
        let len = 1 + rng.below(TORN_SECTOR as usize);
        let from = rng.below(len.min(FILE_HEADER_LEN));
        let mut b = header.to_vec();
        b.resize(len, 0);
        for x in &mut b[from..] {
            *x = rng.next() as u8;
        }
        if b.len() >= FILE_HEADER_LEN && b[..FILE_HEADER_LEN] == header[..] {
            continue;
        }
        let (got, tail, valid) = decode(&b).unwrap_or_else(|e| panic!("{b:?}: {e}"));
        assert!(got.is_empty(), "{b:?}");
        assert!(
            matches!(tail, Tail::Torn { offset: 0, .. }),
            "{b:?}: {tail:?}"
        );
        assert_eq!(valid, 0);
    }
    // Short files that are not a prefix of the header.
    for b in [&b"SCIPKVLX"[..], &header[1..]] {
        let (_, tail, _) = decode(b).unwrap();
        assert!(
            matches!(tail, Tail::Torn { offset: 0, .. }),
            "{b:?}: {tail:?}"
        );
    }
}

#[test]
fn torn_or_zeroed_file_headers_are_torn_at_zero() {
    let (good, _) = build(LogKind::Wal, &[]);
    let zeros = vec![0u8; 100];
    let mut cases: Vec<&[u8]> = vec![&[], &zeros[..3], &zeros[..24], &zeros];
    for cut in 1..FILE_HEADER_LEN {
        cases.push(&good[..cut]);
    }
    for b in cases {
        let (got, tail, valid) = decode(b).unwrap();
        assert!(got.is_empty());
        assert!(
            matches!(tail, Tail::Torn { offset: 0, .. }),
            "{b:?}: {tail:?}"
        );
        assert_eq!(valid, 0);
    }
}

#[test]
fn corruption_is_sticky_in_the_streaming_reader() {
    let records = sample_records();
    let (mut bytes, starts) = build(LogKind::Wal, &records);
    bytes[starts[1] + 2] ^= 4;
    let dir = tempfile::tempdir().unwrap();
    let storage = FsStorage::new(dir.path(), ReadPath::Mmap).unwrap();
    let mut w = storage.create("x.log").unwrap();
    w.append(&bytes).unwrap();
    drop(w);
    let mut r = LogReader::open(&storage, "x.log", LogKind::Wal).unwrap();
    assert_eq!(r.next_record().unwrap().unwrap(), records[0]);
    assert!(r.next_record().unwrap_err().is_corruption());
    assert!(r.next_record().unwrap_err().is_corruption());
    assert_eq!(r.valid_len(), starts[1] as u64);
}

#[test]
fn oversized_payloads_are_rejected_by_the_writer() {
    // Zeroed allocations are lazily backed, so this does not touch 512 MiB.
    let huge = vec![0u8; MAX_RECORD_LEN + 1];
    let mut buf = Vec::new();
    let err = LogWriter::encode_record(&mut buf, &huge).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)));
    assert!(buf.is_empty());
}

#[test]
fn random_bytes_and_mutations_never_panic_or_invent_records() {
    let mut rng = Rng::seeded("random_bytes_and_mutations_never_panic_or_invent_records");
    let header = file_header(LogKind::Wal);
    for _ in 0..2000 {
        let n = rng.below(200);
        let mut b = rng.bytes(n);
        if rng.below(2) == 0 {
            b.splice(0..0, header);
        }
        let _ = decode(&b);
    }
    for _ in 0..3000 {
        let count = 1 + rng.below(6);
        let records: Vec<Vec<u8>> = (0..count)
            .map(|_| {
                let n = rng.below(300);
                rng.bytes(n)
            })
            .collect();
        let (mut b, _) = build(LogKind::Wal, &records);
        // Flips, truncations and zeroed ranges must only ever shorten the record list.
        for _ in 0..1 + rng.below(3) {
            let len = b.len();
            match rng.below(3) {
                0 => b[rng.below(len)] ^= 1 << rng.below(8),
                1 => b.truncate(rng.below(len)),
                _ => {
                    let from = rng.below(len);
                    let to = (from + rng.below(64)).min(len);
                    b[from..to].fill(0);
                }
            }
            if b.is_empty() {
                break;
            }
        }
        if let Ok((got, _, valid)) = decode(&b) {
            assert!(valid <= b.len() as u64);
            assert!(got.len() <= records.len());
            assert_eq!(got, records[..got.len()]);
        }
        // Insertions and duplicated regions: no panic is all that can be promised.
        let (mut b, _) = build(LogKind::Wal, &records);
        let at = rng.below(b.len());
        let n = 1 + rng.below(32);
        let extra = rng.bytes(n);
        b.splice(at..at, extra);
        let _ = decode(&b);
    }
}

/// Parses a spec-style hex dump ("53 43 ...").
pub(crate) fn unhex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// The worked example in format-spec/wal.md: if this changes, the format changed.
#[test]
fn wal_spec_worked_example_is_stable() {
    let mut batch = crate::batch::WriteBatch::new();
    batch.put("key", "value");
    batch.delete("old");
    let mut payload = Vec::new();
    batch.encode_payload(42, &mut payload);
    let (bytes, _) = build(LogKind::Wal, &[payload]);
    let expected = unhex(
        "53 43 49 50 4b 56 4c 47 01 00 00 00 01 00 00 00 c0 50 c8 94 3e a7 83 4c
         1c 00 00 00 e3 8d a3 b0 32 6e 1e e2 ae 8f 4f 5b
         2a 00 00 00 00 00 00 00 02 00 00 00
         01 03 6b 65 79 05 76 61 6c 75 65
         00 03 6f 6c 64",
    );
    assert_eq!(bytes, expected);
    let (records, tail, _) = decode(&bytes).unwrap();
    assert_eq!(tail, Tail::Clean);
    let d = crate::batch::decode_payload(&records[0], "w", 40).unwrap();
    assert_eq!((d.first_seq, d.ops.len()), (42, 2));
}

/// A storage whose files fail every append after the first `ok_appends`.
#[derive(Debug)]
struct FailingStorage {
    inner: FsStorage,
    ok_appends: usize,
}

#[derive(Debug)]
struct FailingFile {
    inner: Box<dyn crate::storage::WritableFile>,
    ok_appends: usize,
}

impl crate::storage::WritableFile for FailingFile {
    fn append(&mut self, data: &[u8]) -> std::io::Result<()> {
        if self.ok_appends == 0 {
            // A short write: half the data lands, then the error.
            self.inner.append(&data[..data.len() / 2])?;
            return Err(std::io::Error::other("injected append failure"));
        }
        self.ok_appends -= 1;
        self.inner.append(data)
    }
    fn sync(&mut self) -> std::io::Result<()> {
        self.inner.sync()
    }
    fn len(&self) -> u64 {
        self.inner.len()
    }
}

impl Storage for FailingStorage {
    fn create(&self, name: &str) -> std::io::Result<Box<dyn crate::storage::WritableFile>> {
        Ok(Box::new(FailingFile {
            inner: self.inner.create(name)?,
            ok_appends: self.ok_appends,
        }))
    }
    fn open_read(
        &self,
        name: &str,
    ) -> std::io::Result<std::sync::Arc<dyn crate::storage::RandomAccessFile>> {
        self.inner.open_read(name)
    }
    fn rename(&self, from: &str, to: &str) -> std::io::Result<()> {
        self.inner.rename(from, to)
    }
    fn remove(&self, name: &str) -> std::io::Result<()> {
        self.inner.remove(name)
    }
    fn truncate(&self, name: &str, len: u64) -> std::io::Result<()> {
        self.inner.truncate(name, len)
    }
    fn list(&self) -> std::io::Result<Vec<String>> {
        self.inner.list()
    }
    fn sync_dir(&self) -> std::io::Result<()> {
        self.inner.sync_dir()
    }
    fn lock(&self) -> std::io::Result<Box<dyn crate::storage::LockGuard>> {
        self.inner.lock()
    }
}

#[test]
fn a_failed_append_poisons_the_writer_and_leaves_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let storage = FailingStorage {
        inner: FsStorage::new(dir.path(), ReadPath::Pread).unwrap(),
        ok_appends: 2, // the file header and one record
    };
    let mut w = LogWriter::create(&storage, "1.wal", LogKind::Wal).unwrap();
    w.add_record(b"durable").unwrap();
    let good_len = w.len();
    let err = w.add_record(&[5u8; 100]).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(matches!(w.add_record(b"after"), Err(Error::Poisoned(_))));
    assert!(matches!(w.sync(), Err(Error::Poisoned(_))));
    drop(w);
    let mut r = LogReader::open(&storage, "1.wal", LogKind::Wal).unwrap();
    assert_eq!(r.next_record().unwrap().unwrap(), b"durable");
    assert!(r.next_record().unwrap().is_none());
    assert!(matches!(r.tail(), Tail::Torn { offset, .. } if *offset == good_len));
    assert_eq!(r.valid_len(), good_len);
}

#[test]
fn records_framed_in_place_equal_framed_copies() {
    let mut rng = Rng::seeded("records_framed_in_place_equal_framed_copies");
    let mut copied = Vec::new();
    let mut in_place = Vec::new();
    for _ in 0..50 {
        let n = rng.below(3000);
        let payload = rng.bytes(n);
        LogWriter::encode_record(&mut copied, &payload).unwrap();
        LogWriter::encode_record_with(&mut in_place, |b| b.extend_from_slice(&payload)).unwrap();
    }
    assert_eq!(copied, in_place);
    // An oversized payload is refused and leaves the buffer as it was.
    let before = in_place.clone();
    let err =
        LogWriter::encode_record_with(&mut in_place, |b| b.resize(b.len() + MAX_RECORD_LEN + 1, 7))
            .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert_eq!(in_place, before);
}
