//! Streaming ingest: one document in memory at a time, content-addressed writes in large
//! batches, and one final atomic batch that publishes the version.
//!
//! Peak memory is the largest document's protobuf bytes and its borrowing decode
//! ([`DocumentView`], ~40 bytes per occurrence), the write batch (`BATCH_BYTES`),
//! O(documents) hashes and the package set, plus the engine's buffers (memtables, WAL
//! record) and the input's decompression window. A rejected upload leaves the published state untouched: the documents it already wrote are
//! unreferenced and [`ScipStore::gc`] reclaims them (see `format-spec/scip-schema.md` §GC).

use std::collections::BTreeSet;
use std::io::Read;
use std::time::Instant;

use crate::scip::docview::DocumentView;
use crate::scip::{Document, DuplicateCheck, IndexReader, RawItem, ScipError, SymbolInformation};
use crate::{Db, WriteBatch};

use super::docwrite::{RecordSink, collect_packages, document_hash, payload_hash, write_document};
use super::error::{StoreResult, decode};
use super::keys::{Keys, PackageKey};
use super::records::{
    UploadRecord, decode_u64, encode_hash, encode_pending, encode_string, encode_u64,
};
use super::types::IngestSummary;
use super::{LATEST, ScipStore, StoreError};

/// A write batch is committed once it holds this many bytes, also in the middle of a
/// document. While it commits the engine holds it three times (the batch, its encoded
/// payload and the WAL record: heaptrack of an rxjs ingest), so the write path's share of
/// ingest's peak heap is about 3x this. 512 KiB: ~1.6 MB of a peak that the target bounds
/// at twice the largest document (5.9 MB for rxjs), at the cost of one WAL fsync per
/// ~512 KiB of records (the engine has no unsynced write to use for the intermediate
/// commits; see benches/RESULTS.md §SCIP, Memory).
const BATCH_BYTES: usize = 512 << 10;

/// Room reserved in each batch beyond [`BATCH_BYTES`], for the record that crosses it, so
/// the batch's buffers do not double just before a commit; and the operations expected in
/// that many bytes (records average well over 64 bytes).
const BATCH_SLACK: usize = BATCH_BYTES / 8;
const BATCH_OPS: usize = BATCH_BYTES / 64;

/// External symbols are stored in content-addressed batches of this many, so unchanged
/// externals are shared across versions like documents are.
const EXTERNALS_PER_BATCH: usize = 512;

/// State of one upload between its start and its publish.
struct Upload<'a> {
    store: &'a ScipStore,
    keys: Keys,
    id: u64,
    batch: Batcher<'a>,
    /// Hashes written (or found) by this upload, so a repeat within it is not re-checked.
    seen: foldhash::HashSet<u128>,
    paths: DuplicateCheck,
    packages: BTreeSet<PackageKey>,
    externals: Vec<SymbolInformation>,
    external_batches: u32,
    summary: IngestSummary,
}

impl ScipStore {
    /// Ingests an index (raw, zstd or gzip) as `(project, version)` of `tenant`, replacing
    /// that version if it exists and moving `latest` to it.
    pub fn ingest(
        &self,
        tenant: &str,
        project: &str,
        version: &str,
        input: impl Read,
    ) -> StoreResult<IngestSummary> {
        self.ingest_with_progress(tenant, project, version, input, &mut |_| {})
    }

    /// As [`ScipStore::ingest`], calling `progress` with the input bytes consumed so far
    /// after each document.
    pub fn ingest_with_progress(
        &self,
        tenant: &str,
        project: &str,
        version: &str,
        input: impl Read,
        progress: &mut dyn FnMut(u64),
    ) -> StoreResult<IngestSummary> {
        check_name("project", project)?;
        check_name("version", version)?;
        if version == LATEST {
            return Err(StoreError::InvalidArgument(format!(
                "version {LATEST:?} is reserved for the alias"
            )));
        }
        let started = Instant::now();
        let _shared = self.gc_lock.read();
        let keys = Keys::new(tenant);
        let id = self.allocate_upload(&keys, project, version)?;
        let mut up = Upload {
            store: self,
            keys,
            id,
            batch: Batcher {
                db: &self.db,
                batch: Batcher::empty(),
            },
            seen: foldhash::HashSet::default(),
            paths: DuplicateCheck::new(),
            packages: BTreeSet::new(),
            externals: Vec::new(),
            external_batches: 0,
            summary: IngestSummary {
                project: project.into(),
                version: version.into(),
                upload_id: id,
                documents: 0,
                new_documents: 0,
                occurrences: 0,
                symbols: 0,
                input_bytes: 0,
                seconds: 0.0,
            },
        };
        match up.stream(input, progress) {
            Ok(()) => {}
            Err(e) => {
                // Best effort: if this fails too, GC removes the pending upload later.
                let _ = self.abort_upload_entries(&up.keys, id);
                return Err(e);
            }
        }
        let packages = std::mem::take(&mut up.packages);
        let mut summary = up.summary.clone();
        let keys = up.keys.clone();
        drop(up);
        self.publish(&keys, project, version, &summary, packages)?;
        summary.seconds = started.elapsed().as_secs_f64();
        Ok(summary)
    }

    /// Takes the next upload id and records the upload as pending, in one batch.
    fn allocate_upload(&self, keys: &Keys, project: &str, version: &str) -> StoreResult<u64> {
        let _meta = self.meta_lock.lock();
        let ck = keys.counter();
        let id = match self.db.get(&ck)? {
            Some(v) => decode(&ck, &v, decode_u64)?,
            None => 1,
        };
        let mut b = WriteBatch::new();
        b.put(&ck, encode_u64(id + 1));
        b.put(keys.pending(id), encode_pending(project, version));
        self.db.write(b)?;
        Ok(id)
    }

