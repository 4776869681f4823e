//! The volume's bookkeeping under its lock: journal commits and checkpoints, growing and
//! closing files, and freeing their blocks in the order crash safety needs (module
//! documentation of `volume`).

use std::io;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use parking_lot::MutexGuard;

use super::alloc::{Extent, split_extents};
use super::open::{no_space, write_superblock};
use super::superblock::Superblock;
use super::table::Record;
use super::tail::{self, TailEntry};
use super::{BLOCK, Inner, MAX_GROW_BLOCKS, State, Writer, journal};

impl Inner {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// Drops inode `id`'s last name: frees it now, or at its writer's drop.
    pub(super) fn release_inode(st: &mut State, id: u64) {
        if st.live.names.values().any(|&i| i == id) {
            return;
        }
        if let Some(w) = st.writers.get_mut(&id) {
            *w = Writer::Orphan;
            return;
        }
        if let Some(inode) = st.live.inodes.remove(&id) {
            for e in inode.extents {
                st.alloc.free_later(e);
            }
        }
    }

    /// Makes every queued record durable (plus `extra`), checkpointing when the journal
    /// area is full. Any failure poisons the volume.
    pub(super) fn commit(&self, st: &mut State, extra: Option<Record>) -> io::Result<()> {
        if let Some(why) = &st.failed {
            return Err(io::Error::other(why.clone()));
        }
        let mut records = std::mem::take(&mut st.pending);
        records.extend(extra);
        if records.is_empty() {
            return Ok(());
        }
        absorb_tail(st, &mut records);
        match self.write_commit(st, &records) {
            Ok(()) => {}
            Err(e) => {
                st.failed = Some(format!("volume journal commit failed: {e}"));
                return Err(e);
            }
        }
        self.commits.fetch_add(1, Relaxed);
        for e in st.alloc.release_pending() {
            match self.dev.discard(e.start * BLOCK, e.blocks * BLOCK) {
                Ok(true) => self.discards.fetch_add(1, Relaxed),
                Ok(false) => self.discards_unsupported.fetch_add(1, Relaxed),
                Err(_) => self.discard_errors.fetch_add(1, Relaxed),
            };
        }
        Ok(())
    }

    pub(super) fn write_commit(&self, st: &mut State, records: &[Record]) -> io::Result<()> {
        let table_err =
            |w: String| io::Error::new(io::ErrorKind::InvalidData, format!("volume table: {w}"));
        // Data the records describe is durable before the records are.
        if self.data_dirty.swap(false, Acquire) {
            self.dev.flush()?;
        }
        let blocks = journal::commit_blocks(records);
        let j = st.sb.journal_blocks;
        // One block always stays free after the last commit, for its tail.
        if st.next_block + blocks < j {
            let buf = journal::frame(st.sb.generation, st.next_seq, false, records);
            let at = st.sb.area_start(st.sb.active_area()) + st.next_block;
            self.dev.write_at(buf.as_slice(), at * BLOCK)?;
            self.dev.flush()?;
            st.next_block += blocks;
            st.next_seq += 1;
            for r in records {
                st.journaled.apply(r).map_err(table_err)?;
            }
            return self.seal(st, records);
        }
        // Checkpoint: the whole table into the other area, then flip the superblock.
        let mut next = st.journaled.clone();
        for r in records {
            next.apply(r).map_err(table_err)?;
        }
        let snap = next.snapshot();
        let blocks = journal::commit_blocks(&snap);
        if blocks + 1 >= j {
            return Err(no_space("the file table outgrew the journal area"));
        }
        let sb = Superblock {
            generation: st.sb.generation + 1,
            ..st.sb
        };
        let buf = journal::frame(sb.generation, 0, true, &snap);
        self.dev
            .write_at(buf.as_slice(), sb.area_start(sb.active_area()) * BLOCK)?;
        self.dev.flush()?;
        write_superblock(&*self.dev, &sb)?;
        self.dev.flush()?;
        st.sb = sb;
        st.next_block = blocks;
        st.next_seq = 1;
        self.checkpoints.fetch_add(1, Relaxed);
        st.journaled = next;
        self.seal(st, records)
    }

