//! The borrowing document decoder against prost plus `validate_document`: on every document
//! of the real indexes, on hand-made edge cases of the wire format, and on random messages and
//! mutations (seeded; `SCIPKV_SEED` reruns).

use std::fs::File;

use prost::Message;

use super::fixture;
use super::seed::{Rng, test_seed};
use crate::scip::docview::{DocumentView, differential};
use crate::scip::testdata::scip_file;
use crate::scip::{IndexReader, RawItem, ScipError};

fn agree(payload: &[u8]) {
    if let Err(e) = differential(payload) {
        panic!("decoders disagree on {payload:?}:\n{e}");
    }
}

/// Every document of a real index decodes to the same content both ways.
fn real(name: &str) -> usize {
    let mut r = IndexReader::new(File::open(scip_file(name)).unwrap()).unwrap();
    let mut docs = 0;
    while let Some(item) = r.next_raw().unwrap() {
        if let RawItem::Document { payload, offset } = item {
            DocumentView::decode(payload, offset).unwrap();
            agree(payload);
            docs += 1;
        }
    }
    docs
}

#[test]
fn real_rxjs_documents_decode_as_prost_does() {
    assert_eq!(real("rxjs.scip.zst"), 534);
}

#[test]
fn real_django_documents_decode_as_prost_does() {
    assert_eq!(real("django.scip.zst"), 879);
}

/// Protobuf writing helpers for hand-made messages.
fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, u64::from(field << 3 | u32::from(wire)));
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn len_field(out: &mut Vec<u8>, field: u32, payload: &[u8]) {
    key(out, field, 2);
    varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

fn int_field(out: &mut Vec<u8>, field: u32, v: i64) {
    key(out, field, 0);
    varint(out, v as u64);
}

fn packed(out: &mut Vec<u8>, field: u32, vals: &[i64]) {
    let mut p = Vec::new();
    for &v in vals {
        varint(&mut p, v as u64);
    }
    len_field(out, field, &p);
}

fn occurrence(range: &[i64], symbol: &[u8]) -> Vec<u8> {
    let mut o = Vec::new();
    packed(&mut o, 1, range);
    len_field(&mut o, 2, symbol);
    o
}

fn document(path: &[u8], occs: &[Vec<u8>]) -> Vec<u8> {
    let mut d = Vec::new();
    len_field(&mut d, 1, path);
    for o in occs {
        len_field(&mut d, 2, o);
    }
    d
}

#[test]
fn fixture_documents_agree() {
    for i in 0..3 {
        let bytes = fixture::document(i).encode_to_vec();
        agree(&bytes);
        let v = DocumentView::decode(&bytes, 0).unwrap();
        assert_eq!(v.occurrences.len(), 2);
        assert_eq!(v.extras.len(), 2, "enclosing range; docs + diagnostics");
    }
}

#[test]
fn wire_edge_cases_agree() {
    let good = occurrence(&[1, 2, 5], b"s a.");
    let mut cases: Vec<Vec<u8>> = vec![
        document(b"a.ts", std::slice::from_ref(&good)),
        document(b"a.ts", &[occurrence(&[1, 2, 1, 5], b"s a.")]),
        // Wrong int counts, negatives, end before start, empty symbol, bad UTF-8.
        document(b"a.ts", &[occurrence(&[1, 2], b"s a.")]),
        document(b"a.ts", &[occurrence(&[1, 2, 3, 4, 5], b"s a.")]),
        document(b"a.ts", &[occurrence(&[-1, 2, 5], b"s a.")]),
        document(b"a.ts", &[occurrence(&[4, 2, 1, 5], b"s a.")]),
        document(b"a.ts", &[occurrence(&[4, 2, 1], b"s a.")]),
        document(b"a.ts", &[occurrence(&[1, 2, 5], b"")]),
        document(b"a.ts", &[occurrence(&[1, 2, 5], b"s \xff.")]),
        document(b"\xc3", std::slice::from_ref(&good)),
        // A bad path is reported before a bad occurrence, as validation does.
        document(b"../x", &[occurrence(&[1, 2], b"")]),
        document(b"", &[]),
    ];
    // Range split over a packed and an unpacked field, and a value that truncates to i32.
    let mut o = Vec::new();
    packed(&mut o, 1, &[1, 2]);
    int_field(&mut o, 1, 7);
    len_field(&mut o, 2, b"s a.");
    int_field(&mut o, 3, 1 << 33 | 1);
    cases.push(document(b"a.ts", &[o]));
    // Unknown fields of every wire type, including nested groups, at both levels; the last
    // value of a scalar wins.
    let mut o = good.clone();
    int_field(&mut o, 99, 5);
    key(&mut o, 98, 1);
    o.extend_from_slice(&[0; 8]);
    key(&mut o, 97, 5);
    o.extend_from_slice(&[0; 4]);
    key(&mut o, 96, 3);
    key(&mut o, 95, 3);
    int_field(&mut o, 1, 3);
    key(&mut o, 95, 4);
    key(&mut o, 96, 4);
    len_field(&mut o, 2, b"s b.");
    let mut d = document(b"a.ts", &[o]);
    len_field(&mut d, 1, b"b.ts");
    key(&mut d, 50, 3);
    key(&mut d, 50, 4);
    len_field(&mut d, 5, b"text");
    int_field(&mut d, 6, 2);
    len_field(&mut d, 4, b"go");
    cases.push(d);
    // Mismatched and stray end-group tags, a bad wire type for a known field, 6 and 7.
    for tail in [
        vec![(96 << 3 | 3) as u8, 0x83, 0x06],
        vec![(50 << 3 | 4) as u8],
        vec![(1 << 3) as u8, 1],
        vec![(2 << 3) as u8, 1],
        vec![(6 << 3 | 2) as u8, 0],
        vec![(9 << 3 | 6) as u8],
        vec![(9 << 3 | 7) as u8],
        vec![0],
        vec![0xff; 11],
        vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02],
        vec![(9 << 3 | 2) as u8, 5, 1],
        vec![(9 << 3 | 5) as u8, 1],
    ] {
        let mut d = document(b"a.ts", std::slice::from_ref(&good));
        d.extend_from_slice(&tail);
        cases.push(d);
        let mut o = good.clone();
        o.extend_from_slice(&tail);
        cases.push(document(b"a.ts", &[o]));
    }
    // Diagnostics: fine, with bad UTF-8, with a wrong wire type inside.
    for diag in [
        {
            let mut g = Vec::new();
            int_field(&mut g, 1, 2);
            len_field(&mut g, 3, b"msg");
            packed(&mut g, 5, &[1, 2]);
            int_field(&mut g, 5, 3);
            g
        },
        {
            let mut g = Vec::new();
            len_field(&mut g, 2, b"\xfe");
            g
        },
        vec![(1 << 3 | 2) as u8, 0],
    ] {
        let mut o = good.clone();
        len_field(&mut o, 6, &diag);
        len_field(&mut o, 4, b"override");
        int_field(&mut o, 5, 9);
        packed(&mut o, 7, &[0, 0, 9, 0]);
        cases.push(document(b"a.ts", &[o]));
    }
    // Groups nested past prost's recursion limit, at the document and occurrence levels.
    for depth in [97usize, 98, 99, 100, 101] {
        let mut g = Vec::new();
        for _ in 0..depth {
            key(&mut g, 9, 3);
        }
        for _ in 0..depth {
            key(&mut g, 9, 4);
        }
        let mut d = document(b"a.ts", std::slice::from_ref(&good));
        d.extend_from_slice(&g);
        cases.push(d);
        let mut o = good.clone();
        o.extend_from_slice(&g);
        cases.push(document(b"a.ts", &[o]));
    }
    for c in &cases {
        agree(c);
    }
    // The counts are meaningful: some cases decode, some are malformed, some invalid.
    let kinds = cases.iter().map(|c| match DocumentView::decode(c, 0) {
        Ok(_) => 0,
        Err(ScipError::Malformed { .. }) => 1,
        Err(_) => 2,
    });
    let mut n = [0; 3];
    kinds.for_each(|k| n[k] += 1);
    assert!(n.iter().all(|&k| k >= 5), "{n:?}");
}

