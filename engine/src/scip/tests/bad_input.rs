//! Hostile and broken input: every case must end in a typed error, never a panic or a huge
//! allocation.

use std::io::{self, Read};

use super::fixture::{self, encoded, items, read_all};
use super::seed::{Rng, test_seed};
use crate::coding::put_varint;
use crate::scip::writer::encode_field;
use crate::scip::{IndexItem, IndexReader, ScipError};

fn malformed(bytes: &[u8]) -> (u64, String) {
    match read_all(bytes) {
        Err(ScipError::Malformed { offset, what }) => (offset, what),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// Offsets where one top-level item ends, so a cut there is a shorter but valid index.
fn item_boundaries() -> Vec<usize> {
    let mut ends = vec![0];
    let mut buf = Vec::new();
    encode_field(&mut buf, 1, &fixture::metadata());
    ends.push(buf.len());
    for i in 0..3 {
        encode_field(&mut buf, 2, &fixture::document(i));
        ends.push(buf.len());
    }
    encode_field(&mut buf, 3, &fixture::external());
    ends.push(buf.len());
    ends
}

#[test]
fn truncation_at_every_offset_is_an_error_unless_between_items() {
    let bytes = encoded();
    let ends = item_boundaries();
    assert_eq!(*ends.last().unwrap(), bytes.len());
    let all = items();
    for cut in 0..bytes.len() {
        let result = read_all(&bytes[..cut]);
        match ends.iter().position(|&e| e == cut) {
            Some(n) => assert_eq!(result.unwrap(), all[..n].to_vec(), "cut at {cut}"),
            None => assert!(
                matches!(result, Err(ScipError::Malformed { .. })),
                "cut at {cut}: {result:?}"
            ),
        }
    }
}

#[test]
fn truncated_compressed_streams_are_malformed() {
    let bytes = encoded();
    let zst = zstd::encode_all(&bytes[..], 3).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    io::Write::write_all(&mut gz, &bytes).unwrap();
    let gz = gz.finish().unwrap();
    for compressed in [zst, gz] {
        for cut in 0..compressed.len() {
            let result = read_all(&compressed[..cut]);
            // A cut in the trailer may still deliver every item; anything else must error
            // as Malformed, never Io (the source reader did not fail).
            if let Err(e) = result {
                assert!(
                    matches!(e, ScipError::Malformed { .. }),
                    "cut at {cut}: {e:?}"
                );
            }
        }
    }
}

#[test]
fn random_garbage_never_panics() {
    let seed = test_seed("random_garbage_never_panics");
    let mut rng = Rng::new(seed);
    let valid = encoded();
    for _ in 0..3000 {
        let bytes: Vec<u8> = match rng.below(3) {
            0 => (0..rng.below(64)).map(|_| rng.next_u64() as u8).collect(),
            // Flip a few bytes of a valid index, to get past the first tag.
            1 => {
                let mut b = valid.clone();
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(b.len());
                    b[i] = rng.next_u64() as u8;
                }
                b
            }
            // A valid prefix followed by garbage.
            _ => {
                let mut b = valid[..rng.below(valid.len())].to_vec();
                b.extend((0..rng.below(32)).map(|_| rng.next_u64() as u8));
                b
            }
        };
        if let Err(e) = read_all(&bytes) {
            assert!(
                matches!(e, ScipError::Malformed { .. }),
                "{e:?} for {bytes:?}"
            );
        }
    }
}

#[test]
fn huge_length_prefix_fails_before_allocating() {
    let mut bytes = Vec::new();
    put_varint(&mut bytes, 2 << 3 | 2);
    put_varint(&mut bytes, 1 << 40);
    bytes.extend_from_slice(b"short");
    let (offset, what) = malformed(&bytes);
    assert_eq!(offset, 1);
    assert!(what.contains("exceeds the maximum message size"), "{what}");
    // Unknown fields are bounded the same way.
    bytes[0] = 9 << 3 | 2;
    assert!(malformed(&bytes).1.contains("exceeds"));
}

#[test]
fn length_beyond_the_data_reads_only_what_arrives() {
    // Under the limit but far more than present: the buffer holds only the bytes that came.
    let mut bytes = Vec::new();
    put_varint(&mut bytes, 2 << 3 | 2);
    put_varint(&mut bytes, 512 << 20);
    bytes.extend_from_slice(&[0u8; 1000]);
    let mut r = IndexReader::new(&bytes[..]).unwrap();
    let err = r.next_item().unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    assert!(r.max_item_bytes() <= 1000, "{}", r.max_item_bytes());
}

#[test]
fn configured_max_message_size_is_enforced() {
    let bytes = encoded();
    let mut r = IndexReader::new(&bytes[..])
        .unwrap()
        .with_max_message_size(10);
    let err = r.next_item().unwrap_err();
    assert!(err.to_string().contains("maximum message size 10"), "{err}");
}

#[test]
fn groups_and_bad_wire_types_are_rejected() {
    for (tag, expect) in [
        (9 << 3 | 3, "group"),
        (9 << 3 | 4, "group"),
        (9 << 3 | 6, "invalid wire type"),
        (9 << 3 | 7, "invalid wire type"),
        (2 << 3 | 3, "expected 2"),
        (1 << 3, "expected 2"),
        (3 << 3 | 5, "expected 2"),
        (0, "field number 0"),
    ] {
        let mut bytes = Vec::new();
        put_varint(&mut bytes, tag);
        bytes.extend_from_slice(&[0; 8]);
        let (offset, what) = malformed(&bytes);
        assert_eq!(offset, 0);
        assert!(what.contains(expect), "tag {tag}: {what}");
    }
}

#[test]
fn oversized_tags_and_varints_are_rejected() {
    let mut bytes = Vec::new();
    put_varint(&mut bytes, 1 << 35);
    assert!(malformed(&bytes).1.contains("exceeds 32 bits"));
    let bytes = [0xFF; 11];
    assert!(malformed(&bytes).1.contains("varint"));
    let mut bytes = vec![0xFF; 9];
    bytes.push(0x02);
    assert!(malformed(&bytes).1.contains("overflows"));
}

#[test]
fn invalid_utf8_names_the_field() {
    let mut doc = Vec::new();
    put_varint(&mut doc, 1 << 3 | 2);
    put_varint(&mut doc, 3);
    doc.extend_from_slice(&[b'a', 0xFF, b'b']);
    let mut bytes = Vec::new();
    encode_field(&mut bytes, 1, &fixture::metadata());
    let doc_start = bytes.len() as u64;
    put_varint(&mut bytes, 2 << 3 | 2);
    put_varint(&mut bytes, doc.len() as u64);
    bytes.extend_from_slice(&doc);
    let mut r = IndexReader::new(&bytes[..]).unwrap();
    assert!(matches!(r.next_item(), Ok(Some(IndexItem::Metadata(_)))));
    match r.next_item() {
        Err(ScipError::Malformed { offset, what }) => {
            assert_eq!(offset, doc_start + 2, "offset of the document payload");
            assert!(what.contains("Document.relative_path"), "{what}");
            assert!(what.contains("UTF-8"), "{what}");
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // SymbolInformation.signature_documentation -> Document.symbols -> ... 500 levels deep.
    let mut msg: Vec<u8> = Vec::new();
    for _ in 0..500 {
        let mut doc = Vec::new();
        put_varint(&mut doc, 3 << 3 | 2);
        put_varint(&mut doc, msg.len() as u64);
        doc.extend_from_slice(&msg);
        let mut sym = Vec::new();
        put_varint(&mut sym, 7 << 3 | 2);
        put_varint(&mut sym, doc.len() as u64);
        sym.extend_from_slice(&doc);
        msg = sym;
    }
    let mut bytes = Vec::new();
    put_varint(&mut bytes, 3 << 3 | 2);
    put_varint(&mut bytes, msg.len() as u64);
    bytes.extend_from_slice(&msg);
    assert!(malformed(&bytes).1.contains("recursion"));
}

#[test]
fn a_failed_reader_stays_failed() {
    let mut bytes = encoded();
    bytes.truncate(bytes.len() - 1);
    let mut r = IndexReader::new(&bytes[..]).unwrap();
    let mut n = 0;
    while let Ok(Some(_)) = r.next_item() {
        n += 1;
    }
    assert_eq!(n, 4);
    assert!(r.next_item().is_err());
    // The iterator ends after reporting the error once.
    let mut r = IndexReader::new(&bytes[..]).unwrap();
    let results: Vec<_> = r.by_ref().collect();
    assert_eq!(results.len(), 5);
    assert!(results[4].is_err());
}

/// Fails after `ok` bytes, like a dropped connection.
struct FailingReader {
    data: Vec<u8>,
    pos: usize,
    ok: usize,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.ok {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "peer went away",
            ));
        }
        let n = buf
            .len()
            .min(self.ok - self.pos)
            .min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn source_io_errors_stay_io_errors() {
    let raw = encoded();
    let zst = zstd::encode_all(&raw[..], 3).unwrap();
    for data in [raw, zst] {
        let ok = data.len() / 2;
        let reader = FailingReader { data, pos: 0, ok };
        let result: Result<Vec<_>, _> = IndexReader::new(reader).unwrap().collect();
        match result {
            Err(ScipError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
            other => panic!("expected Io, got {other:?}"),
        }
    }
}
