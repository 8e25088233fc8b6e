//! Billing's use cases over the ports: checkout, the subscription view, cancellation,
//! the billing portal, webhook processing and the scheduler's deadline jobs.
//!
//! Webhook processing writes state first — the subscription, the derived service
//! profile, the audit entries and (for a checkout) the account, in one transaction
//! conditioned on the subscription's version and on the event not being older than
//! the last applied one — and then runs the effects: licensing (converging licenses
//! to the *current* subscription state, so effects of reordered or retried events
//! cannot undo newer ones) and e-mails (outbox envelopes with ids derived from the
//! event, so a retried delivery never sends one twice).

use super::catalog::Plan;
use super::dunning::{self, Policy};
use super::emails;
use super::keys;
use super::service_profile::ServiceProfile;
use super::subscription::{self, Change, Decision, EventMeta, Notice, Status, Subscription};
use super::webhook::{self, OrgRef, Parsed, StripeEvent};
use crate::{BillingError, BillingResult};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use skiff_core::audit;
use skiff_core::idempotency::{self, Claim};
use skiff_core::metrics::WEBHOOK_EVENTS;
use skiff_core::outbox::{Envelope, Message, SendEmail};
use skiff_core::ports::payments::{CheckoutRequest, CheckoutSession, NewCustomer, Payments};
use skiff_core::ports::store::{
    Change as StoreChange, Cmp, Condition, Item, NewItem, Query, SortKey, StoreError, Write,
};
use skiff_core::services::Services;
use skiff_core::validation::FieldError;
use skiff_identity::{EmailAddress, OrgId, Role, UserId};
use skiff_licensing::hooks::{self, Entitlement};
use std::time::Duration;

/// Idempotency scope of Stripe event ids.
pub const WEBHOOK_SCOPE: &str = "stripe";

/// How long a webhook handler may hold an event before a redelivery may take over.
pub const WEBHOOK_LEASE: Duration = Duration::from_secs(60);

/// Event ids remembered on the subscription to recognise retries of applied events.
const RECENT_EVENTS: usize = 16;

/// Attempts of the optimistic read-decide-write loop.
const WRITE_ATTEMPTS: usize = 8;

/// Who is asking (from the authenticated principal; never from the request body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub org_id: OrgId,
    pub user_id: Option<UserId>,
    pub role: Role,
    pub email: Option<EmailAddress>,
    pub email_verified: bool,
}

impl Caller {
    fn require_billing_admin(&self) -> BillingResult<()> {
        if matches!(self.role, Role::Owner | Role::Admin) {
            Ok(())
        } else {
            Err(BillingError::forbidden(
                "FORBIDDEN",
                "only an owner or admin of the organization manages its billing",
            ))
        }
    }

    fn require_verified(&self) -> BillingResult<()> {
        if self.email_verified {
            Ok(())
        } else {
            Err(BillingError::forbidden(
                "EMAIL_NOT_VERIFIED",
                "verify your e-mail address before subscribing",
            ))
        }
    }
}

/// The org's billing account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub org_id: OrgId,
    pub customer_id: Option<String>,
    pub billing_email: Option<String>,
    #[serde(default)]
    pub trial_used: bool,
    #[serde(default)]
    pub created_at: i64,
}

/// The stored subscription with its processing bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    sub: Subscription,
    /// Ids of recently applied events (a retry of one of them only re-runs effects).
    #[serde(default)]
    recent_events: Vec<String>,
    /// Notices of the last applied event (re-sent, deduplicated, on its retry).
    #[serde(default)]
    last_notices: Vec<Notice>,
    /// Effects of a scheduler transition not yet confirmed done (the next run
    /// retries them; the item stays in the deadline index until then).
    #[serde(default)]
    pending: Option<Pending>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Pending {
    event_id: String,
    notices: Vec<Notice>,
    since: i64,
}

async fn load_subscription(
    s: &Services,
    org_id: &OrgId,
) -> Result<Option<(Stored, Item)>, StoreError> {
    match s.store.get(&keys::subscription(org_id)).await? {
        Some(item) => Ok(Some((item.parse()?, item))),
        None => Ok(None),
    }
}

