//! A fixed workload of single-key puts and point gets, all in the memtable, for instruction
//! counting: wall-clock benches on the shared machine are too noisy to see a few hundred
//! instructions per operation, callgrind's counts are repeatable.
//!
//! ```sh
//! cargo build --release -p scipkv-engine --example point_ops
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out target/release/examples/point_ops
//! callgrind_annotate --inclusive=yes /tmp/cg.out | grep -E 'Db::put|Db::get|Memtable::'
//! ```
//!
//! Per-operation figures are the inclusive counts of `Db::put` / `Db::get` divided by the
//! operation counts this prints. Arguments: `[N]` keys (default 100,000).

use scipkv_engine::{Db, Options, SyncMode};

/// SplitMix64: a deterministic key order without a `rand` dependency.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 16-byte keys like the compare crate's micro workloads; even `i` stored, odd `i` missed.
fn key(i: u64) -> [u8; 16] {
    let mut s = i;
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&splitmix64(&mut s).to_be_bytes());
    k[8..].copy_from_slice(&i.to_be_bytes());
    k
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("N must be a number"))
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = Options {
        sync: SyncMode::Never,
        memtable_size: 1 << 30,
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts).expect("open");
    let value = [b'v'; 100];
    let start = std::time::Instant::now();
    for i in 0..n {
        db.put(key(2 * i), value).expect("put");
    }
    let put_ns = start.elapsed().as_nanos() / u128::from(n.max(1));
    let start = std::time::Instant::now();
    let mut hits = 0u64;
    for i in 0..n {
        hits += u64::from(db.get(key(2 * i)).expect("get").is_some());
    }
    let hit_ns = start.elapsed().as_nanos() / u128::from(n.max(1));
    let mut misses = 0u64;
    for i in 0..n {
        misses += u64::from(db.get(key(2 * i + 1)).expect("get").is_none());
    }
    assert_eq!(
        (hits, misses),
        (n, n),
        "every even key is stored, no odd key"
    );
    assert_eq!(
        db.stats().flushes,
        0,
        "the workload must stay in the memtable"
    );
    // Wall time is only indicative on a shared machine; the instruction counts are the figure.
    println!(
        "puts {n} ({put_ns} ns each), get hits {hits} ({hit_ns} ns each), get misses {misses}"
    );
}
