//! The HTTP server's limits and robustness: body size (413), malformed requests (400),
//! deadlines (504), connection limit (503), health probes, `/metrics` after traffic, and a
//! graceful shutdown that finishes an upload in flight.

mod server_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use redis::Commands;
use server_support::{Server, raw_http, tiny_index};

fn start(config: &str) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_config(&dir.path().join("data"), config);
    (dir, server)
}

fn status_of(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

#[test]
fn bodies_over_the_limit_get_413_and_store_nothing() {
    let (_dir, server) = start("[limits]\nmax_body_bytes = 1000\n");
    let http = server.http(None);
    let up = "/v1/projects/p/versions/v1/index";
    // Declared length over the limit: refused before reading.
    let (status, body) = http.put_bytes(up, &vec![0u8; 2000]);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("\"error\""), "{body}");
    // Chunked (no length up front): refused once the limit is crossed.
    let mut big = std::io::Cursor::new(vec![7u8; 5000]);
    assert_eq!(http.put_reader(up, &mut big).0, 413);
    assert_eq!(http.get_json("/v1/projects"), serde_json::json!([]));
    // Under the limit it works.
    let index = tiny_index("a.py", "local 1");
    assert!(index.len() < 1000);
    assert_eq!(http.put_bytes(up, &index).0, 200);
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn malformed_requests_get_400_and_the_server_keeps_serving() {
    let (_dir, server) = start("");
    let http = server.http(None);
    let addr = server.http;
    for request in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: zzz\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nBad Header Line\r\n\r\n",
        b"\x00\x01\x02\xff\r\n\r\n",
    ] {
        let response = raw_http(addr, request);
        assert!(
            response.starts_with("HTTP/1.1 400") || response.starts_with("HTTP/1.0 400"),
            "{request:?} -> {response:?}"
        );
    }
    let base = "/v1/projects/p/versions/latest";
    for url in [
        format!("{base}/definition?path=a&line=-1&character=0"),
        format!("{base}/definition?path=a&line=1"),
        format!("{base}/definition?path=%zz&line=1&character=1"),
        format!("{base}/hover?path=a&line=1&character=1&unknown=1"),
        format!("{base}/workspace-symbols?query=x&limit=0"),
        format!("{base}/references?path=a&line=1&character=1&includeDeclaration=maybe"),
        "/v1/symbols/definition".into(),
        "/v1/projects/%FF/versions/v1/hover?path=a&line=1&character=1".into(),
        format!(
            "{base}/hover?path=a&line=1&character=1&{}",
            "a=b&".repeat(20)
        ),
    ] {
        let (status, body) = http.get(&url);
        assert_eq!(status, 400, "{url}: {body}");
        assert!(body.starts_with("{\"error\":"), "{url}: {body}");
    }
    // Not an index: rejected, nothing published.
    let (status, body) =
        http.put_bytes("/v1/projects/p/versions/v1/index", b"\xff\xff\xff garbage");
    assert_eq!(status, 400, "{body}");
    assert_eq!(http.get_json("/v1/projects"), serde_json::json!([]));
    let (status, body) = http.get("/no/such/route");
    assert_eq!((status, body.contains("\"error\"")), (404, true));
    assert_eq!(http.get("/healthz").0, 200);
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn a_stalled_upload_hits_its_deadline_and_publishes_nothing() {
    let (_dir, server) = start("[limits]\nupload_timeout_secs = 1\n");
    let mut stream = TcpStream::connect(server.http).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let index = tiny_index("a.py", "local 1");
    let head = format!(
        "PUT /v1/projects/p/versions/v1/index HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        index.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&index[..index.len() / 2]).unwrap();
    // The rest never comes: the server answers 504 once the deadline passes.
    let mut response = String::new();
    BufReader::new(&stream).read_line(&mut response).unwrap();
    assert_eq!(status_of(&response), 504, "{response}");
    let http = server.http(None);
    assert_eq!(http.get_json("/v1/projects"), serde_json::json!([]));
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn connections_over_the_limit_get_503() {
    let (_dir, server) = start("[limits]\nmax_http_connections = 2\n");
    // Two keep-alive connections, each proven accepted by a completed request.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(server.http).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut line = String::new();
        let mut reader = BufReader::new(s.try_clone().unwrap());
        reader.read_line(&mut line).unwrap();
        assert_eq!(status_of(&line), 200);
        held.push((s, reader));
    }
    let response = raw_http(server.http, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status_of(&response), 503, "{response}");
    drop(held);
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn health_probes_and_metrics_after_traffic() {
    let (_dir, server) = start("");
    let http = server.http(None);
    assert_eq!(http.get_json("/healthz")["status"], "ok");
    assert_eq!(http.get_json("/readyz")["status"], "ready");
    let mut c = server.client();
    for i in 0..10 {
        let _: () = c.set(format!("k{i}"), "v").unwrap();
        let _: Option<String> = c.get(format!("k{i}")).unwrap();
    }
    let _ = redis::cmd("NOSUCH").query::<()>(&mut c);
    assert_eq!(
        http.put_bytes(
            "/v1/projects/p/versions/v1/index",
            &tiny_index("a.py", "local 1")
        )
        .0,
        200
    );
    http.get_json("/v1/projects/p/versions/v1/hover?path=a.py&line=0&character=5");
    assert_eq!(
        http.get("/v1/projects/p/versions/v9/hover?path=a.py&line=0&character=5")
            .0,
        404
    );

    let (status, text) = http.get("/metrics");
    assert_eq!(status, 200);
    let value = |line_prefix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(line_prefix))
            .unwrap_or_else(|| panic!("no {line_prefix} in metrics:\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(value("scipkv_resp_commands_total{command=\"set\"}") >= 10.0);
    assert!(value("scipkv_resp_commands_total{command=\"get\"}") >= 10.0);
    assert!(value("scipkv_resp_commands_total{command=\"unknown\"}") >= 1.0);
    assert!(value("scipkv_resp_command_errors_total{command=\"unknown\"}") >= 1.0);
    assert!(value("scipkv_resp_command_duration_seconds_count{command=\"get\"}") >= 10.0);
    assert!(
        value("scipkv_resp_command_duration_seconds_bucket{command=\"get\",le=\"+Inf\"}") >= 10.0
    );
    assert_eq!(
        value("scipkv_http_requests_total{route=\"upload\",status=\"2xx\"}"),
        1.0
    );
    assert_eq!(
        value("scipkv_http_requests_total{route=\"hover\",status=\"2xx\"}"),
        1.0
    );
    assert_eq!(
        value("scipkv_http_requests_total{route=\"hover\",status=\"4xx\"}"),
        1.0
    );
    assert!(value("scipkv_http_request_duration_seconds_count{route=\"healthz\"}") >= 1.0);
    assert!(value("scipkv_connections_open{protocol=\"resp\"}") >= 1.0);
    assert!(value("scipkv_connections_open{protocol=\"http\"}") >= 1.0);
    assert!(value("scipkv_connections_total{protocol=\"http\"}") >= 1.0);
    assert!(value("scipkv_connections_total{protocol=\"resp\"}") >= 1.0);
    assert!(value("scipkv_engine_writes_total") >= 10.0);
    for family in [
        "scipkv_engine_level_files{level=\"0\"}",
        "scipkv_engine_level_bytes{level=\"0\"}",
        "scipkv_engine_write_amplification",
        "scipkv_engine_compaction_read_bytes_total",
        "scipkv_engine_block_cache_hits_total",
        "scipkv_engine_block_cache_misses_total",
        "scipkv_engine_stall_seconds_total",
        "scipkv_engine_writes_disabled",
        "scipkv_dedup_chunks",
        "scipkv_dedup_ratio",
    ] {
        value(family);
    }
    assert_eq!(value("scipkv_engine_writes_disabled"), 0.0);
    // Every family is typed, as scrapers require.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let name = line.split(['{', ' ']).next().unwrap();
        let base = name
            .trim_end_matches("_bucket")
            .trim_end_matches("_sum")
            .trim_end_matches("_count");
        assert!(
            text.contains(&format!("# TYPE {name} ")) || text.contains(&format!("# TYPE {base} ")),
            "{name} has no TYPE"
        );
    }
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn shutdown_finishes_an_upload_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let index = tiny_index("a.py", "scip-python python p 1 a/f.");
    let mut stream = TcpStream::connect(server.http).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "PUT /v1/projects/p/versions/v1/index HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        index.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    // "100 Continue" means the handler is reading the body: the request is in flight.
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(status_of(&line), 100, "{line}");
    reader.read_line(&mut line).unwrap();
    let status = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(server.pid().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    stream.write_all(&index).unwrap();
    let mut response = String::new();
    reader.read_to_string(&mut response).unwrap();
    assert_eq!(status_of(&response), 200, "{response}");
    assert!(response.contains("\"upload_id\""), "{response}");
    assert_eq!(server.wait().code(), Some(0));
    // The upload is durable.
    let store = scipkv_engine::scip::store::ScipStore::open(&data).unwrap();
    let projects = store.projects("default").unwrap();
    assert_eq!(projects[0].latest.as_deref(), Some("v1"));
}
