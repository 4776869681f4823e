//! Concurrency guarantees of `scipkv serve`: SCAN completeness under writes, atomic
//! SET NX (also against pipelined SET runs, which the write front gathers across
//! connections), and independence of slow clients.

mod server_support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use redis::cmd;
use scipkv_server::resp::Value;
use server_support::Server;

fn server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    (dir, server)
}

#[test]
fn scan_returns_every_stable_key_despite_concurrent_writes() {
    let (_dir, server) = server();
    let mut con = server.client();
    let stable: Vec<String> = (0..2000).map(|i| format!("k{i:05}s")).collect();
    let mut pipe = redis::pipe();
    for chunk in stable.chunks(100) {
        let mut mset = cmd("MSET");
        for key in chunk {
            mset.arg(key).arg("v");
        }
        pipe.add_command(mset).ignore();
    }
    let () = pipe.query(&mut con).unwrap();

    // A writer inserts and deletes keys interleaved with the stable ones in key order (so
    // the scan's resume points keep landing next to churn) until the scan is over.
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let done = Arc::clone(&done);
        let mut con = server.client();
        thread::spawn(move || {
            let mut rounds = 0u64;
            while !done.load(Ordering::Relaxed) && rounds < 100_000 {
                let i = (rounds * 7919) % 2000;
                let key = format!("k{i:05}c");
                if rounds % 3 == 2 {
                    let _: i64 = cmd("DEL").arg(&key).query(&mut con).unwrap();
                } else {
                    let () = cmd("SET").arg(&key).arg(rounds).query(&mut con).unwrap();
                }
                rounds += 1;
            }
            rounds
        })
    };

    let mut seen = Vec::new();
    let mut cursor = 0u64;
    let mut calls = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(7)
            .query(&mut con)
            .unwrap();
        seen.extend(keys);
        calls += 1;
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    done.store(true, Ordering::Relaxed);
    let rounds = writer.join().unwrap();
    assert!(rounds > 0 && calls > 200, "rounds {rounds}, calls {calls}");

    let stable_seen: Vec<&String> = seen.iter().filter(|k| k.ends_with('s')).collect();
    let unique: HashSet<&String> = stable_seen.iter().copied().collect();
    assert_eq!(
        unique.len(),
        stable_seen.len(),
        "a stable key was returned twice"
    );
    let missing: Vec<&String> = stable.iter().filter(|k| !unique.contains(k)).collect();
    assert!(
        missing.is_empty(),
        "stable keys missing from SCAN: {missing:?}"
    );
}

#[test]
fn concurrent_set_nx_has_exactly_one_winner() {
    let (_dir, server) = server();
    const THREADS: usize = 8;
    const ROUNDS: usize = 25;
    let barrier = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let barrier = Arc::clone(&barrier);
            let mut con = server.client();
            thread::spawn(move || {
                let mut wins = Vec::new();
                for round in 0..ROUNDS {
                    barrier.wait();
                    let reply: Option<String> = cmd("SET")
                        .arg(format!("race{round}"))
                        .arg(t)
                        .arg("NX")
                        .query(&mut con)
                        .unwrap();
                    if reply.is_some() {
                        wins.push(round);
                    }
                }
                (t, wins)
            })
        })
        .collect();
    let mut winners = vec![Vec::new(); ROUNDS];
    for worker in workers {
        let (t, wins) = worker.join().unwrap();
        for round in wins {
            winners[round].push(t);
        }
    }
    let mut con = server.client();
    for (round, won) in winners.iter().enumerate() {
        assert_eq!(won.len(), 1, "round {round}: winners {won:?}");
        let value: usize = cmd("GET")
            .arg(format!("race{round}"))
            .query(&mut con)
            .unwrap();
        assert_eq!(value, won[0], "the stored value is the winner's");
    }
}

/// Pipelined runs of plain SETs go through the write front, which writes runs of several
/// connections as one engine batch. Each connection must still read its own run's writes
/// right after it, and the batch must hold its keys' locks: a `SET NX` racing a run's plain
/// SET of the same key either fails or is overwritten, so the key always ends up holding
/// the plain value (without the locks, NX could read "absent", let the run write, then
/// overwrite it).
#[test]
fn pipelined_write_runs_keep_order_and_stay_atomic_against_set_nx() {
    let (_dir, server) = server();
    const WRITERS: usize = 4;
    const ROUNDS: usize = 150;
    const OWN: usize = 8;
    let barrier = Arc::new(Barrier::new(WRITERS + 1));
    let writers: Vec<_> = (0..WRITERS)
        .map(|t| {
            let barrier = Arc::clone(&barrier);
            let mut con = server.client();
            // Failures are collected, not panicked on: a panicking thread would leave the
            // others waiting at the barrier forever.
            thread::spawn(move || {
                let mut failures = Vec::new();
                for round in 0..ROUNDS {
                    barrier.wait();
                    let mut pipe = redis::pipe();
                    for j in 0..OWN {
                        pipe.cmd("SET")
                            .arg(format!("own{t}:{j}"))
                            .arg(round)
                            .ignore();
                    }
                    pipe.cmd("SET")
                        .arg(format!("nx{round}:{t}"))
                        .arg("plain")
                        .ignore();
                    let keys: Vec<String> = (0..OWN).map(|j| format!("own{t}:{j}")).collect();
                    pipe.cmd("MGET").arg(&keys);
                    match pipe.query::<(Vec<usize>,)>(&mut con) {
                        Ok((values,)) if values == vec![round; OWN] => {}
                        other => failures.push(format!("writer {t}, round {round}: {other:?}")),
                    }
                }
                failures
            })
        })
        .collect();
    let mut con = server.client();
    let mut nx_won = 0;
    for round in 0..ROUNDS {
        barrier.wait();
        for t in 0..WRITERS {
            let reply: redis::RedisResult<Option<String>> = cmd("SET")
                .arg(format!("nx{round}:{t}"))
                .arg("nx")
                .arg("NX")
                .query(&mut con);
            nx_won += usize::from(matches!(reply, Ok(Some(_))));
        }
    }
    let failures: Vec<String> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    for round in 0..ROUNDS {
        for t in 0..WRITERS {
            let value: String = cmd("GET")
                .arg(format!("nx{round}:{t}"))
                .query(&mut con)
                .unwrap();
            assert_eq!(
                value, "plain",
                "nx{round}:{t} (NX won {nx_won} races in all)"
            );
        }
    }
}

#[test]
fn a_stalled_client_does_not_block_others() {
    let (_dir, server) = server();
    // Half a request, never completed; and a client that pipelines without reading.
    let mut stalled = server.raw();
    stalled.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc");
    let mut flooder = server.raw();
    let big = "x".repeat(64 * 1024);
    flooder.send_command(&[b"SET", b"big", big.as_bytes()]);
    assert_eq!(flooder.read(), Some(Value::ok()));
    let mut flood = Vec::new();
    for _ in 0..200 {
        flood.extend_from_slice(b"GET big\r\n");
    }
    flooder.send(&flood);

    let mut con = server.client();
    for i in 0..100 {
        let () = cmd("SET").arg("other").arg(i).query(&mut con).unwrap();
    }
    let value: i64 = cmd("GET").arg("other").query(&mut con).unwrap();
    assert_eq!(value, 99);
}
