//! Deleting versions and reclaiming unreferenced documents (mark and sweep).
//!
//! Delete only removes references (the `UPLOAD` record, its manifest, its packages) in one
//! atomic batch. [`ScipStore::gc`] then marks every document referenced by a published
//! upload and sweeps the rest, including documents written by uploads that failed or
//! crashed. It derives each dead document's keys from its own records, mirroring
//! `docwrite::write_document`. Spec: `format-spec/scip-schema.md` §GC.

use std::collections::HashSet;

use crate::WriteBatch;
use crate::scip::constants::role;

use super::chunk::decode_chunk;
use super::docwrite::{is_local, merged_relationships, symbol_name};
use super::error::{StoreResult, decode};
use super::keys::{DocHash, Keys, tag, take_hash, take_str, take_u64};
use super::records::{
    Header, UploadRecord, decode_hash, decode_info, decode_list, decode_string, encode_string,
};
use super::types::GcSummary;
use super::{ScipStore, StoreError};

/// Deletions per batch while sweeping.
const SWEEP_BATCH_KEYS: usize = 100_000;

impl ScipStore {
    /// Adds to `b` the deletion of an upload's manifest and package keys (not its `UPLOAD`
    /// record, which the caller deletes or overwrites).
    pub(crate) fn delete_upload_entries(
        &self,
        keys: &Keys,
        project: &str,
        version: &str,
        old: &UploadRecord,
        b: &mut WriteBatch,
    ) -> StoreResult<()> {
        for prefix in [
            keys.manifest_upload(old.upload_id),
            keys.externals_upload(old.upload_id),
        ] {
            for kv in self.db.scan_prefix(&prefix) {
                b.delete(kv?.0);
            }
        }
        for p in &old.packages {
            b.delete(keys.package(p, project, version));
        }
        Ok(())
    }

    /// Deletes one version; `latest` moves to the newest remaining upload. Returns whether
    /// the version existed. Space comes back at the next [`ScipStore::gc`].
    pub fn delete_version(&self, tenant: &str, project: &str, version: &str) -> StoreResult<bool> {
        let keys = Keys::new(tenant);
        let _meta = self.meta_lock.lock();
        let uk = keys.upload(project, version);
        let Some(v) = self.db.get(&uk)? else {
            return Ok(false);
        };
        let old = decode(&uk, &v, UploadRecord::decode)?;
        let mut b = WriteBatch::new();
        self.delete_upload_entries(&keys, project, version, &old, &mut b)?;
        b.delete(&uk);
        let ak = keys.alias(project);
        let alias = match self.db.get(&ak)? {
            Some(v) => Some(decode(&ak, &v, decode_string)?),
            None => None,
        };
        if alias.as_deref() == Some(version) {
            match self.newest_other_version(&keys, project, version)? {
                Some(v) => b.put(&ak, encode_string(&v)),
                None => b.delete(&ak),
            }
        }
        self.db.write(b)?;
        Ok(true)
    }

    fn newest_other_version(
        &self,
        keys: &Keys,
        project: &str,
        skip: &str,
    ) -> StoreResult<Option<String>> {
        let prefix = keys.upload_project(project);
        let mut best: Option<(u64, String)> = None;
        for kv in self.db.scan_prefix(&prefix) {
            let (k, v) = kv?;
            let (ver, _) = take_str(&k[prefix.len()..]).ok_or_else(|| bad_key(&k))?;
            let ver = String::from_utf8(ver).map_err(|_| bad_key(&k))?;
            if ver == skip {
                continue;
            }
            let id = decode(&k, &v, UploadRecord::decode)?.upload_id;
            if best.as_ref().is_none_or(|(b, _)| id > *b) {
                best = Some((id, ver));
            }
        }
        Ok(best.map(|(_, v)| v))
    }

