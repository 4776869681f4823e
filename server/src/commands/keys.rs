//! Keyspace commands: DEL/UNLINK, EXISTS, TYPE, DBSIZE, FLUSHDB.

use std::collections::BTreeSet;

use scipkv_engine::WriteBatch;

use super::{CommandError, Reply, Session, option};
use crate::keyspace::Keyspace;
use crate::resp::Value;
use crate::shared::Shared;

fn count(n: usize) -> Value {
    Value::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

/// DEL and UNLINK (the engine deletes lazily anyway): returns how many keys existed.
pub(super) fn del(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    // A key named twice is deleted (and counted) once, as in Redis.
    let keys: BTreeSet<&[u8]> = args[1..].iter().map(Vec::as_slice).collect();
    let keys: Vec<Vec<u8>> = keys.into_iter().map(|k| session.keyspace.key(k)).collect();
    let _guard = shared.locks.lock(&keys);
    let present = shared.db.multi_get(&keys)?;
    let mut batch = WriteBatch::new();
    for (key, value) in keys.iter().zip(&present) {
        if value.is_some() {
            batch.delete(key);
        }
    }
    let deleted = batch.len();
    shared.db.write(batch)?;
    Ok(count(deleted))
}

/// Counts existing keys; a key named twice counts twice, as in Redis.
pub(super) fn exists(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let values = shared.db.multi_get(&session.keyspace.keys(&args[1..]))?;
    Ok(count(values.iter().filter(|v| v.is_some()).count()))
}

pub(super) fn type_of(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let kind = if shared.db.get(session.engine_key(&args[1]))?.is_some() {
        "string"
    } else {
        "none"
    };
    Ok(Value::Simple(kind.into()))
}

/// Counts keys with a full scan: O(number of keys). The engine keeps no live key count
/// (an overwrite and an insert look the same to it), so this is the exact answer's price.
pub(super) fn dbsize(shared: &Shared, session: &mut Session, _: &[Vec<u8>]) -> Reply {
    Ok(count(key_count(shared, &session.keyspace)?))
}

/// Keys of one tenant.
pub(crate) fn key_count(shared: &Shared, keyspace: &Keyspace) -> Result<usize, CommandError> {
    let mut n = 0;
    for entry in shared.db.scan_prefix(keyspace.prefix()) {
        entry?;
        n += 1;
    }
    Ok(n)
}

/// Deletes every key of the tenant atomically: with every key lock held (no write can slip in), the keys
/// are collected and deleted in one batch, so readers and crash recovery see all of them
/// gone or none. The price is one batch as large as the key list: a database whose keys
/// exceed the engine's batch limit (512 MiB of keys) gets an error and is left unchanged.
/// ASYNC and SYNC are accepted; both run synchronously.
pub(super) fn flushdb(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    match &args[1..] {
        [] => {}
        [mode] if matches!(option(mode).as_str(), "ASYNC" | "SYNC") => {}
        _ => return Err(CommandError::Syntax),
    }
    let _guard = shared.locks.lock_all();
    let mut batch = WriteBatch::new();
    for entry in shared.db.scan_prefix(session.keyspace.prefix()) {
        let (key, _) = entry?;
        batch.delete(key);
    }
    shared.db.write(batch)?;
    Ok(Value::ok())
}
