//! The Prometheus text exposition format (version 0.0.4) of the server's and the engine's
//! figures. Every family has `# HELP` and `# TYPE`; label values are fixed names, so they
//! never need escaping.

use std::fmt::Write as _;

use scipkv_engine::DbStats;

use super::{BUCKETS_MICROS, Family, HistogramSnapshot, Metrics};
use crate::shared::{Shared, Stats};

/// The content type Prometheus scrapers expect for this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

struct Out(String);

impl Out {
    fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &str, value: impl std::fmt::Display) {
        if labels.is_empty() {
            let _ = writeln!(self.0, "{name} {value}");
        } else {
            let _ = writeln!(self.0, "{name}{{{labels}}} {value}");
        }
    }

    fn single(&mut self, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
        self.header(name, kind, help);
        self.sample(name, "", value);
    }

    fn histogram(&mut self, name: &str, labels: &str, h: &HistogramSnapshot) {
        for (bound, count) in BUCKETS_MICROS.iter().zip(&h.cumulative) {
            let le = *bound as f64 / 1e6;
            self.sample(
                &format!("{name}_bucket"),
                &format!("{labels},le=\"{le}\""),
                count,
            );
        }
        self.sample(
            &format!("{name}_bucket"),
            &format!("{labels},le=\"+Inf\""),
            h.count,
        );
        self.sample(&format!("{name}_sum"), labels, h.sum_micros as f64 / 1e6);
        self.sample(&format!("{name}_count"), labels, h.count);
    }
}

/// Renders everything `/metrics` serves.
pub(crate) fn render(shared: &Shared) -> String {
    let mut out = Out(String::with_capacity(64 * 1024));
    requests(&mut out, &shared.metrics);
    connections(&mut out, shared);
    engine(&mut out, &shared.db.stats());
    out.0
}

fn requests(out: &mut Out, m: &Metrics) {
    let resp: Vec<(&str, &Family)> = m.resp_families().collect();
    let http: Vec<(&str, &Family)> = m.http_families().collect();

    out.header(
        "scipkv_resp_commands_total",
        "counter",
        "RESP commands executed, by command.",
    );
    for (name, f) in &resp {
        out.sample(
            "scipkv_resp_commands_total",
            &format!("command=\"{name}\""),
            f.latency.count(),
        );
    }
    out.header(
        "scipkv_resp_command_errors_total",
        "counter",
        "RESP commands answered with an error reply, by command.",
    );
    for (name, f) in &resp {
        out.sample(
            "scipkv_resp_command_errors_total",
            &format!("command=\"{name}\""),
            Stats::get(&f.errors),
        );
    }
    out.header(
        "scipkv_resp_command_duration_seconds",
        "histogram",
        "Time to execute a RESP command, by command.",
    );
    for (name, f) in &resp {
        out.histogram(
            "scipkv_resp_command_duration_seconds",
            &format!("command=\"{name}\""),
            &f.latency.snapshot(),
        );
    }
    out.header(
        "scipkv_http_requests_total",
        "counter",
        "HTTP requests answered, by route and status class.",
    );
    for (name, f) in &http {
        for (i, n) in f.status.iter().enumerate() {
            out.sample(
                "scipkv_http_requests_total",
                &format!("route=\"{name}\",status=\"{}xx\"", i + 1),
                Stats::get(n),
            );
        }
    }
    out.header(
        "scipkv_http_request_duration_seconds",
        "histogram",
        "Time to answer an HTTP request, by route.",
    );
    for (name, f) in &http {
        out.histogram(
            "scipkv_http_request_duration_seconds",
            &format!("route=\"{name}\""),
            &f.latency.snapshot(),
        );
    }
}

fn connections(out: &mut Out, shared: &Shared) {
    let m = &shared.metrics;
    let s = &shared.stats;
    out.header(
        "scipkv_connections_open",
        "gauge",
        "Connections open now, by protocol.",
    );
    out.sample(
        "scipkv_connections_open",
        "protocol=\"resp\"",
        shared.clients.count(),
    );
    out.sample(
        "scipkv_connections_open",
        "protocol=\"http\"",
        Stats::get(&m.http_open),
    );
    out.header(
        "scipkv_connections_total",
        "counter",
        "Connections accepted since start, by protocol.",
    );
    out.sample(
        "scipkv_connections_total",
        "protocol=\"resp\"",
        Stats::get(&s.connections_received),
    );
    out.sample(
        "scipkv_connections_total",
        "protocol=\"http\"",
        Stats::get(&m.http_total),
    );
    out.header(
        "scipkv_connections_rejected_total",
        "counter",
        "Connections refused because the connection limit was reached, by protocol.",
    );
    out.sample(
        "scipkv_connections_rejected_total",
        "protocol=\"resp\"",
        Stats::get(&s.connections_rejected),
    );
    out.sample(
        "scipkv_connections_rejected_total",
        "protocol=\"http\"",
        Stats::get(&m.http_rejected),
    );
}

