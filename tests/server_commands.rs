//! Round trips for every RESP command `scipkv serve` supports, through the `redis` crate
//! and raw sockets, against the real binary.

mod server_support;

use redis::{Connection, RedisResult, cmd};
use scipkv_server::resp::Value;
use server_support::Server;

fn server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    (dir, server)
}

fn error_of<T: std::fmt::Debug>(result: RedisResult<T>) -> String {
    let err = result.expect_err("expected an error reply");
    err.to_string()
}

fn get(con: &mut Connection, key: &str) -> Option<String> {
    cmd("GET").arg(key).query(con).unwrap()
}

#[test]
fn string_commands_round_trip() {
    let (_dir, server) = server();
    let mut con = server.client();
    let ok: String = cmd("SET").arg("k").arg("v1").query(&mut con).unwrap();
    assert_eq!(ok, "OK");
    assert_eq!(get(&mut con, "k").as_deref(), Some("v1"));
    assert_eq!(get(&mut con, "missing"), None);

    // NX only when absent, XX only when present; a refused SET replies nil.
    let r: Option<String> = cmd("SET")
        .arg("k")
        .arg("v2")
        .arg("NX")
        .query(&mut con)
        .unwrap();
    assert_eq!(r, None);
    let r: Option<String> = cmd("SET")
        .arg("new")
        .arg("n")
        .arg("xx")
        .query(&mut con)
        .unwrap();
    assert_eq!(r, None);
    assert_eq!(get(&mut con, "new"), None);
    let r: Option<String> = cmd("SET")
        .arg("k")
        .arg("v3")
        .arg("XX")
        .query(&mut con)
        .unwrap();
    assert_eq!(r.as_deref(), Some("OK"));
    // GET returns the old value whether or not the write happened.
    let r: Option<String> = cmd("SET")
        .arg("k")
        .arg("v4")
        .arg("GET")
        .query(&mut con)
        .unwrap();
    assert_eq!(r.as_deref(), Some("v3"));
    let r: Option<String> = cmd("SET")
        .arg("k")
        .arg("v5")
        .arg("NX")
        .arg("GET")
        .query(&mut con)
        .unwrap();
    assert_eq!(r.as_deref(), Some("v4"));
    assert_eq!(get(&mut con, "k").as_deref(), Some("v4"));
    assert!(
        error_of(
            cmd("SET")
                .arg("k")
                .arg("v")
                .arg("NX")
                .arg("XX")
                .query::<()>(&mut con)
        )
        .contains("syntax error")
    );
    assert!(
        error_of(
            cmd("SET")
                .arg("k")
                .arg("v")
                .arg("BOGUS")
                .query::<()>(&mut con)
        )
        .contains("syntax error")
    );
    // The expiry options are covered by server_expiry.rs.

    // Binary-safe values, including empty ones.
    let binary = vec![0u8, 13, 10, 255, b'$'];
    let () = cmd("SET")
        .arg(b"bin\r\n")
        .arg(&binary)
        .query(&mut con)
        .unwrap();
    let back: Vec<u8> = cmd("GET").arg(b"bin\r\n").query(&mut con).unwrap();
    assert_eq!(back, binary);
    let () = cmd("SET").arg("empty").arg("").query(&mut con).unwrap();
    assert_eq!(get(&mut con, "empty").as_deref(), Some(""));

    let len: i64 = cmd("STRLEN").arg("k").query(&mut con).unwrap();
    assert_eq!(len, 2);
    let len: i64 = cmd("STRLEN").arg("missing").query(&mut con).unwrap();
    assert_eq!(len, 0);

    let r: Option<String> = cmd("GETDEL").arg("k").query(&mut con).unwrap();
    assert_eq!(r.as_deref(), Some("v4"));
    let r: Option<String> = cmd("GETDEL").arg("k").query(&mut con).unwrap();
    assert_eq!(r, None);

    let () = cmd("MSET")
        .arg("a")
        .arg("1")
        .arg("b")
        .arg("2")
        .arg("a")
        .arg("3")
        .query(&mut con)
        .unwrap();
    let values: Vec<Option<String>> = cmd("MGET")
        .arg("a")
        .arg("b")
        .arg("nope")
        .query(&mut con)
        .unwrap();
    assert_eq!(values, vec![Some("3".into()), Some("2".into()), None]);
    let err = error_of(cmd("MSET").arg("a").arg("1").arg("b").query::<()>(&mut con));
    assert!(
        err.contains("wrong number of arguments for 'mset'"),
        "{err}"
    );
}

