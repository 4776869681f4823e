//! VersionEdit: one manifest record, the change from one set of live tables to the next.
//!
//! Encoded as tagged fields (tag table in format-spec/manifest.md, "Edit tags"). An unknown
//! tag is corruption rather than skipped: a field an old binary does not understand may change
//! what is live, so misreading a newer manifest is worse than refusing it.

use std::cmp::Ordering;

use crate::coding::{DecodeError, Reader, put_bytes, put_varint};
use crate::error::{Error, Result};
use crate::key::{MAX_KEY_LEN, MAX_SEQNO, TRAILER_LEN, compare_internal};

/// Levels are numbered `0..NUM_LEVELS`.
pub const NUM_LEVELS: u32 = 16;

/// Largest internal key a table boundary may hold.
pub const MAX_INTERNAL_KEY_LEN: usize = MAX_KEY_LEN + TRAILER_LEN;

/// Field tags. Never renumber or reuse one, even after it is retired; 0 is reserved so a
/// zeroed payload never decodes.
pub mod tag {
    pub const LOG_NUMBER: u64 = 1;
    pub const NEXT_FILE_NUMBER: u64 = 2;
    pub const LAST_SEQNO: u64 = 3;
    pub const DELETED_TABLE: u64 = 4;
    pub const NEW_TABLE: u64 = 5;
}

/// A table file as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMeta {
    pub number: u64,
    pub file_size: u64,
    /// Smallest internal key in the table.
    pub smallest: Vec<u8>,
    /// Largest internal key in the table.
    pub largest: Vec<u8>,
    pub smallest_seq: u64,
    pub largest_seq: u64,
    pub num_entries: u64,
}

/// A change to the version: fields left `None` are unchanged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VersionEdit {
    /// WALs numbered below this are fully reflected in tables and may be deleted.
    pub log_number: Option<u64>,
    pub next_file_number: Option<u64>,
    pub last_seqno: Option<u64>,
    /// (level, table) added.
    pub new_tables: Vec<(u32, TableMeta)>,
    /// (level, file number) removed.
    pub deleted_tables: Vec<(u32, u64)>,
}

impl VersionEdit {
    /// Appends the encoding. Field order is fixed (scalars, deletions, additions) so equal
    /// edits encode to equal bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        for (t, v) in [
            (tag::LOG_NUMBER, self.log_number),
            (tag::NEXT_FILE_NUMBER, self.next_file_number),
            (tag::LAST_SEQNO, self.last_seqno),
        ] {
            if let Some(v) = v {
                put_varint(out, t);
                put_varint(out, v);
            }
        }
        for &(level, number) in &self.deleted_tables {
            put_varint(out, tag::DELETED_TABLE);
            put_varint(out, u64::from(level));
            put_varint(out, number);
        }
        for (level, t) in &self.new_tables {
            put_varint(out, tag::NEW_TABLE);
            put_varint(out, u64::from(*level));
            put_varint(out, t.number);
            put_varint(out, t.file_size);
            put_bytes(out, &t.smallest);
            put_bytes(out, &t.largest);
            put_varint(out, t.smallest_seq);
            put_varint(out, t.largest_seq);
            put_varint(out, t.num_entries);
        }
    }

    /// Decodes one manifest record. `file` and `offset` (of the payload's first byte) locate
    /// errors; every rejection is `Error::Corruption`.
    pub fn decode(payload: &[u8], file: &str, offset: u64) -> Result<VersionEdit> {
        decode(payload).map_err(|e| {
            Error::corruption(
                file,
                offset.saturating_add(e.pos as u64),
                format!("version edit: {}", e.what),
            )
        })
    }
}

