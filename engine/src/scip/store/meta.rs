//! The lock over the store's metadata writes, and the generation those writes advance.
//!
//! Which stored versions provide a package (the cross-project fallback of definition and
//! hover) depends on other projects' `UPLOAD` and `PACKAGE` records, so unlike the per-upload
//! answers it can change. Every write of those records holds this lock; dropping the guard
//! (after the write) advances the generation, and a cached provider list is used only by a
//! query that read the same generation before taking its snapshot. A query that read
//! generation `g` sees every write whose guard dropped before: the write precedes the bump,
//! the bump precedes the read, the read precedes the snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, MutexGuard};

#[derive(Debug, Default)]
pub(crate) struct MetaLock {
    lock: Mutex<()>,
    generation: AtomicU64,
}

/// Held across a metadata read-modify-write; advances the generation when dropped.
pub(crate) struct MetaGuard<'a> {
    _lock: MutexGuard<'a, ()>,
    generation: &'a AtomicU64,
}

impl Drop for MetaGuard<'_> {
    fn drop(&mut self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

impl MetaLock {
    pub fn lock(&self) -> MetaGuard<'_> {
        MetaGuard {
            _lock: self.lock.lock(),
            generation: &self.generation,
        }
    }

    /// Read before taking a snapshot (see the module comment).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// For writes that do not take the lock but may change what the generation guards.
    pub fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_advances_when_a_guard_drops_or_on_bump() {
        let m = MetaLock::default();
        let g0 = m.generation();
        let guard = m.lock();
        assert_eq!(m.generation(), g0, "not before the write is done");
        drop(guard);
        assert_eq!(m.generation(), g0 + 1);
        m.bump();
        assert_eq!(m.generation(), g0 + 2);
    }
}
