//! The version set: the current [`Version`] and the manifest that makes each change durable.
//!
//! Protocol (format-spec/manifest.md): an edit is appended to the manifest and fsynced before
//! the new version becomes current, so a crash either keeps the edit or never exposed it. A
//! fresh manifest (written at open and when the old one grows large) starts with a snapshot
//! of the whole version and becomes live by replacing CURRENT atomically.
//!
//! Deletion is deferred by one edit: a damaged *last* manifest record cannot be told apart
//! from a torn write, so recovery drops it. Files that edit made obsolete (the WAL segment a
//! flush replaced, the inputs of a compaction) are therefore removed only once a later record
//! is durable; until then a dropped last edit loses nothing, because its inputs still exist.
//! A flush does not wait for the next edit: [`VersionSet::seal`] appends an empty one at
//! once, so the flushed WAL segment goes as soon as its edit is durable and no longer last.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};

use super::current::write_current;
use super::edit::VersionEdit;
use super::levels::{TableFile, Version};
use super::names::manifest_name;
use crate::Result;
use crate::log::{LogKind, LogWriter};
use crate::storage::Storage;

/// A manifest larger than this is rewritten as a snapshot on the next edit.
const MANIFEST_ROLL_BYTES: u64 = 64 << 20;

#[derive(Debug)]
struct ManifestState {
    writer: LogWriter,
    number: u64,
    log_number: u64,
    last_seqno: u64,
    /// Made obsolete by the last edit: removed after the next edit is durable.
    deferred: Deferred,
    /// An append failed for lack of space and was cut back; the writer cannot append after
    /// the cut, so the next edit starts a fresh manifest.
    roll: bool,
}

/// Files an edit made obsolete.
#[derive(Debug, Default)]
pub struct Deferred {
    /// Files to remove by name (WAL segments).
    pub files: Vec<String>,
    /// Tables to mark obsolete (removed when the last reader drops them).
    pub tables: Vec<Arc<TableFile>>,
}

/// Owns the current version and serializes manifest writes.
#[derive(Debug)]
pub struct VersionSet {
    storage: Arc<dyn Storage>,
    current: RwLock<Arc<Version>>,
    manifest: Mutex<ManifestState>,
    next_file: AtomicU64,
}

impl VersionSet {
    /// Starts a new manifest holding `version`, then points CURRENT at it.
    pub fn create(
        storage: Arc<dyn Storage>,
        version: Version,
        next_file: u64,
        log_number: u64,
        last_seqno: u64,
    ) -> Result<VersionSet> {
        let next = AtomicU64::new(next_file);
        let number = next.fetch_add(1, Ordering::Relaxed);
        let writer = write_manifest(
            &*storage,
            number,
            &version,
            next.load(Ordering::Relaxed),
            log_number,
            last_seqno,
        )?;
        Ok(VersionSet {
            storage,
            current: RwLock::new(Arc::new(version)),
            manifest: Mutex::new(ManifestState {
                writer,
                number,
                log_number,
                last_seqno,
                deferred: Deferred::default(),
                roll: false,
            }),
            next_file: next,
        })
    }

    /// The version readers should use now.
    pub fn current(&self) -> Arc<Version> {
        Arc::clone(&self.current.read())
    }

    /// Reserves a file number (tables, WAL segments and manifests share one sequence).
    pub fn new_file_number(&self) -> u64 {
        self.next_file.fetch_add(1, Ordering::Relaxed)
    }

    /// The number of the live manifest.
    pub fn manifest_number(&self) -> u64 {
        self.manifest.lock().number
    }

    /// The oldest WAL segment still needed.
    pub fn log_number(&self) -> u64 {
        self.manifest.lock().log_number
    }

    /// Makes `edit` durable and current. `added` holds the tables the edit introduces, already
    /// written, synced and opened. `obsolete_files` (WAL segments the edit supersedes) and the
    /// tables the edit removes are deleted after the *next* edit is durable (see module doc).
    /// An error leaves the current version unchanged; the caller decides whether the
    /// failure poisons the database (a failed manifest fsync does).
    pub fn log_and_apply(
        &self,
        mut edit: VersionEdit,
        added: Vec<Arc<TableFile>>,
        obsolete_files: Vec<String>,
    ) -> Result<Arc<Version>> {
        let mut m = self.manifest.lock();
        let added: HashMap<u64, Arc<TableFile>> =
            added.into_iter().map(|t| (t.meta.number, t)).collect();
        let old = self.current();
        let new = Arc::new(old.apply(&edit, &added)?);
        if let Err((e, not_recorded)) = self.write_edit(&mut m, &mut edit, &new) {
            // When the append was cut back, the tables written for this edit are certainly
            // unreferenced: removed once dropped, so that retries on a full disk do not fill
            // it further. (A trivial move's table is live.) After any other failure the edit
            // may be durable, so they stay (an unreferenced one is deleted at the next open).
            if not_recorded {
                for (n, t) in &added {
                    if !old.all_tables().any(|(_, o)| o.meta.number == *n) {
                        t.mark_obsolete();
                    }
                }
            }
            return Err(e);
        }
        *self.current.write() = Arc::clone(&new);
        // A trivial move deletes and re-adds the same table: it stays live.
        let readded: std::collections::HashSet<u64> =
            edit.new_tables.iter().map(|(_, t)| t.number).collect();
        let removed: Vec<Arc<TableFile>> = edit
            .deleted_tables
            .iter()
            .filter(|(_, n)| !readded.contains(n))
            .filter_map(|(level, number)| {
                old.levels
                    .get(*level as usize)
                    .and_then(|l| l.iter().find(|t| t.meta.number == *number))
                    .cloned()
            })
            .collect();
        let due = std::mem::replace(
            &mut m.deferred,
            Deferred {
                files: obsolete_files,
                tables: removed,
            },
        );
        drop(m);
        for t in due.tables {
            t.mark_obsolete();
        }
        for f in due.files {
            // A failure only leaks the file until the next open's cleanup.
            let _ = self.storage.remove(&f);
        }
        Ok(new)
    }