#[test]
fn key_commands_round_trip() {
    let (_dir, server) = server();
    let mut con = server.client();
    for i in 0..25 {
        let () = cmd("SET")
            .arg(format!("user:{i:02}"))
            .arg(i)
            .query(&mut con)
            .unwrap();
    }
    let () = cmd("SET").arg("other").arg("x").query(&mut con).unwrap();

    let n: i64 = cmd("EXISTS")
        .arg("user:01")
        .arg("user:01")
        .arg("nope")
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 2, "a key named twice counts twice");
    let t: String = cmd("TYPE").arg("other").query(&mut con).unwrap();
    assert_eq!(t, "string");
    let t: String = cmd("TYPE").arg("nope").query(&mut con).unwrap();
    assert_eq!(t, "none");
    let n: i64 = cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(n, 26);

    // SCAN through the redis crate's iterator: integer cursors, MATCH and COUNT.
    let mut keys: Vec<String> = cmd("SCAN")
        .cursor_arg(0)
        .arg("MATCH")
        .arg("user:1*")
        .arg("COUNT")
        .arg(3)
        .clone()
        .iter::<String>(&mut con)
        .unwrap()
        .collect::<RedisResult<_>>()
        .unwrap();
    keys.sort();
    let expected: Vec<String> = (10..20).map(|i| format!("user:{i}")).collect();
    assert_eq!(keys, expected);
    let (cursor, page): (u64, Vec<String>) = cmd("SCAN")
        .arg(0)
        .arg("COUNT")
        .arg(1000)
        .query(&mut con)
        .unwrap();
    assert_eq!((cursor, page.len()), (0, 26), "one page holds everything");
    let (_, page): (u64, Vec<String>) = cmd("SCAN")
        .arg(0)
        .arg("TYPE")
        .arg("hash")
        .query(&mut con)
        .unwrap();
    assert!(page.is_empty());
    assert!(
        error_of(cmd("SCAN").arg(987_654_321u64).query::<()>(&mut con)).contains("invalid cursor")
    );
    assert!(error_of(cmd("SCAN").arg("abc").query::<()>(&mut con)).contains("invalid cursor"));
    assert!(
        error_of(cmd("SCAN").arg(0).arg("COUNT").query::<()>(&mut con)).contains("syntax error")
    );
    assert!(
        error_of(cmd("SCAN").arg(0).arg("COUNT").arg(0).query::<()>(&mut con))
            .contains("syntax error")
    );

    let n: i64 = cmd("DEL")
        .arg("user:00")
        .arg("user:00")
        .arg("nope")
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 1, "a key named twice is deleted once");
    let n: i64 = cmd("UNLINK")
        .arg("user:01")
        .arg("user:02")
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(get(&mut con, "user:01"), None);
    let n: i64 = cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(n, 23);

    let () = cmd("FLUSHDB").query(&mut con).unwrap();
    let n: i64 = cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(n, 0);
    assert_eq!(get(&mut con, "other"), None);
}

