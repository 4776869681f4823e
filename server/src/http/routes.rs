//! The route table and the gate every request passes (route lookup, authentication and
//! role, deadline, metrics). Handlers live in `handlers.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, put};

use super::auth::authorize;
use super::error::ApiError;
use super::handlers::{self, Kind};
use crate::auth::Role;
use crate::shared::Shared;

/// One route: its metrics label, path template and who may call it.
#[derive(Debug)]
pub(crate) struct RouteSpec {
    pub name: &'static str,
    pub path: &'static str,
    /// `None`: open to anyone (health probes).
    pub role: Option<Role>,
    /// Uploads get the upload deadline instead of the query deadline.
    pub upload: bool,
}

const fn route(name: &'static str, path: &'static str, role: Option<Role>) -> RouteSpec {
    RouteSpec {
        name,
        path,
        role,
        upload: false,
    }
}

const VERSION: &str = "/v1/projects/{project}/versions/{version}";

/// Every route; the order is the metrics label order.
pub(crate) static ROUTES: &[RouteSpec] = &[
    RouteSpec {
        name: "upload",
        path: "/v1/projects/{project}/versions/{version}/index",
        role: Some(Role::Write),
        upload: true,
    },
    route("delete", VERSION, Some(Role::Write)),
    route("projects", "/v1/projects", Some(Role::Read)),
    route(
        "definition",
        "/v1/projects/{project}/versions/{version}/definition",
        Some(Role::Read),
    ),
    route(
        "references",
        "/v1/projects/{project}/versions/{version}/references",
        Some(Role::Read),
    ),
    route(
        "implementations",
        "/v1/projects/{project}/versions/{version}/implementations",
        Some(Role::Read),
    ),
    route(
        "type_definition",
        "/v1/projects/{project}/versions/{version}/type-definition",
        Some(Role::Read),
    ),
    route(
        "hover",
        "/v1/projects/{project}/versions/{version}/hover",
        Some(Role::Read),
    ),
    route(
        "document_symbols",
        "/v1/projects/{project}/versions/{version}/document-symbols",
        Some(Role::Read),
    ),
    route(
        "workspace_symbols",
        "/v1/projects/{project}/versions/{version}/workspace-symbols",
        Some(Role::Read),
    ),
    route(
        "symbol_definition",
        "/v1/symbols/definition",
        Some(Role::Read),
    ),
    // Only admins see server-wide figures when tenants are configured.
    route("metrics", "/metrics", Some(Role::Admin)),
    route("healthz", "/healthz", None),
    route("readyz", "/readyz", None),
];

/// Metrics labels of the routes, in table order.
pub(crate) fn route_names() -> Vec<&'static str> {
    ROUTES.iter().map(|r| r.name).collect()
}

fn path_of(name: &str) -> &'static str {
    ROUTES
        .iter()
        .find(|r| r.name == name)
        .map_or("/", |r| r.path)
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let q = |kind: Kind| get(move |s, e, p, r| handlers::query(s, e, p, r, kind));
    Router::new()
        .route(path_of("upload"), put(handlers::upload))
        .route(path_of("delete"), delete(handlers::delete_version))
        .route(path_of("projects"), get(handlers::projects))
        .route(path_of("definition"), q(Kind::Definition))
        .route(path_of("references"), q(Kind::References))
        .route(path_of("implementations"), q(Kind::Implementations))
        .route(path_of("type_definition"), q(Kind::TypeDefinition))
        .route(path_of("hover"), q(Kind::Hover))
        .route(path_of("document_symbols"), q(Kind::DocumentSymbols))
        .route(path_of("workspace_symbols"), q(Kind::WorkspaceSymbols))
        .route(
            path_of("symbol_definition"),
            get(handlers::symbol_definition),
        )
        .route(path_of("metrics"), get(handlers::metrics))
        .route(path_of("healthz"), get(handlers::healthz))
        .route(path_of("readyz"), get(handlers::readyz))
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), gate))
        .with_state(shared)
}

/// Most of a refused request's body read (and dropped) so the refusal reaches the client.
const REFUSED_BODY_DRAIN: usize = 1 << 20;
const REFUSED_BODY_DRAIN_TIME: Duration = Duration::from_secs(2);

/// Authenticates, enforces the deadline and records metrics for every request.
async fn gate(State(shared): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let index = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|m| ROUTES.iter().position(|r| r.path == m.as_str()));
    let spec = index.map(|i| &ROUTES[i]);
    let response = match admit(&shared, spec, &mut req) {
        Err(e) => {
            // Read what the client already sent before refusing: closing with unread request
            // bytes makes the kernel reset the connection, and the client may then lose the
            // refusal itself ("peer disconnected" instead of 401). Bounded in size and time;
            // past that the connection simply closes.
            let body = axum::body::to_bytes(req.into_body(), REFUSED_BODY_DRAIN);
            let _ = tokio::time::timeout(REFUSED_BODY_DRAIN_TIME, body).await;
            e.into_response()
        }
        Ok(deadline) => match tokio::time::timeout(deadline, next.run(req)).await {
            Ok(r) => r,
            Err(_) => ApiError::Timeout.into_response(),
        },
    };
    shared
        .metrics
        .http_request(index, response.status().as_u16(), started.elapsed());
    response
}

/// Checks the caller and returns the request's deadline.
fn admit(
    shared: &Shared,
    spec: Option<&RouteSpec>,
    req: &mut Request,
) -> Result<Duration, ApiError> {
    let limits = &shared.config.limits;
    let Some(spec) = spec else {
        return Ok(limits.request_timeout);
    };
    if let Some(role) = spec.role {
        let principal = authorize(&shared.tokens, req.headers(), role)?;
        req.extensions_mut().insert(principal);
    }
    Ok(if spec.upload {
        limits.upload_timeout
    } else {
        limits.request_timeout
    })
}
