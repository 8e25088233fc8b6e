//! The Stripe adapter of the payments port, on async-stripe: its generated request
//! types build and form-encode the four calls Skiff makes, and its hyper + rustls
//! client sends them with the pinned `Stripe-Version`, so Skiff keeps no hand-written
//! Stripe wire format. What stays here is the port's contract: the caller's
//! idempotency key on every POST, transient failures retried with jittered backoff
//! under that same key, and Stripe's error JSON mapped to [`PaymentsError`].
//!
//! async-stripe's own retrying strategies draw a fresh idempotency key of their own,
//! so each attempt is sent once with `RequestStrategy::Idempotent(key)` and the retry
//! loop is Skiff's. Answers are read into the few fields Skiff uses rather than
//! async-stripe's full resource types, which need every field of the pinned API
//! version.

use async_trait::async_trait;
use skiff_core::ids::SubscriptionId;
use skiff_core::ports::payments::{
    CheckoutRequest, CheckoutSession, NewCustomer, Payments, PaymentsError,
};
use skiff_core::ports::secrets::SecretValue;
use std::collections::HashMap;
use std::time::Duration;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::subscription::UpdateSubscription;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
};
use stripe_core::customer::CreateCustomer;

pub use skiff_core::ports::payments::STRIPE_API_VERSION as API_VERSION;

/// Attempts per call (first + retries).
const ATTEMPTS: u32 = 3;

/// Per-attempt timeout (connect, request and reading the answer).
const TIMEOUT: Duration = Duration::from_secs(20);

/// async-stripe's message when an error status came with a body that is not
/// Stripe's error JSON (e.g. a proxy's HTML page); the status is not kept.
const UNREADABLE_ERROR_BODY: &str = "error deserializing Stripe error";

/// Stripe's REST API.
pub struct StripePayments {
    client: Result<Client, String>,
    /// First retry delay (doubles, with jitter).
    backoff: Duration,
}

/// The fields Skiff reads from a created object.
#[derive(miniserde::Deserialize)]
struct Created {
    id: Option<String>,
    url: Option<String>,
}

impl StripePayments {
    /// `base` is `https://api.stripe.com` (or a fixture server in tests).
    pub fn new(base: impl Into<String>, key: SecretValue) -> Self {
        // The connector takes rustls' process-wide provider; Skiff's is aws-lc-rs.
        // An error means one is already installed.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let base = format!("{}/", base.into().trim_end_matches('/'));
        let client = ClientBuilder::new(key.expose())
            .url(base)
            .timeout(TIMEOUT)
            .request_strategy(RequestStrategy::Once)
            .build()
            .map_err(|e| e.to_string());
        Self {
            client,
            backoff: Duration::from_millis(500),
        }
    }

    /// Shorter retry delays (tests).
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// POST `request` under `idempotency_key`, retrying transient failures.
    async fn post(
        &self,
        what: &str,
        request: &impl StripeRequest,
        idempotency_key: &str,
    ) -> Result<Created, PaymentsError> {
        let client = self
            .client
            .as_ref()
            .map_err(|e| PaymentsError::Fatal(format!("Stripe client: {e}")))?;
        let key = IdempotencyKey::new(idempotency_key)
            .map_err(|e| PaymentsError::Fatal(format!("{what}: {e}")))?;
        let mut last = PaymentsError::Unavailable("no attempt made".into());
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                let base = self.backoff.as_millis() as u64 * (1 << (attempt - 1));
                let jitter = rand::random::<u64>() % (base / 2 + 1);
                tokio::time::sleep(Duration::from_millis(base / 2 + jitter)).await;
            }
            let sent = request
                .build()
                .customize::<Created>()
                .request_strategy(RequestStrategy::Idempotent(key.clone()))
                .send(client)
                .await;
            match sent {
                Ok(created) => return Ok(created),
                Err(e) => {
                    let (error, retry) = map_error(what, e);
                    if !retry {
                        return Err(error);
                    }
                    tracing::warn!(attempt, error = %error, what, "Stripe request failed");
                    last = error;
                }
            }
        }
        Err(last)
    }
}

