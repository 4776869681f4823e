//! The reader on well-formed input: formats, item order, unknown fields, encodings.

use std::io::Write;

use prost::Message;

use super::fixture::{self, encoded, items, read_all};
use crate::coding::put_varint;
use crate::scip::compression::Compression;
use crate::scip::proto::*;
use crate::scip::writer::encode_field;
use crate::scip::{IndexItem, IndexReader};

#[test]
fn raw_input_yields_every_item_in_order() {
    let bytes = encoded();
    let mut r = IndexReader::new(&bytes[..]).unwrap();
    assert_eq!(r.compression(), Compression::None);
    let mut got = Vec::new();
    while let Some(item) = r.next_item().unwrap() {
        got.push(item);
    }
    assert_eq!(got, items());
    assert_eq!(r.bytes_read(), bytes.len() as u64);
    assert_eq!(r.decompressed_offset(), bytes.len() as u64);
    // End of stream is sticky.
    assert!(r.next_item().unwrap().is_none());
}

#[test]
fn whole_index_decodes_with_prost_too() {
    // The streaming layout is an ordinary `Index` message.
    let index = Index::decode(&encoded()[..]).unwrap();
    assert_eq!(index.metadata, Some(fixture::metadata()));
    assert_eq!(index.documents.len(), 3);
    assert_eq!(index.external_symbols, vec![fixture::external()]);
}

#[test]
fn gzip_input_is_detected() {
    let bytes = encoded();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).unwrap();
    let compressed = gz.finish().unwrap();
    let mut r = IndexReader::new(&compressed[..]).unwrap();
    assert_eq!(r.compression(), Compression::Gzip);
    let got: Vec<_> = r.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(got, items());
    assert_eq!(r.bytes_read(), compressed.len() as u64);
    assert_eq!(r.decompressed_offset(), bytes.len() as u64);
}

#[test]
fn zstd_input_is_detected() {
    let bytes = encoded();
    let compressed = zstd::encode_all(&bytes[..], 3).unwrap();
    let mut r = IndexReader::new(&compressed[..]).unwrap();
    assert_eq!(r.compression(), Compression::Zstd);
    let got: Vec<_> = r.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(got, items());
    assert_eq!(r.bytes_read(), compressed.len() as u64);
}

#[test]
fn empty_and_tiny_inputs() {
    assert_eq!(read_all(&[]).unwrap(), vec![]);
    // Shorter than any magic: still sniffed without error.
    assert!(read_all(&[0x0A]).is_err());
}

#[test]
fn metadata_may_come_late_or_not_at_all() {
    let mut bytes = Vec::new();
    encode_field(&mut bytes, 2, &fixture::document(0));
    encode_field(&mut bytes, 1, &fixture::metadata());
    assert_eq!(
        read_all(&bytes).unwrap(),
        vec![
            IndexItem::Document(fixture::document(0)),
            IndexItem::Metadata(fixture::metadata())
        ]
    );
    let mut bytes = Vec::new();
    encode_field(&mut bytes, 3, &fixture::external());
    assert_eq!(
        read_all(&bytes).unwrap(),
        vec![IndexItem::ExternalSymbol(fixture::external())]
    );
}

#[test]
fn unknown_top_level_fields_are_skipped() {
    let mut bytes = Vec::new();
    put_varint(&mut bytes, 9 << 3); // varint
    put_varint(&mut bytes, u64::MAX);
    encode_field(&mut bytes, 1, &fixture::metadata());
    put_varint(&mut bytes, 10 << 3 | 1); // fixed64
    bytes.extend_from_slice(&[7; 8]);
    encode_field(&mut bytes, 2, &fixture::document(1));
    put_varint(&mut bytes, 11 << 3 | 2); // length-delimited
    put_varint(&mut bytes, 5);
    bytes.extend_from_slice(b"hello");
    put_varint(&mut bytes, 12 << 3 | 5); // fixed32
    bytes.extend_from_slice(&[1; 4]);
    put_varint(&mut bytes, 536_870_911 << 3); // largest field number
    put_varint(&mut bytes, 1);
    assert_eq!(
        read_all(&bytes).unwrap(),
        vec![
            IndexItem::Metadata(fixture::metadata()),
            IndexItem::Document(fixture::document(1))
        ]
    );
}

#[test]
fn unpacked_repeated_ints_are_accepted() {
    // An occurrence whose range (field 1) and diagnostic tags come one varint per tag.
    let mut occ = Vec::new();
    for v in [3u64, 1, 4] {
        put_varint(&mut occ, 1 << 3);
        put_varint(&mut occ, v);
    }
    put_varint(&mut occ, 2 << 3 | 2);
    put_varint(&mut occ, 7);
    occ.extend_from_slice(b"local 1");
    let mut doc = Vec::new();
    put_varint(&mut doc, 1 << 3 | 2);
    put_varint(&mut doc, 4);
    doc.extend_from_slice(b"a.py");
    put_varint(&mut doc, 2 << 3 | 2);
    put_varint(&mut doc, occ.len() as u64);
    doc.extend_from_slice(&occ);
    let mut bytes = Vec::new();
    put_varint(&mut bytes, 2 << 3 | 2);
    put_varint(&mut bytes, doc.len() as u64);
    bytes.extend_from_slice(&doc);
    let items = read_all(&bytes).unwrap();
    let IndexItem::Document(d) = &items[0] else {
        panic!("expected a document, got {items:?}");
    };
    assert_eq!(d.relative_path, "a.py");
    assert_eq!(d.occurrences[0].range, vec![3, 1, 4]);
    assert_eq!(d.occurrences[0].symbol, "local 1");
}

#[test]
fn unknown_enum_values_are_kept() {
    let mut doc = fixture::document(0);
    doc.position_encoding = 99;
    doc.symbols[0].kind = 1000;
    doc.occurrences[0].symbol_roles = 0x4000_0000;
    let bytes = crate::scip::encode_index(&fixture::metadata(), &[doc.clone()], &[]);
    assert_eq!(read_all(&bytes).unwrap()[1], IndexItem::Document(doc));
}

#[test]
fn max_item_bytes_tracks_the_largest_payload() {
    let big = Document {
        relative_path: "big.txt".into(),
        text: "x".repeat(200_000),
        ..Default::default()
    };
    let small = fixture::document(0);
    let bytes = crate::scip::encode_index(&fixture::metadata(), &[small, big.clone()], &[]);
    let mut r = IndexReader::new(&bytes[..]).unwrap();
    while r.next_item().unwrap().is_some() {}
    assert_eq!(r.max_item_bytes(), big.encoded_len());
}
