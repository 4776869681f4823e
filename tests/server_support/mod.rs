//! Starts the real `scipkv` binary for server tests and talks to it.
#![allow(dead_code)] // each test file uses a different subset

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};

use scipkv_server::resp::{Value, parse_value};

/// A running `scipkv serve`; killed on drop if the test did not stop it.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    /// The HTTP/JSON API's address.
    pub http: SocketAddr,
    /// Kept open so the server never gets EPIPE on stdout.
    _stdout: BufReader<ChildStdout>,
}

/// `scipkv serve` on a free port.
pub fn command(data: &Path, config: Option<&Path>) -> Command {
    command_on(data, "127.0.0.1:0", config)
}

pub fn command_on(data: &Path, resp: &str, config: Option<&Path>) -> Command {
    command_with(data, resp, "127.0.0.1:0", config)
}

/// `scipkv serve` on the given RESP and HTTP addresses.
pub fn command_with(data: &Path, resp: &str, http: &str, config: Option<&Path>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scipkv"));
    cmd.arg("serve")
        .arg("--data")
        .arg(data)
        .arg("--resp")
        .arg(resp)
        .arg("--http")
        .arg(http);
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    cmd
}

impl Server {
    /// Starts a server on a free port and waits for its "listening" line.
    pub fn start(data: &Path) -> Server {
        Server::spawn(command(data, None))
    }

    /// Starts a server with `config` (TOML text) written next to the data directory.
    pub fn start_with_config(data: &Path, config: &str) -> Server {
        let path = data.with_extension("toml");
        std::fs::write(&path, config).unwrap();
        Server::spawn(command(data, Some(&path)))
    }

    pub fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start scipkv");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let event: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("bad listening line {line:?}: {e}"));
        assert_eq!(event["event"], "listening", "{line}");
        assert!(event["data"].is_string(), "{line}");
        let addr: SocketAddr = event["resp"].as_str().unwrap().parse().unwrap();
        assert_ne!(addr.port(), 0, "the line must carry the bound port");
        let http: SocketAddr = event["http"].as_str().unwrap().parse().unwrap();
        assert_ne!(http.port(), 0, "the line must carry the bound HTTP port");
        Server {
            child,
            addr,
            http,
            _stdout: stdout,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn client(&self) -> redis::Connection {
        redis::Client::open(format!("redis://{}/", self.addr))
            .unwrap()
            .get_connection()
            .unwrap()
    }

    pub fn raw(&self) -> Raw {
        Raw::connect(self.addr)
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(mut self) -> ExitStatus {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap()
    }

    /// Waits for the process to exit (after a signal sent some other way).
    pub fn wait(mut self) -> ExitStatus {
        self.child.wait().unwrap()
    }

    /// SIGKILL: no chance to sync or clean up.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A raw RESP connection, for what the `redis` crate hides (RESP3, protocol errors).
pub struct Raw {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    pub fn connect(addr: SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Sends a command as a multibulk request.
    pub fn send_command(&mut self, args: &[&[u8]]) {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
        self.send(&out);
    }

    /// The next reply, or `None` if the server closed the connection first.
    pub fn read(&mut self) -> Option<Value> {
        loop {
            if let Some((value, used)) = parse_value(&self.buf).unwrap() {
                self.buf.drain(..used);
                return Some(value);
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("read failed: {e}"),
            }
        }
    }

    pub fn call(&mut self, args: &[&[u8]]) -> Value {
        self.send_command(args);
        self.read().expect("connection closed")
    }

    /// Asserts the server closes the connection without sending anything more.
    pub fn assert_closed(&mut self) {
        assert_eq!(self.read(), None, "expected the server to close");
    }
}

/// A blocking HTTP client for the server's JSON API (ureq: small, synchronous, no TLS).
/// Every status is returned, not turned into an error.
pub struct Http {
    agent: ureq::Agent,
    pub base: String,
    pub token: Option<String>,
}

impl Http {
    pub fn new(addr: SocketAddr, token: Option<&str>) -> Http {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(120)))
            .build()
            .into();
        Http {
            agent,
            base: format!("http://{addr}"),
            token: token.map(str::to_owned),
        }
    }

    fn auth<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(t) => req.header("Authorization", format!("Bearer {t}")),
            None => req,
        }
    }

    fn finish(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, String) {
        let mut response = result.expect("HTTP request failed");
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()
            .unwrap();
        (status, body)
    }

    /// GET; the status and the body text.
    pub fn get(&self, path: &str) -> (u16, String) {
        Self::finish(
            self.auth(self.agent.get(format!("{}{path}", self.base)))
                .call(),
        )
    }

    /// GET that must answer 200 with JSON.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    pub fn delete(&self, path: &str) -> (u16, String) {
        Self::finish(
            self.auth(self.agent.delete(format!("{}{path}", self.base)))
                .call(),
        )
    }

    /// PUT streaming `body` (chunked transfer encoding: no length up front).
    pub fn put_reader(&self, path: &str, body: &mut dyn Read) -> (u16, String) {
        let req = self.auth(self.agent.put(format!("{}{path}", self.base)));
        Self::finish(req.send(ureq::SendBody::from_reader(body)))
    }

    /// PUT with a known length.
    pub fn put_bytes(&self, path: &str, body: &[u8]) -> (u16, String) {
        let req = self.auth(self.agent.put(format!("{}{path}", self.base)));
        Self::finish(req.send(body))
    }
}

impl Server {
    pub fn http(&self, token: Option<&str>) -> Http {
        Http::new(self.http, token)
    }

    /// A RESP client authenticated as `tenant` with `token` (`AUTH tenant token`).
    pub fn client_as(&self, tenant: &str, token: &str) -> redis::Connection {
        redis::Client::open(format!("redis://{tenant}:{token}@{}/", self.addr))
            .unwrap()
            .get_connection()
            .unwrap()
    }
}

/// A raw HTTP/1.1 exchange over TCP, for what a client library will not send.
pub fn raw_http(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// A small SCIP index with one definition and one reference of `symbol` in `path`.
pub fn tiny_index(path: &str, symbol: &str) -> Vec<u8> {
    use scipkv_engine::scip::{Document, Metadata, Occurrence, SymbolInformation, encode_index};
    let doc = Document {
        relative_path: path.into(),
        occurrences: vec![
            Occurrence {
                range: vec![0, 4, 7],
                symbol: symbol.into(),
                symbol_roles: 1,
                ..Default::default()
            },
            Occurrence {
                range: vec![2, 0, 3],
                symbol: symbol.into(),
                ..Default::default()
            },
        ],
        symbols: vec![SymbolInformation {
            symbol: symbol.into(),
            documentation: vec!["tiny docs".into()],
            ..Default::default()
        }],
        ..Default::default()
    };
    encode_index(&Metadata::default(), &[doc], &[])
}

/// The seed for a randomized test: `SCIPKV_SEED` if set (to rerun a failure), else a fresh
/// one, printed either way.
pub fn seed(test: &str) -> u64 {
    let seed = match std::env::var("SCIPKV_SEED") {
        Ok(s) => s.parse().expect("SCIPKV_SEED must be a u64"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    };
    eprintln!("{test}: seed {seed} (rerun with SCIPKV_SEED={seed})");
    seed
}

/// splitmix64.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (query parameters).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
