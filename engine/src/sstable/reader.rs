//! An open table: footer, index, filter and properties verified and held in memory; data
//! blocks read on demand.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::block::Block;
use super::block_iter::BlockIter;
use super::blockio::read_block_bytes;
use super::filter::Filter;
use super::footer::{FOOTER_LEN, Footer};
use super::handle::BlockHandle;
use super::iter::TableIter;
use super::properties::TableProperties;
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
    blocks_read: AtomicU64,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("name", &self.name)
            .field("data_end", &self.data_end)
            .field("num_entries", &self.props.num_entries)
            .finish_non_exhaustive()
    }
}

impl Table {
    /// Reads and verifies footer, index, filter, properties (Corruption on any mismatch).
    pub fn open(file: Arc<dyn RandomAccessFile>, name: String) -> Result<Table> {
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

        let read = |h: BlockHandle| read_block_bytes(&*file, &name, h, data_end);
        let index = Block::new(read(footer.index)?, name.clone(), footer.index.offset)?;
        let filter = if footer.filter.is_null() {
            None
        } else {
            let raw = read(footer.filter)?;
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
        Ok(Table {
            file,
            name,
            data_end,
            index,
            filter,
            props,
            blocks_read: AtomicU64::new(0),
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

    /// The single path for data-block reads, so a block cache can be slotted in here.
    fn read_block(&self, handle: BlockHandle) -> Result<Block> {
        self.blocks_read.fetch_add(1, Ordering::Relaxed);
        let raw = read_block_bytes(&*self.file, &self.name, handle, self.data_end)?;
        Block::new(raw, self.name.clone(), handle.offset)
    }

    /// Decodes the data-block handle stored as an index value.
    pub(super) fn data_block(&self, index_value: &[u8]) -> Result<Block> {
        let handle = BlockHandle::decode_varint(index_value).map_err(|e| {
            Error::corruption(&*self.name, self.index.offset, format!("index entry: {e}"))
        })?;
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

    /// Data blocks read since open (index, filter and properties are not counted).
    pub fn blocks_read(&self) -> u64 {
        self.blocks_read.load(Ordering::Relaxed)
    }
}
