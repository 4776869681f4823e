//! State shared by every connection of one server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use scipkv_engine::scip::store::ScipStore;
use scipkv_engine::{Db, OffsetClock};

use crate::auth::Tokens;
use crate::clients::Clients;
use crate::config::Config;
use crate::cursors::Cursors;
use crate::locks::KeyLocks;
use crate::metrics::Metrics;
use crate::metrics::sharded::Counter;
use crate::writer::WriteFront;

#[derive(Debug)]
pub(crate) struct Shared {
    pub db: Db,
    /// The SCIP store on the same database (its keys live under their own namespace).
    pub scip: ScipStore,
    pub config: Config,
    pub tokens: Tokens,
    pub resp_addr: SocketAddr,
    pub data_dir: PathBuf,
    pub started: Instant,
    pub clients: Arc<Clients>,
    pub cursors: Cursors,
    pub locks: Arc<KeyLocks>,
    /// Plain SET/MSET runs go through here (`writer.rs`).
    pub writes: WriteFront,
    pub stats: Stats,
    pub metrics: Metrics,
    /// The engine's expiry clock (system time plus an offset only `DEBUG ADVANCE-CLOCK` moves).
    pub clock: OffsetClock,
}

/// Server-level counters for `INFO stats` (the engine keeps its own).
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub connections_received: AtomicU64,
    pub connections_rejected: AtomicU64,
    /// Bumped per request (or pipeline batch) by every worker: sharded.
    pub commands_processed: Counter,
    pub input_bytes: Counter,
    pub output_bytes: Counter,
}

/// What [`Stats::add`] and [`Stats::get`] count with: plain atomics for rare events,
/// sharded [`Counter`]s for per-request ones.
pub(crate) trait Count {
    fn add(&self, n: u64);
    fn get(&self) -> u64;
}

impl Count for AtomicU64 {
    fn add(&self, n: u64) {
        self.fetch_add(n, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.load(Ordering::Relaxed)
    }
}

impl Count for Counter {
    fn add(&self, n: u64) {
        Counter::add(self, n);
    }

    fn get(&self) -> u64 {
        Counter::get(self)
    }
}

impl Stats {
    pub(crate) fn add(counter: &impl Count, n: u64) {
        counter.add(n);
    }

    pub(crate) fn get(counter: &impl Count) -> u64 {
        counter.get()
    }
}
