//! Rejected uploads change nothing: truncated or corrupt protobuf, bad ranges, absolute
//! paths, duplicate documents and empty symbols fail with an error naming the document and
//! field, the published version keeps answering as before, and after GC the stored keys are
//! exactly those from before the attempt.

mod scip_common;

use scip_common::{Rng, open_store, seed};
use scipkv_engine::scip::store::{ScipStore, StoreError, Target};
use scipkv_engine::scip::{Document, Metadata, Occurrence, SymbolInformation, encode_index};

fn doc(path: &str, n: u32) -> Document {
    let sym = format!("scip-python python demo 1.0 m/f{n}().");
    Document {
        relative_path: path.into(),
        language: "python".into(),
        position_encoding: 1,
        occurrences: vec![
            Occurrence {
                range: vec![0, 4, 7],
                symbol: sym.clone(),
                symbol_roles: 1,
                enclosing_range: vec![0, 0, 2, 0],
                ..Default::default()
            },
            Occurrence {
                range: vec![3, 0, 3],
                symbol: sym.clone(),
                ..Default::default()
            },
        ],
        symbols: vec![SymbolInformation {
            symbol: sym,
            documentation: vec![format!("doc {n}")],
            kind: 17,
            display_name: format!("f{n}"),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn good() -> Vec<u8> {
    encode_index(
        &Metadata::default(),
        &[doc("a.py", 1), doc("b/c.py", 2)],
        &[],
    )
}

/// Every key and value of the tenant except the upload counter, which a rejected upload
/// legitimately advances.
fn state(store: &ScipStore) -> Vec<(Vec<u8>, Vec<u8>)> {
    store
        .db()
        .scan_prefix(b"S")
        .map(Result::unwrap)
        .filter(|(k, _)| !k.ends_with(b"\x00\x01C"))
        .collect()
}

fn assert_rejected_cleanly(store: &ScipStore, bytes: &[u8], expect: &[&str]) {
    let before = state(store);
    let t = Target::latest("t", "p");
    let answer = store.hover(&t, "a.py", 0, 5).unwrap();
    for version in ["v1", "v2"] {
        let err = store.ingest("t", "p", version, bytes).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, StoreError::Scip(_)), "{msg}");
        for e in expect {
            assert!(msg.contains(e), "error {msg:?} should mention {e:?}");
        }
        assert_eq!(store.hover(&t, "a.py", 0, 5).unwrap(), answer);
        assert_eq!(store.projects("t").unwrap()[0].versions.len(), 1);
    }
    store.gc("t").unwrap();
    assert_eq!(
        state(store),
        before,
        "keys after GC differ from before the rejected upload"
    );
}

fn setup() -> (tempfile::TempDir, ScipStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    store.ingest("t", "p", "v1", &good()[..]).unwrap();
    assert!(
        store
            .hover(&Target::latest("t", "p"), "a.py", 0, 5)
            .unwrap()
            .is_some()
    );
    (dir, store)
}

fn with_new_docs(extra: Document) -> Vec<u8> {
    // A new valid document first, so the rejected upload has written blobs GC must reclaim.
    encode_index(&Metadata::default(), &[doc("new.py", 9), extra], &[])
}

#[test]
fn truncated_protobuf_is_rejected() {
    let (_d, store) = setup();
    let bytes = with_new_docs(doc("z.py", 3));
    assert_rejected_cleanly(&store, &bytes[..bytes.len() - 3], &["malformed"]);
}

#[test]
fn bad_range_is_rejected_naming_document_and_field() {
    let (_d, store) = setup();
    let mut bad = doc("z.py", 3);
    bad.occurrences[1].range = vec![5, 4, 2];
    assert_rejected_cleanly(
        &store,
        &with_new_docs(bad),
        &["z.py", "occurrences[1].range"],
    );
}

#[test]
fn absolute_path_is_rejected() {
    let (_d, store) = setup();
    assert_rejected_cleanly(
        &store,
        &with_new_docs(doc("/etc/x.py", 3)),
        &["/etc/x.py", "relative_path", "absolute"],
    );
}

#[test]
fn duplicate_document_is_rejected() {
    let (_d, store) = setup();
    let mut other = doc("new.py", 4);
    other.language = "other".into();
    assert_rejected_cleanly(&store, &with_new_docs(other), &["new.py", "same path"]);
}

#[test]
fn empty_symbol_is_rejected() {
    let (_d, store) = setup();
    let mut bad = doc("z.py", 3);
    bad.occurrences[0].symbol.clear();
    assert_rejected_cleanly(
        &store,
        &with_new_docs(bad),
        &["z.py", "occurrences[0].symbol"],
    );
}

#[test]
fn reserved_and_empty_names_are_rejected() {
    let (_d, store) = setup();
    assert!(matches!(
        store.ingest("t", "p", "latest", &good()[..]),
        Err(StoreError::InvalidArgument(_))
    ));
    assert!(matches!(
        store.ingest("t", "", "v", &good()[..]),
        Err(StoreError::InvalidArgument(_))
    ));
}

/// Random byte flips and cuts never panic; whatever is rejected leaves no trace after GC.
#[test]
fn corrupt_bytes_never_panic_or_leak() {
    let seed = seed("corrupt_bytes");
    let mut rng = Rng(seed);
    let (_d, store) = setup();
    let before = state(&store);
    let base = with_new_docs(doc("z.py", 3));
    for _ in 0..200 {
        let mut b = base.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(b.len());
            b[i] = rng.next() as u8;
        }
        if rng.below(4) == 0 {
            b.truncate(rng.below(b.len()));
        }
        if store.ingest("t", "p", "v2", &b[..]).is_ok() {
            store.delete_version("t", "p", "v2").unwrap();
        }
    }
    store.gc("t").unwrap();
    assert_eq!(state(&store), before, "seed {seed}");
}
