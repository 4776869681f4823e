//! SCIP queries over HTTP under load: the real `scipkv serve` holding django and rxjs,
//! 64 concurrent keep-alive connections asking definition and hover at seeded positions.
//! Reports p50/p99 latency (client-measured, per request), requests per second and the CPU
//! time the server and the client spent per request.
//!
//! The load generator drives every connection from one thread (`http_load`). Two layouts,
//! one after the other on the same data directory:
//! - `shared`: the server with 2 workers, nothing pinned: client and server
//!   share every core.
//! - `split`: the server with 1 worker pinned to CPU 0 (its blocking pool too), the client
//!   pinned to CPU 1.
//!
//! `cargo bench --bench http_query` for the real run; under `cargo test` a quick smoke run
//! (rxjs-01 only, 4 connections). `SCIPKV_BIN`: another server binary (a saved build of an
//! earlier commit) for a before/after comparison with the same client.

mod http_load;
mod scip_common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use scip_common::{Rng, enc, full_run, percentile, raw_index, scip_path};
use scipkv_engine::scip::{IndexItem, IndexReader};

/// Stops the server when dropped (also if the bench panics): SIGTERM, so it closes the
/// database cleanly (and a profiler it runs under writes its output).
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        // SAFETY: kill only sends a signal to our own child, which has not been reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

impl Server {
    /// CPU time (user + system) of the whole server process so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // Fields after the parenthesised command name; utime and stime are fields 14, 15.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = rest.split(' ').collect();
        let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
        // SAFETY: sysconf only reads a constant.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
        Duration::from_micros(ticks * 1_000_000 / hz)
    }
}

/// A server layout: worker threads and the CPUs the server and the client may use.
struct Layout {
    name: &'static str,
    workers: usize,
    server_cpus: Option<&'static [usize]>,
    client_cpu: Option<usize>,
}

const LAYOUTS: &[Layout] = &[
    Layout {
        name: "shared",
        workers: 2,
        server_cpus: None,
        client_cpu: None,
    },
    Layout {
        name: "split",
        workers: 1,
        server_cpus: Some(&[0]),
        client_cpu: Some(1),
    },
];

