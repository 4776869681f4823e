//! Value envelopes and manifests (`scipkv_engine::chunk::manifest`): `decode` never panics
//! and bounds every length by the input; an accepted manifest re-encodes to the same bytes
//! (the format has one encoding per manifest) and its chunk lengths add up to its total.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scipkv_engine::chunk::manifest::{Stored, decode, encode_inline};

fuzz_target!(|data: &[u8]| {
    let Ok(stored) = decode(data) else {
        return;
    };
    let mut out = Vec::new();
    match stored {
        Stored::Inline(v) => encode_inline(v, &mut out),
        Stored::Chunked(m) => {
            let sum: u64 = m.chunks.iter().map(|c| u64::from(c.len)).sum();
            assert_eq!(sum, m.total_len);
            m.encode(&mut out);
        }
    }
    assert_eq!(out, data, "accepted input does not re-encode to itself");
});
