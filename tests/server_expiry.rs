//! Key expiry through RESP against the real binary: the SET expiry options, EXPIRE family,
//! TTL/PTTL/EXPIRETIME, PERSIST, every read command hiding expired keys, expiry across a
//! restart and through compaction, and FLUSHDB's atomicity. Time moves with `DEBUG
//! ADVANCE-CLOCK` (enabled by the config file), never by sleeping; the one place real time
//! must pass (a restart resets the debug clock) polls the observable state with a bound.

mod server_support;

use std::time::{Duration, Instant};

use redis::{Connection, RedisResult, cmd};
use server_support::Server;

const DEBUG_CONFIG: &str = "sync = \"never\"\nenable_debug_command = true\n";

fn server_with(config: &str) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_config(&dir.path().join("data"), config);
    (dir, server)
}

fn error_of<T: std::fmt::Debug>(result: RedisResult<T>) -> String {
    result.expect_err("expected an error reply").to_string()
}

fn get(con: &mut Connection, key: &str) -> Option<String> {
    cmd("GET").arg(key).query(con).unwrap()
}

fn int(con: &mut Connection, args: &[&str]) -> i64 {
    cmd(args[0]).arg(&args[1..]).query(con).unwrap()
}

fn set(con: &mut Connection, args: &[&str]) -> RedisResult<Option<String>> {
    cmd("SET").arg(args).query(con)
}

fn advance(con: &mut Connection, ms: u64) {
    let _: i64 = cmd("DEBUG")
        .arg("ADVANCE-CLOCK")
        .arg(ms)
        .query(con)
        .unwrap();
}

