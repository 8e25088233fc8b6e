//! Edge extractors: who/where a request comes from (client IP and user agent), and
//! the optional JSON body of the path-based session routes.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use skiff_http::client_ip::ClientIp;
use skiff_http::error::ApiResult;
use skiff_licensing::model::RequestMeta;
use std::convert::Infallible;

/// Parse an optional JSON body (empty = none) of the path-based session routes.
pub fn optional_json<T: DeserializeOwned + utoipa::PartialSchema>(
    bytes: &[u8],
) -> ApiResult<Option<T>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    skiff_http::json::parse(bytes).map(Some)
}

/// Client IP (the shared [`ClientIp`]: API Gateway's source IP on Lambda, the TCP
/// peer locally; forwarding headers are not trusted) and user agent.
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

    pub fn request_meta(&self, user_id: Option<skiff_core::ids::UserId>) -> RequestMeta {
        RequestMeta {
            user_id,
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientMeta {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        let ip = ip.map(|ip| ip.to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect());
        Ok(Self { ip, user_agent })
    }
}
