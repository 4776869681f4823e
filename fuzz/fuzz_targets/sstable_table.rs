//! Whole table files: `Table::open` on arbitrary bytes, then point reads and full walks both
//! ways. Any `Err` is fine; a panic, a hang or a huge allocation is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scipkv_engine::iter::InternalIterator;
use scipkv_engine::key::{MAX_SEQNO, user_key};
use scipkv_fuzz::{open_table, walk};

fuzz_target!(|data: &[u8]| {
    let Ok(table) = open_table(data.to_vec()) else {
        return;
    };
    let _ = table.properties();
    let mut it = table.iter();
    let mut keys: Vec<Vec<u8>> = vec![Vec::new(), b"a".to_vec(), vec![0xff; 9]];
    if let Ok((fwd, _)) = walk(&mut it, 100_000) {
        keys.extend(
            fwd.iter()
                .step_by(1 + fwd.len() / 8)
                .map(|(k, _)| k.clone()),
        );
    }
    for k in &keys {
        let uk = user_key(k);
        let _ = table.may_contain(uk);
        let _ = table.get(uk, MAX_SEQNO);
        let _ = table.get(uk, 0);
        let _ = it.seek(k);
        let _ = it.seek_for_prev(k);
    }
});
