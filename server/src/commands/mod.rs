//! Command dispatch: the command table, arity checks, and the errors commands reply with.
//!
//! Commands run on a blocking thread (engine calls may fsync), one connection's commands in
//! order. Each handler gets the shared server state, the connection's [`Session`] and the
//! full argument list (name first), and returns the reply; it never panics on client input.

mod auth;
mod coalesce;
mod expiry;
mod info;
mod keys;
mod scan;
mod server_info;
mod strings;

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use thiserror::Error;

pub(crate) use coalesce::{
    Gathered, finish as finish_plain_writes, gather as gather_plain_writes, is_plain_write,
    next_run,
};

use crate::auth::Principal;
use crate::clients::ClientInfo;
use crate::keyspace::Keyspace;
use crate::resp::{Protocol, Value};
use crate::shared::{Shared, Stats};

/// Per-connection state that commands may change.
#[derive(Debug)]
pub(crate) struct Session {
    pub protocol: Protocol,
    pub client: Arc<ClientInfo>,
    /// Set by `QUIT`: reply, then close.
    pub quit: bool,
    /// Who the client is; `None` until `AUTH` when tokens are configured.
    pub principal: Option<Principal>,
    /// The principal's tenant namespace: every key a command touches goes through it.
    pub keyspace: Keyspace,
    /// Reused for the engine key of single-key reads, saving an allocation per GET.
    key_buf: Vec<u8>,
}

impl Session {
    /// `open`: no tokens are configured, so the client starts as [`Principal::open`].
    pub(crate) fn new(client: Arc<ClientInfo>, open: bool) -> Self {
        let principal = open.then(Principal::open);
        client.state.lock().tenant = principal.as_ref().map(|p| p.tenant.clone());
        Session {
            protocol: Protocol::Resp2,
            client,
            quit: false,
            keyspace: Keyspace::new(principal.as_ref().map_or("", |p| &p.tenant)),
            principal,
            key_buf: Vec::new(),
        }
    }

    /// The engine key of `client_key`, in the session's reused buffer.
    pub(crate) fn engine_key(&mut self, client_key: &[u8]) -> &[u8] {
        self.keyspace.key_into(client_key, &mut self.key_buf);
        &self.key_buf
    }
}

