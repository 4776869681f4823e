//! The storage trait: every byte the engine reads or writes goes through it.
//!
//! The trait is deliberately small (a flat namespace of named files) so that a fault-injecting
//! in-memory implementation ([reliability]) and a raw-volume implementation ([io-uring]) can
//! stand in for the filesystem. Names are plain file names relative to the data directory.

use std::fmt::Debug;
use std::io;
use std::sync::Arc;

mod aligned;
pub mod fault;
mod fs;
mod uring;
pub mod volume;

pub use fs::{FsStorage, ReadPath};
pub use uring::{
    DirectFile, ReadPathStats, disable_io_uring_on_this_thread, io_uring_available, read_path_stats,
};

/// A data directory.
pub trait Storage: Send + Sync + Debug + 'static {
    /// Creates `name` (truncating it if it exists) for appending. The directory entry is only
    /// durable after [`Storage::sync_dir`].
    fn create(&self, name: &str) -> io::Result<Box<dyn WritableFile>>;

    /// Opens `name` for positional reads. The file must not be appended to afterwards.
    fn open_read(&self, name: &str) -> io::Result<Arc<dyn RandomAccessFile>>;

    /// Atomically replaces `to` with `from` (durable after `sync_dir`).
    fn rename(&self, from: &str, to: &str) -> io::Result<()>;

    /// Removes `name`.
    fn remove(&self, name: &str) -> io::Result<()>;

    /// Shortens `name` to `len` bytes and syncs it (used to cut a torn WAL tail).
    fn truncate(&self, name: &str, len: u64) -> io::Result<()>;

    /// Names of all files in the directory, in no particular order.
    fn list(&self) -> io::Result<Vec<String>>;

    /// Makes creates, renames and removes durable.
    fn sync_dir(&self) -> io::Result<()>;

    /// The raw volume's figures, for a [`volume::VolumeStorage`].
    fn volume_stats(&self) -> Option<volume::VolumeStats> {
        None
    }

    /// Takes an exclusive lock on the directory for the life of the returned guard, so that
    /// two processes never open the same data at once.
    fn lock(&self) -> io::Result<Box<dyn LockGuard>>;

    /// Reads a whole file.
    fn read_all(&self, name: &str) -> io::Result<Vec<u8>> {
        let f = self.open_read(name)?;
        let len = usize::try_from(f.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "file too large"))?;
        let mut buf = vec![0; len];
        f.read_exact_at(&mut buf, 0)?;
        Ok(buf)
    }
}

/// Held while the database is open; dropping it releases the directory lock.
pub trait LockGuard: Send + Sync + Debug {}

/// An append-only file being written.
pub trait WritableFile: Send + Debug {
    /// Appends all of `data` (short writes are retried or reported as errors).
    fn append(&mut self, data: &[u8]) -> io::Result<()>;

    /// Makes everything appended so far durable (data and file size).
    fn sync(&mut self) -> io::Result<()>;

    /// Hands everything appended so far to the kernel or device, so that it survives the
    /// death of this process (not a power loss): what `write(2)` gives a file. A file that
    /// writes through on every append has nothing to do; a raw volume's writer, which
    /// buffers, writes its dirty blocks and records them in the journal tail.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Bytes appended so far.
    fn len(&self) -> u64;

    /// True when nothing has been appended.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A handle that makes durable what was appended before it was taken, usable while the
    /// writer goes on appending. The WAL's interval syncer fsyncs through it: an fsync can
    /// take milliseconds, and holding the writer meanwhile stalls every write behind it.
    /// `None` where only the writer can sync (a raw volume journals each sync).
    fn sync_handle(&self) -> Option<Box<dyn SyncHandle>> {
        None
    }
}

/// See [`WritableFile::sync_handle`].
pub trait SyncHandle: Send {
    /// Makes durable at least the bytes appended before the handle was taken.
    fn sync(&self) -> io::Result<()>;
}

/// An immutable file read at arbitrary offsets (tables, and logs during recovery).
pub trait RandomAccessFile: Send + Sync + Debug {
    /// Fills `buf` from `offset`; a read past the end is an `UnexpectedEof` error.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;

    /// File size in bytes.
    fn len(&self) -> u64;

    /// True for an empty file.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads `len` bytes at `offset` into a new buffer, after checking the range against the
    /// file size (so a corrupt length never sizes an allocation beyond the file).
    fn read_vec(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let end = offset.checked_add(len as u64);
        if end.is_none_or(|e| e > self.len()) {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "read of {len} bytes at {offset} past the end ({})",
                    self.len()
                ),
            ));
        }
        let mut buf = vec![0; len];
        self.read_exact_at(&mut buf, offset)?;
        Ok(buf)
    }

    /// `Some` for a file opened for direct reads ([`ReadPath::IoUring`]): [`read_batch`]
    /// submits the reads of all such files together. Wrappers may forward it.
    fn direct(&self) -> Option<&DirectFile> {
        None
    }

    /// The direct file and its offset holding `len` bytes at `offset` of this file, when
    /// [`read_batch`] may read them through the ring: for a file that is itself direct, the
    /// same offset; for a file on a raw volume, the device offset when the range lies in one
    /// extent. `None` sends the read through [`RandomAccessFile::read_vec`].
    fn direct_at(&self, offset: u64, _len: usize) -> Option<(&DirectFile, u64)> {
        self.direct().map(|d| (d, offset))
    }
}

/// One range to read with [`read_batch`].
#[derive(Debug, Clone, Copy)]
pub struct ReadRequest<'a> {
    pub file: &'a dyn RandomAccessFile,
    pub offset: u64,
    pub len: usize,
}

/// Reads many ranges, possibly of different files, each answered like
/// [`RandomAccessFile::read_vec`]. The reads of direct files go to the kernel together (one
/// io_uring submission per ring-full); other files are read one after another.
pub fn read_batch(reqs: &[ReadRequest<'_>]) -> Vec<io::Result<Vec<u8>>> {
    let mut out: Vec<Option<io::Result<Vec<u8>>>> = Vec::with_capacity(reqs.len());
    let mut direct = Vec::new();
    let mut direct_idx = Vec::new();
    for (i, r) in reqs.iter().enumerate() {
        match r.file.direct_at(r.offset, r.len) {
            Some((f, offset)) => {
                out.push(None);
                direct.push((f, offset, r.len));
                direct_idx.push(i);
            }
            None => out.push(Some(r.file.read_vec(r.offset, r.len))),
        }
    }
    for (res, i) in uring::read_direct(&direct).into_iter().zip(direct_idx) {
        out[i] = Some(res);
    }
    out.into_iter()
        .map(|r| r.expect("every request was answered"))
        .collect()
}
