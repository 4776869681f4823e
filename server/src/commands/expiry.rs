//! Key expiry: the SET expiry options, EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT, TTL/PTTL,
//! EXPIRETIME/PEXPIRETIME, PERSIST, and DEBUG ADVANCE-CLOCK for tests.
//!
//! Expiry times live in the engine (an expiring put carries its absolute expiry, and an
//! expired key reads exactly like a deleted one), so every read command honours expiry
//! without doing anything here. Time is the engine's clock (`Db::now_ms`), so what TTL
//! reports and what GET sees always agree. The engine has no metadata-only update: changing
//! a key's expiry rewrites its value, under the key's lock so no concurrent write is lost.

use super::{CommandError, Reply, Session, option, parse_int};
use crate::resp::Value;
use crate::shared::Shared;

/// What a SET asks for the new value's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SetExpiry {
    /// No option: the new value never expires (any old expiry is discarded).
    None,
    /// KEEPTTL: the old value's expiry, if the key exists.
    Keep,
    /// EX, PX, EXAT or PXAT, as an absolute unix-ms time.
    At(u64),
}

/// Converts an expire argument to an absolute unix-ms time, as Redis's `getExpireCommand`
/// does: `unit_ms` is 1000 for seconds; `relative` adds `now`. `None` on overflow.
fn absolute_ms(value: i64, unit_ms: i64, relative: bool, now: u64) -> Option<i64> {
    let ms = value.checked_mul(unit_ms)?;
    if relative {
        ms.checked_add(i64::try_from(now).ok()?)
    } else {
        Some(ms)
    }
}

/// Parses the argument after EX/PX/EXAT/PXAT. Redis: non-integers are "not an integer",
/// non-positive or overflowing values "invalid expire time in 'set' command".
pub(super) fn parse_set_expiry(option: &str, arg: &[u8], now: u64) -> Result<u64, CommandError> {
    let value = parse_int(arg)?;
    let invalid = || CommandError::InvalidExpire("set");
    if value <= 0 {
        return Err(invalid());
    }
    let (unit, relative) = match option {
        "EX" => (1000, true),
        "PX" => (1, true),
        "EXAT" => (1000, false),
        _ => (1, false),
    };
    let at = absolute_ms(value, unit, relative, now).ok_or_else(invalid)?;
    u64::try_from(at).map_err(|_| invalid())
}

/// Writes `value` under `key` with the expiry SET resolved (`old_expiry` for KEEPTTL).
pub(super) fn put(
    shared: &Shared,
    key: &[u8],
    value: &[u8],
    expiry: SetExpiry,
    old_expiry: Option<u64>,
) -> Result<(), CommandError> {
    let at = match expiry {
        SetExpiry::None => None,
        SetExpiry::Keep => old_expiry,
        SetExpiry::At(t) => Some(t),
    };
    match at {
        Some(t) => shared.db.put_with_expiry(key, value, t)?,
        None => shared.db.put(key, value)?,
    }
    Ok(())
}

/// Which EXPIRE condition (Redis 7's NX | XX | GT | LT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    Always,
    /// Only if the key has no expiry.
    NoExpiry,
    /// Only if the key has an expiry.
    HasExpiry,
    /// Only if the new expiry is later (no expiry counts as infinite).
    Greater,
    /// Only if the new expiry is earlier (no expiry counts as infinite).
    Less,
}