    /// The one atomic batch that makes the upload visible, replaces any previous upload of
    /// the same version, and moves `latest`.
    fn publish(
        &self,
        keys: &Keys,
        project: &str,
        version: &str,
        s: &IngestSummary,
        packages: BTreeSet<PackageKey>,
    ) -> StoreResult<()> {
        let _meta = self.meta_lock.lock();
        let uk = keys.upload(project, version);
        let mut b = WriteBatch::new();
        if let Some(old) = self.db.get(&uk)? {
            let old = decode(&uk, &old, UploadRecord::decode)?;
            self.delete_upload_entries(keys, project, version, &old, &mut b)?;
        }
        for p in &packages {
            b.put(keys.package(p, project, version), encode_u64(s.upload_id));
        }
        let record = UploadRecord {
            upload_id: s.upload_id,
            documents: s.documents,
            occurrences: s.occurrences,
            symbols: s.symbols,
            input_bytes: s.input_bytes,
            packages: packages.into_iter().collect(),
        };
        b.put(&uk, record.encode());
        b.put(keys.alias(project), encode_string(version));
        b.delete(keys.pending(s.upload_id));
        Ok(self.db.write(b)?)
    }
}

impl Upload<'_> {
    fn stream(&mut self, input: impl Read, progress: &mut dyn FnMut(u64)) -> StoreResult<()> {
        let mut reader = IndexReader::new(input)?;
        while let Some(item) = reader.next_raw()? {
            match item {
                RawItem::Metadata(_) => {}
                RawItem::Document { payload, offset } => {
                    let hash = payload_hash(payload);
                    self.document(&DocumentView::decode(payload, offset)?, hash)?;
                    progress(reader.bytes_read());
                }
                RawItem::ExternalSymbol(sym) => {
                    if sym.symbol.is_empty() {
                        return Err(ScipError::invalid(
                            "<external symbols>",
                            format!("external_symbols[{}].symbol", self.summary.symbols),
                            "is empty",
                        )
                        .into());
                    }
                    self.summary.symbols += 1;
                    self.externals.push(sym);
                    if self.externals.len() >= EXTERNALS_PER_BATCH {
                        self.flush_externals()?;
                    }
                }
            }
        }
        self.flush_externals()?;
        self.summary.input_bytes = reader.decompressed_offset();
        self.batch.commit()
    }

    /// `doc` comes validated from [`DocumentView::decode`].
    fn document(&mut self, doc: &DocumentView<'_>, hash: u128) -> StoreResult<()> {
        self.paths.check(doc.relative_path)?;
        self.store_once(hash, doc, false)?;
        self.batch.put(
            self.keys.manifest(self.id, doc.relative_path),
            encode_hash(hash),
        )?;
        collect_packages(doc, &mut self.packages);
        self.summary.documents += 1;
        self.summary.occurrences += doc.occurrences.len() as u64;
        self.summary.symbols += doc.symbols.len() as u64;
        Ok(())
    }

    /// Writes the document's records unless they are already stored (by content).
    fn store_once(
        &mut self,
        hash: u128,
        doc: &DocumentView<'_>,
        external: bool,
    ) -> StoreResult<()> {
        if self.seen.insert(hash) && self.store.db.get(self.keys.header(hash))?.is_none() {
            write_document(&self.keys, hash, doc, external, &mut self.batch)?;
            if !external {
                self.summary.new_documents += 1;
            }
        }
        Ok(())
    }

    fn flush_externals(&mut self) -> StoreResult<()> {
        if self.externals.is_empty() {
            return Ok(());
        }
        let doc = Document {
            symbols: std::mem::take(&mut self.externals),
            ..Default::default()
        };
        let hash = document_hash(&doc);
        self.store_once(hash, &DocumentView::from_symbols(doc.symbols), true)?;
        self.batch.put(
            self.keys.externals(self.id, self.external_batches),
            encode_hash(hash),
        )?;
        self.external_batches += 1;
        Ok(())
    }
}

/// The upload's write batch, committed whenever it reaches [`BATCH_BYTES`], also in the
/// middle of a document: nothing the upload writes is visible before its publish, and a
/// document's header, written last, is what later uploads check for.
struct Batcher<'a> {
    db: &'a Db,
    batch: WriteBatch,
}

impl Batcher<'_> {
    fn empty() -> WriteBatch {
        WriteBatch::with_capacity(BATCH_OPS, BATCH_BYTES + BATCH_SLACK)
    }

    fn commit(&mut self) -> StoreResult<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        // The next batch is allocated after this one is written, not while the engine holds
        // this one (and its two encoded copies).
        let mut b = std::mem::take(&mut self.batch);
        // An upload writes keys all over its tenant's key space (postings, symbols, names
        // of each document); in key order its memtable inserts cost ~12% less ingest CPU
        // (benches/RESULTS.md §SCIP). Nothing reads the batch's keys before the publish,
        // and the sort keeps each key's operations in order.
        b.sort_by_key();
        self.db.write(b)?;
        self.batch = Self::empty();
        Ok(())
    }
}

impl RecordSink for Batcher<'_> {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> StoreResult<()> {
        self.batch.put(key, value);
        if self.batch.approximate_size() >= BATCH_BYTES {
            self.commit()?;
        }
        Ok(())
    }
}

fn check_name(what: &str, s: &str) -> StoreResult<()> {
    if s.is_empty() {
        return Err(StoreError::InvalidArgument(format!("{what} is empty")));
    }
    if s.len() > 1024 {
        return Err(StoreError::InvalidArgument(format!(
            "{what} is longer than 1024 bytes"
        )));
    }
    Ok(())
}
