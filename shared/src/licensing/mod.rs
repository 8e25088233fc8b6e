//! Licensing: license keys, Ed25519-signed license files, activation,
//! validation, and floating seats whose count is exact under any concurrency on
//! both store adapters (see [`seats`]).
//!
//! Billing drives issuance and suspension through [`hooks`]; the `licensing`
//! function's routes call [`service`] with the authenticated principal's org.

pub mod audit;
pub mod config;
pub mod hooks;
pub mod keys;
pub mod lifecycle;
pub mod mail;
pub mod model;
pub mod repo;
pub mod seats;
pub mod service;
pub mod signing;

use crate::services::Services;

/// Most expired sessions one scheduler run ends.
pub const SWEEP_BATCH: usize = 1000;

/// The scheduler's `sweep_expired_seats` job: end sessions whose lease ran out and
/// free their seats (acquires also reclaim them on demand; this keeps counters and
/// session histories tidy when nobody asks).
pub async fn sweep_expired_seats(services: &Services) -> Result<String, String> {
    let ended = seats::sweep_expired(
        services.store.as_ref(),
        services.clock.as_ref(),
        SWEEP_BATCH,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(format!("ended {} expired seat sessions", ended.len()))
}