fn parse_when(args: &[Vec<u8>]) -> Result<When, CommandError> {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for arg in args {
        match option(arg).as_str() {
            "NX" => nx = true,
            "XX" => xx = true,
            "GT" => gt = true,
            "LT" => lt = true,
            other => {
                return Err(CommandError::Other(format!("Unsupported option {other}")));
            }
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CommandError::Other(
            "NX and XX, GT or LT options at the same time are not compatible".into(),
        ));
    }
    if gt && lt {
        return Err(CommandError::Other(
            "GT and LT options at the same time are not compatible".into(),
        ));
    }
    Ok(match (nx, xx, gt, lt) {
        (true, ..) => When::NoExpiry,
        (_, _, true, _) => When::Greater,
        (_, _, _, true) => When::Less,
        (_, true, ..) => When::HasExpiry,
        _ => When::Always,
    })
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: `key time [NX|XX|GT|LT]`. 1 if the expiry was set
/// (a time already past deletes the key, as in Redis), 0 if the key is absent or the
/// condition failed.
fn expire_generic(
    shared: &Shared,
    session: &Session,
    args: &[Vec<u8>],
    name: &'static str,
    unit_ms: i64,
    relative: bool,
) -> Reply {
    let key = &session.keyspace.key(&args[1]);
    let value = parse_int(&args[2])?;
    let when = parse_when(&args[3..])?;
    let _guard = shared.locks.lock([key]);
    let now = shared.db.now_ms();
    let at = absolute_ms(value, unit_ms, relative, now).ok_or(CommandError::InvalidExpire(name))?;
    let Some((old, current)) = shared.db.get_with_expiry(key)? else {
        return Ok(Value::Integer(0));
    };
    let allowed = match (when, current) {
        (When::Always, _) => true,
        (When::NoExpiry, c) => c.is_none(),
        (When::HasExpiry, c) => c.is_some(),
        (When::Greater, Some(c)) => at > i64::try_from(c).unwrap_or(i64::MAX),
        (When::Greater, None) => false,
        (When::Less, Some(c)) => at < i64::try_from(c).unwrap_or(i64::MAX),
        (When::Less, None) => true,
    };
    if !allowed {
        return Ok(Value::Integer(0));
    }
    match u64::try_from(at) {
        Ok(t) if t > now => shared.db.put_with_expiry(key, &old, t)?,
        // Already past: Redis deletes the key rather than storing a dead value.
        _ => shared.db.delete(key)?,
    }
    Ok(Value::Integer(1))
}

pub(super) fn expire(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    expire_generic(shared, session, args, "expire", 1000, true)
}

pub(super) fn pexpire(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    expire_generic(shared, session, args, "pexpire", 1, true)
}

pub(super) fn expireat(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    expire_generic(shared, session, args, "expireat", 1000, false)
}

pub(super) fn pexpireat(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    expire_generic(shared, session, args, "pexpireat", 1, false)
}

/// The key's expiry: `Err(-2)` absent, `Err(-1)` no expiry, `Ok(t)` expires at `t`.
fn expiry_of(shared: &Shared, key: &[u8]) -> Result<Result<u64, i64>, CommandError> {
    Ok(match shared.db.get_with_expiry(key)? {
        None => Err(-2),
        Some((_, None)) => Err(-1),
        Some((_, Some(t))) => Ok(t),
    })
}

fn as_int(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// TTL: seconds left, rounded to nearest as Redis does; -2 absent, -1 no expiry.
pub(super) fn ttl(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let now = shared.db.now_ms();
    Ok(Value::Integer(
        match expiry_of(shared, &session.keyspace.key(&args[1]))? {
            Ok(t) => as_int(t.saturating_sub(now).saturating_add(500) / 1000),
            Err(code) => code,
        },
    ))
}

pub(super) fn pttl(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let now = shared.db.now_ms();
    Ok(Value::Integer(
        match expiry_of(shared, &session.keyspace.key(&args[1]))? {
            Ok(t) => as_int(t.saturating_sub(now)),
            Err(code) => code,
        },
    ))
}

/// EXPIRETIME: the absolute expiry in unix seconds; -2 absent, -1 no expiry.
pub(super) fn expiretime(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    Ok(Value::Integer(
        match expiry_of(shared, &session.keyspace.key(&args[1]))? {
            Ok(t) => as_int(t / 1000),
            Err(code) => code,
        },
    ))
}

pub(super) fn pexpiretime(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    Ok(Value::Integer(
        match expiry_of(shared, &session.keyspace.key(&args[1]))? {
            Ok(t) => as_int(t),
            Err(code) => code,
        },
    ))
}

/// PERSIST: 1 if the key had an expiry and now has none, else 0.
pub(super) fn persist(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let key = &session.keyspace.key(&args[1]);
    let _guard = shared.locks.lock([key]);
    match shared.db.get_with_expiry(key)? {
        Some((value, Some(_))) => {
            shared.db.put(key, &value)?;
            Ok(Value::Integer(1))
        }
        _ => Ok(Value::Integer(0)),
    }
}

/// `DEBUG ADVANCE-CLOCK <ms>`: moves the server's expiry clock forward, so tests can see keys
/// expire without sleeping. Only with `enable_debug_command = true` in the config file: the
/// clock cannot be moved back, and moving it expires real data.
pub(super) fn debug(shared: &Shared, _: &mut Session, args: &[Vec<u8>]) -> Reply {
    if !shared.config.enable_debug_command {
        return Err(CommandError::Other(
            "DEBUG command not allowed. Set enable_debug_command = true in the configuration \
             file and restart the server."
                .into(),
        ));
    }
    match (option(&args[1]).as_str(), &args[2..]) {
        ("ADVANCE-CLOCK", [ms]) => {
            let ms = u64::try_from(parse_int(ms)?).map_err(|_| CommandError::NotInteger)?;
            shared.clock.advance(ms);
            Ok(Value::Integer(as_int(shared.clock.offset_ms())))
        }
        ("HELP", []) => Ok(Value::Array(vec![
            Value::Simple("DEBUG <subcommand> [<arg> ...]. Subcommands are:".into()),
            Value::Simple("ADVANCE-CLOCK <milliseconds>".into()),
            Value::Simple(
                "    Moves the expiry clock forward; returns the total offset in ms.".into(),
            ),
        ])),
        _ => Err(CommandError::UnknownSubcommand {
            command: "DEBUG",
            sub: String::from_utf8_lossy(&args[1]).into_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn when(args: &[&str]) -> Result<When, CommandError> {
        let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        parse_when(&args)
    }

    #[test]
    fn expire_conditions_parse_like_redis() {
        assert_eq!(when(&[]).unwrap(), When::Always);
        assert_eq!(when(&["nx"]).unwrap(), When::NoExpiry);
        assert_eq!(when(&["XX", "GT"]).unwrap(), When::Greater);
        assert_eq!(when(&["xx", "lt"]).unwrap(), When::Less);
        assert_eq!(when(&["XX"]).unwrap(), When::HasExpiry);
        for bad in [&["NX", "XX"][..], &["GT", "LT"], &["NX", "GT"], &["FOO"]] {
            assert!(when(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn set_expiry_arguments_are_checked() {
        assert_eq!(parse_set_expiry("EX", b"10", 5).unwrap(), 10_005);
        assert_eq!(parse_set_expiry("PX", b"10", 5).unwrap(), 15);
        assert_eq!(parse_set_expiry("EXAT", b"10", 5).unwrap(), 10_000);
        assert_eq!(parse_set_expiry("PXAT", b"10", 5).unwrap(), 10);
        let msg = |r: Result<u64, CommandError>| r.unwrap_err().to_string();
        assert_eq!(
            msg(parse_set_expiry("EX", b"0", 5)),
            "ERR invalid expire time in 'set' command"
        );
        assert_eq!(
            msg(parse_set_expiry("PX", b"-1", 5)),
            "ERR invalid expire time in 'set' command"
        );
        assert_eq!(
            msg(parse_set_expiry("EX", b"9223372036854775807", 5)),
            "ERR invalid expire time in 'set' command"
        );
        assert_eq!(
            msg(parse_set_expiry("EX", b"x", 5)),
            "ERR value is not an integer or out of range"
        );
    }
}
