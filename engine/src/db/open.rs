//! Opening a database: manifest recovery, WAL replay, orphan cleanup.
//!
//! Steps (format-spec/manifest.md, "Recovery"): replay the manifest CURRENT names; open every
//! table it lists; replay WAL segments numbered at or above its log number, in order, into a
//! memtable; write that memtable as an L0 table; start a fresh WAL segment and a fresh
//! manifest (a snapshot of the version, made live by replacing CURRENT); delete every file no
//! longer referenced. Each step is redone safely if a crash interrupts it, because nothing old
//! is deleted before CURRENT points at a manifest that no longer needs it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use parking_lot::{Condvar, Mutex, RwLock};

use super::stats::{Counters, RecoveryInfo};
use super::{CloseGuard, Db, DbInner, FlushState, SuperVersion, WalState};
use crate::batch::decode_payload;
use crate::log::{LogKind, LogReader, LogWriter, Tail};
use crate::memtable::Memtable;
use crate::options::{Options, SyncMode};
use crate::sstable::Table;
use crate::storage::volume::VolumeStorage;
use crate::storage::{FsStorage, Storage};
use crate::version::edit::VersionEdit;
use crate::version::levels::{TableFile, Version};
use crate::version::names::{FileKind, parse_file_name, table_name, wal_name};
use crate::version::recovery::recover_manifest;
use crate::version::set::VersionSet;
use crate::{Error, Result};

impl Db {
    /// Opens (or creates) the database in directory `path`.
    ///
    /// With `options.storage` set, that backend is used and `path` only names the database in
    /// messages.
    ///
    /// ```
    /// use scipkv_engine::{Db, Options};
    /// let dir = tempfile::tempdir().unwrap();
    /// let db = Db::open(dir.path(), Options::default()).unwrap();
    /// db.put(b"hello", b"world").unwrap();
    /// assert_eq!(db.get(b"hello").unwrap().as_deref(), Some(&b"world"[..]));
    /// ```
    pub fn open(path: impl AsRef<std::path::Path>, options: Options) -> Result<Db> {
        options.validate()?;
        let storage: Arc<dyn Storage> = match &options.storage {
            Some(s) => Arc::clone(s),
            None => {
                let p = path.as_ref();
                if !options.create_if_missing && !p.join("CURRENT").exists() {
                    return Err(Error::InvalidArgument(format!(
                        "{} holds no database and create_if_missing is off",
                        p.display()
                    )));
                }
                Arc::new(
                    FsStorage::new(p, options.read_path)
                        .map_err(|e| Error::io(format!("opening directory {}", p.display()), e))?,
                )
            }
        };
        open_with(storage, options)
    }

    /// Opens (or creates) the database on the raw volume at `path`, a block device or
    /// preallocated file formatted with [`VolumeStorage::format`] (`scipkv volume format`).
    /// Table reads go through the device's `O_DIRECT` descriptor and io_uring whatever
    /// `options.read_path` says; `options.storage` is replaced.
    pub fn open_volume(path: impl AsRef<std::path::Path>, mut options: Options) -> Result<Db> {
        let volume = VolumeStorage::open_path(path.as_ref())?;
        options.storage = Some(Arc::new(volume));
        Db::open(path, options)
    }
}