fn engine(out: &mut Out, db: &DbStats) {
    out.header(
        "scipkv_engine_level_files",
        "gauge",
        "Table files per LSM level.",
    );
    for (i, l) in db.levels.iter().enumerate() {
        out.sample(
            "scipkv_engine_level_files",
            &format!("level=\"{i}\""),
            l.files,
        );
    }
    out.header(
        "scipkv_engine_level_bytes",
        "gauge",
        "Table bytes on disk per LSM level.",
    );
    for (i, l) in db.levels.iter().enumerate() {
        out.sample(
            "scipkv_engine_level_bytes",
            &format!("level=\"{i}\""),
            l.bytes,
        );
    }
    let gauges: [(&str, &str, f64); 6] = [
        (
            "scipkv_engine_write_amplification",
            "Bytes written to tables per byte written to the WAL.",
            db.write_amplification,
        ),
        (
            "scipkv_engine_memtable_bytes",
            "Bytes in the active memtable.",
            db.memtable_bytes as f64,
        ),
        (
            "scipkv_engine_immutable_memtables",
            "Memtables waiting to be flushed.",
            db.immutable_memtables as f64,
        ),
        (
            "scipkv_engine_block_cache_usage_bytes",
            "Bytes charged to the block cache.",
            db.cache.usage_bytes as f64,
        ),
        (
            "scipkv_engine_block_cache_capacity_bytes",
            "The block cache's byte budget.",
            db.cache.capacity as f64,
        ),
        (
            "scipkv_engine_writes_disabled",
            "1 if a failed fsync poisoned writes (the server is not ready).",
            f64::from(u8::from(db.poisoned)),
        ),
    ];
    for (name, help, value) in gauges {
        out.single(name, "gauge", help, value);
    }
    let counters: [(&str, &str, u64); 19] = [
        (
            "scipkv_engine_writes_total",
            "put/delete/write calls.",
            db.writes,
        ),
        (
            "scipkv_engine_write_groups_total",
            "WAL appends (group commits).",
            db.write_groups,
        ),
        (
            "scipkv_engine_wal_bytes_total",
            "Bytes appended to the WAL.",
            db.wal_bytes,
        ),
        ("scipkv_engine_wal_syncs_total", "WAL fsyncs.", db.wal_syncs),
        (
            "scipkv_engine_flushes_total",
            "Memtable flushes.",
            db.flushes,
        ),
        (
            "scipkv_engine_flush_bytes_total",
            "Table bytes written by flushes.",
            db.flush_bytes,
        ),
        (
            "scipkv_engine_flush_errors_total",
            "Failed flushes.",
            db.flush_errors,
        ),
        ("scipkv_engine_gets_total", "Point reads.", db.gets),
        (
            "scipkv_engine_blocks_read_total",
            "Data blocks read from table files.",
            db.blocks_read,
        ),
        (
            "scipkv_engine_compactions_total",
            "Compactions run.",
            db.compactions,
        ),
        (
            "scipkv_engine_idle_compactions_total",
            "Idle compactions started (writes had stopped); finished ones are also in compactions_total.",
            db.idle_compactions,
        ),
        (
            "scipkv_engine_compactions_abandoned_total",
            "Compactions given up part way (closing, or idle work giving way to needed compaction).",
            db.compactions_abandoned,
        ),
        (
            "scipkv_engine_compaction_errors_total",
            "Failed compactions.",
            db.compaction_errors,
        ),
        (
            "scipkv_engine_compaction_read_bytes_total",
            "Table bytes read by compactions.",
            db.compaction_bytes_in,
        ),
        (
            "scipkv_engine_compaction_written_bytes_total",
            "Table bytes written by compactions.",
            db.compaction_bytes_out,
        ),
        (
            "scipkv_engine_block_cache_hits_total",
            "Block cache hits.",
            db.cache.hits,
        ),
        (
            "scipkv_engine_block_cache_misses_total",
            "Block cache misses.",
            db.cache.misses,
        ),
        (
            "scipkv_engine_stalls_total",
            "Write groups held back by flush or L0 pressure.",
            db.stalls,
        ),
        (
            "scipkv_engine_write_slowdowns_total",
            "Write groups delayed by the L0 slowdown trigger.",
            db.slowdowns,
        ),
    ];
    for (name, help, value) in counters {
        out.single(name, "counter", help, value);
    }
    out.single(
        "scipkv_engine_stall_seconds_total",
        "counter",
        "Time writers spent stalled.",
        db.stall_micros as f64 / 1e6,
    );
    out.single(
        "scipkv_engine_compaction_seconds_total",
        "counter",
        "Time spent compacting.",
        db.compaction_micros as f64 / 1e6,
    );
    let d = db.dedup.clone().unwrap_or_default();
    let dedup: [(&str, &str, &str, f64); 8] = [
        (
            "scipkv_dedup_enabled",
            "gauge",
            "1 if the chunk store is on.",
            f64::from(u8::from(db.dedup.is_some())),
        ),
        (
            "scipkv_dedup_chunks",
            "gauge",
            "Distinct chunks stored.",
            d.chunks as f64,
        ),
        (
            "scipkv_dedup_chunk_bytes",
            "gauge",
            "Bytes of chunk content stored.",
            d.chunk_bytes as f64,
        ),
        (
            "scipkv_dedup_ratio",
            "gauge",
            "Live logical bytes per live chunk byte at the last GC pass.",
            d.dedup_ratio,
        ),
        (
            "scipkv_dedup_chunks_written_total",
            "counter",
            "Chunks written since start.",
            d.chunks_written as f64,
        ),
        (
            "scipkv_dedup_chunks_reused_total",
            "counter",
            "Chunks found already stored since start.",
            d.chunks_reused as f64,
        ),
        (
            "scipkv_dedup_logical_bytes_written_total",
            "counter",
            "Bytes of chunked values written since start.",
            d.logical_bytes_written as f64,
        ),
        (
            "scipkv_dedup_gc_bytes_reclaimed_total",
            "counter",
            "Chunk bytes reclaimed by GC since start.",
            d.gc_bytes_reclaimed as f64,
        ),
    ];
    for (name, kind, help, value) in dedup {
        out.single(name, kind, help, value);
    }
}
