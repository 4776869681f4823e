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
    pub locks: KeyLocks,
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
    pub commands_processed: AtomicU64,
    pub input_bytes: AtomicU64,
    pub output_bytes: AtomicU64,
}

impl Stats {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
