//! The small fixed records: uploads, aliases, manifests, packages, headers, names, reverse
//! relationships, symbol information. Byte layouts: `format-spec/scip-schema.md` §Values.

use prost::Message;

use crate::coding::{DecodeError, Reader, put_varint};
use crate::scip::SymbolInformation;

use super::codec::{
    FORMAT_V1, count, get_front_coded, get_i32, get_str, put_front_coded, put_i32, put_str, version,
};
use super::keys::{DocHash, PackageKey};

/// A published `(project, version)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UploadRecord {
    /// Unique per tenant, never reused: caches keyed by it never go stale.
    pub upload_id: u64,
    pub documents: u64,
    pub occurrences: u64,
    pub symbols: u64,
    pub input_bytes: u64,
    /// Packages this upload defines symbols of, so delete can remove their `PACKAGE` keys.
    pub packages: Vec<PackageKey>,
}

impl UploadRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![FORMAT_V1];
        b.extend_from_slice(&self.upload_id.to_le_bytes());
        for v in [
            self.documents,
            self.occurrences,
            self.symbols,
            self.input_bytes,
        ] {
            put_varint(&mut b, v);
        }
        put_varint(&mut b, self.packages.len() as u64);
        for p in &self.packages {
            put_str(&mut b, &p.manager);
            put_str(&mut b, &p.name);
            put_str(&mut b, &p.version);
        }
        b
    }

    pub fn decode(v: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(v);
        version(&mut r, "upload")?;
        let upload_id = r.u64("upload id")?;
        let documents = r.varint("documents")?;
        let occurrences = r.varint("occurrences")?;
        let symbols = r.varint("symbols")?;
        let input_bytes = r.varint("input bytes")?;
        let n = count(&mut r, 3, "package count")?;
        let mut packages = Vec::with_capacity(n);
        for _ in 0..n {
            packages.push(PackageKey {
                manager: get_str(&mut r, "package manager")?,
                name: get_str(&mut r, "package name")?,
                version: get_str(&mut r, "package version")?,
            });
        }
        Ok(UploadRecord {
            upload_id,
            documents,
            occurrences,
            symbols,
            input_bytes,
            packages,
        })
    }
}

/// A value that is one string: the `ALIAS` target version.
pub fn encode_string(s: &str) -> Vec<u8> {
    let mut b = vec![FORMAT_V1];
    put_str(&mut b, s);
    b
}

pub fn decode_string(v: &[u8]) -> Result<String, DecodeError> {
    let mut r = Reader::new(v);
    version(&mut r, "string")?;
    get_str(&mut r, "string")
}

/// `PENDING` value: the project and version being uploaded (for operators; GC needs only the
/// key).
pub fn encode_pending(project: &str, version: &str) -> Vec<u8> {
    let mut b = vec![FORMAT_V1];
    put_str(&mut b, project);
    put_str(&mut b, version);
    b
}

/// A value that is one u64: counter, `PACKAGE` upload id, `PENDING` upload id.
pub fn encode_u64(n: u64) -> Vec<u8> {
    let mut b = vec![FORMAT_V1];
    b.extend_from_slice(&n.to_le_bytes());
    b
}

pub fn decode_u64(v: &[u8]) -> Result<u64, DecodeError> {
    let mut r = Reader::new(v);
    version(&mut r, "u64")?;
    r.u64("u64")
}

/// A `MANIFEST` or `EXTERNALS` value: a document hash.
pub fn encode_hash(h: DocHash) -> Vec<u8> {
    let mut b = vec![FORMAT_V1];
    b.extend_from_slice(&h.to_be_bytes());
    b
}

pub fn decode_hash(v: &[u8]) -> Result<DocHash, DecodeError> {
    let mut r = Reader::new(v);
    version(&mut r, "hash")?;
    let b = r.bytes(16, "hash")?;
    let mut a = [0u8; 16];
    a.copy_from_slice(b);
    Ok(u128::from_be_bytes(a))
}

/// What a document is, apart from its occurrences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Empty for a batch of external symbols.
    pub path: String,
    pub language: String,
    /// `Document.position_encoding`: answers use the document's own encoding.
    pub position_encoding: i32,
    pub occurrences: u64,
    pub chunks: u64,
}

