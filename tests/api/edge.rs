//! The HTTP edge: every rejection is problem+json with a status the client can act
//! on — bad cursors, over-long ids, malformed queries, missing content types,
//! missing and unknown body fields — and none is a 500.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skiff_e2e::{TestApp, spawn_app};

/// (status, content type, body) of a raw request.
async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, String, Value) {
    let mut req = app.client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(b) = body {
        req = req.body(b.to_owned());
    }
    let r = req.send().await.expect("request");
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = r.text().await.unwrap_or_default();
    (
        status,
        ct,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

fn assert_problem((status, ct, body): &(StatusCode, String, Value), want: StatusCode, code: &str) {
    assert_eq!(*status, want, "{body}");
    assert_eq!(ct, "application/problem+json", "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], want.as_u16(), "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
}

fn failed_fields(body: &Value) -> Vec<String> {
    let mut fields: Vec<String> = body["errors"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect();
    fields.sort();
    fields
}

/// A verified owner with a license: (token, license id).
async fn licensed(app: &TestApp) -> (String, String) {
    let (_, token) = app.verified_owner("edge@example.com", "Edge Co").await;
    app.subscribe(&token, "starter").await;
    let (status, list) = app
        .call(Method::GET, "/api/v1/licenses", Some(&token), None)
        .await;
    assert_eq!(status, 200, "{list}");
    let id = list["licenses"][0]["id"].as_str().unwrap().to_owned();
    (token, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_forged_and_foreign_cursors_are_400_invalid_cursor() {
    let app = spawn_app().await;
    let (token, id) = licensed(&app).await;
    let sessions = format!("/api/v1/licenses/{id}/sessions");
    for path in [
        format!("{sessions}?cursor=garbage"),
        "/api/v1/licenses/audit?cursor=garbage".to_owned(),
        "/api/v1/licenses?cursor=not.signed".to_owned(),
        "/api/v1/orgs/current/members?cursor=%00%01".to_owned(),
        "/api/v1/auth/api-keys?cursor=x".to_owned(),
        "/api/v1/billing/events?cursor=AAAA.BBBB".to_owned(),
    ] {
        let r = raw(&app, Method::GET, &path, Some(&token), None, None).await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "INVALID_CURSOR");
    }

    // A real cursor of one list is refused by another list of the same org.
    let (status, events) = app
        .call(
            Method::GET,
            "/api/v1/billing/events?limit=1",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{events}");
    let cursor = events["next_cursor"].as_str().expect("more than one event");
    let (status, again) = app
        .call(
            Method::GET,
            &format!("/api/v1/billing/events?limit=1&cursor={cursor}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "its own list takes it: {again}");
    for path in [
        format!("/api/v1/licenses/audit?cursor={cursor}"),
        format!("{sessions}?cursor={cursor}"),
        format!("/api/v1/auth/api-keys?cursor={cursor}"),
    ] {
        let r = raw(&app, Method::GET, &path, Some(&token), None, None).await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "INVALID_CURSOR");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_long_and_malformed_path_ids_are_404_never_500() {
    let app = spawn_app().await;
    let (token, _) = licensed(&app).await;
    let long = "a".repeat(1100);
    for (method, path) in [
        (Method::GET, format!("/api/v1/licenses/{long}")),
        (Method::GET, format!("/api/v1/licenses/{long}/sessions")),
        (Method::GET, format!("/api/v1/licenses/{long}/download")),
        (Method::GET, format!("/api/v1/licenses/{long}/status")),
        (Method::DELETE, format!("/api/v1/auth/api-keys/{long}")),
        (Method::GET, format!("/api/v1/auth/verify-email/{long}")),
        (Method::GET, "/api/v1/licenses/%FF%FE/sessions".to_owned()),
    ] {
        let r = raw(&app, method.clone(), &path, Some(&token), None, None).await;
        assert_problem(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    // An id that merely does not exist is 404 as well, not 422.
    let r = raw(
        &app,
        Method::GET,
        "/api/v1/licenses/lic_doesnotexist/sessions",
        Some(&token),
        None,
        None,
    )
    .await;
    assert_problem(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_rejections_are_422_problems_naming_the_parameter() {
    let app = spawn_app().await;
    let (token, id) = licensed(&app).await;
    for path in [
        "/api/v1/licenses?limit=abc".to_owned(),
        "/api/v1/licenses?limit=0".to_owned(),
        "/api/v1/licenses?limit=201".to_owned(),
        "/api/v1/licenses/audit?limit=-1".to_owned(),
        format!("/api/v1/licenses/{id}/sessions?limit=1000"),
        "/api/v1/orgs/current/members?limit=x".to_owned(),
        "/api/v1/auth/api-keys?limit=999".to_owned(),
        "/api/v1/billing/events?limit=99999999999999999999999".to_owned(),
    ] {
        let r = raw(&app, Method::GET, &path, Some(&token), None, None).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED");
        assert_eq!(failed_fields(&r.2), ["limit"], "{path}: {}", r.2);
    }
    let r = raw(
        &app,
        Method::GET,
        "/api/v1/licenses?limit=200",
        Some(&token),
        None,
        None,
    )
    .await;
    assert_eq!(r.0, 200, "the largest page is allowed: {}", r.2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_without_a_json_content_type_is_415() {
    let app = spawn_app().await;
    let body = r#"{"email":"a@example.com","password":"x"}"#;
    for ct in [None, Some("text/plain")] {
        let r = raw(
            &app,
            Method::POST,
            "/api/v1/auth/login",
            None,
            ct,
            Some(body),
        )
        .await;
        assert_problem(
            &r,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
        );
    }
    let r = raw(
        &app,
        Method::POST,
        "/api/v1/licenses/validate",
        None,
        Some("application/json"),
        Some("{not json"),
    )
    .await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "INVALID_JSON");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_fields_are_422_listing_every_one_and_unknown_fields_are_named() {
    let app = spawn_app().await;
    let json = Some("application/json");
    // Every missing field at once, on routes whose bodies have no defaults.
    let r = raw(
        &app,
        Method::POST,
        "/api/v1/licenses/activate",
        None,
        json,
        Some("{}"),
    )
    .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED");
    assert_eq!(failed_fields(&r.2), ["hardware_id", "license_key"]);
    let (_, token) = app.verified_owner("fields@example.com", "Fields Co").await;
    let r = raw(
        &app,
        Method::POST,
        "/api/v1/billing/checkout",
        Some(&token),
        json,
        Some("{}"),
    )
    .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED");
    assert!(
        failed_fields(&r.2).contains(&"plan_id".to_owned()),
        "{}",
        r.2
    );

    // Unknown fields are named, on every kind of body.
    for (path, body) in [
        (
            "/api/v1/auth/login",
            json!({"email": "a@example.com", "password": "x", "remember_me": true}),
        ),
        (
            "/api/v1/licenses/validate",
            json!({"license_key": "SKIFF-AAAA", "hardwareid": "typo"}),
        ),
    ] {
        let r = raw(
            &app,
            Method::POST,
            path,
            None,
            json,
            Some(&body.to_string()),
        )
        .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED");
        let unknown: Vec<&Value> = r.2["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["code"] == "UNKNOWN_FIELD")
            .collect();
        assert_eq!(unknown.len(), 1, "{path}: {}", r.2);
    }
    // A value of the wrong type names its field.
    let r = raw(
        &app,
        Method::POST,
        "/api/v1/licenses/validate",
        None,
        json,
        Some(r#"{"license_key": 42}"#),
    )
    .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED");
    assert_eq!(failed_fields(&r.2), ["license_key"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_rejections_are_problems_too() {
    let app = spawn_app().await;
    let r = raw(
        &app,
        Method::PUT,
        "/api/v1/licenses/validate",
        None,
        None,
        None,
    )
    .await;
    assert_problem(&r, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
    let r = raw(&app, Method::GET, "/api/v1/nowhere", None, None, None).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "NOT_FOUND");
}