/// async-stripe's error → the port's error, and whether to retry it under the same
/// key: network failures, timeouts, 429 and 5xx. async-stripe does not surface the
/// `Stripe-Should-Retry` header, so a 409 is not retried here (it is still
/// `Unavailable`, for the caller to retry later with the same key).
fn map_error(what: &str, e: StripeError) -> (PaymentsError, bool) {
    match e {
        StripeError::Stripe(e, status) => {
            let kind = e.type_.as_str().to_owned();
            let code = e.code.as_ref().map(|c| c.as_str().to_owned());
            let message = e
                .message
                .as_deref()
                .unwrap_or("no message")
                .chars()
                .take(500)
                .collect::<String>();
            let unavailable =
                || PaymentsError::Unavailable(format!("HTTP {status} {kind}: {message}"));
            match status {
                401 | 403 => (PaymentsError::Authentication(message), false),
                404 => (PaymentsError::NotFound(message), false),
                409 if kind == "idempotency_error" => (
                    PaymentsError::Rejected {
                        status,
                        kind,
                        code,
                        message,
                    },
                    false,
                ),
                409 => (unavailable(), false),
                429 => (unavailable(), true),
                s if s >= 500 => (unavailable(), true),
                _ => (
                    PaymentsError::Rejected {
                        status,
                        kind,
                        code,
                        message,
                    },
                    false,
                ),
            }
        }
        StripeError::ClientError(e) => (PaymentsError::Unavailable(format!("{what}: {e}")), true),
        StripeError::Timeout => (
            PaymentsError::Unavailable(format!("{what}: timed out after {TIMEOUT:?}")),
            true,
        ),
        StripeError::JSONDeserialize(e) if e == UNREADABLE_ERROR_BODY => (
            PaymentsError::Unavailable(format!("{what}: an error status with an unreadable body")),
            true,
        ),
        StripeError::JSONDeserialize(e) => (
            PaymentsError::Fatal(format!("{what}: unreadable answer: {e}")),
            false,
        ),
        StripeError::ConfigError(e) => (PaymentsError::Fatal(format!("{what}: {e}")), false),
    }
}

fn id_of(created: &Created, what: &str) -> Result<String, PaymentsError> {
    created
        .id
        .clone()
        .ok_or_else(|| PaymentsError::Fatal(format!("{what} answer without an id")))
}

fn metadata(pairs: &[(&str, String)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[async_trait]
impl Payments for StripePayments {
    fn name(&self) -> &'static str {
        "stripe"
    }

    async fn create_customer(
        &self,
        c: &NewCustomer,
        idempotency_key: &str,
    ) -> Result<String, PaymentsError> {
        let mut request = CreateCustomer::new()
            .email(&c.email)
            .metadata(metadata(&[("org_id", c.org_id.to_string())]));
        if let Some(name) = &c.name {
            request = request.name(name);
        }
        let created = self.post("customer", &request, idempotency_key).await?;
        id_of(&created, "customer")
    }

    async fn create_checkout_session(
        &self,
        r: &CheckoutRequest,
        idempotency_key: &str,
    ) -> Result<CheckoutSession, PaymentsError> {
        let mut line_item = CreateCheckoutSessionLineItems::new();
        line_item.price = Some(r.price_id.clone());
        line_item.quantity = Some(1);
        let mut subscription = CreateCheckoutSessionSubscriptionData::new();
        subscription.metadata = Some(metadata(&[
            ("org_id", r.org_id.to_string()),
            ("plan_id", r.plan_id.clone()),
        ]));
        if r.trial_days > 0 {
            subscription.trial_period_days = Some(r.trial_days);
        }
        let request = CreateCheckoutSession::new()
            .mode(stripe_checkout::CheckoutSessionMode::Subscription)
            .customer(&r.customer_id)
            .client_reference_id(r.org_id.as_str())
            .line_items(vec![line_item])
            .success_url(&r.success_url)
            .cancel_url(&r.cancel_url)
            .metadata(metadata(&[
                ("org_id", r.org_id.to_string()),
                ("plan_id", r.plan_id.clone()),
                ("trial_days", r.trial_days.to_string()),
            ]))
            .subscription_data(subscription);
        let created = self
            .post("checkout session", &request, idempotency_key)
            .await?;
        Ok(CheckoutSession {
            id: id_of(&created, "checkout session")?,
            url: created
                .url
                .ok_or_else(|| PaymentsError::Fatal("checkout session without a url".into()))?,
        })
    }

    async fn cancel_at_period_end(
        &self,
        subscription_id: &SubscriptionId,
        idempotency_key: &str,
    ) -> Result<(), PaymentsError> {
        // The id becomes a path segment unescaped: its type admits no `/`, `?` or `#`.
        let request = UpdateSubscription::new(subscription_id.as_str()).cancel_at_period_end(true);
        self.post("subscription", &request, idempotency_key)
            .await
            .map(|_| ())
    }

    async fn portal_url(
        &self,
        customer_id: &str,
        return_url: &str,
    ) -> Result<String, PaymentsError> {
        let request = CreateBillingPortalSession::new()
            .customer(customer_id)
            .return_url(return_url);
        let created = self
            .post(
                "billing portal session",
                &request,
                &format!("skiff-portal-{}", uuid::Uuid::new_v4()),
            )
            .await?;
        created
            .url
            .ok_or_else(|| PaymentsError::Fatal("portal session without a url".into()))
    }
}
