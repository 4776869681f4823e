//! Manifest records: `VersionEdit::decode` never panics, and decode(encode(edit)) == edit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scipkv_engine::version::edit::VersionEdit;

fuzz_target!(|data: &[u8]| {
    let Ok(edit) = VersionEdit::decode(data, "MANIFEST-000001", 0) else {
        return;
    };
    let mut out = Vec::new();
    edit.encode(&mut out);
    let again = VersionEdit::decode(&out, "MANIFEST-000001", 0)
        .unwrap_or_else(|e| panic!("re-encoded edit does not decode: {e}"));
    assert_eq!(edit, again, "edit changed through encode/decode");
    // Encoding is canonical: a second round gives the same bytes.
    let mut out2 = Vec::new();
    again.encode(&mut out2);
    assert_eq!(out, out2, "encoding is not deterministic");
});
