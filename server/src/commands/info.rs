//! INFO: sections server, clients, memory, persistence, stats, keyspace.
//!
//! Field names follow Redis where a Redis field means the same thing (so dashboards and
//! `redis-cli --stat` find them); engine-specific fields are prefixed `scipkv_`.

use std::fmt::Write as _;

use scipkv_engine::SyncMode;

use super::keys::key_count;
use super::server_info::text;
use super::{Reply, Session, option};
use crate::resp::Protocol;
use crate::shared::{Shared, Stats};

const SECTIONS: [&str; 6] = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "keyspace",
];

/// `INFO [section ...]`; `all`, `default` and `everything` select every section. The
/// keyspace section counts keys with a full scan (see DBSIZE), so it costs O(keys).
pub(super) fn info(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let requested: Vec<String> = args[1..]
        .iter()
        .map(|a| option(a).to_ascii_lowercase())
        .collect();
    let everything = requested.is_empty()
        || requested
            .iter()
            .any(|s| matches!(s.as_str(), "all" | "default" | "everything"));
    let mut out = String::new();
    for section in SECTIONS {
        if !everything && !requested.iter().any(|r| r == section) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let mut title = section.to_owned();
        title[..1].make_ascii_uppercase();
        let _ = write!(out, "# {title}\r\n");
        for (name, value) in fields(shared, session, section)? {
            let _ = write!(out, "{name}:{value}\r\n");
        }
    }
    Ok(text(out))
}

fn fields(
    shared: &Shared,
    session: &Session,
    section: &str,
) -> Result<Vec<(&'static str, String)>, super::CommandError> {
    let db = shared.db.stats();
    let s = &shared.stats;
    let uptime = shared.started.elapsed().as_secs();
    Ok(match section {
        "server" => vec![
            // Clients gate features on redis_version; we speak the 7.x command subset.
            ("redis_version", "7.2.0".into()),
            ("scipkv_version", env!("CARGO_PKG_VERSION").into()),
            ("redis_mode", "standalone".into()),
            ("os", std::env::consts::OS.into()),
            ("arch_bits", (usize::BITS).to_string()),
            ("process_id", std::process::id().to_string()),
            ("tcp_port", shared.resp_addr.port().to_string()),
            ("uptime_in_seconds", uptime.to_string()),
            ("uptime_in_days", (uptime / 86_400).to_string()),
            (
                "resp",
                match session.protocol {
                    Protocol::Resp2 => "2".into(),
                    Protocol::Resp3 => "3".into(),
                },
            ),
        ],
        "clients" => vec![
            ("connected_clients", shared.clients.count().to_string()),
            (
                "maxclients",
                shared.config.limits.max_connections.to_string(),
            ),
        ],
        "memory" => vec![
            // The engine's memtables are the server's dominant memory use.
            ("used_memory", db.memtable_bytes.to_string()),
            ("scipkv_memtable_bytes", db.memtable_bytes.to_string()),
            (
                "scipkv_immutable_memtables",
                db.immutable_memtables.to_string(),
            ),
        ],
        "persistence" => vec![
            ("loading", "0".into()),
            ("aof_enabled", "1".into()),
            (
                "scipkv_sync",
                match shared.config.sync {
                    SyncMode::Always => "always".into(),
                    SyncMode::Never => "never".into(),
                    SyncMode::Interval(d) => format!("interval:{}", d.as_millis()),
                },
            ),
            ("scipkv_wal_bytes", db.wal_bytes.to_string()),
            ("scipkv_wal_syncs", db.wal_syncs.to_string()),
            ("scipkv_flushes", db.flushes.to_string()),
            ("scipkv_flush_bytes", db.flush_bytes.to_string()),
            ("scipkv_flush_errors", db.flush_errors.to_string()),
            ("scipkv_writes_disabled", u8::from(db.poisoned).to_string()),
            (
                "scipkv_recovered_wal_batches",
                db.recovery.wal_batches.to_string(),
            ),
            (
                "scipkv_table_files",
                db.levels.iter().map(|l| l.files).sum::<usize>().to_string(),
            ),
            (
                "scipkv_table_bytes",
                db.levels.iter().map(|l| l.bytes).sum::<u64>().to_string(),
            ),
        ],
        "stats" => vec![
            (
                "total_connections_received",
                Stats::get(&s.connections_received).to_string(),
            ),
            (
                "total_commands_processed",
                Stats::get(&s.commands_processed).to_string(),
            ),
            (
                "total_net_input_bytes",
                Stats::get(&s.input_bytes).to_string(),
            ),
            (
                "total_net_output_bytes",
                Stats::get(&s.output_bytes).to_string(),
            ),
            (
                "rejected_connections",
                Stats::get(&s.connections_rejected).to_string(),
            ),
            ("scipkv_engine_writes", db.writes.to_string()),
            ("scipkv_engine_write_groups", db.write_groups.to_string()),
            ("scipkv_engine_gets", db.gets.to_string()),
            ("scipkv_engine_blocks_read", db.blocks_read.to_string()),
            ("scipkv_engine_stalls", db.stalls.to_string()),
            ("scipkv_engine_stall_micros", db.stall_micros.to_string()),
        ],
        "keyspace" => {
            let keys = key_count(shared, &session.keyspace)?;
            if keys == 0 {
                vec![]
            } else {
                vec![("db0", format!("keys={keys},expires=0,avg_ttl=0"))]
            }
        }
        _ => vec![],
    })
}
