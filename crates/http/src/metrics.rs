//! Request metrics (see `skiff_core::metrics`): every answer counts under its route
//! template — never the path, which may carry a token or a license key — its method
//! and status class, with its latency; 5xx answers count as errors too.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use skiff_core::metrics::{self, HTTP_ERRORS, HTTP_LATENCY, HTTP_REQUESTS, Mode};
use std::time::Instant;

/// Label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// Count and time one request (a layer inside the router, where the matched route
/// is known).
pub async fn record(request: Request, next: Next) -> Response {
    if metrics::mode() == Mode::Off {
        return next.run(request).await;
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    HTTP_REQUESTS.inc(&[&route, &method, metrics::status_class(status)]);
    if status >= 500 {
        HTTP_ERRORS.inc(&[&route, &method]);
    }
    HTTP_LATENCY.observe(&[&route, &method], started.elapsed().as_secs_f64());
    response
}

/// On Lambda, publish what the invocation recorded once its answer is ready (the
/// outermost layer of a function's surface).
pub async fn flush_after(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    metrics::flush_emf();
    response
}
