//! Entry point for the `scip_store_records` fuzz target: every decoder of a stored value or
//! key component, chosen by the first input byte.
//!
//! Decoders must reject any input with an error, never panic or allocate beyond the input.
//! Where a record has an encoder, an accepted value must survive encode → decode unchanged
//! (the assertions here are what the fuzzer checks).

use crate::coding::DecodeError;

use super::chunk::decode_chunk;
use super::codec::{decode_postings, encode_postings};
use super::diagnostics::decode_diagnostics;
use super::keys::{take_hash, take_str, take_u64};
use super::outline::{decode_outline, encode_outline, nest};
use super::records::{
    Header, UploadRecord, decode_flags, decode_hash, decode_info, decode_list, decode_name,
    decode_string, decode_u64, encode_flags, encode_hash, encode_list, encode_name, encode_string,
    encode_u64,
};

/// Number of decoders [`decode_any`] selects from (the first byte modulo this).
pub const DECODERS: u8 = 14;

/// Runs decoder `data[0] % DECODERS` on `data[1..]`; `Err` is a clean rejection.
pub fn decode_any(data: &[u8]) -> Result<(), DecodeError> {
    let Some((&which, v)) = data.split_first() else {
        return Ok(());
    };
    match which % DECODERS {
        0 => {
            let u = UploadRecord::decode(v)?;
            assert_eq!(UploadRecord::decode(&u.encode())?, u);
        }
        1 => {
            let s = decode_string(v)?;
            assert_eq!(decode_string(&encode_string(&s))?, s);
        }
        2 => {
            let n = decode_u64(v)?;
            assert_eq!(decode_u64(&encode_u64(n))?, n);
        }
        3 => {
            let h = decode_hash(v)?;
            assert_eq!(decode_hash(&encode_hash(h))?, h);
        }
        4 => {
            let h = Header::decode(v)?;
            assert_eq!(Header::decode(&h.encode())?, h);
        }
        5 => {
            decode_info(v)?;
        }
        6 => {
            let f = decode_flags(v)?;
            assert_eq!(decode_flags(&encode_flags(f))?, f);
        }
        7 => {
            let n = decode_name(v)?;
            assert_eq!(decode_name(&encode_name(n.0, &n.1))?, n);
        }
        8 => {
            let l = decode_list(v)?;
            // Only sorted lists are written; others must still decode without panicking.
            if l.is_sorted() {
                let refs: Vec<&str> = l.iter().map(String::as_str).collect();
                assert_eq!(decode_list(&encode_list(&refs))?, l);
            }
        }
        9 => {
            let p = decode_postings(v)?;
            assert_eq!(decode_postings(&encode_postings(&p))?, p);
        }
        10 => {
            let c = decode_chunk(v)?;
            assert!(
                c.occurrences
                    .iter()
                    .all(|o| (o.symbol as usize) < c.symbols.len())
            );
        }
        11 => {
            let o = decode_outline(v)?;
            assert_eq!(decode_outline(&encode_outline(&o))?, o);
            nest(o);
        }
        12 => {
            decode_diagnostics(v)?;
        }
        _ => {
            // Key components: strings, hashes, integers in any order.
            let mut rest = v;
            while let Some((&kind, r)) = rest.split_first() {
                rest = match kind % 3 {
                    0 => match take_str(r) {
                        Some((_, r)) => r,
                        None => break,
                    },
                    1 => match take_hash(r) {
                        Some((_, r)) => r,
                        None => break,
                    },
                    _ => match take_u64(r) {
                        Some((_, r)) => r,
                        None => break,
                    },
                };
            }
        }
    }
    Ok(())
}
