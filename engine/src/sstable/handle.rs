//! Block handles: where a block's payload lives in the table file.

use crate::coding::{DecodeError, Reader, put_varint};

/// Offset and payload size of a block. The trailer (`blockio::TRAILER_LEN` bytes) follows the
/// payload and is not counted in `size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockHandle {
    pub offset: u64,
    pub size: u64,
}

/// Bytes of a handle in the footer, where fields are fixed-width so the footer has one size.
pub const FIXED_HANDLE_LEN: usize = 16;

impl BlockHandle {
    /// True for the all-zero handle that marks an absent optional block.
    pub fn is_null(&self) -> bool {
        self.offset == 0 && self.size == 0
    }

    /// Appends the varint form used in index entries.
    pub fn encode_varint(&self, buf: &mut Vec<u8>) {
        put_varint(buf, self.offset);
        put_varint(buf, self.size);
    }

    /// Decodes the varint form; the whole input must be consumed.
    pub fn decode_varint(bytes: &[u8]) -> Result<BlockHandle, DecodeError> {
        let mut r = Reader::new(bytes);
        let offset = r.varint("block handle offset")?;
        let size = r.varint("block handle size")?;
        if !r.is_empty() {
            return Err(r.err("trailing bytes after block handle"));
        }
        Ok(BlockHandle { offset, size })
    }

    /// Appends the fixed form used in the footer (offset u64 LE, size u64 LE).
    pub fn encode_fixed(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.offset.to_le_bytes());
        buf.extend_from_slice(&self.size.to_le_bytes());
    }

    pub fn decode_fixed(r: &mut Reader<'_>) -> Result<BlockHandle, DecodeError> {
        let offset = r.u64("block handle offset")?;
        let size = r.u64("block handle size")?;
        Ok(BlockHandle { offset, size })
    }
}
