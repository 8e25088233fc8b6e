//! The `events/billing` API Gateway v2 fixtures driven through the real handler
//! (the router `lambda_http::run` serves), over the embedded adapters.

use http_body_util::BodyExt;
use serde_json::Value;
use skiff_app::AppConfig as Config;
use skiff_billing::STRIPE_WEBHOOK_SECRET;
use skiff_billing::service::subscription_of;
use skiff_billing::subscription::Status;
use skiff_core::clock::{FixedClock, SharedClock};
use skiff_core::ports::secrets::SecretValue;
use skiff_core::services::Services;
use skiff_http::principal;
use skiff_identity::access_token::{self, Grant};
use skiff_identity::orgs::{self, Membership, Org};
use skiff_identity::signing_keys;
use skiff_identity::users::{self, User};
use skiff_identity::{EmailAddress, OrgId, Role, Scopes, UserId};
use std::sync::Arc;
use tower::ServiceExt;

fn fixture(name: &str) -> String {
    event(&format!("billing/{name}"))
}

fn event(rel: &str) -> String {
    let path = format!("{}/../../events/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).expect("fixture")
}

async fn services(dir: &std::path::Path, vars: &[(&str, &str)], clock: SharedClock) -> Services {
    let mut all = vec![("SKIFF_DATA_DIR".to_owned(), dir.display().to_string())];
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_vars(all).expect("config");
    skiff_app::services::embedded(config, clock)
        .await
        .expect("services")
        .services
}

async fn invoke(services: &Services, event: &str) -> (u16, Value) {
    let request = lambda_http::request::from_str(event).expect("an API Gateway v2 event");
    let response = skiff_fn_billing::app(services.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// The fixture is signed with `whsec_skiff_fixture_secret` at t = 2026-01-01T00:00Z.
const FIXTURE_TIME: i64 = 1_767_225_600;

#[tokio::test]
async fn the_webhook_fixture_starts_a_subscription_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock =
        FixedClock::at(time::OffsetDateTime::from_unix_timestamp(FIXTURE_TIME + 5).unwrap());
    let s = services(dir.path(), &[("SKIFF_PAYMENTS", "stripe")], clock.clone()).await;
    s.secrets
        .set(
            STRIPE_WEBHOOK_SECRET,
            SecretValue::new("whsec_skiff_fixture_secret"),
        )
        .await
        .unwrap();
    skiff_app::telemetry::init("warn");
    let event = fixture("webhook.json");

    let (status, body) = invoke(&s, &event).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("processed")),
        "{body}"
    );
    let sub = subscription_of(
        &s,
        &OrgId::parse("org_0123456789abcdef0123456789abcdef").unwrap(),
    )
    .await
    .unwrap()
    .expect("subscription");
    assert_eq!(
        (sub.plan_id.as_str(), sub.status),
        ("pro", Status::Trialing)
    );
    assert_eq!(sub.subscription_id.as_str(), "sub_fixture_1");

    let (status, body) = invoke(&s, &event).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("duplicate")));

    // The same delivery ten minutes later is outside the signature tolerance.
    clock.advance(std::time::Duration::from_secs(600));
    let (status, body) = invoke(&s, &event).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_SIGNATURE"))
    );
}

#[tokio::test]
async fn the_checkout_fixture_returns_a_simulator_checkout_url() {
    let dir = tempfile::tempdir().unwrap();
    let clock: SharedClock = Arc::new(skiff_core::clock::SystemClock);
    let s = services(
        dir.path(),
        &[
            ("SKIFF_PUBLIC_URL", "https://api.example.com"),
            ("SKIFF_CHECKOUT_REDIRECT_ORIGINS", "https://app.example.com"),
        ],
        clock,
    )
    .await;
    // A verified owner of an org, and an access token for them.
    let now = s.clock.unix();
    let user_id = UserId::new();
    let org_id = OrgId::new();
    let user = User {
        id: user_id.clone(),
        email: EmailAddress::parse("owner@example.com").unwrap(),
        full_name: "Owner".into(),
        password_hash: "unused".into(),
        email_verified: true,
        created_at: now,
        platform_admin: false,
        company: None,
        suspended_at: None,
        default_org: org_id.clone(),
    };
    let org = Org {
        id: org_id.clone(),
        name: "Fixture Inc".into(),
        created_at: now,
        owners: 1,
    };
    let owner = Membership {
        org_id: org_id.clone(),
        user_id: user_id.clone(),
        role: Role::Owner,
        joined_at: now,
    };
    let mut writes = users::create_writes(&user).unwrap();
    writes.extend(orgs::create_writes(&org, &owner).unwrap());
    s.store.transact(writes).await.unwrap();
    let keys = signing_keys::current(&s.secrets).await.unwrap();
    let token = access_token::issue(
        &keys,
        &principal::audience(&s),
        now,
        Grant {
            user: &user_id,
            org: &org_id,
            role: Role::Owner,
            scopes: &Scopes::all(),
            session: None,
        },
    );
    let event = fixture("checkout.json").replace("ACCESS_TOKEN", &token);

    let (status, body) = invoke(&s, &event).await;
    assert_eq!(status, 200, "{body}");
    let url = body["checkout_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://api.example.com/api/v1/billing/simulator/checkout/cs_sim_"),
        "{url}"
    );
    assert!(body["session_id"].as_str().unwrap().starts_with("cs_sim_"));

    // Without the token: 401.
    let (status, _) = invoke(&s, &fixture("checkout.json")).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_fixtures_are_answered_by_the_handler_with_the_common_layers() {
    let dir = tempfile::tempdir().unwrap();
    let s = services(dir.path(), &[], Arc::new(skiff_core::clock::SystemClock)).await;
    for route in ["healthz", "livez", "readyz", "version"] {
        let request = lambda_http::request::from_str(&event(&format!("health/{route}.json")))
            .expect("an API Gateway v2 event");
        let response = skiff_fn_billing::app(s.clone())
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET /{route}");
        assert_eq!(
            response.headers()["x-request-id"],
            format!("evt-{route}-1").as_str()
        );
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&body).unwrap();
        match route {
            "readyz" => assert_eq!(body["status"], "ready", "{body}"),
            "version" => assert_eq!(body["version"], env!("CARGO_PKG_VERSION")),
            _ => assert_eq!(body["status"], "ok"),
        }
    }
}
