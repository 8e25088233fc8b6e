//! Billing, black-box over HTTP with the payment simulator: checkout,
//! the dunning story, trial expiry, webhook signatures, idempotency, ordering and
//! tenant isolation.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skiff_billing::webhook::{signature, signature_header};
use skiff_e2e::{TEST_PASSWORD, TestApp, spawn_app};
use std::time::Duration;

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.call(method, path, token, body).await
}

async fn simulate(app: &TestApp, token: &str, org: &str, action: &str) -> Value {
    let body = app.simulate(token, org, action).await;
    for d in body["deliveries"].as_array().unwrap() {
        assert_eq!(d["status"], 200, "{action} delivery: {d}");
    }
    body
}

async fn subscription(app: &TestApp, token: &str) -> Value {
    let (status, body) = call(
        app,
        Method::GET,
        "/api/v1/billing/subscription",
        Some(token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn profile(app: &TestApp, token: &str) -> Value {
    let (status, body) = call(
        app,
        Method::GET,
        "/api/v1/service/profile",
        Some(token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn rename_org(app: &TestApp, token: &str, name: &str) -> (StatusCode, Value) {
    call(
        app,
        Method::PATCH,
        "/api/v1/orgs/current",
        Some(token),
        Some(json!({"name": name})),
    )
    .await
}

async fn audit_actions(app: &TestApp, token: &str) -> Vec<String> {
    let (status, body) = call(
        app,
        Method::GET,
        "/api/v1/billing/events?limit=200",
        Some(token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn webhook_secret(app: &TestApp) -> String {
    skiff_billing::simulator_webhook_secret(app.services())
        .await
        .unwrap()
}

/// POST a raw event with the given signature header.
async fn deliver(app: &TestApp, body: &str, header: Option<&str>) -> (StatusCode, Value) {
    let mut req = app
        .client
        .post(app.url("/api/v1/billing/webhook"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(h) = header {
        req = req.header("stripe-signature", h);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn now(app: &TestApp) -> i64 {
    let (_, body) = call(app, Method::GET, "/_dev/clock", None, None).await;
    body["now"].as_i64().unwrap()
}

fn event(id: &str, kind: &str, created: i64, object: Value) -> String {
    json!({"id": id, "object": "event", "type": kind, "created": created, "livemode": false,
           "data": {"object": object}})
    .to_string()
}

fn invoice(sub: &Value, amount_paid: i64) -> Value {
    json!({"object": "invoice", "customer": sub["customer_id"], "amount_paid": amount_paid,
           "parent": {"subscription_details": {"subscription": sub["id"],
                                               "metadata": {"org_id": sub["org_id"]}}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_are_public_and_sorted_by_price() {
    let app = spawn_app().await;
    let (status, body) = call(&app, Method::GET, "/api/v1/plans", None, None).await;
    assert_eq!(status, 200);
    let plans = body["plans"].as_array().unwrap();
    let ids: Vec<_> = plans.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["free", "starter", "pro", "enterprise"]);
    assert_eq!(plans[2]["price"]["amount"], 9900);
    assert_eq!(plans[2]["price"]["display"], "$99.00");
    assert_eq!(plans[2]["entitlements"]["max_seats"], 10);
    assert_eq!(plans[3]["entitlements"]["max_memories"], -1);
    assert_eq!(plans[1]["trial_days"], 14);
    let (status, pro) = call(&app, Method::GET, "/api/v1/plans/pro", None, None).await;
    assert_eq!(
        (status, pro["entitlements"]["rate_limit_per_min"].clone()),
        (StatusCode::OK, json!(120))
    );
    let (status, body) = call(&app, Method::GET, "/api/v1/plans/platinum", None, None).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "NOT_FOUND");
    // The billing routes are part of the served OpenAPI document.
    let (status, doc) = call(&app, Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, 200);
    for path in [
        "/api/v1/plans",
        "/api/v1/plans/{plan_id}",
        "/api/v1/billing/checkout",
        "/api/v1/billing/subscription",
        "/api/v1/billing/portal",
        "/api/v1/billing/webhook",
        "/api/v1/service/profile",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_is_validated() {
    let app = spawn_app().await;
    // Unverified e-mail → 403 EMAIL_NOT_VERIFIED.
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/auth/register",
        None,
        Some(json!({"email": "new@example.com", "password": TEST_PASSWORD, "full_name": "N", "company_name": "Newco"})),
    )
    .await;
    assert_eq!(status, 201);
    let unverified = app.login("new@example.com").await;
    let body = |plan: &str| json!({"plan_id": plan, "success_url": app.url("/ok"), "cancel_url": app.url("/no")});
    let (status, b) = call(
        &app,
        Method::POST,
        "/api/v1/billing/checkout",
        Some(&unverified),
        Some(body("pro")),
    )
    .await;
    assert_eq!(
        (status, b["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("EMAIL_NOT_VERIFIED"))
    );

    let (_, token) = app.verified_owner("owner@example.com", "Acme").await;
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/billing/checkout",
        None,
        Some(body("pro")),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/billing/checkout",
        Some(&token),
        Some(body("gold")),
    )
    .await;
    assert_eq!(status, 404);
    let (status, b) = call(
        &app,
        Method::POST,
        "/api/v1/billing/checkout",
        Some(&token),
        Some(body("free")),
    )
    .await;
    assert_eq!(status, 422, "{b}");
    assert_eq!(b["errors"][0]["code"], "FREE_PLAN");
    let (status, b) = call(
        &app,
        Method::POST,
        "/api/v1/billing/checkout",
        Some(&token),
        Some(json!({"plan_id": "pro", "success_url": "https://evil.example/x", "cancel_url": "javascript:alert(1)"})),
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<_> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["success_url", "cancel_url"]);
    // Decline: no subscription, back to the cancel URL.
    let (status, started) = call(
        &app,
        Method::POST,
        "/api/v1/billing/checkout",
        Some(&token),
        Some(body("starter")),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let session = started["session_id"].as_str().unwrap();
    let declined = app
        .client
        .post(app.url(&format!(
            "/api/v1/billing/simulator/checkout/{session}/decline"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(declined.status(), 303);
    assert_eq!(declined.headers()["location"], app.url("/no").as_str());
    assert_eq!(subscription(&app, &token).await["status"], "none");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dunning_journey_with_the_simulator() {
    let app = spawn_app().await;
    let email = "billing@acme.example";
    let (org, token) = app.verified_owner(email, "Acme").await;
    assert_eq!(subscription(&app, &token).await["status"], "none");
    assert_eq!(profile(&app, &token).await["tier"], "free");

    app.subscribe(&token, "pro").await;
    let sub = subscription(&app, &token).await;
    assert_eq!(sub["status"], "trialing", "{sub}");
    assert_eq!(sub["plan_id"], "pro");
    assert_eq!(sub["seats"], 10);
    let p = profile(&app, &token).await;
    assert_eq!(
        (p["tier"].as_str(), p["mode"].as_str()),
        (Some("pro"), Some("active"))
    );
    app.wait_for_email(email, "Subscription confirmed: Pro")
        .await;
    let actions = audit_actions(&app, &token).await;
    assert!(
        actions.contains(&"SUBSCRIPTION_STARTED".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"LICENSE_REQUESTED".to_owned()),
        "{actions:?}"
    );

    // The trial converts: the first paid invoice makes it active.
    simulate(&app, &token, &org, "renew").await;
    let sub = subscription(&app, &token).await;
    assert_eq!(sub["status"], "active", "{sub}");
    app.wait_for_email(email, "Subscription renewed").await;

    // 1st failure: past_due, 7 days of grace, warning e-mail; still active.
    let t0 = now(&app).await;
    simulate(&app, &token, &org, "fail").await;
    let sub = subscription(&app, &token).await;
    assert_eq!(
        (sub["status"].as_str(), sub["failed_payment_count"].as_u64()),
        (Some("past_due"), Some(1))
    );
    let grace = sub["grace_ends_at"].as_i64().unwrap();
    assert!(
        (grace - (t0 + 7 * 86_400)).abs() <= 5,
        "grace {grace} vs {t0}"
    );
    app.wait_for_email(email, "Payment failed").await;
    assert_eq!(profile(&app, &token).await["mode"], "active");

    // 2nd failure: grace shortened to 3 days, urgent e-mail.
    simulate(&app, &token, &org, "fail").await;
    let sub = subscription(&app, &token).await;
    assert_eq!(sub["failed_payment_count"], 2);
    let grace = sub["grace_ends_at"].as_i64().unwrap();
    assert!(
        (grace - (t0 + 3 * 86_400)).abs() <= 5,
        "grace {grace} vs {t0}"
    );
    app.wait_for_email(email, "Urgent: payment failed again")
        .await;
    let (status, _) = rename_org(&app, &token, "Acme Two").await;
    assert_eq!(status, 200, "still writable during grace");

    // 3rd failure: suspended, read-only; writes 423, reads fine.
    simulate(&app, &token, &org, "fail").await;
    let p = profile(&app, &token).await;
    assert_eq!(
        (p["mode"].as_str(), p["reason"].as_str()),
        (Some("read_only"), Some("payment_failed"))
    );
    assert_eq!(p["capabilities"]["writes_enabled"], false);
    assert_eq!(p["capabilities"]["archive_export_enabled"], true);
    app.wait_for_email(email, "Service suspended").await;
    let (status, body) = rename_org(&app, &token, "Acme Three").await;
    assert_eq!(status, 423, "{body}");
    assert_eq!(body["code"], "service_locked");
    assert_eq!(body["mode"], "read_only");
    assert_eq!(body["tier"], "pro");
    assert!(body["upgrade_url"].as_str().unwrap().starts_with("http"));
    assert_eq!(body["capabilities"]["writes_enabled"], false);
    let (status, org_body) = call(
        &app,
        Method::GET,
        "/api/v1/orgs/current",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(org_body["name"], "Acme Two");
    assert!(
        audit_actions(&app, &token)
            .await
            .contains(&"SERVICE_SUSPENDED".to_owned())
    );

    // A successful payment restores everything.
    simulate(&app, &token, &org, "renew").await;
    let sub = subscription(&app, &token).await;
    assert_eq!(
        (sub["status"].as_str(), sub["failed_payment_count"].as_u64()),
        (Some("active"), Some(0))
    );
    assert!(sub["grace_ends_at"].is_null());
    assert_eq!(profile(&app, &token).await["mode"], "active");
    let (status, _) = rename_org(&app, &token, "Acme Restored").await;
    assert_eq!(status, 200);

    // Cancellation at period end goes through the provider; deletion archives nothing
    // for a paying org: read-only on the free tier.
    let (status, body) = call(
        &app,
        Method::DELETE,
        "/api/v1/billing/subscription",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        subscription(&app, &token).await["cancel_at_period_end"],
        true
    );
    simulate(&app, &token, &org, "cancel").await;
    let p = profile(&app, &token).await;
    assert_eq!(
        (p["tier"].as_str(), p["mode"].as_str(), p["reason"].as_str()),
        (Some("free"), Some("read_only"), Some("canceled"))
    );
    app.wait_for_email(email, "Subscription canceled").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaid_trial_expires_to_archived() {
    let app = spawn_app().await;
    let email = "trial@example.com";
    let (org, token) = app.verified_owner(email, "Trialco").await;
    app.subscribe(&token, "starter").await;
    assert_eq!(subscription(&app, &token).await["status"], "trialing");
    let _ = org;

    // Not yet: the scheduler leaves a running trial alone.
    let (status, _) = call(
        &app,
        Method::POST,
        "/_dev/scheduler/run",
        None,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(profile(&app, &token).await["mode"], "active");

    // 14 days of trial + 1 day for Stripe's first invoice, and no payment came.
    app.advance_clock(Duration::from_secs(15 * 86_400 + 60))
        .await;
    let (status, body) = call(
        &app,
        Method::POST,
        "/_dev/scheduler/run",
        None,
        Some(json!({"jobs": ["billing_trial_expiry"]})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["reports"][0]["ok"], true, "{body}");
    assert_eq!(body["reports"][0]["detail"], "1 trials expired");
    let token = app.login(email).await;
    let p = profile(&app, &token).await;
    assert_eq!(
        (p["mode"].as_str(), p["reason"].as_str(), p["tier"].as_str()),
        (Some("archived"), Some("trial_expired"), Some("free"))
    );
    assert_eq!(p["capabilities"]["archive_export_enabled"], true);
    assert_eq!(subscription(&app, &token).await["status"], "canceled");
    let (status, body) = rename_org(&app, &token, "Still trying").await;
    assert_eq!(status, 423);
    assert_eq!(body["code"], "trial_expired");
    assert_eq!(body["mode"], "archived");
    app.wait_for_email(email, "Your trial has ended").await;
    // Running the job again changes nothing.
    let (_, body) = call(
        &app,
        Method::POST,
        "/_dev/scheduler/run",
        None,
        Some(json!({"jobs": ["billing_trial_expiry"]})),
    )
    .await;
    assert_eq!(body["reports"][0]["detail"], "0 trials expired");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grace_period_that_runs_out_suspends() {
    let app = spawn_app().await;
    let email = "grace@example.com";
    let (org, token) = app.verified_owner(email, "Graceco").await;
    app.subscribe(&token, "pro").await;
    simulate(&app, &token, &org, "renew").await;
    simulate(&app, &token, &org, "fail").await;
    app.advance_clock(Duration::from_secs(7 * 86_400 + 60))
        .await;
    let (_, body) = call(
        &app,
        Method::POST,
        "/_dev/scheduler/run",
        None,
        Some(json!({"jobs": ["billing_grace_expiry"]})),
    )
    .await;
    assert_eq!(
        body["reports"][0]["detail"], "1 grace periods expired",
        "{body}"
    );
    let token = app.login(email).await;
    let p = profile(&app, &token).await;
    assert_eq!(
        (p["mode"].as_str(), p["reason"].as_str()),
        (Some("read_only"), Some("payment_failed"))
    );
    app.wait_for_email(email, "Service suspended").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_signatures_are_checked() {
    let app = spawn_app().await;
    let secret = webhook_secret(&app).await;
    let t = now(&app).await;
    let body = event("evt_sig_1", "customer.created", t, json!({"id": "cus_x"}));
    let record = skiff_core::idempotency::record_key("stripe", "evt_sig_1");
    let recorded = || async { app.services().store.get(&record).await.unwrap().is_some() };

    // Missing, wrong secret, tampered body, stale or future timestamp: 400, nothing recorded.
    let (status, b) = deliver(&app, &body, None).await;
    assert_eq!(
        (status, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_SIGNATURE"))
    );
    let (status, _) = deliver(
        &app,
        &body,
        Some(&signature_header(&["whsec_wrong"], t, body.as_bytes())),
    )
    .await;
    assert_eq!(status, 400);
    let tampered = body.replace("cus_x", "cus_y");
    let (status, _) = deliver(
        &app,
        &tampered,
        Some(&signature_header(&[&secret], t, body.as_bytes())),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = deliver(
        &app,
        &body,
        Some(&signature_header(&[&secret], t - 301, body.as_bytes())),
    )
    .await;
    assert_eq!(status, 400, "stale timestamp");
    let (status, _) = deliver(
        &app,
        &body,
        Some(&signature_header(&[&secret], t + 400, body.as_bytes())),
    )
    .await;
    assert_eq!(status, 400, "future timestamp");
    let (status, _) = deliver(&app, &body, Some("t=abc,v1=zz")).await;
    assert_eq!(status, 400);
    assert!(!recorded().await, "a refused delivery records nothing");

    // Within tolerance and a rotated secret (two v1: the old and the current one).
    let header = format!(
        "t={t},v1={},v1={}",
        signature("whsec_previous_secret", t, body.as_bytes()),
        signature(&secret, t, body.as_bytes())
    );
    let (status, b) = deliver(&app, &body, Some(&header)).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(
        b["status"], "ignored",
        "an unknown event type is acknowledged"
    );
    assert!(recorded().await);
    let (status, b) = deliver(&app, &body, Some(&header)).await;
    assert_eq!(
        (status, b["status"].as_str()),
        (StatusCode::OK, Some("duplicate"))
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_duplicate_deliveries_are_processed_once() {
    let app = spawn_app().await;
    let email = "dup@example.com";
    let (org, token) = app.verified_owner(email, "Dupco").await;
    app.subscribe(&token, "pro").await;
    let sim = app.sim_subscription(&token, &org).await;
    let secret = webhook_secret(&app).await;
    let t = now(&app).await;
    let body = event(
        "evt_dup_failed_1",
        "invoice.payment_failed",
        t,
        invoice(&sim, 0),
    );
    let header = signature_header(&[&secret], t, body.as_bytes());

    let deliveries = (0..50).map(|_| deliver(&app, &body, Some(&header)));
    let results = futures::future::join_all(deliveries).await;
    let processed = results
        .iter()
        .filter(|(s, b)| *s == 200 && b["status"] == "processed")
        .count();
    let duplicates = results
        .iter()
        .filter(|(s, b)| *s == 200 && b["status"] == "duplicate")
        .count();
    let in_progress = results
        .iter()
        .filter(|(s, b)| *s == 409 && b["code"] == "EVENT_IN_PROGRESS")
        .count();
    assert_eq!(processed, 1, "{results:?}");
    assert_eq!(processed + duplicates + in_progress, 50, "{results:?}");

    let sub = subscription(&app, &token).await;
    assert_eq!(sub["failed_payment_count"], 1, "{sub}");
    let failures = audit_actions(&app, &token)
        .await
        .iter()
        .filter(|a| *a == "PAYMENT_FAILED")
        .count();
    assert_eq!(failures, 1);
    // Exactly one warning e-mail: once the outbox is idle, a duplicate would be
    // in the mailbox too.
    app.wait_for_email(email, "Payment failed").await;
    app.wait_for_outbox_idle().await;
    let warnings = app
        .mailbox(email)
        .await
        .iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .unwrap_or("")
                .starts_with("Payment failed")
        })
        .count();
    assert_eq!(warnings, 1);
    // A later redelivery is still a duplicate.
    let (status, b) = deliver(&app, &body, Some(&header)).await;
    assert_eq!(
        (status, b["status"].as_str()),
        (StatusCode::OK, Some("duplicate"))
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_events_never_roll_state_back() {
    let app = spawn_app().await;
    let (org, token) = app.verified_owner("order@example.com", "Orderco").await;
    app.subscribe(&token, "pro").await;
    let sim = app.sim_subscription(&token, &org).await;
    let secret = webhook_secret(&app).await;
    let t = now(&app).await;
    let send = |id: &'static str, kind: &'static str, created: i64, object: Value| {
        let body = event(id, kind, created, object);
        let header = signature_header(&[&secret], t, body.as_bytes());
        let app = &app;
        async move { deliver(app, &body, Some(&header)).await }
    };

    let (s, b) = send("evt_o1", "invoice.payment_failed", t + 4, invoice(&sim, 0)).await;
    assert_eq!(
        (s, b["status"].as_str()),
        (StatusCode::OK, Some("processed"))
    );
    // An older failure arriving late is ignored (not counted twice).
    let (s, b) = send("evt_o0", "invoice.payment_failed", t + 2, invoice(&sim, 0)).await;
    assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("ignored")));
    assert_eq!(subscription(&app, &token).await["failed_payment_count"], 1);

    let deleted = json!({"id": sim["id"], "object": "subscription", "customer": sim["customer_id"],
                         "status": "canceled", "metadata": {"org_id": org}});
    let (s, _) = send("evt_o3", "customer.subscription.deleted", t + 10, deleted).await;
    assert_eq!(s, 200);
    assert_eq!(subscription(&app, &token).await["status"], "canceled");
    // A payment from before the deletion, delivered after it: ignored.
    let (s, b) = send(
        "evt_o2",
        "invoice.payment_succeeded",
        t + 8,
        invoice(&sim, 9900),
    )
    .await;
    assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("ignored")));
    // Even a newer one never resurrects a deleted subscription.
    let (s, b) = send(
        "evt_o4",
        "invoice.payment_succeeded",
        t + 20,
        invoice(&sim, 9900),
    )
    .await;
    assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("ignored")));
    let sub = subscription(&app, &token).await;
    assert_eq!(sub["status"], "canceled");
    let p = profile(&app, &token).await;
    assert_eq!(
        (p["tier"].as_str(), p["mode"].as_str()),
        (Some("free"), Some("archived"))
    );

    // An invoice of a subscription whose checkout has not arrived yet is deferred
    // (500 → Stripe retries), and nothing is recorded as done.
    let (orphan_org, _) = app.verified_owner("orphan@example.com", "Orphanco").await;
    let orphan = json!({"object": "invoice", "amount_paid": 100,
        "parent": {"subscription_details": {"subscription": "sub_not_yet", "metadata": {"org_id": orphan_org}}}});
    let (s, b) = send("evt_o5", "invoice.payment_succeeded", t + 30, orphan).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Some("WEBHOOK_PROCESSING_FAILED")
        )
    );
    let record = skiff_core::idempotency::record_key("stripe", "evt_o5");
    assert!(
        app.services().store.get(&record).await.unwrap().is_none(),
        "the claim is released"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_orgs_subscription_is_never_visible_to_another() {
    let app = spawn_app().await;
    let (org_a, token_a) = app.verified_owner("a@alpha.example", "Alpha").await;
    let (_org_b, token_b) = app.verified_owner("b@beta.example", "Beta").await;
    app.subscribe(&token_a, "enterprise").await;
    assert_eq!(subscription(&app, &token_a).await["plan_id"], "enterprise");

    let sub_b = subscription(&app, &token_b).await;
    assert_eq!(
        (sub_b["status"].as_str(), sub_b["plan_id"].as_str()),
        (Some("none"), Some("free"))
    );
    assert_eq!(profile(&app, &token_b).await["tier"], "free");
    assert!(audit_actions(&app, &token_b).await.is_empty());
    let (status, _) = call(
        &app,
        Method::DELETE,
        "/api/v1/billing/subscription",
        Some(&token_b),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/billing/portal",
        Some(&token_b),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 404);
    // A's subscription is unaffected by B's attempts.
    assert_eq!(subscription(&app, &token_a).await["status"], "trialing");
    let _ = org_a;
    app.stop().await;
}
