//! CURRENT contents: `parse_current` never panics, and an accepted file is exactly what
//! `current_contents` writes for the name it returns.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scipkv_engine::version::current::{current_contents, parse_current};

fuzz_target!(|data: &[u8]| {
    if let Ok(name) = parse_current(data) {
        assert_eq!(
            current_contents(&name).as_bytes(),
            data,
            "accepted a non-canonical CURRENT"
        );
    }
});
