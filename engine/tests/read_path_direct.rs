//! The direct read paths at the storage level: `O_DIRECT` reads through io_uring and through
//! aligned pread return exactly the bytes of buffered reads, for unaligned offsets and
//! lengths, across page boundaries, at the end of the file, and in batches larger than a
//! ring; the fallbacks (no ring on a thread, no `O_DIRECT` on tmpfs) are taken and counted.
//!
//! Directories are on the disk under the target directory, never tmpfs, so `O_DIRECT`
//! really applies.

mod common;

use std::sync::Arc;

use common::{Rng, seed};
use scipkv_engine::ReadPath;
use scipkv_engine::storage::{
    FsStorage, RandomAccessFile, ReadRequest, Storage, read_batch, read_path_stats,
};

fn disk_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

fn write(storage: &FsStorage, name: &str, bytes: &[u8]) {
    let mut f = storage.create(name).unwrap();
    f.append(bytes).unwrap();
    f.sync().unwrap();
}

/// (offset, len) pairs that stress alignment: page edges, tiny and large reads, the tail.
fn ranges(rng: &mut Rng, len: u64) -> Vec<(u64, usize)> {
    let mut out = vec![
        (0, 1),
        (0, 4096),
        (4095, 2),
        (4096, 4096),
        (len - 1, 1),
        (len - 5000, 5000),
        (0, len as usize),
        (len, 0),
    ];
    for _ in 0..300 {
        let off = rng.below(len);
        let max = (len - off).min(70_000);
        out.push((off, rng.below(max + 1) as usize));
    }
    out
}

fn direct_file(storage: &FsStorage, name: &str) -> Arc<dyn RandomAccessFile> {
    let f = storage.open_read(name).unwrap();
    assert!(
        f.direct().is_some(),
        "{name} should be opened with O_DIRECT"
    );
    f
}

#[test]
fn direct_reads_match_the_file_bytes() {
    let mut rng = Rng::new(seed("direct_reads_match_the_file_bytes"));
    let dir = disk_dir();
    let data = rng.bytes(300_001); // not a multiple of the page size
    for (path, direct_pread) in [(ReadPath::IoUring, false), (ReadPath::Pread, true)] {
        let storage = FsStorage::new(dir.path(), path)
            .unwrap()
            .with_direct_pread(direct_pread);
        write(&storage, "000001.sst", &data);
        let f = direct_file(&storage, "000001.sst");
        assert_eq!(f.len(), data.len() as u64);
        let before = read_path_stats();
        let rs = ranges(&mut rng, data.len() as u64);
        for &(off, len) in &rs {
            let got = f.read_vec(off, len).unwrap();
            assert!(
                got == data[off as usize..off as usize + len],
                "{path:?} read of {len} at {off}"
            );
        }
        // Past the end is an UnexpectedEof error, as for every RandomAccessFile.
        for (off, len) in [
            (data.len() as u64, 1),
            (data.len() as u64 - 1, 2),
            (u64::MAX, 1),
        ] {
            let e = f.read_vec(off, len).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
        }
        // Single reads are aligned preads on the O_DIRECT descriptor on both paths.
        let after = read_path_stats();
        // Empty reads are answered without I/O.
        let nonempty = rs.iter().filter(|&&(_, len)| len > 0).count() as u64;
        assert!(after.direct_preads >= before.direct_preads + nonempty);
        // The same ranges as one batch: through the ring on the io_uring path.
        let reqs: Vec<ReadRequest<'_>> = rs
            .iter()
            .map(|&(offset, len)| ReadRequest {
                file: &*f,
                offset,
                len,
            })
            .collect();
        let got = read_batch(&reqs);
        for (&(off, len), g) in rs.iter().zip(&got) {
            assert!(
                g.as_ref().unwrap()[..] == data[off as usize..off as usize + len],
                "{path:?} batched read of {len} at {off}"
            );
        }
        let batched = read_path_stats();
        if path == ReadPath::IoUring {
            assert!(
                batched.uring_reads >= after.uring_reads + nonempty,
                "batched reads went through io_uring: {after:?} -> {batched:?}"
            );
        }
    }
}

