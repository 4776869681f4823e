//! Helpers shared by the fuzz targets and the corpus generator: in-memory files, a byte cursor
//! for structured inputs, and hand-assembled tables for the block-level target.

use std::io;
use std::sync::{Arc, Mutex};

use scipkv_engine::checksum::{xxh3, xxh3_parts};
use scipkv_engine::coding::put_varint;
use scipkv_engine::iter::InternalIterator;
use scipkv_engine::key::{MAX_SEQNO, make_internal_key};
use scipkv_engine::sstable::{Table, TableBuilder, TableOptions, TableProperties};
use scipkv_engine::storage::{RandomAccessFile, WritableFile};

/// A table file held in memory.
#[derive(Debug)]
pub struct MemFile(pub Vec<u8>);

impl RandomAccessFile for MemFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let src = usize::try_from(offset)
            .ok()
            .and_then(|s| Some(s..s.checked_add(buf.len())?))
            .and_then(|r| self.0.get(r));
        match src {
            Some(src) => {
                buf.copy_from_slice(src);
                Ok(())
            }
            None => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the end of an in-memory file",
            )),
        }
    }

    fn len(&self) -> u64 {
        self.0.len() as u64
    }
}

/// A writable in-memory file whose bytes stay readable through the shared handle.
#[derive(Debug, Clone, Default)]
pub struct MemWritable(pub Arc<Mutex<Vec<u8>>>);

impl WritableFile for MemWritable {
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn len(&self) -> u64 {
        self.0.lock().unwrap().len() as u64
    }
}

/// Reads structured values off the front of a fuzz input; exhausted input yields zeros.
#[derive(Debug)]
pub struct Cursor<'a> {
    data: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Cursor { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | (u16::from(self.u8()) << 8)
    }

    pub fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | (u32::from(self.u16()) << 16)
    }

    /// Up to `max` bytes, length taken from the input.
    pub fn bytes(&mut self, max: usize) -> &'a [u8] {
        let n = (self.u8() as usize).min(max).min(self.data.len());
        let (b, rest) = self.data.split_at(n);
        self.data = rest;
        b
    }

    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}

/// Walks a whole table forward and backward and returns both sequences (backward reversed),
/// or the first error. At most `limit` steps each way so a bad input cannot run for long.
pub fn walk<I: InternalIterator>(
    it: &mut I,
    limit: usize,
) -> scipkv_engine::Result<(Vec<(Vec<u8>, Vec<u8>)>, Vec<(Vec<u8>, Vec<u8>)>)> {
    let mut fwd = Vec::new();
    it.seek_to_first()?;
    while it.valid() && fwd.len() < limit {
        fwd.push((it.key().to_vec(), it.value().to_vec()));
        it.next()?;
    }
    let mut bwd = Vec::new();
    it.seek_to_last()?;
    while it.valid() && bwd.len() < limit {
        bwd.push((it.key().to_vec(), it.value().to_vec()));
        it.prev()?;
    }
    bwd.reverse();
    Ok((fwd, bwd))
}

/// Appends `payload` as a raw block (codec 0) with its trailer; returns (offset, size).
pub fn push_raw_block(file: &mut Vec<u8>, payload: &[u8]) -> (u64, u64) {
    push_block(file, payload, 0, payload.len() as u32)
}

/// Appends a block with an arbitrary codec id and declared length, checksummed correctly.
pub fn push_block(file: &mut Vec<u8>, payload: &[u8], id: u8, raw_len: u32) -> (u64, u64) {
    let offset = file.len() as u64;
    let len = raw_len.to_le_bytes();
    let sum = xxh3_parts(&[payload, &[id], &len]);
    file.extend_from_slice(payload);
    file.push(id);
    file.extend_from_slice(&len);
    file.extend_from_slice(&sum.to_le_bytes());
    (offset, payload.len() as u64)
}

/// One block entry with a whole key (shared = 0), in the block format.
pub fn block_entry(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    put_varint(out, 0);
    put_varint(out, key.len() as u64);
    put_varint(out, value.len() as u64);
    out.extend_from_slice(key);
    out.extend_from_slice(value);
}

/// A block of whole-key entries, every entry a restart point.
pub fn simple_block(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut restarts = Vec::new();
    for (k, v) in entries {
        restarts.push(out.len() as u32);
        block_entry(&mut out, k, v);
    }
    for r in &restarts {
        out.extend_from_slice(&r.to_le_bytes());
    }
    out.extend_from_slice(&(restarts.len() as u32).to_le_bytes());
    out
}

/// The footer layout of format-spec/sstable.md: four fixed handles, version, magic, xxh3.
pub fn footer(index: (u64, u64), filter: (u64, u64), props: (u64, u64)) -> Vec<u8> {
    let mut b = Vec::new();
    for (o, s) in [index, filter, props, (0, 0)] {
        b.extend_from_slice(&o.to_le_bytes());
        b.extend_from_slice(&s.to_le_bytes());
    }
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(b"scipkvST");
    let sum = xxh3(&b);
    b.extend_from_slice(&sum.to_le_bytes());
    b
}

