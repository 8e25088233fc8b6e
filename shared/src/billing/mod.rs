//! Billing: the plan catalog, checkout through a payments port (Stripe or
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
use crate::ports::secrets::{Generate, SecretName, SecretValue, SecretsError};
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
    pub async fn payments(&self, s: &Services) -> ApiResult<Arc<dyn Payments>> {
        let key = match s.config.billing.payments {
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
            Some(key) => Arc::new(stripe::StripePayments::new(
                s.config.billing.stripe_api_base.clone(),
                key.clone(),
            )),
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

fn same_key(a: Option<&SecretValue>, b: Option<&SecretValue>) -> bool {
    use subtle::ConstantTimeEq;
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => bool::from(a.expose().as_bytes().ct_eq(b.expose().as_bytes())),
        _ => false,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::ports::secrets::SecretValue;

    async fn stripe_services(dir: &std::path::Path) -> Services {
        let config = Config::from_vars([
            ("SKIFF_DATA_DIR".to_owned(), dir.display().to_string()),
            ("SKIFF_PAYMENTS".to_owned(), "stripe".to_owned()),
        ])
        .unwrap();
        Services::embedded(config, Arc::new(crate::clock::SystemClock))
            .await
            .unwrap()
            .services
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_payments_client_follows_the_stripe_key() {
        let dir = tempfile::tempdir().unwrap();
        let s = stripe_services(dir.path()).await;
        let rt = Runtime::new();

        // Not configured yet: 503, and nothing is remembered of it.
        let err = rt.payments(&s).await.err().expect("no key yet");
        assert!(matches!(err, ApiError::Unavailable(_)), "{err:?}");

        s.secrets
            .set(STRIPE_SECRET_KEY, SecretValue::new("sk_test_first"))
            .await
            .unwrap();
        let first = rt.payments(&s).await.unwrap();
        assert_eq!(first.name(), "stripe");
        assert!(
            Arc::ptr_eq(&first, &rt.payments(&s).await.unwrap()),
            "the same key keeps the client"
        );

        s.secrets
            .set(STRIPE_SECRET_KEY, SecretValue::new("sk_test_rotated"))
            .await
            .unwrap();
        let rotated = rt.payments(&s).await.unwrap();
        assert!(!Arc::ptr_eq(&first, &rotated), "a new key, a new client");
        assert!(Arc::ptr_eq(&rotated, &rt.payments(&s).await.unwrap()));
    }
}
