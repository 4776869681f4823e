//! Helpers shared by the engine benches (included with `#[path]`; not a bench target itself).
//!
//! Every bench keeps its data in a fresh directory under the system temp dir
//! (`tempfile::tempdir()`, i.e. `$TMPDIR` or `/tmp`), never in the repository.

#![allow(dead_code, reason = "each bench uses a subset")]

use scipkv::{Db, Options, SyncMode, WriteBatch};
use tempfile::TempDir;

/// Value size used throughout (bytes).
pub const VALUE_LEN: usize = 100;

/// The `i`-th key: 19 bytes, sorts in `i` order. Benches store even `i` and probe odd `i` for
/// misses, so a miss falls inside every table's key range and only the bloom filter (or a
/// block search) can reject it.
pub fn key(i: u64) -> Vec<u8> {
    format!("key{i:016}").into_bytes()
}

/// SplitMix64: a deterministic pseudo-random stream (no `rand` dependency).
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 100-byte value: half pseudo-random, half a repeated pattern, so LZ4 has something (but not
/// everything) to compress, like real index payloads.
pub fn value(seed: u64) -> Vec<u8> {
    let mut s = seed;
    let mut v: Vec<u8> = (0..VALUE_LEN / 16)
        .flat_map(|_| splitmix64(&mut s).to_le_bytes())
        .take(VALUE_LEN / 2)
        .collect();
    v.resize(VALUE_LEN, b'v');
    v
}

/// Opens a database in a new temp dir.
pub fn open(opts: Options) -> (TempDir, Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), opts).expect("open");
    (dir, db)
}

/// Options for loading data fast: no WAL fsync, the given memtable size.
pub fn bulk_opts(memtable_size: usize) -> Options {
    Options {
        sync: SyncMode::Never,
        memtable_size,
        ..Options::default()
    }
}

/// Writes `key(2 * j)` for each `j` in `order`, in batches of 1000. Returns raw key+value bytes.
pub fn load(db: &Db, order: impl IntoIterator<Item = u64>) -> u64 {
    let mut bytes = 0;
    let mut batch = WriteBatch::new();
    let mut n = 0;
    for j in order {
        let k = key(2 * j);
        let v = value(j);
        bytes += (k.len() + v.len()) as u64;
        batch.put(&k, &v);
        n += 1;
        if n % 1000 == 0 {
            db.write(std::mem::take(&mut batch)).expect("write");
        }
    }
    db.write(batch).expect("write");
    bytes
}

/// `0..n` in a deterministic shuffled order (Fisher-Yates with SplitMix64).
pub fn shuffled(n: u64, seed: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..n).collect();
    let mut s = seed;
    for i in (1..v.len()).rev() {
        let j = (splitmix64(&mut s) % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

/// Probe keys for `n` stored entries: `(hits, misses)`, 4096 of each in a shuffled order, so
/// successive gets do not walk the same block.
pub fn probes(n: u64) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut s = 0x5EED;
    let mut hits = Vec::with_capacity(4096);
    let mut misses = Vec::with_capacity(4096);
    for _ in 0..4096 {
        let j = splitmix64(&mut s) % n;
        hits.push(key(2 * j));
        misses.push(key(2 * j + 1));
    }
    (hits, misses)
}
