//! 4096-byte-aligned buffers for `O_DIRECT` reads, and a per-thread pool of them.
//!
//! `O_DIRECT` needs the buffer address, the file offset and the length all aligned to the
//! device's logical block size; 4096 covers every block size in use (512 and 4096). A read
//! of an arbitrary range therefore reads the covering aligned range ([`covering`]) into an
//! [`AlignedBuf`] and copies the wanted bytes out.
//!
//! The buffers are memory for a page-aligned array type, allocated by `Vec` itself, so the
//! only `unsafe` here is the one view of those pages as bytes.

use std::cell::RefCell;

/// Alignment of offsets, lengths and buffer addresses of direct reads.
pub const ALIGN: usize = 4096;

/// Buffers kept per thread for reuse.
const POOL_BUFFERS: usize = 64;
/// Larger buffers are freed after use rather than pooled (a rare huge block must not pin
/// its memory in every thread that ever read one).
const POOL_MAX_BYTES: usize = 1 << 20;

/// One aligned page. `repr(C)` over a byte array: size 4096, alignment 4096, no padding.
#[repr(C, align(4096))]
#[derive(Clone, Copy)]
struct Page([u8; ALIGN]);

const _: () =
    assert!(std::mem::size_of::<Page>() == ALIGN && std::mem::align_of::<Page>() == ALIGN);

/// A zero-initialised byte buffer whose address and capacity are multiples of [`ALIGN`].
pub struct AlignedBuf {
    pages: Vec<Page>,
}

impl std::fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlignedBuf")
            .field("capacity", &self.capacity())
            .finish()
    }
}

impl AlignedBuf {
    /// A buffer of at least `bytes` bytes (rounded up to a whole number of pages).
    pub fn new(bytes: usize) -> Self {
        AlignedBuf {
            pages: vec![Page([0; ALIGN]); bytes.div_ceil(ALIGN)],
        }
    }

    /// Capacity in bytes (a multiple of [`ALIGN`]).
    pub fn capacity(&self) -> usize {
        self.pages.len() * ALIGN
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `pages` is an initialised `[Page]` of `pages.len()` elements; `Page` is a
        // `repr(C)` wrapper of `[u8; ALIGN]` with size == ALIGN (asserted above), so the
        // allocation is exactly `capacity()` initialised bytes with no padding, and `u8` has
        // alignment 1. The returned slice borrows `self`, so the memory outlives it and is not
        // mutated meanwhile.
        unsafe { std::slice::from_raw_parts(self.pages.as_ptr().cast::<u8>(), self.capacity()) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        let len = self.capacity();
        // SAFETY: as in `as_slice`; the slice borrows `self` mutably, so it is the only access.
        unsafe { std::slice::from_raw_parts_mut(self.pages.as_mut_ptr().cast::<u8>(), len) }
    }

    /// Start of the buffer, for handing to the kernel (aligned to [`ALIGN`]).
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.pages.as_mut_ptr().cast::<u8>()
    }
}

/// The aligned range `(start, len)` covering `len` bytes at `offset`.
pub fn covering(offset: u64, len: usize) -> (u64, usize) {
    let start = offset & !(ALIGN as u64 - 1);
    let end = (offset + len as u64).next_multiple_of(ALIGN as u64);
    (start, (end - start) as usize)
}

thread_local! {
    static POOL: RefCell<Vec<AlignedBuf>> = const { RefCell::new(Vec::new()) };
}

/// A pooled buffer of at least `bytes` bytes (its contents are whatever the last user left).
pub fn take(bytes: usize) -> AlignedBuf {
    let pooled = POOL.with(|p| {
        let mut p = p.borrow_mut();
        // Smallest pooled buffer that fits (the pool is small; a linear scan is cheapest).
        let best = p
            .iter()
            .enumerate()
            .filter(|(_, b)| b.capacity() >= bytes)
            .min_by_key(|(_, b)| b.capacity())
            .map(|(i, _)| i);
        best.map(|i| p.swap_remove(i))
    });
    pooled.unwrap_or_else(|| AlignedBuf::new(bytes))
}

/// Returns a buffer to this thread's pool.
pub fn give(buf: AlignedBuf) {
    if buf.capacity() > POOL_MAX_BYTES {
        return;
    }
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOL_BUFFERS {
            p.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_aligned_zeroed_and_sized() {
        for bytes in [0, 1, 4095, 4096, 4097, 70_000] {
            let mut b = AlignedBuf::new(bytes);
            assert_eq!(b.capacity(), bytes.div_ceil(ALIGN) * ALIGN);
            assert_eq!(b.as_mut_ptr() as usize % ALIGN, 0);
            assert!(b.as_slice().iter().all(|&x| x == 0));
            // Every byte is writable and reads back.
            let cap = b.capacity();
            for (i, x) in b.as_mut_slice().iter_mut().enumerate() {
                *x = i as u8;
            }
            assert_eq!(b.as_slice().len(), cap);
            assert!(b.as_slice().iter().enumerate().all(|(i, &x)| x == i as u8));
        }
    }

    #[test]
    fn covering_ranges() {
        assert_eq!(covering(0, 0), (0, 0));
        assert_eq!(covering(0, 1), (0, 4096));
        assert_eq!(covering(4095, 2), (0, 8192));
        assert_eq!(covering(4096, 4096), (4096, 4096));
        assert_eq!(covering(5000, 10_000), (4096, 12_288));
    }

    #[test]
    fn pool_reuses_the_smallest_fitting_buffer() {
        let mut a = take(10_000);
        a.as_mut_slice()[0] = 7;
        let a_ptr = a.as_mut_ptr();
        give(a);
        give(AlignedBuf::new(100_000));
        let mut b = take(5000);
        assert_eq!(b.as_mut_ptr(), a_ptr, "the 12 KiB buffer fits best");
        assert_eq!(b.as_slice()[0], 7);
        let c = take(50_000);
        assert_eq!(c.capacity(), 100_000usize.next_multiple_of(ALIGN));
        give(b);
        give(c);
        // Oversized buffers are not kept.
        give(AlignedBuf::new(POOL_MAX_BYTES + 1));
        POOL.with(|p| assert!(p.borrow().iter().all(|b| b.capacity() <= POOL_MAX_BYTES)));
    }
}
