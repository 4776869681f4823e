//! Crash test with real SIGKILL (the default mmap read path; read_path_crash.rs runs the
//! same test for pread and io_uring). The body is in common/crash.rs.
//!
//! The binary re-executes itself as a child that writes deterministic batches in
//! `SyncMode::Always` and reports each acknowledged batch on stdout. The parent kills it at a
//! random point (after a random number of acknowledgements, sometimes before it finished
//! opening), reopens the database and checks that every acknowledged batch is present,
//! nothing unwritten appears, the state is exactly a prefix of the write order, and the
//! directory holds no orphaned files. Tiny memtables and levels make kills land during
//! flushes and compactions too. `SCIPKV_CRASH_KILLS` sets the number of kills (default 60);
//! `SCIPKV_SEED` reruns a failure.

mod common;
#[path = "common/crash.rs"]
mod crash;

use scipkv_engine::ReadPath;

fn main() {
    crash::main_with("crash_sigkill", 60, |seed, kills| {
        crash::parent(seed, kills, ReadPath::Mmap)
    });
}
