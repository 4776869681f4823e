//! Where a memtable's entry bytes live: large blocks that the one inserter appends to and
//! that are freed all at once with the memtable.
//!
//! Giving each entry its own allocation (an `Arc<[u8]>`) cost a `malloc` on the write path
//! and a `free` per entry when the flushed memtable was dropped, and under glibc's
//! allocator that was ~12% of a random-fill profile (`_int_malloc`, `unlink_chunk`,
//! `malloc_consolidate`). With blocks, an insert is a copy to the end of the current
//! block, and dropping a memtable frees a few dozen blocks. Entries never move or change
//! once written, so readers need no lock: they hold an [`EntryBytes`] that points into a
//! block, valid as long as the memtable that owns the arena.

use std::mem::MaybeUninit;
use std::ptr::NonNull;

use parking_lot::Mutex;

/// Size of a regular block. Entries over a quarter of it get a block of their own, so at
/// most a quarter of a block is left unused when an entry does not fit.
const BLOCK: usize = 256 * 1024;

/// A view of `len` bytes inside an [`Arena`] block.
///
/// Only a memtable creates these, from its own arena, and keeps them in its own skiplist
/// and point index; they never leave it (readers copy bytes out), so the arena outlives
/// every `EntryBytes` that points into it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntryBytes {
    ptr: NonNull<u8>,
    len: u32,
}

// SAFETY: an `EntryBytes` is a read-only view of bytes that were written once, before the
// view was created, and are never written again; the block they live in is freed only
// when the owning memtable (and with it every view) is dropped. Sharing or sending such a
// view across threads is like sharing a `&[u8]`.
unsafe impl Send for EntryBytes {}
// SAFETY: as for `Send` above.
unsafe impl Sync for EntryBytes {}

impl EntryBytes {
    #[inline]
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` points at `len` initialised bytes of a live block (see the type's
        // comment: the memtable owning the arena outlives its views, and the bytes were
        // copied in before the view existed and are never written again).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len as usize) }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }
}

/// One allocation of the arena, owned through a raw pointer: writers and readers reach its
/// bytes only through raw pointers derived from `base`, never through a reference to the
/// whole block (which would assert exclusive access while readers hold views into it).
#[derive(Debug)]
struct Block {
    base: NonNull<u8>,
    cap: usize,
}

// SAFETY: a block is heap memory owned by this value alone (freed only by its `Drop`);
// moving that ownership to another thread is sound. Shared access goes through the
// arena's mutex (writes) or through `EntryBytes` views of bytes no longer written.
unsafe impl Send for Block {}

impl Block {
    fn new(cap: usize) -> Block {
        let b: Box<[MaybeUninit<u8>]> = Box::new_uninit_slice(cap);
        let raw = Box::into_raw(b) as *mut MaybeUninit<u8> as *mut u8;
        // `Box::into_raw` never returns null.
        let base = NonNull::new(raw).expect("Box::into_raw returned null");
        Block { base, cap }
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        let slice = std::ptr::slice_from_raw_parts_mut(
            self.base.as_ptr() as *mut MaybeUninit<u8>,
            self.cap,
        );
        // SAFETY: `base` and `cap` are exactly the pointer and length `Box::into_raw`
        // returned in `Block::new`, and this is the only place that frees it.
        drop(unsafe { Box::from_raw(slice) });
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// Full regular blocks, and blocks holding one large entry each.
    done: Vec<Block>,
    /// The regular block being filled, and the bytes used in it.
    filling: Option<(Block, usize)>,
}

/// Entry storage of one memtable.
#[derive(Debug, Default)]
pub(crate) struct Arena {
    inner: Mutex<Inner>,
}

impl Arena {
    /// Copies `parts` back to back into the arena and returns a view of them.
    ///
    /// # Panics
    /// If the parts together are 4 GiB or more (batches bound keys and values far below).
    pub(crate) fn copy(&self, parts: &[&[u8]]) -> EntryBytes {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let len32 = u32::try_from(len).expect("a memtable entry of 4 GiB or more");
        let mut g = self.inner.lock();
        let inner = &mut *g;
        let dst = if len > BLOCK / 4 {
            let b = Block::new(len);
            let p = b.base;
            inner.done.push(b);
            p
        } else {
            if inner
                .filling
                .as_ref()
                .is_some_and(|(_, used)| used + len > BLOCK)
            {
                inner
                    .done
                    .extend(inner.filling.take().map(|(full, _)| full));
            }
            let (b, used) = inner.filling.get_or_insert_with(|| (Block::new(BLOCK), 0));
            // SAFETY: `used + len <= BLOCK == b.cap`, so the offset stays inside the block.
            let p = unsafe { b.base.add(*used) };
            *used += len;
            p
        };
        let mut at = 0;
        for p in parts {
            // SAFETY: `dst..dst + len` lies inside one block, was handed out by no earlier
            // call (regular blocks advance `used` past it; a dedicated block is new), so no
            // reader can be looking at it, and `p` is a separate allocation.
            unsafe { std::ptr::copy_nonoverlapping(p.as_ptr(), dst.as_ptr().add(at), p.len()) };
            at += p.len();
        }
        EntryBytes {
            ptr: dst,
            len: len32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_their_bytes_across_blocks_and_dedicated_blocks() {
        let a = Arena::default();
        let mut want: Vec<(EntryBytes, Vec<u8>)> = Vec::new();
        let mut rng = crate::log::tests::Rng::seeded("arena_entries_keep_their_bytes");
        // Miri (`cargo +nightly miri test -p scipkv-engine --lib memtable::`) checks the
        // raw-pointer code; it interprets every byte, so it gets a smaller run.
        let (entries, big) = if cfg!(miri) {
            (300, 4_000)
        } else {
            (3_000, BLOCK)
        };
        for i in 0..entries {
            let len = match i % 50 {
                0 => BLOCK / 4 + 1 + rng.below(big),
                1 => 0,
                _ => rng.below(2_000),
            };
            let bytes: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
            let (head, tail) = bytes.split_at(len / 3);
            let e = a.copy(&[head, tail]);
            assert_eq!(e.len(), len);
            want.push((e, bytes));
        }
        for (e, bytes) in &want {
            assert_eq!(e.as_slice(), &bytes[..]);
        }
    }
}
