//! `DIAGNOSTICS` record: every diagnostic of a document with its occurrence's range.
//! Byte layout: `format-spec/scip-schema.md` §DIAGNOSTICS.

use crate::coding::{DecodeError, Reader, put_varint};

use super::codec::{
    FORMAT_V1, count, get_i32, get_range, get_str, put_i32, put_range, put_str, version,
};
use super::types::DiagnosticInfo;
use crate::scip::{Diagnostic, Range};

pub fn encode_diagnostics(items: &[(Range, &Diagnostic)]) -> Vec<u8> {
    let mut b = vec![FORMAT_V1];
    put_varint(&mut b, items.len() as u64);
    for (r, d) in items {
        put_range(&mut b, r, 0);
        put_i32(&mut b, d.severity);
        put_str(&mut b, &d.code);
        put_str(&mut b, &d.message);
        put_str(&mut b, &d.source);
        put_varint(&mut b, d.tags.len() as u64);
        for t in &d.tags {
            put_i32(&mut b, *t);
        }
    }
    b
}

pub fn decode_diagnostics(v: &[u8]) -> Result<Vec<DiagnosticInfo>, DecodeError> {
    let mut r = Reader::new(v);
    version(&mut r, "diagnostics")?;
    let n = count(&mut r, 9, "diagnostic count")?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let range = get_range(&mut r, 0, "diagnostic range")?.into();
        let severity = get_i32(&mut r, "severity")?;
        let code = get_str(&mut r, "code")?;
        let message = get_str(&mut r, "message")?;
        let source = get_str(&mut r, "source")?;
        let t = count(&mut r, 1, "tag count")?;
        let mut tags = Vec::with_capacity(t);
        for _ in 0..t {
            tags.push(get_i32(&mut r, "tag")?);
        }
        out.push(DiagnosticInfo {
            range,
            severity,
            code,
            message,
            source,
            tags,
        });
    }
    Ok(out)
}