#[test]
fn set_expiry_options_in_every_combination() {
    let (_dir, server) = server_with(DEBUG_CONFIG);
    let mut con = server.client();
    assert_eq!(
        set(&mut con, &["a", "1", "EX", "100"]).unwrap().as_deref(),
        Some("OK")
    );
    assert_eq!(int(&mut con, &["TTL", "a"]), 100);
    let pttl = int(&mut con, &["PTTL", "a"]);
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    assert_eq!(
        set(&mut con, &["b", "1", "px", "1900"]).unwrap().as_deref(),
        Some("OK")
    );
    let pttl = int(&mut con, &["PTTL", "b"]);
    assert!((1..=1900).contains(&pttl), "{pttl}");
    // 1.9 s left rounds to 2 (truncation would say 1); real time passes between the
    // commands, so 400 ms of slack before the rounding point.
    assert_eq!(
        int(&mut con, &["TTL", "b"]),
        2,
        "TTL rounds to the nearest second"
    );
    // EXAT / PXAT are absolute; EXPIRETIME reports them back.
    let far = 4_000_000_000i64;
    set(&mut con, &["c", "1", "EXAT", &far.to_string()]).unwrap();
    assert_eq!(int(&mut con, &["EXPIRETIME", "c"]), far);
    assert_eq!(int(&mut con, &["PEXPIRETIME", "c"]), far * 1000);
    set(&mut con, &["c", "1", "PXAT", &(far * 1000 + 5).to_string()]).unwrap();
    assert_eq!(int(&mut con, &["PEXPIRETIME", "c"]), far * 1000 + 5);
    // An absolute time already past stores nothing visible.
    assert_eq!(
        set(&mut con, &["gone", "1", "PXAT", "1"])
            .unwrap()
            .as_deref(),
        Some("OK")
    );
    assert_eq!(get(&mut con, "gone"), None);
    assert_eq!(int(&mut con, &["TTL", "gone"]), -2);

    // KEEPTTL keeps the expiry; a plain SET discards it.
    assert_eq!(
        set(&mut con, &["a", "2", "KEEPTTL"]).unwrap().as_deref(),
        Some("OK")
    );
    assert_eq!(get(&mut con, "a").as_deref(), Some("2"));
    assert_eq!(int(&mut con, &["TTL", "a"]), 100);
    set(&mut con, &["a", "3"]).unwrap();
    assert_eq!(int(&mut con, &["TTL", "a"]), -1);
    // KEEPTTL on a key without expiry, or absent, leaves it without one.
    set(&mut con, &["fresh", "v", "KEEPTTL"]).unwrap();
    assert_eq!(int(&mut con, &["TTL", "fresh"]), -1);

    // NX / XX / GET with an expiry, options in any order.
    assert_eq!(set(&mut con, &["a", "4", "EX", "50", "NX"]).unwrap(), None);
    assert_eq!(
        int(&mut con, &["TTL", "a"]),
        -1,
        "a refused SET changes nothing"
    );
    assert_eq!(
        set(&mut con, &["a", "4", "XX", "GET", "EX", "50"])
            .unwrap()
            .as_deref(),
        Some("3")
    );
    assert_eq!(int(&mut con, &["TTL", "a"]), 50);
    assert_eq!(
        set(&mut con, &["a", "5", "GET", "KEEPTTL", "XX"])
            .unwrap()
            .as_deref(),
        Some("4")
    );
    assert_eq!(int(&mut con, &["TTL", "a"]), 50);
    assert_eq!(
        set(&mut con, &["n", "1", "PX", "100000", "NX", "GET"]).unwrap(),
        None
    );
    assert_eq!(get(&mut con, "n").as_deref(), Some("1"));
    assert!(int(&mut con, &["PTTL", "n"]) > 0);

    // Redis's errors.
    let invalid = "invalid expire time in 'set' command";
    for bad in [
        &["k", "v", "EX", "0"][..],
        &["k", "v", "PX", "-5"],
        &["k", "v", "EXAT", "0"],
        &["k", "v", "EX", "9223372036854775807"],
    ] {
        let e = error_of(set(&mut con, bad));
        assert!(e.contains(invalid), "{bad:?}: {e}");
    }
    let e = error_of(set(&mut con, &["k", "v", "EX", "ten"]));
    assert!(e.contains("not an integer"), "{e}");
    for bad in [
        &["k", "v", "EX"][..],
        &["k", "v", "EX", "1", "PX", "1"],
        &["k", "v", "EX", "1", "KEEPTTL"],
        &["k", "v", "KEEPTTL", "PXAT", "1"],
        &["k", "v", "NX", "XX"],
        &["k", "v", "EX", "1", "EX", "2"],
    ] {
        let e = error_of(set(&mut con, bad));
        assert!(e.contains("syntax error"), "{bad:?}: {e}");
    }
    assert_eq!(get(&mut con, "k"), None, "failed SETs write nothing");
}

