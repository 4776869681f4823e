//! One process per (repetition, engine, workload group).
//!
//! In one long-lived process the engines measured later ran in whatever the earlier ones
//! left behind: a heap shaped by gigabytes of SCIP batches, RocksDB's process-wide thread
//! pools, fjall's and scipkv's background threads finishing work of a store already dropped.
//! A repetition's figures then depended on what ran before it (scipkv's readrandom moved
//! between 162K and 316K ops/s across repetitions of one run). A fresh process for each
//! measurement starts every engine from the same state; the parent only aggregates.
//!
//! The child prints its results on stdout, one tab-separated line each; everything else it
//! says goes to stderr, which it shares with the parent.

use std::process::{Command, Stdio};

use crate::engines::{Result, err};
use crate::report::Row;

/// What one child measured: its rows, and per SCIP project the entries its query mix read.
#[derive(Debug, Default)]
pub struct Outcome {
    pub rows: Vec<Row>,
    pub reads: Vec<(String, u64)>,
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// The child's stdout. `f64`'s `Display` prints the shortest text that parses back to the
/// same value, so figures cross the process boundary exactly.
pub fn encode(o: &Outcome) -> String {
    let mut s = String::new();
    for r in &o.rows {
        s.push_str(&format!(
            "ROW\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            r.workload,
            r.engine,
            r.ops_per_sec,
            r.p50_us,
            r.p99_us,
            opt(r.disk_bytes),
            opt(r.wal_bytes),
            opt(r.write_amp)
        ));
    }
    for (p, n) in &o.reads {
        s.push_str(&format!("READS\t{p}\t{n}\n"));
    }
    s
}

fn parse<T: std::str::FromStr>(field: &str, what: &str) -> Result<T> {
    field
        .parse()
        .map_err(|_| format!("child output: bad {what} {field:?}"))
}

fn parse_opt<T: std::str::FromStr>(field: &str, what: &str) -> Result<Option<T>> {
    if field == "-" {
        Ok(None)
    } else {
        parse(field, what).map(Some)
    }
}

/// Parses [`encode`]'s output; `engines` maps engine names back to the static names rows use.
pub fn decode(out: &str, engines: &[&'static str]) -> Result<Outcome> {
    let mut o = Outcome::default();
    for line in out.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["ROW", workload, engine, ops, p50, p99, disk, wal, wa] => {
                let engine = engines
                    .iter()
                    .copied()
                    .find(|e| e == engine)
                    .ok_or_else(|| format!("child output: unknown engine {engine:?}"))?;
                o.rows.push(Row {
                    workload: workload.to_string(),
                    engine,
                    ops_per_sec: parse(ops, "ops/s")?,
                    p50_us: parse(p50, "p50")?,
                    p99_us: parse(p99, "p99")?,
                    disk_bytes: parse_opt(disk, "disk bytes")?,
                    wal_bytes: parse_opt(wal, "WAL bytes")?,
                    write_amp: parse_opt(wa, "write amplification")?,
                });
            }
            ["READS", project, n] => o.reads.push((project.to_string(), parse(n, "reads")?)),
            _ => return Err(format!("child output: unexpected line {line:?}")),
        }
    }
    Ok(o)
}

/// Runs this binary again with `args` and returns what it measured; a failed child fails
/// the run.
pub fn spawn(args: &[String], engines: &[&'static str]) -> Result<Outcome> {
    let exe = std::env::current_exe().map_err(err)?;
    let out = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(err)?;
    if !out.status.success() {
        return Err(format!("child {args:?} failed: {}", out.status));
    }
    decode(&String::from_utf8_lossy(&out.stdout), engines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_reads_survive_the_round_trip() {
        let o = Outcome {
            rows: vec![
                Row {
                    workload: "fillrandom".into(),
                    engine: "fjall",
                    ops_per_sec: 123_456.789_012_345,
                    p50_us: 0.1 + 0.2,
                    p99_us: 1e-9,
                    disk_bytes: Some(66_000_123),
                    wal_bytes: None,
                    write_amp: Some(1.8399999999999999),
                },
                Row {
                    workload: "readrandom_hit".into(),
                    engine: "scipkv",
                    ops_per_sec: 7.5,
                    p50_us: 2.0,
                    p99_us: 3.0,
                    disk_bytes: None,
                    wal_bytes: Some(0),
                    write_amp: None,
                },
            ],
            reads: vec![("django".into(), 42), ("rxjs".into(), 0)],
        };
        let back = decode(&encode(&o), &["scipkv", "fjall"]).unwrap();
        assert_eq!(format!("{:?}", back.rows), format!("{:?}", o.rows));
        assert_eq!(back.reads, o.reads);
    }

    #[test]
    fn unknown_engines_and_stray_lines_are_errors() {
        assert!(decode("ROW\tw\tleveldb\t1\t1\t1\t-\t-\t-\n", &["scipkv"]).is_err());
        assert!(decode("hello\n", &["scipkv"]).is_err());
        assert!(decode("ROW\tw\tscipkv\tfast\t1\t1\t-\t-\t-\n", &["scipkv"]).is_err());
    }
}
