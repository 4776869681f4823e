//! Files on a volume: the writer (appends through an aligned tail buffer) and the reader
//! (positional reads mapped through the extent list).

use std::io;
use std::sync::Arc;

use crate::storage::aligned::AlignedBuf;
use crate::storage::uring::DirectFile;
use crate::storage::{RandomAccessFile, WritableFile};

use super::Inner;
use xxhash_rust::xxh3::Xxh3;

use super::alloc::Extent;
use super::device::{BLOCK, Device};
use super::tail::TailEntry;

/// Bytes a writer buffers before writing full blocks out (a multiple of [`BLOCK`]).
const BUFFER: usize = 256 << 10;
/// A writer's first buffer: most files (CURRENT, small tables) never need more.
const FIRST_BUFFER: usize = 16 << 10;

/// The device byte range holding `len` bytes at file offset `offset`, when they lie in one
/// extent.
fn map_contiguous(extents: &[Extent], offset: u64, len: u64) -> Option<u64> {
    let mut at = 0u64;
    for e in extents {
        let bytes = e.blocks * BLOCK;
        if offset < at + bytes {
            return (offset + len <= at + bytes).then(|| e.start * BLOCK + (offset - at));
        }
        at += bytes;
    }
    None
}

/// Device runs `(device offset, bytes)` covering file bytes `[offset, offset + len)`.
pub(super) fn map_runs(extents: &[Extent], offset: u64, len: u64) -> Vec<(u64, u64)> {
    let (mut out, mut at, end) = (Vec::new(), 0u64, offset + len);
    for e in extents {
        let bytes = e.blocks * BLOCK;
        let (lo, hi) = (offset.max(at), end.min(at + bytes));
        if lo < hi {
            out.push((e.start * BLOCK + (lo - at), hi - lo));
        }
        at += bytes;
        if at >= end {
            break;
        }
    }
    out
}

/// A file opened for reading: a fixed length over fixed extents.
#[derive(Debug)]
pub struct VolumeFile {
    pub(super) dev: Arc<dyn Device>,
    pub(super) len: u64,
    pub(super) extents: Vec<Extent>,
    /// Offer ranges to `read_batch` for io_uring batches (see `with_batched_reads`).
    pub(super) batched: bool,
}

impl RandomAccessFile for VolumeFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|e| e > self.len)
        {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "read of {} bytes at {offset} past the end ({})",
                    buf.len(),
                    self.len
                ),
            ));
        }
        let mut done = 0usize;
        for (dev_off, n) in map_runs(&self.extents, offset, buf.len() as u64) {
            let n = n as usize;
            self.dev.read_at(&mut buf[done..done + n], dev_off)?;
            done += n;
        }
        if done != buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "extents end before the file does",
            ));
        }
        Ok(())
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn direct(&self) -> Option<&DirectFile> {
        self.dev.direct()
    }

    fn direct_at(&self, offset: u64, len: usize) -> Option<(&DirectFile, u64)> {
        if !self.batched || offset.checked_add(len as u64).is_none_or(|e| e > self.len) {
            return None;
        }
        let d = self.dev.direct()?;
        map_contiguous(&self.extents, offset, len as u64).map(|o| (d, o))
    }
}

/// A running xxh3 (the hasher has no `Debug`).
struct Running(Xxh3);

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0.digest())
    }
}

/// A file being appended to. Data goes to the device in whole blocks; the last, partial
/// block is rewritten (same bytes, more of them) by each sync until it fills, which is safe
/// because a sector write leaves either the old or the new bytes and both agree on the
/// prefix already synced.
#[derive(Debug)]
pub struct VolumeWriter {
    vol: Arc<Inner>,
    id: u64,
    name: String,
    /// Bytes appended.
    len: u64,
    /// `buf[..buf_len]` are the file's bytes from `buf_start` (block-aligned) on.
    buf: AlignedBuf,
    buf_start: u64,
    buf_len: usize,
    /// This file's extents (the writer is their only mutator while it is attached).
    extents: Vec<Extent>,
    failed: Option<String>,
    /// The length the journal records (the last sync's), and xxh3 of the bytes after it:
    /// what a `flush` lists in the journal tail.
    synced_len: u64,
    unsynced: Running,
    /// Length at the last `flush` (a flush with nothing new does no I/O).
    flushed_len: u64,
}

impl VolumeWriter {
    pub(super) fn new(vol: Arc<Inner>, id: u64, name: &str) -> Self {
        VolumeWriter {
            vol,
            id,
            name: name.to_string(),
            len: 0,
            buf: AlignedBuf::new(FIRST_BUFFER),
            buf_start: 0,
            buf_len: 0,
            extents: Vec::new(),
            failed: None,
            synced_len: 0,
            unsynced: Running(Xxh3::new()),
            flushed_len: 0,
        }
    }

    fn check(&self) -> io::Result<()> {
        match &self.failed {
            Some(why) => Err(io::Error::other(why.clone())),
            None => Ok(()),
        }
    }

    fn capacity_blocks(&self) -> u64 {
        self.extents.iter().map(|e| e.blocks).sum()
    }

