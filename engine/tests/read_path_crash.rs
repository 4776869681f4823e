//! The SIGKILL crash test (common/crash.rs) for the pread and io_uring read paths (the
//! default mmap path is crash_sigkill.rs), in directories on the disk. `SCIPKV_CRASH_KILLS`
//! sets the kills per read path (default 20); `SCIPKV_SEED` reruns a failure. Checks that
//! the io_uring run really read through the ring.

mod common;
#[path = "common/crash.rs"]
mod crash;

use std::path::Path;

use scipkv_engine::ReadPath;
use scipkv_engine::storage::read_path_stats;

fn main() {
    if let Ok(dir) = std::env::var("SCIPKV_CRASH_CHILD_DIR") {
        let seed = std::env::var("SCIPKV_CRASH_CHILD_SEED")
            .unwrap()
            .parse()
            .unwrap();
        let path = std::env::var("SCIPKV_CRASH_CHILD_READ_PATH").unwrap();
        crash::child(Path::new(&dir), seed, ReadPath::from_name(&path).unwrap());
        return;
    }
    let all: Vec<String> = std::env::args().collect();
    if all.iter().any(|a| a == "--list") {
        // The listing format of libtest, which cargo-nextest reads.
        if !all.iter().any(|a| a == "--ignored") {
            println!("read_path_crash: test");
        }
        return;
    }
    // Accept (and ignore) the arguments test runners pass; a filter that does not match
    // this binary's one test skips it, as the standard harness would.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if args.iter().any(|a| !"read_path_crash".contains(a.as_str())) {
        println!("0 passed, 0 failed");
        return;
    }
    let kills = std::env::var("SCIPKV_CRASH_KILLS").map_or(20, |k| k.parse().unwrap());
    let seed = common::seed("read_path_crash");
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
    println!("1 passed, 0 failed");
}
