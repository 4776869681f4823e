//! SCIP symbol strings: `parse_symbol` never panics, and a parsed symbol formats to a string
//! that parses back to the same symbol (and formats to itself: the format is canonical).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scipkv_engine::scip::{format_symbol, parse_symbol};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(sym) = parse_symbol(s) else {
        return;
    };
    let formatted = format_symbol(&sym);
    let again = parse_symbol(&formatted)
        .unwrap_or_else(|e| panic!("formatted symbol {formatted:?} does not parse: {e}"));
    assert_eq!(
        sym, again,
        "symbol changed through format/parse ({formatted:?})"
    );
    assert_eq!(format_symbol(&again), formatted, "format is not canonical");
    let _ = (sym.display_name(), sym.package_key(), sym.parent());
});
