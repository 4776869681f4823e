//! Writes a table: data blocks as keys arrive, then filter, index, properties and footer.

use std::cmp::Ordering;

use super::Codec;
use super::block::BlockBuilder;
use super::blockio::{TRAILER_LEN, write_block, write_block_with};
use super::codec::CODEC_ZSTD_DICT;
use super::dict::DictEncoder;
use super::filter::FilterBuilder;
use super::footer::{FORMAT_VERSION, FORMAT_VERSION_DICT, Footer};
use super::handle::BlockHandle;
use super::properties::TableProperties;
use super::separator::{separator, successor};
use super::{TableOptions, TableSummary};
use crate::error::{Error, IoContext, Result};
use crate::key::{self, Kind, MAX_KEY_LEN, MAX_VALUE_LEN, TRAILER_LEN as KEY_TRAILER_LEN};
use crate::storage::WritableFile;

/// Largest data block size accepted from options; bigger blocks only hurt point reads.
const MAX_BLOCK_SIZE: usize = 64 << 20;

/// Builds one table file. After an error the builder is unusable and the file must be removed.
#[derive(Debug)]
pub struct TableBuilder {
    file: Box<dyn WritableFile>,
    name: String,
    opts: TableOptions,
    data: BlockBuilder,
    index: BlockBuilder,
    filter: Option<FilterBuilder>,
    /// Handle of the last flushed data block, indexed once the next key (or the end) is known
    /// so the index key can be a short separator.
    pending: Option<BlockHandle>,
    last_key: Vec<u8>,
    props: TableProperties,
    /// Compresses data blocks when the table has a dictionary (prepared once: digesting a
    /// dictionary per block would dominate the cost of small blocks).
    dict: Option<DictEncoder>,
    /// Why the options' dictionary is unusable; reported by the first `add` or `finish`.
    dict_error: Option<String>,
    failed: bool,
}

impl TableBuilder {
    pub fn new(file: Box<dyn WritableFile>, name: String, mut opts: TableOptions) -> TableBuilder {
        opts.block_size = opts.block_size.clamp(1, MAX_BLOCK_SIZE);
        opts.restart_interval = opts.restart_interval.max(1);
        opts.bloom_bits_per_key = opts.bloom_bits_per_key.min(super::filter::MAX_BITS_PER_KEY);
        let filter =
            (opts.bloom_bits_per_key > 0).then(|| FilterBuilder::new(opts.bloom_bits_per_key));
        let (dict, dict_error) = match (&opts.codec, &opts.dictionary) {
            (Codec::Zstd { level }, Some(d)) => match DictEncoder::new(d, *level) {
                Ok(e) => (Some(e), None),
                Err(e) => (None, Some(e)),
            },
            _ => (None, None),
        };
        let (codec_id, format_version) = match dict {
            Some(_) => (CODEC_ZSTD_DICT, FORMAT_VERSION_DICT),
            None => (opts.codec.id(), FORMAT_VERSION),
        };
        let props = TableProperties {
            codec_id,
            bloom_bits_per_key: opts.bloom_bits_per_key,
            format_version,
            smallest_seq: u64::MAX,
            ..TableProperties::default()
        };
        TableBuilder {
            data: BlockBuilder::new(opts.restart_interval),
            // Every index entry is a restart point, so index seeks are a pure binary search.
            index: BlockBuilder::new(1),
            file,
            name,
            opts,
            filter,
            pending: None,
            last_key: Vec::new(),
            props,
            dict,
            dict_error,
            failed: false,
        }
    }

    fn check_usable(&self) -> Result<()> {
        if let Some(e) = &self.dict_error {
            return Err(Error::InvalidArgument(format!(
                "unusable dictionary for {}: {e}",
                self.name
            )));
        }
        if self.failed {
            return Err(Error::InvalidArgument(format!(
                "table builder for {} already failed",
                self.name
            )));
        }
        Ok(())
    }

