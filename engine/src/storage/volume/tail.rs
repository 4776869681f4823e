//! The journal's tail block: what lies on the device past the last durable commit.
//!
//! A file system hands every `write` to the kernel, so a process crash loses nothing written.
//! The volume matches that without a device flush per write: a writer's `flush` puts its
//! dirty blocks on the device with `O_DIRECT` and then rewrites one block just after the last
//! commit, the *tail*, listing for each such file the bytes past its journaled length and an
//! xxh3 of them. Nothing is flushed, so a power loss may keep the tail and lose the data (or
//! the reverse); at open, an entry is applied only when the device holds exactly the bytes it
//! hashed, so a tail never extends a file over stale or missing data.
//!
//! The tail also *seals* the commit before it: its sequence number is that commit's plus
//! one, and it is written only after that commit is durable, so a damaged commit followed by
//! a valid tail was acknowledged (`Corruption`), while a damaged commit with nothing valid
//! after it was a torn write (format-spec/volume.md, "Tail").

use std::collections::BTreeMap;
use std::io;

use crate::checksum::xxh3;

use super::alloc::Extent;
use super::device::{BLOCK, Device};
use super::file::map_runs;
use super::table::{Cursor, Inode, Table};

/// One file's bytes past its journaled length, as its writer last put them on the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailEntry {
    pub id: u64,
    /// The journaled length the bytes extend (the file's length at its last sync).
    pub from: u64,
    /// The file's length once the entry is applied.
    pub to: u64,
    /// xxh3 of the file bytes `[from, to)`.
    pub sum: u64,
    /// The file's extents (the journaled ones, possibly grown).
    pub extents: Vec<Extent>,
}

/// Fixed bytes of an entry before its extents.
const ENTRY_LEN: usize = 8 * 4 + 4;

/// Encodes the entries (count first, in id order).
pub fn encode(entries: &BTreeMap<u64, TailEntry>) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + entries.len() * (ENTRY_LEN + 16));
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for e in entries.values() {
        for v in [e.id, e.from, e.to, e.sum] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(e.extents.len() as u32).to_le_bytes());
        for x in &e.extents {
            out.extend_from_slice(&x.start.to_le_bytes());
            out.extend_from_slice(&x.blocks.to_le_bytes());
        }
    }
    out
}

fn capacity_bytes(extents: &[Extent]) -> Option<u64> {
    extents
        .iter()
        .try_fold(0u64, |a, e| a.checked_add(e.blocks))
        .and_then(|b| b.checked_mul(BLOCK))
}

/// Decodes what [`encode`] wrote; every count is bounded by the bytes left, ids must
/// increase, and each entry's range must fit its extents.
pub fn decode(b: &[u8]) -> Result<Vec<TailEntry>, String> {
    let mut c = Cursor { b };
    let count = c.u32()? as usize;
    if count > b.len() / ENTRY_LEN {
        return Err(format!("{count} tail entries in {} bytes", b.len()));
    }
    let mut out: Vec<TailEntry> = Vec::with_capacity(count);
    for _ in 0..count {
        let (id, from, to, sum) = (c.u64()?, c.u64()?, c.u64()?, c.u64()?);
        if out.last().is_some_and(|p| p.id >= id) {
            return Err(format!("tail entry {id} out of order"));
        }
        let n = c.u32()? as usize;
        if n > c.b.len() / 16 {
            return Err(format!("tail entry {id}: {n} extents do not fit"));
        }
        let mut extents = Vec::with_capacity(n);
        for _ in 0..n {
            let (start, blocks) = (c.u64()?, c.u64()?);
            if blocks == 0 || start.checked_add(blocks).is_none() {
                return Err(format!("tail entry {id}: bad extent {start}+{blocks}"));
            }
            extents.push(Extent { start, blocks });
        }
        if from > to || capacity_bytes(&extents).is_none_or(|cap| to > cap) {
            return Err(format!(
                "tail entry {id}: bytes {from}..{to} do not fit its extents"
            ));
        }
        out.push(TailEntry {
            id,
            from,
            to,
            sum,
            extents,
        });
    }
    if !c.b.is_empty() {
        return Err(format!("{} bytes after the last tail entry", c.b.len()));
    }
    Ok(out)
}

/// True when `grown` maps every block `old` maps to the same place (a writer only appends
/// extents or lengthens its last one).
/// True when `e` still extends `inode` as journaled: the journaled length lies within the
/// entry's bytes (`from`, the writer's last synced length, or later: a commit records
/// flushed bytes without the writer knowing, see `commit::absorb_tail`) and its extents
/// grow the journaled ones. A commit that re-records an inode without changing its length
/// (its creation, or grown extents) leaves such an entry valid. The bytes `[from, len)` are
/// the journaled file's own: the entry's checksum over `[from, to)` vouches for them too.
pub(super) fn still_applies(inode: &Inode, e: &TailEntry) -> bool {
    e.from <= inode.len && inode.len <= e.to && extends(&inode.extents, &e.extents)
}

