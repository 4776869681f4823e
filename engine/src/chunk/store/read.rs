//! Reassembling a stored value.

use crate::chunk::keys::ChunkId;
use crate::chunk::manifest::{Stored, decode};
use crate::{Error, Result};

/// Most bytes reserved up front for a chunked value: the manifest's total is checked against
/// its entries, but a damaged one should not make a read allocate gigabytes before failing.
const MAX_RESERVE: u64 = 64 << 20;

/// The user's value from a stored (enveloped) value; `get` reads an internal key at the same
/// sequence number and in the same table version as the stored value was read, so a chunk
/// GC deletes later is still there for this read.
pub(crate) fn resolve(
    stored: Vec<u8>,
    user_key: &[u8],
    mut get: impl FnMut(&[u8]) -> Result<Option<Vec<u8>>>,
) -> Result<Vec<u8>> {
    let manifest = match decode(&stored).map_err(|e| locate(e, user_key))? {
        Stored::Inline(_) => {
            let mut v = stored;
            v.remove(0);
            return Ok(v);
        }
        Stored::Chunked(m) => m,
    };
    let mut out = Vec::with_capacity(manifest.total_len.min(MAX_RESERVE) as usize);
    for id in &manifest.chunks {
        let content = get(&id.data_key())?.ok_or_else(|| {
            bad(
                user_key,
                format!("chunk {:032x}/{} is missing", id.hash, id.len),
            )
        })?;
        if ChunkId::of(&content) != *id {
            return Err(bad(
                user_key,
                format!("chunk {:032x}/{} has other content", id.hash, id.len),
            ));
        }
        out.extend_from_slice(&content);
    }
    Ok(out)
}

fn bad(user_key: &[u8], what: String) -> Error {
    Error::corruption(
        format!("value of key {}", String::from_utf8_lossy(user_key)),
        0,
        what,
    )
}

fn locate(e: Error, user_key: &[u8]) -> Error {
    match e {
        Error::Corruption { what, .. } => bad(user_key, what),
        e => e,
    }
}
