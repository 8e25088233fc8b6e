//! The HTTP boundary's one error type, mapped once to RFC 9457
//! `application/problem+json` with `type title status detail code request_id`.

use crate::request_id::current_request_id;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use skiff_core::ports::payments::PaymentsError;
use skiff_core::ports::{
    blobs::BlobError, queue::QueueError, secrets::SecretsError, store::StoreError,
};
use skiff_core::rate_limit::RateLimitError;

/// Base of the `type` URIs; each code gets a stable page.
pub const PROBLEM_TYPE_BASE: &str = "https://skiff.dev/problems/";

/// Every error a route can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed request (400).
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    /// Well-formed but invalid content (422); `errors` lists every failed rule.
    #[error("{detail}")]
    Validation {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{detail}")]
    Unauthorized { code: &'static str, detail: String },
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    /// Absent, or belonging to another tenant (never 403 across tenants).
    #[error("{0}")]
    NotFound(String),
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("{detail}")]
    Gone { code: &'static str, detail: String },
    #[error("request body too large")]
    PayloadTooLarge,
    /// The body is not in a media type the route reads (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    /// A dependency is down or overloaded after retries (503).
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; the detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
    /// Any other status with extra members (e.g. 423 service locked).
    #[error("{}", .0.detail)]
    Custom(Box<Problem>),
}

pub use skiff_core::validation::FieldError;

/// A fully specified problem, for answers the enum does not name.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: String,
    pub title: String,
    pub detail: String,
    pub extra: Map<String, Value>,
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            detail: detail.into(),
        }
    }
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        ApiError::Validation { detail, errors }
    }
    pub fn invalid_field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }
    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Unauthorized {
            code,
            detail: detail.into(),
        }
    }
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Forbidden {
            code,
            detail: detail.into(),
        }
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::NotFound(detail.into())
    }
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            detail: detail.into(),
        }
    }
    pub fn gone(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Gone {
            code,
            detail: detail.into(),
        }
    }
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        ApiError::Internal(detail.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Gone { .. } => StatusCode::GONE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Custom(p) => p.status,
        }
    }

    /// The machine-readable code.
    pub fn code(&self) -> &str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Unauthorized { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Gone { code, .. } => code,
            ApiError::Validation { .. } => "VALIDATION_FAILED",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ApiError::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::RateLimited { .. } => "RATE_LIMITED",
            ApiError::Unavailable(_) => "SERVICE_UNAVAILABLE",
            ApiError::Internal(_) => "INTERNAL_ERROR",
            ApiError::Custom(p) => &p.code,
        }
    }

    /// What a person reads; internal details are never exposed.
    fn public_detail(&self) -> String {
        match self {
            ApiError::Internal(_) => {
                "An unexpected error occurred. Quote the request id when reporting it.".into()
            }
            ApiError::RateLimited { retry_after_secs } => {
                format!("Too many requests; retry in {retry_after_secs} s.")
            }
            ApiError::PayloadTooLarge => {
                "The request body is larger than this route accepts.".into()
            }
            other => other.to_string(),
        }
    }
}

/// Render a problem document (also used by middleware that answers on its own).
pub fn problem_response(
    status: StatusCode,
    code: &str,
    detail: &str,
    extra: Map<String, Value>,
) -> Response {
    render(status, code, None, detail, extra)
}

fn render(
    status: StatusCode,
    code: &str,
    title: Option<&str>,
    detail: &str,
    extra: Map<String, Value>,
) -> Response {
    let title = title
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error"));
    let mut body = json!({
        "type": format!("{PROBLEM_TYPE_BASE}{}", code.to_ascii_lowercase().replace('_', "-")),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
        "code": code,
        "request_id": current_request_id(),
    });
    if let Value::Object(map) = &mut body {
        map.extend(extra);
    }
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, code = self.code(), "request failed");
        } else {
            tracing::info!(
                code = self.code(),
                status = status.as_u16(),
                "request refused"
            );
        }
        let mut extra = Map::new();
        match &self {
            ApiError::Validation { errors, .. } => {
                extra.insert(
                    "errors".into(),
                    serde_json::to_value(errors).unwrap_or_default(),
                );
            }
            ApiError::RateLimited { retry_after_secs } => {
                extra.insert("retry_after".into(), (*retry_after_secs).into());
            }
            ApiError::Custom(p) => extra = p.extra.clone(),
            _ => {}
        }
        let detail = self.public_detail();
        let mut response = match &self {
            ApiError::Custom(p) => render(status, &p.code, Some(&p.title), &detail, extra),
            _ => render(status, self.code(), None, &detail, extra),
        };
        if let ApiError::RateLimited { retry_after_secs } = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs.max(1)),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(d) => {
                tracing::warn!(error = %d, "store unavailable");
                ApiError::Unavailable(
                    "The data store is temporarily unavailable; retry shortly.".into(),
                )
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<BlobError> for ApiError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::NotFound(k) => ApiError::not_found(format!("blob `{k}` not found")),
            BlobError::InvalidKey(k) => {
                ApiError::bad_request("INVALID_KEY", format!("invalid blob key `{k}`"))
            }
            BlobError::SignatureRejected(why) => ApiError::forbidden("SIGNATURE_REJECTED", why),
            BlobError::ChecksumMismatch { .. } => {
                ApiError::bad_request("CHECKSUM_MISMATCH", e.to_string())
            }
            BlobError::SizeMismatch { .. } => ApiError::bad_request("SIZE_MISMATCH", e.to_string()),
            BlobError::Body(_) => ApiError::bad_request("BODY_UNREADABLE", e.to_string()),
            BlobError::Unavailable(_) => ApiError::Unavailable(
                "The blob store is temporarily unavailable; retry shortly.".into(),
            ),
            other => ApiError::internal(other),
        }
    }
}

