//! The time source key expiry is judged by.
//!
//! Expiry times are absolute unix milliseconds, so the default clock is the system clock.
//! Tests (and the server's debug clock) inject their own so they can move time forward
//! without sleeping. Expiry is one-way: once a read or a compaction has seen an entry as
//! expired, compaction may turn it into a tombstone, so a clock that later moves backwards
//! does not bring the value back.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of "now" in unix milliseconds.
pub trait Clock: Send + Sync + Debug {
    fn now_ms(&self) -> u64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to (tests). Clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn new(now_ms: u64) -> Self {
        ManualClock(Arc::new(AtomicU64::new(now_ms)))
    }

    pub fn set(&self, now_ms: u64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }

    pub fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The system clock shifted by an adjustable offset: what the server's debug command moves.
#[derive(Debug, Clone, Default)]
pub struct OffsetClock(Arc<AtomicU64>);

impl OffsetClock {
    pub fn new() -> Self {
        OffsetClock::default()
    }

    /// Moves the clock forward by `ms` (cumulative).
    pub fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn offset_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl Clock for OffsetClock {
    fn now_ms(&self) -> u64 {
        SystemClock.now_ms().saturating_add(self.offset_ms())
    }
}
