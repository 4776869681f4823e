//! Counters split into per-thread shards, each on its own cache line.
//!
//! Why: every RESP command bumps a few counters (its histogram, `total_commands_processed`,
//! the byte counts). One shared atomic is a cache line that both worker threads write on
//! every request, bouncing between cores; at hundreds of thousands of requests a second
//! that contention costs more than the increments. Each thread writes its own shard;
//! readers (`INFO`, `/metrics`) sum the shards, so a read is a moment's approximation, as
//! it already was with relaxed atomics.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// More shards than the server's worker threads, so the blocking pool's threads rarely
/// share a shard with a worker either.
pub const SHARDS: usize = 8;

/// This thread's shard: threads take shards round-robin as they first count something.
pub fn shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|s| *s)
}

/// One shard of a [`Counter`], alone on its cache line (two lines: adjacent-line
/// prefetching pairs lines on x86).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded(AtomicU64);

/// A monotonically increasing count, cheap to bump from many threads at once.
#[derive(Debug, Default)]
pub struct Counter {
    shards: [Padded; SHARDS],
}

impl Counter {
    pub fn add(&self, n: u64) {
        self.shards[shard()].0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.shards
            .iter()
            .fold(0u64, |sum, s| sum.wrapping_add(s.0.load(Ordering::Relaxed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_many_threads_add_up() {
        let counter = Counter::default();
        std::thread::scope(|scope| {
            for t in 0..(SHARDS as u64 + 3) {
                let counter = &counter;
                scope.spawn(move || {
                    for _ in 0..1000 {
                        counter.add(t + 1);
                    }
                });
            }
        });
        let threads = SHARDS as u64 + 3;
        assert_eq!(counter.get(), 1000 * threads * (threads + 1) / 2);
        assert!(shard() < SHARDS);
    }
}
