//! zstd dictionaries: training from sampled data blocks, and the prepared encoder/decoder
//! forms a builder and a reader keep for the life of one table.
//!
//! A table written with a dictionary stores it once, as its own checksummed block (the
//! footer's dictionary handle), and every data block compressed with it carries codec id 3.
//! Small blocks (4–16 KiB) of SCIP data repeat the same symbol prefixes and protobuf field
//! layout across blocks, which a per-block zstd frame cannot see; a dictionary trained on
//! blocks of the same data supplies that shared context.

use std::num::NonZeroU32;

use zstd::zstd_safe::{self, CCtx, CDict, DCtx, DDict};

use super::block::BlockBuilder;
use super::blockio::read_block_bytes;
use super::reader::Table;
use crate::error::{Error, Result};
use crate::iter::InternalIterator;

/// Largest dictionary a writer accepts and a reader loads: bounds what a hostile dictionary
/// handle can make `Table::open` allocate, and is far above useful sizes (zstd's own
/// default is 110 KB; gains flatten well before 1 MiB).
pub const MAX_DICTIONARY_LEN: usize = 1 << 20;

/// zstd refuses to train dictionaries smaller than this (`ZDICT_DICTSIZE_MIN`).
pub const MIN_DICTIONARY_LEN: usize = 256;

/// Trains a zstd dictionary of at most `max_size` bytes from `samples` (typically the
/// decompressed data blocks returned by [`sample_blocks`]).
///
/// Fails with `InvalidArgument` when zstd cannot train one, which happens with too few or
/// too small samples (roughly: fewer than a few dozen, or less total data than about ten
/// times `max_size`). Callers should then write the table with plain zstd: a dictionary is
/// an optimisation, never a requirement.
pub fn train_dictionary<S: AsRef<[u8]>>(samples: &[S], max_size: usize) -> Result<Vec<u8>> {
    if !(MIN_DICTIONARY_LEN..=MAX_DICTIONARY_LEN).contains(&max_size) {
        return Err(Error::InvalidArgument(format!(
            "dictionary size {max_size} outside {MIN_DICTIONARY_LEN}..={MAX_DICTIONARY_LEN}"
        )));
    }
    if samples.is_empty() {
        return Err(Error::InvalidArgument(
            "no samples to train a dictionary from".into(),
        ));
    }
    let dict = zstd::dict::from_samples(samples, max_size).map_err(|e| {
        Error::InvalidArgument(format!(
            "zstd could not train a dictionary from {} samples: {e}",
            samples.len()
        ))
    })?;
    // Trained dictionaries always carry an id; checking it here means a table can never be
    // written with a dictionary its reader would reject.
    if dictionary_id(&dict).is_none() {
        return Err(Error::InvalidArgument(
            "zstd produced a dictionary without an id".into(),
        ));
    }
    Ok(dict)
}

/// The id in a zstd dictionary's header, or `None` for anything that is not a zstd-format
/// dictionary (raw-content dictionaries have no id, so frames could not reference them).
pub fn dictionary_id(dict: &[u8]) -> Option<NonZeroU32> {
    zstd_safe::get_dict_id_from_dict(dict)
}

/// Up to `max_samples` decompressed data blocks of `table`, evenly spread over it (all of
/// them when it has fewer), for [`train_dictionary`].
///
/// Reads bypass the block cache: a compaction samples each input once, and those blocks
/// must not push hot blocks out. They do count in [`Table::blocks_read`].
pub fn sample_blocks(table: &Table, max_samples: usize) -> Result<Vec<Vec<u8>>> {
    let handles = table.data_block_handles()?;
    let n = handles.len();
    let k = max_samples.min(n);
    // i*n/k is strictly increasing in i when k <= n, so no block is picked twice.
    (0..k)
        .map(|i| table.read_block_uncached(handles[i * n / k]))
        .collect()
}

/// Up to `max_samples` data blocks as a table builder would cut them from `it` (entries in
/// table order, about `approx_bytes` of them), evenly spread, for [`train_dictionary`]
/// before the table exists: a memtable flush trains its table's dictionary this way. Only
/// the sampled blocks are built; the entries between them are just counted.
pub fn sample_entry_blocks(
    it: &mut dyn InternalIterator,
    block_size: usize,
    restart_interval: usize,
    approx_bytes: usize,
    max_samples: usize,
) -> Result<Vec<Vec<u8>>> {
    let block_size = block_size.max(1);
    let stride = (approx_bytes / block_size / max_samples.max(1)).max(1);
    let mut samples = Vec::new();
    let mut b = BlockBuilder::new(restart_interval);
    let (mut block, mut skipped) = (0usize, 0usize);
    it.seek_to_first()?;
    while it.valid() && samples.len() < max_samples {
        if block % stride == 0 {
            b.add(it.key(), it.value());
            if b.estimated_size() >= block_size {
                samples.push(b.finish());
                block += 1;
            }
        } else {
            skipped += it.key().len() + it.value().len();
            if skipped >= block_size {
                skipped = 0;
                block += 1;
            }
        }
        it.next()?;
    }
    if !b.is_empty() && samples.len() < max_samples {
        samples.push(b.finish());
    }
    Ok(samples)
}

/// A dictionary prepared for compression at one level; one per table builder, because
/// preparing a CDict digests the whole dictionary (costly at high levels).
pub struct DictEncoder {
    cctx: CCtx<'static>,
    cdict: CDict<'static>,
    id: NonZeroU32,
}

