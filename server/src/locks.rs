//! Striped per-key locks that make read-modify-write commands atomic.
//!
//! The engine serializes writes but has no compare-and-set, so `SET NX`, `SET XX`,
//! `SET GET`, `GETDEL` and `DEL` (which counts what it removed) read and then write. Every
//! command that writes a key holds that key's stripe for the read and the write, so two
//! concurrent `SET NX` on one key cannot both succeed, and a plain `SET` cannot slip between
//! another command's read and write. Stripes (not one lock per key) keep memory fixed;
//! unrelated keys rarely share a stripe, so their writes still group-commit together.

use parking_lot::{Mutex, MutexGuard};

const STRIPES: usize = 1024;

#[derive(Debug)]
pub(crate) struct KeyLocks {
    stripes: Box<[Stripe]>,
}

/// One stripe per cache line: packed, 64 one-byte mutexes shared a line, so two workers
/// writing unrelated keys still bounced it between cores.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Stripe(Mutex<()>);

impl Default for KeyLocks {
    fn default() -> Self {
        KeyLocks {
            stripes: (0..STRIPES).map(|_| Stripe::default()).collect(),
        }
    }
}

/// Held stripes; released on drop. One key (every write command but MSET, DEL and
/// coalesced pipelines) holds its stripe without allocating.
#[derive(Debug)]
#[must_use = "the keys are unlocked as soon as the guard is dropped"]
pub(crate) struct KeyGuard<'a> {
    _guards: Guards<'a>,
}

#[derive(Debug)]
enum Guards<'a> {
    None,
    One { _guard: MutexGuard<'a, ()> },
    Many { _guards: Vec<MutexGuard<'a, ()>> },
}

impl KeyLocks {
    /// The stripe of an engine key. xxh3 (the engine's checksum hash) rather than SipHash:
    /// keys come from clients, but a client that aims many keys at one stripe only
    /// serialises its own writes, and SipHash cost ~250 instructions per key here.
    pub(crate) fn stripe(key: &[u8]) -> usize {
        // The modulus is < STRIPES, so the cast back cannot truncate.
        (xxhash_rust::xxh3::xxh3_64(key) % STRIPES as u64) as usize
    }

    /// Locks the stripes of every key, in stripe order so two multi-key commands can never
    /// deadlock on each other.
    pub(crate) fn lock<'a, K: AsRef<[u8]>>(
        &'a self,
        keys: impl IntoIterator<Item = K>,
    ) -> KeyGuard<'a> {
        let mut keys = keys.into_iter();
        let Some(first) = keys.next() else {
            return KeyGuard {
                _guards: Guards::None,
            };
        };
        let first = Self::stripe(first.as_ref());
        let Some(second) = keys.next() else {
            return KeyGuard {
                _guards: Guards::One {
                    _guard: self.stripes[first].0.lock(),
                },
            };
        };
        let mut stripes = vec![first, Self::stripe(second.as_ref())];
        stripes.extend(keys.map(|k| Self::stripe(k.as_ref())));
        self.lock_stripes(stripes)
    }

    /// Locks stripes the caller computed with [`KeyLocks::stripe`] (any order, repeats
    /// allowed), as [`KeyLocks::lock`] does.
    pub(crate) fn lock_stripes(&self, mut stripes: Vec<usize>) -> KeyGuard<'_> {
        stripes.sort_unstable();
        stripes.dedup();
        KeyGuard {
            _guards: Guards::Many {
                _guards: stripes
                    .into_iter()
                    .map(|s| self.stripes[s % STRIPES].0.lock())
                    .collect(),
            },
        }
    }
}

impl KeyLocks {
    /// Locks every stripe (in order, like [`KeyLocks::lock`]): no key can be written until
    /// the guard drops. For commands that must act on the whole keyspace at once (FLUSHDB).
    pub(crate) fn lock_all(&self) -> KeyGuard<'_> {
        KeyGuard {
            _guards: Guards::Many {
                _guards: self.stripes.iter().map(|s| s.0.lock()).collect(),
            },
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
        let again = locks.lock([b"b".as_slice(), b"a"]);
        drop(again);
        let stripes = vec![
            KeyLocks::stripe(b"a"),
            KeyLocks::stripe(b"b"),
            KeyLocks::stripe(b"a"),
        ];
        let many = locks.lock_stripes(stripes);
        drop(many);
        let _one = locks.lock([b"a"]);
    }

    #[test]
    fn a_held_key_blocks_its_stripe_and_only_it() {
        let locks = KeyLocks::default();
        let _held = locks.lock([b"k"]);
        let stripe = KeyLocks::stripe(b"k");
        assert!(locks.stripes[stripe].0.try_lock().is_none());
        let other = (0..100u32)
            .map(|i| format!("other{i}"))
            .find(|k| KeyLocks::stripe(k.as_bytes()) != stripe)
            .expect("100 keys cannot all share one of 1024 stripes");
        assert!(
            locks.stripes[KeyLocks::stripe(other.as_bytes())]
                .0
                .try_lock()
                .is_some()
        );
    }
}
