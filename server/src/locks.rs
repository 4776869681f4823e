//! Striped per-key locks that make read-modify-write commands atomic.
//!
//! The engine serializes writes but has no compare-and-set, so `SET NX`, `SET XX`,
//! `SET GET`, `GETDEL` and `DEL` (which counts what it removed) read and then write. Every
//! command that writes a key holds that key's stripe for the read and the write, so two
//! concurrent `SET NX` on one key cannot both succeed, and a plain `SET` cannot slip between
//! another command's read and write. Stripes (not one lock per key) keep memory fixed;
//! unrelated keys rarely share a stripe, so their writes still group-commit together.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use parking_lot::{Mutex, MutexGuard};

const STRIPES: usize = 1024;

#[derive(Debug)]
pub(crate) struct KeyLocks {
    stripes: Box<[Mutex<()>]>,
}

impl Default for KeyLocks {
    fn default() -> Self {
        KeyLocks {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
}

/// Held stripes; released on drop.
#[derive(Debug)]
#[must_use = "the keys are unlocked as soon as the guard is dropped"]
pub(crate) struct KeyGuard<'a> {
    _guards: Vec<MutexGuard<'a, ()>>,
}

impl KeyLocks {
    fn stripe(key: &[u8]) -> usize {
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        // The modulus is < STRIPES, so the cast back cannot truncate.
        (hash % STRIPES as u64) as usize
    }

    /// Locks the stripes of every key, in stripe order so two multi-key commands can never
    /// deadlock on each other.
    pub(crate) fn lock<'a, K: AsRef<[u8]>>(
        &'a self,
        keys: impl IntoIterator<Item = K>,
    ) -> KeyGuard<'a> {
        let mut stripes: Vec<usize> = keys.into_iter().map(|k| Self::stripe(k.as_ref())).collect();
        stripes.sort_unstable();
        stripes.dedup();
        KeyGuard {
            _guards: stripes
                .into_iter()
                .map(|s| self.stripes[s].lock())
                .collect(),
        }
    }
}

impl KeyLocks {
    /// Locks every stripe (in order, like [`KeyLocks::lock`]): no key can be written until
    /// the guard drops. For commands that must act on the whole keyspace at once (FLUSHDB).
    pub(crate) fn lock_all(&self) -> KeyGuard<'_> {
        KeyGuard {
            _guards: self.stripes.iter().map(|s| s.lock()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_key_sets_do_not_deadlock_or_double_lock() {
        let locks = KeyLocks::default();
        // Duplicate keys must not lock the same stripe twice (that would self-deadlock).
        let guard = locks.lock([b"a".as_slice(), b"a", b"b"]);
        drop(guard);
        let _again = locks.lock([b"b".as_slice(), b"a"]);
    }
}
