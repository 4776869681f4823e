//! scipkv-engine: an embeddable LSM storage engine, and the SCIP layer built on it.
//!
//! ```
//! use scipkv_engine::{Db, Options, WriteBatch};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let db = Db::open(dir.path(), Options::default()).unwrap();
//! let mut batch = WriteBatch::new();
//! batch.put(b"k1", b"v1");
//! batch.put(b"k2", b"v2");
//! db.write(batch).unwrap(); // atomic, durable when it returns
//! let snap = db.snapshot();
//! db.delete(b"k1").unwrap();
//! assert_eq!(snap.get(b"k1").unwrap().as_deref(), Some(&b"v1"[..]));
//! assert_eq!(db.get(b"k1").unwrap(), None);
//! ```

pub mod batch;
pub mod cache;
pub mod checksum;
pub mod chunk;
pub mod clock;
pub mod coding;
pub mod compaction;
mod db;
pub mod error;
pub mod iter;
pub mod key;
pub mod log;
pub mod memtable;
pub mod options;
pub mod scip;
pub mod sstable;
pub mod storage;
pub mod version;

pub use batch::WriteBatch;
pub use chunk::{DedupOptions, DedupStats, GcReport, VerifyReport};
pub use clock::{Clock, ManualClock, OffsetClock, SystemClock};
pub use compaction::{CompactionOptions, Compression};
pub use db::{Db, DbIter, DbStats, LevelStats, LiveTable, RecoveryInfo, Snapshot};
pub use error::{Error, Result};
pub use options::{Options, SyncMode};
pub use sstable::TableOptions;
pub use storage::ReadPath;