fn decode(payload: &[u8]) -> Result<VersionEdit, DecodeError> {
    let mut r = Reader::new(payload);
    let mut e = VersionEdit::default();
    while !r.is_empty() {
        let at = r.pos();
        let t = r.varint("tag")?;
        match t {
            tag::LOG_NUMBER => {
                set_once(&mut e.log_number, r.varint("log number")?, at, "log number")?
            }
            tag::NEXT_FILE_NUMBER => set_once(
                &mut e.next_file_number,
                r.varint("next file number")?,
                at,
                "next file number",
            )?,
            tag::LAST_SEQNO => {
                let s = r.varint_max(MAX_SEQNO, "last seqno")?;
                set_once(&mut e.last_seqno, s, at, "last seqno")?;
            }
            tag::DELETED_TABLE => {
                let level = level(&mut r)?;
                let number = r.varint("deleted file number")?;
                e.deleted_tables.push((level, number));
            }
            tag::NEW_TABLE => {
                let level = level(&mut r)?;
                let t = table_meta(&mut r, at)?;
                e.new_tables.push((level, t));
            }
            _ => return Err(DecodeError::new(at, format!("unknown tag {t}"))),
        }
    }
    Ok(e)
}

fn set_once(slot: &mut Option<u64>, v: u64, at: usize, what: &str) -> Result<(), DecodeError> {
    if slot.is_some() {
        return Err(DecodeError::new(at, format!("{what} appears twice")));
    }
    *slot = Some(v);
    Ok(())
}

fn level(r: &mut Reader<'_>) -> Result<u32, DecodeError> {
    let l = r.varint_max(u64::from(NUM_LEVELS - 1), "level")?;
    Ok(l as u32)
}

fn internal_key(r: &mut Reader<'_>, what: &str) -> Result<Vec<u8>, DecodeError> {
    let len = r.varint_max(MAX_INTERNAL_KEY_LEN as u64, what)?;
    if len < TRAILER_LEN as u64 {
        return Err(r.err(format!("{what}: {len} bytes, shorter than a key trailer")));
    }
    Ok(r.bytes(len as usize, what)?.to_vec())
}