    /// Reclaims every document of `tenant` that no published upload references, and the
    /// leftovers of failed or crashed uploads. Waits for running uploads to finish and
    /// blocks new ones meanwhile.
    pub fn gc(&self, tenant: &str) -> StoreResult<GcSummary> {
        let _exclusive = self.gc_lock.write();
        let keys = Keys::new(tenant);
        let mut summary = GcSummary::default();

        // No upload runs now, so every pending upload is a leftover.
        let pending_prefix = keys.tag(tag::PENDING);
        let mut stale = Vec::new();
        for kv in self.db.scan_prefix(&pending_prefix) {
            let (k, _) = kv?;
            let (id, _) = take_u64(&k[pending_prefix.len()..]).ok_or_else(|| bad_key(&k))?;
            stale.push(id);
        }
        for id in stale {
            self.abort_upload_entries(&keys, id)?;
            summary.stale_uploads_deleted += 1;
        }

        // Mark.
        let mut live: HashSet<DocHash> = HashSet::new();
        for kv in self.db.scan_prefix(keys.tag(tag::UPLOAD)) {
            let (k, v) = kv?;
            let id = decode(&k, &v, UploadRecord::decode)?.upload_id;
            for prefix in [keys.manifest_upload(id), keys.externals_upload(id)] {
                for kv in self.db.scan_prefix(&prefix) {
                    let (k, v) = kv?;
                    live.insert(decode(&k, &v, decode_hash)?);
                }
            }
        }

        // Sweep.
        let header_prefix = keys.tag(tag::HEADER);
        let mut b = WriteBatch::new();
        for kv in self.db.scan_prefix(&header_prefix) {
            let (k, v) = kv?;
            let (hash, _) = take_hash(&k[header_prefix.len()..]).ok_or_else(|| bad_key(&k))?;
            if live.contains(&hash) {
                continue;
            }
            let header = decode(&k, &v, Header::decode)?;
            let dead = self.document_keys(&keys, hash, Some(&header))?;
            self.delete_swept(&mut b, dead, &mut summary.keys_deleted)?;
            summary.documents_deleted += 1;
        }
        self.db.write(std::mem::take(&mut b))?;

        // Partial documents: a symbol list without a header is what a crashed or failed
        // upload left of a document it was writing (the list is written first, the header
        // last). Nothing published references it: publish needs every document whole.
        let list_prefix = keys.tag(tag::INFO_LIST);
        for kv in self.db.scan_prefix(&list_prefix) {
            let (k, _) = kv?;
            let (hash, _) = take_hash(&k[list_prefix.len()..]).ok_or_else(|| bad_key(&k))?;
            if live.contains(&hash) || self.db.get(keys.header(hash))?.is_some() {
                continue;
            }
            let dead = self.document_keys(&keys, hash, None)?;
            self.delete_swept(&mut b, dead, &mut summary.keys_deleted)?;
            summary.partial_documents_deleted += 1;
        }
        self.db.write(b)?;
        // GC changes no `UPLOAD` or `PACKAGE` record today; advancing the generation anyway
        // keeps cached provider lists safe if it ever does.
        self.meta_lock.bump();
        Ok(summary)
    }

    /// Adds one swept document's keys to `b`, writing it out once it is large.
    fn delete_swept(
        &self,
        b: &mut WriteBatch,
        dead: Vec<Vec<u8>>,
        deleted: &mut u64,
    ) -> StoreResult<()> {
        *deleted += dead.len() as u64;
        for key in dead {
            b.delete(key);
        }
        if b.len() >= SWEEP_BATCH_KEYS {
            self.db.write(std::mem::take(b))?;
        }
        Ok(())
    }

    /// Deletes a leftover upload's manifest and pending marker.
    pub(crate) fn abort_upload_entries(&self, keys: &Keys, id: u64) -> StoreResult<()> {
        let mut b = WriteBatch::new();
        for prefix in [keys.manifest_upload(id), keys.externals_upload(id)] {
            for kv in self.db.scan_prefix(&prefix) {
                b.delete(kv?.0);
            }
        }
        b.delete(keys.pending(id));
        Ok(self.db.write(b)?)
    }

    /// Every key `write_document` wrote for `hash`, derived from the stored records.
    /// Without a header (a partial document) it is unknown whether the records are a
    /// document's or an external batch's, so its search names are deleted only where they
    /// exist.
    fn document_keys(
        &self,
        keys: &Keys,
        hash: DocHash,
        header: Option<&Header>,
    ) -> StoreResult<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        if header.is_some() {
            out.push(keys.header(hash));
        }
        let is_document = header.map(|h| !h.path.is_empty());
        let push_name = |out: &mut Vec<Vec<u8>>, key: Vec<u8>| -> StoreResult<()> {
            match is_document {
                Some(true) => out.push(key),
                Some(false) => {}
                None => {
                    if self.db.get(&key)?.is_some() {
                        out.push(key);
                    }
                }
            }
            Ok(())
        };
        for k in [keys.outline(hash), keys.diagnostics(hash)] {
            if self.db.get(&k)?.is_some() {
                out.push(k);
            }
        }
        let mut syms: HashSet<String> = HashSet::new();
        let mut defined: HashSet<String> = HashSet::new();
        for kv in self.db.scan_prefix(keys.chunks(hash)) {
            let (k, v) = kv?;
            let chunk = decode(&k, &v, decode_chunk)?;
            for o in &chunk.occurrences {
                let s = &chunk.symbols[o.symbol as usize];
                if o.roles & role::DEFINITION != 0 {
                    defined.insert(s.clone());
                }
                syms.insert(s.clone());
            }
            out.push(k);
        }
        for s in &syms {
            out.push(keys.symbol_doc(tag::REFERENCES, s, hash));
            if defined.contains(s) {
                out.push(keys.symbol_doc(tag::DEFINITION, s, hash));
            }
        }
        let lk = keys.info_list(hash);
        // Stores written before the list came first hold it only for documents with
        // symbol information.
        let with_info = match self.db.get(&lk)? {
            Some(v) => Some(decode(&lk, &v, decode_list)?),
            None => None,
        };
        {
            let listed: HashSet<&str> = with_info.iter().flatten().map(String::as_str).collect();
            for s in &defined {
                if !is_local(s) && !listed.contains(s.as_str()) {
                    let name = symbol_name(s, None);
                    push_name(&mut out, keys.name(&name.to_lowercase(), s, hash))?;
                }
            }
        }
        if let Some(with_info) = with_info {
            for sym in with_info {
                let ik = keys.symbol_doc(tag::INFO, &sym, hash);
                let Some(iv) = self.db.get(&ik)? else {
                    continue;
                };
                let info = decode(&ik, &iv, decode_info)?;
                for (target, _) in merged_relationships(&info) {
                    out.push(keys.reverse(target, hash, &sym));
                }
                if !is_local(&sym) {
                    let name = symbol_name(&sym, Some(&info));
                    push_name(&mut out, keys.name(&name.to_lowercase(), &sym, hash))?;
                }
                out.push(ik);
            }
            out.push(lk);
        }
        Ok(out)
    }
}

