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
pub mod org_data;
pub mod repo;
pub mod seats;
pub mod signing;

use skiff_core::ports::queue::QueueError;
use skiff_core::ports::secrets::{BLOB_URL_KEY, SecretsError};
use skiff_core::ports::store::StoreError;
use skiff_core::services::Services;
use std::sync::Arc;

/// Why a licensing operation failed, for the caller (the licensing function, or
/// billing's hooks) to answer or retry.
#[derive(Debug, thiserror::Error)]
pub enum LicensingError {
    #[error(transparent)]
    Seat(#[from] seats::SeatError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// The secrets licensing reads (the wiring crate lists every domain's).
pub const SECRETS: &[skiff_core::ports::secrets::SecretName] = &[signing::LICENSE_SIGNING_KEY];

/// Licensing's periodic job: end seat sessions whose lease ran out.
pub fn register_jobs(jobs: &mut skiff_core::scheduler::Jobs) {
    jobs.register(skiff_core::scheduler::Job::new(
        "sweep_expired_seats",
        |s| Box::pin(sweep_expired_seats(s)),
    ));
}

/// Licensing's settings, wired in at startup.
pub fn settings(services: &Services) -> &config::LicensingConfig {
    services.settings.get()
}

pub use skiff_core::clock::rfc3339;

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

/// The signer of license files and seat tokens: the configured
/// `license_signing_key`, or before an operator sets one, a seed derived from the
/// deployment's generated secret (see [`signing::derived_seed`]).
pub async fn signer(services: &Services) -> Result<Arc<signing::LicenseSigner>, SecretsError> {
    let secret = match services.secrets.get(signing::LICENSE_SIGNING_KEY).await {
        Ok(value) => value,
        Err(SecretsError::Missing(_)) => {
            signing::derived_seed(&services.secrets.get(BLOB_URL_KEY).await?)
        }
        Err(e) => return Err(e),
    };
    Ok(signing::signer_for(&secret))
}

/// The signed license file of `license` as of now.
pub async fn license_file(
    services: &Services,
    license: &model::License,
) -> Result<String, SecretsError> {
    let signer = signer(services).await?;
    let now = services.clock.unix();
    let ttl = settings(services).file_ttl_secs;
    Ok(signer.sign_file(&signing::LicensePayload {
        format: signing::FORMAT.into(),
        license_id: license.license_id.clone(),
        key: license.key.clone(),
        org_id: license.org_id.clone(),
        plan_id: license.plan_id.clone(),
        tier: license.tier.clone(),
        features: license.features.clone(),
        max_seats: license.max_seats,
        status: license.effective_status(now).as_str().into(),
        issued_at: license.issued_at,
        expires_at: license.expires_at,
        grace_period_ends_at: license.grace_period_ends_at,
        file_issued_at: now,
        file_expires_at: now + ttl,
        file_ttl_secs: ttl,
        kid: String::new(),
    }))
}
