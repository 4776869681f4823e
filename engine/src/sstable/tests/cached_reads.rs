//! Data-block reads through the shared block cache.

use super::*;
use crate::cache::BlockCache;

fn numbered_entries(n: u32, value: &[u8]) -> Entries {
    (0..n)
        .map(|i| {
            let key = format!("key{i:06}");
            (make_internal_key(key.as_bytes(), 5, 1), value.to_vec())
        })
        .collect()
}

fn open_cached(bytes: Vec<u8>, file_number: u64, cache: &Arc<BlockCache>) -> Arc<Table> {
    let file = Arc::new(MemRead(bytes));
    let t = Table::open_with_cache(file, "c.sst".into(), file_number, Some(cache.clone()));
    Arc::new(t.unwrap())
}

#[test]
fn a_second_read_of_a_block_is_served_by_the_cache() {
    let entries = numbered_entries(2000, &[7; 20]);
    let (bytes, summary) = build(&entries, TableOptions::default());
    let blocks = summary.props.num_data_blocks;
    assert!(blocks > 2);
    let cache = Arc::new(BlockCache::new(1 << 20));
    let table = open_cached(bytes, 7, &cache);
    assert_eq!(table.file_number(), 7);
    let pinned = cache.stats().pinned_bytes;
    assert!(pinned > 0, "index and filter are reported as pinned");

    assert_eq!(table.get(b"key000123", 9).unwrap().unwrap().value, [7; 20]);
    assert_eq!((table.blocks_read(), table.cache_hits()), (1, 0));
    assert_eq!(table.get(b"key000123", 9).unwrap().unwrap().value, [7; 20]);
    assert_eq!((table.blocks_read(), table.cache_hits()), (1, 1));
    // A neighbouring key in the same block is a hit too.
    assert!(table.get(b"key000124", 9).unwrap().is_some());
    assert_eq!(table.blocks_read(), 1);

    // A full scan reads every other block once; a second scan reads nothing.
    check_iterator(&mut table.iter(), &entries, &mut TestRng::new(3), 0).unwrap();
    assert_eq!(table.blocks_read(), blocks);
    check_iterator(&mut table.iter(), &entries, &mut TestRng::new(4), 200).unwrap();
    assert_eq!(
        table.blocks_read(),
        blocks,
        "everything came from the cache"
    );
    let stats = cache.stats();
    assert_eq!(stats.entries, blocks);
    assert_eq!(stats.misses, blocks);

    drop(table);
    assert_eq!(cache.stats().pinned_bytes, 0, "unpinned on drop");
}

#[test]
fn corrupt_blocks_are_never_cached() {
    let entries = numbered_entries(2000, &[7; 20]);
    let (mut bytes, _) = build(&entries, TableOptions::default());
    let handles = open(bytes.clone()).unwrap().data_block_handles().unwrap();
    // Damage the first data block's payload; its checksum catches it.
    bytes[5] ^= 0x40;
    let cache = Arc::new(BlockCache::new(1 << 20));
    let table = open_cached(bytes, 1, &cache);
    for attempt in 1..=2 {
        let err = table.get(b"key000000", 9).unwrap_err();
        assert!(err.is_corruption(), "attempt {attempt}: {err}");
        assert_eq!(table.blocks_read(), attempt, "every attempt reads the file");
        assert_eq!(
            cache.stats().entries,
            0,
            "attempt {attempt}: nothing cached"
        );
    }
    // Other blocks are fine and cached.
    let last = format!("key{:06}", entries.len() - 1);
    assert!(table.get(last.as_bytes(), 9).unwrap().is_some());
    assert!(table.get(last.as_bytes(), 9).unwrap().is_some());
    assert_eq!(table.blocks_read(), 3);
    assert_eq!(table.cache_hits(), 1);
    assert_eq!(cache.stats().entries, 1);
    assert!(handles.len() > 2);
}

#[test]
fn a_block_with_a_bad_restart_array_is_not_cached() {
    // Checksum-valid but structurally broken: caught by Block validation inside the load.
    let entries = numbered_entries(10, b"v");
    let opts = TableOptions {
        codec: Codec::None,
        bloom_bits_per_key: 0,
        ..TableOptions::default()
    };
    let (mut bytes, _) = build(&entries, opts);
    let h = open(bytes.clone()).unwrap().data_block_handles().unwrap()[0];
    let end = (h.offset + h.size) as usize;
    // Restart count (last 4 payload bytes) far too large, then re-checksum the block.
    bytes[end - 4..end].copy_from_slice(&u32::MAX.to_le_bytes());
    let sum = xxh3_parts(&[&bytes[..end], &bytes[end..end + 5]]);
    bytes[end + 5..end + 13].copy_from_slice(&sum.to_le_bytes());
    let cache = Arc::new(BlockCache::new(1 << 20));
    let table = open_cached(bytes, 1, &cache);
    for _ in 0..2 {
        let err = table.get(b"key000003", 9).unwrap_err();
        assert!(err.is_corruption(), "{err}");
        assert_eq!(cache.stats().entries, 0);
    }
    assert_eq!(table.blocks_read(), 2);
}

#[test]
fn tables_with_different_file_numbers_do_not_collide() {
    // Same keys, same layout, different values: every block sits at the same offset in
    // both files, so only the file number tells them apart.
    let a = numbered_entries(500, b"aaaa");
    let b = numbered_entries(500, b"bbbb");
    let cache = Arc::new(BlockCache::new(1 << 20));
    let ta = open_cached(build(&a, TableOptions::default()).0, 1, &cache);
    let tb = open_cached(build(&b, TableOptions::default()).0, 2, &cache);
    for round in 0..2 {
        for i in (0..500).step_by(7) {
            let k = format!("key{i:06}");
            assert_eq!(ta.get(k.as_bytes(), 9).unwrap().unwrap().value, b"aaaa");
            assert_eq!(tb.get(k.as_bytes(), 9).unwrap().unwrap().value, b"bbbb");
        }
        if round == 0 {
            assert!(ta.cache_hits() > 0 && tb.cache_hits() > 0);
        }
    }
    assert_eq!(ta.blocks_read(), tb.blocks_read());
    assert_eq!(cache.stats().entries, 2 * ta.blocks_read());
}

#[test]
fn dictionary_tables_read_through_a_small_cache_match_the_model() {
    // A cache far smaller than the table: constant eviction, and every block of a
    // dictionary table decoded from either the file or the cache.
    for seed in seeds(&[41, 42]) {
        let mut rng = TestRng::new(seed);
        let model = random_model(&mut rng, 300, false);
        let entries = sorted_entries(&model);
        let opts = TableOptions {
            block_size: 512,
            codec: Codec::Zstd { level: 3 },
            dictionary: Some(dict_tables::small_dictionary()),
            ..TableOptions::default()
        };
        let (bytes, _) = build(&entries, opts);
        let cache = Arc::new(BlockCache::new(8 * 1024));
        let table = open_cached(bytes, seed, &cache);
        assert_eq!(table.properties().format_version, 2);
        check_gets(&table, &model, &mut rng);
        let mut it = table.iter();
        check_iterator(&mut it, &entries, &mut rng, 300)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        println!("seed {seed}: cache {:?}", cache.stats());
        assert!(cache.stats().usage_bytes <= 8 * 1024 + 64);
        assert!(table.cache_hits() > 0);
    }
}
