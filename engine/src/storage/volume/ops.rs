//! [`Storage`] on a volume: the engine's file operations mapped onto the file table.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use crate::storage::{LockGuard, RandomAccessFile, Storage, WritableFile};

use super::alloc::split_extents;
use super::table::{self, Inode, Record};
use super::{BLOCK, Inner, VolumeFile, VolumeStats, VolumeStorage, VolumeWriter, Writer};

pub(super) fn not_found(name: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{name}: no such file"))
}

pub(super) fn check_name(name: &str) -> io::Result<()> {
    if name.is_empty() || name.len() > table::MAX_NAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("file name of {} bytes", name.len()),
        ));
    }
    Ok(())
}

#[derive(Debug)]
struct VolumeLock {
    inner: Arc<Inner>,
}

impl LockGuard for VolumeLock {}

impl Drop for VolumeLock {
    fn drop(&mut self) {
        self.inner.lock().locked = false;
    }
}

impl Storage for VolumeStorage {
    fn create(&self, name: &str) -> io::Result<Box<dyn WritableFile>> {
        check_name(name)?;
        let mut st = self.inner.lock();
        if let Some(why) = &st.failed {
            return Err(io::Error::other(why.clone()));
        }
        let id = st.next_id;
        st.next_id += 1;
        st.live.inodes.insert(id, Inode::default());
        st.writers.insert(id, Writer::Attached);
        st.pending.push(Record::Inode {
            id,
            len: 0,
            extents: Vec::new(),
        });
        st.pending.push(Record::Link {
            name: name.to_string(),
            id,
        });
        if let Some(old) = st.live.names.insert(name.to_string(), id) {
            Inner::release_inode(&mut st, old);
        }
        Ok(Box::new(VolumeWriter::new(
            Arc::clone(&self.inner),
            id,
            name,
        )))
    }

    fn open_read(&self, name: &str) -> io::Result<Arc<dyn RandomAccessFile>> {
        let st = self.inner.lock();
        let id = *st.live.names.get(name).ok_or_else(|| not_found(name))?;
        let inode = st.live.inodes.get(&id).ok_or_else(|| not_found(name))?;
        Ok(Arc::new(VolumeFile {
            dev: Arc::clone(&self.inner.dev),
            len: inode.len,
            extents: inode.extents.clone(),
            batched: self.inner.batched_reads.load(Relaxed),
        }))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        check_name(to)?;
        let mut st = self.inner.lock();
        let id = *st.live.names.get(from).ok_or_else(|| not_found(from))?;
        if from == to {
            return Ok(());
        }
        st.live.names.remove(from);
        st.pending.push(Record::Rename {
            from: from.to_string(),
            to: to.to_string(),
        });
        if let Some(old) = st.live.names.insert(to.to_string(), id)
            && old != id
        {
            Inner::release_inode(&mut st, old);
        }
        Ok(())
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        let mut st = self.inner.lock();
        let id = st.live.names.remove(name).ok_or_else(|| not_found(name))?;
        st.pending.push(Record::Unlink {
            name: name.to_string(),
        });
        Inner::release_inode(&mut st, id);
        Ok(())
    }

    fn truncate(&self, name: &str, len: u64) -> io::Result<()> {
        let mut guard = self.inner.lock();
        let st = &mut *guard;
        let id = *st.live.names.get(name).ok_or_else(|| not_found(name))?;
        let inode = st.live.inodes.get_mut(&id).ok_or_else(|| not_found(name))?;
        // With a writer attached, bytes it appended but has not written out (unsynced, in
        // its buffer) are dropped as well: they were never durable, and the engine only
        // cuts a log after a failed append and then moves to a new one.
        let len = match st.writers.get(&id) {
            Some(_) => len.min(inode.len),
            None => len,
        };
        if len > inode.len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name}: truncate cannot extend ({len} > {})", inode.len),
            ));
        }
        inode.len = len;
        if let Some(w) = st.writers.get_mut(&id) {
            *w = Writer::Detached;
        } else {
            // No writer: give back the blocks past the new end.
            let (kept, freed) = split_extents(&inode.extents, len.div_ceil(BLOCK));
            for e in freed {
                st.alloc.free_later(e);
            }
            inode.extents = kept;
        }
        let rec = Record::Inode {
            id,
            len,
            extents: inode.extents.clone(),
        };
        // The cut is final: bytes a flush listed in the tail must not re-extend the file.
        st.tail.remove(&id);
        self.inner.commit(st, Some(rec))
    }

    fn list(&self) -> io::Result<Vec<String>> {
        Ok(self.inner.lock().live.names.keys().cloned().collect())
    }

    fn sync_dir(&self) -> io::Result<()> {
        let mut st = self.inner.lock();
        self.inner.commit(&mut st, None)
    }

    fn lock(&self) -> io::Result<Box<dyn LockGuard>> {
        let mut st = self.inner.lock();
        if st.locked {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "the volume is already open in this process",
            ));
        }
        st.locked = true;
        Ok(Box::new(VolumeLock {
            inner: Arc::clone(&self.inner),
        }))
    }

    fn volume_stats(&self) -> Option<VolumeStats> {
        Some(self.stats())
    }
}
