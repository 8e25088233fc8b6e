//! Errors in AutoMem's shape — `{"status": "error", "code": <status>, "message":
//! …}` — which AutoMem clients parse, on every memory route (Skiff's other routes
//! answer problem+json). Memory's domain errors map here once.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use skiff_http::ApiError;
use skiff_memory::MemoryError;

/// An AutoMem-shaped error answer.
#[derive(Debug)]
pub struct AutoMemError {
    pub status: StatusCode,
    pub message: String,
    /// Members beside `status`, `code` and `message` (the 423 and 403 bodies).
    pub extra: Map<String, Value>,
}

pub type Result<T> = std::result::Result<T, AutoMemError>;

impl AutoMemError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            extra: Map::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A whole body to answer as is (the 423 of a locked org).
    pub fn body(status: StatusCode, body: Value) -> Self {
        let mut extra = body.as_object().cloned().unwrap_or_default();
        let message = extra
            .remove("message")
            .and_then(|m| m.as_str().map(str::to_owned))
            .unwrap_or_default();
        extra.remove("status");
        extra.remove("code");
        Self {
            status,
            message,
            extra,
        }
    }

    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "status": "error",
            "code": self.status.as_u16(),
            "message": self.message,
        });
        for (k, v) in &self.extra {
            body[k] = v.clone();
        }
        body
    }
}

impl IntoResponse for AutoMemError {
    fn into_response(self) -> Response {
        (self.status, Json(self.to_json())).into_response()
    }
}

impl From<MemoryError> for AutoMemError {
    fn from(e: MemoryError) -> Self {
        match e {
            MemoryError::Invalid(m) => Self::bad_request(m),
            MemoryError::NotFound(m) => Self::new(StatusCode::NOT_FOUND, m),
            MemoryError::Conflict(m) => Self::new(StatusCode::CONFLICT, m),
            MemoryError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, m),
            MemoryError::LimitReached {
                limit,
                tier,
                upgrade_url,
            } => {
                let message = MemoryError::LimitReached {
                    limit,
                    tier: tier.clone(),
                    upgrade_url: upgrade_url.clone(),
                }
                .to_string();
                let mut e = Self::new(StatusCode::FORBIDDEN, message);
                e.extra
                    .insert("error".into(), "memory_limit_reached".into());
                e.extra.insert("limit".into(), limit.into());
                e.extra.insert("tier".into(), tier.into());
                e.extra.insert("upgrade_url".into(), upgrade_url.into());
                e
            }
            MemoryError::Unavailable(m) => {
                tracing::warn!(error = %m, "memory dependency unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "A storage service is unavailable; retry shortly",
                )
            }
            MemoryError::Internal(m) => {
                tracing::error!(error = %m, "memory request failed");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
            }
        }
    }
}

/// Skiff's own errors (authentication, the store) in AutoMem's shape.
impl From<ApiError> for AutoMemError {
    fn from(e: ApiError) -> Self {
        let status = e.status();
        if status.is_server_error() {
            tracing::error!(error = %e, "memory request failed");
            let message = if status == StatusCode::SERVICE_UNAVAILABLE {
                "A storage service is unavailable; retry shortly"
            } else {
                "Internal server error"
            };
            return Self::new(status, message);
        }
        let mut out = Self::new(status, e.to_string());
        out.extra
            .insert("error".into(), e.code().to_lowercase().into());
        out
    }
}

impl From<skiff_core::ports::store::StoreError> for AutoMemError {
    fn from(e: skiff_core::ports::store::StoreError) -> Self {
        MemoryError::from(e).into()
    }
}
