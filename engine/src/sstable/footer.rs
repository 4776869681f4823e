//! The fixed-size footer at the end of every table: where the metadata blocks are.
//!
//! Layout (84 bytes): index, filter, properties and dictionary handles (offset u64 LE,
//! size u64 LE each) | format_version u32 LE | magic u64 LE | xxh3 of the preceding 76 bytes.

use super::handle::{BlockHandle, FIXED_HANDLE_LEN};
use crate::checksum::xxh3;
use crate::coding::Reader;

/// "scipkvST" read as a little-endian u64: identifies the file type before anything else.
pub const MAGIC: u64 = u64::from_le_bytes(*b"scipkvST");

/// Format version of tables without a compression dictionary; unchanged since version 1 so
/// such tables stay byte-identical and readable by version-1 readers.
pub const FORMAT_VERSION: u32 = 1;

/// Format version of tables with a zstd dictionary block (non-null dictionary handle, data
/// blocks may use codec 3). A separate version so a version-1 reader names the reason
/// ("unsupported format version 2") instead of tripping over the dictionary handle.
pub const FORMAT_VERSION_DICT: u32 = 2;

pub const FOOTER_LEN: usize = 4 * FIXED_HANDLE_LEN + 4 + 8 + 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Footer {
    pub index: BlockHandle,
    /// Null when the table has no filter.
    pub filter: BlockHandle,
    pub properties: BlockHandle,
    /// The zstd dictionary block: null in version 1, non-null in version 2.
    pub dictionary: BlockHandle,
    pub format_version: u32,
}

impl Footer {
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(FOOTER_LEN);
        self.index.encode_fixed(&mut b);
        self.filter.encode_fixed(&mut b);
        self.properties.encode_fixed(&mut b);
        self.dictionary.encode_fixed(&mut b);
        b.extend_from_slice(&self.format_version.to_le_bytes());
        b.extend_from_slice(&MAGIC.to_le_bytes());
        let sum = xxh3(&b);
        b.extend_from_slice(&sum.to_le_bytes());
        b
    }

    /// Decodes a footer, checking magic, checksum and version in that order (the magic first
    /// so a non-table file gets a clear message). Errors are `(offset in footer, what)`.
    pub fn decode(bytes: &[u8]) -> Result<Footer, (usize, String)> {
        if bytes.len() != FOOTER_LEN {
            return Err((
                0,
                format!("footer is {} bytes, not {FOOTER_LEN}", bytes.len()),
            ));
        }
        let (body, sum) = bytes.split_at(FOOTER_LEN - 8);
        let magic = u64::from_le_bytes(body[body.len() - 8..].try_into().expect("8 bytes"));
        if magic != MAGIC {
            return Err((body.len() - 8, format!("bad magic {magic:#018x}")));
        }
        let stored = u64::from_le_bytes(sum.try_into().expect("8 bytes"));
        let actual = xxh3(body);
        if stored != actual {
            return Err((
                FOOTER_LEN - 8,
                format!(
                    "footer checksum mismatch (stored {stored:#018x}, computed {actual:#018x})"
                ),
            ));
        }
        let mut r = Reader::new(body);
        let parse = |r: &mut Reader<'_>| -> Result<Footer, crate::coding::DecodeError> {
            Ok(Footer {
                index: BlockHandle::decode_fixed(r)?,
                filter: BlockHandle::decode_fixed(r)?,
                properties: BlockHandle::decode_fixed(r)?,
                dictionary: BlockHandle::decode_fixed(r)?,
                format_version: r.u32("format version")?,
            })
        };
        let f = parse(&mut r).map_err(|e| (e.pos, e.what))?;
        let wants_dictionary = match f.format_version {
            FORMAT_VERSION => false,
            FORMAT_VERSION_DICT => true,
            v => {
                return Err((
                    4 * FIXED_HANDLE_LEN,
                    format!("unsupported format version {v}"),
                ));
            }
        };
        if f.dictionary.is_null() == wants_dictionary {
            return Err((
                3 * FIXED_HANDLE_LEN,
                format!(
                    "format version {} {} a dictionary handle",
                    f.format_version,
                    if wants_dictionary {
                        "requires"
                    } else {
                        "forbids"
                    }
                ),
            ));
        }
        Ok(f)
    }
}
