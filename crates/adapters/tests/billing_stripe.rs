//! Contract tests of the Stripe adapter against a local HTTP fixture server standing
//! in for Stripe's API: paths, form fields, `Idempotency-Key` and auth headers, error
//! mapping and retries of transient failures under the same idempotency key.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};
use skiff_adapters::stripe::{API_VERSION, StripePayments};
use skiff_core::ids::{OrgId, SubscriptionId};
use skiff_core::ports::payments::{CheckoutRequest, NewCustomer, Payments, PaymentsError};
use skiff_core::ports::secrets::SecretValue;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A canned answer: status, extra headers, JSON body.
type Answer = (u16, Vec<(&'static str, &'static str)>, Value);

/// One request the fixture received.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: HeaderMap,
    form: HashMap<String, String>,
}

/// Canned answers, served in order (the last one repeats).
#[derive(Default)]
struct Fixture {
    seen: Mutex<Vec<Seen>>,
    answers: Mutex<VecDeque<Answer>>,
}

async fn handle(
    State(f): State<Arc<Fixture>>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    let form: HashMap<String, String> = body
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let dec = |s: &str| {
                let s = s.replace('+', " ");
                percent_decode(&s)
            };
            (dec(k), dec(v))
        })
        .collect();
    f.seen.lock().unwrap().push(Seen {
        path: uri.path().to_owned(),
        headers,
        form,
    });
    let mut answers = f.answers.lock().unwrap();
    let (status, headers, body) = if answers.len() > 1 {
        answers.pop_front().unwrap()
    } else {
        answers.front().cloned().expect("an answer is queued")
    };
    let mut response = (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
    for (k, v) in headers {
        response.headers_mut().insert(k, v.parse().unwrap());
    }
    response
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

async fn fixture(answers: Vec<Answer>) -> (Arc<Fixture>, StripePayments) {
    let f = Arc::new(Fixture::default());
    *f.answers.lock().unwrap() = answers.into();
    let app = axum::Router::new()
        .route("/{*path}", post(handle))
        .with_state(f.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let stripe = StripePayments::new(format!("http://{addr}/"), SecretValue::new("sk_test_123"))
        .with_backoff(Duration::from_millis(5));
    (f, stripe)
}

fn ok(body: Value) -> Answer {
    (200, vec![], body)
}

fn org() -> OrgId {
    OrgId::parse("org_0000000000000000000000000000002a").unwrap()
}

fn sub(id: &str) -> SubscriptionId {
    SubscriptionId::parse(id).unwrap()
}

fn checkout_request(trial_days: u32) -> CheckoutRequest {
    CheckoutRequest {
        org_id: org(),
        plan_id: "pro".into(),
        price_id: "price_pro".into(),
        customer_id: "cus_9".into(),
        success_url: "https://app.example.com/ok?s={CHECKOUT_SESSION_ID}".into(),
        cancel_url: "https://app.example.com/cancel".into(),
        trial_days,
    }
}

#[tokio::test]
async fn create_customer_posts_email_metadata_and_an_idempotency_key() {
    let (f, stripe) = fixture(vec![ok(json!({"id": "cus_9", "object": "customer"}))]).await;
    let id = stripe
        .create_customer(
            &NewCustomer {
                org_id: org(),
                email: "owner+billing@example.com".into(),
                name: Some("Acme & Co".into()),
            },
            "skiff-customer-org_0000000000000000000000000000002a",
        )
        .await
        .unwrap();
    assert_eq!(id, "cus_9");
    let seen = f.seen.lock().unwrap()[0].clone();
    assert_eq!(seen.path, "/v1/customers");
    assert_eq!(seen.form["email"], "owner+billing@example.com");
    assert_eq!(seen.form["name"], "Acme & Co");
    assert_eq!(
        seen.form["metadata[org_id]"],
        "org_0000000000000000000000000000002a"
    );
    assert_eq!(
        seen.headers["idempotency-key"],
        "skiff-customer-org_0000000000000000000000000000002a"
    );
    assert_eq!(seen.headers["authorization"], "Bearer sk_test_123");
    assert_eq!(seen.headers["stripe-version"], API_VERSION);
    assert_eq!(
        seen.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
}

#[tokio::test]
async fn checkout_session_carries_org_plan_trial_and_redirects() {
    let (f, stripe) = fixture(vec![ok(
        json!({"id": "cs_1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/cs_1"}),
    )])
    .await;
    let session = stripe
        .create_checkout_session(&checkout_request(14), "skiff-checkout-1")
        .await
        .unwrap();
    assert_eq!(session.id, "cs_1");
    assert_eq!(session.url, "https://checkout.stripe.com/c/cs_1");
    let seen = f.seen.lock().unwrap()[0].clone();
    assert_eq!(seen.path, "/v1/checkout/sessions");
    let expect = [
        ("mode", "subscription"),
        ("customer", "cus_9"),
        (
            "client_reference_id",
            "org_0000000000000000000000000000002a",
        ),
        ("line_items[0][price]", "price_pro"),
        ("line_items[0][quantity]", "1"),
        (
            "success_url",
            "https://app.example.com/ok?s={CHECKOUT_SESSION_ID}",
        ),
        ("cancel_url", "https://app.example.com/cancel"),
        ("metadata[org_id]", "org_0000000000000000000000000000002a"),
        ("metadata[plan_id]", "pro"),
        ("metadata[trial_days]", "14"),
        (
            "subscription_data[metadata][org_id]",
            "org_0000000000000000000000000000002a",
        ),
        ("subscription_data[metadata][plan_id]", "pro"),
        ("subscription_data[trial_period_days]", "14"),
    ];
    for (k, v) in expect {
        assert_eq!(
            seen.form.get(k).map(String::as_str),
            Some(v),
            "form field {k}"
        );
    }
    assert_eq!(seen.headers["idempotency-key"], "skiff-checkout-1");

    // Without a trial the trial parameter is absent.
    let (f, stripe) = fixture(vec![ok(json!({"id": "cs_2", "url": "https://x/"}))]).await;
    stripe
        .create_checkout_session(&checkout_request(0), "k")
        .await
        .unwrap();
    assert!(
        !f.seen.lock().unwrap()[0]
            .form
            .contains_key("subscription_data[trial_period_days]")
    );
}

#[tokio::test]
async fn cancel_and_portal_calls() {
    let (f, stripe) = fixture(vec![
        ok(json!({"id": "sub_1", "cancel_at_period_end": true})),
        ok(json!({"id": "bps_1", "url": "https://billing.stripe.com/p/session/x"})),
    ])
    .await;
    stripe
        .cancel_at_period_end(&sub("sub_1"), "skiff-cancel-1")
        .await
        .unwrap();
    let url = stripe
        .portal_url("cus_9", "https://app.example.com/billing")
        .await
        .unwrap();
    assert_eq!(url, "https://billing.stripe.com/p/session/x");
    let seen = f.seen.lock().unwrap().clone();
    assert_eq!(seen[0].path, "/v1/subscriptions/sub_1");
    assert_eq!(seen[0].form["cancel_at_period_end"], "true");
    assert_eq!(seen[0].headers["idempotency-key"], "skiff-cancel-1");
    assert_eq!(seen[1].path, "/v1/billing_portal/sessions");
    assert_eq!(seen[1].form["customer"], "cus_9");
    assert_eq!(
        seen[1].form["return_url"],
        "https://app.example.com/billing"
    );
    assert!(seen[1].headers.contains_key("idempotency-key"));
    // An id that would change the path cannot even be made.
    assert!(SubscriptionId::parse("sub_1/../x").is_err());
}

#[tokio::test]
async fn stripe_errors_map_to_typed_port_errors() {
    let err = |status: u16, kind: &str, code: &str| {
        (
            status,
            vec![],
            json!({"error": {"type": kind, "code": code, "message": format!("{kind} happened"), "param": "customer"}}),
        )
    };
    let (_, stripe) = fixture(vec![err(400, "invalid_request_error", "resource_missing")]).await;
    match stripe
        .create_checkout_session(&checkout_request(0), "k")
        .await
    {
        Err(PaymentsError::Rejected {
            status,
            kind,
            code,
            message,
        }) => {
            assert_eq!(status, 400);
            assert_eq!(kind, "invalid_request_error");
            assert_eq!(code.as_deref(), Some("resource_missing"));
            assert!(message.contains("happened"));
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    let (_, stripe) = fixture(vec![err(401, "authentication_error", "")]).await;
    assert!(matches!(
        stripe.portal_url("cus", "https://x").await,
        Err(PaymentsError::Authentication(_))
    ));
    let (_, stripe) = fixture(vec![err(404, "invalid_request_error", "resource_missing")]).await;
    assert!(matches!(
        stripe.cancel_at_period_end(&sub("sub_x"), "k").await,
        Err(PaymentsError::NotFound(_))
    ));
    let (_, stripe) = fixture(vec![err(402, "card_error", "card_declined")]).await;
    assert!(matches!(
        stripe
            .create_customer(
                &NewCustomer {
                    org_id: org(),
                    email: "e@x.y".into(),
                    name: None
                },
                "k"
            )
            .await,
        Err(PaymentsError::Rejected { status: 402, .. })
    ));
    let (_, stripe) = fixture(vec![err(400, "idempotency_error", "")]).await;
    assert!(matches!(
        stripe
            .create_customer(
                &NewCustomer {
                    org_id: org(),
                    email: "e@x.y".into(),
                    name: None
                },
                "k"
            )
            .await,
        Err(PaymentsError::Rejected { .. })
    ));
}

#[tokio::test]
async fn transient_failures_are_retried_with_the_same_idempotency_key() {
    let (f, stripe) = fixture(vec![
        (
            500,
            vec![],
            json!({"error": {"type": "api_error", "message": "boom"}}),
        ),
        (
            429,
            vec![],
            json!({"error": {"type": "rate_limit_error", "message": "slow down"}}),
        ),
        ok(json!({"id": "cus_ok"})),
    ])
    .await;
    let id = stripe
        .create_customer(
            &NewCustomer {
                org_id: org(),
                email: "e@x.y".into(),
                name: None,
            },
            "same-key",
        )
        .await
        .unwrap();
    assert_eq!(id, "cus_ok");
    let seen = f.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter()
            .all(|s| s.headers["idempotency-key"] == "same-key")
    );

    // Still failing after every attempt → Unavailable.
    let (f, stripe) = fixture(vec![(
        503,
        vec![],
        json!({"error": {"type": "api_error", "message": "down"}}),
    )])
    .await;
    assert!(matches!(
        stripe.portal_url("cus", "https://x").await,
        Err(PaymentsError::Unavailable(_))
    ));
    assert_eq!(f.seen.lock().unwrap().len(), 3);

    // Stripe-Should-Retry: false stops retries even on a 5xx-class conflict.
    let (f, stripe) = fixture(vec![(
        409,
        vec![("stripe-should-retry", "false")],
        json!({"error": {"type": "invalid_request_error", "message": "lock"}}),
    )])
    .await;
    assert!(stripe.portal_url("cus", "https://x").await.is_err());
    assert_eq!(f.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_unreachable_api_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let stripe = StripePayments::new(format!("http://{addr}"), SecretValue::new("sk"))
        .with_backoff(Duration::from_millis(1));
    assert!(matches!(
        stripe.portal_url("cus", "https://x").await,
        Err(PaymentsError::Unavailable(_))
    ));
}
