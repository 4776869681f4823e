//! Encodes an index in the streaming-friendly order (metadata first), for fixtures and tools.

use prost::Message;

use crate::coding::put_varint;

use super::proto::{Document, Metadata, SymbolInformation};

/// Appends one length-delimited top-level `Index` field.
pub fn encode_field<M: Message>(buf: &mut Vec<u8>, field: u32, msg: &M) {
    put_varint(buf, u64::from(field) << 3 | 2);
    put_varint(buf, msg.encoded_len() as u64);
    // Encoding into a Vec cannot run out of space.
    msg.encode_raw(buf);
}

/// A whole `Index` with metadata first, as the spec asks so readers can stream it. Holds the
/// whole output in memory: meant for tests and small tools, not for multi-GB indexes.
pub fn encode_index(
    metadata: &Metadata,
    documents: &[Document],
    external: &[SymbolInformation],
) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_field(&mut buf, 1, metadata);
    for doc in documents {
        encode_field(&mut buf, 2, doc);
    }
    for sym in external {
        encode_field(&mut buf, 3, sym);
    }
    buf
}
