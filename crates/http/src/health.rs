//! Health: `/livez` and `/healthz` (the process answers), `/readyz` (store, blobs,
//! queue and vector index answer; 503 naming the failing one), `/version`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use skiff_core::services::Services;
use std::time::Duration;

const CHECK_TIMEOUT: Duration = Duration::from_secs(3);
const TAG: &str = "health";

/// The paths [`router`] serves, all `GET`; the template routes them to one function.
pub const PATHS: [&str; 4] = ["/healthz", "/livez", "/readyz", "/version"];

crate::endpoints!(Services; healthz, livez, readyz, version);

/// The health routes; every HTTP surface (each Lambda, the local server) mounts them.
pub fn router() -> axum::Router<Services> {
    served()
}

/// The health routes' part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}

fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The process answers.
#[utoipa::path(get, path = "/healthz", tag = TAG, responses((status = 200, description = "`{\"status\": \"ok\"}`")))]
async fn healthz() -> Json<Value> {
    live()
}

/// The process answers (the Kubernetes-style name of `/healthz`).
#[utoipa::path(get, path = "/livez", tag = TAG, responses((status = 200, description = "`{\"status\": \"ok\"}`")))]
async fn livez() -> Json<Value> {
    live()
}

/// Name, version and commit of the running build.
#[utoipa::path(get, path = "/version", tag = TAG, responses((status = 200, description = "`{name, version, commit}`")))]
async fn version() -> Json<Value> {
    Json(json!({
        "name": "skiff",
        "version": env!("CARGO_PKG_VERSION"),
        "commit": option_env!("SKIFF_GIT_SHA").unwrap_or("unknown"),
    }))
}

async fn probe<E: std::fmt::Display>(
    f: impl std::future::Future<Output = Result<(), E>>,
) -> Result<(), String> {
    match tokio::time::timeout(CHECK_TIMEOUT, f).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
    }
}

/// The store, the blob bucket, the queue and the vector index answer (each probed
/// with its cheapest read: DescribeTable, HeadBucket, GetQueueAttributes,
/// GetVectorBucket on AWS).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = TAG,
    responses(
        (status = 200, description = "`{status: \"ready\", checks}`"),
        (status = 503, description = "NOT_READY: `checks` and `failed` name the failing dependencies", body = crate::openapi::ProblemDetails)
    )
)]
async fn readyz(State(s): State<Services>) -> Response {
    let (store, blobs, queue, vectors) = tokio::join!(
        probe(s.store.check()),
        probe(s.blobs.check()),
        probe(s.queue.check()),
        probe(s.vectors.check()),
    );
    let mut checks = serde_json::Map::new();
    let mut failed = vec![];
    for (name, result) in [
        ("store", store),
        ("blobs", blobs),
        ("queue", queue),
        ("vectors", vectors),
    ] {
        match result {
            Ok(()) => {
                checks.insert(name.into(), json!({ "status": "ok" }));
            }
            Err(e) => {
                tracing::warn!(check = name, error = %e, "readiness check failed");
                failed.push(name);
                checks.insert(name.into(), json!({ "status": "failed" }));
            }
        }
    }
    if failed.is_empty() {
        (
            StatusCode::OK,
            Json(json!({ "status": "ready", "checks": checks })),
        )
            .into_response()
    } else {
        let mut extra = serde_json::Map::new();
        extra.insert("checks".into(), Value::Object(checks));
        extra.insert("failed".into(), json!(failed));
        crate::error::problem_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "NOT_READY",
            &format!("not ready: {} failed", failed.join(", ")),
            extra,
        )
    }
}