#[test]
fn batches_span_files_and_exceed_the_ring() {
    let mut rng = Rng::new(seed("batches_span_files_and_exceed_the_ring"));
    let dir = disk_dir();
    let storage = FsStorage::new(dir.path(), ReadPath::IoUring).unwrap();
    let datas: Vec<Vec<u8>> = (0..3).map(|i| rng.bytes(100_000 + i * 777)).collect();
    for (i, d) in datas.iter().enumerate() {
        write(&storage, &format!("{i:06}.sst"), d);
    }
    // A non-table file is read buffered, and may sit in the same batch.
    write(&storage, "MANIFEST-000009", &datas[0]);
    let mut files: Vec<Arc<dyn RandomAccessFile>> = (0..3)
        .map(|i| direct_file(&storage, &format!("{i:06}.sst")))
        .collect();
    let manifest = storage.open_read("MANIFEST-000009").unwrap();
    assert!(manifest.direct().is_none());
    files.push(manifest);
    let mut reqs = Vec::new();
    let mut want = Vec::new();
    for _ in 0..500 {
        let fi = rng.below(4) as usize;
        let d = if fi == 3 { &datas[0] } else { &datas[fi] };
        let off = rng.below(d.len() as u64);
        let len = rng.below((d.len() as u64 - off).min(20_000) + 1) as usize;
        reqs.push(ReadRequest {
            file: &*files[fi],
            offset: off,
            len,
        });
        want.push(d[off as usize..off as usize + len].to_vec());
    }
    // One request past the end fails alone.
    reqs.push(ReadRequest {
        file: &*files[1],
        offset: datas[1].len() as u64 - 10,
        len: 11,
    });
    let before = read_path_stats();
    let got = read_batch(&reqs);
    let after = read_path_stats();
    assert_eq!(got.len(), reqs.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g.as_ref().ok(), Some(w), "request {i}");
    }
    assert!(got.last().unwrap().is_err());
    // Empty reads are answered without I/O, and the one past the end is refused before it.
    let direct = reqs
        .iter()
        .filter(|r| r.file.direct().is_some() && r.len > 0)
        .count() as u64
        - 1;
    assert!(after.uring_reads - before.uring_reads >= direct);
    // Other tests may submit concurrently; ours alone need at least ceil(direct / 128).
    assert!(after.uring_submissions - before.uring_submissions >= direct.div_ceil(128));
}

#[test]
fn a_thread_without_a_ring_reads_with_pread() {
    let mut rng = Rng::new(seed("a_thread_without_a_ring_reads_with_pread"));
    let dir = disk_dir();
    let storage = FsStorage::new(dir.path(), ReadPath::IoUring).unwrap();
    let data = rng.bytes(50_000);
    write(&storage, "000001.sst", &data);
    let f = direct_file(&storage, "000001.sst");
    std::thread::scope(|s| {
        s.spawn(|| {
            let before = read_path_stats();
            scipkv_engine::storage::disable_io_uring_on_this_thread();
            assert_eq!(f.read_vec(1234, 20_000).unwrap(), &data[1234..21_234]);
            let before_batch = read_path_stats();
            let got = read_batch(&[
                ReadRequest {
                    file: &*f,
                    offset: 0,
                    len: 10,
                },
                ReadRequest {
                    file: &*f,
                    offset: 49_990,
                    len: 10,
                },
            ]);
            assert_eq!(got[0].as_ref().unwrap(), &data[..10]);
            assert_eq!(got[1].as_ref().unwrap(), &data[49_990..]);
            let after = read_path_stats();
            assert!(after.fallbacks > before.fallbacks);
            assert!(after.direct_preads >= before_batch.direct_preads + 2);
        });
    });
}

/// tmpfs refused `O_DIRECT` before Linux 6.6 (then the table is opened buffered and the
/// fallback counted); newer kernels accept it. Either way the bytes are right.
#[test]
fn tmpfs_reads_direct_or_falls_back() {
    let shm = std::path::Path::new("/dev/shm");
    if !shm.is_dir() {
        eprintln!("no /dev/shm: skipped");
        return;
    }
    let dir = tempfile::tempdir_in(shm).unwrap();
    let storage = FsStorage::new(dir.path(), ReadPath::IoUring).unwrap();
    write(&storage, "000001.sst", b"hello, tmpfs");
    let before = read_path_stats();
    let f = storage.open_read("000001.sst").unwrap();
    assert_eq!(f.read_vec(7, 5).unwrap(), b"tmpfs");
    if f.direct().is_none() {
        eprintln!("tmpfs refused O_DIRECT: buffered fallback");
        assert!(read_path_stats().fallbacks > before.fallbacks);
    } else {
        eprintln!("tmpfs accepted O_DIRECT (Linux >= 6.6)");
    }
}
