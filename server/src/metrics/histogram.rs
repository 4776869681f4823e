//! A latency histogram with fixed buckets, updated with relaxed atomics: cheap enough for
//! every request, and exactly Prometheus's cumulative-bucket model when rendered.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::sharded::{SHARDS, shard};

/// Bucket upper bounds in microseconds: 50 µs to 10 s, roughly 1-2.5-5 per decade, so both
/// sub-millisecond point reads and multi-second uploads land in a meaningful bucket.
pub const BUCKETS_MICROS: [u64; 17] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

/// A histogram, sharded per thread like [`super::sharded::Counter`] (every RESP command
/// observes one, from both workers at once).
#[derive(Debug, Default)]
pub struct Histogram {
    shards: [Shard; SHARDS],
}

/// One thread's counts, on cache lines of its own.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard {
    /// Non-cumulative counts per bucket; the last slot is `+Inf`.
    buckets: [AtomicU64; BUCKETS_MICROS.len() + 1],
    sum_micros: AtomicU64,
}

/// A consistent-enough copy for rendering (each field is read once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistogramSnapshot {
    /// Cumulative counts per bucket of [`BUCKETS_MICROS`], then `+Inf`.
    pub cumulative: Vec<u64>,
    pub count: u64,
    pub sum_micros: u64,
}

impl Histogram {
    pub fn observe(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let slot = BUCKETS_MICROS.partition_point(|&b| b < micros);
        let shard = &self.shards[shard()];
        shard.buckets[slot].fetch_add(1, Ordering::Relaxed);
        shard.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Observations so far (the sum of every bucket).
    pub fn count(&self) -> u64 {
        self.shards
            .iter()
            .flat_map(|s| &s.buckets)
            .fold(0u64, |n, b| n.wrapping_add(b.load(Ordering::Relaxed)))
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut total = 0u64;
        let cumulative = (0..=BUCKETS_MICROS.len())
            .map(|i| {
                for shard in &self.shards {
                    total = total.wrapping_add(shard.buckets[i].load(Ordering::Relaxed));
                }
                total
            })
            .collect();
        let sum_micros = self.shards.iter().fold(0u64, |n, s| {
            n.wrapping_add(s.sum_micros.load(Ordering::Relaxed))
        });
        HistogramSnapshot {
            cumulative,
            // `+Inf` must equal the count; taking it from the buckets keeps them consistent.
            count: total,
            sum_micros,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(50));
        h.observe(Duration::from_micros(51));
        h.observe(Duration::from_secs(100));
        let s = h.snapshot();
        assert_eq!(s.cumulative[0], 1);
        assert_eq!(s.cumulative[1], 2);
        assert_eq!(s.cumulative[BUCKETS_MICROS.len() - 1], 2);
        assert_eq!(*s.cumulative.last().unwrap(), 3);
        assert_eq!(s.count, 3);
        assert_eq!(s.sum_micros, 50 + 51 + 100_000_000);
        assert_eq!(h.count(), 3);
        // Observations from other threads land in other shards and still add up.
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| h.observe(Duration::from_micros(200)));
            }
        });
        let s = h.snapshot();
        assert_eq!((s.count, h.count()), (7, 7));
        assert_eq!(s.cumulative[2] - s.cumulative[1], 4);
    }
}
