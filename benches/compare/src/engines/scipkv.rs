//! scipkv-engine, with the options the project ships (`Options::default()`, or
//! `ScipStore::recommended_options()` for SCIP data) scaled to the shared budget.

use std::path::Path;

use scipkv_engine::scip::store::ScipStore;
use scipkv_engine::{Db, Options, SyncMode, WriteBatch};

use super::{Engine, Op, Result, Tuning, err};

pub struct Scipkv {
    db: Db,
}

impl Scipkv {
    pub fn open(dir: &Path, t: Tuning) -> Result<Self> {
        let mut o = if t.scip {
            ScipStore::recommended_options()
        } else {
            Options::default()
        };
        // `Never` still writes every batch to the WAL file before returning; it only skips
        // the fsync. `Always` fsyncs (fdatasync) before returning.
        o.sync = if t.sync {
            SyncMode::Always
        } else {
            SyncMode::Never
        };
        o.memtable_size = t.memtable_bytes;
        o.block_cache_bytes = t.block_cache_bytes;
        o.table.block_size = t.block_size;
        o.table.bloom_bits_per_key = 10;
        let db = Db::open(dir, o).map_err(err)?;
        Ok(Scipkv { db })
    }
}

impl Engine for Scipkv {
    fn name(&self) -> &'static str {
        "scipkv"
    }

    fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.db.put(key, value).map_err(err)
    }

    fn write_batch(&self, ops: &[Op]) -> Result<()> {
        let mut b = WriteBatch::new();
        for op in ops {
            match &op.value {
                Some(v) => b.put(&op.key, v),
                None => b.delete(&op.key),
            }
        }
        self.db.write(b).map_err(err)
    }

    fn get(&self, key: &[u8]) -> Result<Option<usize>> {
        Ok(self.db.get(key).map_err(err)?.map(|v| v.len()))
    }

    fn scan(&self, start: &[u8], prefix: Option<&[u8]>, limit: usize) -> Result<usize> {
        let mut n = 0;
        for kv in self.db.iter(start..).take(limit) {
            let (k, _v) = kv.map_err(err)?;
            if prefix.is_some_and(|p| !k.starts_with(p)) {
                break;
            }
            n += 1;
        }
        Ok(n)
    }

    fn settle(&self) -> Result<()> {
        self.db.flush().map_err(err)?;
        // Waits for the background thread: leveled compaction until no level is over its
        // target, then, once no write has come for `CompactionOptions::idle_after` (10 s
        // by default), idle compaction. Both are what a store left alone reaches by itself.
        let rested = self
            .db
            .wait_for_rest(std::time::Duration::from_secs(600))
            .map_err(err)?;
        if rested {
            Ok(())
        } else {
            Err("scipkv: background compaction still busy after 600 s".into())
        }
    }

    fn compact_full(&self) -> Result<()> {
        self.db.compact_all().map_err(err)
    }
}
