//! Dev-only routes: absent from a production server (404 like any unknown route,
//! with or without a token), and in dev the payment simulator's org triggers act
//! only for an owner or admin of that org.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skiff_e2e::{TestApp, spawn_app, spawn_app_with};

/// The code and status an unknown route answers.
async fn unknown_route(app: &TestApp) -> (StatusCode, Value) {
    app.call(Method::GET, "/no/such/route", None, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_production_server_has_no_dev_only_route() {
    // A production deployment names its mailer; the dev mailbox stores mail but
    // serves it at no route here.
    let app = spawn_app_with(&[("SKIFF_ENV", "prod"), ("SKIFF_MAIL", "dev")]).await;
    let org = app.register_owner("prod@example.com", "Prodco").await;
    let token = app.login("prod@example.com").await;
    let (unknown_status, unknown) = unknown_route(&app).await;
    assert_eq!(unknown_status, 404);

    let sim = "/api/v1/billing/simulator";
    let routes: Vec<(Method, String)> = vec![
        (Method::GET, "/_dev/mailbox".into()),
        (Method::GET, "/_dev/mailbox?to=prod@example.com".into()),
        (Method::GET, "/_dev/mailbox/some-id/html".into()),
        (Method::GET, "/_dev/clock".into()),
        (Method::POST, "/_dev/clock/advance".into()),
        (Method::POST, "/_dev/scheduler/run".into()),
        (Method::GET, format!("{sim}/checkout/cs_sim_1")),
        (Method::POST, format!("{sim}/checkout/cs_sim_1/pay")),
        (Method::POST, format!("{sim}/checkout/cs_sim_1/decline")),
        (Method::GET, format!("{sim}/portal/cus_sim_1")),
        (Method::GET, format!("{sim}/orgs/{org}")),
        (Method::POST, format!("{sim}/orgs/{org}/renew")),
        (Method::POST, format!("{sim}/orgs/{org}/fail")),
        (Method::POST, format!("{sim}/orgs/{org}/cancel")),
        (Method::POST, format!("{sim}/orgs/{org}/update")),
    ];
    for (method, path) in &routes {
        for bearer in [None, Some(token.as_str())] {
            let body = (method == Method::POST).then(|| json!({"seconds": 60}));
            let (status, problem) = app.call(method.clone(), path, bearer, body).await;
            assert_eq!(
                (status, &problem["code"]),
                (unknown_status, &unknown["code"]),
                "{method} {path} (token: {}) must be absent: {problem}",
                bearer.is_some()
            );
        }
    }
    // Signed blob URLs are served in production too (storage hands them out), and
    // refuse anything not signed.
    for method in [Method::GET, Method::PUT] {
        let (status, problem) = app
            .call(
                method,
                "/_blobs/blobs/org_1/file?op=get&exp=9999999999&sig=00",
                None,
                None,
            )
            .await;
        assert_eq!(status, 403, "{problem}");
        assert_eq!(problem["code"], "SIGNATURE_REJECTED");
    }
    // Nothing was triggered: the clock did not move and no event was recorded.
    let (status, events) = app
        .call(Method::GET, "/api/v1/billing/events", Some(&token), None)
        .await;
    assert_eq!(status, 200, "{events}");
    assert_eq!(events["events"], json!([]), "{events}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_triggers_need_an_owner_or_admin_of_that_org() {
    let app = spawn_app().await;
    let (org, owner) = app.verified_owner("own@example.com", "Ownco").await;
    app.subscribe(&owner, "pro").await;
    let (other_org, other_owner) = app.verified_owner("other@example.com", "Otherco").await;
    app.subscribe(&other_owner, "pro").await;
    let member = app.invited(&owner, "member@example.com", "member").await;
    let admin = app.invited(&owner, "admin@example.com", "admin").await;

    for action in ["renew", "fail", "cancel", "update"] {
        let path = format!("/api/v1/billing/simulator/orgs/{org}/{action}");
        let (status, body) = app.call(Method::POST, &path, None, None).await;
        assert_eq!(status, 401, "no token, {action}: {body}");
        let (status, body) = app
            .call(Method::POST, &path, Some(&other_owner), None)
            .await;
        assert_eq!(status, 404, "another org's owner, {action}: {body}");
        let (status, body) = app.call(Method::POST, &path, Some(&member), None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("INSUFFICIENT_ROLE")),
            "a member, {action}: {body}"
        );
    }
    let path = format!("/api/v1/billing/simulator/orgs/{org}");
    assert_eq!(app.call(Method::GET, &path, None, None).await.0, 401);
    assert_eq!(
        app.call(Method::GET, &path, Some(&other_owner), None)
            .await
            .0,
        404
    );
    assert_eq!(
        app.call(Method::GET, &path, Some(&member), None).await.0,
        403
    );

    // None of the refused calls changed the subscription; the admin's does.
    let before = app.sim_subscription(&owner, &org).await;
    assert_eq!(before["failed_attempts"], 0, "{before}");
    app.simulate(&admin, &org, "fail").await;
    let after = app.sim_subscription(&owner, &org).await;
    assert_eq!(after["failed_attempts"], 1, "{after}");
    // The other org was never touched.
    let theirs = app.sim_subscription(&other_owner, &other_org).await;
    assert_eq!(theirs["failed_attempts"], 0, "{theirs}");
    app.stop().await;
}
