//! Request ids: the incoming `x-request-id` (if sane) or a new UUIDv7, echoed in the
//! response, attached to every log line of the request and to every problem body.
//!
//! The request span names the matched route template (`/api/v1/licenses/{id}/status`),
//! never the raw path or query: both carry secrets on some routes (verification
//! tokens, license keys), and logs are read by more people than the secrets are.

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

pub use skiff_core::request_scope::{current_request_id, scope};

/// Accept a caller's id only if it is short printable ASCII (it ends up in logs).
fn sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b))
}

/// Middleware: assign the id, log the request's outcome in its span.
pub async fn middleware(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        route = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut response = scope(id.clone(), next.run(request).instrument(span.clone())).await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request finished"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, v);
    }
    response
}

/// Middleware applied inside the router (where the route is known): names the
/// matched route template in the request span. A request no route matched keeps
/// `route` unset, so its path is never logged either.
pub async fn record_route(request: Request, next: Next) -> Response {
    if let Some(route) = request.extensions().get::<MatchedPath>() {
        tracing::Span::current().record("route", route.as_str());
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::sane;

    #[test]
    fn only_short_printable_ids_are_accepted() {
        assert!(sane("abc-123"));
        assert!(!sane(""));
        assert!(!sane("a b"));
        assert!(!sane("x\n"));
        assert!(!sane(&"a".repeat(129)));
    }
}