/// Largest separator a hand-built index uses: sorts after any key a short fuzz block holds.
pub fn max_separator() -> Vec<u8> {
    make_internal_key(&[0xff; 64], 0, 0)
}

/// A table whose only data block is `data_block` (raw, valid checksum) and whose index is
/// valid; or, with `fuzz_index`, whose index block is `block` and whose one data block is a
/// valid two-entry block. Filter absent, properties valid. Lets the fuzzer reach the block
/// decoder, which is private to the engine, through `Table`.
pub fn table_around_block(block: &[u8], fuzz_index: bool) -> Vec<u8> {
    let mut file = Vec::new();
    let index = if fuzz_index {
        let data = simple_block(&[
            (make_internal_key(b"a", 2, 1), b"va".to_vec()),
            (make_internal_key(b"b", 1, 0), Vec::new()),
        ]);
        push_raw_block(&mut file, &data);
        block.to_vec()
    } else {
        let (off, size) = push_raw_block(&mut file, block);
        let mut handle = Vec::new();
        put_varint(&mut handle, off);
        put_varint(&mut handle, size);
        simple_block(&[(max_separator(), handle)])
    };
    let index = push_raw_block(&mut file, &index);
    let props = TableProperties {
        num_entries: 1,
        num_data_blocks: 1,
        smallest_key: make_internal_key(b"a", 2, 1),
        largest_key: make_internal_key(b"b", 1, 0),
        format_version: 1,
        ..TableProperties::default()
    };
    let props = push_raw_block(&mut file, &props.encode());
    let f = footer(index, (0, 0), props);
    file.extend_from_slice(&f);
    file
}

/// Builds a table from sorted, deduplicated internal-key entries.
pub fn build_table(entries: &[(Vec<u8>, Vec<u8>)], opts: TableOptions) -> Vec<u8> {
    let out = MemWritable::default();
    let mut b = TableBuilder::new(Box::new(out.clone()), "fuzz.sst".into(), opts);
    for (k, v) in entries {
        b.add(k, v).expect("entries are sorted");
    }
    b.finish().expect("at least one entry");
    let bytes = out.0.lock().unwrap().clone();
    bytes
}

/// Sorted entries for a small table derived from `c`: user keys from a small alphabet so
/// versions collide, seqnos descending per key, both kinds.
pub fn table_entries(c: &mut Cursor<'_>, max: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let n = 1 + (c.u8() as usize % max.max(1));
    let mut keyed = std::collections::BTreeMap::new();
    for _ in 0..n {
        let klen = (c.u8() % 6) as usize;
        let mut key = Vec::with_capacity(klen);
        for _ in 0..klen {
            key.push(b'a' + c.u8() % 4);
        }
        let seq = u64::from(c.u32()) % MAX_SEQNO;
        let kind = c.u8() & 1;
        let value = if kind == 1 {
            let vlen = c.u8() as usize;
            (0..vlen).map(|i| (i as u8).wrapping_mul(31)).collect()
        } else {
            Vec::new()
        };
        keyed.insert(make_internal_key(&key, seq, kind), value);
    }
    let mut v: Vec<_> = keyed.into_iter().collect();
    v.sort_by(|a, b| scipkv_engine::key::compare_internal(&a.0, &b.0));
    v.dedup_by(|a, b| a.0 == b.0);
    v
}

/// Opens `bytes` as a table.
pub fn open_table(bytes: Vec<u8>) -> scipkv_engine::Result<Arc<Table>> {
    Table::open(Arc::new(MemFile(bytes)), "fuzz.sst".into()).map(Arc::new)
}

/// A prefix-compressed block as the engine's block builder writes it: a restart point every
/// `interval` entries, other entries sharing their prefix with the previous key.
pub fn prefix_block(entries: &[(Vec<u8>, Vec<u8>)], interval: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut restarts = Vec::new();
    let mut last: &[u8] = &[];
    for (i, (k, v)) in entries.iter().enumerate() {
        let shared = if i % interval.max(1) == 0 {
            restarts.push(out.len() as u32);
            0
        } else {
            last.iter().zip(k).take_while(|(a, b)| a == b).count()
        };
        put_varint(&mut out, shared as u64);
        put_varint(&mut out, (k.len() - shared) as u64);
        put_varint(&mut out, v.len() as u64);
        out.extend_from_slice(&k[shared..]);
        out.extend_from_slice(v);
        last = k;
    }
    if restarts.is_empty() {
        restarts.push(0);
    }
    for r in &restarts {
        out.extend_from_slice(&r.to_le_bytes());
    }
    out.extend_from_slice(&(restarts.len() as u32).to_le_bytes());
    out
}
