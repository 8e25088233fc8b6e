//! The `memory` function: AutoMem's HTTP contract, per organization, at
//! `/api/v1/memory` + AutoMem's paths (so an AutoMem client works by changing its
//! base URL), the hosting routes `/api/v1/preseed` and `/api/v1/stats`, and the MCP
//! endpoint `/api/v1/mcp/`. Thin: authenticate (AutoMem's three credential places),
//! check the scope and the org's write lock, call `skiff_memory`, answer in
//! AutoMem's shape.

// The MCP tools' schemas are long `json!` literals.
#![recursion_limit = "256"]

pub mod auth;
pub mod error;
pub mod mcp;
pub mod routes;
pub mod sse;

use skiff_core::Services;

skiff_http::endpoints!(
    Services;
    routes::store,
    routes::store_batch,
    routes::by_tag,
    routes::delete_by_tag,
    routes::get_memory,
    routes::update_memory,
    routes::delete_memory,
    routes::associate,
    routes::related,
    routes::recall,
    routes::startup_recall,
    routes::health,
    routes::service_profile,
    routes::reembed,
    routes::create_export,
    routes::export_status,
    routes::export_download,
    routes::preseed,
    routes::stats,
    mcp::post,
    mcp::get,
    mcp::delete,
);

/// This group's part of the OpenAPI document (the event stream is left out: it
/// never ends, so it is described in the README instead).
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}

/// The memory routes (and the MCP endpoint without its trailing slash).
pub fn router() -> axum::Router<Services> {
    use axum::routing::{get, post};
    served()
        .route(
            "/api/v1/mcp",
            post(mcp::post).get(mcp::get).delete(mcp::delete),
        )
        .route("/api/v1/memory/stream", get(sse::stream))
}

/// The function's whole surface, as Lambda runs it.
pub fn app(services: Services) -> axum::Router {
    skiff_http::lambda_app(router(), services)
}