    /// Writes the buffered full blocks (and with `tail`, the partial last block, zero
    /// padded) to the device, and publishes the new length to readers.
    fn write_out(&mut self, tail: bool) -> io::Result<()> {
        let b = BLOCK as usize;
        let blocks = if tail {
            self.buf_len.div_ceil(b)
        } else {
            self.buf_len / b
        };
        if blocks == 0 {
            return Ok(());
        }
        let need = self.buf_start / BLOCK + blocks as u64;
        if need > self.capacity_blocks() {
            self.extents = self.vol.grow(self.id, &self.extents, need)?;
        }
        self.buf.as_mut_slice()[self.buf_len..blocks * b].fill(0);
        let mut done = 0usize;
        for (dev_off, n) in map_runs(&self.extents, self.buf_start, (blocks * b) as u64) {
            let n = n as usize;
            self.vol
                .dev
                .write_at(&self.buf.as_slice()[done..done + n], dev_off)?;
            done += n;
        }
        self.vol.note_data_written();
        let written = self.buf_start + self.buf_len as u64;
        // Keep the partial last block (if any) at the front of the buffer.
        let full = self.buf_len / b;
        if full > 0 {
            let rest = self.buf_len - full * b;
            self.buf
                .as_mut_slice()
                .copy_within(full * b..full * b + rest, 0);
            self.buf_start += (full * b) as u64;
            self.buf_len = rest;
        }
        self.vol.publish_len(self.id, written);
        Ok(())
    }

    fn fail<T>(&mut self, e: io::Error) -> io::Result<T> {
        self.failed = Some(format!("{}: an earlier write failed: {e}", self.name));
        Err(e)
    }
}

impl WritableFile for VolumeWriter {
    fn append(&mut self, mut data: &[u8]) -> io::Result<()> {
        self.check()?;
        // Blocks for the new bytes are taken now, as a file system's `write` takes them: a
        // full volume fails the append, with nothing appended (the writer stays usable),
        // rather than a later sync, which the engine must treat as fatal.
        let need = (self.len + data.len() as u64).div_ceil(BLOCK);
        if need > self.capacity_blocks() {
            self.extents = self.vol.grow(self.id, &self.extents, need)?;
        }
        while !data.is_empty() {
            if self.buf_len == self.buf.capacity() {
                if self.buf.capacity() < BUFFER {
                    let mut bigger = AlignedBuf::new(self.buf.capacity() * 2);
                    bigger.as_mut_slice()[..self.buf_len]
                        .copy_from_slice(&self.buf.as_slice()[..self.buf_len]);
                    self.buf = bigger;
                } else if let Err(e) = self.write_out(false) {
                    return self.fail(e);
                }
            }
            let room = self.buf.capacity() - self.buf_len;
            let n = room.min(data.len());
            self.buf.as_mut_slice()[self.buf_len..self.buf_len + n].copy_from_slice(&data[..n]);
            self.buf_len += n;
            self.len += n as u64;
            self.unsynced.0.update(&data[..n]);
            data = &data[n..];
        }
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.check()?;
        if let Err(e) = self.write_out(true) {
            return self.fail(e);
        }
        if let Err(e) = self.vol.sync_inode(self.id, self.len, &self.extents) {
            return self.fail(e);
        }
        self.synced_len = self.len;
        self.flushed_len = self.len;
        self.unsynced.0.reset();
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.check()?;
        if self.len == self.flushed_len {
            return Ok(());
        }
        if let Err(e) = self.write_out(true) {
            return self.fail(e);
        }
        let entry = TailEntry {
            id: self.id,
            from: self.synced_len,
            to: self.len,
            sum: self.unsynced.0.digest(),
            extents: self.extents.clone(),
        };
        match self.vol.flush_tail(entry) {
            Ok(true) => {
                self.flushed_len = self.len;
                Ok(())
            }
            // No room in the tail: a sync records the length in a commit instead.
            Ok(false) => self.sync(),
            Err(e) => self.fail(e),
        }
    }

    fn len(&self) -> u64 {
        self.len
    }
}

impl Drop for VolumeWriter {
    fn drop(&mut self) {
        // Unsynced bytes stay readable, as in a file system's page cache; durable only with
        // the next commit (which flushes the device first).
        let ok = self.failed.is_none() && self.write_out(true).is_ok();
        let len = if ok {
            self.len
        } else {
            self.vol.live_len(self.id)
        };
        self.vol.close_writer(self.id, len, &self.extents);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_over_extents() {
        let ex = [
            Extent {
                start: 10,
                blocks: 2,
            },
            Extent {
                start: 50,
                blocks: 1,
            },
        ];
        let b = BLOCK;
        assert_eq!(map_runs(&ex, 0, 10), vec![(10 * b, 10)]);
        assert_eq!(
            map_runs(&ex, 2 * b - 5, 10),
            vec![(12 * b - 5, 5), (50 * b, 5)]
        );
        assert_eq!(map_contiguous(&ex, b, b), Some(11 * b));
        assert_eq!(map_contiguous(&ex, b, b + 1), None);
        assert_eq!(map_contiguous(&ex, 2 * b, 100), Some(50 * b));
        assert_eq!(map_contiguous(&ex, 3 * b, 1), None);
    }
}