#[test]
fn expire_family_ttl_and_persist() {
    let (_dir, server) = server_with(DEBUG_CONFIG);
    let mut con = server.client();
    assert_eq!(int(&mut con, &["TTL", "missing"]), -2);
    assert_eq!(int(&mut con, &["PTTL", "missing"]), -2);
    assert_eq!(int(&mut con, &["EXPIRE", "missing", "10"]), 0);
    assert_eq!(int(&mut con, &["PERSIST", "missing"]), 0);
    set(&mut con, &["k", "v"]).unwrap();
    assert_eq!(int(&mut con, &["TTL", "k"]), -1);
    assert_eq!(int(&mut con, &["EXPIRETIME", "k"]), -1);
    assert_eq!(int(&mut con, &["PERSIST", "k"]), 0);

    // Conditions: NX only without expiry, XX only with, GT later, LT earlier.
    assert_eq!(int(&mut con, &["EXPIRE", "k", "100", "XX"]), 0);
    assert_eq!(
        int(&mut con, &["EXPIRE", "k", "100", "GT"]),
        0,
        "no expiry is infinite"
    );
    assert_eq!(int(&mut con, &["EXPIRE", "k", "100", "NX"]), 1);
    assert_eq!(int(&mut con, &["TTL", "k"]), 100);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "200", "NX"]), 0);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "50", "GT"]), 0);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "200", "GT"]), 1);
    assert_eq!(int(&mut con, &["TTL", "k"]), 200);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "300", "LT"]), 0);
    assert_eq!(int(&mut con, &["PEXPIRE", "k", "150000", "LT", "XX"]), 1);
    assert_eq!(int(&mut con, &["TTL", "k"]), 150);
    assert_eq!(
        get(&mut con, "k").as_deref(),
        Some("v"),
        "the value is untouched"
    );
    let e = error_of(
        cmd("EXPIRE")
            .arg(&["k", "1", "NX", "XX"])
            .query::<i64>(&mut con),
    );
    assert!(e.contains("not compatible"), "{e}");
    let e = error_of(
        cmd("EXPIRE")
            .arg(&["k", "1", "GT", "LT"])
            .query::<i64>(&mut con),
    );
    assert!(e.contains("not compatible"), "{e}");
    let e = error_of(cmd("EXPIRE").arg(&["k", "x"]).query::<i64>(&mut con));
    assert!(e.contains("not an integer"), "{e}");
    let e = error_of(
        cmd("EXPIRE")
            .arg(&["k", "9223372036854775807"])
            .query::<i64>(&mut con),
    );
    assert!(e.contains("invalid expire time in 'expire' command"), "{e}");

    // PERSIST removes the expiry, keeps the value.
    assert_eq!(int(&mut con, &["PERSIST", "k"]), 1);
    assert_eq!(int(&mut con, &["TTL", "k"]), -1);
    assert_eq!(get(&mut con, "k").as_deref(), Some("v"));

    // Absolute forms.
    let far = 4_000_000_000i64;
    assert_eq!(int(&mut con, &["EXPIREAT", "k", &far.to_string()]), 1);
    assert_eq!(int(&mut con, &["EXPIRETIME", "k"]), far);
    assert_eq!(
        int(&mut con, &["PEXPIREAT", "k", &(far * 1000 + 1).to_string()]),
        1
    );
    assert_eq!(int(&mut con, &["PEXPIRETIME", "k"]), far * 1000 + 1);

    // A time already past deletes the key (Redis's rule), and reports 1.
    assert_eq!(int(&mut con, &["EXPIRE", "k", "-1"]), 1);
    assert_eq!(get(&mut con, "k"), None);
    assert_eq!(int(&mut con, &["TTL", "k"]), -2);
    set(&mut con, &["k2", "v"]).unwrap();
    assert_eq!(int(&mut con, &["PEXPIREAT", "k2", "1"]), 1);
    assert_eq!(int(&mut con, &["EXISTS", "k2"]), 0);
}

#[test]
fn expired_keys_are_invisible_to_every_read() {
    let (_dir, server) = server_with(DEBUG_CONFIG);
    let mut con = server.client();
    // An older plain value under the expiring one must not come back.
    set(&mut con, &["k", "old"]).unwrap();
    set(&mut con, &["k", "new", "EX", "100"]).unwrap();
    set(&mut con, &["p", "plain"]).unwrap();
    set(&mut con, &["q", "soon", "PX", "100500"]).unwrap();
    advance(&mut con, 99_000);
    assert_eq!(int(&mut con, &["TTL", "k"]), 1);
    assert_eq!(get(&mut con, "k").as_deref(), Some("new"));
    advance(&mut con, 1_000);
    assert_eq!(get(&mut con, "k"), None);
    assert_eq!(int(&mut con, &["TTL", "k"]), -2);
    assert_eq!(int(&mut con, &["PTTL", "k"]), -2);
    // Real time passes too (the debug clock adds to it): at most 500 ms are left.
    let left = int(&mut con, &["PTTL", "q"]);
    assert!((1..=500).contains(&left), "{left}");
    assert_eq!(int(&mut con, &["EXISTS", "k", "p", "k"]), 1);
    assert_eq!(int(&mut con, &["STRLEN", "k"]), 0);
    let t: String = cmd("TYPE").arg("k").query(&mut con).unwrap();
    assert_eq!(t, "none");
    let m: Vec<Option<String>> = cmd("MGET").arg(&["k", "p"]).query(&mut con).unwrap();
    assert_eq!(m, vec![None, Some("plain".into())]);
    assert_eq!(int(&mut con, &["DBSIZE"]), 2);
    let (_, keys): (String, Vec<String>) = cmd("SCAN")
        .arg(0)
        .arg("COUNT")
        .arg(100)
        .query(&mut con)
        .unwrap();
    assert_eq!(keys, vec!["p", "q"]);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "100"]), 0);
    assert_eq!(int(&mut con, &["PERSIST", "k"]), 0);
    let r: Option<String> = cmd("GETDEL").arg("k").query(&mut con).unwrap();
    assert_eq!(r, None);
    assert_eq!(int(&mut con, &["DEL", "k"]), 0);
    // SET NX treats an expired key as absent; XX as missing.
    assert_eq!(set(&mut con, &["k", "again", "XX"]).unwrap(), None);
    assert_eq!(
        set(&mut con, &["k", "again", "NX"]).unwrap().as_deref(),
        Some("OK")
    );
    assert_eq!(get(&mut con, "k").as_deref(), Some("again"));
    assert_eq!(int(&mut con, &["TTL", "k"]), -1);
    advance(&mut con, 500);
    assert_eq!(get(&mut con, "q"), None);
}

