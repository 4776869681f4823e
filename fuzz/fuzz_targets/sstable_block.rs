//! Data and index blocks. The block decoder is private to the engine, so the input is wrapped
//! in a table whose other parts are valid (checksums included): with the first byte even the
//! input is the only data block, odd it is the index block. Every entry is walked forward and
//! backward and a few keys taken from the input are looked up; errors are fine, panics not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scipkv_engine::iter::InternalIterator;
use scipkv_engine::key::{MAX_SEQNO, lookup_key, user_key};
use scipkv_fuzz::{open_table, table_around_block, walk};

fuzz_target!(|data: &[u8]| {
    let Some((&flag, block)) = data.split_first() else {
        return;
    };
    let fuzz_index = flag & 1 == 1;
    let Ok(table) = open_table(table_around_block(block, fuzz_index)) else {
        return;
    };
    let mut it = table.iter();
    let walked = walk(&mut it, 100_000);
    // Seek targets: prefixes of the input, and the keys the walk found.
    let mut targets: Vec<Vec<u8>> = (0..4)
        .map(|i| block[..block.len().min(i * 3 + 1)].to_vec())
        .collect();
    if let Ok((fwd, _)) = &walked {
        targets.extend(fwd.iter().take(8).map(|(k, _)| k.clone()));
    }
    for t in &targets {
        if it.seek(t).is_ok() && it.valid() {
            let _ = it.next();
        }
        if it.seek_for_prev(t).is_ok() && it.valid() {
            let _ = it.prev();
        }
        let uk = user_key(t);
        let _ = table.get(uk, MAX_SEQNO);
        let _ = table.get(uk, 1);
        let _ = lookup_key(uk, MAX_SEQNO);
    }
    // In a block whose restart points sit on entry boundaries (as every writer makes them),
    // backward and forward walks agree; a corrupt restart array may legitimately differ, so
    // that is only checked for the builder-made tables in `sstable_table_structured`.
    let _ = walked;
});