impl std::fmt::Debug for DictEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DictEncoder").field("id", &self.id).finish()
    }
}

impl DictEncoder {
    /// Errors (as text, for an `InvalidArgument`) when `dict` is too large, has no zstd
    /// dictionary id, or zstd cannot load it.
    pub fn new(dict: &[u8], level: i32) -> std::result::Result<DictEncoder, String> {
        if dict.len() > MAX_DICTIONARY_LEN {
            return Err(format!(
                "dictionary of {} bytes exceeds the {MAX_DICTIONARY_LEN}-byte limit",
                dict.len()
            ));
        }
        let id = dictionary_id(dict).ok_or("dictionary is not a zstd dictionary with an id")?;
        let cdict = CDict::try_create(dict, level).ok_or("zstd cannot load the dictionary")?;
        let cctx = CCtx::try_create().ok_or("zstd cannot create a compression context")?;
        Ok(DictEncoder { cctx, cdict, id })
    }

    /// One zstd frame of `raw` referencing this dictionary by id, or `None` if zstd fails
    /// (the block is then stored raw).
    pub fn compress(&mut self, raw: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(zstd_safe::compress_bound(raw.len()));
        self.cctx
            .compress_using_cdict(&mut out, raw, &self.cdict)
            .ok()?;
        // Frames written from a CDict carry its id by default; the reader insists on it.
        debug_assert_eq!(zstd_safe::get_dict_id_from_frame(&out), Some(self.id));
        Some(out)
    }
}

thread_local! {
    /// One decompression context per thread, reused across blocks and tables: a context is
    /// ~100 KB, and allocating one per 4 KiB block would cost more than decoding it.
    static DCTX: std::cell::RefCell<Option<DCtx<'static>>> = const { std::cell::RefCell::new(None) };
}

/// A table's dictionary prepared for decompression once at open, shared by all reads.
pub struct DictDecoder {
    ddict: DDict<'static>,
    id: NonZeroU32,
    len: usize,
}

impl std::fmt::Debug for DictDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DictDecoder")
            .field("id", &self.id)
            .field("len", &self.len)
            .finish()
    }
}

impl DictDecoder {
    /// Validates a dictionary block's contents (errors as text, for a Corruption).
    pub fn new(dict: &[u8]) -> std::result::Result<DictDecoder, String> {
        if dict.len() > MAX_DICTIONARY_LEN {
            return Err(format!(
                "dictionary of {} bytes exceeds the {MAX_DICTIONARY_LEN}-byte limit",
                dict.len()
            ));
        }
        let id = dictionary_id(dict).ok_or("dictionary block is not a zstd dictionary")?;
        let ddict = DDict::try_create(dict).ok_or("zstd cannot load the dictionary block")?;
        Ok(DictDecoder {
            ddict,
            id,
            len: dict.len(),
        })
    }

    /// Dictionary bytes, for memory accounting.
    pub fn size_bytes(&self) -> usize {
        self.len
    }

    /// Decodes one codec-3 payload into exactly `len` bytes. The frame must name this
    /// dictionary's id: a frame without one would otherwise decode against the dictionary
    /// silently, and one with another id was written for a different dictionary.
    pub fn decompress(&self, payload: &[u8], len: usize) -> std::result::Result<Vec<u8>, String> {
        match zstd_safe::get_dict_id_from_frame(payload) {
            Some(id) if id == self.id => {}
            Some(id) => {
                return Err(format!(
                    "block references dictionary {id}, the table's is {}",
                    self.id
                ));
            }
            None => return Err("codec-3 block does not reference a dictionary id".into()),
        }
        // `len` is bounded by the caller, and zstd writes no more than the capacity.
        let mut out = Vec::with_capacity(len);
        DCTX.with_borrow_mut(|slot| {
            if slot.is_none() {
                *slot = DCtx::try_create();
            }
            let dctx = slot
                .as_mut()
                .ok_or("zstd cannot create a decompression context")?;
            // Every call starts a new frame, so an earlier failure leaves no state behind.
            dctx.decompress_using_ddict(&mut out, payload, &self.ddict)
                .map_err(|code| format!("zstd: {}", zstd_safe::get_error_name(code)))
        })?;
        if out.len() != len {
            return Err(format!(
                "zstd block decoded to {} bytes, expected {len}",
                out.len()
            ));
        }
        Ok(out)
    }
}

/// Reads a dictionary block for [`Table::open`]: bounded before anything is read.
pub(crate) fn read_dictionary(
    file: &dyn crate::storage::RandomAccessFile,
    name: &str,
    handle: super::handle::BlockHandle,
    data_end: u64,
) -> Result<DictDecoder> {
    let corrupt = |what: String| Error::corruption(name, handle.offset, what);
    // Compression only ever shrinks a stored block, so a payload above the limit can only be
    // corrupt; checking first avoids reading it. The uncompressed length is bounded too,
    // before anything is allocated from it.
    if handle.size > MAX_DICTIONARY_LEN as u64 {
        return Err(corrupt(format!(
            "dictionary block of {} bytes exceeds the {MAX_DICTIONARY_LEN}-byte limit",
            handle.size
        )));
    }
    let raw = read_block_bytes(file, name, handle, data_end, MAX_DICTIONARY_LEN, None)?;
    DictDecoder::new(&raw).map_err(|e| corrupt(format!("dictionary: {e}")))
}
