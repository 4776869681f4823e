//! The file table the journal describes: inodes (length and extents) and the names linking
//! to them, the records that change it, and their encoding (format-spec/volume.md,
//! "Records").

use std::collections::{BTreeMap, HashMap};

use super::alloc::{Allocator, Extent};
use super::device::BLOCK;

/// Longest file name.
pub const MAX_NAME: usize = 255;

/// One file's bytes: `len` bytes laid out over `extents` in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inode {
    pub len: u64,
    pub extents: Vec<Extent>,
}

/// A change to the table; a commit applies its records in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// Creates or replaces inode `id`.
    Inode {
        id: u64,
        len: u64,
        extents: Vec<Extent>,
    },
    /// Points `name` at inode `id` (replacing what it named).
    Link {
        name: String,
        id: u64,
    },
    Unlink {
        name: String,
    },
    /// Moves `from` over `to` in one step.
    Rename {
        from: String,
        to: String,
    },
}

/// Inodes and names. An inode no name links to is gone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub inodes: HashMap<u64, Inode>,
    pub names: BTreeMap<String, u64>,
}

impl Table {
    fn drop_if_unlinked(&mut self, id: u64) {
        if !self.names.values().any(|&i| i == id) {
            self.inodes.remove(&id);
        }
    }

    /// Applies one record; `Err` for a record that does not fit the table (corrupt journal).
    pub fn apply(&mut self, r: &Record) -> Result<(), String> {
        match r {
            Record::Inode { id, len, extents } => {
                let cap: u64 = extents.iter().map(|e| e.blocks).sum();
                if *len > cap.saturating_mul(BLOCK) {
                    return Err(format!("inode {id}: {len} bytes in {cap} blocks"));
                }
                self.inodes.insert(
                    *id,
                    Inode {
                        len: *len,
                        extents: extents.clone(),
                    },
                );
            }
            Record::Link { name, id } => {
                if !self.inodes.contains_key(id) {
                    return Err(format!("link of {name:?} to missing inode {id}"));
                }
                if let Some(old) = self.names.insert(name.clone(), *id)
                    && old != *id
                {
                    self.drop_if_unlinked(old);
                }
            }
            Record::Unlink { name } => {
                let id = self
                    .names
                    .remove(name)
                    .ok_or_else(|| format!("unlink of missing {name:?}"))?;
                self.drop_if_unlinked(id);
            }
            Record::Rename { from, to } => {
                let id = *self
                    .names
                    .get(from)
                    .ok_or_else(|| format!("rename of missing {from:?}"))?;
                if from != to {
                    self.names.remove(from);
                    if let Some(old) = self.names.insert(to.clone(), id)
                        && old != id
                    {
                        self.drop_if_unlinked(old);
                    }
                }
            }
        }
        Ok(())
    }

    /// Drops inodes no name links to (written but never linked before a crash).
    pub fn drop_orphans(&mut self) {
        let linked: std::collections::HashSet<u64> = self.names.values().copied().collect();
        self.inodes.retain(|id, _| linked.contains(id));
    }

    /// Records that rebuild this table from empty.
    pub fn snapshot(&self) -> Vec<Record> {
        let mut ids: Vec<&u64> = self.inodes.keys().collect();
        ids.sort_unstable();
        let mut out: Vec<Record> = ids
            .into_iter()
            .map(|&id| Record::Inode {
                id,
                len: self.inodes[&id].len,
                extents: self.inodes[&id].extents.clone(),
            })
            .collect();
        out.extend(self.names.iter().map(|(name, &id)| Record::Link {
            name: name.clone(),
            id,
        }));
        out
    }

    /// The allocator for a data region `[first, first + blocks)` holding this table's
    /// extents; `Err` when extents overlap or leave the region.
    pub fn allocator(&self, first: u64, blocks: u64) -> Result<Allocator, String> {
        let used: Vec<Extent> = self
            .inodes
            .values()
            .flat_map(|i| i.extents.iter().copied())
            .collect();
        Allocator::from_used(first, blocks, &used)
    }

    /// An id no inode uses.
    pub fn next_id(&self) -> u64 {
        self.inodes.keys().max().map_or(1, |m| m + 1)
    }
}

const TAG_INODE: u8 = 1;
const TAG_LINK: u8 = 2;
const TAG_UNLINK: u8 = 3;
const TAG_RENAME: u8 = 4;

fn put_name(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(name.as_bytes());
}

/// Appends `records` to `out` (count first). Names were checked against [`MAX_NAME`].
pub fn encode(records: &[Record], out: &mut Vec<u8>) {
    out.extend_from_slice(&(records.len() as u32).to_le_bytes());
    for r in records {
        match r {
            Record::Inode { id, len, extents } => {
                out.push(TAG_INODE);
                out.extend_from_slice(&id.to_le_bytes());
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(&(extents.len() as u32).to_le_bytes());
                for e in extents {
                    out.extend_from_slice(&e.start.to_le_bytes());
                    out.extend_from_slice(&e.blocks.to_le_bytes());
                }
            }
            Record::Link { name, id } => {
                out.push(TAG_LINK);
                out.extend_from_slice(&id.to_le_bytes());
                put_name(out, name);
            }
            Record::Unlink { name } => {
                out.push(TAG_UNLINK);
                put_name(out, name);
            }
            Record::Rename { from, to } => {
                out.push(TAG_RENAME);
                put_name(out, from);
                put_name(out, to);
            }
        }
    }
}