    /// After a durable commit: forgets the tail entries it superseded and writes the tail
    /// after it, which also seals the commit (a damaged commit followed by a valid tail was
    /// acknowledged). Not flushed: the next commit's flush makes it durable.
    fn seal(&self, st: &mut State, records: &[Record]) -> io::Result<()> {
        // Only entries the commit superseded go: a creation committed after the writer's
        // first flush records length 0, and dropping the entry then would lose the flushed
        // (acknowledged) bytes until the writer's next flush.
        for r in records {
            if let Record::Inode { id, .. } = r {
                let valid = match (st.journaled.inodes.get(id), st.tail.get(id)) {
                    (Some(inode), Some(e)) => tail::still_applies(inode, e),
                    _ => false,
                };
                if !valid {
                    st.tail.remove(id);
                }
            }
        }
        let State { tail, live, .. } = st;
        tail.retain(|id, _| live.inodes.contains_key(id));
        if self.write_tail(st)? {
            Ok(())
        } else {
            Err(io::Error::other(
                "volume tail entries no longer fit after a commit",
            ))
        }
    }

    /// Writes the tail block (the current entries) just after the last commit, without a
    /// flush. `false` when it does not fit (too many entries, or no block left in the area).
    pub(super) fn write_tail(&self, st: &State) -> io::Result<bool> {
        if st.next_block >= st.sb.journal_blocks {
            return Ok(false);
        }
        let payload = tail::encode(&st.tail);
        let Some(buf) = journal::frame_tail(st.sb.generation, st.next_seq, &payload) else {
            return Ok(false);
        };
        let at = st.sb.area_start(st.sb.active_area()) + st.next_block;
        self.dev.write_at(buf.as_slice(), at * BLOCK)?;
        Ok(true)
    }

    /// A writer's `flush`: its bytes `[entry.from, entry.to)` are on the device; list them
    /// in the tail so that they survive the process. `false` when the tail has no room (the
    /// writer then syncs instead).
    pub(super) fn flush_tail(&self, entry: TailEntry) -> io::Result<bool> {
        let mut st = self.lock();
        if let Some(why) = &st.failed {
            return Err(io::Error::other(why.clone()));
        }
        match st.writers.get(&entry.id) {
            Some(Writer::Attached) => {}
            // Nothing names it: no bytes of it need to survive.
            Some(Writer::Orphan) => return Ok(true),
            _ => {
                return Err(io::Error::other(
                    "the file was truncated while being written",
                ));
            }
        }
        let id = entry.id;
        let old = st.tail.insert(id, entry);
        let restore = |st: &mut State| match old {
            Some(o) => st.tail.insert(id, o),
            None => st.tail.remove(&id),
        };
        match self.write_tail(&st) {
            Ok(true) => Ok(true),
            Ok(false) => {
                restore(&mut st);
                Ok(false)
            }
            Err(e) => {
                restore(&mut st);
                Err(e)
            }
        }
    }

    /// Notes that data was written to the device, to be flushed by the next commit.
    pub(super) fn note_data_written(&self) {
        self.data_dirty.store(true, Release);
    }

    /// Extends inode `id` (whose writer holds `extents`) to at least `need` blocks.
    pub(super) fn grow(&self, id: u64, extents: &[Extent], need: u64) -> io::Result<Vec<Extent>> {
        let mut st = self.lock();
        if let Some(why) = &st.failed {
            return Err(io::Error::other(why.clone()));
        }
        if st.writers.get(&id) != Some(&Writer::Attached) {
            return Err(io::Error::other(
                "the file was truncated or removed while being written",
            ));
        }
        let mut ex = extents.to_vec();
        let mut have: u64 = ex.iter().map(|e| e.blocks).sum();
        let mut room = st
            .space_limit
            .map(|l| l.saturating_sub(st.sb.data_blocks() - st.alloc.free_blocks()));
        while have < need {
            let mut want = (need - have).max(have.min(MAX_GROW_BLOCKS));
            if let Some(r) = room {
                want = want.min(r);
            }
            // Nothing when the limit leaves no room (`allocate(0)` is `None`).
            let Some(e) = st.alloc.allocate(want) else {
                // Give back what this call took: never recorded nor published, so
                // reusable at once.
                st.alloc.free_unrecorded(extents, &ex);
                return Err(no_space("no free extents"));
            };
            have += e.blocks;
            room = room.map(|r| r.saturating_sub(e.blocks));
            match ex.last_mut() {
                Some(last) if last.end() == e.start => last.blocks += e.blocks,
                _ => ex.push(e),
            }
        }
        if let Some(inode) = st.live.inodes.get_mut(&id) {
            inode.extents = ex.clone();
        }
        Ok(ex)
    }

