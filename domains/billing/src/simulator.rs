//! The payment simulator: the payments port's adapter when no Stripe account is
//! configured (the embedded default). Its checkout page has "Pay" and "Decline"
//! buttons; they — and dev-only triggers for a renewal, a failed payment, a plan
//! change or a cancellation — send Stripe-format events, signed exactly as Stripe
//! signs them, to the real webhook route over HTTP. So the whole dunning story runs
//! locally through the same code as production.
//!
//! It lives with billing rather than with the adapters because it plays Stripe's
//! part from billing's own plan catalog (prices, intervals). Its pages and triggers
//! are the billing function's; it is enabled only in `dev` (refused with
//! `SKIFF_BACKEND=aws` unless `SKIFF_PAYMENT_SIMULATOR=true`).

use super::webhook;
use crate::{BillingError, BillingResult};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use skiff_core::ids::{OrgId, SubscriptionId};
use skiff_core::ports::payments::STRIPE_API_VERSION as API_VERSION;
use skiff_core::ports::payments::{
    CheckoutRequest, CheckoutSession, NewCustomer, Payments, PaymentsError,
};
use skiff_core::ports::store::{Condition, Key, NewItem, StoreError};
use skiff_core::services::Services;
use std::time::Duration;

/// Base path of the simulator's routes.
pub const BASE: &str = "/api/v1/billing/simulator";

/// The simulated payment provider.
pub struct Simulator {
    services: Services,
    http: reqwest::Client,
}

fn session_key(id: &str) -> Key {
    Key::new(format!("SIM#SESSION#{id}"), "SESSION")
}

fn sub_key(org_id: &OrgId) -> Key {
    Key::new(format!("SIM#ORG#{org_id}"), "SUBSCRIPTION")
}

fn sub_id_key(subscription_id: &SubscriptionId) -> Key {
    Key::new(format!("SIM#SUB#{subscription_id}"), "ORG")
}

fn idem_key(key: &str) -> Key {
    Key::new(format!("SIM#IDEMP#{key}"), "IDEMP")
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_sim_{}", uuid::Uuid::new_v4().simple())
}

fn store_err(e: StoreError) -> PaymentsError {
    PaymentsError::Unavailable(e.to_string())
}

/// A simulated checkout session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimSession {
    pub id: String,
    pub org_id: OrgId,
    pub plan_id: String,
    pub price_id: String,
    pub customer_id: String,
    pub success_url: String,
    pub cancel_url: String,
    pub trial_days: u32,
    pub status: String,
    pub subscription_id: Option<SubscriptionId>,
}

/// A simulated subscription (Stripe's side of it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimSubscription {
    pub id: SubscriptionId,
    pub org_id: OrgId,
    pub customer_id: String,
    pub plan_id: String,
    pub price_id: String,
    pub quantity: i64,
    /// `trialing|active|past_due|canceled`
    pub status: String,
    pub period_start: i64,
    pub period_end: i64,
    pub trial_end: Option<i64>,
    pub cancel_at_period_end: bool,
    pub failed_attempts: u32,
}

/// What one sent event came to.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// HTTP status of the webhook route (0 = unreachable).
    pub status: u16,
}

