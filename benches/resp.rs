//! The RESP layer of the server (`scipkv_server::resp`): parsing pipelined request arrays and
//! encoding replies, without sockets, so the figure is the protocol code alone.
//!
//! - `resp/parse/pipeline_{set,get}`: 1,000 pipelined `SET key:<i> <100-byte value>` or
//!   `GET key:<i>` arrays in one buffer, parsed front to back as a connection does (parse,
//!   advance by the consumed length); throughput in requests.
//! - `resp/encode/{ok,bulk_100,null,array_10_bulk}`: one reply each, RESP2 and RESP3
//!   where they differ (`null`), into a reused buffer.
//!
//! `cargo bench --bench resp`; `--test` / `cargo test` run each once.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scipkv_server::resp::{Protocol, RequestParser, Value, encode};

const PIPELINE: usize = 1000;

/// `*N\r\n$len\r\narg\r\n...` for one request.
fn request(args: &[&[u8]], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

fn pipeline(set: bool) -> Vec<u8> {
    let value = [b'v'; 100];
    let mut buf = Vec::new();
    for i in 0..PIPELINE {
        let key = format!("key:{i:012}");
        if set {
            request(&[b"SET", key.as_bytes(), &value], &mut buf);
        } else {
            request(&[b"GET", key.as_bytes()], &mut buf);
        }
    }
    buf
}

/// Parses every request of `buf`; returns how many there were.
fn parse_all(buf: &[u8]) -> usize {
    let mut parser = RequestParser::default();
    let mut at = 0;
    let mut n = 0;
    while let Some((cmd, used)) = parser.parse(&buf[at..]).expect("valid requests") {
        std::hint::black_box(&cmd);
        at += used;
        n += 1;
    }
    n
}

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("resp/parse");
    g.throughput(Throughput::Elements(PIPELINE as u64));
    for (name, set) in [("pipeline_set", true), ("pipeline_get", false)] {
        let buf = pipeline(set);
        assert_eq!(parse_all(&buf), PIPELINE, "{name}: every request parsed");
        g.bench_function(name, |b| b.iter(|| parse_all(&buf)));
    }
    g.finish();
}

fn encode_replies(c: &mut Criterion) {
    let mut g = c.benchmark_group("resp/encode");
    let array = Value::Array(
        (0..10)
            .map(|i| Value::bulk(format!("member:{i}")))
            .collect(),
    );
    let cases = [
        ("ok", Value::ok(), Protocol::Resp2),
        ("bulk_100", Value::bulk(vec![b'v'; 100]), Protocol::Resp2),
        ("null_resp2", Value::Null, Protocol::Resp2),
        ("null_resp3", Value::Null, Protocol::Resp3),
        ("array_10_bulk", array, Protocol::Resp2),
    ];
    let mut out = Vec::with_capacity(4096);
    for (name, v, proto) in &cases {
        out.clear();
        encode(v, *proto, &mut out);
        assert!(!out.is_empty(), "{name} encodes to bytes");
        g.bench_function(*name, |b| {
            b.iter(|| {
                out.clear();
                encode(std::hint::black_box(v), *proto, &mut out);
                out.len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, parse, encode_replies);
criterion_main!(benches);
