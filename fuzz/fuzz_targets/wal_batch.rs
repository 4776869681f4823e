//! WAL batch payloads: `decode_payload` never panics, and an accepted payload re-encodes to
//! the same bytes through `WriteBatch::encode_payload`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scipkv_engine::WriteBatch;
use scipkv_engine::batch::decode_payload;
use scipkv_engine::key::Kind;

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = decode_payload(data, "fuzz.wal", 0) else {
        return;
    };
    let mut b = WriteBatch::new();
    for op in &decoded.ops {
        match op.kind {
            Kind::Put => b.put(op.key, op.value),
            Kind::Delete => b.delete(op.key),
        }
    }
    assert!(b.validate().is_ok(), "decoded batch fails validation");
    let mut out = Vec::new();
    b.encode_payload(decoded.first_seq, &mut out);
    assert!(out == data, "decoded batch re-encodes differently");
    assert_eq!(out.len(), b.approximate_size());
});
