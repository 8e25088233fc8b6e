//! Billing's webhook processing on both item store adapters (SQLite in a temporary
//! directory, DynamoDB in the emulator): every case delivers signed Stripe-format
//! events through `billing::service::handle_webhook`, raced on a multi-thread
//! runtime, and checks that a delivery is applied exactly once per event id and
//! never rolls state back.

use futures::future::join_all;
use serde_json::{Value, json};
use skiff_app::AppConfig as Config;
use skiff_billing::service::{self, WebhookError, WebhookOutcome};
use skiff_billing::webhook::signature_header;
use skiff_core::clock::{Clock, FixedClock};
use skiff_core::ids::{OrgId, SubscriptionId};
use skiff_core::services::Services;
use std::sync::Arc;

/// Services over the store under test, the clock they read and the webhook secret.
struct Harness {
    services: Services,
    clock: Arc<FixedClock>,
    secret: String,
    _dir: tempfile::TempDir,
}

/// Embedded services; with `dynamodb`, their item store is a fresh DynamoDB table.
async fn harness(dynamodb: bool) -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = FixedClock::at(time::OffsetDateTime::now_utc());
    let config = Config::from_vars(vec![(
        "SKIFF_DATA_DIR".to_owned(),
        dir.path().display().to_string(),
    )])
    .expect("config");
    let mut services = skiff_app::services::embedded(config, clock.clone())
        .await
        .expect("services")
        .services;
    if dynamodb {
        services.store =
            Arc::new(skiff_adapters::testing::dynamo_store("billing", clock.clone()).await);
    }
    let secret = skiff_billing::simulator_webhook_secret(&services)
        .await
        .expect("webhook secret");
    Harness {
        services,
        clock,
        secret,
        _dir: dir,
    }
}

skiff_adapters::conformance_suite! {
    adapters { embedded => &super::harness(false).await, dynamodb => &super::harness(true).await }
    cases {
        concurrent_deliveries_of_one_event_apply_it_once,
        concurrent_deliveries_of_a_checkout_issue_one_license,
        an_older_event_never_rolls_state_back,
    }
}

/// An org with a unique id and the ids its subscription has at the provider.
struct Org {
    id: OrgId,
    subscription: SubscriptionId,
    customer: String,
}

fn org() -> Org {
    let u = uuid::Uuid::new_v4().simple().to_string();
    Org {
        id: OrgId::parse(&format!("org_{u}")).unwrap(),
        subscription: SubscriptionId::parse(&format!("sub_{u}")).unwrap(),
        customer: format!("cus_{u}"),
    }
}

fn event(id: &str, kind: &str, created: i64, object: Value) -> Vec<u8> {
    json!({"id": id, "object": "event", "type": kind, "created": created, "livemode": false,
           "data": {"object": object}})
    .to_string()
    .into_bytes()
}

fn checkout(org: &Org, created: i64) -> Vec<u8> {
    event(
        &format!("evt_checkout_{}", org.subscription),
        "checkout.session.completed",
        created,
        json!({"object": "checkout.session", "mode": "subscription", "status": "complete",
               "client_reference_id": org.id, "customer": org.customer,
               "subscription": org.subscription, "amount_total": 9900, "currency": "usd",
               "metadata": {"org_id": org.id, "plan_id": "pro", "trial_days": "0"}}),
    )
}

fn invoice(org: &Org, id: &str, kind: &str, created: i64, amount_paid: i64) -> Vec<u8> {
    event(
        id,
        kind,
        created,
        json!({"object": "invoice", "customer": org.customer, "amount_paid": amount_paid,
               "parent": {"subscription_details": {"subscription": org.subscription,
                                                   "metadata": {"org_id": org.id}}}}),
    )
}

async fn deliver(h: &Harness, body: &[u8]) -> Result<WebhookOutcome, WebhookError> {
    let header = signature_header(&[h.secret.as_str()], h.clock.unix(), body);
    service::handle_webhook(&h.services, &[h.secret.as_str()], Some(&header), body).await
}