    /// Removes at once what the last edit made obsolete, by making that edit not the last:
    /// appends and syncs an edit that changes nothing (only the counters), so recovery can
    /// no longer drop the previous one as a torn tail, then deletes the deferred files. A
    /// flush calls it so its WAL segment (as large as a memtable) does not stay on disk until
    /// the next flush or compaction. On error nothing is deleted (the files stay deferred)
    /// and the next edit starts a fresh manifest, since the tail is in an unknown state; a
    /// failed sync is reported like any manifest sync failure (the caller poisons).
    pub fn seal(&self) -> Result<()> {
        let mut m = self.manifest.lock();
        if m.deferred.files.is_empty() && m.deferred.tables.is_empty() {
            return Ok(());
        }
        let mut edit = VersionEdit {
            log_number: Some(m.log_number),
            last_seqno: Some(m.last_seqno),
            ..Default::default()
        };
        let current = self.current();
        if let Err((e, _)) = self.write_edit(&mut m, &mut edit, &current) {
            m.roll = true;
            return Err(e);
        }
        let due = std::mem::take(&mut m.deferred);
        drop(m);
        for t in due.tables {
            t.mark_obsolete();
        }
        for f in due.files {
            // A failure only leaks the file until the next open's cleanup.
            let _ = self.storage.remove(&f);
        }
        Ok(())
    }

    /// Appends `edit` to the manifest and syncs it (or writes a fresh manifest). A failed
    /// append for lack of space is cut back to the last whole record and returns an error
    /// whose `is_no_space()` is true: the manifest is unchanged and the edit can be retried.
    /// Any other failure (a failed sync above all) returns an error that is not. The flag
    /// with an error is true when the edit is certainly not in any manifest.
    fn write_edit(
        &self,
        m: &mut ManifestState,
        edit: &mut VersionEdit,
        new: &Version,
    ) -> std::result::Result<(), (crate::Error, bool)> {
        let (log_number, last_seqno) = (
            edit.log_number
                .map_or(m.log_number, |l| m.log_number.max(l)),
            edit.last_seqno
                .map_or(m.last_seqno, |s| m.last_seqno.max(s)),
        );
        edit.next_file_number = Some(self.next_file.load(Ordering::Relaxed));
        if m.roll || m.writer.len() > MANIFEST_ROLL_BYTES {
            let number = self.new_file_number();
            let writer = match write_manifest(
                &*self.storage,
                number,
                new,
                self.next_file.load(Ordering::Relaxed),
                log_number,
                last_seqno,
            ) {
                Ok(w) => w,
                // Not removed: CURRENT may already name it (if only the directory sync
                // failed). Unreferenced, it is deleted at the next open.
                Err(e) => return Err((e, false)),
            };
            let old_name = manifest_name(m.number);
            m.writer = writer;
            m.number = number;
            m.roll = false;
            // The old manifest is no longer referenced by CURRENT; a failed removal is
            // cleaned up by the next open.
            let _ = self.storage.remove(&old_name);
        } else {
            let mut buf = Vec::new();
            edit.encode(&mut buf);
            let good_len = m.writer.len();
            if let Err(e) = m.writer.add_record(&buf) {
                if !e.is_no_space() {
                    return Err((e, false));
                }
                let name = m.writer.name().to_string();
                if let Err(te) = self.storage.truncate(&name, good_len) {
                    let msg = format!("cutting {name} back after a failed append");
                    // Never a (retryable) full disk: the manifest tail is unknown now.
                    return Err((
                        crate::Error::io(msg, io::Error::other(te.to_string())),
                        false,
                    ));
                }
                m.roll = true;
                return Err((e, true));
            }
            if let Err(e) = m.writer.sync() {
                // Durability unknown: never reported as a (retryable) full disk.
                let e = crate::Error::io("syncing the manifest", io::Error::other(e.to_string()));
                return Err((e, false));
            }
        }
        m.log_number = log_number;
        m.last_seqno = last_seqno;
        Ok(())
    }
}

/// Writes manifest `number` holding a snapshot of `version`, syncs it and the directory, then
/// replaces CURRENT.
fn write_manifest(
    storage: &dyn Storage,
    number: u64,
    version: &Version,
    next_file: u64,
    log_number: u64,
    last_seqno: u64,
) -> Result<LogWriter> {
    let name = manifest_name(number);
    let mut w = LogWriter::create(storage, &name, LogKind::Manifest)?;
    let mut edit = version.snapshot_edit();
    edit.next_file_number = Some(next_file);
    edit.log_number = Some(log_number);
    edit.last_seqno = Some(last_seqno);
    let mut buf = Vec::new();
    edit.encode(&mut buf);
    w.add_record(&buf)?;
    w.sync()?;
    storage
        .sync_dir()
        .map_err(|e| crate::Error::io(format!("syncing the directory after creating {name}"), e))?;
    write_current(storage, &name)?;
    Ok(w)
}
