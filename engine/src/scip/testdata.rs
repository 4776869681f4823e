//! Locates the shared real-world SCIP indexes, for tests and benchmarks only.
//!
//! Public (not `cfg(test)`) so integration tests and benches in other crates find the data
//! the same way. The CI layout keeps `shared/` next to the clone; `SCIPKV_SHARED` overrides it
//! for worktrees that live elsewhere.

use std::path::PathBuf;

/// The shared data root: `$SCIPKV_SHARED`, else `<workspace root>/../shared`.
pub fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SCIPKV_SHARED") {
        return PathBuf::from(dir);
    }
    // This crate lives in `<workspace root>/engine`.
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("shared")
}

/// Path of a file in `<shared>/scip`, panicking with instructions if it is missing: a test that
/// silently skipped missing data would pass without checking anything.
pub fn scip_file(name: &str) -> PathBuf {
    let path = shared_dir().join("scip").join(name);
    assert!(
        path.is_file(),
        "missing test data {}: set SCIPKV_SHARED to the directory holding scip/{name} \
         (e.g. SCIPKV_SHARED=/work/shared)",
        path.display()
    );
    path
}
