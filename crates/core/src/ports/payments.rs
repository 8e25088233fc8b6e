//! The payments port: the few Stripe operations Skiff performs. Two adapters:
//! Stripe's API (`skiff_adapters::stripe`) and the built-in payment simulator
//! (billing's, dev only). Everything else about a payment arrives by webhook.

use crate::ids::{OrgId, SubscriptionId};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The Stripe API version async-stripe pins and sends as `Stripe-Version` on every
/// request (it cannot be overridden per client). The simulator stamps it on its
/// events; billing's webhook interpretation still reads the shapes of older
/// versions, since Stripe renders events in the version the endpoint is set to.
pub const STRIPE_API_VERSION: &str = "2026-09-30.endive";

/// A customer to create for an org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCustomer {
    pub org_id: OrgId,
    pub email: String,
    pub name: Option<String>,
}

/// A subscription-mode Checkout Session to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutRequest {
    pub org_id: OrgId,
    pub plan_id: String,
    /// Stripe price id (the simulator accepts any).
    pub price_id: String,
    pub customer_id: String,
    pub success_url: String,
    pub cancel_url: String,
    /// 0 = no trial.
    pub trial_days: u32,
}

/// A created session: where to send the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    pub url: String,
}

/// What the payment provider answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentsError {
    /// The provider refused the request (invalid parameters, card declined...).
    #[error("payment provider refused the request ({kind}{}): {message}", code.as_deref().map(|c| format!(", {c}")).unwrap_or_default())]
    Rejected {
        status: u16,
        kind: String,
        code: Option<String>,
        message: String,
    },
    /// The API key is wrong or lacks permission: an operator must act.
    #[error("payment provider authentication failed: {0}")]
    Authentication(String),
    #[error("payment provider object not found: {0}")]
    NotFound(String),
    /// Still throttled, unreachable or failing after the adapter's retries.
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
    /// Not configured, or an answer we cannot understand.
    #[error("payments failure: {0}")]
    Fatal(String),
}

/// The payment provider.
#[async_trait]
pub trait Payments: Send + Sync + 'static {
    /// `stripe` or `simulator`.
    fn name(&self) -> &'static str;

    /// Create a customer; the same `idempotency_key` returns the same customer.
    async fn create_customer(
        &self,
        customer: &NewCustomer,
        idempotency_key: &str,
    ) -> Result<String, PaymentsError>;

    /// Create a subscription-mode Checkout Session with `client_reference_id = org_id`,
    /// metadata `{org_id, plan_id, trial_days}` on the session and the subscription.
    async fn create_checkout_session(
        &self,
        request: &CheckoutRequest,
        idempotency_key: &str,
    ) -> Result<CheckoutSession, PaymentsError>;

    /// Cancel at the end of the current period.
    async fn cancel_at_period_end(
        &self,
        subscription_id: &SubscriptionId,
        idempotency_key: &str,
    ) -> Result<(), PaymentsError>;

    /// A billing-portal URL for the customer.
    async fn portal_url(
        &self,
        customer_id: &str,
        return_url: &str,
    ) -> Result<String, PaymentsError>;
}

/// Builds a payments adapter from the provider's API base and key.
pub type ConnectFn =
    dyn Fn(&str, crate::ports::secrets::SecretValue) -> std::sync::Arc<dyn Payments> + Send + Sync;

/// Builds the production payments adapter from the provider's API base and key.
/// The wiring crate provides it (in the services' settings), so billing, which
/// decides when a client is (re)built, never names an adapter.
#[derive(Clone)]
pub struct PaymentsConnector(pub std::sync::Arc<ConnectFn>);
