//! Billing (issue 4): the plan catalog, checkout through a payments port (Stripe or
//! the built-in simulator), idempotent and order-safe Stripe webhooks, the dunning
//! policy, the service profile every function obeys, and entitlement checks.

pub mod catalog;
pub mod dunning;
pub mod emails;
pub mod entitlements;
pub mod keys;
pub mod money;
pub mod payments;
pub mod service;
pub mod service_profile;
pub mod settings;
pub mod simulator;
pub mod stripe;
pub mod subscription;
pub mod webhook;

use crate::error::{ApiError, ApiResult};
use crate::ports::secrets::{Generate, SecretName, SecretsError};
use crate::services::Services;
use payments::Payments;
use settings::PaymentsMode;
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
pub async fn simulator_webhook_secret(s: &Services) -> ApiResult<String> {
    use hmac::Mac;
    let key = s.secrets.get(crate::ports::secrets::BLOB_URL_KEY).await?;
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
/// init does no secret fetch) and the cached webhook secrets.
#[derive(Default)]
pub struct Runtime {
    payments: tokio::sync::OnceCell<Arc<dyn Payments>>,
    secrets: Mutex<Option<(Instant, Vec<String>)>>,
}

impl Runtime {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The configured payments adapter.
    pub async fn payments(&self, s: &Services) -> ApiResult<Arc<dyn Payments>> {
        self.payments
            .get_or_try_init(|| async {
                let adapter: Arc<dyn Payments> = match s.config.billing.payments {
                    PaymentsMode::Simulator => Arc::new(simulator::Simulator::new(s.clone())),
                    PaymentsMode::Stripe => {
                        let key = s
                            .secrets
                            .get(STRIPE_SECRET_KEY)
                            .await
                            .map_err(not_configured)?;
                        Arc::new(stripe::StripePayments::new(
                            s.config.billing.stripe_api_base.clone(),
                            key,
                        ))
                    }
                };
                Ok::<_, ApiError>(adapter)
            })
            .await
            .cloned()
    }

    /// The webhook signing secrets of the configured provider.
    pub async fn webhook_secrets(&self, s: &Services) -> ApiResult<Vec<String>> {
        if let Some((at, cached)) = self.secrets.lock().expect("not poisoned").as_ref()
            && at.elapsed() < SECRET_CACHE
        {
            return Ok(cached.clone());
        }
        let secrets: Vec<String> = match s.config.billing.payments {
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

fn not_configured(e: SecretsError) -> ApiError {
    match e {
        SecretsError::Missing(name) => {
            tracing::error!(secret = name, "payments are not configured");
            ApiError::Unavailable(format!(
                "payments are not configured (secret `{name}` is missing)"
            ))
        }
        other => other.into(),
    }
}
