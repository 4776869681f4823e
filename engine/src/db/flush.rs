//! Background flush: immutable memtables become L0 tables, oldest first.
//!
//! Order of durability for one flush: table written and fsynced, directory fsynced, manifest
//! edit (new table, new oldest-needed WAL) fsynced, the new version installed, and only then
//! the memtable's WAL segment deleted. A crash at any point leaves either the WAL (replayed
//! at open) or the table (referenced by the manifest); an unreferenced table is an orphan the
//! next open deletes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{DbInner, SuperVersion};
use crate::memtable::Memtable;
use crate::sstable::{Table, TableBuilder};
use crate::version::edit::{TableMeta, VersionEdit};
use crate::version::levels::TableFile;
use crate::version::names::{table_name, wal_name};
use crate::{Error, Result};

/// Wait before retrying a failed flush (a full disk, say), so the loop does not spin.
const RETRY_AFTER: Duration = Duration::from_millis(200);

impl DbInner {
    /// The flush thread's body.
    pub(crate) fn flush_loop(self: &Arc<Self>) {
        loop {
            let imm = {
                let mut f = self.flush.lock();
                loop {
                    if f.shutting_down {
                        return;
                    }
                    if let Some(m) = self.current_sv().imms.last() {
                        break Arc::clone(m);
                    }
                    self.flush_wake.wait(&mut f);
                }
            };
            let result = self.flush_memtable(&imm);
            let mut f = self.flush.lock();
            f.generation += 1;
            self.writers.flush_no_space.store(
                result.as_ref().is_err_and(Error::is_no_space),
                Ordering::Release,
            );
            match result {
                Ok(()) => f.error = None,
                Err(e) => {
                    self.stats.flush_errors.fetch_add(1, Ordering::Relaxed);
                    f.error = Some(e.to_string());
                    self.flush_done.notify_all();
                    if !f.shutting_down {
                        self.flush_wake.wait_for(&mut f, RETRY_AFTER);
                    }
                    continue;
                }
            }
            self.flush_done.notify_all();
            drop(f);
            // A new L0 table may make L0 due for compaction.
            self.compact_wake.notify_all();
        }
    }

    /// Writes `imm` as an L0 table and installs it.
    fn flush_memtable(&self, imm: &Arc<Memtable>) -> Result<()> {
        let table = self.write_l0_table(imm)?;
        let install = self.sv_install.lock();
        let cur = self.current_sv();
        let remaining: Vec<Arc<Memtable>> = cur
            .imms
            .iter()
            .filter(|m| !Arc::ptr_eq(m, imm))
            .cloned()
            .collect();
        let log_number = remaining
            .iter()
            .map(|m| m.wal_number())
            .chain(std::iter::once(cur.mem.wal_number()))
            .min()
            .unwrap_or(imm.wal_number() + 1);
        let mut edit = VersionEdit {
            log_number: Some(log_number),
            last_seqno: Some(self.visible_seq.load(Ordering::Acquire)),
            ..Default::default()
        };
        let added = match table {
            Some(t) => {
                edit.new_tables.push((0, t.meta.clone()));
                vec![t]
            }
            None => Vec::new(),
        };
        // The WAL segment may go only once a later manifest edit is durable (see
        // VersionSet): `seal` below writes that edit right away.
        let obsolete = vec![wal_name(imm.wal_number())];
        let version = match self.versions.log_and_apply(edit, added, obsolete) {
            Ok(v) => v,
            Err(e) => {
                // A full disk leaves the manifest as it was (the flush is retried); after any
                // other failed append or fsync its state is unknown.
                if !e.is_no_space() {
                    self.poison(&e);
                }
                return Err(e);
            }
        };
        *self.sv.write() = Arc::new(SuperVersion {
            mem: Arc::clone(&cur.mem),
            imms: remaining,
            version,
        });
        drop(install);
        // The flush itself is done and durable; a failure here only keeps the segment until
        // the next edit (or open). A failed sync still poisons, like any manifest sync.
        if let Err(e) = self.versions.seal()
            && !e.is_no_space()
        {
            self.poison(&e);
        }
        Ok(())
    }

