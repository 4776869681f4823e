//! Results: one row per (workload, engine, repetition), summarised as medians over the
//! repetitions and printed with the scipkv / peer ratios.

use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(Debug, Clone)]
pub struct Row {
    pub workload: String,
    pub engine: &'static str,
    pub ops_per_sec: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Bytes of every file in the store after the load and a flush/compaction settle.
    pub disk_bytes: Option<u64>,
    /// Of `disk_bytes`, write-ahead log files (see `measure::dir_bytes`).
    pub wal_bytes: Option<u64>,
    /// Bytes written to storage during load + settle ÷ user key+value bytes.
    pub write_amp: Option<f64>,
}

impl Row {
    pub fn print(&self, rep: usize) {
        eprintln!(
            "  rep {rep} {:<24} {:<8} {:>12.0} ops/s  p50 {:>9.2} us  p99 {:>9.2} us{}{}",
            self.workload,
            self.engine,
            self.ops_per_sec,
            self.p50_us,
            self.p99_us,
            self.disk_bytes
                .map(|b| format!(
                    "  disk {:.1} MB (WAL {:.1} MB)",
                    b as f64 / 1e6,
                    self.wal_bytes.unwrap_or(0) as f64 / 1e6
                ))
                .unwrap_or_default(),
            self.write_amp
                .map(|w| format!("  WA {w:.2}"))
                .unwrap_or_default(),
        );
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

struct Summary {
    ops: f64,
    p50: f64,
    p99: f64,
    disk: Option<f64>,
    /// Disk bytes without write-ahead log files.
    data: Option<f64>,
    wa: Option<f64>,
}

fn summarise(rows: &[&Row]) -> Summary {
    let opt = |f: &dyn Fn(&Row) -> Option<f64>| {
        let v: Vec<f64> = rows.iter().filter_map(|r| f(r)).collect();
        (!v.is_empty()).then(|| median(v))
    };
    Summary {
        ops: median(rows.iter().map(|r| r.ops_per_sec).collect()),
        p50: median(rows.iter().map(|r| r.p50_us).collect()),
        p99: median(rows.iter().map(|r| r.p99_us).collect()),
        disk: opt(&|r| r.disk_bytes.map(|b| b as f64)),
        data: opt(&|r| Some((r.disk_bytes? - r.wal_bytes.unwrap_or(0)) as f64)),
        wa: opt(&|r| r.write_amp),
    }
}

/// The markdown table: medians over repetitions; ratios are scipkv ÷ peer for ops/s (>1:
/// scipkv faster) and scipkv ÷ peer for bytes on disk (<1: scipkv smaller).
pub fn markdown(rows: &[Row], engines: &[&'static str]) -> String {
    let mut by: BTreeMap<(String, &'static str), Vec<&Row>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for r in rows {
        if !order.contains(&r.workload) {
            order.push(r.workload.clone());
        }
        by.entry((r.workload.clone(), r.engine))
            .or_default()
            .push(r);
    }
    let peers: Vec<&str> = engines.iter().copied().filter(|e| *e != "scipkv").collect();
    let mut s = String::new();
    let _ = write!(
        s,
        "| workload | engine | ops/s | p50 µs | p99 µs | disk MB (all) | disk MB w/o WAL | write amp |"
    );
    for p in &peers {
        let _ = write!(s, " ops/s scipkv/{p} | disk w/o WAL scipkv/{p} |");
    }
    s.push('\n');
    s.push_str("|---|---|---:|---:|---:|---:|---:|---:|");
    for _ in &peers {
        s.push_str("---:|---:|");
    }
    s.push('\n');
    for w in &order {
        for e in engines {
            let Some(rs) = by.get(&(w.clone(), *e)) else {
                continue;
            };
            let m = summarise(rs);
            let _ = write!(
                s,
                "| {w} | {e} | {:.0} | {:.2} | {:.2} | {} | {} | {} |",
                m.ops,
                m.p50,
                m.p99,
                m.disk
                    .map(|d| format!("{:.1}", d / 1e6))
                    .unwrap_or("—".into()),
                m.data
                    .map(|d| format!("{:.1}", d / 1e6))
                    .unwrap_or("—".into()),
                m.wa.map(|w| format!("{w:.2}")).unwrap_or("—".into()),
            );
            for p in &peers {
                let cell = |x: Option<f64>| x.map(|x| format!("**{x:.2}x**")).unwrap_or_default();
                if *e == "scipkv" {
                    let pm = by.get(&(w.clone(), *p)).map(|r| summarise(r));
                    let ops = pm.as_ref().map(|pm| m.ops / pm.ops);
                    let disk = pm.as_ref().and_then(|pm| Some(m.data? / pm.data?));
                    let _ = write!(s, " {} | {} |", cell(ops), cell(disk));
                } else {
                    s.push_str(" | |");
                }
            }
            s.push('\n');
        }
    }
    s
}
