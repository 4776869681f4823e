//! Rebuilding the version from the manifest at open.

use std::collections::BTreeMap;

use super::current::read_current;
use super::edit::{TableMeta, VersionEdit};
use super::levels::NUM_LEVELS;
use super::names::{FileKind, parse_file_name};
use crate::log::{LogKind, LogReader};
use crate::storage::Storage;
use crate::{Error, Result};

/// What the manifest says, before any table is opened.
#[derive(Debug, Default)]
pub struct RecoveredManifest {
    pub manifest_number: u64,
    /// `(level, table)`, every table the last durable version lists.
    pub tables: Vec<(u32, TableMeta)>,
    pub log_number: u64,
    pub next_file: u64,
    pub last_seqno: u64,
}

/// Replays the manifest CURRENT names. `Ok(None)` when there is no CURRENT (a new database).
pub fn recover_manifest(storage: &dyn Storage) -> Result<Option<RecoveredManifest>> {
    let Some(name) = read_current(storage)? else {
        return Ok(None);
    };
    let number = match parse_file_name(&name) {
        Some(FileKind::Manifest(n)) => n,
        _ => {
            return Err(Error::corruption(
                "CURRENT",
                0,
                format!("names {name:?}, not a manifest"),
            ));
        }
    };
    let mut reader = LogReader::open(storage, &name, LogKind::Manifest)?;
    let mut levels: Vec<BTreeMap<u64, TableMeta>> = vec![BTreeMap::new(); NUM_LEVELS];
    let mut out = RecoveredManifest {
        manifest_number: number,
        ..Default::default()
    };
    let mut edits = 0u64;
    while let Some(rec) = reader.next_record()? {
        let edit = VersionEdit::decode(&rec, &name, reader.valid_len())?;
        apply(&mut levels, &mut out, &edit, &name, reader.valid_len())?;
        edits += 1;
    }
    if edits == 0 {
        return Err(Error::corruption(&name, 0, "manifest holds no version"));
    }
    // A torn last edit was never acknowledged (its fsync did not return), so dropping it is
    // exactly the state before that edit.
    for (l, tables) in levels.into_iter().enumerate() {
        for (_, t) in tables {
            out.tables.push((l as u32, t));
        }
    }
    out.next_file = out.next_file.max(number + 1);
    Ok(Some(out))
}

fn apply(
    levels: &mut [BTreeMap<u64, TableMeta>],
    out: &mut RecoveredManifest,
    edit: &VersionEdit,
    name: &str,
    offset: u64,
) -> Result<()> {
    for (level, number) in &edit.deleted_tables {
        let l = levels.get_mut(*level as usize).ok_or_else(|| {
            Error::corruption(name, offset, format!("level {level} out of range"))
        })?;
        if l.remove(number).is_none() {
            return Err(Error::corruption(
                name,
                offset,
                format!("deletes unknown table {number} at level {level}"),
            ));
        }
    }
    for (level, meta) in &edit.new_tables {
        let l = levels.get_mut(*level as usize).ok_or_else(|| {
            Error::corruption(name, offset, format!("level {level} out of range"))
        })?;
        l.insert(meta.number, meta.clone());
        out.last_seqno = out.last_seqno.max(meta.largest_seq);
        out.next_file = out.next_file.max(meta.number + 1);
    }
    if let Some(n) = edit.log_number {
        out.log_number = out.log_number.max(n);
    }
    if let Some(n) = edit.next_file_number {
        out.next_file = out.next_file.max(n);
    }
    if let Some(s) = edit.last_seqno {
        out.last_seqno = out.last_seqno.max(s);
    }
    Ok(())
}
