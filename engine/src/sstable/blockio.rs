//! On-disk block framing: `payload | codec u8 | uncompressed_len u32 LE | xxh3 u64 LE`.
//!
//! The checksum covers payload, codec byte and length, so a flipped codec id or length is
//! caught before anything is decompressed or allocated from it.

use super::codec::{self, CODEC_LZ4, CODEC_NONE, Codec};
use super::dict::DictDecoder;
use super::handle::BlockHandle;
use crate::checksum::xxh3_parts;
use crate::error::{Error, IoContext, Result};
use crate::storage::{RandomAccessFile, WritableFile};

/// Bytes after every block payload.
pub const TRAILER_LEN: usize = 13;

/// Largest uncompressed block a reader accepts (and a writer produces): one maximal entry
/// (`key::MAX_VALUE_LEN` plus key) fits with room to spare, and a hostile length can never
/// make a reader allocate more than this.
pub const MAX_BLOCK_LEN: usize = 1 << 30;

/// LZ4 cannot expand a payload by more than about 255x; a larger claimed length is corrupt.
const LZ4_MAX_RATIO: u64 = 256;

/// Compression must save at least 1/8 of the block to be worth the decompression on read.
fn worth_compressing(raw_len: usize, compressed_len: usize) -> bool {
    compressed_len < raw_len - raw_len / 8
}

/// Appends `raw` as one framed block (compressed with `codec` when that pays) and returns its
/// handle and the codec id actually used.
pub fn write_block(
    file: &mut dyn WritableFile,
    name: &str,
    raw: &[u8],
    codec: Codec,
) -> Result<(BlockHandle, u8)> {
    write_block_with(file, name, raw, codec.id(), |raw| codec.compress(raw))
}

/// Like [`write_block`] with a caller-supplied compressor whose output has codec id `id`
/// (the dictionary encoder is stateful, so it cannot be a [`Codec`] value).
pub fn write_block_with(
    file: &mut dyn WritableFile,
    name: &str,
    raw: &[u8],
    id: u8,
    compress: impl FnOnce(&[u8]) -> Option<Vec<u8>>,
) -> Result<(BlockHandle, u8)> {
    if raw.len() > MAX_BLOCK_LEN {
        return Err(Error::InvalidArgument(format!(
            "block of {} bytes exceeds the {MAX_BLOCK_LEN}-byte limit",
            raw.len()
        )));
    }
    let compressed = compress(raw).filter(|c| worth_compressing(raw.len(), c.len()));
    let (payload, id): (&[u8], u8) = match &compressed {
        Some(c) => (c, id),
        None => (raw, CODEC_NONE),
    };
    let len = (raw.len() as u32).to_le_bytes();
    let sum = xxh3_parts(&[payload, &[id], &len]);
    let offset = file.len();
    let mut trailer = [0u8; TRAILER_LEN];
    trailer[0] = id;
    trailer[1..5].copy_from_slice(&len);
    trailer[5..].copy_from_slice(&sum.to_le_bytes());
    file.append(payload)
        .ctx(|| format!("writing a block of {name}"))?;
    file.append(&trailer)
        .ctx(|| format!("writing a block trailer of {name}"))?;
    let handle = BlockHandle {
        offset,
        size: payload.len() as u64,
    };
    Ok((handle, id))
}

/// Reads, verifies and decompresses the block at `handle`, which must lie within the first
/// `data_end` bytes of the file (the region before the footer) and decompress to at most
/// `max_len` (≤ [`MAX_BLOCK_LEN`]) bytes. `dict` is passed only for data blocks of a table
/// with a dictionary: codec 3 is valid nowhere else.
pub fn read_block_bytes(
    file: &dyn RandomAccessFile,
    name: &str,
    handle: BlockHandle,
    data_end: u64,
    max_len: usize,
    dict: Option<&DictDecoder>,
) -> Result<Vec<u8>> {
    let max_len = max_len.min(MAX_BLOCK_LEN);
    let corrupt = |what: String| Error::corruption(name, handle.offset, what);
    let framed_len = handle
        .size
        .checked_add(TRAILER_LEN as u64)
        .filter(|&n| {
            handle
                .offset
                .checked_add(n)
                .is_some_and(|end| end <= data_end)
        })
        .ok_or_else(|| {
            corrupt(format!(
                "block handle (offset {}, size {}) outside the {data_end}-byte data region",
                handle.offset, handle.size
            ))
        })?;
    // In range of the file, so the allocation is bounded by the file size.
    let framed_len = usize::try_from(framed_len).map_err(|_| corrupt("block too large".into()))?;
    let buf = file
        .read_vec(handle.offset, framed_len)
        .ctx(|| format!("reading a block of {name} at {}", handle.offset))?;
    let (payload, trailer) = buf.split_at(framed_len - TRAILER_LEN);
    let id = trailer[0];
    let len_bytes = &trailer[1..5];
    let stored = u64::from_le_bytes(trailer[5..].try_into().expect("8 bytes"));
    let actual = xxh3_parts(&[payload, &[id], len_bytes]);
    if stored != actual {
        return Err(corrupt(format!(
            "block checksum mismatch (stored {stored:#018x}, computed {actual:#018x})"
        )));
    }
    let len = u32::from_le_bytes(len_bytes.try_into().expect("4 bytes")) as usize;
    if len > max_len {
        return Err(corrupt(format!(
            "uncompressed length {len} exceeds the {max_len}-byte limit"
        )));
    }
    if id == CODEC_LZ4 && len as u64 > (payload.len() as u64).saturating_mul(LZ4_MAX_RATIO) {
        return Err(corrupt(format!(
            "lz4 block of {} bytes cannot expand to {len}",
            payload.len()
        )));
    }
    if id == CODEC_NONE {
        // Reuse the read buffer: raw blocks are the common case for incompressible data.
        if len != payload.len() {
            return Err(corrupt(format!(
                "raw block of {} bytes claims length {len}",
                payload.len()
            )));
        }
        let mut buf = buf;
        buf.truncate(len);
        return Ok(buf);
    }
    codec::decompress(id, payload, len, dict).map_err(corrupt)
}
