//! Tenants and tokens: every RESP command and every HTTP route tried with tenant B's token
//! against tenant A's keys and projects (refused or empty, never A's data); roles; the
//! authentication handshake; and the open server's refusal to listen beyond loopback.

mod server_support;

use std::collections::BTreeSet;

use redis::{Commands, Value as R};
use server_support::{Server, command_with, tiny_index};

const A_ADMIN: &str = "a-admin-token";
const A_WRITE: &str = "a-write-token";
const A_READ: &str = "a-read-token";
const B_ADMIN: &str = "b-admin-token";

const CONFIG: &str = r#"
[[tokens]]
token = "a-admin-token"
tenant = "a"
role = "admin"
[[tokens]]
token = "a-write-token"
tenant = "a"
role = "write"
[[tokens]]
token = "a-read-token"
tenant = "a"
role = "read"
[[tokens]]
token = "b-admin-token"
tenant = "b"
role = "admin"
"#;

fn start() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_config(&dir.path().join("data"), CONFIG);
    (dir, server)
}

fn cmd(c: &mut redis::Connection, args: &[&str]) -> redis::RedisResult<R> {
    let mut command = redis::cmd(args[0]);
    for a in &args[1..] {
        command.arg(*a);
    }
    command.query(c)
}

/// Commands that touch no keys: they cannot reach another tenant's data by construction
/// (CLIENT LIST is filtered by tenant and checked below).
const KEYLESS: &[&str] = &[
    "auth", "client", "command", "config", "echo", "hello", "ping", "quit", "select",
];