/// `n` deliveries of `body` at once, each on its own task.
async fn deliver_concurrently(h: &Harness, body: &[u8], n: usize) -> Vec<WebhookOutcome> {
    let tasks = (0..n).map(|_| {
        let (services, secret, body) = (h.services.clone(), h.secret.clone(), body.to_vec());
        let header = signature_header(&[secret.as_str()], h.clock.unix(), &body);
        tokio::spawn(async move {
            service::handle_webhook(&services, &[secret.as_str()], Some(&header), &body).await
        })
    });
    join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("delivery accepted"))
        .collect()
}

/// Exactly one delivery applied the event; the others saw it done or in progress.
fn assert_applied_once(outcomes: &[WebhookOutcome]) {
    let processed = outcomes
        .iter()
        .filter(|o| **o == WebhookOutcome::Processed)
        .count();
    assert_eq!(processed, 1, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            WebhookOutcome::Processed | WebhookOutcome::Duplicate | WebhookOutcome::InProgress
        )),
        "{outcomes:?}"
    );
}

async fn audit_count(h: &Harness, org: &Org, action: &str) -> usize {
    let (entries, next) = service::audit_log(&h.services, &org.id, 200, None)
        .await
        .expect("audit log");
    assert!(next.is_none(), "the test's audit fits one page");
    entries.iter().filter(|e| e.action == action).count()
}

async fn concurrent_deliveries_of_one_event_apply_it_once(h: &Harness) {
    let org = org();
    let t = h.clock.unix();
    assert_eq!(
        deliver(h, &checkout(&org, t)).await.unwrap(),
        WebhookOutcome::Processed
    );
    let failed = invoice(&org, "evt_failed_1", "invoice.payment_failed", t + 1, 0);
    let outcomes = deliver_concurrently(h, &failed, 20).await;
    assert_applied_once(&outcomes);
    let sub = service::subscription_of(&h.services, &org.id)
        .await
        .unwrap()
        .expect("subscription");
    assert_eq!(sub.failed_count, 1, "{sub:?}");
    assert_eq!(audit_count(h, &org, "PAYMENT_FAILED").await, 1);
    // A redelivery later is a duplicate, and changes nothing.
    assert_eq!(
        deliver(h, &failed).await.unwrap(),
        WebhookOutcome::Duplicate
    );
    let sub = service::subscription_of(&h.services, &org.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sub.failed_count, 1);
}

async fn concurrent_deliveries_of_a_checkout_issue_one_license(h: &Harness) {
    let org = org();
    let outcomes = deliver_concurrently(h, &checkout(&org, h.clock.unix()), 10).await;
    assert_applied_once(&outcomes);
    let licenses = skiff_licensing::repo::list(h.services.store.as_ref(), &org.id)
        .await
        .unwrap();
    assert_eq!(licenses.len(), 1, "{licenses:?}");
    assert_eq!(licenses[0].subscription_id, org.subscription);
    assert_eq!(audit_count(h, &org, "SUBSCRIPTION_STARTED").await, 1);
}

async fn an_older_event_never_rolls_state_back(h: &Harness) {
    let org = org();
    let t = h.clock.unix();
    deliver(h, &checkout(&org, t - 100)).await.unwrap();
    let failed = invoice(&org, "evt_failed_new", "invoice.payment_failed", t, 0);
    assert_eq!(
        deliver(h, &failed).await.unwrap(),
        WebhookOutcome::Processed
    );
    // A payment that Stripe created before the failure arrives late.
    let paid = invoice(
        &org,
        "evt_paid_old",
        "invoice.payment_succeeded",
        t - 10,
        9900,
    );
    assert!(
        matches!(deliver(h, &paid).await.unwrap(), WebhookOutcome::Ignored(_)),
        "a stale event is acknowledged without effect"
    );
    let sub = service::subscription_of(&h.services, &org.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sub.failed_count, 1, "{sub:?}");
}
