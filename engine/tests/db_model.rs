//! Model-based test: random operations against the engine and a `BTreeMap`, with tiny
//! memtables and level sizes so that many tables exist and background compaction runs all
//! the time through every level, plus forced full compactions and reopens in between.
//! The body is in common/model.rs; read_path_model.rs runs it for every read path.

mod common;
#[path = "common/model.rs"]
mod model;

use common::seed;
use scipkv_engine::{Options, ReadPath};

#[test]
fn engine_matches_btreemap_model() {
    let s = seed("engine_matches_btreemap_model");
    for i in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let defaults = Options::default();
        assert_eq!(defaults.read_path, ReadPath::Mmap);
        model::run(
            s.wrapping_add(i),
            2000,
            dir.path(),
            defaults.read_path,
            defaults.block_cache_bytes,
        );
    }
}
