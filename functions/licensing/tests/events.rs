//! The `events/licensing` fixtures (API Gateway v2 HTTP events) drive the real
//! router through lambda_http's request conversion, as on Lambda.

mod common;

use axum::http::StatusCode;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

fn fixture(name: &str) -> Value {
    event(&format!("licensing/{name}"))
}

fn event(rel: &str) -> Value {
    let path = format!("{}/../../events/{rel}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("JSON event")
}

/// Feed an API Gateway v2 event through the router the Lambda function runs.
async fn invoke(services: &skiff_core::services::Services, event: &Value) -> (StatusCode, Value) {
    let (status, body, _) = send(services, event).await;
    (status, body)
}

async fn send(
    services: &skiff_core::services::Services,
    event: &Value,
) -> (StatusCode, Value, axum::http::HeaderMap) {
    let request = lambda_http::request::from_str(&event.to_string()).expect("an API Gateway event");
    let app = skiff_fn_licensing::app(services.clone());
    let response = app.oneshot(request).await.expect("router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers,
    )
}

fn with_body(mut event: Value, body: Value) -> Value {
    event["body"] = body.to_string().into();
    event
}

#[tokio::test]
async fn the_validate_event_is_answered_and_rate_limited_by_its_source_ip() {
    let e = common::env_with(&[("SKIFF_LICENSE_VALIDATE_PER_MIN", "3")]).await;
    e.at_window_start();
    let event = fixture("validate.json");

    // The fixture's key is unknown here.
    let (status, body) = invoke(&e.services, &event).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["code"], "NOT_FOUND");

    // With a real key, the fixture's machine is not activated yet.
    let license = e.issue(&common::org("evt"), 3).await;
    let sent: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
    let hw = sent["hardware_id"].as_str().unwrap();
    let real = with_body(
        event.clone(),
        json!({ "license_key": license.key, "hardware_id": hw }),
    );
    let (_, body) = invoke(&e.services, &real).await;
    assert_eq!(body["code"], "HARDWARE_MISMATCH");
    skiff_fn_licensing::service::activate(&e.services, &license.key, hw, &Default::default())
        .await
        .unwrap();
    let (_, body) = invoke(&e.services, &real).await;
    assert_eq!(
        (body["valid"].clone(), body["code"].clone()),
        (json!(true), json!("VALID"))
    );

    // Fourth request from the fixture's source IP this minute: limited; another IP is not.
    let (status, body) = invoke(&e.services, &real).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let mut elsewhere = real.clone();
    elsewhere["requestContext"]["http"]["sourceIp"] = "203.0.113.9".into();
    let (status, _) = invoke(&e.services, &elsewhere).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_acquire_event_reaches_the_seat_route_and_its_fixture_token_is_refused() {
    let e = common::env().await;
    let event = fixture("acquire.json");
    assert_eq!(event["rawPath"], "/api/v1/licenses/acquire");
    // The fixture carries a syntactically valid but unsigned bearer token.
    let (status, body) = invoke(&e.services, &event).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["status"], 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_fixtures_are_answered_by_the_handler_with_the_common_layers() {
    let e = common::env().await;
    for route in ["healthz", "livez", "readyz", "version"] {
        let (status, body, headers) =
            send(&e.services, &event(&format!("health/{route}.json"))).await;
        assert_eq!(status, StatusCode::OK, "GET /{route}: {body}");
        assert_eq!(headers["x-request-id"], format!("evt-{route}-1").as_str());
        assert_eq!(headers["x-content-type-options"], "nosniff");
        match route {
            "readyz" => assert_eq!(body["status"], "ready"),
            "version" => assert_eq!(body["version"], env!("CARGO_PKG_VERSION")),
            _ => assert_eq!(body["status"], "ok"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_may_send_the_seat_token_header_cross_origin() {
    let e = common::env_with(&[("SKIFF_CORS_ORIGINS", "https://app.example.com")]).await;
    let preflight = |requested: &str| {
        let mut event = fixture("release-session-preflight.json");
        event["headers"]["access-control-request-headers"] = requested.into();
        event
    };
    let (status, _, headers) = send(&e.services, &preflight("x-seat-token")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    let allowed: Vec<&str> = allowed.split(',').map(str::trim).collect();
    assert!(allowed.contains(&"x-seat-token"), "{allowed:?}");
    // Headers no route reads are not offered.
    for unread in ["idempotency-key", "x-forwarded-host"] {
        assert!(!allowed.contains(&unread), "{unread} in {allowed:?}");
    }
}
