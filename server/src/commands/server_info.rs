//! Connection and introspection commands: PING, ECHO, HELLO, SELECT, QUIT, CLIENT, COMMAND,
//! CONFIG GET. INFO lives in `info.rs`.

use scipkv_engine::SyncMode;

use super::{COMMANDS, CommandError, Reply, Session, Spec, lookup, option, parse_int};
use crate::resp::{Protocol, Value, glob_match};
use crate::shared::Shared;

pub(super) use super::info::info;

pub(super) fn ping(_: &Shared, _: &mut Session, args: &[Vec<u8>]) -> Reply {
    match &args[1..] {
        [] => Ok(Value::Simple("PONG".into())),
        [message] => Ok(Value::Bulk(message.clone())),
        _ => Err(CommandError::Arity("ping".into())),
    }
}

pub(super) fn echo(_: &Shared, _: &mut Session, args: &[Vec<u8>]) -> Reply {
    Ok(Value::Bulk(args[1].clone()))
}

pub(super) fn quit(_: &Shared, session: &mut Session, _: &[Vec<u8>]) -> Reply {
    session.quit = true;
    Ok(Value::ok())
}

/// There is one database; clients that select 0 explicitly keep working.
pub(super) fn select(_: &Shared, _: &mut Session, args: &[Vec<u8>]) -> Reply {
    if parse_int(&args[1])? == 0 {
        Ok(Value::ok())
    } else {
        Err(CommandError::Other("DB index is out of range".into()))
    }
}

/// `HELLO [protover [AUTH tenant token] [SETNAME name]]`. Without tokens configured AUTH
/// is accepted as Redis accepts it for a default user without a password.
pub(super) fn hello(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let mut protocol = session.protocol;
    let mut name = None;
    if let Some(version) = args.get(1) {
        protocol = match parse_int(version).map_err(|_| {
            CommandError::Other("Protocol version is not an integer or out of range".into())
        })? {
            2 => Protocol::Resp2,
            3 => Protocol::Resp3,
            _ => return Err(CommandError::NoProto),
        };
        let mut rest = args[2..].iter();
        while let Some(opt) = rest.next() {
            match option(opt).as_str() {
                "AUTH" => {
                    let tenant = rest.next().ok_or(CommandError::Syntax)?;
                    let token = rest.next().ok_or(CommandError::Syntax)?;
                    super::auth::login(shared, session, Some(tenant), token)?;
                }
                "SETNAME" => {
                    let value = rest.next().ok_or(CommandError::Syntax)?;
                    check_client_name(value)?;
                    name = Some(value.clone());
                }
                _ => return Err(CommandError::Syntax),
            }
        }
    }
    if session.principal.is_none() {
        return Err(CommandError::HelloNoAuth);
    }
    session.protocol = protocol;
    {
        let mut state = session.client.state.lock();
        state.protocol = protocol;
        if let Some(name) = name {
            state.name = Some(name).filter(|n| !n.is_empty());
        }
    }
    Ok(Value::Map(vec![
        (Value::bulk("server"), Value::bulk("scipkv")),
        (
            Value::bulk("version"),
            Value::bulk(env!("CARGO_PKG_VERSION")),
        ),
        (
            Value::bulk("proto"),
            Value::Integer(if protocol == Protocol::Resp3 { 3 } else { 2 }),
        ),
        (
            Value::bulk("id"),
            Value::Integer(i64::try_from(session.client.id).unwrap_or(i64::MAX)),
        ),
        (Value::bulk("mode"), Value::bulk("standalone")),
        (Value::bulk("role"), Value::bulk("master")),
        (Value::bulk("modules"), Value::Array(vec![])),
    ]))
}

/// Redis's rule: names are printable ASCII without spaces, so `CLIENT LIST` stays parseable.
fn check_client_name(name: &[u8]) -> Result<(), CommandError> {
    if name.iter().all(|&b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(CommandError::Other(
            "Client names cannot contain spaces, newlines or special characters.".into(),
        ))
    }
}

