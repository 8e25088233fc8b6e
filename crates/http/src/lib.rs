//! HTTP plumbing every function shares: request ids, problem+json, body limits,
//! CORS from an allow-list, security headers, health routes, the authenticated
//! principal, the write-lock layer, OpenAPI plumbing.

pub mod client_ip;
pub mod error;
pub mod extract;
pub mod health;
pub mod json;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod principal;
pub mod request_id;
pub mod write_lock;

use skiff_core::config::{Config, CorsOrigins};

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::IntoResponse;
use skiff_core::services::Services;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Headers every answer carries unless its handler set them.
const DEFAULT_HEADERS: [(HeaderName, &str); 5] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=63072000; includeSubDomains",
    ),
    (header::CACHE_CONTROL, "no-store"),
];

/// Wrap a router with the layers every Skiff HTTP surface has. Applied once, by the
/// Lambda entry point or by the local server, around all routes.
///
/// `Router::layer` wraps each route on its own, which costs start-up time per route
/// and layer; so only the layers that read the matched route go on the routes, and
/// the others wrap the router once, in the same order.
pub fn with_common_layers(router: Router, config: &Config) -> Router {
    let routed = router
        .fallback(|| async { ApiError::not_found("no such route").into_response() })
        .layer(axum::middleware::from_fn(metrics::record))
        .layer(axum::middleware::from_fn(request_id::record_route));
    let wrapped = tower::ServiceBuilder::new()
        .layer(axum::middleware::from_fn(request_id::middleware))
        .layer(cors(&config.cors_origins))
        .layer(axum::middleware::map_response(default_headers))
        .layer(axum::extract::DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::from_fn(extract::problem_rejections))
        .layer(axum::middleware::from_fn(extract::reject_overlong_paths))
        .service(routed);
    Router::new().fallback_service(wrapped)
}

async fn default_headers(mut response: axum::response::Response) -> axum::response::Response {
    for (name, value) in DEFAULT_HEADERS {
        response
            .headers_mut()
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// One Lambda function's whole HTTP surface: the health routes beside its group's
/// routes, with the layers the local server applies. Each function's `main` and its
/// event-fixture tests build the handler through this, so what the tests drive is
/// what Lambda runs.
pub fn lambda_app(group: Router<Services>, services: Services) -> Router {
    let config = services.config.clone();
    let routes = write_lock::layer(health::router().merge(group), &services);
    with_common_layers(routes.with_state(services), &config)
        .layer(axum::middleware::from_fn(metrics::flush_after))
}

/// Request headers a browser may send cross-origin: those some route reads.
/// `x-seat-token` carries the seat token of the session heartbeat and release routes;
/// the conditional headers and `x-backup-*` are storage's; memory's AutoMem routes
/// take credentials in `x-api-key` and `x-admin-token` / `x-admin-api-key`, its MCP
/// endpoint its session and protocol version, its event stream `last-event-id`.
pub const CORS_ALLOWED_HEADERS: [HeaderName; 17] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("x-seat-token"),
    HeaderName::from_static("x-amz-checksum-sha256"),
    header::IF_MATCH,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    HeaderName::from_static("x-backup-version"),
    HeaderName::from_static("x-backup-timestamp"),
    HeaderName::from_static("x-backup-checksum"),
    HeaderName::from_static("x-api-key"),
    HeaderName::from_static("x-admin-token"),
    HeaderName::from_static("x-admin-api-key"),
    HeaderName::from_static("mcp-session-id"),
    HeaderName::from_static("mcp-protocol-version"),
    HeaderName::from_static("last-event-id"),
];

/// Response headers a browser may read: the rate limiter's, storage's integrity
/// and backup headers, and the MCP session memory's endpoint opens.
pub const CORS_EXPOSED_HEADERS: [HeaderName; 9] = [
    HeaderName::from_static("x-request-id"),
    header::RETRY_AFTER,
    header::ETAG,
    header::LAST_MODIFIED,
    HeaderName::from_static("x-checksum"),
    HeaderName::from_static("x-backup-version"),
    HeaderName::from_static("x-backup-timestamp"),
    HeaderName::from_static("x-backup-checksum"),
    HeaderName::from_static("mcp-session-id"),
];

fn cors(origins: &CorsOrigins) -> CorsLayer {
    let base = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(CORS_ALLOWED_HEADERS)
        .expose_headers(CORS_EXPOSED_HEADERS);
    match origins {
        CorsOrigins::Any => base.allow_origin(AllowOrigin::any()),
        CorsOrigins::List(list) => base.allow_origin(AllowOrigin::list(
            list.iter().filter_map(|o| HeaderValue::from_str(o).ok()),
        )),
    }
}

pub use error::{ApiError, ApiResult};
