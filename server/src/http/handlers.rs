//! Route handlers. Engine calls run on the blocking pool (they may read disk or fsync),
//! except definition and hover, which run on the async worker itself (see [`query`]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scipkv_engine::scip::store::Target;

use super::error::{ApiError, json_response};
use super::params::{self, Params};
use crate::auth::Principal;
use crate::metrics::render;
use crate::scip_api::{self, At, Query};
use crate::shared::Shared;

type VersionPath = Result<Path<(String, String)>, PathRejection>;

/// The position-based and document queries, one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Definition,
    References,
    Implementations,
    TypeDefinition,
    Hover,
    DocumentSymbols,
    WorkspaceSymbols,
}

/// Runs `f` on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("request task failed: {e}")))?
}

fn ok_json(body: String) -> Response {
    json_response(StatusCode::OK, body)
}

fn version_path(p: VersionPath) -> Result<(String, String), ApiError> {
    p.map(|Path(v)| v)
        .map_err(|e| ApiError::BadRequest(format!("bad path: {e}")))
}

fn query_params(raw: Option<String>) -> Result<Params, ApiError> {
    Ok(params::parse(raw.as_deref().unwrap_or(""))?)
}

fn build_query(kind: Kind, p: &Params) -> Result<Query, ApiError> {
    let at = || -> Result<At, ApiError> {
        let (path, line, character) = p.position()?;
        Ok(At {
            path,
            line,
            character,
        })
    };
    let position = ["path", "line", "character"];
    Ok(match kind {
        Kind::References => {
            p.only(&["path", "line", "character", "includeDeclaration"])?;
            Query::References {
                at: at()?,
                include_declaration: p.include_declaration.unwrap_or(false),
            }
        }
        Kind::DocumentSymbols => {
            p.only(&["path"])?;
            Query::DocumentSymbols {
                path: p.required_path()?,
            }
        }
        Kind::WorkspaceSymbols => {
            p.only(&["query", "limit"])?;
            Query::WorkspaceSymbols {
                query: p.required_query()?,
                limit: p.limit_or_default(),
            }
        }
        Kind::Definition => {
            p.only(&position)?;
            Query::Definition(at()?)
        }
        Kind::Implementations => {
            p.only(&position)?;
            Query::Implementations(at()?)
        }
        Kind::TypeDefinition => {
            p.only(&position)?;
            Query::TypeDefinition(at()?)
        }
        Kind::Hover => {
            p.only(&position)?;
            Query::Hover(at()?)
        }
    })
}

fn not_found(project: &str, version: &str) -> ApiError {
    ApiError::NotFound(format!("no version {version:?} of project {project:?}"))
}

/// `GET /v1/projects/{p}/versions/{v}/<kind>?...`: 404 for an unknown project or version,
/// otherwise the query's answer (`[]`/`null` when there is none).
pub(crate) async fn query(
    State(shared): State<Arc<Shared>>,
    Extension(principal): Extension<Principal>,
    path: VersionPath,
    RawQuery(raw): RawQuery,
    kind: Kind,
) -> Result<Response, ApiError> {
    let (project, version) = version_path(path)?;
    let q = build_query(kind, &query_params(raw)?)?;
    let answer = move || {
        let t = Target::version(&principal.tenant, &project, &version);
        let body = scip_api::run(&shared.scip, &t, &q, false)?;
        // An answer with something in it came from a stored version; only an empty one may
        // mean there is no such version. Checking afterwards spares the common case a
        // second resolution of the version (two engine reads, ~8% of a definition's
        // instructions over HTTP).
        if (body == "[]" || body == "null") && shared.scip.resolve_version(&t)?.is_none() {
            return Err(not_found(&project, &version));
        }
        Ok(body)
    };
    // Definition and hover are the editor's per-keystroke queries: a few cached point
    // reads, cheaper than the hand-off to the blocking pool, which under 64 concurrent
    // requests also grows to dozens of threads contending for the cores (benches/RESULTS.md
    // "HTTP"). As with RESP GET, the price is that a read missing the page cache, or a
    // position fanning out to many symbols, holds this worker's other connections meanwhile.
    let body = match kind {
        // A panic becomes a 500 here, as `blocking` makes it one for the pool.
        Kind::Definition | Kind::Hover => {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(answer))
                .map_err(|_| ApiError::Internal("query panicked".into()))??
        }
        _ => blocking(answer).await?,
    };
    Ok(ok_json(body))
}