/// Why a command failed; each variant's text is the error reply (Redis's wording where
/// Redis has one, so clients that match on it keep working).
#[derive(Debug, Error)]
pub(crate) enum CommandError {
    #[error("ERR syntax error")]
    Syntax,
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    #[error("ERR invalid cursor")]
    InvalidCursor,
    /// An expire time that is not positive or overflows (the command's name inside).
    #[error("ERR invalid expire time in '{0}' command")]
    InvalidExpire(&'static str),
    #[error("ERR unknown subcommand '{sub}'. Try {command} HELP.")]
    UnknownSubcommand { command: &'static str, sub: String },
    #[error("ERR wrong number of arguments for '{0}' command")]
    Arity(String),
    #[error("NOPROTO unsupported protocol version")]
    NoProto,
    #[error("NOAUTH Authentication required.")]
    NoAuth,
    #[error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
    )]
    HelloNoAuth,
    #[error("WRONGPASS invalid username-password pair or user is disabled.")]
    WrongPass,
    #[error("NOPERM this user has no permissions to run the '{0}' command")]
    NoPerm(&'static str),
    #[error("ERR {0}")]
    Other(String),
    #[error("ERR {0}")]
    Engine(#[from] scipkv_engine::Error),
}

pub(crate) type Reply = Result<Value, CommandError>;

type Handler = fn(&Shared, &mut Session, &[Vec<u8>]) -> Reply;

/// One entry of the command table, also the source of `COMMAND INFO`/`DOCS`.
#[derive(Debug)]
pub(crate) struct Spec {
    /// Lower-case, as Redis reports it.
    pub name: &'static str,
    /// Redis convention: `n` exactly n arguments (name included), `-n` at least n.
    pub arity: i64,
    pub flags: &'static [&'static str],
    pub first_key: i64,
    pub last_key: i64,
    pub step: i64,
    pub group: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    handler: Handler,
}

macro_rules! spec {
    ($name:literal, $arity:expr, $flags:expr, ($first:expr, $last:expr, $step:expr), $group:literal, $complexity:literal, $summary:literal, $handler:path) => {
        Spec {
            name: $name,
            arity: $arity,
            flags: $flags,
            first_key: $first,
            last_key: $last,
            step: $step,
            group: $group,
            summary: $summary,
            complexity: $complexity,
            handler: $handler,
        }
    };
}

const READ: &[&str] = &["readonly", "fast"];
const WRITE: &[&str] = &["write", "denyoom"];
const SLOW_READ: &[&str] = &["readonly"];
const CONN: &[&str] = &["fast", "loading", "stale"];

/// Every command the server knows. Sorted by name for `COMMAND` output.
pub(crate) static COMMANDS: &[Spec] = &[
    spec!(
        "auth",
        -2,
        CONN,
        (0, 0, 0),
        "connection",
        "O(N) in the number of configured tokens",
        "Authenticates the connection: AUTH [tenant] token.",
        auth::auth
    ),
    spec!(
        "client",
        -2,
        CONN,
        (0, 0, 0),
        "connection",
        "O(1) or O(N) for LIST",
        "Manages the connection (ID, SETNAME, GETNAME, LIST, INFO, SETINFO).",
        server_info::client
    ),
    spec!(
        "command",
        -1,
        CONN,
        (0, 0, 0),
        "server",
        "O(N)",
        "Describes the commands (COUNT, INFO, DOCS, LIST).",
        server_info::command
    ),
    spec!(
        "config",
        -2,
        CONN,
        (0, 0, 0),
        "server",
        "O(N)",
        "Reads configuration parameters (GET only).",
        server_info::config
    ),
    spec!(
        "dbsize",
        1,
        SLOW_READ,
        (0, 0, 0),
        "server",
        "O(N): counts keys with a full scan",
        "Returns the number of keys.",
        keys::dbsize
    ),
    spec!(
        "debug",
        -2,
        &["admin", "noscript", "loading", "stale"],
        (0, 0, 0),
        "server",
        "O(1)",
        "Test helpers (ADVANCE-CLOCK); only with enable_debug_command = true.",
        expiry::debug
    ),
    spec!(
        "del",
        -2,
        WRITE,
        (1, -1, 1),
        "generic",
        "O(N)",
        "Deletes keys and returns how many existed.",
        keys::del
    ),
    spec!(
        "echo",
        2,
        CONN,
        (0, 0, 0),
        "connection",
        "O(1)",
        "Returns its argument.",
        server_info::echo
    ),
    spec!(
        "exists",
        -2,
        READ,
        (1, -1, 1),
        "generic",
        "O(N)",
        "Counts how many of the keys exist.",
        keys::exists
    ),
    spec!(
        "expire",
        -3,
        &["write", "fast"],
        (1, 1, 1),
        "generic",
        "O(1) lookups; rewrites the value (O(size of the value))",
        "Sets a key's time to live in seconds (NX, XX, GT, LT).",
        expiry::expire
    ),
    spec!(
        "expireat",
        -3,
        &["write", "fast"],
        (1, 1, 1),
        "generic",
        "O(1) lookups; rewrites the value (O(size of the value))",
        "Sets a key's expiry as a unix time in seconds (NX, XX, GT, LT).",
        expiry::expireat
    ),
    spec!(
        "expiretime",
        2,
        READ,
        (1, 1, 1),
        "generic",
        "O(1)",
        "Returns a key's expiry as a unix time in seconds (-1 none, -2 no key).",
        expiry::expiretime
    ),
    spec!(
        "flushdb",
        -1,
        WRITE,
        (0, 0, 0),
        "server",
        "O(N): one atomic batch of N deletes; writes wait while it runs",
        "Deletes every key, atomically.",
        keys::flushdb
    ),
    spec!(
        "get",
        2,
        READ,
        (1, 1, 1),
        "string",
        "O(1)",
        "Returns the value of a key.",
        strings::get
    ),
    spec!(
        "getdel",
        2,
        WRITE,
        (1, 1, 1),
        "string",
        "O(1)",
        "Returns the value of a key and deletes it.",
        strings::getdel
    ),
    spec!(
        "hello",
        -1,
        CONN,
        (0, 0, 0),
        "connection",
        "O(1)",
        "Chooses the protocol version and describes the server.",
        server_info::hello
    ),
    spec!(
        "info",
        -1,
        SLOW_READ,
        (0, 0, 0),
        "server",
        "O(N) for the keyspace section",
        "Returns server information and statistics.",
        server_info::info
    ),
    spec!(
        "mget",
        -2,
        READ,
        (1, -1, 1),
        "string",
        "O(N)",
        "Returns the values of several keys.",
        strings::mget
    ),
    spec!(
        "mset",
        -3,
        WRITE,
        (1, -1, 2),
        "string",
        "O(N)",
        "Sets several keys atomically.",
        strings::mset
    ),
    spec!(
        "persist",
        2,
        &["write", "fast"],
        (1, 1, 1),
        "generic",
        "O(1) lookups; rewrites the value (O(size of the value))",
        "Removes a key's expiry.",
        expiry::persist
    ),
    spec!(
        "pexpire",
        -3,
        &["write", "fast"],
        (1, 1, 1),
        "generic",
        "O(1) lookups; rewrites the value (O(size of the value))",
        "Sets a key's time to live in milliseconds (NX, XX, GT, LT).",
        expiry::pexpire
    ),
    spec!(
        "pexpireat",
        -3,
        &["write", "fast"],
        (1, 1, 1),
        "generic",
        "O(1) lookups; rewrites the value (O(size of the value))",
        "Sets a key's expiry as a unix time in milliseconds (NX, XX, GT, LT).",
        expiry::pexpireat
    ),
    spec!(
        "pexpiretime",
        2,
        READ,
        (1, 1, 1),
        "generic",
        "O(1)",
        "Returns a key's expiry as a unix time in milliseconds (-1 none, -2 no key).",
        expiry::pexpiretime
    ),
    spec!(
        "ping",
        -1,
        CONN,
        (0, 0, 0),
        "connection",
        "O(1)",
        "Returns PONG or its argument.",
        server_info::ping
    ),
    spec!(
        "pttl",
        2,
        READ,
        (1, 1, 1),
        "generic",
        "O(1)",
        "Returns a key's time to live in milliseconds (-1 none, -2 no key).",
        expiry::pttl
    ),
    spec!(
        "quit",
        -1,
        CONN,
        (0, 0, 0),
        "connection",
        "O(1)",
        "Closes the connection after replying.",
        server_info::quit
    ),
    spec!(
        "scan",
        -2,
        SLOW_READ,
        (0, 0, 0),
        "generic",
        "O(1) per call, O(N) for a full iteration",
        "Iterates over the keys.",
        scan::scan
    ),
    spec!(
        "select",
        2,
        CONN,
        (0, 0, 0),
        "connection",
        "O(1)",
        "Selects database 0 (the only one).",
        server_info::select
    ),
    spec!(
        "set",
        -3,
        WRITE,
        (1, 1, 1),
        "string",
        "O(1)",
        "Sets a key (NX, XX, GET, EX, PX, EXAT, PXAT, KEEPTTL).",
        strings::set
    ),
    spec!(
        "strlen",
        2,
        READ,
        (1, 1, 1),
        "string",
        "O(1)",
        "Returns the length of a value.",
        strings::strlen
    ),
    spec!(
        "ttl",
        2,
        READ,
        (1, 1, 1),
        "generic",
        "O(1)",
        "Returns a key's time to live in seconds (-1 none, -2 no key).",
        expiry::ttl
    ),
    spec!(
        "type",
        2,
        READ,
        (1, 1, 1),
        "generic",
        "O(1)",
        "Returns the type of a key: string or none.",
        keys::type_of
    ),
    spec!(
        "unlink",
        -2,
        WRITE,
        (1, -1, 1),
        "generic",
        "O(N)",
        "Deletes keys and returns how many existed.",
        keys::del
    ),
];

/// Most keys a multi-key read may name and still run on an async worker.
const MAX_INLINE_KEYS: usize = 64;

/// Requests cheap enough to run on an async worker: point reads of a few keys and replies
/// that touch no storage.
pub(crate) fn is_point_read(args: &[Vec<u8>]) -> bool {
    // The common case without the table lookup (`execute` does that once more anyway).
    if args[0].eq_ignore_ascii_case(b"get") {
        return true;
    }
    match lookup(&args[0]).map(|spec| spec.name) {
        Some(
            "get" | "strlen" | "type" | "ping" | "echo" | "ttl" | "pttl" | "expiretime"
            | "pexpiretime",
        ) => true,
        Some("mget" | "exists") => args.len() <= MAX_INLINE_KEYS + 1,
        _ => false,
    }
}

/// A plain SET or an MSET of a few keys: bounded work that reads nothing (the connection may
/// run it on the async worker when writes do not wait for an fsync).
pub(crate) fn is_small_plain_write(args: &[Vec<u8>]) -> bool {
    args.len() <= 2 * MAX_INLINE_KEYS + 1 && is_plain_write(args)
}

pub(crate) fn lookup(name: &[u8]) -> Option<&'static Spec> {
    position(name).map(|i| &COMMANDS[i])
}

