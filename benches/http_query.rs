//! SCIP queries over HTTP under load: the real `scipkv serve` holding django and rxjs,
//! 64 concurrent keep-alive connections asking definition and hover at seeded positions.
//! Reports p50/p99 latency (client-measured, per request) and requests per second.
//!
//! `cargo bench --bench http_query` for the real run; under `cargo test` a quick smoke run
//! (rxjs-01 only, 4 connections). Client and server share the machine's cores.

mod scip_common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use scip_common::{Rng, enc, full_run, percentile, raw_index, scip_path};
use scipkv_engine::scip::{IndexItem, IndexReader};

/// Kills the server if the bench panics.
struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Query URLs (definition and hover alternately) at occurrences sampled from an index.
fn urls(project: &str, file: &str, n: usize, rng: &mut Rng) -> Vec<String> {
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

fn report(what: &str, lat: &mut [Duration], wall: Duration) {
    lat.sort();
    println!(
        "http definition+hover, {what}: {} requests in {wall:.2?}: {:.0} req/s, p50 {:.1?}, p99 {:.1?}, max {:.1?}",
        lat.len(),
        lat.len() as f64 / wall.as_secs_f64(),
        percentile(lat, 0.5),
        percentile(lat, 0.99),
        lat.last().copied().unwrap_or_default(),
    );
}

fn main() {
    let full = full_run();
    let (connections, per_connection) = if full { (64, 400) } else { (4, 10) };
    let indexes: &[(&str, &str)] = if full {
        &[("django", "django.scip.zst"), ("rxjs", "rxjs.scip.zst")]
    } else {
        &[("rxjs", "rxjs-01-be72ebf1a.scip.zst")]
    };
    let dir = tempfile::tempdir().unwrap();
    // SCIPKV_BIN: another server binary (a saved build of an earlier commit) for a
    // before/after comparison with the same client.
    let server = std::env::var_os("SCIPKV_BIN").unwrap_or(env!("CARGO_BIN_EXE_scipkv").into());
    let mut child = Command::new(server)
        .args([
            "serve",
            "--resp",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let server = Server(child);
    let event: serde_json::Value = serde_json::from_str(&line).unwrap();
    let base = format!("http://{}", event["http"].as_str().unwrap());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();

    for (project, file) in indexes {
        let t = Instant::now();
        let body = std::fs::read(scip_path(file)).unwrap();
        let mut r = agent
            .put(format!("{base}/v1/projects/{project}/versions/v1/index"))
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

    let mut rng = Rng(0x5eed_4077);
    let mut all = Vec::new();
    for (project, file) in indexes {
        all.extend(urls(
            project,
            file,
            connections * per_connection / indexes.len(),
            &mut rng,
        ));
    }
    let all = Arc::new(all);
    // Warm-up: every URL once on one connection (page cache and block cache warm).
    for url in all.iter().take(if full { 2000 } else { 10 }) {
        let mut r = agent.get(format!("{base}{url}")).call().unwrap();
        assert_eq!(r.status(), 200, "{url}");
        let _ = r.body_mut().read_to_vec();
    }

    // One connection, one request at a time: the service time without queueing.
    let mut lat = Vec::new();
    let t0 = Instant::now();
    for url in all.iter().take(if full { 4000 } else { 10 }) {
        let t = Instant::now();
        let mut r = agent.get(format!("{base}{url}")).call().unwrap();
        let _ = r.body_mut().read_to_vec().unwrap();
        lat.push(t.elapsed());
    }
    report("1 connection", &mut lat, t0.elapsed());

    let started = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|c| {
            let all = Arc::clone(&all);
            let base = base.clone();
            std::thread::spawn(move || {
                // One agent per thread: one keep-alive connection each.
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                let mut lat = Vec::with_capacity(per_connection);
                for i in 0..per_connection {
                    let url = &all[(c * per_connection + i) % all.len()];
                    let t = Instant::now();
                    let mut r = agent.get(format!("{base}{url}")).call().unwrap();
                    let _ = r.body_mut().read_to_vec().unwrap();
                    lat.push(t.elapsed());
                    assert_eq!(r.status(), 200);
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    report(
        &format!("{connections} connections"),
        &mut lat,
        started.elapsed(),
    );
    drop(server);
}
