//! One memtable entry and the order the skiplist keeps entries in.
//!
//! An entry is one allocation holding the user key and the value back to back, plus the
//! trailer `(seqno << 8) | kind` as a number. Keeping the trailer out of the bytes lets a
//! comparison be one bytewise compare of user keys and, only on a tie, one integer compare,
//! with no trailer decoding; one allocation instead of a key box and a value box halves the
//! allocator work of an insert. The same `Arc` is shared with the point-lookup index.
//!
//! Probes ([`Probe`]) borrow the caller's user key, so a seek allocates nothing: the
//! skiplist searches by `dyn EntryKey`, which both an entry and a probe are.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::sync::Arc;

use crate::key::{self, SeqNo, TRAILER_LEN};

/// Entries up to this many bytes (user key + value) are assembled on the stack.
const STACK_ENTRY: usize = 512;

/// The memtable's key type: user key ++ value in one shared allocation.
#[derive(Debug, Clone)]
pub(crate) struct MemKey {
    /// User key followed by the value.
    data: Arc<[u8]>,
    key_len: usize,
    trailer: u64,
}

impl MemKey {
    pub(crate) fn new(user_key: &[u8], trailer: u64, value: &[u8]) -> MemKey {
        // `Arc<[u8]>::from(&[u8])` is one allocation and one memcpy; collecting an iterator
        // into it copied byte by byte (~1,800 instructions for a 116-byte entry). Small
        // entries are assembled on the stack, larger ones (where the copy dominates anyway)
        // in a temporary vector.
        let n = user_key.len() + value.len();
        let data: Arc<[u8]> = if n <= STACK_ENTRY {
            let mut buf = [0u8; STACK_ENTRY];
            buf[..user_key.len()].copy_from_slice(user_key);
            buf[user_key.len()..n].copy_from_slice(value);
            Arc::from(&buf[..n])
        } else {
            let mut buf = Vec::with_capacity(n);
            buf.extend_from_slice(user_key);
            buf.extend_from_slice(value);
            Arc::from(buf)
        };
        MemKey {
            data,
            key_len: user_key.len(),
            trailer,
        }
    }

    #[inline]
    pub(crate) fn user_key(&self) -> &[u8] {
        &self.data[..self.key_len]
    }

    #[inline]
    pub(crate) fn value(&self) -> &[u8] {
        &self.data[self.key_len..]
    }

    #[inline]
    pub(crate) fn seq(&self) -> SeqNo {
        self.trailer >> 8
    }

    #[inline]
    pub(crate) fn kind(&self) -> u8 {
        self.trailer as u8
    }

    /// Appends the internal key (user key ++ trailer, the engine's encoding) to `buf`.
    pub(crate) fn append_internal_key(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(self.user_key());
        buf.extend_from_slice(&self.trailer.to_le_bytes());
    }

    /// Bytes the entry's data takes, as the engine counts an internal key plus its value.
    pub(crate) fn encoded_len(&self) -> usize {
        self.data.len() + TRAILER_LEN
    }
}

/// A search key borrowing its user key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe<'a> {
    pub(crate) user_key: &'a [u8],
    pub(crate) trailer: u64,
}

impl<'a> Probe<'a> {
    /// The probe for an encoded internal key, ordered exactly as
    /// [`key::compare_internal`] orders it (a key too short for a trailer has an empty user
    /// key and trailer 0, as there).
    pub(crate) fn from_internal(ikey: &'a [u8]) -> Probe<'a> {
        match key::parse_internal_key(ikey) {
            Some(p) => Probe {
                user_key: p.user_key,
                trailer: key::pack_trailer(p.seq, p.kind),
            },
            None => Probe {
                user_key: &[],
                trailer: 0,
            },
        }
    }
}

/// What the skiplist compares: a user key and a trailer.
pub(crate) trait EntryKey {
    fn parts(&self) -> (&[u8], u64);
}

impl EntryKey for MemKey {
    #[inline]
    fn parts(&self) -> (&[u8], u64) {
        (self.user_key(), self.trailer)
    }
}

impl EntryKey for Probe<'_> {
    #[inline]
    fn parts(&self) -> (&[u8], u64) {
        (self.user_key, self.trailer)
    }
}

/// The internal-key order on parts: user key ascending, then trailer descending.
#[inline]
fn compare_parts(a: (&[u8], u64), b: (&[u8], u64)) -> Ordering {
    key::compare_bytes(a.0, b.0).then_with(|| b.1.cmp(&a.1))
}

impl<'a> Borrow<dyn EntryKey + 'a> for MemKey {
    fn borrow(&self) -> &(dyn EntryKey + 'a) {
        self
    }
}

impl Ord for dyn EntryKey + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_parts(self.parts(), other.parts())
    }
}

impl PartialOrd for dyn EntryKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for dyn EntryKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for dyn EntryKey + '_ {}

impl Ord for MemKey {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_parts(self.parts(), other.parts())
    }
}

impl PartialOrd for MemKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for MemKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MemKey {}