/// Longest command name in [`COMMANDS`]; anything longer is unknown without a look.
const LONGEST_NAME: usize = 16;

/// A name of at most [`LONGEST_NAME`] bytes as one big-endian integer, lower-cased and
/// zero-padded. Names hold no zero bytes, so integer order is the names' byte order.
fn packed(name: &[u8]) -> Option<u128> {
    let mut buf = [0u8; LONGEST_NAME];
    buf.get_mut(..name.len())?.copy_from_slice(name);
    buf.make_ascii_lowercase();
    Some(u128::from_be_bytes(buf))
}

/// [`COMMANDS`]' names, packed, in table order (so sorted).
static PACKED_NAMES: LazyLock<Box<[u128]>> = LazyLock::new(|| {
    COMMANDS
        .iter()
        .map(|spec| packed(spec.name.as_bytes()).expect("command names fit LONGEST_NAME"))
        .collect()
});

/// Index of a command in [`COMMANDS`] (the metrics label index). Every request asks this
/// (up to three times), so it is a binary search over integers, not a scan with
/// case-insensitive string compares (callgrind: ~170-560 instructions per call before).
pub(crate) fn position(name: &[u8]) -> Option<usize> {
    let index = PACKED_NAMES.binary_search(&packed(name)?).ok()?;
    // Zero padding would let `get\0` match `get`: the lengths must agree too.
    (COMMANDS[index].name.len() == name.len()).then_some(index)
}