/// Bounds-checked little-endian reads over a record buffer (shared with `tail`).
pub(super) struct Cursor<'a> {
    pub(super) b: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.b.len() < n {
            return Err("record runs past the end of its commit".into());
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }
    pub(super) fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    pub(super) fn u16(&mut self) -> Result<u16, String> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    pub(super) fn u32(&mut self) -> Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    pub(super) fn u64(&mut self) -> Result<u64, String> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }
    pub(super) fn name(&mut self) -> Result<String, String> {
        let n = usize::from(self.u16()?);
        if n == 0 || n > MAX_NAME {
            return Err(format!("name of {n} bytes"));
        }
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| "name is not UTF-8".to_string())
    }
}

/// Decodes what [`encode`] wrote; every length is checked against the bytes left.
pub fn decode(b: &[u8]) -> Result<Vec<Record>, String> {
    let mut c = Cursor { b };
    let count = c.u32()? as usize;
    // The smallest record is 4 bytes: bounds the allocation by the input.
    if count > b.len() / 4 {
        return Err(format!("{count} records in {} bytes", b.len()));
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let r = match c.u8()? {
            TAG_INODE => {
                let id = c.u64()?;
                let len = c.u64()?;
                let n = c.u32()? as usize;
                if n > c.b.len() / 16 {
                    return Err(format!("inode {id}: {n} extents do not fit"));
                }
                let mut extents = Vec::with_capacity(n);
                for _ in 0..n {
                    let start = c.u64()?;
                    let blocks = c.u64()?;
                    if blocks == 0 || start.checked_add(blocks).is_none() {
                        return Err(format!("inode {id}: bad extent {start}+{blocks}"));
                    }
                    extents.push(Extent { start, blocks });
                }
                Record::Inode { id, len, extents }
            }
            TAG_LINK => {
                let id = c.u64()?;
                Record::Link {
                    name: c.name()?,
                    id,
                }
            }
            TAG_UNLINK => Record::Unlink { name: c.name()? },
            TAG_RENAME => Record::Rename {
                from: c.name()?,
                to: c.name()?,
            },
            t => return Err(format!("unknown record tag {t}")),
        };
        out.push(r);
    }
    if !c.b.is_empty() {
        return Err(format!("{} bytes after the last record", c.b.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(start: u64, blocks: u64) -> Extent {
        Extent { start, blocks }
    }

    #[test]
    fn records_round_trip_and_truncations_are_rejected() {
        let rs = vec![
            Record::Inode {
                id: 3,
                len: 5000,
                extents: vec![e(10, 1), e(20, 1)],
            },
            Record::Link {
                name: "000003.sst".into(),
                id: 3,
            },
            Record::Rename {
                from: "a".into(),
                to: "b".into(),
            },
            Record::Unlink { name: "b".into() },
        ];
        let mut b = Vec::new();
        encode(&rs, &mut b);
        assert_eq!(decode(&b).unwrap(), rs);
        for cut in 0..b.len() {
            assert!(decode(&b[..cut]).is_err(), "prefix of {cut} bytes");
        }
        let mut extra = b.clone();
        extra.push(0);
        assert!(decode(&extra).is_err());
        // A huge count or extent count never sizes an allocation.
        assert!(decode(&[0xff, 0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn apply_links_renames_and_drops_unlinked_inodes() {
        let mut t = Table::default();
        let ino = |id, blocks| Record::Inode {
            id,
            len: 10,
            extents: vec![e(id * 10, blocks)],
        };
        t.apply(&ino(1, 1)).unwrap();
        t.apply(&Record::Link {
            name: "x".into(),
            id: 1,
        })
        .unwrap();
        t.apply(&ino(2, 1)).unwrap();
        t.apply(&Record::Link {
            name: "y".into(),
            id: 2,
        })
        .unwrap();
        t.apply(&Record::Rename {
            from: "y".into(),
            to: "x".into(),
        })
        .unwrap();
        assert_eq!(t.names.len(), 1);
        assert_eq!(t.names["x"], 2);
        assert!(!t.inodes.contains_key(&1), "the replaced inode is gone");
        let snap = t.snapshot();
        let mut u = Table::default();
        for r in &snap {
            u.apply(r).unwrap();
        }
        assert_eq!(u, t);
        assert!(t.apply(&Record::Unlink { name: "y".into() }).is_err());
        assert!(
            t.apply(&Record::Link {
                name: "z".into(),
                id: 9
            })
            .is_err()
        );
        assert!(
            t.apply(&Record::Inode {
                id: 5,
                len: BLOCK + 1,
                extents: vec![e(1, 1)]
            })
            .is_err()
        );
        t.apply(&ino(7, 1)).unwrap();
        t.drop_orphans();
        assert!(!t.inodes.contains_key(&7));
        t.apply(&Record::Unlink { name: "x".into() }).unwrap();
        assert!(t.inodes.is_empty());
    }
}
