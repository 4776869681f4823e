//! An open table: footer, dictionary, index, filter and properties verified and held in
//! memory; data blocks read on demand, through the shared block cache when there is one.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::block::Block;
use super::block_iter::BlockIter;
use super::blockio::{MAX_BLOCK_LEN, TRAILER_LEN, read_block_bytes};
use super::dict::{DictDecoder, read_dictionary};
use super::filter::Filter;
use super::footer::{FOOTER_LEN, Footer};
use super::handle::BlockHandle;
use super::iter::TableIter;
use super::properties::TableProperties;
use crate::cache::{BlockCache, BlockKey};
use crate::error::{Error, IoContext, Result};
use crate::iter::InternalIterator;
use crate::key::{self, Kind, MAX_SEQNO};
use crate::storage::{RandomAccessFile, ReadRequest, read_batch};

/// One entry found by [`Table::get`].
#[derive(Debug, Clone, PartialEq)]
pub struct TableEntry {
    pub kind: u8,
    pub seq: u64,
    pub value: Vec<u8>,
}

/// A table opened for reading; shareable across threads.
pub struct Table {
    file: Arc<dyn RandomAccessFile>,
    name: Arc<str>,
    /// Everything before the footer: every block handle must point inside it.
    data_end: u64,
    index: Block,
    filter: Option<Filter>,
    props: TableProperties,
    /// Present exactly when the table is format version 2.
    dict: Option<DictDecoder>,
    /// Names this table's blocks in the cache; unique per process (never reused).
    file_number: u64,
    cache: Option<Arc<BlockCache>>,
    /// Index, filter and dictionary bytes held for the table's life, reported to the cache
    /// at open and withdrawn on drop.
    pinned_bytes: i64,
    blocks_read: AtomicU64,
    cache_hits: AtomicU64,
}

impl Drop for Table {
    fn drop(&mut self) {
        if let Some(cache) = &self.cache {
            cache.add_pinned(-self.pinned_bytes);
        }
    }
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("name", &self.name)
            .field("data_end", &self.data_end)
            .field("num_entries", &self.props.num_entries)
            .field("file_number", &self.file_number)
            .field("dict", &self.dict)
            .finish_non_exhaustive()
    }
}

impl Table {
    /// Reads and verifies footer, index, filter, properties (Corruption on any mismatch).
    /// Data blocks are read from the file every time; see [`Table::open_with_cache`].
    pub fn open(file: Arc<dyn RandomAccessFile>, name: String) -> Result<Table> {
        Table::open_with_cache(file, name, 0, None)
    }

