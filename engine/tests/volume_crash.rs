//! The SIGKILL crash test (common/crash.rs) on the raw-volume backend: the child writes to a
//! database on a volume in a preallocated file (`SyncMode::Always`, background flushes and
//! compactions) and is killed at random points; the parent reopens the volume (superblock
//! selection, journal replay) and the database, and checks the acknowledged prefix, by scan
//! and by multi_get, and that the volume holds no orphaned files. `SCIPKV_CRASH_KILLS` sets
//! the kills (default 20); `SCIPKV_SEED` reruns a failure.

mod common;
#[path = "common/crash.rs"]
mod crash;

fn main() {
    crash::main_with("volume_crash", 20, |seed, kills| {
        crash::parent_on(seed, kills, crash::Backend::Volume, "always");
    });
}
