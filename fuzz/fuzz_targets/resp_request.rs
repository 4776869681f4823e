//! RESP requests: the server's own fuzz entry point (no panic, consumed <= given, and the
//! same commands whether the bytes arrive whole or in two pieces).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scipkv_server::resp::fuzz_parse(data);
});
