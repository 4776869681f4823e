//! Properties every chunker must have, run against both.
//!
//! Random tests print their seed; rerun one with `SCIPKV_SEED=<seed>` to reproduce it.

use std::collections::HashSet;

use super::{ChunkSizes, Chunker, GearChunker, RabinChunker, StreamChunker, chunks, splitmix64};

pub(super) fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The seed to use: `SCIPKV_SEED` if set, else the test's fixed default. Printed either way.
fn seed(test: &str, default: u64) -> u64 {
    let seed = std::env::var("SCIPKV_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    println!("{test}: seed {seed} (rerun with SCIPKV_SEED={seed})");
    seed
}

/// Sizes of the golden cut-point tests, fixed independently of the defaults.
pub(super) const GOLDEN_SIZES: ChunkSizes = ChunkSizes {
    min: 2048,
    avg: 8192,
    max: 65536,
};

/// Small sizes keep the debug-build tests fast while exercising every code path.
const SMALL: ChunkSizes = ChunkSizes {
    min: 256,
    avg: 1024,
    max: 8192,
};

fn both(sizes: ChunkSizes) -> [(&'static str, Box<dyn Chunker>); 2] {
    [
        ("gear", Box::new(GearChunker::new(sizes).unwrap())),
        ("rabin", Box::new(RabinChunker::new(sizes).unwrap())),
    ]
}

fn lens(c: &dyn Chunker, data: &[u8]) -> Vec<usize> {
    chunks(c, data).map(<[u8]>::len).collect()
}

#[test]
fn empty_input_yields_no_chunks() {
    for (name, c) in both(ChunkSizes::DEFAULT) {
        assert_eq!(chunks(c.as_ref(), &[]).count(), 0, "{name}");
        assert_eq!(c.next_boundary(&[]), 0, "{name}");
    }
}

#[test]
fn input_up_to_min_is_one_chunk() {
    let data = random_bytes(1, SMALL.min + 1);
    for (name, c) in both(SMALL) {
        for len in [1, 2, SMALL.min - 1, SMALL.min] {
            assert_eq!(
                lens(c.as_ref(), &data[..len]),
                vec![len],
                "{name} len {len}"
            );
        }
    }
}

#[test]
fn chunks_respect_bounds_and_cover_input() {
    let seed = seed("chunks_respect_bounds_and_cover_input", 11);
    let random = random_bytes(seed, 1 << 20);
    // Zeros never cut with gear (every chunk hits max) and always cut at min+1 with Rabin.
    let zeros = vec![0u8; 100_000];
    let text: Vec<u8> = (0..200_000u32)
        .map(|i| b"abcab"[(i % 5) as usize])
        .collect();
    for sizes in [SMALL, ChunkSizes::DEFAULT] {
        for (name, c) in both(sizes) {
            for data in [&random, &zeros, &text] {
                let all: Vec<&[u8]> = chunks(c.as_ref(), data).collect();
                assert_eq!(all.concat(), *data, "{name}");
                let (last, body) = all.split_last().unwrap();
                for ch in body {
                    assert!(
                        (sizes.min..=sizes.max).contains(&ch.len()),
                        "{name} {}",
                        ch.len()
                    );
                }
                assert!(!last.is_empty() && last.len() <= sizes.max, "{name}");
            }
        }
    }
}

#[test]
fn chunking_is_deterministic() {
    let data = random_bytes(seed("chunking_is_deterministic", 12), 300_000);
    for (name, c) in both(SMALL) {
        let again = both(SMALL).into_iter().find(|(n, _)| *n == name).unwrap().1;
        assert_eq!(
            lens(c.as_ref(), &data),
            lens(again.as_ref(), &data),
            "{name}"
        );
    }
}

/// Chunks of `edited` that `original` does not contain.
fn new_chunks(c: &dyn Chunker, original: &[u8], edited: &[u8]) -> usize {
    let old: HashSet<&[u8]> = chunks(c, original).collect();
    chunks(c, edited).filter(|ch| !old.contains(ch)).count()
}

#[test]
fn one_byte_edit_changes_few_chunks() {
    let seed = seed("one_byte_edit_changes_few_chunks", 13);
    let mut rng = seed;
    let trials = 64;
    let original = random_bytes(seed, 1 << 20);
    for (name, c) in both(ChunkSizes::DEFAULT) {
        let mut total = 0;
        for _ in 0..trials {
            let mut edited = original.clone();
            let pos = (splitmix64(&mut rng) % edited.len() as u64) as usize;
            edited[pos] ^= 1 + (splitmix64(&mut rng) % 255) as u8;
            total += new_chunks(c.as_ref(), &original, &edited);
        }
        let avg = total as f64 / trials as f64;
        println!("{name}: {avg:.2} new chunks per one-byte edit over {trials} trials");
        // A changed byte lands in one chunk; it may also create or remove a cut nearby.
        assert!(avg >= 1.0 && avg <= if name == "gear" { 2.0 } else { 3.0 });
    }
}

#[test]
fn insertion_and_deletion_resynchronize() {
    let seed = seed("insertion_and_deletion_resynchronize", 14);
    let mut rng = seed;
    let original = random_bytes(seed, 1 << 20);
    let max = ChunkSizes::DEFAULT.max;
    for (name, c) in both(ChunkSizes::DEFAULT) {
        let (mut total, trials) = (0, 16);
        for trial in 0..trials {
            let pos =
                original.len() / 4 + (splitmix64(&mut rng) % (original.len() / 2) as u64) as usize;
            let n = 1 + (splitmix64(&mut rng) % 100) as usize;
            let mut edited = original.clone();
            if trial % 2 == 0 {
                let ins = random_bytes(splitmix64(&mut rng), n);
                edited.splice(pos..pos, ins);
            } else {
                edited.drain(pos..pos + n);
            }
            // The chunk lists share a suffix that starts soon after the edit.
            let a: Vec<&[u8]> = chunks(c.as_ref(), &original).collect();
            let b: Vec<&[u8]> = chunks(c.as_ref(), &edited).collect();
            let common = a
                .iter()
                .rev()
                .zip(b.iter().rev())
                .take_while(|(x, y)| x == y);
            let suffix_bytes: usize = common.map(|(x, _)| x.len()).sum();
            let resync_at = edited.len() - suffix_bytes;
            assert!(
                resync_at <= pos + n + 2 * max,
                "{name}: resync at {resync_at}, edit {pos}"
            );
            total += new_chunks(c.as_ref(), &original, &edited);
        }
        let avg = total as f64 / trials as f64;
        println!("{name}: {avg:.2} new chunks per insertion/deletion over {trials} trials");
        assert!(avg <= 3.0, "{name}");
    }
}

fn stream(c: impl Chunker, data: &[u8], mut piece: impl FnMut() -> usize) -> Vec<Vec<u8>> {
    let mut s = StreamChunker::new(c);
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let (now, later) = rest.split_at(piece().min(rest.len()));
        s.push(now, |ch| out.push(ch.to_vec()));
        rest = later;
    }
    s.finish(|ch| out.push(ch.to_vec()));
    out
}

#[test]
fn streaming_equals_one_shot() {
    let seed = seed("streaming_equals_one_shot", 15);
    let mut rng = seed;
    let data = random_bytes(seed, 600_000);
    let sizes = SMALL;
    for trial in 0..8 {
        let limit = [1, 7, 300, sizes.max, 3 * sizes.max][trial % 5] as u64;
        let gear = GearChunker::new(sizes).unwrap();
        let rabin = RabinChunker::new(sizes).unwrap();
        let whole_gear: Vec<&[u8]> = chunks(&gear, &data).collect();
        let whole_rabin: Vec<&[u8]> = chunks(&rabin, &data).collect();
        let piece = |rng: &mut u64| (splitmix64(rng) % (limit + 1)) as usize;
        assert_eq!(
            stream(gear.clone(), &data, || piece(&mut rng)),
            whole_gear,
            "gear trial {trial}"
        );
        assert_eq!(
            stream(rabin.clone(), &data, || piece(&mut rng)),
            whole_rabin,
            "rabin trial {trial}"
        );
    }
}

#[test]
fn stream_buffers_at_most_max_plus_one_piece() {
    let data = random_bytes(16, 100_000);
    let mut s = StreamChunker::new(GearChunker::new(SMALL).unwrap());
    for piece in data.chunks(1000) {
        s.push(piece, |_| {});
        assert!(s.buffered() < SMALL.max, "{}", s.buffered());
    }
}

#[test]
fn empty_stream_yields_no_chunks() {
    let s = StreamChunker::new(GearChunker::default());
    let mut n = 0;
    s.finish(|_| n += 1);
    assert_eq!(n, 0);
}
