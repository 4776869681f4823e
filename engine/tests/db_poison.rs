//! A failed fsync poisons writes (reads go on) until the database is reopened.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use scipkv_engine::storage::{
    FsStorage, LockGuard, RandomAccessFile, ReadPath, Storage, WritableFile,
};
use scipkv_engine::{Db, Error, Options};

/// Filesystem storage whose file syncs fail while `fail` is set.
#[derive(Debug)]
struct FailingSync {
    fs: FsStorage,
    fail: Arc<AtomicBool>,
}

#[derive(Debug)]
struct File {
    inner: Box<dyn WritableFile>,
    fail: Arc<AtomicBool>,
}

impl WritableFile for File {
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.inner.append(data)
    }
    fn sync(&mut self) -> io::Result<()> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected fsync failure"));
        }
        self.inner.sync()
    }
    fn len(&self) -> u64 {
        self.inner.len()
    }
}

impl Storage for FailingSync {
    fn create(&self, name: &str) -> io::Result<Box<dyn WritableFile>> {
        Ok(Box::new(File {
            inner: self.fs.create(name)?,
            fail: Arc::clone(&self.fail),
        }))
    }
    fn open_read(&self, name: &str) -> io::Result<Arc<dyn RandomAccessFile>> {
        self.fs.open_read(name)
    }
    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        self.fs.rename(from, to)
    }
    fn remove(&self, name: &str) -> io::Result<()> {
        self.fs.remove(name)
    }
    fn truncate(&self, name: &str, len: u64) -> io::Result<()> {
        self.fs.truncate(name, len)
    }
    fn list(&self) -> io::Result<Vec<String>> {
        self.fs.list()
    }
    fn sync_dir(&self) -> io::Result<()> {
        self.fs.sync_dir()
    }
    fn lock(&self) -> io::Result<Box<dyn LockGuard>> {
        self.fs.lock()
    }
}

#[test]
fn failed_fsync_poisons_writes_until_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let fail = Arc::new(AtomicBool::new(false));
    let storage = Arc::new(FailingSync {
        fs: FsStorage::new(dir.path(), ReadPath::Mmap).unwrap(),
        fail: Arc::clone(&fail),
    });
    let opts = Options {
        storage: Some(storage),
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    db.put(b"before", b"1").unwrap();

    fail.store(true, Ordering::SeqCst);
    let err = db.put(b"during", b"2").unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    fail.store(false, Ordering::SeqCst);

    // Even with the disk healthy again, writes stay refused: the failed fsync may have
    // dropped dirty pages, so the WAL's durability is unknown.
    assert!(matches!(db.put(b"after", b"3"), Err(Error::Poisoned(_))));
    assert!(matches!(db.delete(b"before"), Err(Error::Poisoned(_))));
    assert!(db.stats().poisoned);
    // Reads go on.
    assert_eq!(db.get(b"before").unwrap().as_deref(), Some(&b"1"[..]));
    drop(db);

    let db = Db::open(dir.path(), opts).unwrap();
    assert_eq!(db.get(b"before").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(db.get(b"after").unwrap(), None);
    db.put(b"after", b"3").unwrap();
    assert_eq!(db.get(b"after").unwrap().as_deref(), Some(&b"3"[..]));
}
