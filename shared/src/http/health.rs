//! Health: `/livez` and `/healthz` (the process answers), `/readyz` (store, blobs and
//! queue answer; 503 naming the failing one), `/version`.

use crate::services::Services;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::time::Duration;

const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

pub fn router() -> axum::Router<Services> {
    axum::Router::new()
        .route("/healthz", get(live))
        .route("/livez", get(live))
        .route("/readyz", get(ready))
        .route("/version", get(version))
}

async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

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

async fn ready(State(s): State<Services>) -> Response {
    let (store, blobs, queue) = tokio::join!(
        probe(s.store.check()),
        probe(s.blobs.check()),
        probe(s.queue.check()),
    );
    let mut checks = serde_json::Map::new();
    let mut failed = vec![];
    for (name, result) in [("store", store), ("blobs", blobs), ("queue", queue)] {
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
