//! String commands: GET, SET, GETDEL, MGET, MSET, STRLEN.

use scipkv_engine::WriteBatch;

use super::{CommandError, Reply, Session, option};
use crate::resp::Value;
use crate::shared::Shared;

fn bulk_or_null(value: Option<Vec<u8>>) -> Value {
    value.map_or(Value::Null, Value::Bulk)
}

pub(super) fn get(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    Ok(bulk_or_null(shared.db.get(session.keyspace.key(&args[1]))?))
}

pub(super) fn strlen(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let len = shared
        .db
        .get(session.keyspace.key(&args[1]))?
        .map_or(0, |v| v.len());
    Ok(Value::Integer(i64::try_from(len).unwrap_or(i64::MAX)))
}

pub(super) fn mget(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let values = shared.db.multi_get(&session.keyspace.keys(&args[1..]))?;
    Ok(Value::Array(values.into_iter().map(bulk_or_null).collect()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    Always,
    /// NX: only if absent.
    IfAbsent,
    /// XX: only if present.
    IfPresent,
}

/// `SET key value [NX|XX] [GET]`. Expiry options are recognised and refused until the
/// engine can store expiry times.
pub(super) fn set(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let (key, value) = (&session.keyspace.key(&args[1]), &args[2]);
    let mut condition = Condition::Always;
    let mut return_old = false;
    for arg in &args[3..] {
        match option(arg).as_str() {
            "NX" if condition != Condition::IfPresent => condition = Condition::IfAbsent,
            "XX" if condition != Condition::IfAbsent => condition = Condition::IfPresent,
            "GET" => return_old = true,
            "EX" | "PX" | "EXAT" | "PXAT" | "KEEPTTL" => {
                return Err(CommandError::ExpiryUnsupported);
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    let _guard = shared.locks.lock([key]);
    let old = if condition != Condition::Always || return_old {
        shared.db.get(key)?
    } else {
        None
    };
    let allowed = match condition {
        Condition::Always => true,
        Condition::IfAbsent => old.is_none(),
        Condition::IfPresent => old.is_some(),
    };
    if allowed {
        shared.db.put(key, value)?;
    }
    Ok(match (return_old, allowed) {
        (true, _) => bulk_or_null(old),
        (false, true) => Value::ok(),
        (false, false) => Value::Null,
    })
}

pub(super) fn getdel(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let key = &session.keyspace.key(&args[1]);
    let _guard = shared.locks.lock([key]);
    let old = shared.db.get(key)?;
    if old.is_some() {
        shared.db.delete(key)?;
    }
    Ok(bulk_or_null(old))
}

/// All pairs in one batch: readers and crash recovery see all of them or none.
pub(super) fn mset(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let pairs = &args[1..];
    if !pairs.len().is_multiple_of(2) {
        return Err(CommandError::Arity("mset".into()));
    }
    let mut batch = WriteBatch::new();
    for pair in pairs.chunks_exact(2) {
        batch.put(session.keyspace.key(&pair[0]), &pair[1]);
    }
    // Locks are taken on engine keys, as every other writer takes them.
    let _guard = shared
        .locks
        .lock(pairs.iter().step_by(2).map(|k| session.keyspace.key(k)));
    shared.db.write(batch)?;
    Ok(Value::ok())
}