impl From<QueueError> for ApiError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::Unavailable(_) => {
                ApiError::Unavailable("The queue is temporarily unavailable; retry shortly.".into())
            }
            QueueError::DeadLetterNotFound(id) => {
                ApiError::not_found(format!("dead letter `{id}` not found"))
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<SecretsError> for ApiError {
    fn from(e: SecretsError) -> Self {
        match e {
            SecretsError::Unavailable(_) => {
                ApiError::Unavailable("Secrets are temporarily unavailable; retry shortly.".into())
            }
            other => ApiError::internal(other),
        }
    }
}

/// Shorthand for route results.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<PaymentsError> for ApiError {
    fn from(e: PaymentsError) -> Self {
        match e {
            PaymentsError::Rejected { message, .. } => {
                tracing::warn!(error = %message, "payment provider refused a request");
                ApiError::Custom(Box::new(Problem {
                    status: StatusCode::BAD_GATEWAY,
                    code: "PAYMENT_PROVIDER_REFUSED".into(),
                    title: "Payment provider refused the request".into(),
                    detail:
                        "The payment provider refused the request; try again or contact support."
                            .into(),
                    extra: Default::default(),
                }))
            }
            PaymentsError::NotFound(what) => ApiError::not_found(format!(
                "billing object not found at the payment provider: {what}"
            )),
            PaymentsError::Unavailable(_) => ApiError::Unavailable(
                "The payment provider is temporarily unavailable; retry shortly.".into(),
            ),
            other => ApiError::internal(other),
        }
    }
}

impl From<RateLimitError> for ApiError {
    fn from(e: RateLimitError) -> Self {
        match e {
            RateLimitError::Limited { retry_after_secs } => {
                ApiError::RateLimited { retry_after_secs }
            }
            RateLimitError::Store(e) => e.into(),
        }
    }
}

impl From<skiff_identity::signing_keys::KeyError> for ApiError {
    fn from(e: skiff_identity::signing_keys::KeyError) -> Self {
        match e {
            skiff_identity::signing_keys::KeyError::Secrets(e) => e.into(),
            other => ApiError::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn body(e: ApiError) -> (StatusCode, String, Value, Option<String>) {
        let r = e.into_response();
        let status = r.status();
        let ct = r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        let retry = r
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = to_bytes(r.into_body(), 1 << 16).await.unwrap();
        (status, ct, serde_json::from_slice(&bytes).unwrap(), retry)
    }

    #[tokio::test]
    async fn a_transient_store_failure_is_a_503_problem_not_a_500() {
        let (status, ct, json, _) =
            body(StoreError::Unavailable("ProvisionedThroughputExceeded".into()).into()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(ct, "application/problem+json");
        assert_eq!(json["code"], "SERVICE_UNAVAILABLE");
        assert!(!json["detail"].as_str().unwrap().contains("Provisioned"));
    }

    #[tokio::test]
    async fn internal_details_are_never_sent() {
        let (status, _, json, _) = body(ApiError::internal("db password is hunter2")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!json.to_string().contains("hunter2"));
        for member in ["type", "title", "status", "detail", "code", "request_id"] {
            assert!(json.get(member).is_some(), "{member}");
        }
    }

    #[tokio::test]
    async fn validation_lists_every_failed_rule() {
        let e = ApiError::validation(vec![
            FieldError::new("password", "TOO_SHORT", "at least 8 characters"),
            FieldError::new("password", "NO_DIGIT", "a digit"),
        ]);
        let (status, _, json, _) = body(e).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(json["errors"].as_array().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn rate_limits_carry_retry_after() {
        let (status, _, json, retry) = body(ApiError::RateLimited {
            retry_after_secs: 17,
        })
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(retry.as_deref(), Some("17"));
        assert_eq!(json["retry_after"], 17);
    }

    #[tokio::test]
    async fn custom_problems_keep_their_members() {
        let mut extra = Map::new();
        extra.insert("mode".into(), "read_only".into());
        let e = ApiError::Custom(Box::new(Problem {
            status: StatusCode::LOCKED,
            code: "service_locked".into(),
            title: "Service locked".into(),
            detail: "Writes are disabled".into(),
            extra,
        }));
        let (status, _, json, _) = body(e).await;
        assert_eq!(status, StatusCode::LOCKED);
        assert_eq!(json["code"], "service_locked");
        assert_eq!(json["mode"], "read_only");
        assert_eq!(json["title"], "Service locked");
    }
}
