//! Streaming reader for SCIP indexes: one top-level item at a time.
//!
//! Real indexes reach several GB, so the `Index` message is never decoded whole. Its fields are
//! walked by hand (tag, length, payload) and each payload is decoded with prost on its own;
//! peak memory is one item plus a reused buffer. See `NOTES.md` §1 for the schema.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use prost::Message;

use super::compression::{self, Compression, Decompressed, Progress};
use super::error::ScipError;
use super::proto::{Document, Metadata, SymbolInformation};
use super::wire::{self, WireReader};

/// Largest single top-level item accepted by default. Generous because a generated file can
/// produce a huge `Document`, but bounded so a corrupt length prefix fails fast.
pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 1 << 30;

const FIELD_METADATA: u64 = 1;
const FIELD_DOCUMENTS: u64 = 2;
const FIELD_EXTERNAL_SYMBOLS: u64 = 3;

/// One field value of the top-level `Index` message.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexItem {
    Metadata(Metadata),
    Document(Document),
    ExternalSymbol(SymbolInformation),
}

/// Reads an index from any byte stream, raw, zstd or gzip (detected from the magic bytes).
#[derive(Debug)]
pub struct IndexReader<R: Read> {
    wire: WireReader<Decompressed<R>>,
    progress: Arc<Progress>,
    max_message_size: u64,
    buf: Vec<u8>,
    max_item_bytes: usize,
    failed: bool,
}

/// A top-level item with documents left undecoded; see [`IndexReader::next_raw`].
#[derive(Debug, Clone, PartialEq)]
pub enum RawItem<'a> {
    Metadata(Metadata),
    Document { payload: &'a [u8], offset: u64 },
    ExternalSymbol(SymbolInformation),
}

impl<R: Read> IndexReader<R> {
    /// Sniffs the compression (reads up to 4 bytes) and prepares to stream items.
    pub fn new(r: R) -> Result<Self, ScipError> {
        let progress = Arc::new(Progress::default());
        let stream = compression::open(r, Arc::clone(&progress))?;
        Ok(IndexReader {
            wire: WireReader::new(stream),
            progress,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            buf: Vec::new(),
            max_item_bytes: 0,
            failed: false,
        })
    }

    /// Sets the largest accepted item (one `Metadata`, `Document` or external symbol), in bytes.
    pub fn with_max_message_size(mut self, max: u64) -> Self {
        self.max_message_size = max;
        self
    }

    /// The compression detected from the first bytes.
    pub fn compression(&self) -> Compression {
        self.wire.inner().compression()
    }

    /// Bytes consumed from the caller's reader, i.e. compressed bytes for compressed input.
    /// Decompressors read ahead, so this runs up to one internal buffer (~128 KiB) ahead of the
    /// item last returned; good for progress reports, not for seeking.
    pub fn bytes_read(&self) -> u64 {
        self.progress.bytes.load(Ordering::Relaxed)
    }

    /// Decompressed bytes of the `Index` message consumed so far; error offsets use this scale.
    pub fn decompressed_offset(&self) -> u64 {
        self.wire.pos()
    }

    /// The protobuf bytes of the item [`IndexReader::next_item`] returned last, exactly as
    /// they were in the index: what the SCIP store hashes for a document's content address,
    /// without encoding the decoded document again.
    pub fn last_payload(&self) -> &[u8] {
        &self.buf
    }

    /// The largest item payload buffered so far: the reader's peak memory, less decoding.
    pub fn max_item_bytes(&self) -> usize {
        self.max_item_bytes
    }

    /// The next top-level item, or `None` at the end of the index. After an error the stream
    /// position is unknown, so later calls fail again instead of guessing where items resume.
    pub fn next_item(&mut self) -> Result<Option<IndexItem>, ScipError> {
        let Some((field, pos)) = self.next_field()? else {
            return Ok(None);
        };
        self.guard(decode(field, &self.buf, pos)).map(Some)
    }