impl Simulator {
    pub fn new(services: Services) -> Self {
        // reqwest brings no TLS provider of its own; Skiff's is aws-lc-rs (an error
        // means the wiring installed it already).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        Self {
            services,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client builds"),
        }
    }

    fn now(&self) -> i64 {
        self.services.clock.unix()
    }

    /// Run `create` once per idempotency key; later calls return the first id.
    async fn idempotent(
        &self,
        key: &str,
        create: impl AsyncFnOnce() -> Result<String, PaymentsError>,
    ) -> Result<String, PaymentsError> {
        if let Some(item) = self
            .services
            .store
            .get(&idem_key(key))
            .await
            .map_err(store_err)?
            && let Some(id) = item.get_str("result")
        {
            return Ok(id.to_owned());
        }
        let id = create().await?;
        match self
            .services
            .store
            .put(
                NewItem::new(idem_key(key))
                    .attr("result", id.as_str())
                    .expires_at(self.now() + 86_400),
                Some(Condition::Absent),
            )
            .await
        {
            Ok(_) => Ok(id),
            Err(e) if e.is_condition_failed() => {
                let item = self
                    .services
                    .store
                    .get(&idem_key(key))
                    .await
                    .map_err(store_err)?;
                Ok(item
                    .and_then(|i| i.get_str("result").map(str::to_owned))
                    .unwrap_or(id))
            }
            Err(e) => Err(store_err(e)),
        }
    }

    /// Sign an event as Stripe does and POST it to the webhook route.
    pub async fn send_event(&self, kind: &str, object: Value) -> Result<Delivery, BillingError> {
        let now = self.now();
        let event_id = format!("evt_sim_{}", uuid::Uuid::new_v4().simple());
        let event = json!({
            "id": event_id,
            "object": "event",
            "api_version": API_VERSION,
            "created": now,
            "livemode": false,
            "pending_webhooks": 1,
            "request": {"id": null, "idempotency_key": null},
            "type": kind,
            "data": {"object": object},
        });
        let body = serde_json::to_vec(&event).map_err(BillingError::internal)?;
        let secret = super::simulator_webhook_secret(&self.services).await?;
        let header = webhook::signature_header(&[secret.as_str()], now, &body);
        let url = self.services.config.link("/api/v1/billing/webhook");
        let mut status = 0;
        // Stripe retries for days; the simulator retries briefly, then reports.
        for attempt in 0..3 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
            }
            match self
                .http
                .post(&url)
                .header("Stripe-Signature", &header)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
            {
                Ok(r) => {
                    status = r.status().as_u16();
                    if r.status().is_success() {
                        break;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "simulator could not reach the webhook route"),
            }
        }
        tracing::info!(event_id, kind, status, "simulator delivered an event");
        Ok(Delivery {
            event_id,
            kind: kind.to_owned(),
            status,
        })
    }

    pub async fn session(&self, id: &str) -> BillingResult<SimSession> {
        self.services
            .store
            .get(&session_key(id))
            .await?
            .ok_or_else(|| BillingError::not_found("no such checkout session"))?
            .parse()
            .map_err(BillingError::from)
    }

    /// The org's simulated subscription.
    pub async fn subscription(&self, org_id: &OrgId) -> BillingResult<SimSubscription> {
        self.services
            .store
            .get(&sub_key(org_id))
            .await?
            .ok_or_else(|| {
                BillingError::not_found("the organization has no simulated subscription")
            })?
            .parse()
            .map_err(BillingError::from)
    }

    async fn save(&self, sub: &SimSubscription) -> BillingResult<()> {
        self.services
            .store
            .put(NewItem::from_record(sub_key(&sub.org_id), sub)?, None)
            .await?;
        self.services
            .store
            .put(
                NewItem::new(sub_id_key(&sub.id)).attr("org_id", sub.org_id.as_str()),
                None,
            )
            .await?;
        Ok(())
    }

    fn amount(&self, sub: &SimSubscription) -> i64 {
        crate::settings(&self.services)
            .catalog
            .get(&sub.plan_id)
            .map_or(0, |p| p.price.amount)
            * sub.quantity.max(1)
    }

    fn interval(&self, plan_id: &str) -> i64 {
        crate::settings(&self.services)
            .catalog
            .get(plan_id)
            .map_or(30 * 86_400, |p| p.interval.nominal_secs())
    }

    fn subscription_object(sub: &SimSubscription) -> Value {
        json!({
            "id": sub.id,
            "object": "subscription",
            "customer": sub.customer_id,
            "status": sub.status,
            "metadata": {"org_id": sub.org_id, "plan_id": sub.plan_id},
            "cancel_at_period_end": sub.cancel_at_period_end,
            "trial_end": sub.trial_end,
            "items": {"object": "list", "data": [{
                "object": "subscription_item",
                "price": {"id": sub.price_id, "object": "price"},
                "quantity": sub.quantity,
                "current_period_start": sub.period_start,
                "current_period_end": sub.period_end,
            }]},
        })
    }

    fn invoice_object(sub: &SimSubscription, amount: i64, paid: bool, reason: &str) -> Value {
        json!({
            "id": new_id("in"),
            "object": "invoice",
            "customer": sub.customer_id,
            "currency": "usd",
            "amount_due": amount,
            "amount_paid": if paid { amount } else { 0 },
            "attempt_count": sub.failed_attempts.max(1),
            "billing_reason": reason,
            "status": if paid { "paid" } else { "open" },
            "parent": {
                "type": "subscription_details",
                "subscription_details": {
                    "subscription": sub.id,
                    "metadata": {"org_id": sub.org_id, "plan_id": sub.plan_id},
                },
            },
            "lines": {"object": "list", "data": [{
                "object": "line_item",
                "amount": amount,
                "period": {"start": sub.period_start, "end": sub.period_end},
                "pricing": {"price_details": {"price": sub.price_id}},
            }]},
        })
    }

    /// "Pay": complete the session, start the subscription, send
    /// `checkout.session.completed` and the first invoice's `invoice.payment_succeeded`.
    pub async fn pay(&self, session_id: &str) -> BillingResult<(String, Vec<Delivery>)> {
        let mut session = self.session(session_id).await?;
        if session.status != "open" {
            return Err(BillingError::conflict(
                "SESSION_NOT_OPEN",
                format!("this checkout session is {}", session.status),
            ));
        }
        let now = self.now();
        let trial_end =
            (session.trial_days > 0).then(|| now + i64::from(session.trial_days) * 86_400);
        let sub = SimSubscription {
            id: SubscriptionId::parse(&new_id("sub")).expect("a simulated id is well-formed"),
            org_id: session.org_id.clone(),
            customer_id: session.customer_id.clone(),
            plan_id: session.plan_id.clone(),
            price_id: session.price_id.clone(),
            quantity: 1,
            status: if trial_end.is_some() {
                "trialing"
            } else {
                "active"
            }
            .into(),
            period_start: now,
            period_end: trial_end.unwrap_or(now + self.interval(&session.plan_id)),
            trial_end,
            cancel_at_period_end: false,
            failed_attempts: 0,
        };
        self.save(&sub).await?;
        session.status = "complete".into();
        session.subscription_id = Some(sub.id.clone());
        self.services
            .store
            .put(
                NewItem::from_record(session_key(session_id), &session)?,
                None,
            )
            .await?;
        let amount = if trial_end.is_some() {
            0
        } else {
            self.amount(&sub)
        };
        let completed = self
            .send_event(
                "checkout.session.completed",
                json!({
                    "id": session.id,
                    "object": "checkout.session",
                    "mode": "subscription",
                    "status": "complete",
                    "payment_status": if amount == 0 { "no_payment_required" } else { "paid" },
                    "client_reference_id": session.org_id,
                    "customer": session.customer_id,
                    "subscription": sub.id,
                    "amount_total": amount,
                    "currency": "usd",
                    "metadata": {
                        "org_id": session.org_id,
                        "plan_id": session.plan_id,
                        "trial_days": session.trial_days.to_string(),
                    },
                }),
            )
            .await?;
        let invoice = self
            .send_event(
                "invoice.payment_succeeded",
                Self::invoice_object(&sub, amount, true, "subscription_create"),
            )
            .await?;
        let redirect = session
            .success_url
            .replace("{CHECKOUT_SESSION_ID}", &session.id);
        Ok((redirect, vec![completed, invoice]))
    }

    /// "Decline": the card is refused; no subscription. Stripe would leave the session
    /// open until it expires; the simulator expires it at once.
    pub async fn decline(&self, session_id: &str) -> BillingResult<(String, Vec<Delivery>)> {
        let mut session = self.session(session_id).await?;
        if session.status != "open" {
            return Err(BillingError::conflict(
                "SESSION_NOT_OPEN",
                format!("this checkout session is {}", session.status),
            ));
        }
        session.status = "expired".into();
        self.services
            .store
            .put(
                NewItem::from_record(session_key(session_id), &session)?,
                None,
            )
            .await?;
        let expired = self
            .send_event(
                "checkout.session.expired",
                json!({
                    "id": session.id,
                    "object": "checkout.session",
                    "mode": "subscription",
                    "status": "expired",
                    "client_reference_id": session.org_id,
                    "customer": session.customer_id,
                    "metadata": {"org_id": session.org_id, "plan_id": session.plan_id},
                }),
            )
            .await?;
        Ok((session.cancel_url, vec![expired]))
    }

    /// A successful renewal: the next period is paid.
    pub async fn renew(&self, org_id: &OrgId) -> BillingResult<Vec<Delivery>> {
        let mut sub = self.live(org_id).await?;
        let start = sub.period_end.max(self.now().min(sub.period_end));
        sub.period_start = start;
        sub.period_end = start + self.interval(&sub.plan_id);
        sub.status = "active".into();
        sub.trial_end = None;
        sub.failed_attempts = 0;
        self.save(&sub).await?;
        let amount = self.amount(&sub);
        Ok(vec![
            self.send_event(
                "invoice.payment_succeeded",
                Self::invoice_object(&sub, amount, true, "subscription_cycle"),
            )
            .await?,
            self.send_event(
                "customer.subscription.updated",
                Self::subscription_object(&sub),
            )
            .await?,
        ])
    }

    /// A failed renewal charge.
    pub async fn fail(&self, org_id: &OrgId) -> BillingResult<Vec<Delivery>> {
        let mut sub = self.live(org_id).await?;
        sub.status = "past_due".into();
        sub.failed_attempts += 1;
        self.save(&sub).await?;
        let amount = self.amount(&sub);
        Ok(vec![
            self.send_event(
                "invoice.payment_failed",
                Self::invoice_object(&sub, amount, false, "subscription_cycle"),
            )
            .await?,
        ])
    }

    /// Cancel now (as Stripe does after the last retry, or a customer in the portal).
    pub async fn cancel_now(&self, org_id: &OrgId) -> BillingResult<Vec<Delivery>> {
        let mut sub = self.live(org_id).await?;
        sub.status = "canceled".into();
        self.save(&sub).await?;
        Ok(vec![
            self.send_event(
                "customer.subscription.deleted",
                Self::subscription_object(&sub),
            )
            .await?,
        ])
    }

    /// A plan or seat change (as made in the billing portal).
    pub async fn change(
        &self,
        org_id: &OrgId,
        plan_id: Option<&str>,
        quantity: Option<i64>,
    ) -> BillingResult<Vec<Delivery>> {
        let mut sub = self.live(org_id).await?;
        if let Some(plan_id) = plan_id {
            let plan = crate::settings(&self.services)
                .catalog
                .get(plan_id)
                .filter(|p| !p.is_free())
                .ok_or_else(|| BillingError::not_found(format!("no paid plan `{plan_id}`")))?;
            sub.plan_id = plan.id.clone();
            sub.price_id = plan
                .stripe_price_id
                .clone()
                .unwrap_or_else(|| format!("price_sim_{}", plan.id));
        }
        if let Some(q) = quantity {
            if q < 1 {
                return Err(BillingError::invalid_field(
                    "quantity",
                    "TOO_SMALL",
                    "at least 1",
                ));
            }
            sub.quantity = q;
        }
        self.save(&sub).await?;
        let mut object = Self::subscription_object(&sub);
        // A plan change from the portal carries the new price; metadata stays stale.
        object["metadata"]["plan_id"] = Value::Null;
        Ok(vec![
            self.send_event("customer.subscription.updated", object)
                .await?,
        ])
    }

    async fn live(&self, org_id: &OrgId) -> BillingResult<SimSubscription> {
        let sub = self.subscription(org_id).await?;
        if sub.status == "canceled" {
            return Err(BillingError::conflict(
                "SUBSCRIPTION_CANCELED",
                "the simulated subscription is canceled",
            ));
        }
        Ok(sub)
    }
}

