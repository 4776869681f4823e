//! Errors of the HTTP API: every one is a JSON body `{"error": "..."}` with a status that
//! tells the client whose fault it was.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scipkv_engine::scip::store::StoreError;

use super::params::ParamError;

#[derive(Debug)]
pub(crate) enum ApiError {
    BadRequest(String),
    Unauthorized(&'static str),
    Forbidden(String),
    NotFound(String),
    MethodNotAllowed,
    TooLarge(u64),
    Timeout,
    Unavailable(&'static str),
    Internal(String),
}

impl ApiError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Timeout => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::BadRequest(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Internal(m) => m.clone(),
            ApiError::Unauthorized(m) | ApiError::Unavailable(m) => (*m).to_owned(),
            ApiError::MethodNotAllowed => "method not allowed".into(),
            ApiError::TooLarge(max) => format!("request body larger than {max} bytes"),
            ApiError::Timeout => "request deadline exceeded".into(),
        }
    }
}

impl From<ParamError> for ApiError {
    fn from(e: ParamError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            // The client sent something unusable; nothing stored changed.
            StoreError::Scip(_) | StoreError::InvalidArgument(_) => {
                ApiError::BadRequest(e.to_string())
            }
            StoreError::Corrupt { .. } | StoreError::Db(_) => ApiError::Internal(e.to_string()),
        }
    }
}

/// A JSON response with a status.
pub(crate) fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message() }).to_string();
        let mut r = json_response(self.status(), body);
        if matches!(self, ApiError::Unauthorized(_)) {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}
