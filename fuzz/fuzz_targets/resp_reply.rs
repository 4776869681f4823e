//! RESP replies: `parse_value` never panics and never claims more bytes than it was given; a
//! parsed value re-encodes (RESP3, which keeps every kind) to a reply that parses back to
//! the same encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scipkv_server::resp::{Protocol, encode, parse_value};

fuzz_target!(|data: &[u8]| {
    let Ok(Some((value, consumed))) = parse_value(data) else {
        return;
    };
    assert!(
        consumed > 0 && consumed <= data.len(),
        "consumed {consumed} of {}",
        data.len()
    );
    let mut out = Vec::new();
    encode(&value, Protocol::Resp3, &mut out);
    let Ok(Some((again, n))) = parse_value(&out) else {
        panic!("encoded reply does not parse back: {out:?} from {value:?}");
    };
    assert_eq!(n, out.len(), "re-parse consumed {n} of {}", out.len());
    let mut out2 = Vec::new();
    encode(&again, Protocol::Resp3, &mut out2);
    assert_eq!(out, out2, "reply changed through encode/parse");
});