#[test]
fn debug_is_refused_unless_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let mut con = server.client();
    let e = error_of(
        cmd("DEBUG")
            .arg("ADVANCE-CLOCK")
            .arg(1000)
            .query::<i64>(&mut con),
    );
    assert!(e.contains("DEBUG command not allowed"), "{e}");
}

/// Polls until `done` holds, for at most `bound`; real time must pass here (a restart
/// resets the debug clock), so the wait is on observable state, never a fixed sleep.
fn eventually(bound: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < bound,
            "condition not met within {bound:?}"
        );
        std::thread::yield_now();
    }
}

#[test]
fn expiry_survives_a_restart_and_expired_keys_stay_gone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start_with_config(&data, "sync = \"always\"\n");
    let mut con = server.client();
    set(&mut con, &["long", "v", "EX", "1000"]).unwrap();
    set(&mut con, &["short", "v", "PX", "300"]).unwrap();
    set(&mut con, &["plain", "v"]).unwrap();
    // Flushed to a table for some keys, WAL only for others.
    drop(con);
    assert!(server.terminate().success());
    let server = Server::start_with_config(&data, "sync = \"always\"\n");
    let mut con = server.client();
    let ttl = int(&mut con, &["TTL", "long"]);
    assert!(
        (990..=1000).contains(&ttl),
        "expiry kept across restart: {ttl}"
    );
    assert_eq!(int(&mut con, &["TTL", "plain"]), -1);
    eventually(Duration::from_secs(30), || {
        int(&mut con, &["PTTL", "short"]) == -2
    });
    assert_eq!(get(&mut con, "short"), None);
    drop(con);
    assert!(server.terminate().success());
    let server = Server::start_with_config(&data, "sync = \"always\"\n");
    let mut con = server.client();
    assert_eq!(get(&mut con, "short"), None);
    assert_eq!(int(&mut con, &["DBSIZE"]), 2);
}

#[test]
fn expired_keys_stay_gone_through_flushes_and_compactions() {
    // Tiny memtables: the filler writes below flush many tables and compact them, with the
    // expired values (over older plain values of the same keys) among them.
    let (dir, server) = server_with(&format!("{DEBUG_CONFIG}memtable_size = 4096\n"));
    let mut con = server.client();
    for i in 0..300 {
        set(&mut con, &[&format!("k{i:03}"), "old"]).unwrap();
    }
    for i in 0..300 {
        set(&mut con, &[&format!("k{i:03}"), "new", "PX", "60000"]).unwrap();
    }
    advance(&mut con, 60_000);
    let filler = "x".repeat(100);
    for chunk in 0..40 {
        let mut mset = cmd("MSET");
        for i in 0..50 {
            mset.arg(format!("f{chunk:02}{i:02}")).arg(&filler);
        }
        let () = mset.query(&mut con).unwrap();
    }
    let tables = std::fs::read_dir(dir.path().join("data"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sst")
        })
        .count();
    assert!(tables > 0, "the filler should have flushed tables");
    for i in (0..300).step_by(7) {
        assert_eq!(get(&mut con, &format!("k{i:03}")), None, "k{i:03}");
    }
    assert_eq!(int(&mut con, &["DBSIZE"]), 2000);
    drop(con);
    assert!(server.terminate().success());
}

