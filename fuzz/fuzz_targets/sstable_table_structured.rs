//! Valid tables with damage: a small table is built by `TableBuilder` from fuzz-chosen
//! entries and options, then bytes at fuzz-chosen offsets are changed. Every read must either
//! fail or return exactly the original data: checksums cover footer, index, filter,
//! properties and data blocks, so damage may never turn into wrong answers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scipkv_engine::key::{MAX_SEQNO, parse_internal_key};
use scipkv_engine::sstable::{Codec, TableOptions};
use scipkv_fuzz::{Cursor, build_table, open_table, table_entries, walk};

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor::new(data);
    let opts = TableOptions {
        block_size: 16 + (c.u8() as usize) * 4,
        restart_interval: 1 + (c.u8() % 8) as usize,
        bloom_bits_per_key: u32::from(c.u8() % 12),
        codec: match c.u8() % 3 {
            0 => Codec::None,
            1 => Codec::Lz4,
            _ => Codec::Zstd { level: 1 },
        },
        ..TableOptions::default()
    };
    let entries = table_entries(&mut c, 64);
    let mut bytes = build_table(&entries, opts);

    // The undamaged table reads back exactly, both ways.
    let clean = open_table(bytes.clone()).expect("fresh table opens");
    let (fwd, bwd) = walk(&mut clean.iter(), usize::MAX).expect("fresh table walks");
    assert!(fwd == entries, "forward walk differs from what was written");
    assert!(
        bwd == entries,
        "backward walk differs from what was written"
    );

    // Damage: up to 4 (offset, xor) pairs; xor 0 is made 1 so every pair changes a byte.
    let damages = 1 + c.u8() % 4;
    for _ in 0..damages {
        if c.is_empty() {
            break;
        }
        let off = c.u32() as usize % bytes.len();
        let x = c.u8().max(1);
        bytes[off] ^= x;
    }
    let Ok(table) = open_table(bytes) else {
        return;
    };
    // Walks: whatever is returned before an error must be a prefix (forward) of the truth.
    let mut it = table.iter();
    if let Ok((f, b)) = walk(&mut it, entries.len() + 1) {
        assert!(
            f == entries,
            "damaged table walked forward to different data"
        );
        assert!(
            b == entries,
            "damaged table walked backward to different data"
        );
    }
    // Point reads of every user key at two snapshots against the model.
    for (k, _) in entries.iter().take(32) {
        let pk = parse_internal_key(k).expect("valid key");
        for snap in [MAX_SEQNO, pk.seq] {
            let Ok(got) = table.get(pk.user_key, snap) else {
                continue;
            };
            let want = entries.iter().find(|(ek, _)| {
                let e = parse_internal_key(ek).unwrap();
                e.user_key == pk.user_key && e.seq <= snap
            });
            let got = got.map(|e| (e.kind, e.seq, e.value));
            let want = want.map(|(ek, v)| {
                let e = parse_internal_key(ek).unwrap();
                (e.kind, e.seq, v.clone())
            });
            assert_eq!(got, want, "damaged table answered a point read wrongly");
        }
    }
});