pub(super) fn client(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Reply {
    let sub = option(&args[1]);
    let arity = || CommandError::Arity(format!("client|{}", sub.to_ascii_lowercase()));
    match (sub.as_str(), &args[2..]) {
        ("ID", []) => Ok(Value::Integer(
            i64::try_from(session.client.id).unwrap_or(i64::MAX),
        )),
        ("GETNAME", []) => Ok(session
            .client
            .state
            .lock()
            .name
            .clone()
            .map_or(Value::Null, Value::Bulk)),
        ("SETNAME", [name]) => {
            check_client_name(name)?;
            session.client.state.lock().name = Some(name.clone()).filter(|n| !n.is_empty());
            Ok(Value::ok())
        }
        ("SETINFO", [attr, value]) => {
            check_client_name(value)?;
            let mut state = session.client.state.lock();
            match option(attr).as_str() {
                "LIB-NAME" => state.lib_name = Some(value.clone()),
                "LIB-VER" => state.lib_ver = Some(value.clone()),
                _ => {
                    return Err(CommandError::Other(format!(
                        "Unrecognized option '{}'",
                        String::from_utf8_lossy(attr)
                    )));
                }
            }
            Ok(Value::ok())
        }
        ("LIST", []) => {
            Ok(text(shared.clients.list(
                session.principal.as_ref().map(|p| p.tenant.as_str()),
            )))
        }
        ("INFO", []) => Ok(text(session.client.describe() + "\n")),
        ("ID" | "GETNAME" | "SETNAME" | "SETINFO" | "LIST" | "INFO", _) => Err(arity()),
        _ => Err(CommandError::UnknownSubcommand {
            command: "CLIENT",
            sub: String::from_utf8_lossy(&args[1]).into_owned(),
        }),
    }
}

/// Plain text replies: bulk in RESP2, verbatim `txt` in RESP3, as Redis sends them.
pub(super) fn text(body: String) -> Value {
    Value::Verbatim {
        format: *b"txt",
        text: body,
    }
}

fn command_info(spec: &Spec) -> Value {
    let set =
        |items: &[&str]| Value::Set(items.iter().map(|s| Value::Simple((*s).into())).collect());
    Value::Array(vec![
        Value::bulk(spec.name),
        Value::Integer(spec.arity),
        set(spec.flags),
        Value::Integer(spec.first_key),
        Value::Integer(spec.last_key),
        Value::Integer(spec.step),
        set(&[]),
        set(&[]),
        Value::Array(vec![]),
        Value::Array(vec![]),
    ])
}

fn command_docs(spec: &Spec) -> Value {
    Value::Map(vec![
        (Value::bulk("summary"), Value::bulk(spec.summary)),
        (Value::bulk("since"), Value::bulk("0.1.0")),
        (Value::bulk("group"), Value::bulk(spec.group)),
        (Value::bulk("complexity"), Value::bulk(spec.complexity)),
    ])
}

/// `COMMAND`, `COMMAND COUNT|LIST|INFO [name..]|DOCS [name..]`: enough for redis-cli's
/// hints and for client libraries that discover key positions.
pub(super) fn command(_: &Shared, _: &mut Session, args: &[Vec<u8>]) -> Reply {
    let Some(sub) = args.get(1) else {
        return Ok(Value::Array(COMMANDS.iter().map(command_info).collect()));
    };
    let names = &args[2..];
    match option(sub).as_str() {
        "COUNT" if names.is_empty() => Ok(Value::Integer(
            i64::try_from(COMMANDS.len()).unwrap_or(i64::MAX),
        )),
        "LIST" if names.is_empty() => Ok(Value::Array(
            COMMANDS.iter().map(|s| Value::bulk(s.name)).collect(),
        )),
        "INFO" if names.is_empty() => Ok(Value::Array(COMMANDS.iter().map(command_info).collect())),
        "INFO" => Ok(Value::Array(
            names
                .iter()
                .map(|n| lookup(n).map_or(Value::NullArray, command_info))
                .collect(),
        )),
        "DOCS" => {
            let specs: Vec<&Spec> = if names.is_empty() {
                COMMANDS.iter().collect()
            } else {
                names.iter().filter_map(|n| lookup(n)).collect()
            };
            Ok(Value::Map(
                specs
                    .into_iter()
                    .map(|s| (Value::bulk(s.name), command_docs(s)))
                    .collect(),
            ))
        }
        "COUNT" | "LIST" => Err(CommandError::Arity(format!(
            "command|{}",
            option(sub).to_ascii_lowercase()
        ))),
        _ => Err(CommandError::UnknownSubcommand {
            command: "COMMAND",
            sub: String::from_utf8_lossy(sub).into_owned(),
        }),
    }
}

/// The parameters `CONFIG GET` reports: what benchmark tools and clients ask for, in
/// Redis's names, derived from the real configuration.
fn parameters(shared: &Shared) -> Vec<(&'static str, String)> {
    let limits = &shared.config.limits;
    let appendfsync = match shared.config.sync {
        SyncMode::Always => "always",
        SyncMode::Interval(_) => "everysec",
        SyncMode::Never => "no",
    };
    vec![
        // No snapshots: durability comes from the write-ahead log, which is always on.
        ("save", String::new()),
        ("appendonly", "yes".into()),
        ("appendfsync", appendfsync.into()),
        ("databases", "1".into()),
        ("maxclients", limits.max_connections.to_string()),
        (
            "timeout",
            limits.idle_timeout.map_or(0, |d| d.as_secs()).to_string(),
        ),
        ("proto-max-bulk-len", limits.max_bulk_len.to_string()),
        (
            "client-query-buffer-limit",
            limits.max_query_buffer.to_string(),
        ),
        ("port", shared.resp_addr.port().to_string()),
        ("bind", shared.resp_addr.ip().to_string()),
        ("dir", shared.data_dir.display().to_string()),
    ]
}

/// `CONFIG GET pattern [pattern ...]`; the configuration is read-only at run time.
pub(super) fn config(shared: &Shared, _: &mut Session, args: &[Vec<u8>]) -> Reply {
    let sub = option(&args[1]);
    match sub.as_str() {
        "GET" if args.len() >= 3 => {
            let patterns = &args[2..];
            let pairs = parameters(shared)
                .into_iter()
                .filter(|(name, _)| {
                    patterns
                        .iter()
                        .any(|p| glob_match(p, name.as_bytes(), true))
                })
                .map(|(name, value)| (Value::bulk(name), Value::bulk(value)))
                .collect();
            Ok(Value::Map(pairs))
        }
        "GET" => Err(CommandError::Arity("config|get".into())),
        "SET" | "RESETSTAT" | "REWRITE" => Err(CommandError::Other(format!(
            "CONFIG {sub} is not supported: the configuration is read-only at run time"
        ))),
        _ => Err(CommandError::UnknownSubcommand {
            command: "CONFIG",
            sub: String::from_utf8_lossy(&args[1]).into_owned(),
        }),
    }
}