#[test]
fn flushdb_is_atomic_for_readers() {
    let (_dir, server) = server_with("sync = \"never\"\n");
    let mut con = server.client();
    const N: i64 = 3000;
    for chunk in 0..(N / 100) {
        let mut mset = cmd("MSET");
        for i in 0..100 {
            mset.arg(format!("k{chunk:03}{i:03}")).arg("v");
        }
        let () = mset.query(&mut con).unwrap();
    }
    set(&mut con, &["e", "v", "EX", "100"]).unwrap();
    let addr = server.addr;
    let reader = std::thread::spawn(move || {
        let mut con = redis::Client::open(format!("redis://{addr}/"))
            .unwrap()
            .get_connection()
            .unwrap();
        let mut seen = Vec::new();
        loop {
            let n: i64 = cmd("DBSIZE").query(&mut con).unwrap();
            seen.push(n);
            if n == 0 {
                return seen;
            }
        }
    });
    let ok: String = cmd("FLUSHDB").query(&mut con).unwrap();
    assert_eq!(ok, "OK");
    let seen = reader.join().unwrap();
    assert!(
        seen.iter().all(|&n| n == N + 1 || n == 0),
        "a reader saw a partly flushed database: {seen:?}"
    );
    assert_eq!(int(&mut con, &["DBSIZE"]), 0);
}

#[test]
fn a_pipeline_deeper_than_max_pipeline_is_answered_in_order() {
    let (_dir, server) = server_with("sync = \"never\"\n[limits]\nmax_pipeline = 3\n");
    let mut con = server.client();
    let mut pipe = redis::pipe();
    for i in 0..100 {
        pipe.cmd("SET")
            .arg(format!("k{i}"))
            .arg(i)
            .arg("EX")
            .arg(1000);
        pipe.cmd("GET").arg(format!("k{i}"));
    }
    let replies: Vec<redis::Value> = pipe.query(&mut con).unwrap();
    assert_eq!(replies.len(), 200);
    for i in 0..100 {
        assert_eq!(
            replies[2 * i + 1],
            redis::Value::BulkString(i.to_string().into_bytes())
        );
    }
}

#[test]
fn requests_queued_past_the_deadline_get_an_error_instead_of_running() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Load without a deadline (a loaded machine must not fail the setup).
    let server = Server::start_with_config(&data, "sync = \"never\"\n");
    let mut con = server.client();
    for chunk in 0..200 {
        let mut mset = cmd("MSET");
        for i in 0..1000 {
            mset.arg(format!("k{chunk:03}{i:04}")).arg("v");
        }
        let () = mset.query(&mut con).unwrap();
    }
    drop(con);
    assert!(server.terminate().success());
    // One write, so both requests arrive in one read: DBSIZE over 200,000 keys takes far
    // longer than 50 ms, so the SET behind it starts past its deadline and must not run.
    let server = Server::start_with_config(
        &data,
        "sync = \"never\"\n[limits]\nresp_request_timeout_ms = 50\n",
    );
    let mut raw = server.raw();
    raw.send(b"DBSIZE\r\nSET late v\r\n");
    let first = raw.read().unwrap();
    let timeout = scipkv_server::resp::Value::Error(
        "ERR request timed out before it could run (limits.resp_request_timeout_ms)".into(),
    );
    assert!(
        first == scipkv_server::resp::Value::Integer(200_000) || first == timeout,
        "{first:?}"
    );
    assert_eq!(raw.read().unwrap(), timeout);
    drop(raw);
    assert!(server.terminate().success());
    let server = Server::start_with_config(&data, "sync = \"never\"\n");
    let mut con = server.client();
    assert_eq!(
        get(&mut con, "late"),
        None,
        "a timed-out request is not run"
    );
}
