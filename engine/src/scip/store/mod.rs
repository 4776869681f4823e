//! A multi-tenant, multi-version store of SCIP indexes on the LSM engine.
//!
//! Namespaces are tenant → project → version, plus a movable `latest` alias per project.
//! Documents are content-addressed and shared by every version that holds them; an upload
//! writes new documents freely and publishes with one atomic batch, so readers see the old
//! complete version or the new one. Unreferenced documents are reclaimed by [`ScipStore::gc`]
//! (mark and sweep). The key layout and every value are specified byte by byte in
//! `format-spec/scip-schema.md`.
//!
//! ```
//! # use scipkv_engine::scip::store::{ScipStore, Target};
//! # use scipkv_engine::scip::{encode_index, Document, Metadata, Occurrence};
//! let dir = tempfile::tempdir().unwrap();
//! let store = ScipStore::open(dir.path()).unwrap();
//! let doc = Document {
//!     relative_path: "a.py".into(),
//!     occurrences: vec![Occurrence { range: vec![0, 4, 7], symbol: "local 0".into(),
//!         symbol_roles: 1, ..Default::default() }],
//!     ..Default::default()
//! };
//! let index = encode_index(&Metadata::default(), &[doc], &[]);
//! store.ingest("t", "p", "v1", &index[..]).unwrap();
//! let defs = store.definition(&Target::latest("t", "p"), "a.py", 0, 5).unwrap();
//! assert_eq!(defs[0].path, "a.py");
//! ```

mod answers;
mod chunk;
mod codec;
mod diagnostics;
mod doccache;
mod docwrite;
mod error;
mod evict;
#[doc(hidden)]
pub mod fuzzing;
mod gc;
mod ingest;
mod keys;
mod manifest;
mod meta;
mod outline;
mod query;
mod records;
mod types;

use std::path::Path;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::sstable::Codec;
use crate::{Db, Options, Snapshot};

pub use docwrite::{document_hash, is_local, payload_hash, symbol_name};
pub use error::{StoreError, StoreResult};
pub use keys::{DocHash, NAMESPACE, PackageKey};
pub use query::hover_markdown;
pub use types::{
    DiagnosticInfo, DocumentSymbol, GcSummary, Hover, IngestSummary, Location, OccurrenceInfo,
    Position, ProjectInfo, Span, VersionInfo, WorkspaceSymbol,
};

use error::decode;
use keys::Keys;
use manifest::{Manifest, ManifestCache};
use records::{UploadRecord, decode_string};

/// The alias every project has, pointing at its newest upload. Reserved: no upload may use
/// it as a version name.
pub const LATEST: &str = "latest";

/// Tenant used by the CLI, which has no notion of users.
pub const DEFAULT_TENANT: &str = "default";

/// Which version of which project a query reads. `version: None` means `latest`.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub tenant: &'a str,
    pub project: &'a str,
    pub version: Option<&'a str>,
}

impl<'a> Target<'a> {
    pub fn latest(tenant: &'a str, project: &'a str) -> Self {
        Target {
            tenant,
            project,
            version: None,
        }
    }

    pub fn version(tenant: &'a str, project: &'a str, version: &'a str) -> Self {
        Target {
            tenant,
            project,
            version: Some(version),
        }
    }
}

/// The SCIP store. Cheap to share behind an `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct ScipStore {
    db: Db,
    /// Uploads hold it shared, GC exclusively: GC must never delete a document that a running
    /// upload found already stored and is about to reference.
    gc_lock: RwLock<()>,
    /// Serialises the read-modify-write of counters, `UPLOAD` and `ALIAS` records.
    meta_lock: meta::MetaLock,
    manifests: ManifestCache,
    /// Decoded occurrence tables by document hash (immutable, so never invalidated).
    docs: doccache::DocCache,
    /// Per-upload symbol scan results (immutable per upload id).
    answers: Arc<answers::AnswerCache>,
}

/// A version resolved against one snapshot: every read of a query goes through it, so a
/// concurrent publish or delete cannot mix two states into one answer.
pub(crate) struct Resolved {
    pub snap: Snapshot,
    pub tenant: String,
    pub keys: Keys,
    pub project: String,
    pub version: String,
    pub manifest: Arc<Manifest>,
    pub upload: u64,
    /// The metadata generation read before `snap` was taken (`meta.rs`).
    pub meta_gen: u64,
    /// xxh3-128 of the tenant's key prefix (cache keys).
    pub tenant_id: u128,
    pub answers: Arc<answers::AnswerCache>,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Resolved({}@{})", self.project, self.version)
    }
}

impl ScipStore {
    /// Engine options suited to SCIP data: zstd blocks, since the store is read-mostly and
    /// SCIP is very repetitive (see `benches/RESULTS.md` §SCIP for the ratio).
    pub fn recommended_options() -> Options {
        let mut o = Options::default();
        o.table.codec = Codec::Zstd { level: 3 };
        o.table.block_size = 32 * 1024;
        // Not `flush_dictionary`: training a dictionary at each flush makes an upload's L0
        // table ~20% smaller (rxjs 0.164 of raw against 0.207) but costs ~40% more ingest
        // CPU (0.96 s against 0.68 s for rxjs.scip), and ingest speed is what CI uploads
        // wait on; data that compacts to the cold levels gets a dictionary there anyway
        // (0.145 either way after a full compaction). benches/RESULTS.md §SCIP.
        o.flush_dictionary = false;
        o
    }

    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        Ok(Self::from_db(Db::open(
            path.as_ref(),
            Self::recommended_options(),
        )?))
    }

    /// Wraps an open database. Only one `ScipStore` may use a database at a time: the
    /// upload/GC exclusion lives in this object.
    pub fn from_db(db: Db) -> Self {
        ScipStore {
            db,
            gc_lock: RwLock::new(()),
            meta_lock: meta::MetaLock::default(),
            manifests: ManifestCache::default(),
            docs: doccache::DocCache::default(),
            answers: Arc::default(),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The version a target names (`latest` resolved), or `None` if the project or version
    /// does not exist: lets a server tell "unknown version" (404) from "no answer" (`[]`).
    pub fn resolve_version(&self, t: &Target<'_>) -> StoreResult<Option<String>> {
        Ok(self.resolve(t)?.map(|r| r.version))
    }

    /// Resolves a target to a concrete upload, or `None` if the project or version does not
    /// exist (a query then answers "nothing", not an error).
    pub(crate) fn resolve(&self, t: &Target<'_>) -> StoreResult<Option<Resolved>> {
        let meta_gen = self.meta_lock.generation();
        let snap = self.db.snapshot();
        let keys = Keys::new(t.tenant);
        let version = match t.version {
            Some(v) if v != LATEST => v.to_owned(),
            _ => {
                let k = keys.alias(t.project);
                match snap.get(&k)? {
                    Some(v) => decode(&k, &v, decode_string)?,
                    None => return Ok(None),
                }
            }
        };
        let k = keys.upload(t.project, &version);
        let Some(v) = snap.get(&k)? else {
            return Ok(None);
        };
        let upload = decode(&k, &v, UploadRecord::decode)?;
        let manifest = self.manifests.get(&snap, &keys, upload.upload_id)?;
        let keys_prefix = keys.tenant_prefix().to_vec();
        Ok(Some(Resolved {
            snap,
            tenant: t.tenant.to_owned(),
            keys,
            project: t.project.to_owned(),
            version,
            manifest,
            upload: upload.upload_id,
            meta_gen,
            tenant_id: xxhash_rust::xxh3::xxh3_128(keys_prefix.as_slice()),
            answers: Arc::clone(&self.answers),
        }))
    }
}
