//! The metadata journal: commits of [`Record`]s in one of two journal areas.
//!
//! Each commit starts on a block boundary and fills whole blocks, so appending never
//! rewrites a block that holds an earlier commit. Its header carries the area's epoch (the
//! superblock generation that made the area live) and a sequence number, so leftovers of an
//! older use of the same area are never replayed. Commit 0 of an epoch is a snapshot of the
//! whole table (a checkpoint); the rest are deltas. After the last commit sits the *tail*
//! block (`tail.rs`), written once that commit is durable. Replay stops at the first commit
//! that is not valid: the end of the journal if a valid tail of the next sequence is there,
//! a torn last commit (never acknowledged) if no valid commit or tail of a later sequence
//! follows anywhere in the area, corruption otherwise (format-spec/volume.md, "Journal").

use crate::checksum::xxh3_parts;
use crate::storage::aligned::AlignedBuf;

use super::device::{BLOCK, Device};
use super::table::{self, Record, Table};
use super::tail::{self, TailEntry};

pub const COMMIT_MAGIC: [u8; 4] = *b"VJC1";
pub const TAIL_MAGIC: [u8; 4] = *b"VJT1";
pub const HEADER_LEN: usize = 40;
const KIND_SNAPSHOT: u8 = 0;
const KIND_DELTA: u8 = 1;

/// A commit header whose fields are in range (the checksum is checked with the payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    blocks: u32,
    epoch: u64,
    seq: u64,
    payload_len: u32,
    sum: u64,
}

fn parse_header(b: &[u8], magic: [u8; 4]) -> Option<Header> {
    if b.len() < HEADER_LEN || b[..4] != magic {
        return None;
    }
    let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let u64_at = |o: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[o..o + 8]);
        u64::from_le_bytes(a)
    };
    let h = Header {
        blocks: u32_at(4),
        epoch: u64_at(8),
        seq: u64_at(16),
        payload_len: u32_at(24),
        sum: u64_at(32),
    };
    let room = u64::from(h.blocks) * BLOCK - HEADER_LEN as u64;
    if h.blocks == 0 || u64::from(h.payload_len) > room || u32_at(28) != 0 {
        return None;
    }
    Some(h)
}

/// Encodes one commit into whole blocks.
pub fn frame(epoch: u64, seq: u64, snapshot: bool, records: &[Record]) -> AlignedBuf {
    let mut payload = vec![if snapshot { KIND_SNAPSHOT } else { KIND_DELTA }];
    table::encode(records, &mut payload);
    frame_payload(epoch, seq, &payload)
}

/// Frames an already encoded payload (kind byte and records) as a commit.
pub fn frame_payload(epoch: u64, seq: u64, payload: &[u8]) -> AlignedBuf {
    frame_with(COMMIT_MAGIC, epoch, seq, payload)
}

/// Bytes a tail's payload may take (a tail is one block).
pub const TAIL_ROOM: usize = BLOCK as usize - HEADER_LEN;

/// Frames the tail block of sequence `seq` (the sequence the next commit will have), or
/// `None` when the entries do not fit in one block.
pub fn frame_tail(epoch: u64, seq: u64, payload: &[u8]) -> Option<AlignedBuf> {
    (payload.len() <= TAIL_ROOM).then(|| frame_with(TAIL_MAGIC, epoch, seq, payload))
}

fn frame_with(magic: [u8; 4], epoch: u64, seq: u64, payload: &[u8]) -> AlignedBuf {
    let blocks = (HEADER_LEN + payload.len()).div_ceil(BLOCK as usize);
    let mut buf = AlignedBuf::new(blocks * BLOCK as usize);
    let b = buf.as_mut_slice();
    b[..4].copy_from_slice(&magic);
    b[4..8].copy_from_slice(&(blocks as u32).to_le_bytes());
    b[8..16].copy_from_slice(&epoch.to_le_bytes());
    b[16..24].copy_from_slice(&seq.to_le_bytes());
    b[24..28].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    // 28..32 reserved, zero.
    let sum = xxh3_parts(&[&b[..32], payload]);
    b[32..40].copy_from_slice(&sum.to_le_bytes());
    b[HEADER_LEN..HEADER_LEN + payload.len()].copy_from_slice(payload);
    buf
}

/// Blocks a commit of `records` takes.
pub fn commit_blocks(records: &[Record]) -> u64 {
    let mut payload = vec![0u8];
    table::encode(records, &mut payload);
    (HEADER_LEN + payload.len()).div_ceil(BLOCK as usize) as u64
}

/// Why replay failed.
#[derive(Debug)]
pub enum ReplayError {
    Io(std::io::Error),
    /// A bad commit and the block (absolute) where it starts.
    Corrupt {
        block: u64,
        what: String,
    },
}

impl From<std::io::Error> for ReplayError {
    fn from(e: std::io::Error) -> Self {
        ReplayError::Io(e)
    }
}

/// What replaying an area found.
#[derive(Debug)]
pub struct Replayed {
    pub table: Table,
    /// Block (relative to the area) where the next commit goes.
    pub next_block: u64,
    pub next_seq: u64,
    /// True when a damaged last commit (a torn write) was cut off.
    pub torn: bool,
    /// The entries of the valid tail block at the end, if there is one.
    pub tail: Option<Vec<TailEntry>>,
}

