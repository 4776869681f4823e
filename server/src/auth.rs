//! Tenants, roles and bearer tokens, shared by RESP (`AUTH`) and HTTP (`Authorization`).
//!
//! A token names exactly one tenant and one role. Everything a client reads or writes lives
//! in its tenant's namespace (see `crate::keyspace` and the SCIP store's tenant prefix), so
//! a token can never reach another tenant's data; the role only limits what it may do there.
//! With no tokens configured the server runs one open tenant, [`OPEN_TENANT`], with the
//! admin role, and refuses non-loopback addresses (checked at startup).

use serde::Deserialize;

use crate::config::{ConfigError, TokenConfig};

/// The single tenant of a server without tokens (also the CLI's tenant).
pub const OPEN_TENANT: &str = scipkv_engine::scip::store::DEFAULT_TENANT;

/// Longest tenant name; names are short identifiers, and they prefix every key.
pub const MAX_TENANT_LEN: usize = 64;

/// What a token may do inside its tenant. Ordered: each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Queries and reads.
    Read,
    /// Also writes: RESP writes, index uploads and deletes.
    Write,
    /// Also FLUSHDB and `/metrics`.
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Admin => "admin",
        }
    }
}

/// An authenticated client: the tenant it acts in and its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant: String,
    pub role: Role,
}

impl Principal {
    /// The principal of every client when no tokens are configured.
    pub fn open() -> Principal {
        Principal {
            tenant: OPEN_TENANT.to_owned(),
            role: Role::Admin,
        }
    }
}

/// The configured tokens.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    entries: Vec<TokenConfig>,
}

impl Tokens {
    pub fn new(entries: Vec<TokenConfig>) -> Tokens {
        Tokens { entries }
    }

    /// No tokens: every client is [`Principal::open`].
    pub fn is_open(&self) -> bool {
        self.entries.is_empty()
    }

    /// The principal a token grants, if it is configured. When `tenant` is given (RESP's
    /// `AUTH tenant token`) it must be the token's tenant. Every entry is compared in
    /// constant time, so timing does not reveal how much of a guess was right.
    pub fn authenticate(&self, tenant: Option<&[u8]>, token: &[u8]) -> Option<Principal> {
        let mut found = None;
        for entry in &self.entries {
            if constant_time_eq(entry.token.as_bytes(), token) {
                found = Some(entry);
            }
        }
        let entry = found?;
        if tenant.is_some_and(|t| t != entry.tenant.as_bytes()) {
            return None;
        }
        Some(Principal {
            tenant: entry.tenant.clone(),
            role: entry.role,
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Tenant names: 1 to [`MAX_TENANT_LEN`] bytes of `[A-Za-z0-9_.-]`, so they are safe in
/// keys, logs and metrics.
pub fn valid_tenant(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TENANT_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Rejects unusable token tables at startup rather than at the first request.
pub(crate) fn validate_tokens(tokens: &[TokenConfig]) -> Result<(), ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: "tokens",
        reason,
    };
    for (i, entry) in tokens.iter().enumerate() {
        if entry.token.len() < 8 || !entry.token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid(format!(
                "entry {i}: a token must be at least 8 printable ASCII characters without spaces"
            )));
        }
        if !valid_tenant(&entry.tenant) {
            return Err(invalid(format!(
                "entry {i}: tenant {:?} must be 1 to {MAX_TENANT_LEN} characters of A-Z a-z 0-9 _ . -",
                entry.tenant
            )));
        }
        if tokens[..i].iter().any(|e| e.token == entry.token) {
            return Err(invalid(format!("entry {i}: duplicate token")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(token: &str, tenant: &str, role: Role) -> TokenConfig {
        TokenConfig {
            token: token.into(),
            tenant: tenant.into(),
            role,
        }
    }

    #[test]
    fn tokens_map_to_their_tenant_and_role() {
        let t = Tokens::new(vec![
            entry("aaaaaaaa", "a", Role::Read),
            entry("bbbbbbbb", "b", Role::Admin),
        ]);
        assert!(!t.is_open());
        assert_eq!(
            t.authenticate(None, b"bbbbbbbb"),
            Some(Principal {
                tenant: "b".into(),
                role: Role::Admin
            })
        );
        assert_eq!(t.authenticate(Some(b"a"), b"bbbbbbbb"), None);
        assert!(t.authenticate(Some(b"a"), b"aaaaaaaa").is_some());
        assert_eq!(t.authenticate(None, b"aaaaaaa"), None);
        assert_eq!(t.authenticate(None, b""), None);
        assert!(Role::Read < Role::Write && Role::Write < Role::Admin);
    }

    #[test]
    fn bad_token_tables_are_rejected() {
        assert!(validate_tokens(&[entry("short", "a", Role::Read)]).is_err());
        assert!(validate_tokens(&[entry("with space!", "a", Role::Read)]).is_err());
        assert!(validate_tokens(&[entry("aaaaaaaa", "a/b", Role::Read)]).is_err());
        assert!(validate_tokens(&[entry("aaaaaaaa", "", Role::Read)]).is_err());
        let dup = [
            entry("aaaaaaaa", "a", Role::Read),
            entry("aaaaaaaa", "b", Role::Read),
        ];
        assert!(validate_tokens(&dup).is_err());
        assert!(validate_tokens(&[entry("aaaaaaaa", "a-1.b_c", Role::Read)]).is_ok());
    }
}
