//! Block compression codecs and their on-disk ids.
//!
//! The id byte in every block trailer names the codec, so a reader never guesses and a table
//! may mix codecs (blocks that do not shrink enough are stored raw). Ids are on-disk values:
//! never reuse one.

use super::dict::DictDecoder;

/// Id of a raw (uncompressed) block.
pub const CODEC_NONE: u8 = 0;
/// Id of an LZ4 block (lz4_flex block format, no size prefix).
pub const CODEC_LZ4: u8 = 1;
/// Id of a zstd frame; the level is a write-time choice and is not recorded.
pub const CODEC_ZSTD: u8 = 2;
/// Id of a zstd frame compressed with the table's dictionary (format version 2): the frame
/// header names the dictionary id, which must match the table's dictionary block.
pub const CODEC_ZSTD_DICT: u8 = 3;

/// How data blocks of a new table are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Store blocks raw.
    None,
    /// LZ4: fast, modest ratio; the default because reads dominate.
    Lz4,
    /// zstd at `level`: better ratio, slower to write. With `TableOptions::dictionary` set,
    /// data blocks use codec id 3 (zstd with the table's dictionary) instead.
    Zstd { level: i32 },
}

impl Codec {
    /// The id written in block trailers.
    pub fn id(&self) -> u8 {
        match self {
            Codec::None => CODEC_NONE,
            Codec::Lz4 => CODEC_LZ4,
            Codec::Zstd { .. } => CODEC_ZSTD,
        }
    }

    /// Compresses `raw`, or returns `None` when the codec is `None` or compression fails.
    /// Public for the codec benchmark and tools; tables call it per data block.
    pub fn compress(&self, raw: &[u8]) -> Option<Vec<u8>> {
        match self {
            Codec::None => None,
            Codec::Lz4 => Some(lz4_flex::block::compress(raw)),
            Codec::Zstd { level } => zstd_compress(raw, *level),
        }
    }
}

thread_local! {
    /// One zstd context per flush/compaction thread, kept across blocks: creating a context
    /// per block zeroed its whole workspace each time (`ZSTD_resetCCtx_internal` was 5.5% of
    /// the instructions of a SCIP ingest, flush included). Only its level changes between
    /// uses; the output is the same as a fresh context's.
    static ZSTD_CCTX: std::cell::RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
        const { std::cell::RefCell::new(None) };
}

fn zstd_compress(raw: &[u8], level: i32) -> Option<Vec<u8>> {
    ZSTD_CCTX.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        if !matches!(&*slot, Some((l, _)) if *l == level) {
            *slot = Some((level, zstd::bulk::Compressor::new(level).ok()?));
        }
        let (_, c) = slot.as_mut()?;
        c.compress(raw).ok()
    })
}

/// Decompresses a block payload written with codec `id` into exactly `len` bytes.
///
/// `len` comes from a checksummed trailer and has already been bounded by the caller, so the
/// output allocation is bounded too; a payload that decodes to any other size is an error.
/// `dict` is the table's dictionary when the block is a data block of a table that has one;
/// codec 3 anywhere else is corrupt. Public (as `sstable::decompress_block`) for the codec
/// benchmark and tools.
pub fn decompress(
    id: u8,
    payload: &[u8],
    len: usize,
    dict: Option<&DictDecoder>,
) -> Result<Vec<u8>, String> {
    match id {
        CODEC_NONE => {
            if payload.len() != len {
                return Err(format!(
                    "raw block of {} bytes claims length {len}",
                    payload.len()
                ));
            }
            Ok(payload.to_vec())
        }
        CODEC_LZ4 => {
            let mut out = vec![0; len];
            let n = lz4_flex::block::decompress_into(payload, &mut out)
                .map_err(|e| format!("lz4: {e}"))?;
            if n != len {
                return Err(format!("lz4 block decoded to {n} bytes, expected {len}"));
            }
            Ok(out)
        }
        CODEC_ZSTD => {
            let out = zstd::bulk::decompress(payload, len).map_err(|e| format!("zstd: {e}"))?;
            if out.len() != len {
                return Err(format!(
                    "zstd block decoded to {} bytes, expected {len}",
                    out.len()
                ));
            }
            Ok(out)
        }
        CODEC_ZSTD_DICT => match dict {
            Some(d) => d.decompress(payload, len),
            None => Err(
                "codec 3 (zstd with dictionary) outside a data block of a table with a dictionary"
                    .into(),
            ),
        },
        other => Err(format!("unknown codec id {other}")),
    }
}
