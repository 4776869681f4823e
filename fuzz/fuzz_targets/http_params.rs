//! HTTP query strings: the API's parameter parser never panics and what it accepts stays
//! within its bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scipkv_server::http::params::fuzz_parse(data);
});
