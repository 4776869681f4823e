//! A `Version`: the immutable set of live tables, level by level.
//!
//! Readers hold an `Arc<Version>` for the whole read, so a concurrent flush or compaction
//! never pulls a table out from under them; a table file is removed only when the last
//! version that lists it is dropped (see [`TableFile`]'s `Drop`).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use super::edit::{TableMeta, VersionEdit};
use crate::key::{self, SeqNo};
use crate::memtable::Lookup;
use crate::sstable::Table;
use crate::storage::Storage;
use crate::{Error, Result};

/// Number of levels (L0 plus six sorted levels).
pub const NUM_LEVELS: usize = 7;

/// An open table and its manifest entry.
#[derive(Debug)]
pub struct TableFile {
    pub meta: TableMeta,
    pub table: Arc<Table>,
    name: String,
    obsolete: AtomicBool,
    storage: Arc<dyn Storage>,
}

impl TableFile {
    pub fn new(
        meta: TableMeta,
        table: Arc<Table>,
        name: String,
        storage: Arc<dyn Storage>,
    ) -> Self {
        TableFile {
            meta,
            table,
            name,
            obsolete: AtomicBool::new(false),
            storage,
        }
    }

    /// Called once the manifest durably records this table's removal: the file goes away
    /// when the last reader lets go of it.
    pub fn mark_obsolete(&self) {
        self.obsolete.store(true, AtomicOrdering::Release);
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn user_range_contains(&self, user_key: &[u8]) -> bool {
        key::user_key(&self.meta.smallest) <= user_key
            && user_key <= key::user_key(&self.meta.largest)
    }
}

impl Drop for TableFile {
    fn drop(&mut self) {
        if self.obsolete.load(AtomicOrdering::Acquire) {
            // A failure only leaks the file; the next open deletes unreferenced tables.
            let _ = self.storage.remove(&self.name);
        }
    }
}

/// The live tables: `levels[0]` newest first (it may overlap), deeper levels sorted by key
/// and non-overlapping.
#[derive(Debug, Clone, Default)]
pub struct Version {
    pub levels: Vec<Vec<Arc<TableFile>>>,
}

impl Version {
    pub fn empty() -> Self {
        Version {
            levels: vec![Vec::new(); NUM_LEVELS],
        }
    }

    /// The version after `edit`, with `added` holding the opened tables the edit adds.
    pub fn apply(
        &self,
        edit: &VersionEdit,
        added: &HashMap<u64, Arc<TableFile>>,
    ) -> Result<Version> {
        let mut v = self.clone();
        for (level, number) in &edit.deleted_tables {
            let l = level_index(*level)?;
            v.levels[l].retain(|t| t.meta.number != *number);
        }
        for (level, meta) in &edit.new_tables {
            let l = level_index(*level)?;
            let t = added.get(&meta.number).ok_or_else(|| {
                Error::InvalidArgument(format!("table {} added without being opened", meta.number))
            })?;
            v.levels[l].push(Arc::clone(t));
        }
        v.levels[0].sort_by_key(|t| std::cmp::Reverse(t.meta.number));
        for level in v.levels.iter_mut().skip(1) {
            level.sort_by(|a, b| key::compare_internal(&a.meta.smallest, &b.meta.smallest));
        }
        Ok(v)
    }

    /// Every table, with its level.
    pub fn all_tables(&self) -> impl Iterator<Item = (usize, &Arc<TableFile>)> {
        self.levels
            .iter()
            .enumerate()
            .flat_map(|(l, ts)| ts.iter().map(move |t| (l, t)))
    }

    /// The edit that recreates this version from nothing (written at the head of a new manifest).
    pub fn snapshot_edit(&self) -> VersionEdit {
        let mut e = VersionEdit::default();
        for (l, t) in self.all_tables() {
            e.new_tables.push((l as u32, t.meta.clone()));
        }
        e
    }

    /// Newest entry of `user_key` visible at `snapshot`, searching L0 newest first and then
    /// one candidate table per deeper level.
    pub fn get(&self, user_key: &[u8], snapshot: SeqNo) -> Result<Option<Lookup>> {
        // Every table is searched with the same seek key: build it once.
        let target = key::lookup_key(user_key, snapshot.min(key::MAX_SEQNO));
        for t in &self.levels[0] {
            if t.meta.smallest_seq > snapshot || !t.user_range_contains(user_key) {
                continue;
            }
            if let Some(found) = table_get(t, user_key, &target)? {
                return Ok(Some(found));
            }
        }
        for level in self.levels.iter().skip(1) {
            let Some(t) = find_in_level(level, user_key) else {
                continue;
            };
            if let Some(found) = table_get(t, user_key, &target)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

fn level_index(level: u32) -> Result<usize> {
    let l = level as usize;
    if l >= NUM_LEVELS {
        return Err(Error::InvalidArgument(format!(
            "level {level} out of range"
        )));
    }
    Ok(l)
}

fn table_get(t: &TableFile, user_key: &[u8], target: &[u8]) -> Result<Option<Lookup>> {
    match t.table.get_target(user_key, target)? {
        None => Ok(None),
        Some(e) => Lookup::from_entry(e.kind, e.value)
            .map(Some)
            .ok_or_else(|| {
                Error::corruption(
                    &t.name,
                    0,
                    "entry with an unknown kind or a short expiring value",
                )
            }),
    }
}

/// The one table of a sorted level whose key range may hold `user_key`.
pub fn find_in_level<'a>(
    level: &'a [Arc<TableFile>],
    user_key: &[u8],
) -> Option<&'a Arc<TableFile>> {
    let i =
        level.partition_point(|t| key::user_key(&t.meta.largest).cmp(user_key) == Ordering::Less);
    level.get(i).filter(|t| t.user_range_contains(user_key))
}
