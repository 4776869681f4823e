//! The real filesystem behind [`Storage`].

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{LockGuard, RandomAccessFile, Storage, WritableFile};

/// How table files are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReadPath {
    /// Memory-mapped: reads are memory copies, the page cache does readahead.
    #[default]
    Mmap,
    /// `pread(2)` per block.
    Pread,
}

/// A data directory on a local filesystem.
#[derive(Debug, Clone)]
pub struct FsStorage {
    dir: PathBuf,
    read_path: ReadPath,
}

impl FsStorage {
    /// Opens (creating if needed) the directory `dir`.
    pub fn new(dir: impl AsRef<Path>, read_path: ReadPath) -> io::Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir)?;
        Ok(FsStorage { dir, read_path })
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
