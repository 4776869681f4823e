//! SCAN cursors: small integers standing for "resume after this key".
//!
//! Clients (the `redis` crate among them) parse SCAN cursors as unsigned integers, so the
//! cursor cannot carry the key itself. The server keeps a bounded table from cursor id to
//! the last key a SCAN call examined; the next call resumes strictly after that key, so a
//! key present for the whole scan is always returned, whatever is written meanwhile.
//!
//! The table holds at most [`MAX_CURSORS`] entries and forgets the oldest first (a cursor is
//! normally used once, right after it was issued, so oldest-first approximates LRU). A
//! forgotten or unknown cursor is an error rather than a restart, so a client never loops.
//! Ids start from the clock so a cursor from a previous server run is unlikely to collide.

use std::collections::{HashMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

/// Bound on remembered cursors; each holds one key (at most 64 KiB).
pub(crate) const MAX_CURSORS: usize = 16_384;

#[derive(Debug)]
pub(crate) struct Cursors {
    inner: Mutex<Table>,
}

#[derive(Debug)]
struct Table {
    next_id: u64,
    keys: HashMap<u64, Vec<u8>>,
    order: VecDeque<u64>,
}

impl Default for Cursors {
    fn default() -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() << 20)
            .unwrap_or(0);
        Cursors {
            inner: Mutex::new(Table {
                next_id: seed.max(1),
                keys: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }
}

impl Cursors {
    /// Remembers `key` and returns the cursor that resumes after it (never 0).
    pub(crate) fn issue(&self, key: Vec<u8>) -> u64 {
        let mut t = self.inner.lock();
        let id = t.next_id;
        t.next_id = t.next_id.checked_add(1).unwrap_or(1);
        if t.order.len() >= MAX_CURSORS
            && let Some(old) = t.order.pop_front()
        {
            t.keys.remove(&old);
        }
        t.keys.insert(id, key);
        t.order.push_back(id);
        id
    }

    /// The key a cursor resumes after, or `None` if it was never issued or was forgotten.
    pub(crate) fn resume_key(&self, id: u64) -> Option<Vec<u8>> {
        self.inner.lock().keys.get(&id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_cursors_resolve_and_old_ones_are_forgotten() {
        let cursors = Cursors::default();
        let first = cursors.issue(b"k0".to_vec());
        assert_ne!(first, 0);
        assert_eq!(cursors.resume_key(first).as_deref(), Some(&b"k0"[..]));
        for i in 0..MAX_CURSORS {
            cursors.issue(format!("k{i}").into_bytes());
        }
        assert_eq!(cursors.resume_key(first), None);
        assert_eq!(cursors.resume_key(12345), None);
    }
}
