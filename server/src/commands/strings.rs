//! String commands: GET, SET, GETDEL, MGET, MSET, STRLEN.

use scipkv_engine::WriteBatch;

use super::expiry::{self, SetExpiry, parse_set_expiry};
use super::{CommandError, Reply, Session, option};
use crate::resp::Value;
use crate::shared::Shared;

fn bulk_or_null(value: Option<Vec<u8>>) -> Value {
    value.map_or(Value::Null, Value::Bulk)
}

pub(super) fn get(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    Ok(bulk_or_null(shared.db.get(session.engine_key(&args[1]))?))
}

pub(super) fn strlen(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let len = shared
        .db
        .get(session.engine_key(&args[1]))?
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

/// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]`, options in any order,
/// with Redis's errors: conflicting options are a syntax error, a non-positive expire is
/// "invalid expire time". Holds the key's lock so the read (NX, XX, GET, KEEPTTL) and the
/// write are one step.
pub(super) fn set(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let (key, value) = (&session.keyspace.key(&args[1]), &args[2]);
    let mut condition = Condition::Always;
    let mut return_old = false;
    let mut keep_ttl = false;
    let mut expire: Option<(String, &[u8])> = None;
    let mut rest = args[3..].iter();
    while let Some(arg) = rest.next() {
        match option(arg).as_str() {
            "NX" if condition != Condition::IfPresent => condition = Condition::IfAbsent,
            "XX" if condition != Condition::IfAbsent => condition = Condition::IfPresent,
            "GET" => return_old = true,
            "KEEPTTL" if expire.is_none() => keep_ttl = true,
            unit @ ("EX" | "PX" | "EXAT" | "PXAT") if !keep_ttl && expire.is_none() => {
                let time = rest.next().ok_or(CommandError::Syntax)?;
                expire = Some((unit.to_owned(), time));
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    let _guard = shared.locks.lock([key]);
    let expiry = match expire {
        Some((unit, time)) => SetExpiry::At(parse_set_expiry(&unit, time, shared.db.now_ms())?),
        None if keep_ttl => SetExpiry::Keep,
        None => SetExpiry::None,
    };
    let needs_old = condition != Condition::Always || return_old || keep_ttl;
    let (old, old_expiry) = match needs_old {
        true => match shared.db.get_with_expiry(key)? {
            Some((v, t)) => (Some(v), t),
            None => (None, None),
        },
        false => (None, None),
    };
    let allowed = match condition {
        Condition::Always => true,
        Condition::IfAbsent => old.is_none(),
        Condition::IfPresent => old.is_some(),
    };
    if allowed {
        expiry::put(shared, key, value, expiry, old_expiry)?;
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
