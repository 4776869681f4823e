//! Durability and process life cycle of `scipkv serve`: crash (SIGKILL) and graceful
//! shutdown (SIGTERM) keep every acknowledged write; failures to start exit non-zero.

mod server_support;

use std::sync::mpsc;
use std::thread;

use redis::cmd;
use server_support::{Server, command, command_on};

#[test]
fn sigkill_during_writes_loses_no_acknowledged_set() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    const THREADS: usize = 4;
    let (acked_tx, acked_rx) = mpsc::channel::<(String, String)>();
    let writers: Vec<_> = (0..THREADS)
        .map(|t| {
            let acked = acked_tx.clone();
            let mut con = server.client();
            thread::spawn(move || {
                // Odd threads pipeline runs of SETs (the write front's path, gathered with
                // other connections' runs), even ones send single SETs (written inline).
                let run = if t % 2 == 1 { 8 } else { 1 };
                // Bounded: the server is killed long before this many writes.
                for i in 0..100_000 / run {
                    let mut pipe = redis::pipe();
                    let mut sent = Vec::with_capacity(run);
                    for j in 0..run {
                        let key = format!("t{t}:k{i}:{j}");
                        let value = format!("value-{t}-{i}-{j}");
                        pipe.cmd("SET").arg(&key).arg(&value).ignore();
                        sent.push((key, value));
                    }
                    let reply: redis::RedisResult<()> = pipe.query(&mut con);
                    if reply.is_err() {
                        return;
                    }
                    for pair in sent {
                        if acked.send(pair).is_err() {
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    drop(acked_tx);
    let mut acked = Vec::new();
    while acked.len() < 400 {
        acked.push(acked_rx.recv().expect("writers stopped early"));
    }
    server.kill();
    for writer in writers {
        writer.join().unwrap();
    }
    acked.extend(acked_rx.try_iter());

    let server = Server::start(&data);
    let mut con = server.client();
    for chunk in acked.chunks(500) {
        let keys: Vec<&String> = chunk.iter().map(|(k, _)| k).collect();
        let values: Vec<Option<String>> = cmd("MGET").arg(&keys).query(&mut con).unwrap();
        for ((key, expected), got) in chunk.iter().zip(values) {
            assert_eq!(
                got.as_deref(),
                Some(expected.as_str()),
                "acknowledged SET of {key} lost"
            );
        }
    }
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn sigterm_drains_and_exits_zero_with_everything_durable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let mut con = server.client();
    let mut pipe = redis::pipe();
    for i in 0..1000 {
        pipe.cmd("SET").arg(format!("key{i}")).arg(i).ignore();
    }
    let () = pipe.query(&mut con).unwrap();
    let () = cmd("MSET")
        .arg("a")
        .arg("1")
        .arg("b")
        .arg("2")
        .query(&mut con)
        .unwrap();
    // An idle open connection must not hold shutdown up.
    let _idle = server.client();
    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "{status:?}");

    let server = Server::start(&data);
    let mut con = server.client();
    let size: i64 = cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(size, 1002);
    let values: Vec<Option<i64>> = cmd("MGET")
        .arg("key0")
        .arg("key999")
        .arg("a")
        .arg("b")
        .query(&mut con)
        .unwrap();
    assert_eq!(values, vec![Some(0), Some(999), Some(1), Some(2)]);
}

#[test]
fn a_locked_data_directory_makes_a_second_server_fail() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _running = Server::start(&data);
    let output = command(&data, None).output().unwrap();
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("locked"), "{stderr}");
    assert!(output.stdout.is_empty(), "no listening line on failure");
}

#[test]
fn a_port_in_use_makes_the_server_fail() {
    let dir = tempfile::tempdir().unwrap();
    let running = Server::start(&dir.path().join("one"));
    let output = command_on(&dir.path().join("two"), &running.addr.to_string(), None)
        .output()
        .unwrap();
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot listen on"), "{stderr}");
}

#[test]
fn a_bad_config_file_is_rejected_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "resp_adr = \"127.0.0.1:0\"\n").unwrap();
    let output = command(&dir.path().join("data"), Some(&config))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("resp_adr"), "{stderr}");

    std::fs::write(&config, "sync = \"sometimes\"\n").unwrap();
    let output = command(&dir.path().join("data"), Some(&config))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid sync mode"));
}

#[test]
fn flags_override_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    // The file names a data dir and an unusable address; the flags win.
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nresp_addr = \"256.0.0.1:1\"\nsync = \"interval:50\"\n",
            dir.path().join("from-file").display().to_string()
        ),
    )
    .unwrap();
    let server = Server::spawn(command(&dir.path().join("from-flag"), Some(&config)));
    let mut con = server.client();
    let sync: Vec<String> = cmd("CONFIG")
        .arg("GET")
        .arg("appendfsync")
        .query(&mut con)
        .unwrap();
    assert_eq!(sync, vec!["appendfsync", "everysec"]);
    assert!(dir.path().join("from-flag").exists());
    assert!(!dir.path().join("from-file").exists());
}
