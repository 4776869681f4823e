//! WAL batch payloads: `decode_payload` never panics, and an accepted payload survives
//! `WriteBatch::encode_payload` then `decode_payload` unchanged. Not byte-exact: the decoder
//! accepts non-minimal varints (`80 00` for 0), which the encoder never writes, so the
//! re-encoding may be shorter than the input, never longer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scipkv_engine::WriteBatch;
use scipkv_engine::batch::decode_payload;

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = decode_payload(data, "fuzz.wal", 0) else {
        return;
    };
    let mut b = WriteBatch::new();
    for op in &decoded.ops {
        match op.user_value() {
            Some((v, None)) => b.put(op.key, v),
            Some((v, Some(t))) => b.put_with_expiry(op.key, v, t),
            None => b.delete(op.key),
        }
    }
    assert!(b.validate().is_ok(), "decoded batch fails validation");
    let mut out = Vec::new();
    b.encode_payload(decoded.first_seq, &mut out);
    assert_eq!(out.len(), b.approximate_size());
    assert!(
        out.len() <= data.len(),
        "canonical encoding longer than the input"
    );
    let again = decode_payload(&out, "fuzz.wal", 0)
        .unwrap_or_else(|e| panic!("re-encoded batch does not decode: {e}"));
    assert_eq!(again, decoded, "batch changed through encode/decode");
});