fn table_meta(r: &mut Reader<'_>, at: usize) -> Result<TableMeta, DecodeError> {
    let t = TableMeta {
        number: r.varint("table number")?,
        file_size: r.varint("table file size")?,
        smallest: internal_key(r, "smallest key")?,
        largest: internal_key(r, "largest key")?,
        smallest_seq: r.varint_max(MAX_SEQNO, "smallest seqno")?,
        largest_seq: r.varint_max(MAX_SEQNO, "largest seqno")?,
        num_entries: r.varint("entry count")?,
    };
    if t.smallest_seq > t.largest_seq {
        return Err(DecodeError::new(
            at,
            format!(
                "table {}: smallest seqno {} above largest {}",
                t.number, t.smallest_seq, t.largest_seq
            ),
        ));
    }
    if compare_internal(&t.smallest, &t.largest) == Ordering::Greater {
        return Err(DecodeError::new(
            at,
            format!("table {}: smallest key sorts after largest", t.number),
        ));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::make_internal_key;
    use crate::log::tests::Rng;

    fn random_key(rng: &mut Rng, seq: u64) -> Vec<u8> {
        let n = rng.below(24);
        make_internal_key(&rng.bytes(n), seq, 1)
    }

    fn random_edit(rng: &mut Rng) -> VersionEdit {
        let opt = |rng: &mut Rng, max: u64| (rng.below(2) == 0).then(|| rng.next() % max);
        let mut e = VersionEdit {
            log_number: opt(rng, u64::MAX),
            next_file_number: opt(rng, u64::MAX),
            last_seqno: opt(rng, MAX_SEQNO + 1),
            ..VersionEdit::default()
        };
        for _ in 0..rng.below(5) {
            e.deleted_tables.push((rng.below(16) as u32, rng.next()));
        }
        for _ in 0..rng.below(5) {
            let a = rng.next() % MAX_SEQNO;
            let b = rng.next() % MAX_SEQNO;
            let (lo, hi) = (a.min(b), a.max(b));
            let mut k1 = random_key(rng, lo);
            let mut k2 = random_key(rng, hi);
            if compare_internal(&k1, &k2) == Ordering::Greater {
                std::mem::swap(&mut k1, &mut k2);
            }
            e.new_tables.push((
                rng.below(16) as u32,
                TableMeta {
                    number: rng.next(),
                    file_size: rng.next() >> rng.below(64),
                    smallest: k1,
                    largest: k2,
                    smallest_seq: lo,
                    largest_seq: hi,
                    num_entries: rng.next() >> rng.below(64),
                },
            ));
        }
        e
    }

    fn encoded(e: &VersionEdit) -> Vec<u8> {
        let mut out = Vec::new();
        e.encode(&mut out);
        out
    }

    fn corruption(payload: &[u8]) -> (u64, String) {
        match VersionEdit::decode(payload, "MANIFEST-000001", 500) {
            Err(Error::Corruption { offset, what, .. }) => (offset, what),
            other => panic!("expected corruption, got {other:?}"),
        }
    }

    fn sample_table() -> TableMeta {
        TableMeta {
            number: 7,
            file_size: 4096,
            smallest: make_internal_key(b"a", 3, 1),
            largest: make_internal_key(b"z", 9, 1),
            smallest_seq: 3,
            largest_seq: 9,
            num_entries: 100,
        }
    }

    #[test]
    fn random_edits_round_trip() {
        let mut rng = Rng::seeded("random_edits_round_trip");
        for _ in 0..1000 {
            let e = random_edit(&mut rng);
            let bytes = encoded(&e);
            assert_eq!(VersionEdit::decode(&bytes, "m", 0).unwrap(), e);
        }
        assert_eq!(
            VersionEdit::decode(&[], "m", 0).unwrap(),
            VersionEdit::default()
        );
    }

    #[test]
    fn unknown_and_reserved_tags_are_corruption() {
        for t in [0u64, 6, 99, u64::MAX] {
            let mut p = encoded(&VersionEdit {
                log_number: Some(3),
                ..VersionEdit::default()
            });
            let at = p.len() as u64;
            put_varint(&mut p, t);
            put_varint(&mut p, 1);
            let (offset, what) = corruption(&p);
            assert_eq!(offset, 500 + at);
            assert!(what.contains(&format!("unknown tag {t}")), "{what}");
        }
    }

    #[test]
    fn every_truncation_is_corruption() {
        let e = VersionEdit {
            log_number: Some(300),
            next_file_number: Some(1 << 40),
            last_seqno: Some(MAX_SEQNO),
            new_tables: vec![(6, sample_table())],
            deleted_tables: vec![(2, 11)],
        };
        let bytes = encoded(&e);
        // Cuts at field boundaries decode to a smaller edit (the log record's checksum, not
        // the edit, guards against those); every other cut must fail.
        let mut boundaries = vec![0];
        for prefix in [
            VersionEdit {
                log_number: e.log_number,
                ..VersionEdit::default()
            },
            VersionEdit {
                log_number: e.log_number,
                next_file_number: e.next_file_number,
                ..VersionEdit::default()
            },
            VersionEdit {
                new_tables: Vec::new(),
                deleted_tables: Vec::new(),
                ..e.clone()
            },
            VersionEdit {
                new_tables: Vec::new(),
                ..e.clone()
            },
        ] {
            boundaries.push(encoded(&prefix).len());
        }
        for cut in 0..bytes.len() {
            let r = VersionEdit::decode(&bytes[..cut], "m", 0);
            if boundaries.contains(&cut) {
                assert!(r.is_ok(), "cut {cut}");
            } else {
                assert!(r.unwrap_err().is_corruption(), "cut {cut}");
            }
        }
    }

    #[test]
    fn out_of_range_fields_are_corruption() {
        let table_edit = |level: u32, t: TableMeta| VersionEdit {
            new_tables: vec![(level, t)],
            ..VersionEdit::default()
        };
        assert!(
            corruption(&encoded(&table_edit(16, sample_table())))
                .1
                .contains("level")
        );
        let deleted = VersionEdit {
            deleted_tables: vec![(NUM_LEVELS, 1)],
            ..VersionEdit::default()
        };
        assert!(corruption(&encoded(&deleted)).1.contains("level"));
        let mut t = sample_table();
        t.smallest = vec![0; 7];
        assert!(
            corruption(&encoded(&table_edit(0, t)))
                .1
                .contains("shorter")
        );
        let mut t = sample_table();
        t.largest = vec![b'k'; MAX_INTERNAL_KEY_LEN + 1];
        assert!(
            corruption(&encoded(&table_edit(0, t)))
                .1
                .contains("largest key")
        );
        let mut t = sample_table();
        t.smallest_seq = 10;
        assert!(corruption(&encoded(&table_edit(0, t))).1.contains("seqno"));
        let mut t = sample_table();
        std::mem::swap(&mut t.smallest, &mut t.largest);
        assert!(
            corruption(&encoded(&table_edit(0, t)))
                .1
                .contains("sorts after")
        );
        let mut t = sample_table();
        t.largest_seq = MAX_SEQNO + 1;
        assert!(
            corruption(&encoded(&table_edit(0, t)))
                .1
                .contains("largest seqno")
        );
        let seq = VersionEdit {
            last_seqno: Some(MAX_SEQNO + 1),
            ..VersionEdit::default()
        };
        assert!(corruption(&encoded(&seq)).1.contains("last seqno"));
        // The largest legal key is accepted.
        let mut t = sample_table();
        t.largest = make_internal_key(&vec![b'z'; MAX_KEY_LEN], 9, 1);
        VersionEdit::decode(&encoded(&table_edit(15, t)), "m", 0).unwrap();
    }

    #[test]
    fn repeated_scalar_fields_are_corruption() {
        let mut p = encoded(&VersionEdit {
            next_file_number: Some(5),
            ..VersionEdit::default()
        });
        let again = p.clone();
        p.extend_from_slice(&again);
        assert!(corruption(&p).1.contains("twice"));
    }

    /// The worked example in format-spec/manifest.md: if this changes, the format changed.
    #[test]
    fn manifest_spec_worked_example_is_stable() {
        let e = VersionEdit {
            log_number: Some(5),
            next_file_number: Some(7),
            last_seqno: Some(43),
            new_tables: vec![(
                0,
                TableMeta {
                    number: 6,
                    file_size: 2048,
                    smallest: make_internal_key(b"key", 42, 1),
                    largest: make_internal_key(b"old", 43, 0),
                    smallest_seq: 42,
                    largest_seq: 43,
                    num_entries: 2,
                },
            )],
            deleted_tables: vec![(0, 3)],
        };
        let mut file = crate::log::format::file_header(crate::log::LogKind::Manifest).to_vec();
        crate::log::LogWriter::encode_record(&mut file, &encoded(&e)).unwrap();
        let expected = crate::log::tests::unhex(
            "53 43 49 50 4b 56 4c 47 01 00 00 00 02 00 00 00 7f 09 91 41 20 44 2c fd
             29 00 00 00 b8 16 26 1b 7a 1b 0d 8a d8 74 7c db
             01 05 02 07 03 2b
             04 00 03
             05 00 06 80 10
             0b 6b 65 79 01 2a 00 00 00 00 00 00
             0b 6f 6c 64 00 2b 00 00 00 00 00 00
             2a 2b 02",
        );
        assert_eq!(file, expected);
        let (records, _, _) =
            crate::log::decode_log("m", &file, crate::log::LogKind::Manifest).unwrap();
        assert_eq!(VersionEdit::decode(&records[0], "m", 40).unwrap(), e);
    }

    #[test]
    fn mutated_edits_never_panic() {
        let mut rng = Rng::seeded("mutated_edits_never_panic");
        for _ in 0..5000 {
            let mut p = encoded(&random_edit(&mut rng));
            if p.is_empty() {
                continue;
            }
            for _ in 0..1 + rng.below(4) {
                let len = p.len();
                match rng.below(4) {
                    0 => p[rng.below(len)] ^= 1 << rng.below(8),
                    1 => p.truncate(rng.below(len)),
                    2 => {
                        let at = rng.below(len + 1);
                        let n = 1 + rng.below(8);
                        let extra = rng.bytes(n);
                        p.splice(at..at, extra);
                    }
                    _ => p[rng.below(len)] = 0xff,
                }
                if p.is_empty() {
                    break;
                }
            }
            if let Ok(e) = VersionEdit::decode(&p, "m", 0) {
                assert!(e.new_tables.iter().all(|(l, _)| *l < NUM_LEVELS));
                assert!(e.deleted_tables.iter().all(|(l, _)| *l < NUM_LEVELS));
            }
        }
        for _ in 0..2000 {
            let n = rng.below(64);
            let _ = VersionEdit::decode(&rng.bytes(n), "m", u64::MAX);
        }
    }
}