/// The commit at `block` of the area image `area` if it is a fully valid commit of `epoch`.
fn read_commit(area: &[u8], block: u64, epoch: u64) -> Option<(Header, &[u8])> {
    read_framed(area, block, epoch, COMMIT_MAGIC)
}

/// The tail block at `block`, if valid for `epoch`.
fn read_tail(area: &[u8], block: u64, epoch: u64) -> Option<(Header, &[u8])> {
    read_framed(area, block, epoch, TAIL_MAGIC).filter(|(h, _)| h.blocks == 1)
}

fn read_framed(area: &[u8], block: u64, epoch: u64, magic: [u8; 4]) -> Option<(Header, &[u8])> {
    let at = usize::try_from(block * BLOCK).ok()?;
    let h = parse_header(area.get(at..)?, magic)?;
    let end = at.checked_add(h.blocks as usize * BLOCK as usize)?;
    if h.epoch != epoch || end > area.len() {
        return None;
    }
    let all = &area[at..end];
    let payload = &all[HEADER_LEN..HEADER_LEN + h.payload_len as usize];
    (xxh3_parts(&[&all[..32], payload]) == h.sum).then_some((h, payload))
}

/// Reads a whole journal area (at most `MAX_JOURNAL_BLOCKS` blocks).
fn read_area(dev: &dyn Device, area: u64, area_blocks: u64) -> std::io::Result<Vec<u8>> {
    let mut img = vec![0u8; (area_blocks * BLOCK) as usize];
    dev.read_at(&mut img, area * BLOCK)?;
    Ok(img)
}

/// Replays the journal area starting at absolute block `area` (`area_blocks` long) written
/// in `epoch`.
pub fn replay(
    dev: &dyn Device,
    area: u64,
    area_blocks: u64,
    epoch: u64,
) -> Result<Replayed, ReplayError> {
    let img = read_area(dev, area, area_blocks)?;
    let mut table = Table::default();
    let (mut block, mut seq) = (0u64, 0u64);
    while block < area_blocks {
        let Some((h, payload)) = read_commit(&img, block, epoch) else {
            break;
        };
        if h.seq != seq {
            break;
        }
        let corrupt = |what: String| ReplayError::Corrupt {
            block: area + block,
            what,
        };
        let (&kind, body) = payload
            .split_first()
            .ok_or_else(|| corrupt("empty commit".into()))?;
        let want = if seq == 0 { KIND_SNAPSHOT } else { KIND_DELTA };
        if kind != want {
            return Err(corrupt(format!("commit {seq} of kind {kind}")));
        }
        for r in table::decode(body).map_err(&corrupt)? {
            table.apply(&r).map_err(&corrupt)?;
        }
        block += u64::from(h.blocks);
        seq += 1;
    }
    if seq == 0 {
        return Err(ReplayError::Corrupt {
            block: area,
            what: format!("no valid snapshot commit of epoch {epoch}"),
        });
    }
    if let Some((h, payload)) = read_tail(&img, block, epoch)
        && h.seq == seq
    {
        let entries = tail::decode(payload).map_err(|what| ReplayError::Corrupt {
            block: area + block,
            what: format!("tail: {what}"),
        })?;
        table.drop_orphans();
        return Ok(Replayed {
            table,
            next_block: block,
            next_seq: seq,
            torn: false,
            tail: Some(entries),
        });
    }
    // Damage followed by a valid later commit, or by the tail that sealed the damaged
    // commit once it was durable, is not a torn write.
    for later in block + 1..area_blocks {
        if let Some((h, _)) = read_commit(&img, later, epoch).or(read_tail(&img, later, epoch))
            && h.seq > seq
        {
            return Err(ReplayError::Corrupt {
                block: area + block,
                what: format!(
                    "commit {seq} is damaged but it was acknowledged ({} {} follows)",
                    if img[(later * BLOCK) as usize..][..4] == TAIL_MAGIC {
                        "the tail of sequence"
                    } else {
                        "commit"
                    },
                    h.seq
                ),
            });
        }
    }
    // A header of this epoch that is not a valid next commit: a torn last write.
    let at = (block * BLOCK) as usize;
    let torn = img.get(at..).is_some_and(|b| {
        [COMMIT_MAGIC, TAIL_MAGIC]
            .iter()
            .any(|&m| parse_header(b, m).is_some_and(|h| h.epoch == epoch))
    });
    table.drop_orphans();
    Ok(Replayed {
        table,
        next_block: block,
        next_seq: seq,
        torn,
        tail: None,
    })
}

/// True when the area at `area` holds a valid snapshot of `epoch` followed by at least one
/// delta or by the tail written after the superblock flip: the trace of a superblock
/// generation that existed and then went bad.
pub fn has_commits_after_snapshot(
    dev: &dyn Device,
    area: u64,
    area_blocks: u64,
    epoch: u64,
) -> std::io::Result<bool> {
    let img = read_area(dev, area, area_blocks)?;
    let Some((h, _)) = read_commit(&img, 0, epoch) else {
        return Ok(false);
    };
    if h.seq != 0 {
        return Ok(false);
    }
    let next = u64::from(h.blocks);
    Ok(read_commit(&img, next, epoch)
        .or(read_tail(&img, next, epoch))
        .is_some_and(|(n, _)| n.seq == 1))
}
