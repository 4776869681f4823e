//! `Authorization: Bearer <token>` to a principal, and the role check of a route.

use axum::http::{HeaderMap, header};

use super::error::ApiError;
use crate::auth::{Principal, Role, Tokens};

/// The principal of a request that needs at least `needed`. Without configured tokens every
/// request is [`Principal::open`] and no header is needed.
pub(crate) fn authorize(
    tokens: &Tokens,
    headers: &HeaderMap,
    needed: Role,
) -> Result<Principal, ApiError> {
    if tokens.is_open() {
        return Ok(Principal::open());
    }
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::Unauthorized("missing bearer token"))?;
    let token = value
        .as_bytes()
        .strip_prefix(b"Bearer ")
        .ok_or(ApiError::Unauthorized(
            "expected 'Authorization: Bearer <token>'",
        ))?;
    let principal = tokens
        .authenticate(None, token.trim_ascii())
        .ok_or(ApiError::Unauthorized("invalid token"))?;
    if principal.role < needed {
        return Err(ApiError::Forbidden(format!(
            "this token's role ({}) may not do this ({} needed)",
            principal.role.name(),
            needed.name()
        )));
    }
    Ok(principal)
}
