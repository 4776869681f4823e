//! The key/value stream the SCIP layer writes, captured from a real ingest.
//!
//! The SCIP store is ingested into a scipkv database whose memtable is larger than the whole
//! upload, so nothing is flushed and the WAL keeps every batch the store wrote, in order and
//! exactly as committed (the 16 MiB document batches, the upload-allocation batch and the
//! publish batch). The WAL is then decoded with the engine's own log reader. No hook in the
//! store is needed, and the capture cannot drift from what the store really writes.

use std::fs::File;
use std::path::Path;

use scipkv_engine::batch::decode_payload;
use scipkv_engine::key::Kind;
use scipkv_engine::log::{LogKind, decode_log};
use scipkv_engine::scip::store::{DEFAULT_TENANT, ScipStore};
use scipkv_engine::scip::testdata::scip_file;
use scipkv_engine::{Db, SyncMode};

use crate::engines::{Op, Result, err};

/// One project's captured write stream.
#[derive(Debug)]
pub struct Capture {
    pub project: String,
    pub batches: Vec<Vec<Op>>,
    /// Raw SCIP bytes ingested (decompressed), for context.
    pub input_bytes: u64,
}

impl Capture {
    pub fn entries(&self) -> usize {
        self.batches.iter().map(Vec::len).sum()
    }

    pub fn user_bytes(&self) -> u64 {
        self.batches
            .iter()
            .flatten()
            .map(|o| (o.key.len() + o.value.as_ref().map_or(0, Vec::len)) as u64)
            .sum()
    }
}

/// Ingests `<shared>/scip/<project>.scip.zst` into a scratch store under `scratch` and
/// returns the batches it wrote.
pub fn capture(project: &str, scratch: &Path) -> Result<Capture> {
    let dir = scratch.join(format!("capture-{project}"));
    let mut o = ScipStore::recommended_options();
    o.sync = SyncMode::Never;
    // Larger than any upload here (django and rxjs write well under 1 GiB): no flush, so the
    // WAL is never retired. Checked below.
    o.memtable_size = 4 << 30;
    o.max_immutable_memtables = 1;
    let db = Db::open(&dir, o).map_err(err)?;
    let store = ScipStore::from_db(db.clone());
    let input = File::open(scip_file(&format!("{project}.scip.zst"))).map_err(err)?;
    let summary = store
        .ingest(DEFAULT_TENANT, project, "v1", input)
        .map_err(err)?;
    db.sync_wal().map_err(err)?;
    if db.stats().flushes != 0 {
        return Err(format!(
            "capture of {project}: the memtable was flushed, so the WAL is incomplete"
        ));
    }
    let mut wals: Vec<(u64, std::path::PathBuf)> = std::fs::read_dir(&dir)
        .map_err(err)?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let n = name.strip_suffix(".wal")?.parse().ok()?;
            Some((n, e.path()))
        })
        .collect();
    wals.sort();
    let mut batches = Vec::new();
    for (_, path) in &wals {
        let bytes = std::fs::read(path).map_err(err)?;
        let name = path.display().to_string();
        let (records, _tail, _len) = decode_log(&name, &bytes, LogKind::Wal).map_err(err)?;
        for rec in &records {
            let b = decode_payload(rec, &name, 0).map_err(err)?;
            batches.push(
                b.ops
                    .iter()
                    .map(|op| Op {
                        key: op.key.to_vec(),
                        value: (op.kind == Kind::Put).then(|| op.value.to_vec()),
                    })
                    .collect::<Vec<_>>(),
            );
        }
    }
    drop(store);
    db.close().map_err(err)?;
    std::fs::remove_dir_all(&dir).map_err(err)?;
    let c = Capture {
        project: project.into(),
        batches,
        input_bytes: summary.input_bytes,
    };
    if c.entries() == 0 {
        return Err(format!("capture of {project}: no writes found in the WAL"));
    }
    Ok(c)
}