fn bad_key(k: &[u8]) -> StoreError {
    StoreError::Corrupt {
        key: k.escape_ascii().to_string(),
        what: "malformed key".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use prost::Message;

    use super::*;
    use crate::scip::docview::DocumentView;
    use crate::scip::proto::{Occurrence, Relationship, SymbolInformation};
    use crate::scip::store::docwrite::{RecordSink, document_hash, payload_hash, write_document};
    use crate::scip::tests::fixture;

    struct Collect(Vec<(Vec<u8>, Vec<u8>)>);

    impl RecordSink for Collect {
        fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> StoreResult<()> {
            self.0.push((key, value));
            Ok(())
        }
    }

    fn live_keys(store: &ScipStore) -> BTreeSet<Vec<u8>> {
        store
            .db()
            .iter::<&[u8]>(..)
            .map(|kv| kv.unwrap().0)
            .collect()
    }

    /// A document with many symbols, relationships and definitions, so its records span
    /// every kind `write_document` writes.
    fn big_document() -> crate::scip::proto::Document {
        let mut d = fixture::document(7);
        d.relative_path = "src/big.ts".into();
        for i in 0..40 {
            let sym = format!("scip-test npm p 1.0 src/big.ts/g{i}().");
            d.occurrences.push(Occurrence {
                range: vec![100 + i, 2, 9],
                symbol: sym.clone(),
                symbol_roles: if i % 2 == 0 { 0x1 } else { 0 },
                ..Default::default()
            });
            if i % 3 == 0 {
                d.symbols.push(SymbolInformation {
                    symbol: sym,
                    display_name: format!("g{i}"),
                    relationships: vec![Relationship {
                        symbol: format!("scip-test npm p 1.0 src/base.ts/B{i}#."),
                        is_implementation: true,
                        ..Default::default()
                    }],
                    ..Default::default()
                });
            }
        }
        d
    }

    /// A crash or failure between two batches of one document leaves a prefix of its
    /// records without a header; GC must find and delete every one of them, whatever the
    /// cut, and nothing else.
    #[test]
    fn gc_sweeps_every_prefix_of_a_partly_written_document() {
        let dir = tempfile::tempdir().unwrap();
        let store = ScipStore::open(dir.path()).unwrap();
        store
            .ingest("t", "p", "v1", &fixture::encoded()[..])
            .unwrap();
        let before = live_keys(&store);
        let keys = Keys::new("t");

        let doc = big_document().encode_to_vec();
        let view = DocumentView::decode(&doc, 0).unwrap();
        let mut records = Collect(Vec::new());
        write_document(&keys, payload_hash(&doc), &view, false, &mut records).unwrap();
        let symbols = vec![fixture::external(), big_document().symbols[1].clone()];
        let external = crate::scip::proto::Document {
            symbols: symbols.clone(),
            ..Default::default()
        };
        let mut ext_records = Collect(Vec::new());
        write_document(
            &keys,
            document_hash(&external),
            &DocumentView::from_symbols(symbols),
            true,
            &mut ext_records,
        )
        .unwrap();

        for records in [&records.0, &ext_records.0] {
            let n = records.len();
            assert!(n >= 4, "{n} records");
            // The last record is the header: every shorter prefix is a partial document.
            for cut in 1..n {
                let mut b = WriteBatch::new();
                for (k, v) in &records[..cut] {
                    b.put(k, v);
                }
                store.db().write(b).unwrap();
                let gc = store.gc("t").unwrap();
                assert_eq!(gc.partial_documents_deleted, 1, "cut {cut} of {n}: {gc:?}");
                assert_eq!(gc.documents_deleted, 0, "cut {cut}: {gc:?}");
                assert_eq!(
                    live_keys(&store),
                    before,
                    "cut {cut} of {n} left keys behind"
                );
            }
        }
        // The published upload still answers.
        assert_eq!(store.gc("t").unwrap(), GcSummary::default());
    }
}