/// Runs one command and returns its reply (errors included), timing it for `/metrics`.
pub(crate) fn execute(shared: &Shared, session: &mut Session, args: &[Vec<u8>]) -> Value {
    let started = Instant::now();
    let index = args.first().and_then(|name| position(name));
    let reply = execute_untimed(shared, session, args, index, started);
    shared
        .metrics
        .resp_command(index, matches!(reply, Value::Error(_)), started.elapsed());
    reply
}

fn execute_untimed(
    shared: &Shared,
    session: &mut Session,
    args: &[Vec<u8>],
    index: Option<usize>,
    started: Instant,
) -> Value {
    Stats::add(&shared.stats.commands_processed, 1);
    if args.is_empty() {
        return Value::Error("ERR empty command".into());
    }
    let Some(spec) = index.map(|i| &COMMANDS[i]) else {
        if session.principal.is_none() {
            return error_reply(&CommandError::NoAuth);
        }
        return unknown_command(args);
    };
    if let Err(error) = auth::gate(session, spec) {
        return error_reply(&error);
    }
    {
        let mut state = session.client.state.lock();
        state.last_command = spec.name;
        state.last_active = Some(started);
    }
    let argc = i64::try_from(args.len()).unwrap_or(i64::MAX);
    let arity_ok = if spec.arity >= 0 {
        argc == spec.arity
    } else {
        argc >= -spec.arity
    };
    if !arity_ok {
        return error_reply(&CommandError::Arity(spec.name.to_owned()));
    }
    match (spec.handler)(shared, session, args) {
        Ok(value) => value,
        Err(error) => error_reply(&error),
    }
}

