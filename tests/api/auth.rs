//! Identity and organizations, black-box over HTTP.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skiff_e2e::requests::{call, get, post};
use skiff_e2e::{TestApp, find_link, spawn_app, spawn_app_with};
use std::time::Duration;

const PASSWORD: &str = "Correct1horse";

async fn register(app: &TestApp, email: &str, company: &str) -> Value {
    let (status, body) = post(
        app,
        "/api/v1/auth/register",
        None,
        json!({"email": email, "password": PASSWORD, "full_name": "Ada Lovelace", "company_name": company}),
    )
    .await;
    assert_eq!(status, 201, "register {email}: {body}");
    body
}

async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    post(
        app,
        "/api/v1/auth/login",
        None,
        json!({"email": email, "password": password}),
    )
    .await
}

/// Register and sign in; returns (register body, token pair).
async fn signed_up(app: &TestApp, email: &str, company: &str) -> (Value, Value) {
    let reg = register(app, email, company).await;
    let (status, pair) = login(app, email, PASSWORD).await;
    assert_eq!(status, 200, "{pair}");
    (reg, pair)
}

fn access(pair: &Value) -> &str {
    pair["access_token"].as_str().expect("access token")
}

/// The token in the first link under `path` of the newest matching e-mail.
async fn emailed_token(app: &TestApp, to: &str, subject: &str, path: &str) -> String {
    let mail = app.wait_for_email(to, subject).await;
    let text = mail["text"].as_str().expect("text body");
    assert!(
        mail["html"]
            .as_str()
            .is_some_and(|h| h.contains("<a href=")),
        "HTML body with a link"
    );
    let link =
        find_link(text, &app.url(path)).unwrap_or_else(|| panic!("no {path} link in {text}"));
    link.split("token=")
        .nth(1)
        .expect("token in link")
        .to_owned()
}

