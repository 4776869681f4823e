//! Tables with a zstd dictionary (format version 2, codec 3): training, round trips,
//! forged frames, and the size gain on real SCIP documents.

use std::sync::OnceLock;

use super::*;
use crate::sstable::blockio::TRAILER_LEN;
use crate::sstable::codec::{CODEC_NONE, CODEC_ZSTD};
use crate::sstable::dict::{DictDecoder, DictEncoder};

/// One JSON-like record resembling a SCIP symbol entry: heavy shared structure across
/// records (field names, symbol prefixes, doc boilerplate), light variation inside.
fn json_record(rng: &mut TestRng) -> Vec<u8> {
    const PKGS: &[&str] = &[
        "rxjs 7.8.1",
        "typescript 5.4.2",
        "@angular/core 17.0.0",
        "lodash 4.17.21",
    ];
    const KINDS: &[&str] = &["Method", "Function", "Class", "Interface", "Variable"];
    const WORDS: &[&str] = &[
        "map",
        "filter",
        "subscribe",
        "pipe",
        "Observable",
        "Subscriber",
        "operator",
        "source",
        "switchMap",
        "debounceTime",
        "mergeMap",
        "Subject",
    ];
    let mut pick = |xs: &[&'static str]| xs[rng.index(xs.len())];
    let (pkg, kind) = (pick(PKGS), pick(KINDS));
    let (w1, w2, w3) = (pick(WORDS), pick(WORDS), pick(WORDS));
    let (line, col) = (rng.below(5000), rng.below(120));
    format!(
        "{{\"symbol\":\"scip-typescript npm {pkg} src/internal/operators/{w1}.ts/`{w1}`().({w2})\",\
         \"kind\":\"{kind}\",\"range\":[{line},{col},{}],\"enclosing_symbol\":\"{w3}\",\
         \"documentation\":[\"```ts\\n(method) {w1}<T>({w2}: {w3}<T>): OperatorFunction<T, T>\\n```\"],\
         \"relationships\":[{{\"symbol\":\"scip-typescript npm {pkg} src/internal/{w3}.ts/{w2}#\",\
         \"is_reference\":{}}}]}}",
        col + 1 + rng.below(30),
        rng.one_in(2),
    )
    .into_bytes()
}

/// `n` entries of JSON-like records under path-like keys, in table order.
fn json_entries(seed: u64, n: u32) -> Entries {
    let mut rng = TestRng::new(seed);
    (0..n)
        .map(|i| {
            let key = format!("doc/src/internal/operators/file{:04}.ts/{i:08}", i / 50);
            (
                make_internal_key(key.as_bytes(), 1, 1),
                json_record(&mut rng),
            )
        })
        .collect()
}

/// A small dictionary (≤ 4 KiB) trained on JSON-like records, shared by the tests that
/// only need *a* valid dictionary; kept small so flipping every byte of a table stays fast.
pub(super) fn small_dictionary() -> Arc<[u8]> {
    static DICT: OnceLock<Arc<[u8]>> = OnceLock::new();
    DICT.get_or_init(|| {
        let mut rng = TestRng::new(99);
        let samples: Vec<Vec<u8>> = (0..600).map(|_| json_record(&mut rng)).collect();
        train_dictionary(&samples, 4096).unwrap().into()
    })
    .clone()
}

/// Codec id of every data block of a well-formed table, from its trailers.
fn data_block_codecs(bytes: &[u8]) -> Vec<u8> {
    let table = open(bytes.to_vec()).unwrap();
    table
        .data_block_handles()
        .unwrap()
        .iter()
        .map(|h| bytes[(h.offset + h.size) as usize])
        .collect()
}

#[test]
fn dictionary_tables_round_trip_and_beat_plain_zstd_on_json_records() {
    for seed in seeds(&[31, 32]) {
        let entries = json_entries(seed, 3000);
        let zstd = TableOptions {
            block_size: 4096,
            codec: Codec::Zstd { level: 19 },
            ..TableOptions::default()
        };
        // The compaction's flow: sample the input table, train, write with the dictionary.
        let (plain_bytes, plain) = build(&entries, zstd.clone());
        let input = open(plain_bytes).unwrap();
        let samples = sample_blocks(&input, 100).unwrap();
        assert_eq!(samples.len(), 100, "seed {seed}");
        assert_eq!(input.blocks_read(), 100);
        let dict: Arc<[u8]> = train_dictionary(&samples, 16 * 1024).unwrap().into();
        let opts = TableOptions {
            dictionary: Some(dict.clone()),
            ..zstd
        };
        let (bytes, summary) = build(&entries, opts.clone());
        let table = open(bytes.clone()).unwrap();
        assert_eq!(table.properties(), &summary.props);
        check_properties(table.properties(), &entries, &opts);
        let codecs = data_block_codecs(&bytes);
        assert!(
            codecs.iter().all(|&c| c == CODEC_ZSTD_DICT),
            "seed {seed}: {codecs:?}"
        );
        let mut it = table.iter();
        check_iterator(&mut it, &entries, &mut TestRng::new(seed), 300).unwrap();
        for (k, v) in entries.iter().step_by(37) {
            let got = table.get(crate::key::user_key(k), 1).unwrap().unwrap();
            assert_eq!(&got.value, v);
        }
        println!(
            "seed {seed}: {} entries, data blocks zstd-19 {} B, zstd-19 + {} B dictionary {} B \
             (file {} vs {} B)",
            entries.len(),
            plain.props.data_bytes,
            dict.len(),
            summary.props.data_bytes,
            plain.file_size,
            summary.file_size
        );
        assert!(summary.props.data_bytes < plain.props.data_bytes);
    }
}

#[test]
fn sample_blocks_are_evenly_spread_decompressed_data_blocks() {
    let entries = json_entries(5, 400);
    let opts = TableOptions {
        block_size: 1024,
        codec: Codec::Lz4,
        ..TableOptions::default()
    };
    let (bytes, summary) = build(&entries, opts);
    let table = open(bytes).unwrap();
    let n = summary.props.num_data_blocks as usize;
    let all = sample_blocks(&table, usize::MAX).unwrap();
    assert_eq!(all.len(), n);
    // Decompressed blocks hold the entries verbatim.
    assert!(all[0].windows(8).any(|w| w == b"\"symbol\""));
    let some = sample_blocks(&table, 4).unwrap();
    let positions: Vec<usize> = some
        .iter()
        .map(|s| all.iter().position(|b| b == s).unwrap())
        .collect();
    assert_eq!(positions, [0, n / 4, n / 2, 3 * n / 4]);
    assert!(sample_blocks(&table, 0).unwrap().is_empty());
}

#[test]
fn training_without_enough_samples_is_an_error_not_a_panic() {
    let few = vec![b"abc".to_vec(), b"abd".to_vec()];
    for (samples, size) in [
        (Vec::new(), 4096),
        (few.clone(), 4096),
        (few.clone(), 0),
        (few, MAX_DICTIONARY_LEN + 1),
    ] {
        let r = train_dictionary(&samples, size);
        assert!(
            matches!(r, Err(Error::InvalidArgument(_))),
            "{} samples, size {size}: {r:?}",
            samples.len()
        );
    }
}

#[test]
fn builder_rejects_unusable_dictionaries() {
    for dict in [
        b"raw content, no zstd dictionary header".to_vec(),
        vec![0x37; MAX_DICTIONARY_LEN + 1],
    ] {
        let opts = TableOptions {
            codec: Codec::Zstd { level: 3 },
            dictionary: Some(dict.into()),
            ..TableOptions::default()
        };
        let mut b = TableBuilder::new(Box::new(MemFile::default()), "d".into(), opts);
        let r = b.add(&make_internal_key(b"k", 1, 1), b"v");
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
        assert!(matches!(b.finish(), Err(Error::InvalidArgument(_))));
    }
}

/// Rewrites the codec byte of the block at `h` (recomputing its checksum), as a writer
/// with a bug or a forger would.
fn set_codec(bytes: &mut [u8], h: BlockHandle, codec: u8) {
    let end = (h.offset + h.size) as usize;
    bytes[end] = codec;
    let sum = xxh3_parts(&[
        &bytes[h.offset as usize..end],
        &[codec],
        &bytes[end + 1..end + 5],
    ]);
    bytes[end + 5..end + TRAILER_LEN].copy_from_slice(&sum.to_le_bytes());
}

#[test]
fn codec_3_without_the_tables_dictionary_is_corruption() {
    let entries = json_entries(7, 300);
    // A version-1 table whose zstd data blocks claim codec 3.
    let opts = TableOptions {
        block_size: 2048,
        codec: Codec::Zstd { level: 3 },
        ..TableOptions::default()
    };
    let (mut bytes, _) = build(&entries, opts);
    assert!(data_block_codecs(&bytes).iter().all(|&c| c == CODEC_ZSTD));
    let h = open(bytes.clone()).unwrap().data_block_handles().unwrap()[0];
    set_codec(&mut bytes, h, CODEC_ZSTD_DICT);
    let table = open(bytes).unwrap();
    let first = crate::key::user_key(&entries[0].0);
    let err = table.get(first, 1).unwrap_err();
    assert!(err.is_corruption(), "{err}");
    assert!(err.to_string().contains("codec 3"), "{err}");

    // A dictionary table whose dictionary-compressed block is relabelled plain zstd: zstd
    // itself refuses a frame that needs a dictionary it was not given.
    let opts = TableOptions {
        block_size: 2048,
        codec: Codec::Zstd { level: 3 },
        dictionary: Some(small_dictionary()),
        ..TableOptions::default()
    };
    let (mut bytes, _) = build(&entries, opts);
    let h = open(bytes.clone()).unwrap().data_block_handles().unwrap()[0];
    set_codec(&mut bytes, h, CODEC_ZSTD);
    let err = open(bytes).unwrap().get(first, 1).unwrap_err();
    assert!(err.is_corruption(), "{err}");
}

#[test]
fn dictionary_frames_must_name_the_tables_dictionary() {
    let dict = small_dictionary();
    let decoder = DictDecoder::new(&dict).unwrap();
    let raw = json_entries(3, 20).concat_values();
    let mut enc = DictEncoder::new(&dict, 3).unwrap();
    let frame = enc.compress(&raw).unwrap();
    assert_eq!(decoder.decompress(&frame, raw.len()).unwrap(), raw);
    assert!(decoder.decompress(&frame, raw.len() - 1).is_err());
    assert!(decoder.decompress(&frame, raw.len() + 1).is_err());
    // A plain frame (no dictionary id) and a frame for another dictionary.
    let plain = zstd::bulk::compress(&raw, 3).unwrap();
    let err = decoder.decompress(&plain, raw.len()).unwrap_err();
    assert!(err.contains("does not reference"), "{err}");
    let mut rng = TestRng::new(1234);
    let other_samples: Vec<Vec<u8>> = (0..600)
        .map(|_| {
            let mut r = json_record(&mut rng);
            r.reverse();
            r
        })
        .collect();
    let other = train_dictionary(&other_samples, 4096).unwrap();
    assert_ne!(dictionary_id(&other), dictionary_id(&dict));
    let foreign = DictEncoder::new(&other, 3).unwrap().compress(&raw).unwrap();
    let err = decoder.decompress(&foreign, raw.len()).unwrap_err();
    assert!(err.contains("references dictionary"), "{err}");
    // Garbage never panics.
    for len in 0..64 {
        let g = TestRng::new(len).bytes(len as usize);
        assert!(decoder.decompress(&g, 100).is_err());
    }
}

trait ConcatValues {
    fn concat_values(&self) -> Vec<u8>;
}

impl ConcatValues for Entries {
    fn concat_values(&self) -> Vec<u8> {
        self.iter().flat_map(|(_, v)| v.iter().copied()).collect()
    }
}

#[test]
fn forged_dictionary_blocks_are_corruption() {
    let expect_corruption = |bytes: Vec<u8>, what: &str| match open(bytes) {
        Err(e) => assert!(e.is_corruption(), "{what}: {e}"),
        Ok(_) => panic!("{what}: opened"),
    };
    let index = forge_block(b"abcd", 0, 4);
    let dict = small_dictionary();
    let mut f = Footer {
        index: BlockHandle { offset: 0, size: 4 },
        format_version: 2,
        ..Footer::default()
    };
    // Not a zstd dictionary; a dictionary whose entropy tables are damaged; too large.
    let mut damaged = dict.to_vec();
    for b in &mut damaged[8..40] {
        *b = 0xff;
    }
    let huge_len = (MAX_DICTIONARY_LEN + 1) as u32;
    for (payload, codec, len, what) in [
        (
            b"not a dictionary".to_vec(),
            CODEC_NONE,
            16,
            "not a dictionary",
        ),
        (
            damaged.clone(),
            CODEC_NONE,
            damaged.len() as u32,
            "damaged header",
        ),
        (vec![0; 8], CODEC_ZSTD, huge_len, "claims more than 1 MiB"),
        (
            dict.to_vec(),
            CODEC_ZSTD_DICT,
            dict.len() as u32,
            "codec 3 dictionary",
        ),
    ] {
        let mut file = index.clone();
        f.dictionary = BlockHandle {
            offset: file.len() as u64,
            size: payload.len() as u64,
        };
        file.extend(forge_block(&payload, codec, len));
        expect_corruption(forge_footer(&file, f), what);
    }
    // A handle claiming more than the limit is rejected before it is read.
    f.dictionary = BlockHandle {
        offset: 0,
        size: MAX_DICTIONARY_LEN as u64 + 1,
    };
    expect_corruption(forge_footer(&index, f), "huge dictionary handle");
    // The real dictionary opens (the index block is garbage, so open still fails, but
    // later: on the index, not the dictionary).
    let mut file = index.clone();
    f.dictionary = BlockHandle {
        offset: 4 + TRAILER_LEN as u64,
        size: dict.len() as u64,
    };
    file.extend(forge_block(&dict, CODEC_NONE, dict.len() as u32));
    let err = open(forge_footer(&file, f)).unwrap_err();
    assert!(err.is_corruption());
    assert!(err.to_string().contains("at offset 0"), "{err}");
}

/// Splits the Document messages of a real SCIP index into fixed-size blocks (the
/// documents' protobuf encodings, concatenated), up to `limit` bytes.
fn scip_blocks(block_size: usize, limit: usize) -> Vec<Vec<u8>> {
    use crate::scip::{IndexItem, IndexReader};
    use prost::Message;
    let path = crate::scip::testdata::scip_file("rxjs.scip.zst");
    let mut reader = IndexReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut stream = Vec::new();
    while stream.len() < limit {
        match reader.next_item().unwrap() {
            Some(IndexItem::Document(doc)) => stream.extend(doc.encode_to_vec()),
            Some(_) => {}
            None => break,
        }
    }
    stream.truncate(limit);
    stream.chunks(block_size).map(<[u8]>::to_vec).collect()
}

/// Measures zstd-19 with and without a dictionary on 4 KiB and 16 KiB blocks of real SCIP
/// documents. The dictionary (64 KiB) is trained on every other block and measured on the
/// blocks it never saw, so the gain is not memorisation. Debug builds compile zstd without
/// optimisation, hence the 2 MiB sample.
#[test]
fn zstd_19_with_a_dictionary_beats_plain_zstd_19_on_scip_blocks() {
    const LIMIT: usize = 2 << 20;
    const DICT_SIZE: usize = 64 * 1024;
    for block_size in [4096, 16 * 1024] {
        let blocks = scip_blocks(block_size, LIMIT);
        let train: Vec<&Vec<u8>> = blocks.iter().step_by(2).collect();
        let test: Vec<&Vec<u8>> = blocks.iter().skip(1).step_by(2).collect();
        let dict = train_dictionary(&train, DICT_SIZE).unwrap();
        let mut enc = DictEncoder::new(&dict, 19).unwrap();
        let dec = DictDecoder::new(&dict).unwrap();
        let (mut raw, mut plain, mut with_dict) = (0, 0, 0);
        for b in &test {
            raw += b.len();
            plain += zstd::bulk::compress(b, 19).unwrap().len();
            let c = enc.compress(b).unwrap();
            assert_eq!(&dec.decompress(&c, b.len()).unwrap(), *b);
            with_dict += c.len();
        }
        println!(
            "rxjs.scip, {} KiB blocks, {} held-out blocks ({raw} B): zstd-19 {plain} B \
             ({:.1}%), zstd-19 + dictionary {with_dict} B ({:.1}%), dictionary {} B trained \
             on {} blocks",
            block_size / 1024,
            test.len(),
            100.0 * plain as f64 / raw as f64,
            100.0 * with_dict as f64 / raw as f64,
            dict.len(),
            train.len(),
        );
        if block_size == 4096 {
            assert!(
                with_dict < plain,
                "dictionary {with_dict} B vs plain {plain} B"
            );
        }
    }
}
