//! Cold random `multi_get` by read path: io_uring (`O_DIRECT`, one submission per batch)
//! against pread with `O_DIRECT` (one read at a time), so neither has the page cache and
//! the comparison is between batching and not. Data set 4x the block cache.
//!
//! `cargo bench --bench read_path` runs the full measurement (a 256 MiB data set, built once
//! under target/ and reused, a 64 MiB block cache); without `--bench` (as under
//! `cargo test --all-targets`) a tiny smoke run. Knobs: `SCIPKV_RP_DATA_MB`,
//! `SCIPKV_RP_CACHE_MB`, `SCIPKV_RP_OPS` (keys per configuration), `SCIPKV_RP_DIR`.
//!
//! The same data set is also copied onto a raw volume (a preallocated file, see
//! format-spec/volume.md) and measured there: `volume_io_uring` against
//! `volume_pread_direct`.
//!
//! Prints, per read path and batch size: keys/s, and p50/p99 latency of one `multi_get`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use scipkv::storage::volume::{self, FileDevice, VolumeStorage};
use scipkv::storage::{FsStorage, Storage, read_path_stats};
use scipkv::{CompactionOptions, Db, Options, ReadPath, SyncMode};

const VALUE_LEN: usize = 400;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| v.parse().expect(name))
}

fn key(i: u64) -> Vec<u8> {
    format!("key{i:016}").into_bytes()
}

fn splitmix(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn options(read_path: ReadPath, cache: usize) -> Options {
    Options {
        read_path,
        sync: SyncMode::Never,
        block_cache_bytes: cache,
        compaction: CompactionOptions {
            auto: false,
            ..CompactionOptions::default()
        },
        ..Options::default()
    }
}

/// Loads `n` keys with incompressible values (once: a marker file records completion).
fn build(dir: &Path, n: u64) {
    let marker = dir.join("BENCH_COMPLETE");
    if marker.exists() {
        return;
    }
    let _ = std::fs::remove_dir_all(dir);
    let t = Instant::now();
    let db = Db::open(dir, options(ReadPath::Mmap, 8 << 20)).unwrap();
    let mut s = 42u64;
    let mut v = vec![0u8; VALUE_LEN];
    for i in 0..n {
        for c in v.chunks_mut(8) {
            c.copy_from_slice(&splitmix(&mut s).to_le_bytes()[..c.len()]);
        }
        db.put(key(i), &v).unwrap();
    }
    db.flush().unwrap();
    db.compact_all().unwrap();
    let st = db.stats();
    let bytes: u64 = st.levels.iter().map(|l| l.bytes).sum();
    eprintln!(
        "read_path: built {n} keys, {:.1} MiB of tables {:?} in {:.1?}",
        bytes as f64 / (1 << 20) as f64,
        st.levels.iter().map(|l| l.files).collect::<Vec<_>>(),
        t.elapsed()
    );
    db.close().unwrap();
    std::fs::write(marker, b"").unwrap();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Copies the database in `dir` file by file onto a fresh volume in `volume` (once).
fn build_volume(dir: &Path, volume: &Path, bytes: u64) {
    let marker = volume.with_extension("complete");
    // A volume left by an older build may be of a format this one refuses: build it anew.
    if marker.exists() && VolumeStorage::open_path(volume).is_ok() {
        return;
    }
    let _ = std::fs::remove_file(volume);
    volume::create_file(volume, bytes).unwrap();
    VolumeStorage::format(&FileDevice::open(volume).unwrap(), false).unwrap();
    let v = VolumeStorage::open_path(volume).unwrap();
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if name == "LOCK" || name == "BENCH_COMPLETE" {
            continue;
        }
        let mut f = v.create(&name).unwrap();
        f.append(&std::fs::read(dir.join(&name)).unwrap()).unwrap();
        f.sync().unwrap();
    }
    v.sync_dir().unwrap();
    eprintln!(
        "read_path: copied the data set onto {}: {:?}",
        volume.display(),
        v.stats()
    );
    std::fs::write(marker, b"").unwrap();
}

fn run(
    dir: &Path,
    label: &str,
    storage: Arc<dyn Storage>,
    cache: usize,
    n: u64,
    batch: usize,
    ops: u64,
) {
    let mut opts = options(ReadPath::Mmap, cache);
    opts.storage = Some(storage);
    let db = Db::open(dir, opts).unwrap();
    let mut s = 7u64 ^ batch as u64;
    let batches = (ops / batch as u64).max(1);
    let mut lat = Vec::with_capacity(batches as usize);
    let before = read_path_stats();
    let t = Instant::now();
    for _ in 0..batches {
        let keys: Vec<Vec<u8>> = (0..batch).map(|_| key(splitmix(&mut s) % n)).collect();
        let t0 = Instant::now();
        let got = db.multi_get(&keys).unwrap();
        lat.push(t0.elapsed());
        assert!(
            got.iter()
                .all(|v| v.as_ref().is_some_and(|v| v.len() == VALUE_LEN))
        );
    }
    let wall = t.elapsed();
    let after = read_path_stats();
    lat.sort();
    let st = db.stats();
    println!(
        "read_path/{label}/batch_{batch}: {:>9.0} keys/s  p50 {:>8.1?}  p99 {:>8.1?}  ({} keys, {:.2?}; cache hits {} misses {}; uring reads {} in {} submissions, direct preads {})",
        (batches * batch as u64) as f64 / wall.as_secs_f64(),
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        batches * batch as u64,
        wall,
        st.cache.hits,
        st.cache.misses,
        after.uring_reads - before.uring_reads,
        after.uring_submissions - before.uring_submissions,
        after.direct_preads - before.direct_preads,
    );
    db.close().unwrap();
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (data_mb, cache_mb, ops) = if full {
        (
            env_or("SCIPKV_RP_DATA_MB", 256),
            env_or("SCIPKV_RP_CACHE_MB", 64),
            env_or("SCIPKV_RP_OPS", 20_000),
        )
    } else {
        (2, 1, 256)
    };
    // ~418 bytes per entry in the tables (400-byte value, key, framing, index, filter).
    let n = data_mb * (1 << 20) / 400;
    let root = std::env::var("SCIPKV_RP_DIR").map_or_else(
        |_| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("read_path_bench"),
        PathBuf::from,
    );
    let dir = root.join(format!("{n}-keys"));
    std::fs::create_dir_all(&root).unwrap();
    build(&dir, n);
    let vol = root.join(format!("{n}-keys.volume"));
    build_volume(&dir, &vol, data_mb * 2 * (1 << 20) + (64 << 20));
    let cache = (cache_mb << 20) as usize;
    for batch in [32, 1] {
        for (label, path, direct_pread) in [
            ("io_uring", ReadPath::IoUring, false),
            ("pread_direct", ReadPath::Pread, true),
        ] {
            let storage = FsStorage::new(&dir, path)
                .unwrap()
                .with_direct_pread(direct_pread);
            run(&dir, label, Arc::new(storage), cache, n, batch, ops);
        }
        // The same data set on a raw volume (a preallocated file): its device descriptor is
        // O_DIRECT either way; batched through io_uring, or one pread at a time.
        for (label, batched) in [("volume_io_uring", true), ("volume_pread_direct", false)] {
            let storage = VolumeStorage::open_path(&vol)
                .unwrap()
                .with_batched_reads(batched);
            run(&vol, label, Arc::new(storage), cache, n, batch, ops);
        }
    }
}
