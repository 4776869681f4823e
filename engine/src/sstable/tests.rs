//! Behavioural tests of the table format: a model harness over random tables, corruption of
//! every byte, and the bloom filter's false-positive rate. Dictionaries and the block cache
//! have their own submodules.

mod cached_reads;
mod dict_tables;

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};

use super::block::{Block, BlockBuilder};
use super::block_iter::BlockIter;
use super::codec::CODEC_ZSTD_DICT;
use super::footer::{FOOTER_LEN, Footer, MAGIC};
use super::handle::BlockHandle;
use super::*;
use crate::Error;
use crate::checksum::xxh3_parts;
use crate::iter::InternalIterator;
use crate::iter::testing::{TestRng, check_iterator, seeds};
use crate::key::{Kind, MAX_SEQNO, compare_internal, make_internal_key};
use crate::storage::{RandomAccessFile, WritableFile};

/// An in-memory file: the writer and the bytes it produced share one buffer.
#[derive(Debug, Clone, Default)]
struct MemFile(Arc<Mutex<Vec<u8>>>);

impl MemFile {
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

impl WritableFile for MemFile {
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

#[derive(Debug)]
struct MemRead(Vec<u8>);

impl RandomAccessFile for MemRead {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let src = start
            .checked_add(buf.len())
            .and_then(|end| self.0.get(start..end))
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn len(&self) -> u64 {
        self.0.len() as u64
    }
}

/// user key -> seq -> (kind, value)
type Model = BTreeMap<Vec<u8>, BTreeMap<u64, (u8, Vec<u8>)>>;

/// (internal key, value) in table order.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

fn sorted_entries(model: &Model) -> Entries {
    let mut v: Vec<_> = model
        .iter()
        .flat_map(|(uk, versions)| {
            versions
                .iter()
                .map(move |(&seq, (kind, val))| (make_internal_key(uk, seq, *kind), val.clone()))
        })
        .collect();
    v.sort_by(|a, b| compare_internal(&a.0, &b.0));
    v
}

/// The newest version of `uk` visible at `snapshot`.
fn model_get(model: &Model, uk: &[u8], snapshot: u64) -> Option<TableEntry> {
    let (&seq, (kind, value)) = model.get(uk)?.range(..=snapshot).next_back()?;
    Some(TableEntry {
        kind: *kind,
        seq,
        value: value.clone(),
    })
}

fn random_model(rng: &mut TestRng, max_keys: u64, huge_value: bool) -> Model {
    const PREFIX: &[u8] =
        b"scip-typescript npm @scope/package 1.2.3 src/very/long/path/to/module.ts/";
    let mut model = Model::new();
    let n = 1 + rng.below(max_keys);
    for _ in 0..n {
        let uk = match rng.below(4) {
            0 => rng.bytes_below(4),
            1 => {
                let mut k = PREFIX.to_vec();
                k.extend(rng.bytes_below(3));
                k
            }
            _ => {
                let mut k = PREFIX[..rng.index(PREFIX.len())].to_vec();
                k.extend(format!("sym{}", rng.below(500)).bytes());
                k
            }
        };
        let versions = model.entry(uk).or_default();
        for _ in 0..1 + rng.below(4) {
            let seq = rng.below(40);
            let kind = if rng.one_in(4) {
                Kind::Delete
            } else {
                Kind::Put
            };
            let value = match (kind, rng.below(4)) {
                (Kind::Delete, _) | (_, 0) => Vec::new(),
                (_, 1) => vec![b'x'; rng.index(300)],
                _ => rng.bytes_below(40),
            };
            versions.insert(seq, (kind as u8, value));
        }
    }
    if huge_value {
        let uk = model.keys().nth(rng.index(model.len())).unwrap().clone();
        let mut v = rng.bytes(512 * 1024);
        v.resize(1 << 20, b'z');
        model.get_mut(&uk).unwrap().insert(41, (Kind::Put as u8, v));
    }
    model
}

fn build(entries: &[(Vec<u8>, Vec<u8>)], opts: TableOptions) -> (Vec<u8>, TableSummary) {
    let file = MemFile::default();
    let mut b = TableBuilder::new(Box::new(file.clone()), "test.sst".into(), opts);
    for (k, v) in entries {
        b.add(k, v).unwrap();
    }
    assert_eq!(b.num_entries(), entries.len() as u64);
    let estimate = b.estimated_size();
    let summary = b.finish().unwrap();
    let bytes = file.bytes();
    assert_eq!(summary.file_size, bytes.len() as u64);
    assert!(estimate > 0);
    (bytes, summary)
}

fn open(bytes: Vec<u8>) -> crate::Result<Arc<Table>> {
    Table::open(Arc::new(MemRead(bytes)), "test.sst".into()).map(Arc::new)
}

fn check_properties(p: &TableProperties, entries: &[(Vec<u8>, Vec<u8>)], opts: &TableOptions) {
    let deletions = entries
        .iter()
        .filter(|(k, _)| crate::key::parse_internal_key(k).unwrap().kind == Kind::Delete as u8)
        .count();
    let seqs = entries
        .iter()
        .map(|(k, _)| crate::key::parse_internal_key(k).unwrap().seq);
    assert_eq!(p.num_entries, entries.len() as u64);
    assert_eq!(p.num_deletions, deletions as u64);
    assert_eq!(p.smallest_key, entries[0].0);
    assert_eq!(p.largest_key, entries[entries.len() - 1].0);
    assert_eq!(p.smallest_seq, seqs.clone().min().unwrap());
    assert_eq!(p.largest_seq, seqs.max().unwrap());
    assert_eq!(
        p.raw_key_bytes,
        entries.iter().map(|e| e.0.len() as u64).sum::<u64>()
    );
    assert_eq!(
        p.raw_value_bytes,
        entries.iter().map(|e| e.1.len() as u64).sum::<u64>()
    );
    assert!(p.num_data_blocks >= 1 && p.data_bytes > 0);
    let with_dict = opts.dictionary.is_some() && matches!(opts.codec, Codec::Zstd { .. });
    let (codec_id, version) = if with_dict {
        (CODEC_ZSTD_DICT, 2)
    } else {
        (opts.codec.id(), 1)
    };
    assert_eq!(p.codec_id, codec_id);
    assert_eq!(p.bloom_bits_per_key, opts.bloom_bits_per_key);
    assert_eq!(p.format_version, version);
}

/// Checks `get` for every user key at every interesting snapshot, and for absent keys.
fn check_gets(table: &Table, model: &Model, rng: &mut TestRng) {
    for (uk, versions) in model {
        let mut snaps = vec![0, MAX_SEQNO, u64::MAX];
        for &s in versions.keys() {
            snaps.extend([s, s.saturating_sub(1), s + 1]);
        }
        for snap in snaps {
            let before = table.blocks_read();
            let got = table.get(uk, snap).unwrap();
            assert_eq!(got, model_get(model, uk, snap), "get({uk:?}, {snap})");
            assert!(
                table.blocks_read() <= before + 1,
                "get reads at most one block"
            );
        }
        assert!(table.may_contain(uk), "filter must not drop {uk:?}");
    }
    for _ in 0..50 {
        let uk = [&b"absent\xfe"[..], &rng.bytes_below(8)].concat();
        if !model.contains_key(&uk) {
            assert_eq!(table.get(&uk, MAX_SEQNO).unwrap(), None, "absent {uk:?}");
        }
    }
}

fn all_option_sets() -> Vec<TableOptions> {
    let mut v = Vec::new();
    for (block_size, restart_interval) in [(64, 1), (64, 16), (4096, 16), (16 * 1024, 16)] {
        for (codec, dictionary) in [
            (Codec::None, None),
            (Codec::Lz4, None),
            (Codec::Zstd { level: 3 }, None),
            (
                Codec::Zstd { level: 3 },
                Some(dict_tables::small_dictionary()),
            ),
            // A dictionary with another codec is ignored: a plain version-1 table.
            (Codec::Lz4, Some(dict_tables::small_dictionary())),
        ] {
            v.push(TableOptions {
                block_size,
                restart_interval,
                bloom_bits_per_key: if block_size == 4096 { 0 } else { 10 },
                codec,
                dictionary,
            });
        }
    }
    v
}

#[test]
fn tables_match_the_model_for_every_layout_and_codec() {
    for (n, seed) in seeds(&[1, 2, 3, 0xdead_beef]).into_iter().enumerate() {
        let mut rng = TestRng::new(seed);
        for (i, opts) in all_option_sets().into_iter().enumerate() {
            let ctx = format!("seed {seed}, options {opts:?}");
            // A 1 MiB value once per codec (with 64-byte blocks, restart interval 16): every
            // read of its block costs a megabyte in a debug build, so not in every table.
            let model = random_model(&mut rng, 150, n == 0 && (5..10).contains(&i));
            let entries = sorted_entries(&model);
            let (bytes, summary) = build(&entries, opts.clone());
            // Every other layout reads through a small block cache (constant eviction).
            let table = if i % 2 == 1 {
                let cache = Arc::new(crate::cache::BlockCache::new(16 * 1024));
                let file = Arc::new(MemRead(bytes));
                Table::open_with_cache(file, "test.sst".into(), 9, Some(cache)).map(Arc::new)
            } else {
                open(bytes)
            };
            let table = table.unwrap_or_else(|e| panic!("{ctx}: open: {e}"));
            assert_eq!(table.properties(), &summary.props, "{ctx}");
            check_properties(table.properties(), &entries, &opts);
            check_gets(&table, &model, &mut rng);
            let mut it = table.iter();
            check_iterator(&mut it, &entries, &mut rng, 300)
                .unwrap_or_else(|e| panic!("{ctx}: iterator error {e}"));
        }
    }
}

#[test]
fn blocks_match_the_model_at_every_restart_interval() {
    for seed in seeds(&[11, 12, 13]) {
        let mut rng = TestRng::new(seed);
        for interval in [1, 2, 3, 16, 1000] {
            let entries = sorted_entries(&random_model(&mut rng, 80, false));
            let mut b = BlockBuilder::new(interval);
            for (k, v) in &entries {
                b.add(k, v);
            }
            let block = Block::new(b.finish(), "block".into(), 0).unwrap();
            let mut it = BlockIter::new(block);
            check_iterator(&mut it, &entries, &mut rng, 200).unwrap();
        }
    }
}

/// A block of raw entry bytes with the given restart offsets (no builder checks).
fn raw_block(entries: &[u8], restarts: &[u32]) -> Vec<u8> {
    let mut b = entries.to_vec();
    for r in restarts {
        b.extend_from_slice(&r.to_le_bytes());
    }
    b.extend_from_slice(&(restarts.len() as u32).to_le_bytes());
    b
}

/// The entry decoder has a fast path for one-byte lengths and a checked path for the
/// rest: malformed entries must be corruption on both, by seek, scan and restart search.
#[test]
fn malformed_entries_are_corruption_on_both_entry_decoders() {
    let key = make_internal_key(b"key", 7, Kind::Put as u8);
    let klen = key.len() as u8;
    let entry = |shared: &[u8], unshared: &[u8], vlen: &[u8], tail: &[u8]| {
        let mut e = [shared, unshared, vlen].concat();
        e.extend_from_slice(tail);
        e
    };
    let whole = [key.as_slice(), b"v"].concat();
    let cases: Vec<(&str, Vec<u8>, Vec<u32>)> = vec![
        // A restart entry may not share bytes with a previous key.
        (
            "shared at restart",
            entry(&[1], &[klen], &[1], &whole),
            vec![0],
        ),
        (
            "shared at restart, long varint",
            entry(&[0x81, 0], &[klen], &[1], &whole),
            vec![0],
        ),
        (
            "key past the end",
            entry(&[0], &[klen + 40], &[1], &whole),
            vec![0],
        ),
        (
            "value past the end",
            entry(&[0], &[klen], &[90], &whole),
            vec![0],
        ),
        (
            "value past the end, long varint",
            entry(&[0], &[klen], &[0x90, 1], &whole),
            vec![0],
        ),
        (
            "key shorter than a trailer",
            entry(&[0], &[3], &[0], b"abc"),
            vec![0],
        ),
        (
            // Second entry shares more than the first key has.
            "shared beyond the previous key",
            [
                entry(&[0], &[klen], &[1], &whole),
                entry(&[klen + 1], &[0], &[0], b""),
            ]
            .concat(),
            vec![0],
        ),
        (
            // The second restart's entry shares bytes: a scan can still decode it (against
            // the previous key), the restart search must refuse it.
            "malformed restart entry",
            [
                entry(&[0], &[klen], &[1], &whole),
                entry(&[2], &[klen], &[1], &whole),
            ]
            .concat(),
            vec![0, (3 + whole.len()) as u32],
        ),
    ];
    let far = make_internal_key(b"zzz", 1, Kind::Put as u8);
    for (what, entries, restarts) in cases {
        let block = Block::new(raw_block(&entries, &restarts), "block".into(), 0).unwrap();
        let mut it = BlockIter::new(block.clone());
        let scan = (|| {
            it.seek_to_first()?;
            while it.valid() {
                it.next()?;
            }
            Ok::<_, Error>(())
        })();
        let seek = BlockIter::new(block).seek(&far);
        assert!(
            matches!(seek, Err(Error::Corruption { .. })),
            "{what}: seek gave {seek:?}"
        );
        if what == "malformed restart entry" {
            assert!(scan.is_ok(), "{what}: scan gave {scan:?}");
        } else {
            assert!(
                matches!(scan, Err(Error::Corruption { .. })),
                "{what}: scan gave {scan:?}"
            );
        }
    }
}

#[test]
fn get_reads_one_data_block_and_the_filter_skips_absent_keys() {
    let entries: Vec<_> = (0..2000u32)
        .map(|i| {
            (
                make_internal_key(format!("key{i:06}").as_bytes(), 5, 1),
                vec![7; 20],
            )
        })
        .collect();
    let (bytes, summary) = build(&entries, TableOptions::default());
    assert!(summary.props.num_data_blocks > 2);
    let table = open(bytes).unwrap();
    assert_eq!(table.blocks_read(), 0);
    assert_eq!(
        table.get(b"key000123", 9).unwrap().unwrap().value,
        vec![7; 20]
    );
    assert_eq!(table.blocks_read(), 1);
    assert_eq!(table.get(b"key000123", 4).unwrap(), None);
    assert_eq!(table.blocks_read(), 2);
    let skipped = (0..1000)
        .filter(|i| {
            let before = table.blocks_read();
            assert_eq!(table.get(format!("nokey{i}").as_bytes(), 9).unwrap(), None);
            table.blocks_read() == before
        })
        .count();
    assert!(skipped > 950, "the filter skipped only {skipped} of 1000");
}

#[test]
fn tables_round_trip_through_the_filesystem() {
    use crate::storage::{FsStorage, ReadPath, Storage};
    let dir = tempfile::tempdir().unwrap();
    let storage = FsStorage::new(dir.path(), ReadPath::Pread).unwrap();
    let entries: Vec<_> = (0..500u32)
        .map(|i| {
            (
                make_internal_key(&i.to_be_bytes(), u64::from(i), 1),
                i.to_le_bytes().to_vec(),
            )
        })
        .collect();
    let mut b = TableBuilder::new(
        storage.create("1.sst").unwrap(),
        "1.sst".into(),
        TableOptions::default(),
    );
    for (k, v) in &entries {
        b.add(k, v).unwrap();
    }
    let summary = b.finish().unwrap();
    let file = storage.open_read("1.sst").unwrap();
    assert_eq!(file.len(), summary.file_size);
    let table = Arc::new(Table::open(file, "1.sst".into()).unwrap());
    assert_eq!(table.name(), "1.sst");
    let mut it = table.iter();
    check_iterator(&mut it, &entries, &mut TestRng::new(5), 100).unwrap();
    // Concurrent readers share one Table.
    let before = table.blocks_read();
    std::thread::scope(|s| {
        for t in 0..2u32 {
            let table = &table;
            s.spawn(move || {
                for i in (t..500).step_by(2) {
                    let got = table.get(&i.to_be_bytes(), u64::MAX).unwrap().unwrap();
                    assert_eq!(got.value, i.to_le_bytes());
                }
            });
        }
    });
    assert_eq!(table.blocks_read() - before, 500, "one data block per get");
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Table>();
}

#[test]
fn builder_rejects_empty_tables_and_bad_keys() {
    let b = TableBuilder::new(
        Box::new(MemFile::default()),
        "e".into(),
        TableOptions::default(),
    );
    assert!(matches!(b.finish(), Err(Error::InvalidArgument(_))));
    let mut b = TableBuilder::new(
        Box::new(MemFile::default()),
        "e".into(),
        TableOptions::default(),
    );
    assert!(matches!(
        b.add(b"short", b""),
        Err(Error::InvalidArgument(_))
    ));
}

/// Opens `bytes` and reads everything; returns Ok(true) when every read matched the model
/// exactly, Ok(false) when some step failed with Corruption. Any other error, wrong data or
/// a panic fails the test.
fn read_all_or_corruption(bytes: Vec<u8>, model: &Model, entries: &[(Vec<u8>, Vec<u8>)]) -> bool {
    let corrupt = |e: Error| {
        assert!(e.is_corruption(), "expected corruption, got {e}");
        false
    };
    let table = match open(bytes) {
        Ok(t) => t,
        Err(e) => return corrupt(e),
    };
    let mut clean = true;
    for (uk, versions) in model {
        for snap in versions.keys().copied().chain([MAX_SEQNO]) {
            match table.get(uk, snap) {
                Ok(got) => assert_eq!(got, model_get(model, uk, snap), "never wrong data"),
                Err(e) => clean = corrupt(e),
            }
        }
    }
    let mut it = table.iter();
    let mut scan = || -> crate::Result<Entries> {
        let mut got = Vec::new();
        it.seek_to_first()?;
        while it.valid() {
            got.push((it.key().to_vec(), it.value().to_vec()));
            it.next()?;
        }
        Ok(got)
    };
    match scan() {
        Ok(got) => assert_eq!(got, entries, "never wrong data"),
        Err(e) => clean = corrupt(e),
    }
    clean
}

fn small_table(codec: Codec, dictionary: Option<Arc<[u8]>>) -> (Model, Entries, Vec<u8>) {
    let mut rng = TestRng::new(77);
    let model = random_model(&mut rng, 25, false);
    let entries = sorted_entries(&model);
    let opts = TableOptions {
        block_size: 256,
        codec,
        dictionary,
        ..TableOptions::default()
    };
    let (bytes, summary) = build(&entries, opts);
    assert!(
        summary.props.num_data_blocks >= 3,
        "want several data blocks"
    );
    (model, entries, bytes)
}

#[test]
fn every_flipped_byte_is_detected_as_corruption() {
    for (codec, dictionary) in [
        (Codec::None, None),
        (Codec::Lz4, None),
        (Codec::Zstd { level: 1 }, None),
        (
            Codec::Zstd { level: 1 },
            Some(dict_tables::small_dictionary()),
        ),
    ] {
        let with_dict = dictionary.is_some();
        let (model, entries, bytes) = small_table(codec, dictionary);
        let table = open(bytes.clone()).unwrap();
        assert_eq!(table.properties().format_version, 1 + u32::from(with_dict));
        assert!(read_all_or_corruption(bytes.clone(), &model, &entries));
        println!(
            "{codec:?} (dictionary: {with_dict}): flipping each of {} bytes",
            bytes.len()
        );
        for at in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[at] ^= 1 << (at % 8);
            // Every byte is inside a checksummed block or the footer, so nothing may slip by.
            assert!(
                !read_all_or_corruption(bad, &model, &entries),
                "{codec:?}: flip at {at} went unnoticed"
            );
        }
    }
}

#[test]
fn truncated_and_garbage_files_are_corruption() {
    let (model, entries, bytes) = small_table(Codec::Lz4, None);
    for len in 0..bytes.len() {
        assert!(
            !read_all_or_corruption(bytes[..len].to_vec(), &model, &entries),
            "truncation to {len}"
        );
    }
    for seed in seeds(&[21]) {
        let mut rng = TestRng::new(seed);
        for len in 0..200 {
            let mut g = rng.bytes(len);
            assert!(open(g.clone()).is_err_and(|e| e.is_corruption()));
            // With the magic in place the checksum is what must catch it.
            if len >= 16 {
                g[len - 16..len - 8].copy_from_slice(&MAGIC.to_le_bytes());
                assert!(open(g).is_err_and(|e| e.is_corruption()), "len {len}");
            }
        }
    }
}

/// A footer with a valid checksum but the given contents.
fn forge_footer(data: &[u8], f: Footer) -> Vec<u8> {
    let mut out = data.to_vec();
    out.extend(f.encode());
    out
}

/// A block framed with a valid checksum but an arbitrary codec id and length.
fn forge_block(payload: &[u8], codec: u8, len: u32) -> Vec<u8> {
    let mut out = payload.to_vec();
    out.push(codec);
    out.extend(len.to_le_bytes());
    out.extend(xxh3_parts(&[payload, &[codec], &len.to_le_bytes()]).to_le_bytes());
    out
}

#[test]
fn forged_handles_lengths_and_codecs_are_rejected() {
    let expect_corruption = |bytes: Vec<u8>, what: &str| match open(bytes) {
        Err(e) => assert!(e.is_corruption(), "{what}: {e}"),
        Ok(_) => panic!("{what}: opened"),
    };
    let wild = BlockHandle {
        offset: u64::MAX - 3,
        size: u64::MAX,
    };
    let mut f = Footer {
        index: wild,
        format_version: 1,
        ..Footer::default()
    };
    expect_corruption(forge_footer(b"", f), "wild index handle");
    let block = forge_block(b"abcd", 0, 4);
    f.index = BlockHandle { offset: 0, size: 4 };
    f.format_version = 2;
    expect_corruption(
        forge_footer(&block, f),
        "format version 2 without a dictionary",
    );
    f.format_version = 3;
    expect_corruption(forge_footer(&block, f), "format version 3");
    f.format_version = 1;
    f.dictionary = BlockHandle { offset: 0, size: 4 };
    expect_corruption(forge_footer(&block, f), "dictionary handle in version 1");
    f.dictionary = BlockHandle::default();
    for (codec, len, what) in [
        (
            CODEC_ZSTD_DICT,
            4,
            "codec 3 in a table without a dictionary",
        ),
        (9, 4, "unknown codec"),
        (0, 5, "raw length mismatch"),
        (1, u32::MAX, "huge lz4 length"),
        (2, 1 << 20, "zstd garbage"),
        (0, 4, "not a block"),
    ] {
        let block = forge_block(b"abcd", codec, len);
        expect_corruption(forge_footer(&block, f), what);
    }
    assert_eq!(FOOTER_LEN, 84);
}

#[test]
fn bloom_false_positive_rate_at_10_bits_per_key_is_below_2_percent() {
    const N: u32 = 50_000;
    let entries: Vec<_> = (0..N)
        .map(|i| {
            (
                make_internal_key(format!("present/{i:08}").as_bytes(), 1, 1),
                Vec::new(),
            )
        })
        .collect();
    let (bytes, _) = build(&entries, TableOptions::default());
    let table = open(bytes).unwrap();
    for (k, _) in entries.iter().step_by(97) {
        assert!(table.may_contain(crate::key::user_key(k)));
    }
    let fp = (0..N)
        .filter(|i| table.may_contain(format!("absent/{i:08}").as_bytes()))
        .count();
    let rate = f64::from(fp as u32) / f64::from(N);
    println!(
        "bloom false positives: {fp} of {N} probes = {:.3}%",
        rate * 100.0
    );
    assert!(rate < 0.02, "false-positive rate {rate}");
}

/// The worked example in format-spec/sstable.md, byte for byte: any change to the format
/// (or to fastbloom's bit derivation) shows up here before it ships.
const WORKED_EXAMPLE: &[&str] = &[
    // data block payload
    "000d036170706c650102000000000000726564",
    "020d007269636f740001000000000000",
    "0000000001000000",
    // data block trailer
    "002b000000df2158554f7fe6df",
    // filter payload
    "0700000010501e8000051420",
    // filter trailer
    "000c0000003f3b641397bcc124",
    // index payload
    "00090262ffffffffffffffff002b0000000001000000",
    // index trailer
    "0016000000e5faf642d4e65d1c",
    // properties payload
    "01010202010103010104011c050103060138070d6170706c650102000000000000080f61707269636f7400010000000000000901010a01020b01000c010a0d0101",
    // properties trailer
    "004100000065e8450e61dc9154",
    // footer: index, filter, properties handles
    "5100000000000000160000000000000038000000000000000c0000000000000074000000000000004100000000000000",
    // footer: dictionary handle, version, magic, checksum
    "0000000000000000000000000000000001000000736369706b76535454f5229ef7ba50ea",
];

#[test]
fn worked_example_is_byte_exact() {
    let entries = vec![
        (make_internal_key(b"apple", 2, 1), b"red".to_vec()),
        (make_internal_key(b"apricot", 1, 0), Vec::new()),
    ];
    let opts = TableOptions {
        codec: Codec::None,
        ..TableOptions::default()
    };
    let (bytes, _) = build(&entries, opts);
    for (i, c) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = c.iter().map(|b| format!("{b:02x}")).collect();
        println!("{:04x}: {}", i * 16, hex.join(" "));
    }
    let got: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let want = WORKED_EXAMPLE.concat();
    assert_eq!(got, want);
}
