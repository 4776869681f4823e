//! Entry points for the `volume_open` fuzz target and its seeds (not a stable API).

use std::sync::Arc;

use super::alloc::Extent;
use super::table::{self, Record};
use super::{BLOCK, Device, MemDevice, VolumeStorage, journal};

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
    out
}

/// A memory device whose first bytes are `image` (superblocks and journal areas).
pub fn raw_volume(image: &[u8]) -> Arc<MemDevice> {
    let dev = Arc::new(MemDevice::new(1 << 20, 1));
    let n = image.len().min(1 << 20);
    dev.corrupt(0, &image[..n]);
    dev
}
