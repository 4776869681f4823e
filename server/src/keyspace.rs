//! Where a tenant's RESP keys live in the engine: the one place that maps client keys to
//! engine keys and back. Layout (`format-spec/keyspace.md`):
//!
//! ```text
//! 'R' (0x52)  tenant  0x00 0x01  client key bytes
//! ```
//!
//! Tenant names never contain 0x00 (see `auth::valid_tenant`), so `0x00 0x01` ends the
//! tenant and no tenant's prefix is a prefix of another's. The first byte keeps RESP keys
//! apart from the SCIP store (`'S'`) and the chunk store (0xFF x8).

use std::ops::Bound;

/// First byte of every RESP key.
pub const RESP_NAMESPACE: u8 = b'R';

/// One tenant's RESP key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Keyspace {
    prefix: Vec<u8>,
}

impl Keyspace {
    pub(crate) fn new(tenant: &str) -> Keyspace {
        let mut prefix = Vec::with_capacity(tenant.len() + 3);
        prefix.push(RESP_NAMESPACE);
        prefix.extend_from_slice(tenant.as_bytes());
        prefix.extend_from_slice(&[0, 1]);
        Keyspace { prefix }
    }

    /// The engine key of a client key.
    pub(crate) fn key(&self, client_key: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + client_key.len());
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(client_key);
        k
    }

    /// Writes the engine key of a client key into `out` (cleared first), so hot paths can
    /// reuse one buffer instead of allocating a key per request.
    pub(crate) fn key_into(&self, client_key: &[u8], out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(client_key);
    }

    /// The engine keys of several client keys.
    pub(crate) fn keys<K: AsRef<[u8]>>(&self, client_keys: &[K]) -> Vec<Vec<u8>> {
        client_keys.iter().map(|k| self.key(k.as_ref())).collect()
    }

    /// The client key of an engine key, or `None` if it is not this tenant's.
    pub(crate) fn strip<'a>(&self, engine_key: &'a [u8]) -> Option<&'a [u8]> {
        engine_key.strip_prefix(self.prefix.as_slice())
    }

    /// Every key of this tenant starts with this.
    pub(crate) fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// Engine range of this tenant's keys strictly after `after` (a client key), or all of
    /// them. The upper bound is unbounded: iterate with [`Keyspace::strip`] and stop at the
    /// first key that is not the tenant's.
    pub(crate) fn range_after(&self, after: Option<&[u8]>) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
        let lower = match after {
            Some(k) => Bound::Excluded(self.key(k)),
            None => Bound::Included(self.prefix.clone()),
        };
        (lower, Bound::Unbounded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_never_share_keys() {
        let a = Keyspace::new("a");
        let ab = Keyspace::new("ab");
        for key in [&b""[..], b"b", b"b\0\x01x", b"\xff"] {
            assert!(ab.strip(&a.key(key)).is_none());
            assert!(a.strip(&ab.key(key)).is_none());
            assert_eq!(a.strip(&a.key(key)), Some(key));
            let mut reused = b"left over".to_vec();
            a.key_into(key, &mut reused);
            assert_eq!(reused, a.key(key));
        }
    }

    #[test]
    fn resp_keys_avoid_the_other_namespaces() {
        let k = Keyspace::new("default").key(b"x");
        assert_ne!(k[0], scipkv_engine::scip::store::NAMESPACE);
        assert_ne!(k[0], 0xFF);
    }
}
