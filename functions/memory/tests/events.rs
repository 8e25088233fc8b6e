//! The `events/memory` fixtures (API Gateway v2 HTTP events) drive the real router
//! through lambda_http's request conversion, as on Lambda. The fixtures carry a
//! placeholder credential; each test swaps in a key it made.

use axum::http::StatusCode;
use http_body_util::BodyExt;
use serde_json::Value;
use skiff_core::services::Services;
use tower::ServiceExt;

fn fixture(name: &str) -> Value {
    let path = format!("{}/../../events/memory/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("JSON event")
}

async fn services(dir: &tempfile::TempDir) -> Services {
    let config = skiff_app::AppConfig::from_vars([(
        "SKIFF_DATA_DIR".to_owned(),
        dir.path().display().to_string(),
    )])
    .expect("config");
    skiff_app::services::embedded(config, skiff_core::clock::OffsetClock::new())
        .await
        .expect("embedded services")
        .services
}

async fn send(services: &Services, event: &Value) -> (StatusCode, Value, axum::http::HeaderMap) {
    let request = lambda_http::request::from_str(&event.to_string()).expect("an API Gateway event");
    let response = skiff_fn_memory::app(services.clone())
        .oneshot(request)
        .await
        .expect("router answers");
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers,
    )
}

/// An org with an owner, and an API key with the memory scopes.
async fn api_key(services: &Services) -> String {
    use skiff_identity::names::Name;
    use skiff_identity::{Password, Role, Scopes, api_keys, registration};
    let now = services.clock.unix();
    let (user, org) = registration::register(
        services,
        registration::Registration {
            email: skiff_identity::EmailAddress::parse("owner@events.test").unwrap(),
            password: Password::new("Correct1horse", "password").unwrap(),
            full_name: Name::parse("Owner", "full_name").unwrap(),
            company: Name::parse("Events", "company_name").unwrap(),
        },
    )
    .await
    .map_err(|e| e.to_string())
    .expect("registered");
    let scopes = Scopes::parse_list(["memory:read", "memory:write"]).unwrap();
    let (_, key) = api_keys::create(
        services.store.as_ref(),
        now,
        api_keys::NewKey {
            org: &org.id,
            created_by: &user.id,
            name: "agent",
            scopes: &scopes,
            role: Role::Owner,
            expires_at: None,
            app_id: None,
        },
    )
    .await
    .expect("key");
    key
}

fn with_key(mut event: Value, key: &str) -> Value {
    let headers = event["headers"].as_object_mut().unwrap();
    if headers.contains_key("authorization") {
        headers.insert("authorization".into(), format!("Bearer {key}").into());
    } else {
        headers.insert("x-api-key".into(), key.into());
    }
    event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_and_recall_events_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let s = services(&dir).await;
    // The fixture's placeholder credential is refused in AutoMem's shape.
    let (status, body, _) = send(&s, &fixture("store.json")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        (body["status"].as_str(), body["code"].as_u64()),
        (Some("error"), Some(401))
    );

    let key = api_key(&s).await;
    let (status, stored, headers) = send(&s, &with_key(fixture("store.json"), &key)).await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    assert!(headers.contains_key("x-request-id"));
    let id = stored["memory_id"].as_str().unwrap();
    let (status, out, _) = send(&s, &with_key(fixture("recall.json"), &key)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["results"][0]["id"], id, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_and_mcp_initialize_events_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let s = services(&dir).await;
    let (status, health, _) = send(&s, &fixture("health.json")).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert_eq!(health["status"], "healthy");
    let key = api_key(&s).await;
    let (status, body, headers) = send(&s, &with_key(fixture("mcp-initialize.json"), &key)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(headers["mcp-session-id"].len(), 32);
}
