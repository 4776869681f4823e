//! The block device under a [`super::VolumeStorage`]: a raw block device or a preallocated
//! file, opened with `O_DIRECT`.
//!
//! The volume code talks to a [`Device`] rather than a `File` so that tests can run it over
//! [`super::MemDevice`], a memory device that drops unflushed writes on a simulated power
//! loss; [`FileDevice`] is the real thing.

use std::fmt::Debug;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::storage::RandomAccessFile;
use crate::storage::aligned::ALIGN;
use crate::storage::uring::{self, DirectFile};

/// Bytes a volume addresses at a time: every write covers whole blocks at block offsets.
pub const BLOCK: u64 = ALIGN as u64;

/// A fixed-size array of blocks that survives power loss only for what [`Device::flush`]
/// covered.
pub trait Device: Send + Sync + Debug + 'static {
    /// Size in bytes (a whole number of blocks is used; a ragged end is ignored).
    fn len(&self) -> u64;

    /// True for a zero-sized device.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills `buf` from byte `offset` (any alignment).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;

    /// Writes `buf` at `offset`. Both, and the buffer's address, are multiples of [`BLOCK`]
    /// (callers write from `AlignedBuf`s); nothing is durable before [`Device::flush`].
    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;

    /// Makes every completed write durable (a cache flush on a device, fdatasync on a file).
    fn flush(&self) -> io::Result<()>;

    /// Tells the device the range holds no data any more. Best effort: `Ok(false)` where
    /// unsupported.
    fn discard(&self, offset: u64, len: u64) -> io::Result<bool>;

    /// The device as an `O_DIRECT` file for batched io_uring reads, if it is one.
    fn direct(&self) -> Option<&DirectFile> {
        None
    }
}

fn misaligned(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{what} is not a multiple of {BLOCK}"),
    )
}

/// Checks what every `write_at` must satisfy.
pub(super) fn check_aligned_write(buf: &[u8], offset: u64, dev_len: u64) -> io::Result<()> {
    if !offset.is_multiple_of(BLOCK) {
        return Err(misaligned("write offset"));
    }
    if !(buf.len() as u64).is_multiple_of(BLOCK) {
        return Err(misaligned("write length"));
    }
    if offset
        .checked_add(buf.len() as u64)
        .is_none_or(|e| e > dev_len)
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "write of {} bytes at {offset} past the device end",
                buf.len()
            ),
        ));
    }
    Ok(())
}

/// Creates `path` (which must not exist) as a file of `bytes` with its blocks allocated up
/// front (`fallocate`), so the volume never meets a full file system later; a sparse file
/// where the file system cannot preallocate.
pub fn create_file(path: &Path, bytes: u64) -> io::Result<()> {
    let file = OpenOptions::new().write(true).create_new(true).open(path)?;
    let len = libc::off_t::try_from(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "size too large"))?;
    // SAFETY: fallocate takes plain integers; the descriptor is open for writing.
    let r = unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, len) };
    if r != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EOPNOTSUPP) {
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
        file.set_len(bytes)?;
    }
    file.sync_all()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// A block device or a regular file, read and written with `O_DIRECT` (buffered where the
/// file system refuses `O_DIRECT`, counted as a read-path fallback).
#[derive(Debug)]
pub struct FileDevice {
    path: PathBuf,
    /// Written with aligned pwrite; holds the exclusive `flock` for the volume's lifetime.
    file: File,
    /// A second descriptor on the same file, read through the thread's io_uring.
    reader: DirectFile,
    len: u64,
    block_device: bool,
}

/// `BLKDISCARD` from `<linux/fs.h>`: `_IO(0x12, 119)`.
const BLKDISCARD: libc::c_ulong = 0x1277;

/// How long a lock held by a process that has already exited may take to go away.
const LOCK_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Takes the exclusive lock, waiting a bounded time for a holder that is going away: a
/// killed process's io_uring keeps references to the volume file until the kernel tears the
/// ring down, which it does asynchronously after the process is reaped, so a restart right
/// after a crash can find the lock still held for a moment. A live holder keeps it past
/// `LOCK_GRACE` and gets `WouldBlock`. flock has no notification, so this polls with backoff.
fn lock_with_grace(file: &File, path: &Path) -> io::Result<()> {
    let deadline = std::time::Instant::now() + LOCK_GRACE;
    let mut pause = std::time::Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!("{} is in use by another process", path.display()),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

impl FileDevice {
    /// Opens `path` read-write and locks it exclusively (another process holding it gets
    /// `WouldBlock`).
    pub fn open(path: &Path) -> io::Result<FileDevice> {
        let open = |direct: bool| {
            let mut o = OpenOptions::new();
            o.read(true).write(true);
            if direct {
                o.custom_flags(libc::O_DIRECT);
            }
            o.open(path)
        };
        let file = match open(true) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                uring::note_fallback(&format!(
                    "O_DIRECT is not supported for {} ({e})",
                    path.display()
                ));
                open(false)?
            }
            r => r?,
        };
        lock_with_grace(&file, path)?;
        let block_device = file.metadata()?.file_type().is_block_device();
        // A block device's metadata says 0 bytes; its end says how large it is.
        let len = (&file).seek(SeekFrom::End(0))?;
        let reader = DirectFile::new(file.try_clone()?, len, true);
        Ok(FileDevice {
            path: path.to_path_buf(),
            file,
            reader,
            len,
            block_device,
        })
    }

    /// True when the device is a block device (not a file).
    pub fn is_block_device(&self) -> bool {
        self.block_device
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Device for FileDevice {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.reader.read_exact_at(buf, offset)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        check_aligned_write(buf, offset, self.len)?;
        if !(buf.as_ptr() as usize).is_multiple_of(ALIGN) {
            return Err(misaligned("write buffer address"));
        }
        self.file.write_all_at(buf, offset)
    }

    fn flush(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn discard(&self, offset: u64, len: u64) -> io::Result<bool> {
        let fd = self.file.as_raw_fd();
        let r = if self.block_device {
            let range: [u64; 2] = [offset, len];
            // SAFETY: BLKDISCARD reads a `[u64; 2]` (start, length) through the pointer, which
            // points at `range`, alive for the call; the descriptor is open.
            unsafe { libc::ioctl(fd, BLKDISCARD, range.as_ptr()) }
        } else {
            let (Ok(off), Ok(l)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len))
            else {
                return Ok(false);
            };
            // SAFETY: fallocate takes plain integers; the descriptor is open for writing.
            unsafe {
                libc::fallocate(
                    fd,
                    libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                    off,
                    l,
                )
            }
        };
        if r == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EOPNOTSUPP | libc::ENOTTY | libc::EINVAL | libc::ENOSYS) => Ok(false),
            _ => Err(e),
        }
    }

    fn direct(&self) -> Option<&DirectFile> {
        Some(&self.reader)
    }
}
