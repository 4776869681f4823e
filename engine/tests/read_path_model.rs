//! The model test (common/model.rs) for the read paths other than the default mmap: pread,
//! and io_uring with `O_DIRECT`, in directories on the disk (not tmpfs), with a tiny block
//! cache so that most data-block reads, batched or not, really go to the file. The io_uring
//! run asserts that its reads went through the ring rather than a silent fallback.

mod common;
#[path = "common/model.rs"]
mod model;

use common::seed;
use scipkv_engine::ReadPath;
use scipkv_engine::storage::read_path_stats;

/// Small enough that the model's tables (tens of KiB) mostly miss.
const CACHE_BYTES: usize = 16 << 10;

fn run_all(name: &str, read_path: ReadPath, cache: usize, seeds: u64) {
    let s = seed(name);
    for i in 0..seeds {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        model::run(s.wrapping_add(i), 2000, dir.path(), read_path, cache);
    }
}

#[test]
fn model_with_pread() {
    run_all("model_with_pread", ReadPath::Pread, CACHE_BYTES, 1);
}

#[test]
fn model_with_io_uring() {
    let before = read_path_stats();
    run_all("model_with_io_uring", ReadPath::IoUring, CACHE_BYTES, 2);
    let after = read_path_stats();
    eprintln!("model_with_io_uring: {before:?} -> {after:?}");
    assert!(
        after.uring_reads > before.uring_reads + 100,
        "the io_uring path was not used: {before:?} -> {after:?}"
    );
    assert!(
        after.uring_reads - before.uring_reads > after.uring_submissions - before.uring_submissions,
        "some submissions carried several reads"
    );
}

#[test]
fn model_with_io_uring_and_no_cache() {
    run_all("model_with_io_uring_and_no_cache", ReadPath::IoUring, 0, 1);
}
