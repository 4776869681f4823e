//! Damage at rest on a raw volume: single-byte flips in the superblocks, the journal areas
//! and the data extents of a volume holding a database. Every open either fails with
//! `Corruption` or succeeds, and then every read returns the right value or a `Corruption`
//! error, never wrong data. `SCIPKV_SEED` reruns a failure.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{Rng, seed};
use scipkv_engine::storage::volume::{BLOCK, MemDevice, VolumeStorage};
use scipkv_engine::{CompactionOptions, Db, Error, Options, TableOptions};

const SIZE: u64 = 8 << 20;

fn options(volume: VolumeStorage) -> Options {
    Options {
        memtable_size: 8 << 10,
        block_cache_bytes: 0,
        table: TableOptions {
            block_size: 512,
            ..TableOptions::default()
        },
        compaction: CompactionOptions {
            auto: false,
            ..CompactionOptions::default()
        },
        storage: Some(Arc::new(volume)),
        ..Options::default()
    }
}

fn device(image: &[u8], seed: u64) -> Arc<MemDevice> {
    let d = MemDevice::new(image.len() as u64, seed);
    d.corrupt(0, image);
    Arc::new(d)
}

fn open(dev: Arc<MemDevice>) -> scipkv_engine::Result<Db> {
    Db::open("damaged-volume", options(VolumeStorage::open(dev)?))
}

fn ok_or_corrupt<T>(r: scipkv_engine::Result<T>, what: &str) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(Error::Corruption { .. }) => None,
        Err(e) => panic!("{what}: expected data or Corruption, got {e}"),
    }
}

#[test]
fn flipped_bytes_are_corruption_or_harmless_never_wrong_data() {
    let seed = seed("volume_corruption");
    let mut rng = Rng::new(seed);
    let dev = Arc::new(MemDevice::new(SIZE, seed));
    VolumeStorage::format(&*dev, false).unwrap();
    let mut model = BTreeMap::new();
    {
        let db = open(dev.clone()).unwrap();
        for i in 0..600u32 {
            let k = format!("key{:04}", rng.below(400)).into_bytes();
            let len = rng.below(200) as usize;
            let v = rng.bytes(len);
            db.put(&k, &v).unwrap();
            model.insert(k, v);
            if i == 300 {
                db.compact_all().unwrap();
            }
        }
        db.flush().unwrap();
        db.close().unwrap();
    }
    let image = dev.image();
    let vol = VolumeStorage::open(device(&image, 1)).unwrap();
    let stats = vol.stats();
    drop(vol);
    let used_end =
        (stats.data_bytes - stats.free_bytes) as usize + (image.len() - stats.data_bytes as usize);
    let data_start = image.len() - stats.data_bytes as usize;
    let area = (2 + (stats.generation % 2) * stats.journal_blocks) * BLOCK;
    let area_used = stats.journal_used_blocks * BLOCK;
    let (mut refused, mut served, mut read_errors) = (0u64, 0u64, 0u64);
    for trial in 0..300u64 {
        // The superblocks' encoded bytes, the live journal's commits, and used data.
        let at = match trial % 4 {
            0 => (rng.below(2) * BLOCK + rng.below(64)) as usize,
            1 => (area + rng.below(area_used)) as usize,
            _ => data_start + rng.below((used_end - data_start) as u64) as usize,
        };
        let mut damaged = image.clone();
        damaged[at] ^= 1 << rng.below(8);
        let ctx = format!("seed {seed} trial {trial}: flip at byte {at}");
        let Some(db) = ok_or_corrupt(open(device(&damaged, trial)), &ctx) else {
            refused += 1;
            continue;
        };
        served += 1;
        match db
            .iter::<&[u8]>(..)
            .collect::<scipkv_engine::Result<Vec<_>>>()
        {
            Ok(all) => {
                let got: BTreeMap<_, _> = all.into_iter().collect();
                assert!(got == model, "{ctx}: scan returned wrong data");
            }
            Err(e) => {
                assert!(e.is_corruption(), "{ctx}: scan: {e}");
                read_errors += 1;
            }
        }
        for k in model.keys().take(50) {
            if let Some(v) = ok_or_corrupt(db.get(k), &ctx) {
                assert_eq!(v.as_ref(), model.get(k), "{ctx}: get {k:?}");
            }
        }
    }
    assert!(refused > 0 && read_errors > 0, "flips were noticed");
    println!(
        "volume_corruption: {refused} opens refused with Corruption, {served} served \
         ({read_errors} scans hit Corruption), seed {seed}"
    );
}

/// Damage confined to the newest journal commit: that commit was acknowledged (the tail
/// written after its flush seals it), so the open is `Corruption`, not a silent rollback
/// to the state before it. The same damage without the tail after it is what a power loss
/// during that commit's write leaves: a torn, never acknowledged commit, cut off at open.
#[test]
fn damage_to_the_newest_acknowledged_commit_is_corruption() {
    let dev = Arc::new(MemDevice::new(SIZE, 7));
    VolumeStorage::format(&*dev, false).unwrap();
    {
        let db = open(dev.clone()).unwrap();
        for i in 0..50u32 {
            db.put(format!("k{i}").as_bytes(), b"v").unwrap();
        }
        db.close().unwrap();
    }
    let image = dev.image();
    let stats = VolumeStorage::open(device(&image, 1)).unwrap().stats();
    let area = 2 + (stats.generation % 2) * stats.journal_blocks;
    // Walk the live area's commits (each header's block count at offset 4) to the last one.
    let (mut at, mut last) = (0u64, None);
    while at < stats.journal_used_blocks {
        let o = ((area + at) * BLOCK) as usize;
        assert_eq!(&image[o..o + 4], b"VJC1", "commit at block {at}");
        last = Some(o);
        at += u64::from(u32::from_le_bytes(image[o + 4..o + 8].try_into().unwrap()));
    }
    let last = last.expect("the journal holds commits");
    let tail = ((area + at) * BLOCK) as usize;
    assert_eq!(
        &image[tail..tail + 4],
        b"VJT1",
        "the tail follows the last commit"
    );
    let mut damaged = image.clone();
    damaged[last + 41] ^= 0x10;
    match open(device(&damaged, 2)) {
        Err(e) => assert!(e.is_corruption(), "{e}"),
        Ok(_) => panic!("damage to an acknowledged commit was served"),
    }
    damaged[tail..tail + BLOCK as usize].fill(0);
    let vol = VolumeStorage::open(device(&damaged, 3)).unwrap();
    assert!(vol.stats().torn_commit_at_open);
    assert_eq!(
        vol.stats().journal_used_blocks,
        (last / BLOCK as usize) as u64 - area
    );
}