/// `GET /v1/symbols/definition?symbol=[&project=[&version=]]`: without a project, every
/// project of the tenant at its `latest`.
pub(crate) async fn symbol_definition(
    State(shared): State<Arc<Shared>>,
    Extension(principal): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let p = query_params(raw)?;
    p.only(&["symbol", "project", "version"])?;
    let symbol = p.required_symbol()?;
    if p.version.is_some() && p.project.is_none() {
        return Err(ApiError::BadRequest("version needs a project".into()));
    }
    let body = blocking(move || {
        let tenant = &principal.tenant;
        let locations = match &p.project {
            None => scip_api::symbol_definition_anywhere(&shared.scip, tenant, &symbol)?,
            Some(project) => {
                let version = p.version.as_deref().unwrap_or("latest");
                let t = Target::version(tenant, project, version);
                if shared.scip.resolve_version(&t)?.is_none() {
                    return Err(not_found(project, version));
                }
                shared.scip.symbol_definition(&t, &symbol)?
            }
        };
        Ok(crate::scip_json::locations(&locations))
    })
    .await?;
    Ok(ok_json(body))
}

/// `GET /v1/projects`: the tenant's projects, versions and `latest`.
pub(crate) async fn projects(
    State(shared): State<Arc<Shared>>,
    Extension(principal): Extension<Principal>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    query_params(raw)?.only(&[])?;
    let body = blocking(move || {
        Ok(scip_api::to_json(
            &shared.scip.projects(&principal.tenant)?,
            false,
        )?)
    })
    .await?;
    Ok(ok_json(body))
}

/// `PUT /v1/projects/{p}/versions/{v}/index`: body is the index (raw, zstd or gzip).
pub(crate) async fn upload(
    State(shared): State<Arc<Shared>>,
    Extension(principal): Extension<Principal>,
    path: VersionPath,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (project, version) = version_path(path)?;
    let summary =
        super::ingest::upload(shared, principal, project, version, &headers, body).await?;
    Ok(ok_json(summary))
}

/// `DELETE /v1/projects/{p}/versions/{v}`: deletes the version and reclaims its space.
pub(crate) async fn delete_version(
    State(shared): State<Arc<Shared>>,
    Extension(principal): Extension<Principal>,
    path: VersionPath,
) -> Result<Response, ApiError> {
    let (project, version) = version_path(path)?;
    let body = blocking(move || {
        scip_api::delete(&shared.scip, &principal.tenant, &project, &version, false)?
            .ok_or_else(|| not_found(&project, &version))
    })
    .await?;
    Ok(ok_json(body))
}

pub(crate) async fn metrics(State(shared): State<Arc<Shared>>) -> Result<Response, ApiError> {
    let text = blocking(move || Ok(render::render(&shared))).await?;
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(render::CONTENT_TYPE),
    );
    Ok(r)
}

/// The process is up and answering.
pub(crate) async fn healthz() -> Response {
    ok_json(r#"{"status":"ok"}"#.into())
}

/// The engine is open and accepts writes (a failed fsync poisons writes until restart).
pub(crate) async fn readyz(State(shared): State<Arc<Shared>>) -> Result<Response, ApiError> {
    let poisoned = blocking(move || Ok(shared.db.stats().poisoned)).await?;
    if poisoned {
        return Err(ApiError::Unavailable(
            "writes are disabled after a storage failure; restart the server",
        ));
    }
    Ok(ok_json(r#"{"status":"ready"}"#.into()))
}
