//! One SCIP `Document`'s protobuf bytes: the borrowing decoder ingest uses
//! (`DocumentView::decode`) never panics, and accepts, rejects and decodes exactly as prost
//! followed by `validate_document` does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scipkv_engine::scip::docview::{DocumentView, differential};

fuzz_target!(|data: &[u8]| {
    if let Err(e) = differential(data) {
        panic!("the view decoder and prost disagree:\n{e}");
    }
    if let Ok(doc) = DocumentView::decode(data, 0) {
        for o in &doc.occurrences {
            assert!(o.range.start_line <= o.range.end_line);
            let _ = doc.extra(o);
        }
    }
});
