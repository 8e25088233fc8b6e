//! Identity and access hardening, black-box over HTTP: roles read from the store,
//! API key expiry and use, case-insensitive e-mail identity, rate limits on the
//! token routes, and listing and revoking invitations.

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skiff_e2e::requests::{call, get, post};
use skiff_e2e::{TEST_PASSWORD, TestApp, find_link, spawn_app, spawn_app_with};
use std::time::Duration;

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("")
}

/// A problem+json answer with `status` and `code`.
fn assert_problem(status: StatusCode, body: &Value, headers: &HeaderMap, want: u16, code: &str) {
    assert_eq!(status.as_u16(), want, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(
        headers["content-type"], "application/problem+json",
        "{body}"
    );
}

/// Log in; returns the whole token pair.
async fn login_pair(app: &TestApp, email: &str) -> Value {
    let (status, pair) = post(
        app,
        "/api/v1/auth/login",
        None,
        json!({"email": email, "password": TEST_PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{pair}");
    pair
}

/// Invite `email` as `role` and return the token from the e-mailed link.
async fn invite(app: &TestApp, owner: &str, email: &str, role: &str) -> (Value, String) {
    let (status, inv) = post(
        app,
        "/api/v1/orgs/current/invitations",
        Some(owner),
        json!({"email": email, "role": role}),
    )
    .await;
    assert_eq!(status, 201, "{inv}");
    let mail = app.wait_for_email(email, "invited to join").await;
    let text = mail["text"].as_str().expect("text body");
    let link = find_link(text, &app.url("/accept-invitation")).expect("invitation link");
    let token = link.split("token=").nth(1).expect("token").to_owned();
    (inv, token)
}

/// An org owned by `owner_email` with `member_email` as a member of `role`:
/// (owner token, member token, member user id).
async fn org_with_member(
    app: &TestApp,
    owner_email: &str,
    member_email: &str,
    role: &str,
) -> (String, String, String) {
    app.register_owner(owner_email, "Acme").await;
    let owner = app.login(owner_email).await;
    let (_, token) = invite(app, &owner, member_email, role).await;
    let (status, accepted) = post(
        app,
        "/api/v1/orgs/invitations/accept",
        None,
        json!({"token": token, "full_name": "Grace Hopper", "password": TEST_PASSWORD}),
    )
    .await;
    assert_eq!(status, 201, "{accepted}");
    let user_id = accepted["user_id"].as_str().unwrap().to_owned();
    (owner, app.login(member_email).await, user_id)
}

/// Move the server's clock to just past the start of a `window`-second window, so
/// the requests that follow fall into one window.
async fn start_of_window(app: &TestApp, window: u64) {
    let now: Value = app.get("/_dev/clock").await.json().await.unwrap();
    let now = now["now"].as_u64().unwrap();
    app.advance_clock(Duration::from_secs(window - now % window + 1))
        .await;
}

async fn server_now(app: &TestApp) -> i64 {
    let now: Value = app.get("/_dev/clock").await.json().await.unwrap();
    now["now"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demoted_admin_loses_admin_powers_while_the_token_is_still_valid() {
    let app = spawn_app().await;
    let (owner, admin, admin_id) =
        org_with_member(&app, "owner@acme.test", "admin@acme.test", "admin").await;
    // While an admin, the token may manage the org.
    let (status, body) = post(
        &app,
        "/api/v1/orgs/current/invitations",
        Some(&admin),
        json!({"email": "first@acme.test"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // ... and read its billing events and license audit.
    for path in ["/api/v1/billing/events", "/api/v1/licenses/audit"] {
        let (status, body) = get(&app, path, &admin).await;
        assert_eq!(status, 200, "{path}: {body}");
    }

    let (status, body, _) = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/orgs/current/members/{admin_id}"),
        Some(&owner),
        Some(json!({"role": "member"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The same, unexpired token: every role-gated route refuses at once.
    let (status, body, headers) = call(
        &app,
        Method::POST,
        "/api/v1/orgs/current/invitations",
        Some(&admin),
        Some(json!({"email": "second@acme.test"})),
    )
    .await;
    assert_problem(status, &body, &headers, 403, "INSUFFICIENT_ROLE");
    let (status, body, headers) = call(
        &app,
        Method::POST,
        "/api/v1/auth/api-keys",
        Some(&admin),
        Some(json!({"name": "ci", "scopes": ["org:read"]})),
    )
    .await;
    assert_problem(status, &body, &headers, 403, "INSUFFICIENT_ROLE");
    let (status, body, headers) = call(
        &app,
        Method::PATCH,
        "/api/v1/orgs/current",
        Some(&admin),
        Some(json!({"name": "Mine now"})),
    )
    .await;
    assert_problem(status, &body, &headers, 403, "INSUFFICIENT_ROLE");
    // Billing and licensing re-read the role too.
    for path in ["/api/v1/billing/events", "/api/v1/licenses/audit"] {
        let (status, body, headers) = call(&app, Method::GET, path, Some(&admin), None).await;
        assert_problem(status, &body, &headers, 403, "INSUFFICIENT_ROLE");
    }
    let (status, body, headers) = call(
        &app,
        Method::POST,
        "/api/v1/billing/checkout",
        Some(&admin),
        Some(json!({"plan_id": "pro", "success_url": app.url("/done"), "cancel_url": app.url("/cancel")})),
    )
    .await;
    assert_problem(status, &body, &headers, 403, "INSUFFICIENT_ROLE");
    let (status, body) = get(&app, "/api/v1/orgs/current", &admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "member", "the answer shows the stored role");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_members_token_no_longer_works_on_org_routes() {
    let app = spawn_app().await;
    let (owner, member, member_id) =
        org_with_member(&app, "owner@acme.test", "gone@acme.test", "admin").await;
    let (status, _, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/orgs/current/members/{member_id}"),
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, 204);
    for (method, path, body) in [
        (Method::GET, "/api/v1/orgs/current", None),
        (Method::GET, "/api/v1/orgs/current/members", None),
        (Method::GET, "/api/v1/orgs/current/invitations", None),
        (
            Method::POST,
            "/api/v1/orgs/current/invitations",
            Some(json!({"email": "x@acme.test"})),
        ),
        (
            Method::POST,
            "/api/v1/auth/api-keys",
            Some(json!({"name": "ci", "scopes": ["org:read"]})),
        ),
    ] {
        let (status, body, headers) = call(&app, method, path, Some(&member), body).await;
        assert_problem(status, &body, &headers, 403, "NOT_A_MEMBER");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_acts_with_its_creators_current_role_and_dies_with_the_membership() {
    let app = spawn_app().await;
    let (owner, admin, admin_id) =
        org_with_member(&app, "owner@acme.test", "admin@acme.test", "admin").await;
    let (status, key) = post(
        &app,
        "/api/v1/auth/api-keys",
        Some(&admin),
        json!({"name": "deploy", "scopes": ["org:read", "org:write"]}),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let secret = key["secret"].as_str().unwrap().to_owned();
    let rename = |name: &'static str| {
        let (app, secret) = (&app, secret.clone());
        async move {
            call(
                app,
                Method::PATCH,
                "/api/v1/orgs/current",
                Some(&secret),
                Some(json!({ "name": name })),
            )
            .await
        }
    };
    assert_eq!(rename("Renamed by key").await.0, 200);

    let member_path = format!("/api/v1/orgs/current/members/{admin_id}");
    let (status, _, _) = call(
        &app,
        Method::PATCH,
        &member_path,
        Some(&owner),
        Some(json!({"role": "member"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body, headers) = rename("Demoted creator").await;
    assert_problem(status, &body, &headers, 403, "INSUFFICIENT_ROLE");
    let (status, body) = get(&app, "/api/v1/orgs/current", &secret).await;
    assert_eq!(status, 200, "reads still work: {body}");

    // Promoted again, the key regains the role; removed, the key is dead.
    call(
        &app,
        Method::PATCH,
        &member_path,
        Some(&owner),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(rename("Admin again").await.0, 200);
    let (status, _, _) = call(&app, Method::DELETE, &member_path, Some(&owner), None).await;
    assert_eq!(status, 204);
    let (status, body, headers) = call(
        &app,
        Method::GET,
        "/api/v1/orgs/current",
        Some(&secret),
        None,
    )
    .await;
    assert_problem(status, &body, &headers, 401, "API_KEY_REVOKED");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_expire_and_record_their_last_use() {
    let app = spawn_app().await;
    app.register_owner("owner@acme.test", "Acme").await;
    let owner = app.login("owner@acme.test").await;
    let now = server_now(&app).await;
    let rfc3339 = skiff_licensing::rfc3339;

    for (bad, want) in [
        (json!("tomorrow"), "INVALID_TIMESTAMP"),
        (json!(rfc3339(now - 10)), "EXPIRY_IN_PAST"),
    ] {
        let (status, body, headers) = call(
            &app,
            Method::POST,
            "/api/v1/auth/api-keys",
            Some(&owner),
            Some(json!({"name": "ci", "scopes": ["org:read"], "expires_at": bad})),
        )
        .await;
        assert_problem(status, &body, &headers, 422, "VALIDATION_FAILED");
        assert!(body.to_string().contains(want), "{body}");
    }

    let (status, key) = post(
        &app,
        "/api/v1/auth/api-keys",
        Some(&owner),
        json!({"name": "ci", "scopes": ["org:read"], "expires_at": rfc3339(now + 3600)}),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    assert_eq!(key["expires_at"], rfc3339(now + 3600));
    assert!(key.get("last_used_at").is_none(), "{key}");
    let secret = key["secret"].as_str().unwrap().to_owned();

    assert_eq!(get(&app, "/api/v1/orgs/current", &secret).await.0, 200);
    let (_, keys) = get(&app, "/api/v1/auth/api-keys", &owner).await;
    let listed = &keys["api_keys"][0];
    assert_eq!(listed["expires_at"], rfc3339(now + 3600), "{keys}");
    let used = listed["last_used_at"].as_str().expect("last use recorded");
    assert!(used >= rfc3339(now).as_str(), "{used}");

    app.advance_clock(Duration::from_secs(3601)).await;
    let (status, body, headers) = call(
        &app,
        Method::GET,
        "/api/v1/orgs/current",
        Some(&secret),
        None,
    )
    .await;
    assert_problem(status, &body, &headers, 401, "API_KEY_EXPIRED");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_is_one_account_in_every_letter_case() {
    let app = spawn_app().await;
    app.register_owner("Ada.Lovelace@Example.com", "Engines")
        .await;

    let (status, body, headers) = call(
        &app,
        Method::POST,
        "/api/v1/auth/register",
        None,
        Some(json!({
            "email": "ada.lovelace@example.com", "password": TEST_PASSWORD,
            "full_name": "Impostor", "company_name": "Other",
        })),
    )
    .await;
    assert_problem(status, &body, &headers, 409, "EMAIL_TAKEN");

    // Any case signs in; the profile keeps the address as typed.
    let pair = login_pair(&app, "ADA.LOVELACE@example.COM").await;
    let token = pair["access_token"].as_str().unwrap();
    let (_, me) = get(&app, "/api/v1/auth/me", token).await;
    assert_eq!(me["email"], "Ada.Lovelace@example.com");

    // Forgot-password in another case reaches the account.
    let (status, _) = post(
        &app,
        "/api/v1/auth/forgot-password",
        None,
        json!({"email": "ada.LOVELACE@example.com"}),
    )
    .await;
    assert_eq!(status, 202);
    let mail = app
        .wait_for_email("Ada.Lovelace@example.com", "Reset")
        .await;
    assert_eq!(
        mail["to"], "Ada.Lovelace@example.com",
        "sent to the address as typed"
    );

    // An invitation in another case finds the member already there.
    let (status, body, headers) = call(
        &app,
        Method::POST,
        "/api/v1/orgs/current/invitations",
        Some(token),
        Some(json!({"email": "ADA.lovelace@example.com"})),
    )
    .await;
    assert_problem(status, &body, &headers, 409, "ALREADY_MEMBER");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_of_one_address_in_different_cases_make_one_account() {
    let app = spawn_app().await;
    let variants = [
        "Ada@example.com",
        "ada@example.com",
        "ADA@example.com",
        "aDa@Example.com",
        "adA@EXAMPLE.COM",
        "AdA@example.com",
    ];
    let answers = futures::future::join_all(variants.iter().map(|email| {
        let app = &app;
        async move {
            post(
                app,
                "/api/v1/auth/register",
                None,
                json!({
                    "email": email, "password": TEST_PASSWORD,
                    "full_name": "Ada", "company_name": "Engines",
                }),
            )
            .await
        }
    }))
    .await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let taken = answers
        .iter()
        .filter(|(s, b)| *s == 409 && code(b) == "EMAIL_TAKEN")
        .count();
    assert_eq!((created, taken), (1, variants.len() - 1), "{answers:?}");
    // Whichever case won, every case signs in to that one account.
    let winner = &answers.iter().find(|(s, _)| *s == 201).unwrap().1;
    for email in variants {
        let pair = login_pair(&app, email).await;
        let (_, me) = get(
            &app,
            "/api/v1/auth/me",
            pair["access_token"].as_str().unwrap(),
        )
        .await;
        assert_eq!(me["id"], winner["user_id"]);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_is_limited_per_ip_and_per_token() {
    let app = spawn_app_with(&[
        ("SKIFF_RATE_REFRESH_PER_IP", "3/600"),
        ("SKIFF_RATE_REFRESH_PER_TOKEN", "2/600"),
    ])
    .await;
    app.register_owner("owner@acme.test", "Acme").await;
    start_of_window(&app, 600).await;
    let pair = login_pair(&app, "owner@acme.test").await;
    // Per token: the same (unknown) token is refused twice, then limited.
    let forged = "A".repeat(43);
    for _ in 0..2 {
        let (status, body) = post(
            &app,
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": forged}),
        )
        .await;
        assert_eq!(status, 401, "{body}");
    }
    let (status, body, headers) = call(
        &app,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": forged})),
    )
    .await;
    assert_problem(status, &body, &headers, 429, "RATE_LIMITED");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
    // Per IP: that was the third request from this address; a valid token is
    // limited too.
    let (status, body, headers) = call(
        &app,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": pair["refresh_token"]})),
    )
    .await;
    assert_problem(status, &body, &headers, 429, "RATE_LIMITED");
    // The next window lets it through.
    app.advance_clock(Duration::from_secs(601)).await;
    let (status, body) = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": pair["refresh_token"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_password_is_limited_per_account() {
    let app = spawn_app_with(&[("SKIFF_RATE_CHANGE_PASSWORD_PER_USER", "2/900")]).await;
    app.register_owner("owner@acme.test", "Acme").await;
    start_of_window(&app, 900).await;
    let token = app.login("owner@acme.test").await;
    let attempt = |guess: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            call(
                app,
                Method::POST,
                "/api/v1/auth/change-password",
                Some(&token),
                Some(json!({"current_password": guess, "new_password": "Another2horse"})),
            )
            .await
        }
    };
    assert_eq!(attempt("Wrong1guess").await.0, 422);
    assert_eq!(attempt("Wrong2guess").await.0, 422);
    // The right password no longer helps within the window: no guessing oracle.
    let (status, body, headers) = attempt(TEST_PASSWORD).await;
    assert_problem(status, &body, &headers, 429, "RATE_LIMITED");
    assert!(headers.contains_key("retry-after"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_password_and_accept_invitation_are_limited() {
    let app = spawn_app_with(&[
        ("SKIFF_RATE_RESET_PASSWORD_PER_IP", "2/3600"),
        ("SKIFF_RATE_ACCEPT_INVITATION_PER_TOKEN", "2/3600"),
    ])
    .await;
    start_of_window(&app, 3600).await;
    // Reset: per IP, whatever the token.
    for i in 0..2 {
        let (status, body) = post(
            &app,
            "/api/v1/auth/reset-password",
            None,
            json!({"token": format!("{i}").repeat(43), "new_password": "Another2horse"}),
        )
        .await;
        assert_eq!(status, 400, "{body}");
    }
    let (status, body, headers) = call(
        &app,
        Method::POST,
        "/api/v1/auth/reset-password",
        None,
        Some(json!({"token": "9".repeat(43), "new_password": "Another2horse"})),
    )
    .await;
    assert_problem(status, &body, &headers, 429, "RATE_LIMITED");
    assert!(headers.contains_key("retry-after"));

    // Accept: per token.
    let forged = "B".repeat(43);
    for _ in 0..2 {
        let (status, body) = post(
            &app,
            "/api/v1/orgs/invitations/accept",
            None,
            json!({"token": forged}),
        )
        .await;
        assert_eq!(status, 400, "{body}");
    }
    let (status, body, headers) = call(
        &app,
        Method::POST,
        "/api/v1/orgs/invitations/accept",
        None,
        Some(json!({"token": forged})),
    )
    .await;
    assert_problem(status, &body, &headers, 429, "RATE_LIMITED");
    let (status, body) = post(
        &app,
        "/api/v1/orgs/invitations/accept",
        None,
        json!({"token": "C".repeat(43)}),
    )
    .await;
    assert_eq!(status, 400, "another token is not limited: {body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_are_listed_paginated_and_revoked() {
    let app = spawn_app().await;
    let (owner, member, _) =
        org_with_member(&app, "owner@acme.test", "member@acme.test", "member").await;
    let owner_id = {
        let (_, me) = get(&app, "/api/v1/auth/me", &owner).await;
        me["id"].clone()
    };
    let (first, first_token) = invite(&app, &owner, "one@acme.test", "admin").await;
    let (second, _) = invite(&app, &owner, "two@acme.test", "member").await;

    let (status, page) = get(&app, "/api/v1/orgs/current/invitations", &owner).await;
    assert_eq!(status, 200, "{status} {page}");
    let listed = page["invitations"].as_array().unwrap();
    assert_eq!(
        listed.len(),
        2,
        "the accepted invitation is not pending: {page}"
    );
    assert_eq!(listed[0]["id"], first["id"]);
    assert_eq!(listed[0]["email"], "one@acme.test");
    assert_eq!(listed[0]["role"], "admin");
    assert_eq!(listed[0]["invited_by"], owner_id);
    assert_eq!(listed[0]["created_at"], first["created_at"]);
    assert_eq!(listed[0]["expires_at"], first["expires_at"]);
    assert!(!page.to_string().contains("token"), "{page}");

    // One per page.
    let (_, p1) = get(&app, "/api/v1/orgs/current/invitations?limit=1", &owner).await;
    assert_eq!(p1["invitations"][0]["id"], first["id"], "{p1}");
    let cursor = p1["next_cursor"].as_str().expect("a next page");
    let (_, p2) = get(
        &app,
        &format!("/api/v1/orgs/current/invitations?limit=1&cursor={cursor}"),
        &owner,
    )
    .await;
    assert_eq!(p2["invitations"][0]["id"], second["id"], "{p2}");
    for (bad, want_status, want_code) in [
        ("limit=0", 422, "VALIDATION_FAILED"),
        ("limit=201", 422, "VALIDATION_FAILED"),
        ("limit=ten", 422, "VALIDATION_FAILED"),
        ("cursor=not-a-cursor", 400, "INVALID_CURSOR"),
    ] {
        let (status, body, headers) = call(
            &app,
            Method::GET,
            &format!("/api/v1/orgs/current/invitations?{bad}"),
            Some(&owner),
            None,
        )
        .await;
        assert_problem(status, &body, &headers, want_status, want_code);
    }
    // Members may not see or revoke invitations.
    let (status, body) = get(&app, "/api/v1/orgs/current/invitations", &member).await;
    assert_eq!((status.as_u16(), code(&body)), (403, "INSUFFICIENT_ROLE"));

    // Another org cannot revoke it.
    app.register_owner("boss@rival.test", "Rival").await;
    let rival = app.login("boss@rival.test").await;
    let path = format!(
        "/api/v1/orgs/current/invitations/{}",
        first["id"].as_str().unwrap()
    );
    let (status, body, headers) = call(&app, Method::DELETE, &path, Some(&rival), None).await;
    assert_problem(status, &body, &headers, 404, "NOT_FOUND");
    let (status, _, _) = call(&app, Method::DELETE, &path, Some(&member), None).await;
    assert_eq!(status, 403);
    let (status, _, _) = call(
        &app,
        Method::DELETE,
        "/api/v1/orgs/current/invitations/not-an-id",
        Some(&owner),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Revoked: gone from the list, the link fails clearly, revoking again is fine.
    let (status, _, _) = call(&app, Method::DELETE, &path, Some(&owner), None).await;
    assert_eq!(status, 204);
    let (status, _, _) = call(&app, Method::DELETE, &path, Some(&owner), None).await;
    assert_eq!(status, 204, "idempotent");
    let (_, page) = get(&app, "/api/v1/orgs/current/invitations", &owner).await;
    let ids: Vec<&Value> = page["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["id"])
        .collect();
    assert_eq!(ids, [&second["id"]]);
    let (status, body, headers) = call(
        &app,
        Method::POST,
        "/api/v1/orgs/invitations/accept",
        None,
        Some(json!({"token": first_token, "full_name": "One", "password": TEST_PASSWORD})),
    )
    .await;
    assert_problem(status, &body, &headers, 410, "INVITATION_REVOKED");
    assert_eq!(
        post(
            &app,
            "/api/v1/auth/login",
            None,
            json!({"email": "one@acme.test", "password": TEST_PASSWORD})
        )
        .await
        .0,
        401,
        "no account was made"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_invitation_cannot_be_revoked_and_a_revoke_racing_an_accept_has_one_outcome() {
    let app = spawn_app().await;
    app.register_owner("owner@acme.test", "Acme").await;
    let owner = app.login("owner@acme.test").await;
    for round in 0..4 {
        let email = format!("racer{round}@acme.test");
        let (inv, token) = invite(&app, &owner, &email, "member").await;
        let path = format!(
            "/api/v1/orgs/current/invitations/{}",
            inv["id"].as_str().unwrap()
        );
        let revoke = call(&app, Method::DELETE, &path, Some(&owner), None);
        let accept = post(
            &app,
            "/api/v1/orgs/invitations/accept",
            None,
            json!({"token": token, "full_name": "Racer", "password": TEST_PASSWORD}),
        );
        let ((revoked, rbody, _), (accepted, abody)) = tokio::join!(revoke, accept);
        match (revoked.as_u16(), accepted.as_u16()) {
            (204, 410) => assert_eq!(code(&abody), "INVITATION_REVOKED", "{abody}"),
            (409, 201) => assert_eq!(code(&rbody), "INVITATION_ACCEPTED", "{rbody}"),
            other => panic!("revoke and accept both won or both lost: {other:?} {rbody} {abody}"),
        }
        let (status, _, _) = call(&app, Method::DELETE, &path, Some(&owner), None).await;
        assert_eq!(status, revoked, "asking again gives the same answer");
    }
    app.stop().await;
}
