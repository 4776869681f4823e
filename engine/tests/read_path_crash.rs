//! The SIGKILL crash test (common/crash.rs) for the pread and io_uring read paths (the
//! default mmap path is crash_sigkill.rs), in directories on the disk. `SCIPKV_CRASH_KILLS`
//! sets the kills per read path (default 20); `SCIPKV_SEED` reruns a failure. Checks that
//! the io_uring run really read through the ring.

mod common;
#[path = "common/crash.rs"]
mod crash;

use scipkv_engine::ReadPath;
use scipkv_engine::storage::read_path_stats;

fn main() {
    crash::main_with("read_path_crash", 20, |seed, kills| {
        crash::parent(seed, kills, ReadPath::Pread);
        let before = read_path_stats();
        crash::parent(seed, kills, ReadPath::IoUring);
        let after = read_path_stats();
        // The parent's verification reads (scans and multi_gets) run in this process.
        assert!(
            after.uring_reads > before.uring_reads,
            "the io_uring path was not used: {before:?} -> {after:?}"
        );
        println!("read_path_crash: io_uring stats {before:?} -> {after:?}");
    });
}
