//! Table properties: statistics and key range, stored as tagged fields so later versions can
//! add fields that older readers skip.
//!
//! Payload: a sequence of `tag varint | len varint | value[len]`, tags strictly increasing.
//! Integer values are one varint filling `value` exactly; keys are raw bytes.

use crate::coding::{DecodeError, Reader, put_bytes, put_varint};

/// What a table holds, written once by the builder and read on open.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableProperties {
    pub num_entries: u64,
    pub num_deletions: u64,
    pub num_data_blocks: u64,
    pub raw_key_bytes: u64,
    pub raw_value_bytes: u64,
    /// Bytes of data blocks on disk, trailers included.
    pub data_bytes: u64,
    pub smallest_key: Vec<u8>,
    pub largest_key: Vec<u8>,
    pub smallest_seq: u64,
    pub largest_seq: u64,
    /// Codec id the data blocks were written with (blocks that did not shrink are raw).
    pub codec_id: u8,
    pub bloom_bits_per_key: u32,
    pub format_version: u32,
}

const NUM_ENTRIES: u64 = 1;
const NUM_DELETIONS: u64 = 2;
const NUM_DATA_BLOCKS: u64 = 3;
const RAW_KEY_BYTES: u64 = 4;
const RAW_VALUE_BYTES: u64 = 5;
const DATA_BYTES: u64 = 6;
const SMALLEST_KEY: u64 = 7;
const LARGEST_KEY: u64 = 8;
const SMALLEST_SEQ: u64 = 9;
const LARGEST_SEQ: u64 = 10;
const CODEC_ID: u64 = 11;
const BLOOM_BITS_PER_KEY: u64 = 12;
const FORMAT_VERSION: u64 = 13;

/// Tags 1..=13 must all be present in a format-version-1 table.
const REQUIRED_TAGS: u64 = 13;

fn put_int(buf: &mut Vec<u8>, tag: u64, v: u64) {
    let mut val = Vec::with_capacity(10);
    put_varint(&mut val, v);
    put_varint(buf, tag);
    put_bytes(buf, &val);
}

fn put_key(buf: &mut Vec<u8>, tag: u64, k: &[u8]) {
    put_varint(buf, tag);
    put_bytes(buf, k);
}

impl TableProperties {
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + self.smallest_key.len() + self.largest_key.len());
        put_int(&mut b, NUM_ENTRIES, self.num_entries);
        put_int(&mut b, NUM_DELETIONS, self.num_deletions);
        put_int(&mut b, NUM_DATA_BLOCKS, self.num_data_blocks);
        put_int(&mut b, RAW_KEY_BYTES, self.raw_key_bytes);
        put_int(&mut b, RAW_VALUE_BYTES, self.raw_value_bytes);
        put_int(&mut b, DATA_BYTES, self.data_bytes);
        put_key(&mut b, SMALLEST_KEY, &self.smallest_key);
        put_key(&mut b, LARGEST_KEY, &self.largest_key);
        put_int(&mut b, SMALLEST_SEQ, self.smallest_seq);
        put_int(&mut b, LARGEST_SEQ, self.largest_seq);
        put_int(&mut b, CODEC_ID, u64::from(self.codec_id));
        put_int(
            &mut b,
            BLOOM_BITS_PER_KEY,
            u64::from(self.bloom_bits_per_key),
        );
        put_int(&mut b, FORMAT_VERSION, u64::from(self.format_version));
        b
    }

    pub fn decode(payload: &[u8]) -> Result<TableProperties, DecodeError> {
        let mut r = Reader::new(payload);
        let mut p = TableProperties::default();
        let mut last_tag = 0u64;
        let mut seen = 0u64;
        while !r.is_empty() {
            let at = r.pos();
            let tag = r.varint("property tag")?;
            if tag <= last_tag {
                return Err(DecodeError::new(
                    at,
                    format!("property tag {tag} out of order"),
                ));
            }
            last_tag = tag;
            let val = r.length_prefixed("property value")?;
            let int = || -> Result<u64, DecodeError> {
                let mut vr = Reader::new(val);
                let v = vr.varint("property integer")?;
                if !vr.is_empty() {
                    return Err(DecodeError::new(at, "trailing bytes in property integer"));
                }
                Ok(v)
            };
            let narrow = |max: u64| -> Result<u64, DecodeError> {
                let v = int()?;
                if v > max {
                    return Err(DecodeError::new(
                        at,
                        format!("property {tag} = {v} too large"),
                    ));
                }
                Ok(v)
            };
            match tag {
                NUM_ENTRIES => p.num_entries = int()?,
                NUM_DELETIONS => p.num_deletions = int()?,
                NUM_DATA_BLOCKS => p.num_data_blocks = int()?,
                RAW_KEY_BYTES => p.raw_key_bytes = int()?,
                RAW_VALUE_BYTES => p.raw_value_bytes = int()?,
                DATA_BYTES => p.data_bytes = int()?,
                SMALLEST_KEY => p.smallest_key = val.to_vec(),
                LARGEST_KEY => p.largest_key = val.to_vec(),
                SMALLEST_SEQ => p.smallest_seq = int()?,
                LARGEST_SEQ => p.largest_seq = int()?,
                CODEC_ID => p.codec_id = narrow(u8::MAX.into())? as u8,
                BLOOM_BITS_PER_KEY => p.bloom_bits_per_key = narrow(u32::MAX.into())? as u32,
                FORMAT_VERSION => p.format_version = narrow(u32::MAX.into())? as u32,
                _ => continue, // a field from a later version: skip it
            }
            seen += 1;
        }
        if seen != REQUIRED_TAGS {
            return Err(r.err(format!(
                "{seen} of {REQUIRED_TAGS} required properties present"
            )));
        }
        Ok(p)
    }
}
