//! One small trait over the three engines, so every workload drives them through identical
//! calls. Each implementation follows its project's tuning guide within the shared budget in
//! [`Tuning`].

use std::path::Path;

mod fjall_engine;
#[cfg(feature = "rocksdb")]
mod rocks;
mod scipkv;

pub type Result<T> = std::result::Result<T, String>;

/// One write of a batch: a put, or a delete when `value` is `None`.
#[derive(Debug, Clone)]
pub struct Op {
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

/// The budget every engine gets, identical across engines within one workload.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// fsync (fdatasync) the WAL before a write returns. Off: the WAL is still written to the
    /// OS on every write (survives a process crash), never fsynced by the write itself.
    pub sync: bool,
    pub memtable_bytes: usize,
    pub block_cache_bytes: usize,
    pub block_size: usize,
    /// SCIP data: the codecs the SCIP store recommends (zstd from L0 on); otherwise LZ4 for
    /// upper levels. Peers map it to their nearest equivalent (see each implementation).
    pub scip: bool,
}

pub trait Engine: Send + Sync {
    fn name(&self) -> &'static str;
    /// One put, durable per [`Tuning::sync`].
    fn put(&self, key: &[u8], value: &[u8]) -> Result<()>;
    /// An atomic batch, durable per [`Tuning::sync`].
    fn write_batch(&self, ops: &[Op]) -> Result<()>;
    /// Length of the value of `key`, read fully into memory (or pinned), or `None`.
    fn get(&self, key: &[u8]) -> Result<Option<usize>>;
    /// Seeks to the first key `>= start` and reads up to `limit` entries (stopping at the
    /// first key not starting with `prefix`, if given). Returns the number of entries read.
    fn scan(&self, start: &[u8], prefix: Option<&[u8]>, limit: usize) -> Result<usize>;
    /// Writes the memtable out and waits until background compaction is idle, so the bytes
    /// on disk and the write amplification are comparable.
    fn settle(&self) -> Result<()>;
    /// Compacts everything into the engine's last level (as a store at rest ends up), then
    /// settles: the bytes of data that each engine's bottommost codec holds.
    fn compact_full(&self) -> Result<()>;
}

/// Engines in the order they run in the first repetition.
pub fn available() -> Vec<&'static str> {
    let mut v = vec!["scipkv"];
    #[cfg(feature = "rocksdb")]
    v.push("rocksdb");
    v.push("fjall");
    v
}

/// Which builds are compared, for the report header.
pub fn versions() -> String {
    let mut s = String::from("scipkv-engine (this tree), fjall 3.1");
    if cfg!(feature = "rocksdb") {
        match option_env!("ROCKSDB_LIB_DIR") {
            Some(dir) => s.push_str(&format!(
                ", rocksdb crate 0.20.1 linked to the RocksDB library in {dir} (Debian \
                 librocksdb-dev 7.8.3 when installed by install-deps.sh)"
            )),
            None => s.push_str(", rocksdb crate 0.20.1 with its bundled RocksDB 7.9.2"),
        }
    }
    s
}

pub fn open(name: &str, dir: &Path, t: Tuning) -> Result<Box<dyn Engine>> {
    match name {
        "scipkv" => Ok(Box::new(scipkv::Scipkv::open(dir, t)?)),
        #[cfg(feature = "rocksdb")]
        "rocksdb" => Ok(Box::new(rocks::Rocks::open(dir, t)?)),
        "fjall" => Ok(Box::new(fjall_engine::Fjall::open(dir, t)?)),
        other => Err(format!(
            "unknown engine {other:?} (available: {:?})",
            available()
        )),
    }
}

pub(crate) fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}