    /// As [`IndexReader::next_item`], but a document comes back undecoded, as its protobuf
    /// bytes and their offset, for [`super::docview::DocumentView::decode`]: ingest never
    /// holds prost's form of a document, which is ~4x its encoded size.
    pub fn next_raw(&mut self) -> Result<Option<RawItem<'_>>, ScipError> {
        let Some((field, pos)) = self.next_field()? else {
            return Ok(None);
        };
        if field == FIELD_DOCUMENTS {
            return Ok(Some(RawItem::Document {
                payload: &self.buf,
                offset: pos,
            }));
        }
        let item = if field == FIELD_METADATA {
            decode_as(&self.buf, pos, "Index.metadata").map(RawItem::Metadata)
        } else {
            decode_as(&self.buf, pos, "Index.external_symbols").map(RawItem::ExternalSymbol)
        };
        self.guard(item).map(Some)
    }

    /// Marks the reader failed if `r` is an error.
    fn guard<T>(&mut self, r: Result<T, ScipError>) -> Result<T, ScipError> {
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    /// Reads the next known field's payload into `self.buf`: its field number and offset.
    fn next_field(&mut self) -> Result<Option<(u64, u64)>, ScipError> {
        if self.failed {
            return Err(ScipError::malformed(
                self.wire.pos(),
                "reader already failed; the stream position is unknown",
            ));
        }
        let result = self.read_field();
        if result.is_err() {
            self.failed = true;
        }
        result.map_err(|e| self.classify(e))
    }

    /// An I/O error that did not come from the caller's reader came from the decompressor,
    /// which means corrupt compressed data: report it as `Malformed`.
    fn classify(&self, e: ScipError) -> ScipError {
        match e {
            ScipError::Io(io)
                if self.compression() != Compression::None
                    && !self.progress.source_failed.load(Ordering::Relaxed) =>
            {
                ScipError::malformed(
                    self.wire.pos(),
                    format!("{:?} stream is corrupt: {io}", self.compression()),
                )
            }
            other => other,
        }
    }

    fn read_field(&mut self) -> Result<Option<(u64, u64)>, ScipError> {
        loop {
            let tag_pos = self.wire.pos();
            let Some(tag) = self.wire.varint("tag")? else {
                return Ok(None);
            };
            if tag > u64::from(u32::MAX) {
                return Err(ScipError::malformed(
                    tag_pos,
                    format!("tag {tag} exceeds 32 bits"),
                ));
            }
            let field = tag >> 3;
            let wire_type = (tag & 7) as u8;
            if field == 0 {
                return Err(ScipError::malformed(tag_pos, "field number 0"));
            }
            let known = matches!(
                field,
                FIELD_METADATA | FIELD_DOCUMENTS | FIELD_EXTERNAL_SYMBOLS
            );
            if known && wire_type != wire::LEN {
                return Err(ScipError::malformed(
                    tag_pos,
                    format!("Index field {field} has wire type {wire_type}, expected 2"),
                ));
            }
            if !known {
                self.skip_field(tag_pos, field, wire_type)?;
                continue;
            }
            let len = self.length(field)?;
            let payload_pos = self.wire.pos();
            let read =
                self.wire
                    .read_exact_into(len, &mut self.buf, &format!("Index field {field}"));
            self.max_item_bytes = self.max_item_bytes.max(self.buf.len());
            return read.map(|()| Some((field, payload_pos)));
        }
    }

    fn length(&mut self, field: u64) -> Result<u64, ScipError> {
        let pos = self.wire.pos();
        let len = self.wire.required_varint("length")?;
        if len > self.max_message_size {
            return Err(ScipError::malformed(
                pos,
                format!(
                    "Index field {field} length {len} exceeds the maximum message size {}",
                    self.max_message_size
                ),
            ));
        }
        Ok(len)
    }

    /// Skips a field this version does not know, per protobuf wire rules, so indexes written
    /// against a newer `scip.proto` still load.
    fn skip_field(&mut self, tag_pos: u64, field: u64, wire_type: u8) -> Result<(), ScipError> {
        match wire_type {
            wire::VARINT => {
                self.wire.required_varint("unknown field value")?;
                Ok(())
            }
            wire::FIXED64 => self.wire.skip(8, "fixed64 field"),
            wire::FIXED32 => self.wire.skip(4, "fixed32 field"),
            wire::LEN => {
                let len = self.length(field)?;
                self.wire.skip(len, "unknown length-delimited field")
            }
            wire::START_GROUP | wire::END_GROUP => Err(ScipError::malformed(
                tag_pos,
                format!("Index field {field} uses a group (wire type {wire_type}), not supported"),
            )),
            other => Err(ScipError::malformed(
                tag_pos,
                format!("Index field {field} has invalid wire type {other}"),
            )),
        }
    }
}

fn decode(field: u64, payload: &[u8], pos: u64) -> Result<IndexItem, ScipError> {
    Ok(match field {
        FIELD_METADATA => IndexItem::Metadata(decode_as(payload, pos, "Index.metadata")?),
        FIELD_DOCUMENTS => IndexItem::Document(decode_as(payload, pos, "Index.documents")?),
        _ => IndexItem::ExternalSymbol(decode_as(payload, pos, "Index.external_symbols")?),
    })
}

fn decode_as<M: Message + Default>(payload: &[u8], pos: u64, name: &str) -> Result<M, ScipError> {
    // prost's error text carries the message and field path (e.g. `Document.relative_path:
    // invalid string value: data is not UTF-8 encoded`), which is the field naming we want.
    M::decode(payload).map_err(|e| ScipError::malformed(pos, format!("cannot decode {name}: {e}")))
}

impl<R: Read> Iterator for IndexReader<R> {
    type Item = Result<IndexItem, ScipError>;

    /// Stops after the first error, since the stream position is then unknown.
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        self.next_item().transpose()
    }
}