    /// `ikey` strictly increasing by compare_internal (debug_assert it; return InvalidArgument in release).
    pub fn add(&mut self, ikey: &[u8], value: &[u8]) -> Result<()> {
        self.check_usable()?;
        let Some(parsed) = key::parse_internal_key(ikey) else {
            return Err(Error::InvalidArgument(format!(
                "internal key of {} bytes is shorter than its trailer",
                ikey.len()
            )));
        };
        if parsed.user_key.len() > MAX_KEY_LEN || value.len() > MAX_VALUE_LEN {
            return Err(Error::InvalidArgument(format!(
                "key of {} bytes or value of {} bytes exceeds the limits",
                parsed.user_key.len(),
                value.len()
            )));
        }
        if self.props.num_entries > 0 {
            let order = key::compare_internal(&self.last_key, ikey);
            debug_assert_eq!(order, Ordering::Less, "keys added out of order");
            if order != Ordering::Less {
                return Err(Error::InvalidArgument(
                    "table keys must be strictly increasing".into(),
                ));
            }
        }
        if let Some(handle) = self.pending.take() {
            let sep = separator(&self.last_key, ikey);
            self.add_index_entry(&sep, handle);
        }
        if let Some(f) = &mut self.filter {
            let new_user_key =
                self.props.num_entries == 0 || key::user_key(&self.last_key) != parsed.user_key;
            if new_user_key {
                f.add(parsed.user_key);
            }
        }
        self.data.add(ikey, value);
        let p = &mut self.props;
        if p.num_entries == 0 {
            p.smallest_key = ikey.to_vec();
        }
        p.num_entries += 1;
        if parsed.kind == Kind::Delete as u8 {
            p.num_deletions += 1;
        }
        p.raw_key_bytes += ikey.len() as u64;
        p.raw_value_bytes += value.len() as u64;
        p.smallest_seq = p.smallest_seq.min(parsed.seq);
        p.largest_seq = p.largest_seq.max(parsed.seq);
        self.last_key.clear();
        self.last_key.extend_from_slice(ikey);
        if self.data.estimated_size() >= self.opts.block_size {
            self.flush_data()?;
        }
        Ok(())
    }

    fn add_index_entry(&mut self, key: &[u8], handle: BlockHandle) {
        let mut v = Vec::with_capacity(20);
        handle.encode_varint(&mut v);
        self.index.add(key, &v);
    }

    fn write(&mut self, raw: &[u8], codec: Codec) -> Result<BlockHandle> {
        let written = write_block(&mut *self.file, &self.name, raw, codec);
        self.check_written(written)
    }

    fn check_written(&mut self, written: Result<(BlockHandle, u8)>) -> Result<BlockHandle> {
        match written {
            Ok((h, _)) => Ok(h),
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    fn flush_data(&mut self) -> Result<()> {
        if self.data.is_empty() {
            return Ok(());
        }
        let raw = self.data.finish();
        let handle = match &mut self.dict {
            Some(enc) => {
                let written =
                    write_block_with(&mut *self.file, &self.name, &raw, CODEC_ZSTD_DICT, |raw| {
                        enc.compress(raw)
                    });
                self.check_written(written)?
            }
            None => self.write(&raw, self.opts.codec)?,
        };
        self.props.num_data_blocks += 1;
        self.props.data_bytes += handle.size + TRAILER_LEN as u64;
        self.pending = Some(handle);
        Ok(())
    }

    pub fn estimated_size(&self) -> u64 {
        let filter = self.filter.as_ref().map_or(0, |f| f.estimated_size());
        // The dictionary is written at finish; counting it now keeps size-based cuts honest.
        let dict = match (&self.dict, &self.opts.dictionary) {
            (Some(_), Some(d)) => d.len(),
            _ => 0,
        };
        self.file.len()
            + (self.data.estimated_size() + self.index.estimated_size() + filter + dict) as u64
    }

    pub fn num_entries(&self) -> u64 {
        self.props.num_entries
    }

    /// Writes filter, index, properties, footer; then syncs the file (fsync). Errors if no entries were added.
    pub fn finish(mut self) -> Result<TableSummary> {
        self.check_usable()?;
        if self.props.num_entries == 0 {
            return Err(Error::InvalidArgument(format!(
                "table {} has no entries",
                self.name
            )));
        }
        self.flush_data()?;
        if let Some(handle) = self.pending.take() {
            let sep = successor(&self.last_key);
            self.add_index_entry(&sep, handle);
        }
        debug_assert!(self.last_key.len() >= KEY_TRAILER_LEN);
        self.props.largest_key = std::mem::take(&mut self.last_key);
        // Metadata blocks never use the dictionary: they are read at open, and codec 3 is
        // valid only in data blocks. The dictionary itself is stored raw (see
        // format-spec/sstable.md) so loading it costs no decompression.
        let codec = self.opts.codec;
        let dictionary = match (&self.dict, self.opts.dictionary.clone()) {
            (Some(_), Some(bytes)) => self.write(&bytes, Codec::None)?,
            _ => BlockHandle::default(),
        };
        let filter = match self.filter.take() {
            Some(f) => self.write(&f.finish(), codec)?,
            None => BlockHandle::default(),
        };
        let index_raw = self.index.finish();
        let index = self.write(&index_raw, codec)?;
        let properties = self.write(&self.props.encode(), codec)?;
        let footer = Footer {
            index,
            filter,
            properties,
            dictionary,
            format_version: self.props.format_version,
        };
        let name = &self.name;
        self.file
            .append(&footer.encode())
            .ctx(|| format!("writing the footer of {name}"))?;
        self.file.sync().ctx(|| format!("syncing {name}"))?;
        Ok(TableSummary {
            file_size: self.file.len(),
            props: self.props,
        })
    }
}