#[test]
fn every_resp_command_stays_inside_its_tenant() {
    let (_dir, server) = start();
    let mut a = server.client_as("a", A_ADMIN);
    let mut b = server.client_as("b", B_ADMIN);
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("tenant-a-client")
        .query(&mut a)
        .unwrap();
    for i in 0..20 {
        let _: () = a.set(format!("k{i}"), format!("a-value-{i}")).unwrap();
    }
    let mut tried = BTreeSet::new();
    let mut check = |name: &str, args: &[&str], expected: R| {
        tried.insert(name.to_owned());
        let got = cmd(&mut b, args).unwrap();
        assert_eq!(got, expected, "B ran {args:?}");
    };
    check("get", &["GET", "k1"], R::Nil);
    check("strlen", &["STRLEN", "k1"], R::Int(0));
    check("type", &["TYPE", "k1"], R::SimpleString("none".into()));
    check("exists", &["EXISTS", "k1", "k2"], R::Int(0));
    check(
        "mget",
        &["MGET", "k1", "k2"],
        R::Array(vec![R::Nil, R::Nil]),
    );
    check("getdel", &["GETDEL", "k1"], R::Nil);
    check("del", &["DEL", "k1", "k2"], R::Int(0));
    check("unlink", &["UNLINK", "k3"], R::Int(0));
    check("dbsize", &["DBSIZE"], R::Int(0));
    check("set", &["SET", "k4", "b-value", "XX"], R::Nil);
    check(
        "scan",
        &["SCAN", "0", "COUNT", "1000"],
        R::Array(vec![R::BulkString(b"0".to_vec()), R::Array(vec![])]),
    );
    // Expiry: A's k8 has a TTL; B sees no such key and cannot change it.
    let _: () = redis::cmd("EXPIRE")
        .arg("k8")
        .arg(1000)
        .query(&mut a)
        .unwrap();
    check("expire", &["EXPIRE", "k8", "10"], R::Int(0));
    check("pexpire", &["PEXPIRE", "k8", "10"], R::Int(0));
    check("expireat", &["EXPIREAT", "k8", "1"], R::Int(0));
    check("pexpireat", &["PEXPIREAT", "k8", "1"], R::Int(0));
    check("ttl", &["TTL", "k8"], R::Int(-2));
    check("pttl", &["PTTL", "k8"], R::Int(-2));
    check("expiretime", &["EXPIRETIME", "k8"], R::Int(-2));
    check("pexpiretime", &["PEXPIRETIME", "k8"], R::Int(-2));
    check("persist", &["PERSIST", "k8"], R::Int(0));
    // B's own writes land in B's namespace; A's values are untouched.
    check("set", &["SET", "k5", "b-value"], R::Okay);
    check("mset", &["MSET", "k6", "b", "k7", "b"], R::Okay);
    check("flushdb", &["FLUSHDB"], R::Okay);
    check("dbsize", &["DBSIZE"], R::Int(0));
    // DEBUG ADVANCE-CLOCK would move every tenant's clock: refused unless the operator
    // enabled it in the config (tests only), and then only for admins.
    tried.insert("debug".into());
    assert!(
        cmd(&mut b, &["DEBUG", "ADVANCE-CLOCK", "100000000"]).is_err(),
        "DEBUG ran on a server without enable_debug_command"
    );
    let info = cmd(&mut b, &["INFO", "keyspace"]).unwrap();
    tried.insert("info".into());
    let info = match info {
        R::BulkString(t) => String::from_utf8(t).unwrap(),
        R::VerbatimString { text, .. } => text,
        other => panic!("{other:?}"),
    };
    assert!(!info.contains("keys="), "B's keyspace shows keys: {info}");
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut b).unwrap();
    assert!(!list.contains("tenant-a-client"), "{list}");

    // A still has all twenty keys with A's values.
    for i in 0..20 {
        let v: String = a.get(format!("k{i}")).unwrap();
        assert_eq!(v, format!("a-value-{i}"));
    }
    let n: i64 = redis::cmd("DBSIZE").query(&mut a).unwrap();
    assert_eq!(n, 20);
    let ttl: i64 = redis::cmd("TTL").arg("k8").query(&mut a).unwrap();
    assert!((1..=1000).contains(&ttl), "A's TTL on k8 changed: {ttl}");
    // A SCAN cursor issued to A resumes inside B's own (empty) namespace for B.
    let (cursor, _): (u64, Vec<String>) = redis::cmd("SCAN")
        .arg(0)
        .arg("COUNT")
        .arg(5)
        .query(&mut a)
        .unwrap();
    assert_ne!(cursor, 0);
    let (_, keys): (u64, Vec<String>) = redis::cmd("SCAN").arg(cursor).query(&mut b).unwrap();
    assert!(keys.is_empty(), "{keys:?}");

    // Every command the server knows was tried (new commands must join this test).
    let names: Vec<String> = redis::cmd("COMMAND").arg("LIST").query(&mut a).unwrap();
    for name in names {
        assert!(
            tried.contains(&name) || KEYLESS.contains(&name.as_str()),
            "command {name:?} has no cross-tenant check in this test"
        );
    }
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn resp_authentication_and_roles() {
    let (_dir, server) = start();
    let mut raw = server.raw();
    let noauth = |v: scipkv_server::resp::Value| match v {
        scipkv_server::resp::Value::Error(e) => assert!(e.starts_with("NOAUTH"), "{e}"),
        other => panic!("expected NOAUTH, got {other:?}"),
    };
    // Before AUTH: everything but AUTH/HELLO/QUIT is refused, PING included (as in Redis).
    noauth(raw.call(&[b"PING"]));
    noauth(raw.call(&[b"GET", b"k"]));
    noauth(raw.call(&[b"NOSUCHCOMMAND"]));
    noauth(raw.call(&[b"HELLO", b"3"]));
    match raw.call(&[b"AUTH", b"a", b"wrong-token"]) {
        scipkv_server::resp::Value::Error(e) => assert!(e.starts_with("WRONGPASS"), "{e}"),
        other => panic!("{other:?}"),
    }
    // A token of tenant a does not authenticate as tenant b.
    match raw.call(&[b"AUTH", b"b", A_ADMIN.as_bytes()]) {
        scipkv_server::resp::Value::Error(e) => assert!(e.starts_with("WRONGPASS"), "{e}"),
        other => panic!("{other:?}"),
    }
    noauth(raw.call(&[b"GET", b"k"]));
    assert!(matches!(
        raw.call(&[b"HELLO", b"3", b"AUTH", b"a", A_READ.as_bytes()]),
        scipkv_server::resp::Value::Map(_)
    ));
    assert_eq!(raw.call(&[b"GET", b"k"]), scipkv_server::resp::Value::Null);

    let mut read = server.client_as("a", A_READ);
    let mut write = server.client_as("a", A_WRITE);
    let mut admin = server.client_as("a", A_ADMIN);
    let _: () = write.set("k", "v").unwrap();
    assert_eq!(read.get::<_, String>("k").unwrap(), "v");
    for args in [
        &["SET", "k", "x"][..],
        &["MSET", "k", "x", "j", "y"],
        &["DEL", "k"],
        &["GETDEL", "k"],
        &["FLUSHDB"],
    ] {
        let err = cmd(&mut read, args).unwrap_err();
        assert_eq!(err.code(), Some("NOPERM"), "{args:?}: {err}");
    }
    // A pipeline of plain SETs (coalesced into one batch) is refused just the same.
    let results: Vec<redis::RedisResult<R>> = {
        let mut out = Vec::new();
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg("p1")
            .arg("x")
            .cmd("SET")
            .arg("p2")
            .arg("y");
        match pipe.query::<Vec<R>>(&mut read) {
            Ok(v) => out.extend(v.into_iter().map(Ok)),
            Err(e) => out.push(Err(e)),
        }
        out
    };
    assert!(results.iter().any(|r| r.is_err()), "{results:?}");
    assert_eq!(read.get::<_, Option<String>>("p1").unwrap(), None);
    assert_eq!(read.get::<_, String>("k").unwrap(), "v");
    let err = cmd(&mut write, &["FLUSHDB"]).unwrap_err();
    assert_eq!(err.code(), Some("NOPERM"), "{err}");
    assert_eq!(cmd(&mut admin, &["FLUSHDB"]).unwrap(), R::Okay);
    assert_eq!(read.get::<_, Option<String>>("k").unwrap(), None);
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn every_http_route_stays_inside_its_tenant() {
    let (_dir, server) = start();
    let a = server.http(Some(A_WRITE));
    let b = server.http(Some(B_ADMIN));
    let sym = "scip-python python secret 1 a/secret.";
    let (status, body) = a.put_bytes("/v1/projects/p/versions/v1/index", &tiny_index("a.py", sym));
    assert_eq!(status, 200, "{body}");
    let base = "/v1/projects/p/versions";
    let pos = "path=a.py&line=0&character=5";
    // A sees its project.
    assert_eq!(
        a.get_json(&format!("{base}/v1/definition?{pos}"))[0]["path"],
        "a.py"
    );

    // B: no projects, every query route 404, symbol search empty.
    assert_eq!(b.get_json("/v1/projects"), serde_json::json!([]));
    for v in ["v1", "latest"] {
        for route in [
            format!("definition?{pos}"),
            format!("references?{pos}&includeDeclaration=true"),
            format!("implementations?{pos}"),
            format!("type-definition?{pos}"),
            format!("hover?{pos}"),
            "document-symbols?path=a.py".into(),
            "workspace-symbols?query=secret".into(),
        ] {
            let url = format!("{base}/{v}/{route}");
            let (status, body) = b.get(&url);
            assert_eq!(status, 404, "B asked {url}: {body}");
            assert!(!body.contains("secret"), "{body}");
        }
    }
    let enc_sym = sym.replace(' ', "%20").replace('/', "%2F");
    assert_eq!(
        b.get_json(&format!("/v1/symbols/definition?symbol={enc_sym}")),
        serde_json::json!([])
    );
    assert_eq!(
        b.get(&format!(
            "/v1/symbols/definition?symbol={enc_sym}&project=p"
        ))
        .0,
        404
    );
    assert_eq!(b.delete(&format!("{base}/v1")).0, 404);
    // B uploading the same project name creates B's own; A's is untouched.
    let (status, _) = b.put_bytes(
        &format!("{base}/v1/index"),
        &tiny_index("b.py", "scip-python python other 1 b/other."),
    );
    assert_eq!(status, 200);
    assert_eq!(
        a.get_json(&format!("{base}/v1/definition?{pos}"))[0]["path"],
        "a.py"
    );
    assert_eq!(
        b.get_json(&format!("{base}/v1/document-symbols?path=a.py")),
        serde_json::json!([])
    );
    let a_projects = a.get_json("/v1/projects");
    assert_eq!(a_projects.as_array().unwrap().len(), 1);
    assert_eq!(a_projects[0]["versions"][0]["documents"], 1);
    // B's /metrics is server-wide figures, no tenant data: allowed for B's admin, but it
    // must not mention A's project or symbols.
    let (status, metrics) = b.get("/metrics");
    assert_eq!(status, 200);
    assert!(!metrics.contains("secret"));
    // RESP keys and SCIP projects never meet: A's RESP view of the database is empty.
    let mut ra = server.client_as("a", A_ADMIN);
    let n: i64 = redis::cmd("DBSIZE").query(&mut ra).unwrap();
    assert_eq!(n, 0);
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn http_authentication_and_roles() {
    let (_dir, server) = start();
    let none = server.http(None);
    let bad = server.http(Some("not-a-configured-token"));
    let read = server.http(Some(A_READ));
    let write = server.http(Some(A_WRITE));
    let admin = server.http(Some(A_ADMIN));
    let index = tiny_index("a.py", "scip-python python p 1 a/f.");
    let up = "/v1/projects/p/versions/v1/index";
    for client in [&none, &bad] {
        assert_eq!(client.get("/v1/projects").0, 401);
        assert_eq!(client.put_bytes(up, &index).0, 401);
        assert_eq!(client.get("/metrics").0, 401);
        // Probes stay open.
        assert_eq!(client.get("/healthz").0, 200);
        assert_eq!(client.get("/readyz").0, 200);
    }
    let (status, body) = read.put_bytes(up, &index);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("\"error\""));
    assert_eq!(read.get_json("/v1/projects"), serde_json::json!([]));
    assert_eq!(write.put_bytes(up, &index).0, 200);
    assert_eq!(read.delete("/v1/projects/p/versions/v1").0, 403);
    assert_eq!(read.get("/metrics").0, 403);
    assert_eq!(write.get("/metrics").0, 403);
    assert_eq!(admin.get("/metrics").0, 200);
    assert_eq!(write.delete("/v1/projects/p/versions/v1").0, 200);
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn an_open_server_refuses_non_loopback_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for (resp, http) in [("0.0.0.0:0", "127.0.0.1:0"), ("127.0.0.1:0", "0.0.0.0:0")] {
        let out = command_with(&data, resp, http, None).output().unwrap();
        assert!(!out.status.success(), "{resp} {http}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("refusing to listen on 0.0.0.0"), "{stderr}");
        assert!(out.stdout.is_empty(), "announced listening before refusing");
    }
    // With tokens configured the same addresses are fine.
    let path = dir.path().join("tokens.toml");
    std::fs::write(&path, CONFIG).unwrap();
    let server = Server::spawn(command_with(&data, "0.0.0.0:0", "0.0.0.0:0", Some(&path)));
    assert_eq!(server.terminate().code(), Some(0));
}