fn open_with(storage: Arc<dyn Storage>, opts: Options) -> Result<Db> {
    let lock = storage.lock().map_err(|e| {
        if e.kind() == std::io::ErrorKind::WouldBlock {
            Error::Locked(e.to_string())
        } else {
            Error::io("locking the data directory", e)
        }
    })?;
    let files = storage
        .list()
        .map_err(|e| Error::io("listing the data directory", e))?;
    let mut recovery = RecoveryInfo::default();

    let cache = Arc::new(crate::cache::BlockCache::new(opts.block_cache_bytes));
    let manifest = recover_manifest(&*storage)?;
    let (version, mut next_file, log_number, mut last_seq) = match manifest {
        Some(m) => {
            if opts.error_if_exists {
                return Err(Error::InvalidArgument("database already exists".into()));
            }
            let version = open_tables(&storage, &m.tables, &cache)?;
            (version, m.next_file, m.log_number, m.last_seqno)
        }
        None => {
            check_interrupted_creation(&*storage, &files)?;
            if !opts.create_if_missing {
                return Err(Error::InvalidArgument(
                    "no database and create_if_missing is off".into(),
                ));
            }
            (Version::empty(), 1, 0, 0)
        }
    };
    for f in &files {
        if let Some(FileKind::Wal(n) | FileKind::Table(n) | FileKind::Manifest(n)) =
            parse_file_name(f)
        {
            next_file = next_file.max(n + 1);
        }
    }

    // Replay WAL segments still needed, oldest first.
    let mut wals: Vec<u64> = files
        .iter()
        .filter_map(|f| match parse_file_name(f) {
            Some(FileKind::Wal(n)) if n >= log_number => Some(n),
            _ => None,
        })
        .collect();
    wals.sort_unstable();
    let replay_number = next_file;
    next_file += 1;
    let mem = Arc::new(Memtable::new(replay_number));
    for (i, n) in wals.iter().enumerate() {
        let name = wal_name(*n);
        let mut r = LogReader::open(&*storage, &name, LogKind::Wal)?;
        if matches!(r.tail(), Tail::Torn { offset: 0, .. }) && i + 1 < wals.len() {
            // A segment whose header never became durable held no acknowledged write (a
            // write is acknowledged only after its segment, header included, is synced). It
            // is the leftover of a segment creation that failed and whose removal failed too;
            // the writer went on in a later segment, so replay continues there.
            recovery.headerless_wal_segments_skipped += 1;
            continue;
        }
        recovery.wal_segments += 1;
        while let Some(rec) = r.next_record()? {
            let batch = decode_payload(&rec, &name, r.valid_len())?;
            for (i, op) in batch.ops.iter().enumerate() {
                mem.insert(op.key, batch.first_seq + i as u64, op.kind as u8, op.value);
            }
            if !batch.ops.is_empty() {
                last_seq = last_seq.max(batch.first_seq + batch.ops.len() as u64 - 1);
            }
            recovery.wal_batches += 1;
        }
        if let Tail::Torn { offset, .. } = r.tail() {
            // Only the last write can be torn; later segments (possible only with
            // SyncMode::Never) would not extend a prefix of the acknowledged writes.
            recovery.torn_tail = Some((name.clone(), *offset));
            break;
        }
    }

    // Persist the replayed writes as an L0 table, then start fresh WAL and manifest.
    let mut version = version;
    if !mem.is_empty() {
        let number = next_file;
        next_file += 1;
        let name = table_name(number);
        let (meta, table) =
            super::flush::build_table(&*storage, &name, number, &mem, &opts.table, &cache)?;
        let tf = Arc::new(TableFile::new(
            meta.clone(),
            table,
            name,
            Arc::clone(&storage),
        ));
        let edit = VersionEdit {
            new_tables: vec![(0, meta)],
            ..Default::default()
        };
        version = version.apply(&edit, &HashMap::from([(number, tf)]))?;
    }
    let wal_number = next_file;
    next_file += 1;
    let wal_file = wal_name(wal_number);
    let mut wal = LogWriter::create(&*storage, &wal_file, LogKind::Wal)?;
    wal.sync()?;
    storage.sync_dir().map_err(|e| {
        Error::io(
            format!("syncing the directory after creating {wal_file}"),
            e,
        )
    })?;
    let versions = VersionSet::create(
        Arc::clone(&storage),
        version,
        next_file,
        wal_number,
        last_seq,
    )?;

    recovery.orphans_removed = remove_obsolete(&*storage, &versions, wal_number)?;

    let version = versions.current();
    let inner = Arc::new(DbInner {
        storage,
        cache,
        versions,
        sv: RwLock::new(Arc::new(SuperVersion {
            mem: Arc::new(Memtable::new(wal_number)),
            imms: Vec::new(),
            version,
        })),
        sv_install: Mutex::new(()),
        writers: Default::default(),
        wal: Mutex::new(WalState {
            writer: wal,
            dirty: false,
            next_seq: last_seq + 1,
            framed: Vec::new(),
        }),
        visible_seq: AtomicU64::new(last_seq),
        poisoned: AtomicBool::new(false),
        poison_reason: Mutex::new(None),
        flush: Mutex::new(FlushState::default()),
        flush_wake: Condvar::new(),
        flush_done: Condvar::new(),
        snapshots: Default::default(),
        compact: Mutex::new(Default::default()),
        compact_wake: Condvar::new(),
        rest_wake: Condvar::new(),
        shutdown: AtomicBool::new(false),
        stats: Counters::default(),
        recovery,
        dedup: Default::default(),
        _lock: lock,
        opts,
    });
    let mut threads = Vec::new();
    let flusher = Arc::clone(&inner);
    threads.push(
        std::thread::Builder::new()
            .name("scipkv-flush".into())
            .spawn(move || flusher.flush_loop())
            .map_err(|e| Error::io("starting the flush thread", e))?,
    );
    for i in 0..inner.opts.compaction.threads {
        let c = Arc::clone(&inner);
        threads.push(
            std::thread::Builder::new()
                .name(format!("scipkv-compact-{i}"))
                .spawn(move || c.compaction_loop())
                .map_err(|e| Error::io("starting a compaction thread", e))?,
        );
    }
    if let SyncMode::Interval(every) = inner.opts.sync {
        let syncer = Arc::clone(&inner);
        threads.push(
            std::thread::Builder::new()
                .name("scipkv-wal-sync".into())
                .spawn(move || syncer.sync_loop(every))
                .map_err(|e| Error::io("starting the WAL sync thread", e))?,
        );
    }
    let db = Db {
        guard: Arc::new(CloseGuard {
            inner: Arc::clone(&inner),
            threads: Mutex::new(threads),
            closed: AtomicBool::new(false),
        }),
        inner,
    };
    db.inner.init_dedup()?;
    Ok(db)
}

