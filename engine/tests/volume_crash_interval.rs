//! The SIGKILL crash test (common/crash.rs) on the raw-volume backend in
//! `SyncMode::Interval`, with an interval no run reaches: the engine syncs the WAL only at
//! segment switches, so most acknowledged writes were handed to the volume by the WAL's
//! per-write `flush` alone (their blocks written with `O_DIRECT` and listed in the journal
//! tail) when the child is killed. As on a file system, a process crash must lose none of
//! them. `SCIPKV_CRASH_KILLS` sets the kills (default 20); `SCIPKV_SEED` reruns a failure.

mod common;
#[path = "common/crash.rs"]
mod crash;

fn main() {
    crash::main_with("volume_crash_interval", 20, |seed, kills| {
        crash::parent_on(seed, kills, crash::Backend::Volume, "interval");
    });
}