/// A random message built from fields that are mostly right for the document schema.
fn random_message(rng: &mut Rng, depth: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(6) {
        let field = [1, 2, 3, 4, 5, 6, 7, 9][rng.below(8)];
        match rng.below(8) {
            0 => int_field(&mut out, field, rng.next_u64() as i64 % 8 - 2),
            1 | 2 => {
                let n = rng.below(6);
                let vals: Vec<i64> = (0..n).map(|_| rng.below(12) as i64 - 1).collect();
                packed(&mut out, field, &vals);
            }
            3 => len_field(&mut out, field, b"s a."),
            4 => len_field(&mut out, field, &[b'a', 0xff][..1 + rng.below(2)]),
            5 if depth < 3 => {
                let inner = random_message(rng, depth + 1);
                len_field(&mut out, field, &inner);
            }
            6 => {
                key(&mut out, field, 3);
                int_field(&mut out, 1, 1);
                key(&mut out, field + rng.below(2) as u32, 4);
            }
            _ => len_field(&mut out, field, b"a/b.ts"),
        }
    }
    out
}

#[test]
fn random_documents_agree() {
    let seed = test_seed("random_documents_agree");
    let mut rng = Rng::new(seed);
    let valid = fixture::document(1).encode_to_vec();
    let (mut ok, mut err) = (0, 0);
    for _ in 0..20_000 {
        let bytes = match rng.below(4) {
            0 => random_message(&mut rng, 0),
            1 => {
                let mut b = valid.clone();
                for _ in 0..1 + rng.below(3) {
                    let i = rng.below(b.len());
                    b[i] = rng.next_u64() as u8;
                }
                b
            }
            2 => valid[..rng.below(valid.len() + 1)].to_vec(),
            _ => (0..rng.below(40)).map(|_| rng.next_u64() as u8).collect(),
        };
        agree(&bytes);
        match DocumentView::decode(&bytes, 0) {
            Ok(_) => ok += 1,
            Err(_) => err += 1,
        }
    }
    // Both outcomes are exercised often enough for the comparison to mean something.
    assert!(ok > 500 && err > 500, "ok {ok}, err {err}");
}