fn open_tables(
    storage: &Arc<dyn Storage>,
    tables: &[(u32, crate::version::edit::TableMeta)],
    cache: &Arc<crate::cache::BlockCache>,
) -> Result<Version> {
    let mut added = HashMap::new();
    let mut edit = VersionEdit::default();
    for (level, meta) in tables {
        let name = table_name(meta.number);
        let file = storage
            .open_read(&name)
            .map_err(|e| Error::io(format!("opening {name}, listed in the manifest"), e))?;
        if file.len() != meta.file_size {
            return Err(Error::corruption(
                &name,
                0,
                format!(
                    "size {} differs from the manifest's {}",
                    file.len(),
                    meta.file_size
                ),
            ));
        }
        let table = Arc::new(Table::open_with_cache(
            file,
            name.clone(),
            meta.number,
            Some(Arc::clone(cache)),
        )?);
        added.insert(
            meta.number,
            Arc::new(TableFile::new(
                meta.clone(),
                table,
                name,
                Arc::clone(storage),
            )),
        );
        edit.new_tables.push((*level, meta.clone()));
    }
    Version::empty().apply(&edit, &added)
}

/// Without CURRENT, the directory may still hold what a crash inside the first open left:
/// CURRENT is written last, so its WAL segment and manifest can exist without it. Nothing
/// was ever acknowledged then (writes start after open returns), so that is a new database
/// and the leftovers go as obsolete files. A table, or a WAL segment holding a record, means
/// an existing database lost its CURRENT: `Corruption`, never a silent fresh start.
fn check_interrupted_creation(storage: &dyn Storage, files: &[String]) -> Result<()> {
    let lost = |what: String| {
        Err(Error::corruption(
            "CURRENT",
            0,
            format!("missing, but {what}"),
        ))
    };
    for f in files {
        match parse_file_name(f) {
            Some(FileKind::Table(_)) => {
                return lost(format!("the directory holds table {f}"));
            }
            Some(FileKind::Wal(_))
                if LogReader::open(storage, f, LogKind::Wal)?
                    .next_record()?
                    .is_some() =>
            {
                return lost(format!("WAL segment {f} holds writes"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Deletes every engine file the live manifest does not need: old WAL segments, old
/// manifests, unreferenced tables (flush or compaction outputs a crash left behind), temp files.
fn remove_obsolete(storage: &dyn Storage, versions: &VersionSet, wal_number: u64) -> Result<u64> {
    let live: std::collections::HashSet<u64> = versions
        .current()
        .all_tables()
        .map(|(_, t)| t.meta.number)
        .collect();
    let manifest = versions.manifest_number();
    let mut removed = 0;
    for f in storage
        .list()
        .map_err(|e| Error::io("listing the data directory", e))?
    {
        let obsolete = match parse_file_name(&f) {
            Some(FileKind::Wal(n)) => n != wal_number,
            Some(FileKind::Table(n)) => !live.contains(&n),
            Some(FileKind::Manifest(n)) => n != manifest,
            Some(FileKind::CurrentTmp | FileKind::Temp) => true,
            _ => false,
        };
        if obsolete {
            storage
                .remove(&f)
                .map_err(|e| Error::io(format!("removing obsolete {f}"), e))?;
            removed += 1;
        }
    }
    if removed > 0 {
        storage
            .sync_dir()
            .map_err(|e| Error::io("syncing the directory after cleanup", e))?;
    }
    Ok(removed)
}
