//! Entry points for the `volume_open` fuzz target and its seeds (not a stable API).

use std::sync::Arc;

use std::collections::BTreeMap;

use super::alloc::Extent;
use super::table::{self, Record};
use super::tail::{self, TailEntry};
use super::{BLOCK, Device, MemDevice, VolumeStorage, journal};

/// Bytes of file `f` in [`volume_with_tail`]'s first data block.
const TAIL_FILE: &[u8] = b"synced bytes, then bytes only the tail knows about";
/// Of which the journal records this many.
const TAIL_FILE_SYNCED: u64 = 13;

/// A formatted memory volume whose live journal holds, after its snapshot, a commit that
/// creates file `f` (inode 1, one block at the data start, [`TAIL_FILE_SYNCED`] bytes),
/// then a validly framed tail carrying `payload` (tail entries, as the fuzzer wrote them),
/// with [`TAIL_FILE`] on the device: tail decoding and application see arbitrary entries.
pub fn volume_with_tail(payload: &[u8]) -> Arc<MemDevice> {
    let dev = Arc::new(MemDevice::new(1 << 20, 1));
    let sb = VolumeStorage::format(&*dev, false).expect("format");
    let first = sb.data_start();
    let records = [
        Record::Inode {
            id: 1,
            len: TAIL_FILE_SYNCED,
            extents: vec![Extent {
                start: first,
                blocks: 1,
            }],
        },
        Record::Link {
            name: "f".into(),
            id: 1,
        },
    ];
    let area = sb.area_start(sb.active_area());
    let commit = journal::frame(sb.generation, 1, false, &records);
    dev.write_at(commit.as_slice(), (area + 1) * BLOCK)
        .expect("write");
    let blocks = commit.as_slice().len() as u64 / BLOCK;
    if let Some(t) = journal::frame_tail(sb.generation, 2, payload) {
        dev.write_at(t.as_slice(), (area + 1 + blocks) * BLOCK)
            .expect("write");
    }
    let mut data = crate::storage::aligned::AlignedBuf::new(BLOCK as usize);
    data.as_mut_slice()[..TAIL_FILE.len()].copy_from_slice(TAIL_FILE);
    dev.write_at(data.as_slice(), first * BLOCK).expect("write");
    dev
}

/// Tail payloads for [`volume_with_tail`] seeds: an entry that applies, one whose bytes
/// do not match, and one over grown extents.
fn tail_seeds(first: u64) -> Vec<Vec<u8>> {
    let from = TAIL_FILE_SYNCED;
    let to = TAIL_FILE.len() as u64;
    let sum = crate::checksum::xxh3(&TAIL_FILE[from as usize..]);
    let entry = |sum, extents| {
        let mut m = BTreeMap::new();
        m.insert(
            1,
            TailEntry {
                id: 1,
                from,
                to,
                sum,
                extents,
            },
        );
        tail::encode(&m)
    };
    let one = vec![Extent {
        start: first,
        blocks: 1,
    }];
    let grown = vec![Extent {
        start: first,
        blocks: 3,
    }];
    vec![
        entry(sum, one.clone()),
        entry(sum ^ 1, one),
        entry(sum, grown),
    ]
}

/// A formatted memory volume of the smallest size whose live journal has, after its
/// snapshot, one validly framed delta commit carrying `payload` (kind byte and records,
/// as the fuzzer wrote them).
pub fn volume_with_commit(payload: &[u8]) -> Arc<MemDevice> {
    let dev = Arc::new(MemDevice::new(1 << 20, 1));
    let sb = VolumeStorage::format(&*dev, false).expect("format");
    let buf = journal::frame_payload(sb.generation, 1, payload);
    let at = (sb.area_start(sb.active_area()) + 1) * BLOCK;
    if at + buf.capacity() as u64 <= sb.data_start() * BLOCK {
        dev.write_at(buf.as_slice(), at).expect("write");
    }
    dev
}

/// Seed inputs for the fuzz target (mode byte first): the superblocks of a fresh
/// volume, and commits that create, rename, replace and remove files.
pub fn seeds() -> Vec<Vec<u8>> {
    let dev = MemDevice::new(1 << 20, 1);
    VolumeStorage::format(&dev, false).expect("format");
    let mut image = vec![0u8];
    image.extend_from_slice(&dev.image()[..2 * BLOCK as usize]);
    let e = |start, blocks| Extent { start, blocks };
    let link = |name: &str, id| Record::Link {
        name: name.into(),
        id,
    };
    let inode = |id, len, extents| Record::Inode { id, len, extents };
    let programs = [
        vec![inode(1, 5000, vec![e(130, 2)]), link("000001.sst", 1)],
        vec![
            inode(1, 10, vec![e(140, 1)]),
            link("CURRENT.tmp", 1),
            Record::Rename {
                from: "CURRENT.tmp".into(),
                to: "CURRENT".into(),
            },
        ],
        vec![
            inode(2, 0, vec![]),
            link("a", 2),
            Record::Unlink { name: "a".into() },
        ],
    ];
    let mut out = vec![image];
    for p in programs {
        let mut input = vec![1u8, 1];
        table::encode(&p, &mut input);
        out.push(input);
    }
    let first = VolumeStorage::format(&MemDevice::new(1 << 20, 1), false)
        .expect("format")
        .data_start();
    for t in tail_seeds(first) {
        let mut input = vec![2u8];
        input.extend_from_slice(&t);
        out.push(input);
    }
    out
}

/// A memory device whose first bytes are `image` (superblocks and journal areas).
pub fn raw_volume(image: &[u8]) -> Arc<MemDevice> {
    let dev = Arc::new(MemDevice::new(1 << 20, 1));
    let n = image.len().min(1 << 20);
    dev.corrupt(0, &image[..n]);
    dev
}
