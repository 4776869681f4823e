//! Which documents make up one upload, cached in memory by upload id.
//!
//! Content-addressed records are shared by every version holding the document, so a query
//! filters them by the version's document set. Loading that set is one range scan of
//! `MANIFEST`/`EXTERNALS`; it is immutable for a given upload id (ids are never reused), so
//! the cache never needs invalidating, only bounding.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::Snapshot;

use super::error::{StoreResult, decode};
use super::keys::{DocHash, Keys, take_str};
use super::records::decode_hash;

/// Uploads whose manifests stay cached; beyond it the cache is cleared (cheap to reload).
const CACHE_UPLOADS: usize = 64;

#[derive(Debug, Default)]
pub struct Manifest {
    pub by_path: HashMap<String, DocHash>,
    /// Document hash → path; external-symbol batches map to `None`. foldhash: the keys are
    /// already uniformly random, and scans look up one hash per key they read (SipHash was
    /// 4% of a workspace search).
    pub by_hash: foldhash::HashMap<DocHash, Option<Arc<str>>>,
}

impl Manifest {
    pub fn load(snap: &Snapshot, keys: &Keys, upload: u64) -> StoreResult<Manifest> {
        let mut m = Manifest::default();
        let prefix = keys.manifest_upload(upload);
        for kv in snap.scan_prefix(&prefix) {
            let (k, v) = kv?;
            let hash = decode(&k, &v, decode_hash)?;
            let path = take_str(&k[prefix.len()..])
                .and_then(|(p, _)| String::from_utf8(p).ok())
                .ok_or_else(|| super::StoreError::Corrupt {
                    key: k.escape_ascii().to_string(),
                    what: "bad path component".into(),
                })?;
            m.by_hash.insert(hash, Some(Arc::from(path.as_str())));
            m.by_path.insert(path, hash);
        }
        for kv in snap.scan_prefix(keys.externals_upload(upload)) {
            let (k, v) = kv?;
            m.by_hash.insert(decode(&k, &v, decode_hash)?, None);
        }
        Ok(m)
    }

    pub fn contains(&self, hash: DocHash) -> bool {
        self.by_hash.contains_key(&hash)
    }

    /// The path of a document of this upload; `None` for unknown or external batches.
    pub fn path(&self, hash: DocHash) -> Option<&Arc<str>> {
        self.by_hash.get(&hash).and_then(|p| p.as_ref())
    }
}

/// (tenant key prefix, upload id).
type CacheKey = (Vec<u8>, u64);

#[derive(Debug, Default)]
pub struct ManifestCache {
    map: Mutex<HashMap<CacheKey, Arc<Manifest>>>,
}

impl ManifestCache {
    pub fn get(&self, snap: &Snapshot, keys: &Keys, upload: u64) -> StoreResult<Arc<Manifest>> {
        let id = (keys.tenant_prefix().to_vec(), upload);
        if let Some(m) = self.map.lock().get(&id) {
            return Ok(Arc::clone(m));
        }
        let m = Arc::new(Manifest::load(snap, keys, upload)?);
        let mut map = self.map.lock();
        if map.len() >= CACHE_UPLOADS {
            map.clear();
        }
        map.insert(id, Arc::clone(&m));
        Ok(m)
    }
}
