//! SCAN: resumable iteration over the keyspace.
//!
//! Each call walks at most COUNT keys of the live key order, starting strictly after the
//! key the cursor stands for (see `crate::cursors`). Every key that exists for the whole
//! scan is returned exactly once; keys added or removed meanwhile may or may not be.

use super::{CommandError, Reply, Session, option, parse_int};
use crate::resp::{Value, glob_match, matches_everything};
use crate::shared::Shared;

const DEFAULT_COUNT: usize = 10;

pub(super) fn scan(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let cursor = std::str::from_utf8(&args[1])
        .ok()
        .and_then(|c| c.parse::<u64>().ok())
        .ok_or(CommandError::InvalidCursor)?;
    let mut pattern: Option<&[u8]> = None;
    let mut count = DEFAULT_COUNT;
    let mut only_strings = true;
    let mut rest = args[2..].iter();
    while let Some(opt) = rest.next() {
        let value = rest.next().ok_or(CommandError::Syntax)?;
        match option(opt).as_str() {
            "MATCH" => {
                pattern = Some(value)
                    .filter(|p| !matches_everything(p))
                    .map(|p| &p[..])
            }
            "COUNT" => {
                count = usize::try_from(parse_int(value)?)
                    .ok()
                    .filter(|&c| c > 0)
                    .ok_or(CommandError::Syntax)?;
            }
            // Every value is a string: any other type filter matches nothing.
            "TYPE" => only_strings = option(value) == "STRING",
            _ => return Err(CommandError::Syntax),
        }
    }
    // Cursors remember client keys: a cursor resumes inside the caller's own tenant.
    let resume = match cursor {
        0 => None,
        _ => Some(
            shared
                .cursors
                .resume_key(cursor)
                .ok_or(CommandError::InvalidCursor)?,
        ),
    };
    let ks = &session.keyspace;
    let mut iter = shared.db.iter(ks.range_after(resume.as_deref()));
    let mut keys = Vec::new();
    let mut last = None;
    let mut examined = 0;
    while examined < count {
        let Some(entry) = iter.next() else {
            last = None;
            break;
        };
        let (key, _) = entry?;
        let Some(key) = ks.strip(&key).map(<[u8]>::to_vec) else {
            last = None;
            break;
        };
        examined += 1;
        if only_strings && pattern.is_none_or(|p| glob_match(p, &key, false)) {
            keys.push(Value::Bulk(key.clone()));
        }
        last = Some(key);
    }
    // Only report the end when the iterator said so; a full page resumes after its last key
    // (an extra empty page at the very end is cheaper than peeking one key further).
    let next = match last {
        Some(key) => shared.cursors.issue(key),
        None => 0,
    };
    Ok(Value::Array(vec![
        Value::bulk(next.to_string()),
        Value::Array(keys),
    ]))
}