/// The org's subscription, if it ever had one.
pub async fn subscription_of(
    s: &Services,
    org_id: &OrgId,
) -> Result<Option<Subscription>, StoreError> {
    Ok(load_subscription(s, org_id).await?.map(|(st, _)| st.sub))
}

async fn load_account(s: &Services, org_id: &OrgId) -> Result<Option<(Account, Item)>, StoreError> {
    match s.store.get(&keys::account(org_id)).await? {
        Some(item) => Ok(Some((item.parse()?, item))),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------- checkout

/// `POST /billing/checkout` body.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutBody {
    pub plan_id: String,
    pub success_url: String,
    pub cancel_url: String,
}

/// `{checkout_url, session_id}`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckoutStarted {
    pub checkout_url: String,
    pub session_id: String,
}

/// Start a subscription-mode checkout for the caller's org.
pub async fn checkout(
    s: &Services,
    payments: &dyn Payments,
    caller: &Caller,
    body: &CheckoutBody,
) -> BillingResult<CheckoutStarted> {
    caller.require_billing_admin()?;
    caller.require_verified()?;
    let settings = crate::settings(s);
    let plan = settings
        .catalog
        .get(body.plan_id.trim())
        .ok_or_else(|| BillingError::not_found(format!("no plan `{}`", body.plan_id)))?;
    let mut errors = vec![];
    if plan.is_free() {
        errors.push(FieldError::new(
            "plan_id",
            "FREE_PLAN",
            "the free plan needs no checkout",
        ));
    }
    for (field, url) in [
        ("success_url", &body.success_url),
        ("cancel_url", &body.cancel_url),
    ] {
        if !settings.redirect_allowed(url) {
            errors.push(FieldError::new(
                field,
                "REDIRECT_NOT_ALLOWED",
                format!("{field} must be an http(s) URL on an allowed origin"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(BillingError::validation(errors));
    }
    if let Some(sub) = subscription_of(s, &caller.org_id).await?
        && sub.status != Status::Canceled
    {
        return Err(BillingError::conflict(
            "ALREADY_SUBSCRIBED",
            "the organization already has a subscription; change plans in the billing portal",
        ));
    }
    let (account, customer_id) = ensure_customer(s, payments, caller).await?;
    let trial_days = if account.trial_used {
        0
    } else {
        plan.trial_days
    };
    let price_id = price_id(plan, payments)?;
    let session: CheckoutSession = payments
        .create_checkout_session(
            &CheckoutRequest {
                org_id: caller.org_id.clone(),
                plan_id: plan.id.clone(),
                price_id,
                customer_id,
                success_url: body.success_url.clone(),
                cancel_url: body.cancel_url.clone(),
                trial_days,
            },
            &format!("skiff-checkout-{}", uuid::Uuid::new_v4()),
        )
        .await?;
    tracing::info!(org_id = %caller.org_id, plan = %plan.id, session = %session.id, "checkout started");
    Ok(CheckoutStarted {
        checkout_url: session.url,
        session_id: session.id,
    })
}

fn price_id(plan: &Plan, payments: &dyn Payments) -> BillingResult<String> {
    match (&plan.stripe_price_id, payments.name()) {
        (Some(p), _) => Ok(p.clone()),
        (None, "simulator") => Ok(format!("price_sim_{}", plan.id)),
        (None, _) => {
            tracing::error!(plan = %plan.id, variable = %plan.price_env_var(), "plan has no Stripe price id");
            Err(BillingError::Unavailable(format!(
                "the {} plan cannot be bought yet: its Stripe price is not configured",
                plan.name
            )))
        }
    }
}

/// The org's payment-provider customer, created once.
async fn ensure_customer(
    s: &Services,
    payments: &dyn Payments,
    caller: &Caller,
) -> BillingResult<(Account, String)> {
    let existing = load_account(s, &caller.org_id).await?;
    if let Some((account, _)) = &existing
        && let Some(c) = &account.customer_id
    {
        return Ok((account.clone(), c.clone()));
    }
    let email = caller
        .email
        .as_ref()
        .map(|e| e.as_str().to_owned())
        .or_else(|| existing.as_ref().and_then(|(a, _)| a.billing_email.clone()))
        .ok_or_else(|| BillingError::internal("caller without an e-mail address"))?;
    // One key per org and address: concurrent checkouts create one customer.
    let key = format!(
        "skiff-customer-{}-{}",
        caller.org_id,
        &hex::encode(<sha2::Sha256 as sha2::Digest>::digest(email.as_bytes()))[..16]
    );
    let customer_id = payments
        .create_customer(
            &NewCustomer {
                org_id: caller.org_id.clone(),
                email: email.clone(),
                name: None,
            },
            &key,
        )
        .await?;
    s.store
        .put(
            NewItem::new(keys::customer(&customer_id)).attr("org_id", caller.org_id.as_str()),
            None,
        )
        .await?;
    let now = s.clock.unix();
    let write = s
        .store
        .update(
            &keys::account(&caller.org_id),
            vec![
                StoreChange::set("org_id", caller.org_id.as_str()),
                StoreChange::set("customer_id", customer_id.as_str()),
                StoreChange::set("billing_email", email.as_str()),
                StoreChange::set(
                    "created_at",
                    existing.as_ref().map_or(now, |(a, _)| a.created_at),
                ),
            ],
            Some(Condition::AttrMissing("customer_id".into())),
        )
        .await;
    match write {
        Ok(item) => Ok((item.parse()?, customer_id)),
        Err(e) if e.is_condition_failed() => {
            // Another checkout stored a customer first: use that one.
            let (account, _) = load_account(s, &caller.org_id)
                .await?
                .ok_or_else(|| BillingError::internal("account vanished"))?;
            let c = account
                .customer_id
                .clone()
                .ok_or_else(|| BillingError::internal("account without customer"))?;
            Ok((account, c))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- reads

/// `GET /billing/subscription`.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionView {
    pub plan_id: String,
    pub status: &'static str,
    pub current_period_end: Option<i64>,
    pub trial_end: Option<i64>,
    pub failed_payment_count: u32,
    pub grace_ends_at: Option<i64>,
    pub cancel_at_period_end: bool,
    pub seats: i64,
}

pub async fn subscription_view(s: &Services, org_id: &OrgId) -> BillingResult<SubscriptionView> {
    let catalog = &crate::settings(s).catalog;
    Ok(match subscription_of(s, org_id).await? {
        None => SubscriptionView {
            plan_id: catalog.free().id.clone(),
            status: "none",
            current_period_end: None,
            trial_end: None,
            failed_payment_count: 0,
            grace_ends_at: None,
            cancel_at_period_end: false,
            seats: catalog.free().entitlements.max_seats.0,
        },
        Some(sub) => {
            let plan = catalog.get(&sub.plan_id).unwrap_or_else(|| catalog.free());
            SubscriptionView {
                plan_id: sub.plan_id.clone(),
                status: match sub.status {
                    Status::Trialing => "trialing",
                    Status::Active => "active",
                    Status::PastDue => "past_due",
                    Status::Canceled => "canceled",
                },
                current_period_end: Some(sub.current_period_end),
                trial_end: sub.trial_end,
                failed_payment_count: sub.failed_count,
                grace_ends_at: sub.grace_ends_at,
                cancel_at_period_end: sub.cancel_at_period_end,
                seats: sub.seats(plan),
            }
        }
    })
}

/// One audit entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEntry {
    pub action: String,
    pub at: i64,
    pub event_id: String,
    pub actor: String,
    #[serde(default)]
    pub detail: Value,
}

/// One page of the org's billing audit trail, newest first, and the store position
/// after it.
pub async fn audit_log(
    s: &Services,
    org_id: &OrgId,
    limit: usize,
    position: Option<String>,
) -> BillingResult<(Vec<AuditEntry>, Option<String>)> {
    let page = s
        .store
        .query(
            Query::partition(keys::org_pk(org_id))
                .prefix(keys::AUDIT_PREFIX)
                .descending()
                .limit(limit.clamp(1, 200))
                .after(position),
        )
        .await?;
    let entries = page
        .items
        .iter()
        .map(|i| i.parse().map_err(BillingError::from))
        .collect::<BillingResult<_>>()?;
    Ok((entries, page.next))
}

/// One page of the subscriptions directory (every org's current subscription, in
/// org-id order) and the store position after it.
pub async fn subscriptions_page(
    store: &dyn skiff_core::ports::store::ItemStore,
    limit: usize,
    position: Option<String>,
) -> Result<(Vec<Subscription>, Option<String>), StoreError> {
    let page = store
        .query(
            Query::partition(keys::SUBSCRIPTIONS_PK)
                .limit(limit.max(1))
                .after(position),
        )
        .await?;
    let subs = page
        .items
        .into_iter()
        .map(Item::into_record)
        .collect::<Result<_, _>>()?;
    Ok((subs, page.next))
}

// ---------------------------------------------------------------- cancel / portal

/// Cancel at period end (the change arrives back as a webhook).
pub async fn cancel(
    s: &Services,
    payments: &dyn Payments,
    caller: &Caller,
) -> BillingResult<SubscriptionView> {
    caller.require_billing_admin()?;
    let sub = subscription_of(s, &caller.org_id)
        .await?
        .filter(|s| s.status != Status::Canceled)
        .ok_or_else(|| BillingError::not_found("the organization has no subscription to cancel"))?;
    payments
        .cancel_at_period_end(
            &sub.subscription_id,
            &format!(
                "skiff-cancel-{}-{}",
                sub.subscription_id,
                s.clock.unix() / 60
            ),
        )
        .await?;
    tracing::info!(org_id = %caller.org_id, subscription = %sub.subscription_id, "cancellation at period end requested");
    let mut view = subscription_view(s, &caller.org_id).await?;
    view.cancel_at_period_end = true;
    Ok(view)
}

/// A billing-portal URL for the caller's org.
pub async fn portal(
    s: &Services,
    payments: &dyn Payments,
    caller: &Caller,
    return_url: Option<&str>,
) -> BillingResult<String> {
    caller.require_billing_admin()?;
    let return_url = return_url
        .map(str::to_owned)
        .unwrap_or_else(|| s.config.public_url.clone());
    if !crate::settings(s).redirect_allowed(&return_url) {
        return Err(BillingError::invalid_field(
            "return_url",
            "REDIRECT_NOT_ALLOWED",
            "return_url must be an http(s) URL on an allowed origin",
        ));
    }
    let customer = load_account(s, &caller.org_id)
        .await?
        .and_then(|(a, _)| a.customer_id)
        .ok_or_else(|| BillingError::not_found("the organization has no billing account yet"))?;
    Ok(payments.portal_url(&customer, &return_url).await?)
}

// ---------------------------------------------------------------- webhook

/// What a verified delivery came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Applied now (or re-ran the effects of an already applied event).
    Processed,
    /// Acknowledged without a change (unknown type, stale, other subscription...).
    Ignored(String),
    /// This event id was already processed.
    Duplicate,
    /// Another delivery of this event is being processed right now.
    InProgress,
}

/// Why a delivery was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Signature(#[from] webhook::SignatureError),
    #[error("malformed event: {0}")]
    Malformed(String),
    /// Processing failed; the claim was released so Stripe's retry can succeed.
    #[error(transparent)]
    Failed(#[from] BillingError),
}

/// Verify, claim, process, record. `secrets` are the endpoint's signing secrets.
pub async fn handle_webhook(
    s: &Services,
    secrets: &[&str],
    signature: Option<&str>,
    body: &[u8],
) -> Result<WebhookOutcome, WebhookError> {
    webhook::verify(
        signature,
        body,
        secrets,
        s.clock.unix(),
        webhook::TOLERANCE_SECS,
    )?;
    let event = webhook::parse_event(body).map_err(WebhookError::Malformed)?;
    let claim = idempotency::claim(
        s.store.as_ref(),
        s.clock.as_ref(),
        WEBHOOK_SCOPE,
        &event.id,
        WEBHOOK_LEASE,
    )
    .await
    .map_err(BillingError::from)?;
    let lease = match claim {
        Claim::Acquired(lease) => lease,
        Claim::Done { .. } => {
            WEBHOOK_EVENTS.inc(&["duplicate"]);
            return Ok(WebhookOutcome::Duplicate);
        }
        Claim::InProgress => {
            WEBHOOK_EVENTS.inc(&["in_progress"]);
            return Ok(WebhookOutcome::InProgress);
        }
    };
    match process_event(s, &event).await {
        Ok(outcome) => {
            WEBHOOK_EVENTS.inc(&[match &outcome {
                WebhookOutcome::Ignored(_) => "ignored",
                _ => "processed",
            }]);
            let result = match &outcome {
                WebhookOutcome::Ignored(why) => json!({"status": "ignored", "reason": why}),
                _ => json!({"status": "processed"}),
            };
            if let Err(e) = lease.complete(s.store.as_ref(), Some(result)).await {
                // Applied; at worst a redelivery re-runs the idempotent effects.
                tracing::warn!(error = %e, event_id = %event.id, "event processed but its record was not completed");
            }
            Ok(outcome)
        }
        Err(e) => {
            WEBHOOK_EVENTS.inc(&["failed"]);
            tracing::warn!(error = %e, event_id = %event.id, kind = %event.kind, "webhook processing failed; released for retry");
            if let Err(e) = lease.release(s.store.as_ref()).await {
                tracing::warn!(error = %e, "could not release the event claim; it expires with its lease");
            }
            Err(WebhookError::Failed(e))
        }
    }
}

/// Apply one (verified, claimed) Stripe event.
pub async fn process_event(s: &Services, event: &StripeEvent) -> BillingResult<WebhookOutcome> {
    let catalog = &crate::settings(s).catalog;
    let (org, change) = match webhook::interpret(event, catalog).map_err(BillingError::internal)? {
        Parsed::Unhandled => {
            tracing::info!(event_id = %event.id, kind = %event.kind, "unhandled Stripe event type ignored");
            return Ok(WebhookOutcome::Ignored(format!(
                "event type {} is not handled",
                event.kind
            )));
        }
        Parsed::Irrelevant(why) => {
            tracing::info!(event_id = %event.id, kind = %event.kind, why, "event ignored");
            return Ok(WebhookOutcome::Ignored(why.into()));
        }
        Parsed::Change { org, change } => (org, change),
    };
    let org_id = match org {
        OrgRef::Org(id) => id,
        OrgRef::Customer(c) => match s.store.get(&keys::customer(&c)).await? {
            Some(item) => item
                .get_str("org_id")
                .and_then(|o| OrgId::parse(o).ok())
                .ok_or_else(|| BillingError::internal("customer map without an org id"))?,
            None => {
                tracing::info!(event_id = %event.id, "event of a customer Skiff did not create");
                return Ok(WebhookOutcome::Ignored("unknown customer".into()));
            }
        },
    };
    // An erased org's events (the cancellation its erasure asked for among them)
    // must not bring its billing items back after the purge.
    if skiff_identity::erasure::is_erased(s.store.as_ref(), &org_id).await? {
        tracing::info!(event_id = %event.id, %org_id, "event of an erased organization ignored");
        return Ok(WebhookOutcome::Ignored(
            "the organization was erased".into(),
        ));
    }
    let meta = EventMeta {
        id: event.id.clone(),
        created: event.created,
    };
    apply_change(s, &org_id, &change, &meta, "stripe").await
}

/// Read, decide, write conditionally (retrying on a lost race), then run effects.
async fn apply_change(
    s: &Services,
    org_id: &OrgId,
    change: &Change,
    meta: &EventMeta,
    actor: &str,
) -> BillingResult<WebhookOutcome> {
    let catalog = &crate::settings(s).catalog;
    let policy = Policy::default();
    for _ in 0..WRITE_ATTEMPTS {
        let current = load_subscription(s, org_id).await?;
        if let Some((stored, _)) = &current
            && stored.recent_events.contains(&meta.id)
        {
            // A retry of an event whose state was written but whose effects failed.
            let notices = if stored.sub.last_event_id == meta.id {
                stored.last_notices.clone()
            } else {
                vec![]
            };
            run_effects(s, &stored.sub, &notices, &meta.id).await?;
            return Ok(WebhookOutcome::Processed);
        }
        let decision = subscription::apply(
            org_id,
            current.as_ref().map(|(st, _)| &st.sub),
            change,
            meta,
            catalog,
            &policy,
        );
        let t = match decision {
            Decision::Ignore(why) => {
                tracing::info!(event_id = %meta.id, %org_id, why, "event does not change the subscription");
                return Ok(WebhookOutcome::Ignored(why.into()));
            }
            Decision::Defer(why) => {
                return Err(BillingError::Unavailable(format!("event deferred: {why}")));
            }
            Decision::Apply(t) => t,
        };
        let mut recent = current
            .as_ref()
            .map(|(st, _)| st.recent_events.clone())
            .unwrap_or_default();
        recent.push(meta.id.clone());
        if recent.len() > RECENT_EVENTS {
            recent.drain(..recent.len() - RECENT_EVENTS);
        }
        let condition = match &current {
            None => Condition::Absent,
            Some((_, item)) => {
                let version = Condition::VersionIs(item.version);
                if matches!(change, Change::CheckoutCompleted { .. }) {
                    version
                } else {
                    // The rule, stated to the store: never apply an older event.
                    Condition::All(vec![
                        version,
                        Condition::attr("last_event_created", Cmp::Le, meta.created),
                    ])
                }
            }
        };
        let stored = Stored {
            sub: t.next.clone(),
            recent_events: recent,
            last_notices: t.notices.clone(),
            // A newer change supersedes a scheduler transition's unfinished effects
            // (its own effects converge licensing to the new state).
            pending: None,
        };
        let mut writes = vec![subscription_write(&stored, condition, &policy)?];
        writes.extend(state_writes(s, &t.next, &t.audit, meta, actor)?);
        if let Change::CheckoutCompleted {
            trial_days,
            customer_id,
            ..
        } = change
        {
            let mut changes = vec![
                StoreChange::set("org_id", org_id.as_str()),
                StoreChange::set("customer_id", customer_id.as_str()),
            ];
            if *trial_days > 0 {
                changes.push(StoreChange::set("trial_used", true));
            }
            writes.push(Write::Update {
                key: keys::account(org_id),
                changes,
                condition: None,
            });
            // Later invoice events may name only the customer.
            writes.push(Write::Put {
                item: NewItem::new(keys::customer(customer_id)).attr("org_id", org_id.as_str()),
                condition: None,
            });
        }
        match s.store.transact(writes).await {
            Ok(()) => {
                tracing::info!(event_id = %meta.id, %org_id, audit = ?t.audit, "subscription changed");
                run_effects(s, &t.next, &t.notices, &meta.id).await?;
                return Ok(WebhookOutcome::Processed);
            }
            Err(e) if e.is_condition_failed() => {
                tracing::debug!(event_id = %meta.id, "lost a race on the subscription; re-reading");
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(BillingError::Unavailable(
        "the subscription changed concurrently too often; retry".into(),
    ))
}

fn subscription_write(
    stored: &Stored,
    condition: Condition,
    policy: &Policy,
) -> Result<Write, StoreError> {
    let next = &stored.sub;
    let mut item = NewItem::from_record(keys::subscription(&next.org_id), stored)?;
    let deadline = match &stored.pending {
        Some(p) => Some(p.since),
        None => dunning::next_deadline(next, policy),
    };
    if let Some(deadline) = deadline {
        item = item.index(keys::due(deadline, &next.org_id));
    }
    Ok(Write::Put {
        item,
        condition: Some(condition),
    })
}

/// The derived profile and the audit entries, written with the subscription.
fn state_writes(
    s: &Services,
    next: &Subscription,
    audit: &[&'static str],
    meta: &EventMeta,
    actor: &str,
) -> Result<Vec<Write>, StoreError> {
    let now = s.clock.unix();
    let profile = ServiceProfile::derive(&next.org_id, Some(next), now);
    let mut writes = vec![
        profile.derived_write()?,
        Write::Put {
            item: NewItem::from_record(keys::subscription_entry(&next.org_id), next)?,
            condition: None,
        },
    ];
    for action in audit {
        let entry = AuditEntry {
            action: (*action).to_owned(),
            at: now,
            event_id: meta.id.clone(),
            actor: actor.to_owned(),
            detail: json!({
                "plan_id": next.plan_id,
                "status": next.status,
                "failed_count": next.failed_count,
                "grace_ends_at": next.grace_ends_at,
                "mode": profile.mode,
            }),
        };
        let item = NewItem::from_record(keys::audit(&next.org_id, now, &meta.id, action), &entry)?;
        writes.push(Write::Put {
            item: audit::tag(
                item,
                "billing",
                Some(&next.org_id),
                now,
                &format!("{}#{action}", meta.id),
            ),
            condition: None,
        });
    }
    Ok(writes)
}

/// Effects of a state change: licensing converges to the current subscription;
/// notices become e-mails with ids derived from the event (deduplicated by the outbox).
async fn run_effects(
    s: &Services,
    sub: &Subscription,
    notices: &[Notice],
    event_id: &str,
) -> BillingResult<()> {
    sync_licensing(s, sub).await?;
    if notices.is_empty() {
        return Ok(());
    }
    let to = load_account(s, &sub.org_id)
        .await?
        .and_then(|(a, _)| a.billing_email);
    let Some(to) = to else {
        tracing::warn!(org_id = %sub.org_id, "no billing e-mail address; notices not sent");
        return Ok(());
    };
    let settings = crate::settings(s);
    for notice in notices {
        let email = emails::render(notice, &to, &settings.catalog, &settings.upgrade_url);
        let envelope = Envelope {
            id: format!("billing-{event_id}-{}", emails::notice_kind(notice)),
            kind: SendEmail::KIND.to_owned(),
            payload: serde_json::to_value(SendEmail { email }).map_err(BillingError::internal)?,
            created_at: s.clock.unix(),
        };
        let body = serde_json::to_string(&envelope).map_err(BillingError::internal)?;
        s.queue.send(body).await?;
        tracing::info!(message_id = %envelope.id, notice = emails::notice_kind(notice), "billing e-mail enqueued");
    }
    Ok(())
}

/// The entitlement the org's license should carry.
pub fn entitlement_of(s: &Services, sub: &Subscription) -> Entitlement {
    let catalog = &crate::settings(s).catalog;
    let plan = catalog.get(&sub.plan_id).unwrap_or_else(|| catalog.free());
    Entitlement {
        org_id: sub.org_id.clone(),
        plan_id: plan.id.clone(),
        tier: plan.id.clone(),
        features: plan.enabled_features(),
        max_seats: sub.seats(plan),
        expires_at: sub.current_period_end,
        subscription_id: sub.subscription_id.clone(),
    }
}

/// Bring the org's licenses in line with its subscription as it is now.
pub async fn sync_licensing(s: &Services, sub: &Subscription) -> BillingResult<()> {
    let org = &sub.org_id;
    match sub.status {
        Status::Canceled => Ok(hooks::deactivate_licenses(s, org).await?),
        _ if sub.suspended => {
            hooks::issue_license(s, &entitlement_of(s, sub)).await?;
            Ok(hooks::suspend_licenses(s, org, "payment_failed").await?)
        }
        _ => {
            let ent = entitlement_of(s, sub);
            hooks::issue_license(s, &ent).await?;
            hooks::update_license(s, &ent).await?;
            let grace = (sub.status == Status::PastDue)
                .then_some(sub.grace_ends_at)
                .flatten();
            Ok(hooks::set_grace_period(s, org, grace).await?)
        }
    }
}

// ---------------------------------------------------------------- scheduler

/// Which deadline a job handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    Grace,
    Trial,
}

/// Most subscriptions one job run handles.
const DEADLINE_BATCH: usize = 200;

/// Suspend subscriptions whose grace ran out, or archive unpaid trials. Idempotent:
/// each transition is a conditional write on the subscription's version.
pub async fn run_deadlines(s: &Services, which: Deadline) -> Result<String, String> {
    let now = s.clock.unix();
    let policy = Policy::default();
    let page = s
        .store
        .query(Query {
            sort: SortKey::Lt(keys::due_before(now)),
            limit: Some(DEADLINE_BATCH),
            ..Query::gsi1(keys::DUE_PK)
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut changed = 0;
    let mut failed = vec![];
    for item in page.items {
        let Some(org_id) = item.get_str("org_id").and_then(|o| OrgId::parse(o).ok()) else {
            continue;
        };
        match expire_one(s, &org_id, which, now, &policy).await {
            Ok(true) => changed += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::error!(%org_id, error = %e, "deadline transition failed");
                failed.push(org_id);
            }
        }
    }
    let what = match which {
        Deadline::Grace => "grace periods expired",
        Deadline::Trial => "trials expired",
    };
    if failed.is_empty() {
        Ok(format!("{changed} {what}"))
    } else {
        Err(format!(
            "{changed} {what}; failed for {}",
            failed
                .iter()
                .map(OrgId::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

async fn expire_one(
    s: &Services,
    org_id: &OrgId,
    which: Deadline,
    now: i64,
    policy: &Policy,
) -> BillingResult<bool> {
    for _ in 0..WRITE_ATTEMPTS {
        let Some((stored, item)) = load_subscription(s, org_id).await? else {
            return Ok(false);
        };
        if let Some(pending) = stored.pending.clone() {
            // A transition whose effects failed last time: finish it.
            run_effects(s, &stored.sub, &pending.notices, &pending.event_id).await?;
            clear_pending(s, org_id, &pending.event_id, policy).await?;
            return Ok(true);
        }
        let mut next = stored.sub.clone();
        let (notices, audit, event_id) = match which {
            Deadline::Grace if dunning::grace_expired(&next, now) => {
                let id = format!(
                    "grace-{}-{}",
                    next.subscription_id,
                    next.grace_ends_at.unwrap_or(0)
                );
                (
                    dunning::suspend(&mut next),
                    vec!["GRACE_EXPIRED", "SERVICE_SUSPENDED"],
                    id,
                )
            }
            Deadline::Trial if dunning::trial_expired(&next, now, policy) => {
                let id = format!("trial-{}", next.subscription_id);
                (
                    dunning::expire_trial(&mut next, now),
                    vec!["TRIAL_EXPIRED"],
                    id,
                )
            }
            _ => return Ok(false),
        };
        let meta = EventMeta {
            id: event_id.clone(),
            created: next.last_event_created,
        };
        let pending = Stored {
            sub: next.clone(),
            recent_events: stored.recent_events.clone(),
            last_notices: stored.last_notices.clone(),
            pending: Some(Pending {
                event_id: event_id.clone(),
                notices: notices.clone(),
                since: now,
            }),
        };
        let mut writes = vec![subscription_write(
            &pending,
            Condition::VersionIs(item.version),
            policy,
        )?];
        writes.extend(state_writes(s, &next, &audit, &meta, "scheduler")?);
        match s.store.transact(writes).await {
            Ok(()) => {}
            Err(e) if e.is_condition_failed() => continue,
            Err(e) => return Err(e.into()),
        }
        tracing::info!(%org_id, ?which, "deadline passed; subscription changed");
        run_effects(s, &next, &notices, &event_id).await?;
        clear_pending(s, org_id, &event_id, policy).await?;
        return Ok(true);
    }
    Err(BillingError::Unavailable(
        "subscription kept changing".into(),
    ))
}

/// Effects of the scheduler's transition `event_id` are done: drop the marker and
/// put the index entry back where the current state wants it. Changes nothing but
/// those two, and only if the item did not change since it was read; otherwise the
/// next run tries again (re-running idempotent effects).
async fn clear_pending(
    s: &Services,
    org_id: &OrgId,
    event_id: &str,
    policy: &Policy,
) -> BillingResult<()> {
    let Some((stored, item)) = load_subscription(s, org_id).await? else {
        return Ok(());
    };
    if stored
        .pending
        .as_ref()
        .is_none_or(|p| p.event_id != event_id)
    {
        return Ok(());
    }
    let index = dunning::next_deadline(&stored.sub, policy).map(|d| keys::due(d, org_id));
    match s
        .store
        .update(
            &keys::subscription(org_id),
            vec![
                StoreChange::Remove("pending".into()),
                StoreChange::SetIndex(index),
            ],
            Some(Condition::VersionIs(item.version)),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_condition_failed() => {
            tracing::debug!(
                %org_id,
                "subscription changed meanwhile; pending marker left for the next run"
            );
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