pub(crate) fn error_reply(error: &CommandError) -> Value {
    Value::Error(error.to_string())
}

/// Redis's message: the name and the first arguments, quoted, about 128 bytes at most.
fn unknown_command(args: &[Vec<u8>]) -> Value {
    let name = truncated(&args[0], 128);
    let mut rest = String::new();
    for arg in &args[1..] {
        if rest.len() >= 128 {
            break;
        }
        let room = 128 - rest.len();
        rest.push('\'');
        rest.push_str(&truncated(arg, room));
        rest.push_str("' ");
    }
    Value::Error(format!(
        "ERR unknown command '{name}', with args beginning with: {rest}"
    ))
}

fn truncated(bytes: &[u8], max: usize) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).into_owned()
}

/// Parses an integer argument the way Redis does (`string2ll`: no spaces, no `+`).
pub(crate) fn parse_int(arg: &[u8]) -> Result<i64, CommandError> {
    let text = std::str::from_utf8(arg).map_err(|_| CommandError::NotInteger)?;
    if text.starts_with('+') || text.len() > 20 {
        return Err(CommandError::NotInteger);
    }
    text.parse().map_err(|_| CommandError::NotInteger)
}

/// Upper-cased argument, for matching options and subcommands (options are short;
/// anything longer than any option cannot match and is cut to keep this cheap).
pub(crate) fn option(arg: &[u8]) -> String {
    String::from_utf8_lossy(&arg[..arg.len().min(32)]).to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_lookup_ignores_case() {
        assert!(COMMANDS.windows(2).all(|w| w[0].name < w[1].name));
        assert_eq!(lookup(b"GeT").map(|s| s.name), Some("get"));
        assert!(lookup(b"nope").is_none());
        for (i, spec) in COMMANDS.iter().enumerate() {
            assert!(spec.name.len() <= LONGEST_NAME, "{}", spec.name);
            assert_eq!(position(spec.name.to_ascii_uppercase().as_bytes()), Some(i));
        }
        assert!(position(b"").is_none());
        assert!(position(b"get\0").is_none());
        assert!(position(b"\0get").is_none());
        assert!(position(&[b'g'; LONGEST_NAME + 1]).is_none());
    }

    #[test]
    fn point_reads_are_the_bounded_reads_only() {
        let args = |a: &[&str]| a.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
        for read in [
            &["GeT", "k"][..],
            &["get", "k"],
            &["STRLEN", "k"],
            &["ping"],
            &["ttl", "k"],
        ] {
            assert!(is_point_read(&args(read)), "{read:?}");
        }
        for other in [
            &["set", "k", "v"][..],
            &["scan", "0"],
            &["del", "k"],
            &["nope"],
            &["get\0", "k"],
        ] {
            assert!(!is_point_read(&args(other)), "{other:?}");
        }
        let mut mget = vec!["mget".to_string()];
        mget.extend((0..MAX_INLINE_KEYS).map(|i| format!("k{i}")));
        let refs: Vec<&str> = mget.iter().map(String::as_str).collect();
        assert!(is_point_read(&args(&refs)));
        mget.push("one-too-many".into());
        let refs: Vec<&str> = mget.iter().map(String::as_str).collect();
        assert!(!is_point_read(&args(&refs)));
    }

    #[test]
    fn unknown_command_lists_arguments() {
        let args: Vec<Vec<u8>> = vec![b"foo".to_vec(), b"a".to_vec(), b"b c".to_vec()];
        assert_eq!(
            unknown_command(&args),
            Value::Error("ERR unknown command 'foo', with args beginning with: 'a' 'b c' ".into())
        );
        let long: Vec<Vec<u8>> = vec![b"x".to_vec(), vec![b'z'; 1000], b"next".to_vec()];
        let Value::Error(text) = unknown_command(&long) else {
            unreachable!()
        };
        assert!(text.len() < 300 && !text.contains("next"), "{text}");
    }

    #[test]
    fn integers_parse_like_redis() {
        assert_eq!(parse_int(b"-12").unwrap(), -12);
        for bad in [&b"+1"[..], b" 1", b"1.0", b"", b"99999999999999999999999"] {
            assert!(parse_int(bad).is_err());
        }
    }
}