    pub(super) fn publish_len(&self, id: u64, len: u64) {
        let mut st = self.lock();
        // A detached writer (its file was truncated) no longer moves the file's end.
        if st.writers.get(&id) == Some(&Writer::Attached)
            && let Some(inode) = st.live.inodes.get_mut(&id)
        {
            inode.len = inode.len.max(len);
        }
    }

    pub(super) fn live_len(&self, id: u64) -> u64 {
        self.lock().live.inodes.get(&id).map_or(0, |i| i.len)
    }

    /// A writer's sync: its data is on the device; record length and extents durably.
    pub(super) fn sync_inode(&self, id: u64, len: u64, extents: &[Extent]) -> io::Result<()> {
        let mut st = self.lock();
        match st.writers.get(&id) {
            // Unlinked while open: nothing names it, nothing to record.
            Some(Writer::Orphan) => {
                self.data_dirty.store(false, Relaxed);
                self.dev.flush()
            }
            Some(Writer::Attached) => {
                let rec = Record::Inode {
                    id,
                    len,
                    extents: extents.to_vec(),
                };
                self.commit(&mut st, Some(rec))
            }
            _ => Err(io::Error::other(
                "the file was truncated while being written",
            )),
        }
    }

    /// A writer's drop: free an unlinked file, or give back the unused preallocated tail.
    pub(super) fn close_writer(&self, id: u64, len: u64, extents: &[Extent]) {
        let mut st = self.lock();
        match st.writers.remove(&id) {
            Some(Writer::Orphan) => {
                if let Some(inode) = st.live.inodes.remove(&id) {
                    for e in inode.extents {
                        st.alloc.free_later(e);
                    }
                }
            }
            Some(Writer::Attached) => {
                let (kept, freed) = split_extents(extents, len.div_ceil(BLOCK));
                for e in freed {
                    st.alloc.free_later(e);
                }
                if let Some(inode) = st.live.inodes.get_mut(&id) {
                    inode.len = len;
                    inode.extents = kept.clone();
                }
                st.pending.push(Record::Inode {
                    id,
                    len,
                    extents: kept,
                });
            }
            // Detached by a truncate: the truncate recorded the inode.
            Some(Writer::Detached) | None => {}
        }
    }
}

/// Adds to a commit an `Inode` record for every tail entry that still extends its file.
///
/// A commit is written over the block that holds the tail, and the new tail only after the
/// commit: a process killed in between leaves no tail at all, and every file's flushed,
/// acknowledged bytes past its journaled length would be lost (`volume_crash_interval`:
/// "batch 432 was acknowledged but only 427 survived"). Recorded in the commit they need no
/// tail: they are on the device already (completed `O_DIRECT` writes), and the commit's
/// first device flush makes them durable before its records are. Writers keep their own
/// `from` (their last synced length), so a later entry of the same file starts before the
/// length journaled here; replay accepts that (`tail::still_applies`).
fn absorb_tail(st: &State, records: &mut Vec<Record>) {
    if st.tail.is_empty() {
        return;
    }
    let mut after = st.journaled.clone();
    for r in records.iter() {
        if after.apply(r).is_err() {
            // The commit itself will fail on this record; nothing to add to it.
            return;
        }
    }
    for (id, e) in &st.tail {
        if let Some(inode) = after.inodes.get(id)
            && tail::still_applies(inode, e)
            && e.to > inode.len
        {
            records.push(Record::Inode {
                id: *id,
                len: e.to,
                extents: e.extents.clone(),
            });
        }
    }
}
