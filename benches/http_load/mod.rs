//! A closed-loop HTTP/1.1 load generator that leaves the cores to the server: every
//! keep-alive connection is a task on one thread (a tokio current-thread runtime), so 64
//! connections cost one thread's wake-ups instead of 64 threads contending for the cores.
//! Requests are GETs written by hand and answers parsed just enough to find their end
//! (`content-length`); latency is measured per request, from before the write to the last
//! body byte read.
//!
//! Why not threads with a blocking client (what this bench used before): with 64 client
//! threads on 2 cores the client's scheduling was most of the measured tail.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Latencies of every request of a run, and its wall time.
pub struct Run {
    pub latencies: Vec<Duration>,
    pub wall: Duration,
    /// CPU time of the client thread over the run (connecting included).
    pub cpu: Duration,
}

/// Runs `connections` keep-alive connections to `addr`, each asking `per_connection` of
/// `paths` (connection `c` starts at `c * per_connection`, wrapping) one at a time. Every
/// answer must be 200. `cpu`: the client thread's only CPU (Linux), for a layout with the
/// server on the other cores.
pub fn run(
    addr: SocketAddr,
    paths: &[String],
    connections: usize,
    per_connection: usize,
    cpu: Option<usize>,
) -> Run {
    // Requests are formatted before the clock starts: the client's own cost stays small.
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(
        paths
            .iter()
            .map(|p| format!("GET {p} HTTP/1.1\r\nhost: {addr}\r\n\r\n").into_bytes())
            .collect(),
    );
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                if let Some(cpu) = cpu {
                    pin_thread(cpu);
                }
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                    .unwrap();
                let cpu = crate::scip_common::thread_cpu();
                let mut run = rt.block_on(drive(addr, requests, connections, per_connection));
                run.cpu = crate::scip_common::thread_cpu() - cpu;
                run
            })
            .join()
            .unwrap()
    })
}

async fn drive(
    addr: SocketAddr,
    requests: Arc<Vec<Vec<u8>>>,
    connections: usize,
    per_connection: usize,
) -> Run {
    // Connect everything before the clock starts.
    let mut streams = Vec::with_capacity(connections);
    for _ in 0..connections {
        let s = TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        streams.push(s);
    }
    let started = Instant::now();
    let tasks: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(c, stream)| {
            let requests = Arc::clone(&requests);
            tokio::spawn(async move {
                let mut conn = Connection::new(stream);
                let mut lat = Vec::with_capacity(per_connection);
                for i in 0..per_connection {
                    let req = &requests[(c * per_connection + i) % requests.len()];
                    let t = Instant::now();
                    conn.exchange(req).await;
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(connections * per_connection);
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    Run {
        latencies,
        wall: started.elapsed(),
        cpu: Duration::ZERO,
    }
}

/// One keep-alive connection and its read buffer.
struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    fn new(stream: TcpStream) -> Connection {
        Connection {
            stream,
            buf: Vec::with_capacity(64 * 1024),
        }
    }

    /// Sends one request and reads its whole answer; panics unless it is a 200 with a
    /// `content-length` (what the server sends for every query answer).
    async fn exchange(&mut self, request: &[u8]) {
        self.stream.write_all(request).await.unwrap();
        self.buf.clear();
        let (head, body) = loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                break (end + 4, content_length(&self.buf[..end]));
            }
            self.fill().await;
        };
        assert!(
            self.buf.starts_with(b"HTTP/1.1 200 "),
            "{}",
            String::from_utf8_lossy(&self.buf[..head])
        );
        while self.buf.len() < head + body {
            self.fill().await;
        }
        // One request at a time: nothing may follow the answer.
        assert_eq!(self.buf.len(), head + body, "bytes after the answer");
    }

    async fn fill(&mut self) {
        if self.buf.capacity() - self.buf.len() < 16 * 1024 {
            self.buf.reserve(64 * 1024);
        }
        let n = self.stream.read_buf(&mut self.buf).await.unwrap();
        assert!(n > 0, "server closed the connection mid-answer");
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> usize {
    let head = std::str::from_utf8(head).expect("answer head is not UTF-8");
    head.split("\r\n")
        .skip(1)
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().expect("bad content-length"))
        })
        .unwrap_or_else(|| panic!("answer without content-length:\n{head}"))
}

/// Pins the calling thread (and threads it starts later) to one CPU.
pub fn pin_thread(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET and sched_setaffinity only
    // read and write that local set; pid 0 is the calling thread.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    assert_eq!(rc, 0, "sched_setaffinity to CPU {cpu} failed");
}