fn extends(old: &[Extent], grown: &[Extent]) -> bool {
    let Some((last, head)) = old.split_last() else {
        return true;
    };
    grown.len() >= old.len()
        && head.iter().zip(grown).all(|(a, b)| a == b)
        && grown[head.len()].start == last.start
        && grown[head.len()].blocks >= last.blocks
}

/// What applying a tail did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Inodes the tail lengthened (their new length must be journaled).
    pub recovered: Vec<u64>,
    /// Entries not applied: the device does not hold the bytes they hashed (a power loss
    /// kept the tail block but not the data), or the file changed since.
    pub dropped: u64,
}

/// Applies the entries whose bytes the device holds to `table`. The data region is blocks
/// `[first, first + blocks)`; an entry pointing outside it is corruption (`Err(String)`).
pub fn apply(
    dev: &dyn Device,
    table: &mut Table,
    entries: &[TailEntry],
    first: u64,
    blocks: u64,
) -> io::Result<Result<Applied, String>> {
    let mut out = Applied::default();
    for e in entries {
        if let Some(x) = e
            .extents
            .iter()
            .find(|x| x.start < first || x.start + x.blocks > first + blocks)
        {
            return Ok(Err(format!(
                "tail entry {}: extent {}+{} outside the data region",
                e.id, x.start, x.blocks
            )));
        }
        let Some(inode) = table.inodes.get_mut(&e.id) else {
            out.dropped += 1;
            continue;
        };
        if !still_applies(inode, e) {
            out.dropped += 1;
            continue;
        }
        // A mismatch is read once more: a transient read error must not drop the bytes.
        if hash_range(dev, &e.extents, e.from, e.to)? != e.sum
            && hash_range(dev, &e.extents, e.from, e.to)? != e.sum
        {
            out.dropped += 1;
            continue;
        }
        inode.len = e.to;
        inode.extents = e.extents.clone();
        out.recovered.push(e.id);
    }
    Ok(Ok(out))
}

/// xxh3 of file bytes `[from, to)` of a file on `extents`, read in bounded chunks.
fn hash_range(dev: &dyn Device, extents: &[Extent], from: u64, to: u64) -> io::Result<u64> {
    const CHUNK: u64 = 1 << 20;
    if to - from <= CHUNK {
        let mut buf = vec![0u8; (to - from) as usize];
        read_range(dev, extents, from, &mut buf)?;
        return Ok(xxh3(&buf));
    }
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; CHUNK as usize];
    let mut at = from;
    while at < to {
        let n = (to - at).min(CHUNK) as usize;
        read_range(dev, extents, at, &mut buf[..n])?;
        h.update(&buf[..n]);
        at += n as u64;
    }
    Ok(h.digest())
}

fn read_range(dev: &dyn Device, extents: &[Extent], offset: u64, buf: &mut [u8]) -> io::Result<()> {
    let mut done = 0usize;
    for (dev_off, n) in map_runs(extents, offset, buf.len() as u64) {
        let n = n as usize;
        dev.read_at(&mut buf[done..done + n], dev_off)?;
        done += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(start: u64, blocks: u64) -> Extent {
        Extent { start, blocks }
    }

    #[test]
    fn entries_round_trip_and_bad_input_is_rejected() {
        let mut m = BTreeMap::new();
        for id in [3u64, 9] {
            m.insert(
                id,
                TailEntry {
                    id,
                    from: 10,
                    to: 5000,
                    sum: id * 7,
                    extents: vec![e(100, 1), e(200, 1)],
                },
            );
        }
        let b = encode(&m);
        assert_eq!(decode(&b).unwrap(), m.values().cloned().collect::<Vec<_>>());
        for cut in 0..b.len() {
            assert!(decode(&b[..cut]).is_err(), "truncated at {cut}");
        }
        let mut trailing = b.clone();
        trailing.push(0);
        assert!(decode(&trailing).is_err());
        // A range past the extents' capacity.
        let mut big = m.clone();
        big.get_mut(&3).unwrap().to = 2 * BLOCK + 1;
        assert!(decode(&encode(&big)).is_err());
        // A huge count bounded by the input, not allocated.
        assert!(decode(&u32::MAX.to_le_bytes()).is_err());
    }

    #[test]
    fn extension_keeps_the_old_mapping() {
        assert!(extends(&[], &[e(5, 1)]));
        assert!(extends(&[e(5, 1)], &[e(5, 3)]));
        assert!(extends(&[e(5, 1), e(9, 2)], &[e(5, 1), e(9, 2), e(20, 1)]));
        assert!(!extends(&[e(5, 2)], &[e(5, 1)]));
        assert!(!extends(&[e(5, 1), e(9, 2)], &[e(5, 1)]));
        assert!(!extends(&[e(5, 1)], &[e(6, 1)]));
    }
}
