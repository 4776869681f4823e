//! The real filesystem behind [`Storage`].

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::uring::{self, DirectFile};
use super::{LockGuard, RandomAccessFile, Storage, SyncHandle, WritableFile};

/// How table files are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReadPath {
    /// Memory-mapped: reads are memory copies, the page cache does readahead.
    #[default]
    Mmap,
    /// `pread(2)` per block.
    Pread,
    /// Tables opened with `O_DIRECT` (no page cache: the block cache is the only cache) and
    /// read through a per-thread io_uring, the block reads of a `multi_get` batch or of an
    /// iterator's readahead in one submission. Falls back to pread (logged once, counted in
    /// [`super::ReadPathStats::fallbacks`]) where io_uring or `O_DIRECT` is unavailable.
    /// Logs, the manifest and `CURRENT` are read with buffered pread.
    IoUring,
}

impl ReadPath {
    /// The configuration name: `mmap`, `pread` or `io_uring`.
    pub fn name(self) -> &'static str {
        match self {
            ReadPath::Mmap => "mmap",
            ReadPath::Pread => "pread",
            ReadPath::IoUring => "io_uring",
        }
    }

    /// Parses a configuration name (see [`ReadPath::name`]).
    pub fn from_name(name: &str) -> Option<ReadPath> {
        [ReadPath::Mmap, ReadPath::Pread, ReadPath::IoUring]
            .into_iter()
            .find(|p| p.name() == name)
    }
}

/// A data directory on a local filesystem.
#[derive(Debug, Clone)]
pub struct FsStorage {
    dir: PathBuf,
    read_path: ReadPath,
    /// `O_DIRECT` for tables read with pread too (see [`FsStorage::with_direct_pread`]).
    direct_pread: bool,
}

impl FsStorage {
    /// Opens (creating if needed) the directory `dir`.
    pub fn new(dir: impl AsRef<Path>, read_path: ReadPath) -> io::Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir)?;
        Ok(FsStorage {
            dir,
            read_path,
            direct_pread: false,
        })
    }

    /// With [`ReadPath::Pread`], opens tables with `O_DIRECT` and reads them with aligned
    /// pread: no page cache, one read at a time. For cold-read comparisons against
    /// [`ReadPath::IoUring`] (which is the same minus the ring).
    pub fn with_direct_pread(mut self, on: bool) -> Self {
        self.direct_pread = on;
        self
    }

    /// Opens a table for direct reads, or `None` when the filesystem refuses `O_DIRECT`.
    fn open_direct(&self, name: &str, use_ring: bool) -> io::Result<Option<DirectFile>> {
        let opened = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECT)
            .open(self.path(name));
        match opened {
            Ok(file) => {
                let len = file.metadata()?.len();
                Ok(Some(DirectFile::new(file, len, use_ring)))
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                uring::note_fallback(&format!(
                    "O_DIRECT is not supported for {} ({e})",
                    self.dir.display()
                ));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The directory this storage lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Storage for FsStorage {
    fn create(&self, name: &str) -> io::Result<Box<dyn WritableFile>> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(self.path(name))?;
        Ok(Box::new(FsWritable { file, len: 0 }))
    }

    fn open_read(&self, name: &str) -> io::Result<Arc<dyn RandomAccessFile>> {
        let table = name.ends_with(".sst");
        let direct = match self.read_path {
            ReadPath::IoUring if table => {
                if !uring::io_uring_available() {
                    uring::note_fallback("io_uring is unavailable");
                }
                // Without a ring anywhere, reads still go direct, by aligned pread.
                Some(true)
            }
            ReadPath::Pread if table && self.direct_pread => Some(false),
            _ => None,
        };
        if let Some(use_ring) = direct
            && let Some(f) = self.open_direct(name, use_ring)?
        {
            return Ok(Arc::new(f));
        }
        let file = File::open(self.path(name))?;
        let len = file.metadata()?.len();
        match self.read_path {
            // A zero-length file cannot be mapped; pread handles it.
            ReadPath::Mmap if len > 0 => {
                // SAFETY: the engine never modifies or truncates a file once it is opened for
                // reading (tables are immutable; logs are only read during recovery, before
                // any writer exists), so the mapping's bytes do not change under us.
                let map = unsafe { memmap2::Mmap::map(&file)? };
                Ok(Arc::new(MmapFile { map }))
            }
            _ => Ok(Arc::new(PreadFile { file, len })),
        }
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        fs::rename(self.path(from), self.path(to))
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        fs::remove_file(self.path(name))
    }

    fn truncate(&self, name: &str, len: u64) -> io::Result<()> {
        let f = OpenOptions::new().write(true).open(self.path(name))?;
        f.set_len(len)?;
        f.sync_all()
    }

    fn list(&self) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        for e in fs::read_dir(&self.dir)? {
            let e = e?;
            if let Some(n) = e.file_name().to_str() {
                out.push(n.to_string());
            }
        }
        Ok(out)
    }

    fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }

    fn lock(&self) -> io::Result<Box<dyn LockGuard>> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path("LOCK"))?;
        match file.try_lock() {
            Ok(()) => Ok(Box::new(FsLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{} is locked", self.dir.display()),
            )),
            Err(fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

#[derive(Debug)]
struct FsLock {
    _file: File,
}

impl LockGuard for FsLock {}

#[derive(Debug)]
struct FsWritable {
    file: File,
    len: u64,
}

impl WritableFile for FsWritable {
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.file.write_all(data)?;
        self.len += data.len() as u64;
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        // fdatasync also persists the file size, which is all the metadata an append changes.
        self.file.sync_data()
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn sync_handle(&self) -> Option<Box<dyn SyncHandle>> {
        // A second descriptor of the same open file: fdatasync through it flushes the
        // inode's dirty pages whichever descriptor wrote them.
        let file = self.file.try_clone().ok()?;
        Some(Box::new(FsSync(file)))
    }
}

#[derive(Debug)]
struct FsSync(File);

impl SyncHandle for FsSync {
    fn sync(&self) -> io::Result<()> {
        self.0.sync_data()
    }
}

#[derive(Debug)]
struct PreadFile {
    file: File,
    len: u64,
}

impl RandomAccessFile for PreadFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }

    fn len(&self) -> u64 {
        self.len
    }
}

#[derive(Debug)]
struct MmapFile {
    map: memmap2::Mmap,
}

impl RandomAccessFile for MmapFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let end = start.checked_add(buf.len());
        match end {
            Some(end) if end <= self.map.len() => {
                buf.copy_from_slice(&self.map[start..end]);
                Ok(())
            }
            _ => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("read of {} bytes at {offset} past the end", buf.len()),
            )),
        }
    }

    fn len(&self) -> u64 {
        self.map.len() as u64
    }
}
