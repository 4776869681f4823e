//! An open table: footer, dictionary, index, filter and properties verified and held in
//! memory; data blocks read on demand, through the shared block cache when there is one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::block::Block;
use super::block_iter::BlockIter;
use super::blockio::{MAX_BLOCK_LEN, read_block_bytes};
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
use crate::storage::RandomAccessFile;

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
        let mut pinned = index_raw.len() + dict.as_ref().map_or(0, |d| d.len());
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
                Block::from_arc(bytes, self.name.clone(), handle.offset)
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
        if !self.may_contain(user_key) {
            return Ok(None);
        }
        let target = key::lookup_key(user_key, snapshot.min(MAX_SEQNO));
        let mut index = self.index_iter();
        index.seek(&target)?;
        if !index.valid() {
            return Ok(None);
        }
        // The block whose separator is the first >= target holds the first key >= target,
        // unless that key has a different user key (then the answer is "absent" anyway).
        let mut data = BlockIter::new(self.data_block(index.value())?);
        data.seek(&target)?;
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
        Ok(Some(TableEntry {
            kind: found.kind,
            seq: found.seq,
            value: data.value().to_vec(),
        }))
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
