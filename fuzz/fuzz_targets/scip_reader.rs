//! SCIP indexes (raw, zstd or gzip): the streaming reader never panics, stops for good after
//! its first error, and every document it yields goes through `validate_document`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scipkv_engine::scip::{IndexItem, IndexReader, parse_symbol, validate_document};

/// Caps one item, so a length prefix cannot make one input allocate a gigabyte; the reader's
/// own default (1 GiB) is exercised by the engine's tests.
const MAX_ITEM: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = IndexReader::new(data) else {
        return;
    };
    let mut reader = reader.with_max_message_size(MAX_ITEM);
    let mut items = 0usize;
    loop {
        match reader.next_item() {
            Ok(Some(item)) => {
                items += 1;
                if let IndexItem::Document(doc) = &item {
                    let _ = validate_document(doc);
                    for occ in doc.occurrences.iter().take(16) {
                        let _ = parse_symbol(&occ.symbol);
                    }
                }
                // Bounded even for a zstd stream that expands enormously.
                if items > 10_000 {
                    break;
                }
            }
            Ok(None) => break,
            Err(_) => {
                assert!(reader.next_item().is_err(), "reader resumed after an error");
                break;
            }
        }
    }
    let _ = (
        reader.bytes_read(),
        reader.decompressed_offset(),
        reader.max_item_bytes(),
    );
});