#[test]
fn connection_and_introspection_commands() {
    let (_dir, server) = server();
    let mut con = server.client();
    let pong: String = cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
    let echo: String = cmd("PING").arg("hi").query(&mut con).unwrap();
    assert_eq!(echo, "hi");
    let echo: Vec<u8> = cmd("ECHO").arg(b"a\0b").query(&mut con).unwrap();
    assert_eq!(echo, b"a\0b");
    let () = cmd("SELECT").arg(0).query(&mut con).unwrap();
    assert!(error_of(cmd("SELECT").arg(1).query::<()>(&mut con)).contains("out of range"));

    let hello: Vec<redis::Value> = cmd("HELLO").arg(2).query(&mut con).unwrap();
    let hello: Vec<String> = hello
        .iter()
        .map(|v| match v {
            redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            redis::Value::Int(n) => n.to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    for field in [
        "server", "version", "proto", "id", "mode", "role", "modules",
    ] {
        assert!(
            hello.contains(&field.to_string()),
            "{field} missing from {hello:?}"
        );
    }
    assert!(error_of(cmd("HELLO").arg(4).query::<()>(&mut con)).contains("NOPROTO"));

    let info: String = cmd("INFO").query(&mut con).unwrap();
    for needle in [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Keyspace",
        "connected_clients:1",
        "scipkv_wal_syncs:",
        "redis_version:",
    ] {
        assert!(info.contains(needle), "{needle} missing from INFO:\n{info}");
    }
    let () = cmd("SET").arg("k").arg("v").query(&mut con).unwrap();
    let keyspace: String = cmd("INFO").arg("keyspace").query(&mut con).unwrap();
    assert!(keyspace.contains("db0:keys=1,"), "{keyspace}");
    assert!(!keyspace.contains("# Server"), "{keyspace}");

    let id: i64 = cmd("CLIENT").arg("ID").query(&mut con).unwrap();
    assert!(id > 0);
    let name: Option<String> = cmd("CLIENT").arg("GETNAME").query(&mut con).unwrap();
    assert_eq!(name, None);
    let () = cmd("CLIENT")
        .arg("SETNAME")
        .arg("indexer")
        .query(&mut con)
        .unwrap();
    let name: Option<String> = cmd("CLIENT").arg("GETNAME").query(&mut con).unwrap();
    assert_eq!(name.as_deref(), Some("indexer"));
    assert!(
        error_of(
            cmd("CLIENT")
                .arg("SETNAME")
                .arg("a b")
                .query::<()>(&mut con)
        )
        .contains("cannot contain spaces")
    );
    let mut other = server.client();
    let list: String = cmd("CLIENT").arg("LIST").query(&mut other).unwrap();
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(
        list.contains(&format!("id={id} ")) && list.contains("name=indexer"),
        "{list}"
    );
    assert!(
        list.contains("lib-name=redis-rs"),
        "CLIENT SETINFO is recorded: {list}"
    );
    assert!(
        error_of(cmd("CLIENT").arg("NOPE").query::<()>(&mut con)).contains("unknown subcommand")
    );

    let count: i64 = cmd("COMMAND").arg("COUNT").query(&mut con).unwrap();
    assert!(count >= 20, "{count}");
    let info: Vec<redis::Value> = cmd("COMMAND")
        .arg("INFO")
        .arg("get")
        .arg("nosuch")
        .query(&mut con)
        .unwrap();
    assert_eq!(info.len(), 2);
    assert_eq!(info[1], redis::Value::Nil);
    let redis::Value::Array(get_info) = &info[0] else {
        panic!("{info:?}")
    };
    assert_eq!(get_info[0], redis::Value::BulkString(b"get".to_vec()));
    assert_eq!(get_info[1], redis::Value::Int(2));
    let docs: redis::Value = cmd("COMMAND")
        .arg("DOCS")
        .arg("set")
        .query(&mut con)
        .unwrap();
    assert!(format!("{docs:?}").contains("summary"), "{docs:?}");
    let all: Vec<redis::Value> = cmd("COMMAND").query(&mut con).unwrap();
    assert_eq!(all.len() as i64, count);

    let config: Vec<String> = cmd("CONFIG")
        .arg("GET")
        .arg("save")
        .arg("appendonly")
        .query(&mut con)
        .unwrap();
    assert_eq!(config, vec!["save", "", "appendonly", "yes"]);
    let config: Vec<String> = cmd("CONFIG")
        .arg("GET")
        .arg("max*")
        .query(&mut con)
        .unwrap();
    assert_eq!(config, vec!["maxclients", "10000"]);
    assert!(
        error_of(
            cmd("CONFIG")
                .arg("SET")
                .arg("save")
                .arg("")
                .query::<()>(&mut con)
        )
        .contains("not supported")
    );

    // QUIT replies OK, then the server closes the connection.
    let mut raw = server.raw();
    assert_eq!(raw.call(&[b"QUIT"]), Value::ok());
    raw.assert_closed();
}

#[test]
fn pipeline_of_a_thousand_commands() {
    let (_dir, server) = server();
    let mut con = server.client();
    let mut pipe = redis::pipe();
    for i in 0..500 {
        pipe.cmd("SET").arg(format!("p{i}")).arg(i).ignore();
    }
    for i in 0..500 {
        pipe.cmd("GET").arg(format!("p{i}"));
    }
    let values: Vec<i64> = pipe.query(&mut con).unwrap();
    assert_eq!(values, (0..500).collect::<Vec<_>>());

    // A pipelined run of plain SETs is written as one batch; one bad request in it still
    // gets its own error and the others succeed.
    let too_long_key = "k".repeat(70 * 1024);
    let mut raw = server.raw();
    let mut bytes = Vec::new();
    for args in [
        &[&b"SET"[..], b"r1", b"1"][..],
        &[b"SET", too_long_key.as_bytes(), b"x"],
        &[b"MSET", b"r2", b"2", b"r3", b"3"],
        &[b"MGET", b"r1", b"r2", b"r3"],
    ] {
        bytes.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for arg in args {
            bytes.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            bytes.extend_from_slice(arg);
            bytes.extend_from_slice(b"\r\n");
        }
    }
    raw.send(&bytes);
    assert_eq!(raw.read(), Some(Value::ok()));
    let reply = raw.read();
    assert!(
        matches!(&reply, Some(Value::Error(e)) if e.contains("limit is 65536")),
        "{reply:?}"
    );
    assert_eq!(raw.read(), Some(Value::ok()));
    assert_eq!(
        raw.read(),
        Some(Value::Array(vec![
            Value::bulk("1"),
            Value::bulk("2"),
            Value::bulk("3")
        ]))
    );

    // The same over a raw socket in one write, inline and multibulk mixed: replies in order.
    let mut raw = server.raw();
    let mut bytes = Vec::new();
    for i in 0..1000 {
        if i % 2 == 0 {
            bytes.extend_from_slice(format!("ECHO m{i}\r\n").as_bytes());
        } else {
            bytes.extend_from_slice(
                format!("*2\r\n$4\r\nECHO\r\n${}\r\nm{i}\r\n", format!("m{i}").len()).as_bytes(),
            );
        }
    }
    raw.send(&bytes);
    for i in 0..1000 {
        assert_eq!(raw.read(), Some(Value::bulk(format!("m{i}"))));
    }
}

#[test]
fn resp3_after_hello_3() {
    let (_dir, server) = server();
    let mut raw = server.raw();
    // RESP2 until HELLO: a missing key is $-1.
    assert_eq!(raw.call(&[b"GET", b"nope"]), Value::Null);
    raw.send(b"GET nope\r\n");
    let mut resp2_null = [0u8; 5];
    std::io::Read::read_exact(&mut raw.stream, &mut resp2_null).unwrap();
    assert_eq!(&resp2_null, b"$-1\r\n");

    let Value::Map(pairs) = raw.call(&[b"HELLO", b"3"]) else {
        panic!("HELLO 3 must reply with a map")
    };
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == Value::bulk(name))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(field("proto"), Some(Value::Integer(3)));
    assert_eq!(field("server"), Some(Value::bulk("scipkv")));
    assert_eq!(field("mode"), Some(Value::bulk("standalone")));
    assert_eq!(field("role"), Some(Value::bulk("master")));
    assert_eq!(field("modules"), Some(Value::Array(vec![])));
    assert!(matches!(field("id"), Some(Value::Integer(id)) if id > 0));
    assert!(field("version").is_some());

    raw.send(b"GET nope\r\n");
    let mut resp3_null = [0u8; 3];
    std::io::Read::read_exact(&mut raw.stream, &mut resp3_null).unwrap();
    assert_eq!(&resp3_null, b"_\r\n");
    assert!(matches!(raw.call(&[b"CONFIG", b"GET", b"save"]), Value::Map(m) if m.len() == 1));
    assert!(matches!(
        raw.call(&[b"INFO", b"server"]),
        Value::Verbatim { .. }
    ));
    // And back to RESP2.
    assert!(matches!(raw.call(&[b"HELLO", b"2"]), Value::Array(_)));
    assert_eq!(raw.call(&[b"GET", b"nope"]), Value::Null);
}

#[test]
fn unknown_commands_and_wrong_arity_keep_the_connection() {
    let (_dir, server) = server();
    let mut raw = server.raw();
    assert_eq!(
        raw.call(&[b"FOO", b"a", b"b"]),
        Value::Error("ERR unknown command 'FOO', with args beginning with: 'a' 'b' ".into())
    );
    assert_eq!(
        raw.call(&[b"GET"]),
        Value::Error("ERR wrong number of arguments for 'get' command".into())
    );
    assert_eq!(
        raw.call(&[b"set", b"k"]),
        Value::Error("ERR wrong number of arguments for 'set' command".into())
    );
    assert_eq!(raw.call(&[b"PING"]), Value::Simple("PONG".into()));
}

#[test]
fn protocol_error_replies_then_closes() {
    let (_dir, server) = server();
    let mut raw = server.raw();
    // Commands before the malformed one still run and are answered, in order.
    raw.send(b"PING\r\n*1\r\n$x\r\nPING\r\n");
    assert_eq!(raw.read(), Some(Value::Simple("PONG".into())));
    assert_eq!(
        raw.read(),
        Some(Value::Error(
            "ERR Protocol error: invalid bulk length".into()
        ))
    );
    raw.assert_closed();

    let mut raw = server.raw();
    raw.send(b"SET \"unbalanced\r\n");
    assert_eq!(
        raw.read(),
        Some(Value::Error(
            "ERR Protocol error: unbalanced quotes in request".into()
        ))
    );
    raw.assert_closed();
    // The server is unaffected.
    assert_eq!(server.raw().call(&[b"PING"]), Value::Simple("PONG".into()));
}

#[test]
fn limits_from_the_config_file_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_config(
        &dir.path().join("data"),
        "sync = \"never\"\n[limits]\nmax_connections = 2\nmax_bulk_len = 1000\nmax_query_buffer = 4096\n",
    );
    // Bulk length over max_bulk_len is a protocol error.
    let mut raw = server.raw();
    raw.send(b"*2\r\n$3\r\nGET\r\n$1001\r\n");
    assert_eq!(
        raw.read(),
        Some(Value::Error(
            "ERR Protocol error: invalid bulk length".into()
        ))
    );
    raw.assert_closed();

    // More unprocessed input than max_query_buffer closes the connection with an error;
    // complete requests received before it are still answered.
    let mut raw = server.raw();
    raw.send(format!("ECHO {}\r\n", "y".repeat(999)).as_bytes());
    raw.send(format!("ECHO {}", "z".repeat(5000)).as_bytes());
    let reply = raw.read();
    assert!(
        matches!(&reply, Some(Value::Bulk(b)) if b.len() == 999),
        "{reply:?}"
    );
    assert_eq!(
        raw.read(),
        Some(Value::Error(
            "ERR Protocol error: client query buffer limit exceeded".into()
        ))
    );
    raw.assert_closed();

    // Max connections: the third is refused with an error and closed.
    let mut first = server.raw();
    let mut second = server.raw();
    assert_eq!(first.call(&[b"PING"]), Value::Simple("PONG".into()));
    assert_eq!(second.call(&[b"PING"]), Value::Simple("PONG".into()));
    let mut third = server.raw();
    assert_eq!(
        third.read(),
        Some(Value::Error("ERR max number of clients reached".into()))
    );
    third.assert_closed();
}

#[test]
fn idle_connections_time_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_config(
        &dir.path().join("data"),
        "[limits]\nidle_timeout_secs = 1\n",
    );
    let mut raw = server.raw();
    assert_eq!(raw.call(&[b"PING"]), Value::Simple("PONG".into()));
    let started = std::time::Instant::now();
    raw.assert_closed();
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(900),
        "{waited:?}"
    );
    assert!(waited < std::time::Duration::from_secs(10), "{waited:?}");
}