#[async_trait]
impl Payments for Simulator {
    fn name(&self) -> &'static str {
        "simulator"
    }

    async fn create_customer(
        &self,
        c: &NewCustomer,
        idempotency_key: &str,
    ) -> Result<String, PaymentsError> {
        self.idempotent(idempotency_key, async || {
            let id = new_id("cus");
            self.services
                .store
                .put(
                    NewItem::new(Key::new(format!("SIM#CUSTOMER#{id}"), "CUSTOMER"))
                        .attr("org_id", c.org_id.as_str())
                        .attr("email", c.email.as_str()),
                    None,
                )
                .await
                .map_err(store_err)?;
            Ok(id)
        })
        .await
    }

    async fn create_checkout_session(
        &self,
        r: &CheckoutRequest,
        idempotency_key: &str,
    ) -> Result<CheckoutSession, PaymentsError> {
        let id = self
            .idempotent(idempotency_key, async || {
                let id = new_id("cs");
                let session = SimSession {
                    id: id.clone(),
                    org_id: r.org_id.clone(),
                    plan_id: r.plan_id.clone(),
                    price_id: r.price_id.clone(),
                    customer_id: r.customer_id.clone(),
                    success_url: r.success_url.clone(),
                    cancel_url: r.cancel_url.clone(),
                    trial_days: r.trial_days,
                    status: "open".into(),
                    subscription_id: None,
                };
                let item = NewItem::from_record(session_key(&id), &session)
                    .map_err(store_err)?
                    .expires_at(self.now() + 86_400);
                self.services
                    .store
                    .put(item, None)
                    .await
                    .map_err(store_err)?;
                Ok(id)
            })
            .await?;
        Ok(CheckoutSession {
            url: self.services.config.link(&format!("{BASE}/checkout/{id}")),
            id,
        })
    }

    async fn cancel_at_period_end(
        &self,
        subscription_id: &SubscriptionId,
        _idempotency_key: &str,
    ) -> Result<(), PaymentsError> {
        let org_id = self
            .services
            .store
            .get(&sub_id_key(subscription_id))
            .await
            .map_err(store_err)?
            .and_then(|i| i.get_str("org_id").and_then(|o| OrgId::parse(o).ok()))
            .ok_or_else(|| PaymentsError::NotFound(format!("subscription {subscription_id}")))?;
        let mut sub = self
            .live(&org_id)
            .await
            .map_err(|e| PaymentsError::Fatal(e.to_string()))?;
        sub.cancel_at_period_end = true;
        self.save(&sub)
            .await
            .map_err(|e| PaymentsError::Fatal(e.to_string()))?;
        // Stripe confirms the change with an event, as here.
        self.send_event(
            "customer.subscription.updated",
            Self::subscription_object(&sub),
        )
        .await
        .map_err(|e| PaymentsError::Unavailable(e.to_string()))?;
        Ok(())
    }

    async fn portal_url(
        &self,
        customer_id: &str,
        _return_url: &str,
    ) -> Result<String, PaymentsError> {
        Ok(self
            .services
            .config
            .link(&format!("{BASE}/portal/{customer_id}")))
    }
}