fn start(dir: &Path, layout: &Layout) -> Server {
    let config = dir.join(format!("{}.toml", layout.name));
    std::fs::write(&config, format!("worker_threads = {}\n", layout.workers)).unwrap();
    let bin = std::env::var_os("SCIPKV_BIN").unwrap_or(env!("CARGO_BIN_EXE_scipkv").into());
    let mut cmd = Command::new(bin);
    cmd.args(["serve", "--resp", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        .arg("--data")
        .arg(dir.join("data"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(cpus) = layout.server_cpus {
        // SAFETY: the closure runs in the forked child before exec and only makes the
        // sched_setaffinity system call on a local set (async-signal-safe, no allocation).
        unsafe {
            cmd.pre_exec(move || {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                for &c in cpus {
                    libc::CPU_SET(c, &mut set);
                }
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let event: serde_json::Value = serde_json::from_str(&line).unwrap();
    let addr = event["http"].as_str().unwrap().parse().unwrap();
    Server { child, addr }
}

/// Query paths (definition and hover alternately) at occurrences sampled from an index.
fn paths(project: &str, file: &str, n: usize, rng: &mut Rng) -> Vec<String> {
    let raw = raw_index(file);
    let mut occ = Vec::new();
    for item in IndexReader::new(&raw[..]).unwrap() {
        if let IndexItem::Document(d) = item.unwrap() {
            for o in &d.occurrences {
                occ.push((d.relative_path.clone(), o.range[0], o.range[1]));
            }
        }
    }
    (0..n)
        .map(|i| {
            let (path, line, ch) = &occ[rng.below(occ.len())];
            let kind = if i % 2 == 0 { "definition" } else { "hover" };
            format!(
                "/v1/projects/{project}/versions/latest/{kind}?path={}&line={line}&character={ch}",
                enc(path)
            )
        })
        .collect()
}

/// One measured run; prints its figures.
fn measure(
    server: &Server,
    layout: &Layout,
    paths: &[String],
    connections: usize,
    per_connection: usize,
) {
    let server_cpu = server.cpu();
    let mut run = http_load::run(
        server.addr,
        paths,
        connections,
        per_connection,
        layout.client_cpu,
    );
    let server_cpu = server.cpu() - server_cpu;
    let lat = &mut run.latencies;
    lat.sort();
    let n = lat.len();
    println!(
        "http definition+hover, {:<6} {connections:>2} connections: {n} requests in {:.2?}: \
         {:.0} req/s, p50 {:.1?}, p90 {:.1?}, p99 {:.1?}, p99.9 {:.1?}, max {:.1?}; \
         cpu per request: server {:.1} µs, client {:.1} µs",
        layout.name,
        run.wall,
        n as f64 / run.wall.as_secs_f64(),
        percentile(lat, 0.5),
        percentile(lat, 0.9),
        percentile(lat, 0.99),
        percentile(lat, 0.999),
        lat.last().copied().unwrap_or_default(),
        server_cpu.as_secs_f64() * 1e6 / n as f64,
        run.cpu.as_secs_f64() * 1e6 / n as f64,
    );
}

fn main() {
    let full = full_run();
    // SCIPKV_HTTP_PER_CONNECTION: fewer requests, e.g. for a server under callgrind.
    let per_connection = std::env::var("SCIPKV_HTTP_PER_CONNECTION")
        .map(|v| v.parse().expect("SCIPKV_HTTP_PER_CONNECTION: a number"))
        .unwrap_or(1000);
    let (connections, per_connection) = if full { (64, per_connection) } else { (4, 10) };
    let indexes: &[(&str, &str)] = if full {
        &[("django", "django.scip.zst"), ("rxjs", "rxjs.scip.zst")]
    } else {
        &[("rxjs", "rxjs-01-be72ebf1a.scip.zst")]
    };
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert!(
        cpus >= 2,
        "the split layout needs 2 CPUs, this machine has {cpus}"
    );
    let dir = tempfile::tempdir().unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();

    let server = start(dir.path(), &LAYOUTS[0]);
    for (project, file) in indexes {
        let t = std::time::Instant::now();
        let body = std::fs::read(scip_path(file)).unwrap();
        let mut r = agent
            .put(format!(
                "http://{}/v1/projects/{project}/versions/v1/index",
                server.addr
            ))
            .send(&body[..])
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "{}",
            r.body_mut().read_to_string().unwrap()
        );
        println!(
            "upload {project:<8} {:>8.2?} ({} bytes compressed)",
            t.elapsed(),
            body.len()
        );
    }
    drop(server);
    // Measured at rest: the idle compaction that follows an upload (10 s later, a few
    // seconds of zstd-19) would otherwise land in the middle of a measurement.
    {
        let store = scipkv_engine::scip::store::ScipStore::open(dir.path()).unwrap();
        let t = std::time::Instant::now();
        assert!(
            store
                .db()
                .wait_for_rest(std::time::Duration::from_secs(600))
                .unwrap()
        );
        println!("at rest after {:.2?}", t.elapsed());
    }

    let mut rng = Rng(0x5eed_4077);
    let mut all = Vec::new();
    for (project, file) in indexes {
        all.extend(paths(
            project,
            file,
            connections * per_connection / indexes.len(),
            &mut rng,
        ));
    }
    // Interleave the projects so every connection asks both.
    let half = all.len() / indexes.len();
    let all: Vec<String> = (0..all.len())
        .map(|i| all[(i % indexes.len()) * half + i / indexes.len()].clone())
        .collect();

    for layout in LAYOUTS {
        let server = start(dir.path(), layout);
        // Warm-up: every path once (page cache and block cache warm), 8 connections.
        http_load::run(
            server.addr,
            &all,
            8,
            all.len().div_ceil(8),
            layout.client_cpu,
        );
        // One connection, one request at a time: the service time without queueing.
        let one = if full { 4000.min(all.len()) } else { 10 };
        measure(&server, layout, &all, 1, one);
        measure(&server, layout, &all, connections, per_connection);
        drop(server);
    }
}
