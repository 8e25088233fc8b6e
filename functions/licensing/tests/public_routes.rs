//! The public, key-based routes through the real router over the embedded adapters:
//! validation codes, activation, key status, the public key, malformed input and the
//! per-IP rate limit.

mod common;

use axum::http::StatusCode;
use common::{env, env_with, org};
use serde_json::json;
use skiff_licensing::hooks;
use std::time::Duration;

const VALIDATE: &str = "/api/v1/licenses/validate";

#[tokio::test]
async fn validation_answers_200_with_a_code_for_every_state() {
    let e = env().await;
    let s = &e.services;
    let license = e.issue(&org("a"), 5).await;

    let (status, _, body) = e
        .post(
            VALIDATE,
            &json!({ "license_key": "SKIFF-0000-0000-0000-0000-0000" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["valid"], false);
    assert_eq!(body["code"], "NOT_FOUND");
    assert!(body.get("license").is_none());

    // Keys are accepted in any case and with Crockford's aliases.
    let (status, _, body) = e
        .post(
            VALIDATE,
            &json!({ "license_key": license.key.to_lowercase() }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["valid"].clone(), body["code"].clone()),
        (json!(true), json!("VALID"))
    );
    assert_eq!(body["license"]["tier"], "pro");
    assert_eq!(body["license"]["max_seats"], 5);
    assert_eq!(body["license"]["seats_used"], 0);
    assert_eq!(body["license"]["status"], "active");
    assert!(
        body["license"]["expires_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    let grace = s.clock.unix() + 7 * 24 * 3600;
    hooks::set_grace_period(s, &org("a"), Some(grace))
        .await
        .unwrap();
    let (_, _, body) = e
        .post(VALIDATE, &json!({ "license_key": license.key }))
        .await;
    assert_eq!(
        (body["valid"].clone(), body["code"].clone()),
        (json!(true), json!("GRACE_PERIOD"))
    );
    assert!(body["license"]["grace_period_ends_at"].is_string());

    hooks::suspend_licenses(s, &org("a"), "payment_failed")
        .await
        .unwrap();
    let (_, _, body) = e
        .post(VALIDATE, &json!({ "license_key": license.key }))
        .await;
    assert_eq!(
        (body["valid"].clone(), body["code"].clone()),
        (json!(false), json!("SUSPENDED"))
    );
    assert_eq!(body["license"]["status"], "suspended");

    hooks::deactivate_licenses(s, &org("a")).await.unwrap();
    let (_, _, body) = e
        .post(VALIDATE, &json!({ "license_key": license.key }))
        .await;
    assert_eq!(body["code"], "INACTIVE");

    let other = e.issue(&org("b"), 1).await;
    e.clock.advance(Duration::from_secs(31 * 24 * 3600));
    let (_, _, body) = e.post(VALIDATE, &json!({ "license_key": other.key })).await;
    assert_eq!(
        (body["valid"].clone(), body["code"].clone()),
        (json!(false), json!("EXPIRED"))
    );
    assert_eq!(body["license"]["status"], "expired");
}

#[tokio::test]
async fn malformed_requests_are_problems() {
    let e = env().await;
    let (status, headers, body) = e
        .post(VALIDATE, &json!({ "license_key": "not-a-key" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(body["errors"][0]["field"], "license_key");

    let (status, _, body) = e.post(VALIDATE, &json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["code"], "REQUIRED");

    let (status, _, body) = e
        .post(
            VALIDATE,
            &json!({ "license_key": "SKIFF-0000-0000-0000-0000-0000", "hardware_id": "short" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "hardware_id");

    let (status, _, body) = e
        .send(
            axum::http::Request::post(VALIDATE)
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "INVALID_JSON");
}

#[tokio::test]
async fn activation_binds_machines_idempotently_and_validation_checks_them() {
    let e = env().await;
    let license = e.issue(&org("a"), 2).await;
    let activate = |hw: &str| json!({ "license_key": license.key, "hardware_id": hw });

    let (status, _, first) = e
        .post("/api/v1/licenses/activate", &activate("host-0001-abcdef"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(first["newly_activated"], true);
    let (status, _, again) = e
        .post("/api/v1/licenses/activate", &activate("host-0001-abcdef"))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "re-activating the same machine is idempotent"
    );
    assert_eq!(again["activated_at"], first["activated_at"]);

    let (_, _, body) = e
        .post(
            VALIDATE,
            &json!({ "license_key": license.key, "hardware_id": "host-0001-abcdef" }),
        )
        .await;
    assert_eq!(body["code"], "VALID");
    let (_, _, body) = e
        .post(
            VALIDATE,
            &json!({ "license_key": license.key, "hardware_id": "host-9999-abcdef" }),
        )
        .await;
    assert_eq!(
        (body["valid"].clone(), body["code"].clone()),
        (json!(false), json!("HARDWARE_MISMATCH"))
    );

    let (status, _, body) = e
        .get(&format!("/api/v1/licenses/{}/status", license.key))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "active");
    assert!(body["grace_period_ends_at"].is_null());

    hooks::suspend_licenses(&e.services, &org("a"), "payment_failed")
        .await
        .unwrap();
    let (status, _, body) = e
        .post("/api/v1/licenses/activate", &activate("host-0002-abcdef"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "SUSPENDED");
    let (_, _, body) = e
        .get(&format!("/api/v1/licenses/{}/status", license.key))
        .await;
    assert_eq!(body["status"], "suspended");

    let (status, _, _) = e
        .get("/api/v1/licenses/SKIFF-0000-0000-0000-0000-0000/status")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = e.get("/api/v1/licenses/whatever/status").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_public_key_is_served_and_verifies_the_files() {
    let e = env().await;
    let (status, headers, body) = e.get("/api/v1/licenses/public-key").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["alg"], "ed25519");
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    assert!(
        body["public_key_pem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(body["public_key"].as_str().unwrap())
        .unwrap();
    assert_eq!(raw.len(), 32);
    let license = e.issue(&org("a"), 2).await;
    let file = skiff_licensing::license_file(&e.services, &license)
        .await
        .unwrap();
    let payload = skiff_licensing::signing::verify_file(&file, &raw.try_into().unwrap())
        .expect("the served key verifies the files");
    assert_eq!(payload.kid, body["kid"].as_str().unwrap());
    assert_eq!(payload.key, license.key);
}

#[tokio::test]
async fn public_routes_are_rate_limited_per_client_ip() {
    let e = env_with(&[("SKIFF_LICENSE_VALIDATE_PER_MIN", "3")]).await;
    e.at_window_start();
    let body = json!({ "license_key": "SKIFF-0000-0000-0000-0000-0000" });
    for _ in 0..3 {
        let (status, _, _) = e.post(VALIDATE, &body).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, headers, problem) = e.post(VALIDATE, &body).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(problem["code"], "RATE_LIMITED");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    // The window ends: allowed again.
    e.clock.advance(Duration::from_secs(61));
    let (status, _, _) = e.post(VALIDATE, &body).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn member_routes_refuse_anonymous_callers() {
    let e = env().await;
    let license = e.issue(&org("a"), 2).await;
    for (method, path) in [
        ("GET", "/api/v1/licenses".to_owned()),
        ("GET", format!("/api/v1/licenses/{}", license.license_id)),
        (
            "GET",
            format!("/api/v1/licenses/{}/download", license.license_id),
        ),
        (
            "GET",
            format!("/api/v1/licenses/{}/sessions", license.license_id),
        ),
        ("GET", "/api/v1/licenses/audit".to_owned()),
        ("POST", "/api/v1/licenses/acquire".to_owned()),
        ("POST", "/api/v1/licenses/heartbeat".to_owned()),
        ("POST", "/api/v1/licenses/release".to_owned()),
        ("DELETE", "/api/v1/licenses/sessions/seat_x".to_owned()),
        (
            "PATCH",
            "/api/v1/licenses/sessions/seat_x/heartbeat".to_owned(),
        ),
    ] {
        let (status, _, body) = e
            .send(
                axum::http::Request::builder()
                    .method(method)
                    .uri(&path)
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from("{}"))
                    .unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
    }
}
