//! The Stripe adapter of the payments port: a thin client of Stripe's REST API over
//! reqwest + rustls (form-encoded requests, `Idempotency-Key` on every POST, Stripe's
//! error JSON mapped to [`PaymentsError`], transient failures retried with jittered
//! backoff under the same idempotency key). A thin client rather than async-stripe's
//! 1.0 release candidates: Skiff makes four calls, and the generated crates would
//! add minutes of build time on every machine for types it never reads.

use async_trait::async_trait;
use serde_json::Value;
use skiff_core::ports::payments::{
    CheckoutRequest, CheckoutSession, NewCustomer, Payments, PaymentsError,
};
use skiff_core::ports::secrets::SecretValue;
use std::time::Duration;

pub use skiff_core::ports::payments::STRIPE_API_VERSION as API_VERSION;

/// Attempts per call (first + retries).
const ATTEMPTS: u32 = 3;

/// Stripe's REST API.
pub struct StripePayments {
    http: reqwest::Client,
    base: String,
    key: SecretValue,
    /// First retry delay (doubles, with jitter).
    backoff: Duration,
}

impl StripePayments {
    /// `base` is `https://api.stripe.com` (or a fixture server in tests).
    pub fn new(base: impl Into<String>, key: SecretValue) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .connect_timeout(Duration::from_secs(5))
                .build()
                .expect("HTTP client builds"),
            base: base.into().trim_end_matches('/').to_owned(),
            key,
            backoff: Duration::from_millis(500),
        }
    }

    /// Shorter retry delays (tests).
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    async fn post(
        &self,
        path: &str,
        form: &[(String, String)],
        idempotency_key: Option<&str>,
    ) -> Result<Value, PaymentsError> {
        debug_assert!(
            idempotency_key.is_some(),
            "every POST carries an idempotency key"
        );
        let url = format!("{}{path}", self.base);
        let mut last = PaymentsError::Unavailable("no attempt made".into());
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                let base = self.backoff.as_millis() as u64 * (1 << (attempt - 1));
                let jitter = rand::random::<u64>() % (base / 2 + 1);
                tokio::time::sleep(Duration::from_millis(base / 2 + jitter)).await;
            }
            let mut req = self
                .http
                .post(&url)
                .bearer_auth(self.key.expose())
                .header("Stripe-Version", API_VERSION)
                .form(form);
            if let Some(key) = idempotency_key {
                req = req.header("Idempotency-Key", key);
            }
            let response = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(attempt, error = %e, path, "Stripe request failed");
                    last = PaymentsError::Unavailable(format!("{path}: {e}"));
                    continue;
                }
            };
            let status = response.status().as_u16();
            let should_retry = response
                .headers()
                .get("stripe-should-retry")
                .and_then(|v| v.to_str().ok())
                .map(|v| v == "true");
            let body: Value = match response.json().await {
                Ok(v) => v,
                Err(e) if status >= 500 => {
                    last = PaymentsError::Unavailable(format!("{path}: HTTP {status}: {e}"));
                    continue;
                }
                Err(e) => {
                    return Err(PaymentsError::Fatal(format!(
                        "{path}: HTTP {status} with an unreadable body: {e}"
                    )));
                }
            };
            if (200..300).contains(&status) {
                return Ok(body);
            }
            let error = map_error(status, &body);
            let retry = should_retry.unwrap_or(matches!(status, 409 | 429) || status >= 500);
            if retry && matches!(error, PaymentsError::Unavailable(_)) {
                tracing::warn!(attempt, status, path, "Stripe answered a transient error");
                last = error;
                continue;
            }
            return Err(error);
        }
        Err(last)
    }
}

/// Stripe's `{"error": {type, code, message, param}}` → the port's error.
fn map_error(status: u16, body: &Value) -> PaymentsError {
    let e = &body["error"];
    let kind = e["type"].as_str().unwrap_or("unknown").to_owned();
    let code = e["code"].as_str().map(str::to_owned);
    let message = e["message"]
        .as_str()
        .unwrap_or("no message")
        .chars()
        .take(500)
        .collect::<String>();
    match status {
        401 | 403 => PaymentsError::Authentication(message),
        404 => PaymentsError::NotFound(message),
        409 if kind == "idempotency_error" => PaymentsError::Rejected {
            status,
            kind,
            code,
            message,
        },
        409 | 429 => PaymentsError::Unavailable(format!("HTTP {status} {kind}: {message}")),
        s if s >= 500 => PaymentsError::Unavailable(format!("HTTP {status} {kind}: {message}")),
        _ => PaymentsError::Rejected {
            status,
            kind,
            code,
            message,
        },
    }
}

fn id_of(body: &Value, what: &str) -> Result<String, PaymentsError> {
    body["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| PaymentsError::Fatal(format!("{what} answer without an id")))
}

fn kv(k: &str, v: impl ToString) -> (String, String) {
    (k.to_owned(), v.to_string())
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
        let mut form = vec![kv("email", &c.email), kv("metadata[org_id]", &c.org_id)];
        if let Some(name) = &c.name {
            form.push(kv("name", name));
        }
        let body = self
            .post("/v1/customers", &form, Some(idempotency_key))
            .await?;
        id_of(&body, "customer")
    }

    async fn create_checkout_session(
        &self,
        r: &CheckoutRequest,
        idempotency_key: &str,
    ) -> Result<CheckoutSession, PaymentsError> {
        let mut form = vec![
            kv("mode", "subscription"),
            kv("customer", &r.customer_id),
            kv("client_reference_id", &r.org_id),
            kv("line_items[0][price]", &r.price_id),
            kv("line_items[0][quantity]", 1),
            kv("success_url", &r.success_url),
            kv("cancel_url", &r.cancel_url),
            kv("metadata[org_id]", &r.org_id),
            kv("metadata[plan_id]", &r.plan_id),
            kv("metadata[trial_days]", r.trial_days),
            kv("subscription_data[metadata][org_id]", &r.org_id),
            kv("subscription_data[metadata][plan_id]", &r.plan_id),
        ];
        if r.trial_days > 0 {
            form.push(kv("subscription_data[trial_period_days]", r.trial_days));
        }
        let body = self
            .post("/v1/checkout/sessions", &form, Some(idempotency_key))
            .await?;
        Ok(CheckoutSession {
            id: id_of(&body, "checkout session")?,
            url: body["url"]
                .as_str()
                .ok_or_else(|| PaymentsError::Fatal("checkout session without a url".into()))?
                .to_owned(),
        })
    }

    async fn cancel_at_period_end(
        &self,
        subscription_id: &str,
        idempotency_key: &str,
    ) -> Result<(), PaymentsError> {
        if subscription_id.is_empty() || subscription_id.contains(['/', '?', '#']) {
            return Err(PaymentsError::Fatal(format!(
                "`{subscription_id}` is not a subscription id"
            )));
        }
        self.post(
            &format!("/v1/subscriptions/{subscription_id}"),
            &[kv("cancel_at_period_end", "true")],
            Some(idempotency_key),
        )
        .await
        .map(|_| ())
    }

    async fn portal_url(
        &self,
        customer_id: &str,
        return_url: &str,
    ) -> Result<String, PaymentsError> {
        let body = self
            .post(
                "/v1/billing_portal/sessions",
                &[kv("customer", customer_id), kv("return_url", return_url)],
                Some(&format!("skiff-portal-{}", uuid::Uuid::new_v4())),
            )
            .await?;
        body["url"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| PaymentsError::Fatal("portal session without a url".into()))
    }
}
