//! Request counters and latency histograms for `/metrics`, written by hand: a fixed set of
//! labels (one per RESP command and HTTP route, known at startup) needs no registry, and
//! plain atomics keep the per-request cost to a few uncontended increments. Rendering is in
//! [`render`].

mod histogram;
pub(crate) mod render;
pub(crate) mod sharded;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use histogram::{BUCKETS_MICROS, Histogram, HistogramSnapshot};

/// Counters of one label value (a RESP command or an HTTP route).
#[derive(Debug, Default)]
pub(crate) struct Family {
    pub latency: Histogram,
    /// RESP: error replies. HTTP: responses by status class (1xx..5xx).
    pub errors: AtomicU64,
    pub status: [AtomicU64; 5],
}

#[derive(Debug)]
pub(crate) struct Metrics {
    resp_names: Vec<&'static str>,
    /// One per RESP command, then one for unknown commands.
    resp: Vec<Family>,
    http_names: Vec<&'static str>,
    /// One per HTTP route, then one for requests no route matched.
    http: Vec<Family>,
    pub http_open: AtomicU64,
    pub http_total: AtomicU64,
    pub http_rejected: AtomicU64,
}

impl Metrics {
    pub(crate) fn new(resp_names: Vec<&'static str>, http_names: Vec<&'static str>) -> Metrics {
        let families = |n: usize| (0..=n).map(|_| Family::default()).collect();
        Metrics {
            resp: families(resp_names.len()),
            resp_names,
            http: families(http_names.len()),
            http_names,
            http_open: AtomicU64::new(0),
            http_total: AtomicU64::new(0),
            http_rejected: AtomicU64::new(0),
        }
    }

    /// `index` is the command's position in the command table (`None`: unknown command).
    pub(crate) fn resp_command(&self, index: Option<usize>, error: bool, elapsed: Duration) {
        let f = &self.resp[index
            .unwrap_or(self.resp_names.len())
            .min(self.resp.len() - 1)];
        f.latency.observe(elapsed);
        if error {
            f.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `index` is the route's position in the route table (`None`: no route matched).
    pub(crate) fn http_request(&self, index: Option<usize>, status: u16, elapsed: Duration) {
        let f = &self.http[index
            .unwrap_or(self.http_names.len())
            .min(self.http.len() - 1)];
        f.latency.observe(elapsed);
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        f.status[class].fetch_add(1, Ordering::Relaxed);
    }

    fn resp_families(&self) -> impl Iterator<Item = (&'static str, &Family)> {
        let names = self.resp_names.iter().copied().chain(["unknown"]);
        names.zip(&self.resp)
    }

    fn http_families(&self) -> impl Iterator<Item = (&'static str, &Family)> {
        let names = self.http_names.iter().copied().chain(["unmatched"]);
        names.zip(&self.http)
    }
}
