//! Every decoder of the SCIP store's values and key components
//! (`scipkv_engine::scip::store::fuzzing::decode_any`, selected by the first byte): none may
//! panic or allocate beyond its input, and an accepted value re-encodes to one that decodes
//! the same (the assertions live in `decode_any`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scipkv_engine::scip::store::fuzzing::decode_any;

fuzz_target!(|data: &[u8]| {
    let _ = decode_any(data);
});
