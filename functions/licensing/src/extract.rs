//! Edge extractors: JSON bodies whose rejections are problem+json, and who/where a
//! request comes from (client IP and user agent).

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use skiff_shared::error::Problem;
use skiff_shared::licensing::model::RequestMeta;
use skiff_shared::{ApiError, ApiResult};
use std::convert::Infallible;
use std::net::SocketAddr;

/// A JSON body; a malformed one is 400 `INVALID_JSON`, a well-formed one of the
/// wrong shape 422, a missing content type 415 — all problem+json.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(e) => Err(json_rejection(e)),
        }
    }
}

fn json_rejection(e: JsonRejection) -> ApiError {
    match e {
        JsonRejection::JsonDataError(e) => {
            ApiError::invalid_field("body", "INVALID_BODY", e.body_text())
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::Custom(Box::new(Problem {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "UNSUPPORTED_MEDIA_TYPE".into(),
            title: "Unsupported Media Type".into(),
            detail: "Send the body as application/json.".into(),
            extra: Default::default(),
        })),
        JsonRejection::BytesRejection(_) => ApiError::PayloadTooLarge,
        other => ApiError::bad_request("INVALID_JSON", other.body_text()),
    }
}

/// Parse an optional JSON body (empty = none) of the path-based session routes.
pub fn optional_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<Option<T>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(bytes)
        .map(Some)
        .map_err(|e| ApiError::bad_request("INVALID_JSON", e.to_string()))
}

/// Client IP and user agent. The IP comes from API Gateway's request context on
/// Lambda and from the TCP peer locally; forwarding headers are not trusted.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ClientMeta {
    /// The rate-limit subject of an unauthenticated client.
    pub fn ip_subject(&self) -> &str {
        self.ip.as_deref().unwrap_or("unknown")
    }

    pub fn request_meta(&self, user_id: Option<String>) -> RequestMeta {
        RequestMeta {
            user_id,
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
        }
    }
}

fn lambda_source_ip(parts: &Parts) -> Option<String> {
    use lambda_http::request::RequestContext;
    match parts.extensions.get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.clone(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientMeta {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let ip = lambda_source_ip(parts).or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(a)| a.ip().to_string())
        });
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect());
        Ok(Self { ip, user_agent })
    }
}
