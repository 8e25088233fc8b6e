//! Dev-only routes of the local server (never mounted with `SKIFF_ENV=prod`): the
//! mailbox, running the scheduler's jobs now, and — with
//! `SKIFF_DEV_CLOCK=true` — moving the clock.

use axum::Json;
use axum::extract::State;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use skiff_adapters::dev_mailbox::DevMailbox;
use skiff_core::clock::{Clock, OffsetClock};
use skiff_core::config::Config;
use skiff_core::services::Services;
use skiff_http::error::ApiError;
use std::sync::Arc;
use std::time::Duration;

pub fn router(config: &Config, mailbox: Arc<DevMailbox>, clock: Arc<OffsetClock>) -> axum::Router {
    let mut router = axum::Router::new().merge(crate::dev_mailbox::router(mailbox));
    if config.dev_clock {
        router = router.merge(
            axum::Router::new()
                .route("/_dev/clock", get(now))
                .route("/_dev/clock/advance", post(advance))
                .with_state(clock),
        );
    }
    router
}

#[derive(Deserialize)]
struct Advance {
    seconds: u64,
}

async fn now(State(clock): State<Arc<OffsetClock>>) -> Json<Value> {
    Json(json!({ "now": clock.unix(), "offset_seconds": clock.offset().whole_seconds() }))
}

async fn advance(
    State(clock): State<Arc<OffsetClock>>,
    Json(body): Json<Advance>,
) -> Result<Json<Value>, ApiError> {
    if body.seconds > 10 * 365 * 24 * 3600 {
        return Err(ApiError::invalid_field(
            "seconds",
            "TOO_LARGE",
            "at most ten years",
        ));
    }
    clock.advance(Duration::from_secs(body.seconds));
    tracing::warn!(seconds = body.seconds, "dev clock advanced");
    Ok(Json(
        json!({ "now": clock.unix(), "offset_seconds": clock.offset().whole_seconds() }),
    ))
}

/// Dev routes that need the services: `POST /_dev/scheduler/run` runs every job of
/// [`Jobs::standard`] (or those named in `{"jobs": [...]}`) now and returns the
/// reports, so a person or a test need not wait for the scheduler's interval.
pub fn services_router() -> axum::Router<Services> {
    axum::Router::new().route("/_dev/scheduler/run", post(run_jobs))
}

#[derive(Deserialize, Default)]
struct RunJobs {
    #[serde(default)]
    jobs: Vec<String>,
}

async fn run_jobs(State(services): State<Services>, body: Option<Json<RunJobs>>) -> Json<Value> {
    let only = body.map(|Json(b)| b.jobs).unwrap_or_default();
    tracing::warn!(?only, "dev: running scheduler jobs now");
    let reports = skiff_app::jobs().run(&services, &only).await;
    Json(json!({ "reports": reports }))
}
