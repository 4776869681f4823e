//! fjall 3, following its README's advice: defaults, except the shared budget (memtable,
//! block cache, block size) and 10 bloom bits/key on every level. fjall 3 has no zstd, so
//! every level is LZ4 (its default leaves L0 and L1 uncompressed; LZ4 everywhere is the
//! closer match to the other engines' "LZ4 upper levels").

use std::path::Path;
use std::time::Duration;

use fjall::config::{
    BlockSizePolicy, BloomConstructionPolicy, CompressionPolicy, FilterPolicy, FilterPolicyEntry,
};
use fjall::{CompressionType, Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use super::{Engine, Op, Result, Tuning, err};

pub struct Fjall {
    db: Database,
    ks: Keyspace,
    persist: PersistMode,
}

impl Fjall {
    pub fn open(dir: &Path, t: Tuning) -> Result<Self> {
        let db = Database::builder(dir)
            .cache_size(t.block_cache_bytes as u64)
            // Worker threads for flush + compaction: the machine's two cores, as for RocksDB.
            .worker_threads(2)
            .open()
            .map_err(err)?;
        let block_size = t.block_size as u32;
        let memtable = t.memtable_bytes as u64;
        let ks = db
            .keyspace("bench", move || {
                KeyspaceCreateOptions::default()
                    .max_memtable_size(memtable)
                    .data_block_size_policy(BlockSizePolicy::all(block_size))
                    .filter_policy(FilterPolicy::all(FilterPolicyEntry::Bloom(
                        BloomConstructionPolicy::BitsPerKey(10.0),
                    )))
                    .data_block_compression_policy(CompressionPolicy::all(CompressionType::Lz4))
            })
            .map_err(err)?;
        // Not synced: the journal is written to the OS per write (fjall's default, `Buffer`).
        let persist = if t.sync {
            PersistMode::SyncData
        } else {
            PersistMode::Buffer
        };
        Ok(Fjall { db, ks, persist })
    }
}

impl Engine for Fjall {
    fn name(&self) -> &'static str {
        "fjall"
    }

    fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        // `insert` writes the journal to the OS (`PersistMode::Buffer`) before returning.
        self.ks.insert(key, value).map_err(err)?;
        if self.persist != PersistMode::Buffer {
            self.db.persist(self.persist).map_err(err)?;
        }
        Ok(())
    }

    fn write_batch(&self, ops: &[Op]) -> Result<()> {
        let mut b = self.db.batch().durability(Some(self.persist));
        for op in ops {
            match &op.value {
                Some(v) => b.insert(&self.ks, op.key.as_slice(), v.as_slice()),
                None => b.remove(&self.ks, op.key.as_slice()),
            }
        }
        b.commit().map_err(err)
    }

    fn get(&self, key: &[u8]) -> Result<Option<usize>> {
        Ok(self.ks.get(key).map_err(err)?.map(|v| v.len()))
    }

    fn scan(&self, start: &[u8], prefix: Option<&[u8]>, limit: usize) -> Result<usize> {
        let mut n = 0;
        for g in self.ks.range(start..).take(limit) {
            let (k, v) = g.into_inner().map_err(err)?;
            if prefix.is_some_and(|p| !k.starts_with(p)) {
                break;
            }
            std::hint::black_box(v);
            n += 1;
        }
        Ok(n)
    }

    fn settle(&self) -> Result<()> {
        self.ks.rotate_memtable_and_wait().map_err(err)?;
        // fjall has no "wait for compaction" call: poll until flushes and compactions have
        // been idle for 10 consecutive checks (a benchmark harness, not a test).
        let mut idle = 0;
        while idle < 10 {
            if self.db.active_compactions() == 0 && self.db.outstanding_flushes() == 0 {
                idle += 1;
            } else {
                idle = 0;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    fn compact_full(&self) -> Result<()> {
        // `major_compact` is public but doc-hidden in fjall 3: its only whole-tree compaction.
        self.ks.major_compact().map_err(err)?;
        self.settle()
    }
}