    /// Builds the L0 table for `mem` (None if it is empty).
    pub(crate) fn write_l0_table(&self, mem: &Arc<Memtable>) -> Result<Option<Arc<TableFile>>> {
        if mem.is_empty() {
            return Ok(None);
        }
        let table_opts = flush_table_options(&self.opts, mem)?;
        let number = self.versions.new_file_number();
        let name = table_name(number);
        let t = build_table(&*self.storage, &name, number, mem, &table_opts, &self.cache);
        if t.is_err() {
            let _ = self.storage.remove(&name);
        }
        let (meta, table) = t?;
        self.stats.flushes.fetch_add(1, Ordering::Relaxed);
        self.stats
            .flush_bytes
            .fetch_add(meta.file_size, Ordering::Relaxed);
        Ok(Some(Arc::new(TableFile::new(
            meta,
            table,
            name,
            Arc::clone(&self.storage),
        ))))
    }
}

/// Blocks sampled from a memtable to train its table's dictionary.
const FLUSH_DICTIONARY_SAMPLES: usize = 128;

/// The layout of `mem`'s L0 table: `opts.table`, plus a dictionary trained on `mem` when
/// [`Options::flush_dictionary`](crate::Options::flush_dictionary) asks for one. Sized like
/// compaction's dictionaries (at most a sixteenth of a table); plain zstd when there is too
/// little data to train on.
fn flush_table_options(
    opts: &crate::Options,
    mem: &Arc<Memtable>,
) -> Result<crate::sstable::TableOptions> {
    use crate::sstable::{Codec, MIN_DICTIONARY_LEN, sample_entry_blocks, train_dictionary};
    let mut t = opts.table.clone();
    if !opts.flush_dictionary || t.dictionary.is_some() || !matches!(t.codec, Codec::Zstd { .. }) {
        return Ok(t);
    }
    let max_dict = usize::try_from(opts.compaction.target_table_bytes / 16)
        .unwrap_or(usize::MAX)
        .min(opts.compaction.max_dictionary_bytes);
    if max_dict < MIN_DICTIONARY_LEN {
        return Ok(t);
    }
    let samples = sample_entry_blocks(
        &mut mem.iter(),
        t.block_size,
        t.restart_interval,
        mem.approximate_bytes(),
        FLUSH_DICTIONARY_SAMPLES,
    )?;
    if let Ok(dict) = train_dictionary(&samples, max_dict) {
        t.dictionary = Some(dict.into());
    }
    Ok(t)
}

/// Writes every entry of `mem` to table `name`, syncs it and the directory, and opens it.
pub(crate) fn build_table(
    storage: &dyn crate::storage::Storage,
    name: &str,
    number: u64,
    mem: &Arc<Memtable>,
    opts: &crate::sstable::TableOptions,
    cache: &Arc<crate::cache::BlockCache>,
) -> Result<(TableMeta, Arc<Table>)> {
    use crate::iter::InternalIterator;
    let file = storage
        .create(name)
        .map_err(|e| Error::io(format!("creating {name}"), e))?;
    let mut b = TableBuilder::new(file, name.to_string(), opts.clone());
    let mut it = mem.iter();
    it.seek_to_first()?;
    while it.valid() {
        b.add(it.key(), it.value())?;
        it.next()?;
    }
    let summary = b.finish()?;
    storage
        .sync_dir()
        .map_err(|e| Error::io(format!("syncing the directory after writing {name}"), e))?;
    open_written(storage, name, number, &summary, cache)
}

/// Opens a table just written and synced (a flush or compaction output) and describes it
/// for the manifest.
pub(crate) fn open_written(
    storage: &dyn crate::storage::Storage,
    name: &str,
    number: u64,
    summary: &crate::sstable::TableSummary,
    cache: &Arc<crate::cache::BlockCache>,
) -> Result<(TableMeta, Arc<Table>)> {
    let file = storage
        .open_read(name)
        .map_err(|e| Error::io(format!("opening {name}"), e))?;
    let table = Arc::new(Table::open_with_cache(
        file,
        name.to_string(),
        number,
        Some(Arc::clone(cache)),
    )?);
    let p = &summary.props;
    let meta = TableMeta {
        number,
        file_size: summary.file_size,
        smallest: p.smallest_key.clone(),
        largest: p.largest_key.clone(),
        smallest_seq: p.smallest_seq,
        largest_seq: p.largest_seq,
        num_entries: p.num_entries,
    };
    Ok((meta, table))
}

impl DbInner {
    /// The interval syncer's body (`SyncMode::Interval`).
    pub(crate) fn sync_loop(self: &Arc<Self>, every: Duration) {
        let mut f = self.flush.lock();
        while !f.shutting_down {
            self.flush_done.wait_for(&mut f, every);
            if f.shutting_down {
                break;
            }
            drop(f);
            // A failure poisons the database; the thread keeps running so close() still works.
            let _ = self.sync_wal();
            f = self.flush.lock();
        }
    }
}
