//! Billing: the plan catalog, checkout through a payments port (Stripe or
//! the built-in simulator), idempotent and order-safe Stripe webhooks, the dunning
//! policy, the service profile every function obeys, and entitlement checks.

pub mod catalog;
pub mod dunning;
pub mod emails;
pub mod entitlements;
pub mod keys;
pub mod money;
pub mod org_data;
pub mod service;
pub mod service_profile;
pub mod settings;
pub mod simulator;
pub mod subscription;
pub mod webhook;

use skiff_core::ports::payments::PaymentsError;
use skiff_core::ports::queue::QueueError;
use skiff_core::ports::secrets::{Generate, SecretName, SecretValue, SecretsError};
use skiff_core::ports::store::StoreError;
use skiff_core::services::Services;
use skiff_core::validation::FieldError;

/// Why a billing operation failed. The billing function maps each to its HTTP
/// answer; jobs and hooks log or retry it.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("{0}")]
    NotFound(String),
    /// The caller may not do this (a role or account rule).
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    /// The org's plan does not include this; `extra` says what it has and where to
    /// upgrade.
    #[error("{detail}")]
    NotInPlan {
        code: &'static str,
        detail: String,
        extra: serde_json::Map<String, serde_json::Value>,
    },
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// The input breaks these rules.
    #[error("invalid input: {}", .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// A dependency (payments, secrets) is missing or down; retrying later may work.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an inconsistency; logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
    #[error(transparent)]
    Payments(#[from] PaymentsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Licensing(#[from] skiff_licensing::LicensingError),
}

pub type BillingResult<T> = Result<T, BillingError>;

impl BillingError {
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::NotFound(detail.into())
    }
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            detail: detail.into(),
        }
    }
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
        }
    }
    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self::Invalid(errors)
    }
    pub fn invalid_field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, code, message)])
    }
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }
}

/// The secrets billing reads (the wiring crate lists every domain's).
pub const SECRETS: &[SecretName] = &[STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET];

/// Billing's periodic jobs: lapse what passed its grace period or its trial.
pub fn register_jobs(jobs: &mut skiff_core::scheduler::Jobs) {
    use skiff_core::scheduler::Job;
    jobs.register(Job::new("billing_grace_expiry", |s| {
        Box::pin(service::run_deadlines(s, service::Deadline::Grace))
    }));
    jobs.register(Job::new("billing_trial_expiry", |s| {
        Box::pin(service::run_deadlines(s, service::Deadline::Trial))
    }));
}

/// Billing's settings, wired in at startup.
pub fn settings(services: &Services) -> &settings::BillingSettings {
    services.settings.get()
}
use settings::PaymentsMode;
use skiff_core::ports::payments::{Payments, PaymentsConnector};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Stripe's secret API key (`sk_live_…`); configured by an operator, never generated.
pub const STRIPE_SECRET_KEY: SecretName = SecretName {
    name: "stripe_secret_key",
    generate: Generate::Never,
};

/// The Stripe webhook endpoint's signing secret(s) (`whsec_…`; several separated by
/// commas while one is rolled); configured, never generated.
pub const STRIPE_WEBHOOK_SECRET: SecretName = SecretName {
    name: "stripe_webhook_secret",
    generate: Generate::Never,
};

/// The payment simulator's webhook signing secret: derived from the deployment's
/// generated blob URL key (HMAC with a fixed label), so the simulator needs no
/// secret of its own on either backend and the value never leaves the process.
pub async fn simulator_webhook_secret(s: &Services) -> BillingResult<String> {
    use hmac::Mac;
    let key = s
        .secrets
        .get(skiff_core::ports::secrets::BLOB_URL_KEY)
        .await?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.expose().as_bytes())
        .expect("HMAC takes any key");
    mac.update(b"skiff payment simulator webhook secret v1");
    Ok(format!(
        "whsec_sim_{}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// How long webhook secrets are cached (a rotation is picked up within this).
const SECRET_CACHE: Duration = Duration::from_secs(60);

/// Per-process billing state: the payments adapter (built on first use, so a Lambda
/// init does no secret fetch, and rebuilt when the Stripe key it was built with
/// changes) and the cached webhook secrets.
#[derive(Default)]
pub struct Runtime {
    payments: Mutex<Option<Built>>,
    secrets: Mutex<Option<(Instant, Vec<String>)>>,
}

/// A payments adapter and the Stripe key it holds (none for the simulator).
struct Built {
    key: Option<SecretValue>,
    adapter: Arc<dyn Payments>,
}

impl Runtime {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The configured payments adapter. With Stripe the key is looked up on every
    /// call (the secrets adapter caches it), so a key set or rotated after startup
    /// is used as soon as the secrets adapter sees it.
    pub async fn payments(&self, s: &Services) -> BillingResult<Arc<dyn Payments>> {
        let key = match crate::settings(s).payments {
            PaymentsMode::Simulator => None,
            PaymentsMode::Stripe => Some(
                s.secrets
                    .get(STRIPE_SECRET_KEY)
                    .await
                    .map_err(not_configured)?,
            ),
        };
        let mut built = self.payments.lock().expect("not poisoned");
        if let Some(b) = built.as_ref()
            && same_key(b.key.as_ref(), key.as_ref())
        {
            return Ok(b.adapter.clone());
        }
        let adapter: Arc<dyn Payments> = match &key {
            None => Arc::new(simulator::Simulator::new(s.clone())),
            Some(key) => {
                (s.settings.get::<PaymentsConnector>().0)(&settings(s).stripe_api_base, key.clone())
            }
        };
        if built.is_some() {
            tracing::info!("the Stripe key changed; payments client rebuilt");
        }
        *built = Some(Built {
            key,
            adapter: adapter.clone(),
        });
        Ok(adapter)
    }

    /// The webhook signing secrets of the configured provider.
    pub async fn webhook_secrets(&self, s: &Services) -> BillingResult<Vec<String>> {
        if let Some((at, cached)) = self.secrets.lock().expect("not poisoned").as_ref()
            && at.elapsed() < SECRET_CACHE
        {
            return Ok(cached.clone());
        }
        let secrets: Vec<String> = match crate::settings(s).payments {
            PaymentsMode::Simulator => vec![simulator_webhook_secret(s).await?],
            PaymentsMode::Stripe => {
                let value = s
                    .secrets
                    .get(STRIPE_WEBHOOK_SECRET)
                    .await
                    .map_err(not_configured)?;
                webhook::split_secrets(value.expose())
                    .into_iter()
                    .map(str::to_owned)
                    .collect()
            }
        };
        *self.secrets.lock().expect("not poisoned") = Some((Instant::now(), secrets.clone()));
        Ok(secrets)
    }

    /// Forget cached secrets (after a rotation in tests or by an operator).
    pub fn forget_secrets(&self) {
        *self.secrets.lock().expect("not poisoned") = None;
    }
}

fn same_key(a: Option<&SecretValue>, b: Option<&SecretValue>) -> bool {
    use subtle::ConstantTimeEq;
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => bool::from(a.expose().as_bytes().ct_eq(b.expose().as_bytes())),
        _ => false,
    }
}

fn not_configured(e: SecretsError) -> BillingError {
    match e {
        SecretsError::Missing(name) => {
            tracing::error!(secret = name, "payments are not configured");
            BillingError::Unavailable(format!(
                "payments are not configured (secret `{name}` is missing)"
            ))
        }
        other => other.into(),
    }
}
