//! Byte layout of log files: the file header and the record header.
//!
//! Kept apart from the reader and writer so the layout lives in one place, next to the
//! constants format-spec/wal.md quotes.

use crate::checksum::xxh3;

/// First bytes of every log file.
pub const MAGIC: [u8; 8] = *b"SCIPKVLG";

/// The only format version written and accepted. Bump it for any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// magic (8) | version u32 | kind u32 | xxh3 of the preceding 16 bytes, u64.
pub const FILE_HEADER_LEN: usize = 24;

/// length u32 | payload xxh3 u64 | header check u32.
pub const RECORD_HEADER_LEN: usize = 16;

/// The unit a crash may leave partly written (the smallest sector of common devices). Damage
/// confined to a log's last `TORN_SECTOR` bytes can be a torn write; see format-spec/wal.md.
pub const TORN_SECTOR: u64 = 512;

/// Largest payload a record may carry. Bounds what a reader allocates for one record.
pub const MAX_RECORD_LEN: usize = 512 * 1024 * 1024;

/// What a log holds. Stored in the header so a WAL segment can never be replayed as a
/// manifest (or the reverse) after a naming mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum LogKind {
    /// A write-ahead log segment: records are WriteBatch payloads.
    Wal = 1,
    /// A manifest: records are VersionEdits.
    Manifest = 2,
}

impl LogKind {
    /// The on-disk number; never reuse one.
    pub fn as_u32(self) -> u32 {
        self as u32
    }

    pub fn from_u32(v: u32) -> Option<LogKind> {
        match v {
            1 => Some(LogKind::Wal),
            2 => Some(LogKind::Manifest),
            _ => None,
        }
    }
}

/// The exact header a log of `kind` starts with. It is fully determined by the kind, which
/// lets the reader recognise a torn header write (a prefix of these bytes).
pub fn file_header(kind: LogKind) -> [u8; FILE_HEADER_LEN] {
    let mut h = [0u8; FILE_HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[12..16].copy_from_slice(&kind.as_u32().to_le_bytes());
    let sum = xxh3(&h[..16]);
    h[16..].copy_from_slice(&sum.to_le_bytes());
    h
}

/// Checksum of the first 12 header bytes (length and payload checksum), truncated to 32 bits.
/// Without it a flipped length bit would make the reader misframe every later record.
pub fn header_check(len_and_sum: &[u8]) -> u32 {
    xxh3(len_and_sum) as u32
}

/// Builds the record header for `payload`. The caller has bounded its length.
pub fn record_header(payload: &[u8]) -> [u8; RECORD_HEADER_LEN] {
    let mut h = [0u8; RECORD_HEADER_LEN];
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    h[..4].copy_from_slice(&len.to_le_bytes());
    h[4..12].copy_from_slice(&xxh3(payload).to_le_bytes());
    let check = header_check(&h[..12]);
    h[12..].copy_from_slice(&check.to_le_bytes());
    h
}

/// A record header whose own check passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    pub len: u32,
    pub payload_sum: u64,
}

/// Parses a record header; `None` when its check does not match.
pub fn parse_record_header(h: &[u8; RECORD_HEADER_LEN]) -> Option<RecordHeader> {
    let [
        l0,
        l1,
        l2,
        l3,
        s0,
        s1,
        s2,
        s3,
        s4,
        s5,
        s6,
        s7,
        c0,
        c1,
        c2,
        c3,
    ] = *h;
    if header_check(&h[..12]) != u32::from_le_bytes([c0, c1, c2, c3]) {
        return None;
    }
    Some(RecordHeader {
        len: u32::from_le_bytes([l0, l1, l2, l3]),
        payload_sum: u64::from_le_bytes([s0, s1, s2, s3, s4, s5, s6, s7]),
    })
}