impl Header {
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![FORMAT_V1];
        put_str(&mut b, &self.path);
        put_str(&mut b, &self.language);
        put_i32(&mut b, self.position_encoding);
        put_varint(&mut b, self.occurrences);
        put_varint(&mut b, self.chunks);
        b
    }

    pub fn decode(v: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(v);
        version(&mut r, "header")?;
        Ok(Header {
            path: get_str(&mut r, "path")?,
            language: get_str(&mut r, "language")?,
            position_encoding: get_i32(&mut r, "position encoding")?,
            occurrences: r.varint("occurrences")?,
            chunks: r.varint("chunks")?,
        })
    }
}

/// `INFO` value: the format byte, then `scip.SymbolInformation` as protobuf (the SCIP schema
/// is the spec; prost bounds every length while decoding).
pub fn encode_info(info: &SymbolInformation) -> Vec<u8> {
    let mut b = Vec::with_capacity(1 + info.encoded_len());
    b.push(FORMAT_V1);
    info.encode_raw(&mut b);
    b
}

pub fn decode_info(v: &[u8]) -> Result<SymbolInformation, DecodeError> {
    let mut r = Reader::new(v);
    version(&mut r, "symbol information")?;
    SymbolInformation::decode(&v[1..])
        .map_err(|e| DecodeError::new(1, format!("symbol information: {e}")))
}

/// `REVERSE` value bits.
pub mod rel {
    pub const IS_REFERENCE: u8 = 1;
    pub const IS_IMPLEMENTATION: u8 = 2;
    pub const IS_TYPE_DEFINITION: u8 = 4;
    pub const IS_DEFINITION: u8 = 8;
}

pub fn encode_flags(flags: u8) -> Vec<u8> {
    vec![FORMAT_V1, flags]
}

pub fn decode_flags(v: &[u8]) -> Result<u8, DecodeError> {
    let mut r = Reader::new(v);
    version(&mut r, "relationship flags")?;
    r.u8("relationship flags")
}

/// `NAME` value: kind and the display name with its original case (the key holds it
/// lowercased).
pub fn encode_name(kind: i32, display_name: &str) -> Vec<u8> {
    let mut b = vec![FORMAT_V1];
    put_i32(&mut b, kind);
    put_str(&mut b, display_name);
    b
}

pub fn decode_name(v: &[u8]) -> Result<(i32, String), DecodeError> {
    let mut r = Reader::new(v);
    version(&mut r, "name")?;
    Ok((get_i32(&mut r, "kind")?, get_str(&mut r, "display name")?))
}

/// `INFO_LIST` value: the sorted symbols of a document's `INFO` records.
pub fn encode_list(sorted: &[&str]) -> Vec<u8> {
    let mut b = vec![FORMAT_V1];
    put_front_coded(&mut b, sorted);
    b
}

pub fn decode_list(v: &[u8]) -> Result<Vec<String>, DecodeError> {
    let mut r = Reader::new(v);
    version(&mut r, "symbol list")?;
    get_front_coded(&mut r, "symbol list")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let u = UploadRecord {
            upload_id: 7,
            documents: 1,
            occurrences: 2,
            symbols: 3,
            input_bytes: 4,
            packages: vec![PackageKey {
                manager: "npm".into(),
                name: "rxjs".into(),
                version: "8".into(),
            }],
        };
        assert_eq!(UploadRecord::decode(&u.encode()).unwrap(), u);
        let h = Header {
            path: "a.ts".into(),
            language: "ts".into(),
            position_encoding: 2,
            occurrences: 9,
            chunks: 1,
        };
        assert_eq!(Header::decode(&h.encode()).unwrap(), h);
        assert_eq!(
            decode_hash(&encode_hash(u128::MAX - 3)).unwrap(),
            u128::MAX - 3
        );
        assert_eq!(
            decode_name(&encode_name(-4, "Foo")).unwrap(),
            (-4, "Foo".into())
        );
        let enc = u.encode();
        for cut in 0..enc.len() {
            assert!(UploadRecord::decode(&enc[..cut]).is_err());
        }
    }
}
