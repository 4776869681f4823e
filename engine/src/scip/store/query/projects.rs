//! Listing projects and versions of a tenant.

use std::collections::BTreeMap;

use crate::scip::store::error::{StoreResult, decode};
use crate::scip::store::keys::{Keys, tag, take_str};
use crate::scip::store::records::{UploadRecord, decode_string};
use crate::scip::store::types::{ProjectInfo, VersionInfo};
use crate::scip::store::{ScipStore, StoreError};

impl ScipStore {
    /// Every project of the tenant with its versions (oldest upload first) and `latest`.
    pub fn projects(&self, tenant: &str) -> StoreResult<Vec<ProjectInfo>> {
        let keys = Keys::new(tenant);
        let snap = self.db.snapshot();
        let prefix = keys.tag(tag::UPLOAD);
        let mut by_project: BTreeMap<String, Vec<VersionInfo>> = BTreeMap::new();
        for kv in snap.scan_prefix(&prefix) {
            let (k, v) = kv?;
            let bad = || StoreError::Corrupt {
                key: k.escape_ascii().to_string(),
                what: "malformed key".into(),
            };
            let (p, rest) = take_str(&k[prefix.len()..]).ok_or_else(bad)?;
            let (ver, _) = take_str(rest).ok_or_else(bad)?;
            let p = String::from_utf8(p).map_err(|_| bad())?;
            let ver = String::from_utf8(ver).map_err(|_| bad())?;
            let u = decode(&k, &v, UploadRecord::decode)?;
            by_project.entry(p).or_default().push(VersionInfo {
                version: ver,
                upload_id: u.upload_id,
                documents: u.documents,
                occurrences: u.occurrences,
                symbols: u.symbols,
                input_bytes: u.input_bytes,
            });
        }
        let mut out = Vec::new();
        for (project, mut versions) in by_project {
            versions.sort_by_key(|v| v.upload_id);
            let ak = keys.alias(&project);
            let latest = match snap.get(&ak)? {
                Some(v) => Some(decode(&ak, &v, decode_string)?),
                None => None,
            };
            out.push(ProjectInfo {
                project,
                latest,
                versions,
            });
        }
        Ok(out)
    }

    /// Sum of key and value bytes of every live record of the tenant: the logical size,
    /// independent of compaction and compression.
    pub fn logical_bytes(&self, tenant: &str) -> StoreResult<u64> {
        let keys = Keys::new(tenant);
        let mut n = 0u64;
        for kv in self.db.scan_prefix(keys.tenant_prefix()) {
            let (k, v) = kv?;
            n += (k.len() + v.len()) as u64;
        }
        Ok(n)
    }
}