fn error_code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_journey_register_verify_login_me_refresh_reuse_logout() {
    let app = spawn_app().await;
    let reg = register(&app, "  Ada@Example.COM ", "Analytical Engines").await;
    assert_eq!(reg["email"], "Ada@example.com");
    assert!(reg["user_id"].as_str().unwrap().starts_with("usr_"));
    assert!(reg["org_id"].as_str().unwrap().starts_with("org_"));
    assert!(
        !reg.to_string().contains("token"),
        "the verification token is never in the response"
    );

    let token = emailed_token(
        &app,
        "Ada@example.com",
        "Verify your e-mail",
        "/api/v1/auth/verify-email",
    )
    .await;
    let (status, body) = get(
        &app,
        &format!("/api/v1/auth/verify-email?token={token}"),
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email_verified"], true);
    app.wait_for_email("Ada@example.com", "Welcome").await;

    let (status, pair) = login(&app, "ada@example.com", PASSWORD).await;
    assert_eq!(status, 200, "the whole address is case-insensitive: {pair}");
    let (status, pair) = login(&app, "Ada@EXAMPLE.com", PASSWORD).await;
    assert_eq!(status, 200, "{pair}");
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);

    let (status, me) = get(&app, "/api/v1/auth/me", access(&pair)).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["id"], reg["user_id"]);
    assert_eq!(me["email"], "Ada@example.com");
    assert_eq!(me["full_name"], "Ada Lovelace");
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["org"]["id"], reg["org_id"]);
    assert_eq!(me["org"]["name"], "Analytical Engines");
    assert_eq!(me["org"]["role"], "owner");
    assert!(me["created_at"].as_str().unwrap().contains('T'));

    let old_refresh = pair["refresh_token"].as_str().unwrap().to_owned();
    let (status, pair2) = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": old_refresh}),
    )
    .await;
    assert_eq!(status, 200, "{pair2}");
    assert_ne!(pair2["refresh_token"], pair["refresh_token"]);
    assert_eq!(get(&app, "/api/v1/auth/me", access(&pair2)).await.0, 200);

    // Reuse of the rotated token: 401 TOKEN_REUSED, and the whole family dies.
    let (status, body) = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": old_refresh}),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), "TOKEN_REUSED");
    let (status, body) = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": pair2["refresh_token"]}),
    )
    .await;
    assert_eq!(status, 401, "the descendant is revoked too: {body}");
    assert_eq!(error_code(&body), "TOKEN_REVOKED");

    // A fresh session; logout kills its refresh token.
    let (_, pair3) = login(&app, "Ada@example.com", PASSWORD).await;
    let (status, _) = post(&app, "/api/v1/auth/logout", Some(access(&pair3)), json!({})).await;
    assert_eq!(status, 204);
    let (status, body) = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": pair3["refresh_token"]}),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), "TOKEN_REVOKED");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_one_answer_for_known_and_unknown_emails() {
    let app = spawn_app().await;
    register(&app, "grace@example.com", "Navy").await;
    let (s1, b1) = login(&app, "grace@example.com", "Wrong1password").await;
    let (s2, b2) = login(&app, "nobody@example.com", "Wrong1password").await;
    assert_eq!(
        (s1, s2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(error_code(&b1), "INVALID_CREDENTIALS");
    assert_eq!(b1["detail"], b2["detail"]);
    assert_eq!(b1["code"], b2["code"]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_and_reset_password_journey() {
    let app = spawn_app().await;
    let (_, old_pair) = signed_up(&app, "linus@example.com", "Kernel").await;

    let (s_known, known) = post(
        &app,
        "/api/v1/auth/forgot-password",
        None,
        json!({"email": "linus@example.com"}),
    )
    .await;
    let (s_unknown, unknown) = post(
        &app,
        "/api/v1/auth/forgot-password",
        None,
        json!({"email": "ghost@example.com"}),
    )
    .await;
    assert_eq!(
        (s_known, s_unknown),
        (StatusCode::ACCEPTED, StatusCode::ACCEPTED)
    );
    assert_eq!(
        known, unknown,
        "same body whether or not the account exists"
    );
    let (s_bad, bad) = post(
        &app,
        "/api/v1/auth/forgot-password",
        None,
        json!({"email": "not an address"}),
    )
    .await;
    assert_eq!((s_bad, &bad), (StatusCode::ACCEPTED, &known));

    let token = emailed_token(
        &app,
        "linus@example.com",
        "Reset your password",
        "/reset-password",
    )
    .await;
    let (status, body) = post(
        &app,
        "/api/v1/auth/reset-password",
        None,
        json!({"token": token, "new_password": "weak"}),
    )
    .await;
    assert_eq!(status, 422, "policy applies: {body}");
    let (status, body) = post(
        &app,
        "/api/v1/auth/reset-password",
        None,
        json!({"token": token, "new_password": "Brand1newpass"}),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = post(
        &app,
        "/api/v1/auth/reset-password",
        None,
        json!({"token": token, "new_password": "Another1pass"}),
    )
    .await;
    assert_eq!(status, 410, "single use: {body}");
    assert_eq!(error_code(&body), "TOKEN_USED");

    assert_eq!(login(&app, "linus@example.com", PASSWORD).await.0, 401);
    assert_eq!(
        login(&app, "linus@example.com", "Brand1newpass").await.0,
        200
    );
    let (status, body) = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": old_pair["refresh_token"]}),
    )
    .await;
    assert_eq!(
        status, 401,
        "every refresh token of the user is revoked: {body}"
    );
    app.wait_for_email("linus@example.com", "Your password was changed")
        .await;

    // The reset link lasts one hour.
    post(
        &app,
        "/api/v1/auth/forgot-password",
        None,
        json!({"email": "linus@example.com"}),
    )
    .await;
    let mut token2 = String::new();
    for _ in 0..100 {
        let mails = app.mailbox("linus@example.com").await;
        let resets: Vec<_> = mails
            .iter()
            .filter(|m| m["subject"].as_str().unwrap_or("").contains("Reset"))
            .collect();
        if resets.len() >= 2 {
            let newest = resets
                .iter()
                .max_by_key(|m| m["sent_at"].as_str().unwrap_or("").to_owned())
                .unwrap();
            let link = find_link(
                newest["text"].as_str().unwrap(),
                &app.url("/reset-password"),
            )
            .unwrap();
            token2 = link.split("token=").nth(1).unwrap().to_owned();
            if token2 != token {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !token2.is_empty() && token2 != token,
        "a second reset e-mail arrived"
    );
    app.advance_clock(Duration::from_secs(3601)).await;
    let (status, body) = post(
        &app,
        "/api/v1/auth/reset-password",
        None,
        json!({"token": token2, "new_password": "Brand2newpass"}),
    )
    .await;
    assert_eq!(status, 410);
    assert_eq!(error_code(&body), "TOKEN_EXPIRED");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_journey_new_and_existing_users() {
    let app = spawn_app().await;
    let (owner_reg, owner) = signed_up(&app, "owner@acme.test", "Acme").await;

    // A new person: registers with the invitation.
    let (status, inv) = post(
        &app,
        "/api/v1/orgs/current/invitations",
        Some(access(&owner)),
        json!({"email": "new@acme.test", "role": "member"}),
    )
    .await;
    assert_eq!(status, 201, "{inv}");
    assert!(!inv.to_string().contains("token"));
    let token = emailed_token(
        &app,
        "new@acme.test",
        "invited to join Acme",
        "/accept-invitation",
    )
    .await;
    let (status, body) = post(
        &app,
        "/api/v1/orgs/invitations/accept",
        None,
        json!({"token": token}),
    )
    .await;
    assert_eq!(
        status, 422,
        "a new account needs a name and a password: {body}"
    );
    let (status, body) = post(
        &app,
        "/api/v1/orgs/invitations/accept",
        None,
        json!({"token": token, "full_name": "New Person", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["org_id"], owner_reg["org_id"]);
    let (status, body) = post(
        &app,
        "/api/v1/orgs/invitations/accept",
        None,
        json!({"token": token, "full_name": "X", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 410, "single use: {body}");
    let (_, newbie) = login(&app, "new@acme.test", PASSWORD).await;
    let (_, me) = get(&app, "/api/v1/auth/me", access(&newbie)).await;
    assert_eq!(me["org"]["id"], owner_reg["org_id"]);
    assert_eq!(me["org"]["role"], "member");
    assert_eq!(me["email_verified"], true);

    // An existing user with an org of their own joins as admin and switches to Acme.
    let (bob_reg, bob) = signed_up(&app, "bob@other.test", "Other").await;
    post(
        &app,
        "/api/v1/orgs/current/invitations",
        Some(access(&owner)),
        json!({"email": "bob@other.test", "role": "admin"}),
    )
    .await;
    let token = emailed_token(
        &app,
        "bob@other.test",
        "invited to join Acme",
        "/accept-invitation",
    )
    .await;
    let (status, body) = post(
        &app,
        "/api/v1/orgs/invitations/accept",
        Some(access(&newbie)),
        json!({"token": token}),
    )
    .await;
    assert_eq!(status, 403, "someone else's invitation: {body}");
    let (status, body) = post(
        &app,
        "/api/v1/orgs/invitations/accept",
        Some(access(&bob)),
        json!({"token": token}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "admin");
    let (_, me) = get(&app, "/api/v1/auth/me", access(&bob)).await;
    assert_eq!(
        me["org"]["id"], bob_reg["org_id"],
        "still acting in the own org"
    );
    let (status, switched) = post(
        &app,
        "/api/v1/auth/switch-org",
        Some(access(&bob)),
        json!({"org_id": owner_reg["org_id"]}),
    )
    .await;
    assert_eq!(status, 200, "{switched}");
    let (_, me) = get(&app, "/api/v1/auth/me", access(&switched)).await;
    assert_eq!(me["org"]["id"], owner_reg["org_id"]);
    assert_eq!(me["org"]["role"], "admin");

    let (status, members) = get(&app, "/api/v1/orgs/current/members", access(&owner)).await;
    assert_eq!(status, 200);
    let mut emails: Vec<&str> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    emails.sort_unstable();
    assert_eq!(
        emails,
        ["bob@other.test", "new@acme.test", "owner@acme.test"]
    );

    // Inviting a member again is a conflict.
    let (status, body) = post(
        &app,
        "/api/v1/orgs/current/invitations",
        Some(access(&owner)),
        json!({"email": "bob@other.test"}),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(error_code(&body), "ALREADY_MEMBER");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicate_registration_has_exactly_one_winner() {
    let app = spawn_app().await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let client = app.client.clone();
        let url = app.url("/api/v1/auth/register");
        // The same address, spelled with differently cased domains.
        let email = if i % 2 == 0 {
            "twin@example.com"
        } else {
            "twin@EXAMPLE.com"
        };
        tasks.spawn(async move {
            let r = client
                .post(url)
                .json(&json!({"email": email, "password": PASSWORD, "full_name": "Twin", "company_name": format!("Co {i}")}))
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        });
    }
    let results = tasks.join_all().await;
    let created = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let taken = results
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && error_code(b) == "EMAIL_TAKEN")
        .count();
    assert_eq!((created, taken), (1, 7), "{results:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_password_reports_every_failed_rule() {
    let app = spawn_app().await;
    let (status, body) = post(
        &app,
        "/api/v1/auth/register",
        None,
        json!({"email": "not-an-email", "password": "abc", "full_name": "", "company_name": "Co"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(error_code(&body), "VALIDATION_FAILED");
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    for expected in [
        "INVALID_EMAIL",
        "PASSWORD_TOO_SHORT",
        "PASSWORD_NEEDS_UPPERCASE",
        "PASSWORD_NEEDS_DIGIT",
        "REQUIRED",
    ] {
        assert!(
            codes.contains(&expected),
            "{expected} missing from {codes:?}"
        );
    }
    assert!(!codes.contains(&"PASSWORD_NEEDS_LOWERCASE"));
    let (status, body) = post(&app, "/api/v1/auth/register", None, json!({"email": "x@example.com", "password": "A".repeat(129), "full_name": "X", "company_name": "Co"})).await;
    assert_eq!(status, 422);
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "PASSWORD_TOO_LONG",
            "PASSWORD_NEEDS_LOWERCASE",
            "PASSWORD_NEEDS_DIGIT"
        ]
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_tokens_expired_reused_and_forged() {
    let app = spawn_app().await;
    register(&app, "eve@example.com", "Eve Co").await;
    let token = emailed_token(
        &app,
        "eve@example.com",
        "Verify",
        "/api/v1/auth/verify-email",
    )
    .await;

    let forged = "A".repeat(43);
    let (status, body) = get(&app, &format!("/api/v1/auth/verify-email/{forged}"), "").await;
    assert_eq!(status, 400);
    assert_eq!(error_code(&body), "TOKEN_INVALID");
    let (status, _) = get(&app, "/api/v1/auth/verify-email?token=garbage", "").await;
    assert_eq!(status, 400);
    let (status, _) = get(&app, "/api/v1/auth/verify-email", "").await;
    assert_eq!(status, 400);

    let (status, _) = get(&app, &format!("/api/v1/auth/verify-email/{token}"), "").await;
    assert_eq!(status, 200);
    let (status, body) = get(&app, &format!("/api/v1/auth/verify-email/{token}"), "").await;
    assert_eq!(status, 410, "used twice");
    assert_eq!(error_code(&body), "TOKEN_USED");

    register(&app, "late@example.com", "Late Co").await;
    let token = emailed_token(
        &app,
        "late@example.com",
        "Verify",
        "/api/v1/auth/verify-email",
    )
    .await;
    app.advance_clock(Duration::from_secs(24 * 3600 + 1)).await;
    let (status, body) = get(
        &app,
        &format!("/api/v1/auth/verify-email?token={token}"),
        "",
    )
    .await;
    assert_eq!(status, 410);
    assert_eq!(error_code(&body), "TOKEN_EXPIRED");

    // A new link on request (same 202 for unknown addresses).
    let (s1, b1) = post(
        &app,
        "/api/v1/auth/resend-verification",
        None,
        json!({"email": "late@example.com"}),
    )
    .await;
    let (s2, b2) = post(
        &app,
        "/api/v1/auth/resend-verification",
        None,
        json!({"email": "nobody@example.com"}),
    )
    .await;
    assert_eq!((s1, s2), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    assert_eq!(b1, b2);
    for _ in 0..100 {
        if app
            .mailbox("late@example.com")
            .await
            .iter()
            .filter(|m| m["subject"].as_str().unwrap_or("").contains("Verify"))
            .count()
            >= 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mails = app.mailbox("late@example.com").await;
    let fresh = mails
        .iter()
        .filter(|m| m["subject"].as_str().unwrap_or("").contains("Verify"))
        .filter_map(|m| {
            find_link(
                m["text"].as_str().unwrap(),
                &app.url("/api/v1/auth/verify-email"),
            )
        })
        .map(|l| l.split("token=").nth(1).unwrap().to_owned())
        .find(|t| *t != token)
        .expect("a second verification e-mail");
    let (status, body) = get(
        &app,
        &format!("/api/v1/auth/verify-email?token={fresh}"),
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}

mod forged {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use skiff_identity::access_token::{self, Claims};
    use skiff_identity::signing_keys;

    fn b64(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hs256_alg_none_wrong_audience_and_expired_tokens_are_401() {
        let app = spawn_app().await;
        let (_, pair) = signed_up(&app, "mallory@example.com", "M").await;
        let token = access(&pair).to_owned();
        assert_eq!(get(&app, "/api/v1/auth/me", &token).await.0, 200);
        let payload = token.split('.').nth(1).unwrap().to_owned();
        let claims: Claims =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&payload).unwrap()).unwrap();

        let (_, jwks, _) = call(&app, Method::GET, "/.well-known/jwks.json", None, None).await;
        let jwk = &jwks["keys"][0];
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["alg"], "EdDSA");
        let kid = jwk["kid"].as_str().unwrap();
        let public = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();

        // HS256 with the public key as the HMAC secret.
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        let hs = jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(&public),
        )
        .unwrap();
        // alg: none.
        let none = format!(
            "{}.{payload}.",
            b64(&json!({"alg": "none", "typ": "JWT", "kid": kid}))
        );
        // Properly signed, but for another audience.
        let keys = signing_keys::current(&app.services().secrets)
            .await
            .unwrap();
        let wrong_aud = access_token::sign(
            &keys,
            &Claims {
                aud: "another-service".into(),
                ..claims.clone()
            },
        );
        // Properly signed, another issuer.
        let wrong_iss = access_token::sign(
            &keys,
            &Claims {
                iss: "https://evil.example".into(),
                ..claims.clone()
            },
        );
        for (name, bad) in [
            ("HS256", hs.as_str()),
            ("alg none", none.as_str()),
            ("wrong aud", wrong_aud.as_str()),
            ("wrong iss", wrong_iss.as_str()),
            ("garbage", "abc.def.ghi"),
        ] {
            let (status, body) = get(&app, "/api/v1/auth/me", bad).await;
            assert_eq!(status, 401, "{name}: {body}");
            assert_eq!(body["status"], 401);
        }
        let (status, body, _) = call(&app, Method::GET, "/api/v1/auth/me", None, None).await;
        assert_eq!(status, 401, "{body}");

        // Expired: 15 minutes plus the leeway later.
        app.advance_clock(Duration::from_secs(15 * 60 + 31)).await;
        let (status, body) = get(&app, "/api/v1/auth/me", &token).await;
        assert_eq!(status, 401);
        assert_eq!(error_code(&body), "TOKEN_EXPIRED");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_of_one_org_cannot_see_or_change_another_orgs_members() {
    let app = spawn_app().await;
    let (a_reg, a) = signed_up(&app, "alice@a.test", "A Corp").await;
    let (b_reg, b) = signed_up(&app, "bob@b.test", "B Corp").await;
    let b_user = b_reg["user_id"].as_str().unwrap();

    let (_, members) = get(&app, "/api/v1/orgs/current/members", access(&a)).await;
    assert!(!members.to_string().contains("bob@b.test"));
    let path = format!("/api/v1/orgs/current/members/{b_user}");
    let (status, body, _) = call(
        &app,
        Method::PATCH,
        &path,
        Some(access(&a)),
        Some(json!({"role": "member"})),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, _, _) = call(&app, Method::DELETE, &path, Some(access(&a)), None).await;
    assert_eq!(status, 404);
    let (status, _) = post(
        &app,
        "/api/v1/auth/switch-org",
        Some(access(&a)),
        json!({"org_id": b_reg["org_id"]}),
    )
    .await;
    assert_eq!(status, 404);

    // B's API key cannot be deleted from A.
    let (status, key) = post(
        &app,
        "/api/v1/auth/api-keys",
        Some(access(&b)),
        json!({"name": "ci", "scopes": ["org:read"]}),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let (status, _, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/auth/api-keys/{}", key["id"].as_str().unwrap()),
        Some(access(&a)),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, org) = get(
        &app,
        "/api/v1/orgs/current",
        key["secret"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(org["id"], b_reg["org_id"]);
    assert_ne!(org["id"], a_reg["org_id"]);
    // B's membership is intact.
    let (_, members) = get(&app, "/api/v1/orgs/current/members", access(&b)).await;
    assert_eq!(members["members"][0]["role"], "owner");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_guard_org_changes_and_the_last_owner_stays() {
    let app = spawn_app().await;
    let (reg, owner) = signed_up(&app, "own@x.test", "X").await;
    let me = reg["user_id"].as_str().unwrap();
    let path = format!("/api/v1/orgs/current/members/{me}");
    let (status, body, _) = call(
        &app,
        Method::PATCH,
        &path,
        Some(access(&owner)),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(error_code(&body), "LAST_OWNER");
    let (status, body, _) = call(&app, Method::DELETE, &path, Some(access(&owner)), None).await;
    assert_eq!(status, 409);
    assert_eq!(error_code(&body), "LAST_OWNER");

    let (status, org, _) = call(
        &app,
        Method::PATCH,
        "/api/v1/orgs/current",
        Some(access(&owner)),
        Some(json!({"name": "X Renamed"})),
    )
    .await;
    assert_eq!(status, 200, "{org}");
    assert_eq!(org["name"], "X Renamed");

    // A plain member may not rename, invite or change roles.
    post(
        &app,
        "/api/v1/orgs/current/invitations",
        Some(access(&owner)),
        json!({"email": "m@x.test"}),
    )
    .await;
    let token = emailed_token(&app, "m@x.test", "invited", "/accept-invitation").await;
    let (_, joined) = post(
        &app,
        "/api/v1/orgs/invitations/accept",
        None,
        json!({"token": token, "full_name": "M", "password": PASSWORD}),
    )
    .await;
    let (_, member) = login(&app, "m@x.test", PASSWORD).await;
    let (status, body, _) = call(
        &app,
        Method::PATCH,
        "/api/v1/orgs/current",
        Some(access(&member)),
        Some(json!({"name": "Mine"})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = post(
        &app,
        "/api/v1/orgs/current/invitations",
        Some(access(&member)),
        json!({"email": "z@x.test"}),
    )
    .await;
    assert_eq!(status, 403);

    // With a second owner, the first may step down.
    let m_path = format!(
        "/api/v1/orgs/current/members/{}",
        joined["user_id"].as_str().unwrap()
    );
    let (status, body, _) = call(
        &app,
        Method::PATCH,
        &m_path,
        Some(access(&owner)),
        Some(json!({"role": "owner"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = call(
        &app,
        Method::PATCH,
        &path,
        Some(access(&owner)),
        Some(json!({"role": "member"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "member");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_are_shown_once_and_act_within_their_scopes() {
    let app = spawn_app().await;
    let (_, owner) = signed_up(&app, "keys@x.test", "Keys").await;
    let (status, body) = post(
        &app,
        "/api/v1/auth/api-keys",
        Some(access(&owner)),
        json!({"name": "ci", "scopes": ["org:read", "root:everything"]}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, key) = post(
        &app,
        "/api/v1/auth/api-keys",
        Some(access(&owner)),
        json!({"name": "ci", "scopes": ["org:read"]}),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let secret = key["secret"].as_str().unwrap();
    assert!(secret.starts_with("sk_live_"));
    assert!(secret.starts_with(key["prefix"].as_str().unwrap()));

    let (status, list) = get(&app, "/api/v1/auth/api-keys", access(&owner)).await;
    assert_eq!(status, 200);
    assert_eq!(list["api_keys"].as_array().unwrap().len(), 1);
    assert!(
        !list.to_string().contains(&secret[20..]),
        "no secrets in listings"
    );

    assert_eq!(get(&app, "/api/v1/orgs/current", secret).await.0, 200);
    let (status, body) = get(&app, "/api/v1/orgs/current/members", secret).await;
    assert_eq!(status, 403, "members:read was not granted: {body}");
    assert_eq!(error_code(&body), "INSUFFICIENT_SCOPE");
    let (status, _) = post(
        &app,
        "/api/v1/auth/api-keys",
        Some(secret),
        json!({"name": "x", "scopes": ["org:read"]}),
    )
    .await;
    assert_eq!(status, 403, "a key cannot mint keys");
    let tampered = format!(
        "{}{}",
        &secret[..secret.len() - 1],
        if secret.ends_with('A') { 'B' } else { 'A' }
    );
    assert_eq!(get(&app, "/api/v1/orgs/current", &tampered).await.0, 401);

    let (status, _, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/auth/api-keys/{}", key["id"].as_str().unwrap()),
        Some(access(&owner)),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(get(&app, "/api/v1/orgs/current", secret).await.0, 401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_password_and_logout_all_revoke_sessions() {
    let app = spawn_app().await;
    let (_, s1) = signed_up(&app, "sess@x.test", "S").await;
    let (_, s2) = login(&app, "sess@x.test", PASSWORD).await;
    let (status, body) = post(
        &app,
        "/api/v1/auth/change-password",
        Some(access(&s1)),
        json!({"current_password": "Wrong1pass", "new_password": "Fresh1password"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = post(
        &app,
        "/api/v1/auth/change-password",
        Some(access(&s1)),
        json!({"current_password": PASSWORD, "new_password": "Fresh1password"}),
    )
    .await;
    assert_eq!(status, 204);
    app.wait_for_email("sess@x.test", "Your password was changed")
        .await;
    let (status, _) = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": s2["refresh_token"]}),
    )
    .await;
    assert_eq!(status, 401, "the other session is revoked");
    let (status, s1b) = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": s1["refresh_token"]}),
    )
    .await;
    assert_eq!(status, 200, "this session survives: {s1b}");

    let (_, s3) = login(&app, "sess@x.test", "Fresh1password").await;
    let (status, _) = post(
        &app,
        "/api/v1/auth/logout-all",
        Some(access(&s3)),
        json!({}),
    )
    .await;
    assert_eq!(status, 204);
    for pair in [&s1b, &s3] {
        let (status, _) = post(
            &app,
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": pair["refresh_token"]}),
        )
        .await;
        assert_eq!(status, 401);
    }
    let (status, me, _) = call(
        &app,
        Method::PATCH,
        "/api/v1/auth/me",
        Some(access(&s3)),
        Some(json!({"full_name": "  Renamed  "})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(me["full_name"], "Renamed");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_rate_limit_answers_429_with_retry_after() {
    let app = spawn_app_with(&[
        ("SKIFF_RATE_LOGIN_PER_EMAIL", "3/60"),
        ("SKIFF_RATE_FORGOT_PASSWORD_PER_IP", "2/600"),
    ])
    .await;
    // Start at the beginning of a fixed window (600 s covers the 60 s one too), so the
    // requests below cannot straddle a window boundary.
    let now: serde_json::Value = app.get("/_dev/clock").await.json().await.unwrap();
    let now = now["now"].as_u64().unwrap();
    app.advance_clock(Duration::from_secs(600 - now % 600 + 1))
        .await;
    for _ in 0..3 {
        assert_eq!(login(&app, "target@x.test", "Wrong1pass").await.0, 401);
    }
    let (status, body, headers) = call(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": "target@x.test", "password": "Wrong1pass"})),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(error_code(&body), "RATE_LIMITED");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Per e-mail: another address is still allowed.
    assert_eq!(login(&app, "other@x.test", "Wrong1pass").await.0, 401);
    // The window passes.
    app.advance_clock(Duration::from_secs(61)).await;
    assert_eq!(login(&app, "target@x.test", "Wrong1pass").await.0, 401);

    for email in ["a@x.test", "b@x.test"] {
        assert_eq!(
            post(
                &app,
                "/api/v1/auth/forgot-password",
                None,
                json!({"email": email})
            )
            .await
            .0,
            202
        );
    }
    let (status, _, headers) = call(
        &app,
        Method::POST,
        "/api/v1/auth/forgot-password",
        None,
        Some(json!({"email": "c@x.test"})),
    )
    .await;
    assert_eq!(status, 429, "per IP");
    assert!(headers.contains_key("retry-after"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signed_with_the_previous_key_verifies_until_it_is_retired() {
    let app = spawn_app().await;
    let (_, before) = signed_up(&app, "rot@x.test", "Rot").await;
    let old = access(&before).to_owned();
    let new_kid = skiff_local::admin::rotate_signing_key(app.services())
        .await
        .unwrap();

    let (_, jwks, _) = call(&app, Method::GET, "/.well-known/jwks.json", None, None).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[0], new_kid, "the new key is current");
    assert_eq!(
        get(&app, "/api/v1/auth/me", &old).await.0,
        200,
        "the previous key still verifies"
    );

    let (_, after) = login(&app, "rot@x.test", PASSWORD).await;
    let header = jsonwebtoken::decode_header(access(&after)).unwrap();
    assert_eq!(header.kid.as_deref(), Some(new_kid.as_str()));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);

    let retired = skiff_local::admin::retire_signing_keys(app.services())
        .await
        .unwrap();
    assert_eq!(retired.len(), 1);
    let (status, body) = get(&app, "/api/v1/auth/me", &old).await;
    assert_eq!(status, 401, "retired: {body}");
    assert_eq!(get(&app, "/api/v1/auth/me", access(&after)).await.0, 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_admin_is_granted_only_by_the_operator_command() {
    let app = spawn_app().await;
    let (_, pair) = signed_up(&app, "op@x.test", "Ops").await;
    let (_, me) = get(&app, "/api/v1/auth/me", access(&pair)).await;
    assert_eq!(me["platform_admin"], false);
    let (status, refused, _) = call(
        &app,
        Method::PATCH,
        "/api/v1/auth/me",
        Some(access(&pair)),
        Some(json!({"platform_admin": true})),
    )
    .await;
    assert_eq!(status, 422, "not a field a user may set: {refused}");
    assert_eq!(refused["errors"][0]["field"], "platform_admin");
    assert_eq!(
        get(&app, "/api/v1/auth/me", access(&pair)).await.1["platform_admin"],
        false
    );
    skiff_local::admin::set_platform_admin(app.services(), "op@x.test", true)
        .await
        .unwrap();
    assert_eq!(
        get(&app, "/api/v1/auth/me", access(&pair)).await.1["platform_admin"],
        true
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_lists_the_auth_routes() {
    let app = spawn_app().await;
    let (status, doc, _) = call(&app, Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/me",
        "/api/v1/orgs/current/members/{user_id}",
        "/api/v1/auth/api-keys",
        "/.well-known/jwks.json",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["paths"]["/api/v1/auth/me"]["patch"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["RegisterRequest"].is_object());
    app.stop().await;
}