    /// Like [`Table::open`], with data-block reads going through `cache` under
    /// `file_number`, which must be unique among the tables sharing the cache for the life
    /// of the process (the engine's file numbers are never reused). The dictionary, index
    /// and filter stay pinned in the table and are reported via [`BlockCache::add_pinned`].
    pub fn open_with_cache(
        file: Arc<dyn RandomAccessFile>,
        name: String,
        file_number: u64,
        cache: Option<Arc<BlockCache>>,
    ) -> Result<Table> {
        let name: Arc<str> = name.into();
        let len = file.len();
        let data_end = len.checked_sub(FOOTER_LEN as u64).ok_or_else(|| {
            Error::corruption(
                &*name,
                0,
                format!("{len}-byte file is too short for a table"),
            )
        })?;
        let footer_bytes = file
            .read_vec(data_end, FOOTER_LEN)
            .ctx(|| format!("reading the footer of {name}"))?;
        let footer = Footer::decode(&footer_bytes)
            .map_err(|(at, what)| Error::corruption(&*name, data_end + at as u64, what))?;

        // Footer::decode guarantees the handle is non-null exactly in version 2.
        let dict = if footer.dictionary.is_null() {
            None
        } else {
            Some(read_dictionary(&*file, &name, footer.dictionary, data_end)?)
        };
        let read =
            |h: BlockHandle| read_block_bytes(&*file, &name, h, data_end, MAX_BLOCK_LEN, None);
        let index_raw = read(footer.index)?;
        let mut pinned = index_raw.len() + dict.as_ref().map_or(0, DictDecoder::size_bytes);
        let index = Block::new(index_raw, name.clone(), footer.index.offset)?;
        let filter = if footer.filter.is_null() {
            None
        } else {
            let raw = read(footer.filter)?;
            pinned += raw.len();
            Some(Filter::decode(&raw).map_err(|e| {
                Error::corruption(&*name, footer.filter.offset, format!("filter: {e}"))
            })?)
        };
        let props_offset = footer.properties.offset;
        let props = TableProperties::decode(&read(footer.properties)?)
            .map_err(|e| Error::corruption(&*name, props_offset, format!("properties: {e}")))?;
        if props.format_version != footer.format_version {
            return Err(Error::corruption(
                &*name,
                props_offset,
                format!(
                    "properties say format version {}, footer says {}",
                    props.format_version, footer.format_version
                ),
            ));
        }
        // Bounded by the file size, so it fits an i64.
        let pinned_bytes = pinned as i64;
        if let Some(c) = &cache {
            c.add_pinned(pinned_bytes);
        }
        Ok(Table {
            file,
            name,
            data_end,
            index,
            filter,
            props,
            dict,
            file_number,
            cache,
            pinned_bytes,
            blocks_read: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn properties(&self) -> &TableProperties {
        &self.props
    }

    /// False only when the filter proves `user_key` absent.
    pub fn may_contain(&self, user_key: &[u8]) -> bool {
        self.filter.as_ref().is_none_or(|f| f.may_contain(user_key))
    }

    /// The single path for data-block reads.
    ///
    /// With a cache, the block is validated (checksum, decompression, restart array) inside
    /// the cache's load, so a corrupt block fails its load and is never cached: every retry
    /// reads the file again and fails again.
    fn read_block(&self, handle: BlockHandle) -> Result<Block> {
        let Some(cache) = &self.cache else {
            return Block::new(
                self.read_block_uncached(handle)?,
                self.name.clone(),
                handle.offset,
            );
        };
        let key = BlockKey {
            file: self.file_number,
            offset: handle.offset,
        };
        let mut loaded = None;
        let bytes = cache.get_or_load(key, || {
            let raw: Arc<[u8]> = self.read_block_uncached(handle)?.into();
            let block = Block::from_arc(Arc::clone(&raw), self.name.clone(), handle.offset)?;
            loaded = Some(block);
            Ok(raw)
        })?;
        match loaded {
            Some(block) => Ok(block),
            None => {
                self.cache_hits.fetch_add(1, Ordering::Relaxed);
                Block::from_cached(bytes, self.name.clone(), handle.offset)
            }
        }
    }

    /// Reads and decompresses one data block from the file, counting it in `blocks_read`.
    pub(super) fn read_block_uncached(&self, handle: BlockHandle) -> Result<Vec<u8>> {
        self.blocks_read.fetch_add(1, Ordering::Relaxed);
        read_block_bytes(
            &*self.file,
            &self.name,
            handle,
            self.data_end,
            MAX_BLOCK_LEN,
            self.dict.as_ref(),
        )
    }

    /// Every data-block handle in the index, in order.
    pub(super) fn data_block_handles(&self) -> Result<Vec<BlockHandle>> {
        let mut index = self.index_iter();
        let mut handles = Vec::new();
        index.seek_to_first()?;
        while index.valid() {
            handles.push(self.decode_handle(index.value())?);
            index.next()?;
        }
        Ok(handles)
    }

    fn decode_handle(&self, index_value: &[u8]) -> Result<BlockHandle> {
        BlockHandle::decode_varint(index_value).map_err(|e| {
            Error::corruption(&*self.name, self.index.offset, format!("index entry: {e}"))
        })
    }

    /// The data-block handle stored as an index value.
    pub(super) fn data_handle(&self, index_value: &[u8]) -> Result<BlockHandle> {
        self.decode_handle(index_value)
    }

    /// Decodes the data-block handle stored as an index value.
    pub(super) fn data_block(&self, index_value: &[u8]) -> Result<Block> {
        let handle = self.decode_handle(index_value)?;
        self.read_block(handle)
    }

    pub(super) fn index_iter(&self) -> BlockIter {
        BlockIter::new(self.index.clone())
    }

    /// The newest entry of `user_key` with seq <= snapshot (checks the bloom filter first, then one index search and one data block).
    pub fn get(&self, user_key: &[u8], snapshot: u64) -> Result<Option<TableEntry>> {
        self.get_target(
            user_key,
            &key::lookup_key(user_key, snapshot.min(MAX_SEQNO)),
        )
    }

    /// [`Table::get`] with its seek key already built (`lookup_key(user_key, snapshot)`),
    /// so a read that consults several tables builds it once.
    pub(crate) fn get_target(&self, user_key: &[u8], target: &[u8]) -> Result<Option<TableEntry>> {
        match self.locate_target(user_key, target)? {
            None => Ok(None),
            Some(h) => self.search_block(self.read_block(h)?, user_key, target),
        }
    }

    /// The data block [`Table::get`] would search for `user_key`, or `None` when the filter
    /// or the index rules the key out (no data-block I/O).
    pub(crate) fn locate(&self, user_key: &[u8], snapshot: u64) -> Result<Option<BlockHandle>> {
        self.locate_target(
            user_key,
            &key::lookup_key(user_key, snapshot.min(MAX_SEQNO)),
        )
    }

    fn locate_target(&self, user_key: &[u8], target: &[u8]) -> Result<Option<BlockHandle>> {
        if !self.may_contain(user_key) {
            return Ok(None);
        }
        let mut index = self.index_iter();
        index.seek(target)?;
        if !index.valid() {
            return Ok(None);
        }
        // The block whose separator is the first >= target holds the first key >= target,
        // unless that key has a different user key (then the answer is "absent" anyway).
        Ok(Some(self.decode_handle(index.value())?))
    }

    /// The second half of [`Table::get`]: searches `block` (from [`Table::locate`]).
    pub(crate) fn get_in_block(
        &self,
        block: Block,
        user_key: &[u8],
        snapshot: u64,
    ) -> Result<Option<TableEntry>> {
        let target = key::lookup_key(user_key, snapshot.min(MAX_SEQNO));
        self.search_block(block, user_key, &target)
    }

    fn search_block(
        &self,
        block: Block,
        user_key: &[u8],
        target: &[u8],
    ) -> Result<Option<TableEntry>> {
        let mut data = BlockIter::new(block);
        data.seek(target)?;
        if !data.valid() {
            return Ok(None);
        }
        let Some(found) = key::parse_internal_key(data.key()) else {
            return Ok(None);
        };
        if found.user_key != user_key {
            return Ok(None);
        }
        if Kind::from_u8(found.kind).is_none() {
            return Err(Error::corruption(
                &*self.name,
                data.block_offset(),
                format!("entry has unknown kind {}", found.kind),
            ));
        }
        if found.kind == Kind::PutExpiring as u8 && key::split_expiring(data.value()).is_none() {
            return Err(Error::corruption(
                &*self.name,
                data.block_offset(),
                "expiring entry is shorter than its 8-byte expiry",
            ));
        }
        Ok(Some(TableEntry {
            kind: found.kind,
            seq: found.seq,
            value: data.value().to_vec(),
        }))
    }

    /// Loads data blocks of one or more tables at once: blocks in the block cache are taken
    /// from it, the others are read with one [`read_batch`] (a single io_uring submission
    /// on [`crate::ReadPath::IoUring`]), verified exactly as [`Table::get`] verifies them,
    /// and cached. A block asked for twice is read once. Results are in request order.
    pub(crate) fn read_blocks(reqs: &[(&Table, BlockHandle)]) -> Vec<Result<Block>> {
        let mut out: Vec<Option<Result<Block>>> = Vec::with_capacity(reqs.len());
        // Misses to read: (table, handle, request indices waiting for it).
        let mut misses: Vec<(&Table, BlockHandle, Vec<usize>)> = Vec::new();
        let mut seen: HashMap<(*const Table, u64), usize> = HashMap::new();
        for (i, &(t, h)) in reqs.iter().enumerate() {
            if let Some(&m) = seen.get(&(t as *const Table, h.offset)) {
                misses[m].2.push(i);
                out.push(None);
                continue;
            }
            let key = BlockKey {
                file: t.file_number,
                offset: h.offset,
            };
            if let Some(bytes) = t.cache.as_ref().and_then(|c| c.get(&key)) {
                t.cache_hits.fetch_add(1, Ordering::Relaxed);
                out.push(Some(Block::from_cached(bytes, t.name.clone(), h.offset)));
                continue;
            }
            // A handle outside the data region is corrupt: the single-block path reports it
            // without reading.
            let framed = h.size.checked_add(TRAILER_LEN as u64);
            if framed.is_none_or(|n| h.offset.checked_add(n).is_none_or(|e| e > t.data_end)) {
                out.push(Some(t.read_block(h)));
                continue;
            }
            seen.insert((t as *const Table, h.offset), misses.len());
            misses.push((t, h, vec![i]));
            out.push(None);
        }
        let batch: Vec<ReadRequest<'_>> = misses
            .iter()
            .map(|&(t, h, _)| ReadRequest {
                file: &*t.file,
                offset: h.offset,
                // In range of the data region (checked above), so it fits.
                len: (h.size + TRAILER_LEN as u64) as usize,
            })
            .collect();
        for (raw, (t, h, waiting)) in read_batch(&batch).into_iter().zip(misses) {
            let block = match raw {
                Ok(bytes) => t.block_from_framed(h, bytes),
                // The single-block path rereads and reports the error with its context.
                Err(_) => t.read_block(h),
            };
            let mut waiting = waiting.into_iter();
            let last = waiting.next_back();
            for i in waiting {
                out[i] = Some(block.as_ref().map(Clone::clone).map_err(duplicate_error));
            }
            if let Some(i) = last {
                out[i] = Some(block);
            }
        }
        out.into_iter()
            .map(|b| b.expect("every request was answered"))
            .collect()
    }

    /// Verifies, decompresses and caches a block read by [`Table::read_blocks`], through the
    /// same checks as every other data-block read.
    fn block_from_framed(&self, h: BlockHandle, framed: Vec<u8>) -> Result<Block> {
        self.blocks_read.fetch_add(1, Ordering::Relaxed);
        let file = Prefetched {
            base: h.offset,
            bytes: framed,
        };
        let raw: Arc<[u8]> = read_block_bytes(
            &file,
            &self.name,
            h,
            self.data_end,
            MAX_BLOCK_LEN,
            self.dict.as_ref(),
        )?
        .into();
        let block = Block::from_arc(Arc::clone(&raw), self.name.clone(), h.offset)?;
        if let Some(cache) = &self.cache {
            cache.insert(
                BlockKey {
                    file: self.file_number,
                    offset: h.offset,
                },
                raw,
            );
        }
        Ok(block)
    }

    /// True when the file is read without kernel readahead (`O_DIRECT`), so sequential
    /// iterators should read ahead themselves.
    pub(super) fn wants_readahead(&self) -> bool {
        self.file.direct().is_some()
    }

    pub fn iter(self: &Arc<Self>) -> TableIter {
        TableIter::new(Arc::clone(self))
    }

    /// Data blocks read from the file since open: cache misses, or every read without a
    /// cache (index, filter, properties and dictionary are not counted).
    pub fn blocks_read(&self) -> u64 {
        self.blocks_read.load(Ordering::Relaxed)
    }

    /// Data-block reads served by the block cache since open (including waits on another
    /// reader's concurrent load of the same block).
    pub fn cache_hits(&self) -> u64 {
        self.cache_hits.load(Ordering::Relaxed)
    }

    /// The number naming this table's blocks in the cache (0 when opened without one).
    /// The codec id of every data block, in file order, each read after its block passed
    /// its checksum: lets tests and tools check which codec a table's blocks really use.
    pub fn data_block_codecs(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for h in self.data_block_handles()? {
            self.read_block_uncached(h)?;
            let b = self
                .file
                .read_vec(h.offset + h.size, 1)
                .ctx(|| format!("reading a block trailer of {}", self.name))?;
            out.push(b[0]);
        }
        Ok(out)
    }

    pub fn file_number(&self) -> u64 {
        self.file_number
    }
}

/// Bytes already read from `[base, base + bytes.len())` of a table, presented as a file so
/// that batched reads go through the very same [`read_block_bytes`] checks.
#[derive(Debug)]
struct Prefetched {
    base: u64,
    bytes: Vec<u8>,
}

impl RandomAccessFile for Prefetched {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        let start = offset
            .checked_sub(self.base)
            .and_then(|s| usize::try_from(s).ok());
        match start.and_then(|s| self.bytes.get(s..s.checked_add(buf.len())?)) {
            Some(src) => {
                buf.copy_from_slice(src);
                Ok(())
            }
            None => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "read outside the prefetched range",
            )),
        }
    }

    fn len(&self) -> u64 {
        self.base + self.bytes.len() as u64
    }
}

/// A copy of `e` for a second caller waiting on the same failed block read (`Error` is not
/// `Clone`): same variant, same file and offset, same OS error code.
fn duplicate_error(e: &Error) -> Error {
    match e {
        Error::Corruption { file, offset, what } => {
            Error::corruption(file.clone(), *offset, what.clone())
        }
        Error::Io { context, source } => Error::io(
            context.clone(),
            match source.raw_os_error() {
                Some(code) => std::io::Error::from_raw_os_error(code),
                None => std::io::Error::new(source.kind(), source.to_string()),
            },
        ),
        Error::InvalidArgument(m) => Error::InvalidArgument(m.clone()),
        other => Error::io(
            "reading a data block",
            std::io::Error::other(other.to_string()),
        ),
    }
}
