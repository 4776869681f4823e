//! Detects how an index file is compressed and unwraps it into a plain protobuf stream.
//!
//! Upload tools compress indexes inconsistently (`index.scip`, `index.scip.gz`,
//! `index.scip.zst`), and file names lie, so the first bytes decide. A raw `Index` written by an
//! indexer never starts with either magic: its first byte is a protobuf tag, and 0x1F would be
//! wire type 7 (which does not exist) while 0x28 would be a varint in field 5, which `Index`
//! does not have.

use std::io::{self, BufReader, Chain, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
const GZIP_MAGIC: [u8; 2] = [0x1F, 0x8B];

/// What [`detect`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Zstd,
    Gzip,
}

/// What the caller's reader has done, shared with [`super::IndexReader`] because the
/// decompressor owns the reader.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Compressed bytes pulled from the caller's reader.
    pub(crate) bytes: AtomicU64,
    /// Set when the caller's reader itself failed, so an I/O error surfacing from the
    /// decompressor is known to be a real I/O error and not corrupt compressed data.
    pub(crate) source_failed: AtomicBool,
}

#[derive(Debug)]
pub(crate) struct Counting<R> {
    inner: R,
    progress: Arc<Progress>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.progress.bytes.fetch_add(n as u64, Ordering::Relaxed);
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.progress.source_failed.store(true, Ordering::Relaxed);
                }
                Err(e)
            }
        }
    }
}

type Sniffed<R> = Chain<Cursor<Vec<u8>>, Counting<R>>;

/// The decompressed stream, generic over the caller's reader so no boxing or `'static` bound
/// is forced on it.
pub(crate) enum Decompressed<R: Read> {
    Raw(BufReader<Sniffed<R>>),
    Zstd(BufReader<zstd::stream::read::Decoder<'static, BufReader<Sniffed<R>>>>),
    Gzip(BufReader<flate2::read::MultiGzDecoder<Sniffed<R>>>),
}

impl<R: Read> std::fmt::Debug for Decompressed<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Decompressed::Raw(_) => "Raw",
            Decompressed::Zstd(_) => "Zstd",
            Decompressed::Gzip(_) => "Gzip",
        })
    }
}

impl<R: Read> Read for Decompressed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decompressed::Raw(r) => r.read(buf),
            Decompressed::Zstd(r) => r.read(buf),
            Decompressed::Gzip(r) => r.read(buf),
        }
    }
}

impl<R: Read> Decompressed<R> {
    pub(crate) fn compression(&self) -> Compression {
        match self {
            Decompressed::Raw(_) => Compression::None,
            Decompressed::Zstd(_) => Compression::Zstd,
            Decompressed::Gzip(_) => Compression::Gzip,
        }
    }
}

/// Which compression the first bytes announce.
pub fn detect(prefix: &[u8]) -> Compression {
    if prefix.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else if prefix.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else {
        Compression::None
    }
}

/// Reads up to four bytes to sniff the format, then puts them back in front of the stream.
/// `progress` tracks what is consumed from `inner`.
pub(crate) fn open<R: Read>(inner: R, progress: Arc<Progress>) -> io::Result<Decompressed<R>> {
    let mut counting = Counting { inner, progress };
    let mut prefix = [0u8; 4];
    let mut n = 0;
    while n < prefix.len() {
        match counting.read(&mut prefix[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let sniffed = Cursor::new(prefix[..n].to_vec()).chain(counting);
    Ok(match detect(&prefix[..n]) {
        Compression::None => Decompressed::Raw(BufReader::new(sniffed)),
        Compression::Zstd => {
            Decompressed::Zstd(BufReader::new(zstd::stream::read::Decoder::new(sniffed)?))
        }
        Compression::Gzip => {
            Decompressed::Gzip(BufReader::new(flate2::read::MultiGzDecoder::new(sniffed)))
        }
    })
}
