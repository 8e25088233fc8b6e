//! Licensing, black-box over HTTP: issuance by billing's checkout, the
//! "license issued" e-mail, the signed file verified with an independent Ed25519
//! implementation, validation and activation, the seat protocol (acquire,
//! heartbeat, release, 429, 410, 401), billing interplay, tenant isolation, rate
//! limits and the audit log.

use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skiff_e2e::requests::{get, post};
use skiff_e2e::{TestApp, spawn_app, spawn_app_with};
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

/// A verified owner whose org subscribed to `plan`: (org, token, its license).
async fn licensed(
    app: &TestApp,
    email: &str,
    company: &str,
    plan: &str,
) -> (String, String, Value) {
    let (org, token) = app.verified_owner(email, company).await;
    app.subscribe(&token, plan).await;
    let (status, list) = get(app, "/api/v1/licenses", &token).await;
    assert_eq!(status, 200, "{list}");
    let licenses = list["licenses"].as_array().unwrap();
    assert_eq!(licenses.len(), 1, "one license per subscription: {list}");
    (org, token, licenses[0].clone())
}

/// The desktop client's user agent, recorded with its sessions.
const CLIENT_AGENT: &str = "acme-desktop/4.2";

async fn acquire(app: &TestApp, token: &str, key: &str, hw: &str) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url("/api/v1/licenses/acquire"))
        .bearer_auth(token)
        .header("user-agent", CLIENT_AGENT)
        .json(&json!({"license_key": key, "hardware_id": hw}))
        .send()
        .await
        .expect("request");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn heartbeat(app: &TestApp, token: &str, seat: &Value) -> (StatusCode, Value) {
    post(
        app,
        "/api/v1/licenses/heartbeat",
        Some(token),
        json!({"session_id": seat["session_id"], "signed_token": seat["signed_token"]}),
    )
    .await
}

/// Verify a license file as the README says, with aws-lc-rs's Ed25519.
fn verify_independently(file: &str, public_key: &[u8]) -> Result<Value, String> {
    let body: String = file
        .trim()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let envelope: Value =
        serde_json::from_slice(&STANDARD.decode(body).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    if envelope["alg"] != "ed25519" {
        return Err("alg".into());
    }
    let decode = |k: &str| STANDARD.decode(envelope[k].as_str().unwrap_or_default());
    let payload = decode("payload").map_err(|e| e.to_string())?;
    let signature = decode("signature").map_err(|e| e.to_string())?;
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(&payload, &signature)
        .map_err(|_| "signature".to_string())?;
    serde_json::from_slice(&payload).map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_issues_a_license_with_its_email_and_an_offline_verifiable_file() {
    let app = spawn_app().await;
    let email = "owner@acme.test";
    let (org, token, license) = licensed(&app, email, "Acme", "pro").await;
    assert_eq!(license["tier"], "pro");
    assert_eq!(license["max_seats"], 10);
    assert_eq!(
        (
            license["seats_used"].clone(),
            license["seats_remaining"].clone()
        ),
        (json!(0), json!(10))
    );
    assert_eq!(license["status"], "active");
    let key = license["key"].as_str().unwrap();
    assert!(key.starts_with("SKIFF-") && key.len() == 30, "{key}");

    // The e-mail carries the key and the signed file.
    let mail = app.wait_for_email(email, "Your Skiff license key").await;
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains(key));
    let start = text
        .find("-----BEGIN SKIFF LICENSE-----")
        .expect("file in the e-mail");
    let end =
        text.find("-----END SKIFF LICENSE-----").unwrap() + "-----END SKIFF LICENSE-----".len();
    let mailed_file = &text[start..end];

    // The public key, then the downloaded file, verified by another implementation.
    let r = app.get("/api/v1/licenses/public-key").await;
    assert_eq!(r.status(), 200);
    let pk: Value = r.json().await.unwrap();
    let public = STANDARD.decode(pk["public_key"].as_str().unwrap()).unwrap();
    let id = license["id"].as_str().unwrap();
    let r = app
        .client
        .get(app.url(&format!("/api/v1/licenses/{id}/download")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let file = r.text().await.unwrap();
    let payload = verify_independently(&file, &public).expect("the downloaded file verifies");
    assert_eq!(payload["key"], key);
    assert_eq!(payload["org_id"], org.as_str());
    assert_eq!(payload["max_seats"], 10);
    assert_eq!(payload["kid"], pk["kid"]);
    assert!(
        payload["file_expires_at"].as_i64().unwrap() > payload["file_issued_at"].as_i64().unwrap()
    );
    verify_independently(mailed_file, &public).expect("the mailed file verifies");
    // One changed byte: refused.
    let mut bytes = file.clone().into_bytes();
    let i = file.find('\n').unwrap() + 20;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    assert!(verify_independently(&String::from_utf8(bytes).unwrap(), &public).is_err());

    // Billing redelivers the same subscription events: still one license, one e-mail.
    let (_, list) = get(&app, "/api/v1/licenses", &token).await;
    assert_eq!(list["licenses"].as_array().unwrap().len(), 1);
    let mails = app.mailbox(email).await;
    let issued = mails
        .iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .unwrap_or_default()
                .contains("license key")
        })
        .count();
    assert_eq!(issued, 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seat_protocol_over_http() {
    let app = spawn_app().await;
    let (_, token, license) = licensed(&app, "seats@acme.test", "Acme", "starter").await;
    let key = license["key"].as_str().unwrap();
    let id = license["id"].as_str().unwrap();
    assert_eq!(license["max_seats"], 3);

    // Validate and activate (public).
    let (status, v) = post(
        &app,
        "/api/v1/licenses/validate",
        None,
        json!({"license_key": key}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (v["valid"].clone(), v["code"].clone()),
        (json!(true), json!("VALID"))
    );
    let (status, _) = post(
        &app,
        "/api/v1/licenses/activate",
        None,
        json!({"license_key": key, "hardware_id": "laptop-0001-aaaa"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = post(
        &app,
        "/api/v1/licenses/activate",
        None,
        json!({"license_key": key, "hardware_id": "laptop-0001-aaaa"}),
    )
    .await;
    assert_eq!(status, 200, "re-activation is idempotent");
    let (status, s) = call(
        &app,
        Method::GET,
        &format!("/api/v1/licenses/{key}/status"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (status, s["status"].clone()),
        (StatusCode::OK, json!("active"))
    );

    // Acquire: 201 with a JWT; the same machine again gets the same session.
    let (status, a) = acquire(&app, &token, key, "laptop-0001-aaaa").await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["heartbeat_interval"], 300);
    assert_eq!(a["signed_token"].as_str().unwrap().split('.').count(), 3);
    let (status, again) = acquire(&app, &token, key, "laptop-0001-aaaa").await;
    assert_eq!(status, 201);
    assert_eq!(again["session_id"], a["session_id"]);
    assert_eq!(again["refreshed"], true);
    let (status, b) = acquire(&app, &token, key, "desktop-0002-bbbb").await;
    assert_eq!(status, 201);
    let (status, c) = acquire(&app, &token, key, "server-0003-cccc").await;
    assert_eq!(status, 201, "{c}");

    // Full: 429 SEATS_EXHAUSTED with the counts.
    let (status, full) = acquire(&app, &token, key, "tablet-0004-dddd").await;
    assert_eq!(status, 429, "{full}");
    assert_eq!(full["code"], "SEATS_EXHAUSTED");
    assert_eq!(
        (full["seats_used"].clone(), full["max_seats"].clone()),
        (json!(3), json!(3))
    );
    let (_, l) = get(&app, &format!("/api/v1/licenses/{id}"), &token).await;
    assert_eq!(
        (l["seats_used"].clone(), l["seats_remaining"].clone()),
        (json!(3), json!(0))
    );

    // Heartbeats, both routes.
    let (status, hb) = heartbeat(&app, &token, &a).await;
    assert_eq!(status, 200, "{hb}");
    assert_eq!(hb["heartbeat_interval"], 300);
    let (status, _) = call(
        &app,
        Method::PATCH,
        &format!(
            "/api/v1/licenses/sessions/{}/heartbeat",
            b["session_id"].as_str().unwrap()
        ),
        Some(&token),
        Some(json!({"signed_token": b["signed_token"]})),
    )
    .await;
    assert_eq!(status, 200);
    // A token for another session: 401.
    let (status, bad) = post(
        &app,
        "/api/v1/licenses/heartbeat",
        Some(&token),
        json!({"session_id": a["session_id"], "signed_token": b["signed_token"]}),
    )
    .await;
    assert_eq!(status, 401, "{bad}");

    // Release (both routes), idempotent; a released session's heartbeat is 410.
    let release = json!({"session_id": a["session_id"], "signed_token": a["signed_token"]});
    let (status, _) = post(
        &app,
        "/api/v1/licenses/release",
        Some(&token),
        release.clone(),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = post(&app, "/api/v1/licenses/release", Some(&token), release).await;
    assert_eq!(status, 204);
    let (status, gone) = heartbeat(&app, &token, &a).await;
    assert_eq!(
        (status, gone["code"].clone()),
        (StatusCode::GONE, json!("SESSION_EXPIRED"))
    );
    let r = app
        .client
        .delete(app.url(&format!(
            "/api/v1/licenses/sessions/{}",
            b["session_id"].as_str().unwrap()
        )))
        .bearer_auth(&token)
        .header("x-seat-token", b["signed_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    // Expiry: the clock passes the lease; a full license admits a new machine and
    // the expired session's heartbeat is 410.
    let (status, _) = acquire(&app, &token, key, "tablet-0004-dddd").await;
    assert_eq!(status, 201);
    let (status, _) = acquire(&app, &token, key, "phone-0005-eeee").await;
    assert_eq!(status, 201);
    let (status, _) = acquire(&app, &token, key, "watch-0006-ffff").await;
    assert_eq!(status, 429);
    app.advance_clock(Duration::from_secs(361)).await;
    let (status, d) = acquire(&app, &token, key, "watch-0006-ffff").await;
    assert_eq!(status, 201, "{d}");
    let (status, _) = heartbeat(&app, &token, &c).await;
    assert_eq!(status, 410);

    // Sessions: the live one and the past ones with their machines.
    let (status, sessions) = get(&app, &format!("/api/v1/licenses/{id}/sessions"), &token).await;
    assert_eq!(status, 200);
    let active = sessions["active"].as_array().unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["machine"], "watch-0006-ffff");
    assert_eq!(active[0]["user_agent"], CLIENT_AGENT);
    assert_eq!(active[0]["ip"], "127.0.0.1");
    let past = sessions["past"].as_array().unwrap();
    assert!(
        past.iter()
            .any(|p| p["session_id"] == a["session_id"] && p["status"] == "released")
    );
    assert!(past.iter().any(|p| p["status"] == "expired"));
    assert!(
        past.iter()
            .all(|p| p["ended_at"].is_string() && p["duration_secs"].is_number())
    );

    // The audit log (owner).
    let (status, log) = get(&app, "/api/v1/licenses/audit", &token).await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "LICENSE_ISSUED",
        "LICENSE_ACTIVATED",
        "SEAT_ACQUIRED",
        "SEAT_RELEASED",
        "SEAT_EXPIRED",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    let acquired = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "SEAT_ACQUIRED")
        .unwrap();
    assert!(acquired["actor"].as_str().unwrap().starts_with("user:"));
    assert_eq!(acquired["ip"], "127.0.0.1");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspension_by_the_third_failed_payment_and_renewal() {
    let app = spawn_app().await;
    let (org, token, license) = licensed(&app, "dunning@acme.test", "Acme", "pro").await;
    let key = license["key"].as_str().unwrap();
    app.simulate(&token, &org, "renew").await;
    let (status, seat) = acquire(&app, &token, key, "laptop-0001-aaaa").await;
    assert_eq!(status, 201);

    app.simulate(&token, &org, "fail").await;
    let (_, v) = post(
        &app,
        "/api/v1/licenses/validate",
        None,
        json!({"license_key": key}),
    )
    .await;
    assert_eq!(
        (v["valid"].clone(), v["code"].clone()),
        (json!(true), json!("GRACE_PERIOD"))
    );
    let (status, _) = heartbeat(&app, &token, &seat).await;
    assert_eq!(status, 200, "still running in the grace period");
    app.simulate(&token, &org, "fail").await;
    app.simulate(&token, &org, "fail").await;

    // Suspended: the session is gone, acquire says why.
    let (status, gone) = heartbeat(&app, &token, &seat).await;
    assert_eq!(
        (status, gone["code"].clone()),
        (StatusCode::GONE, json!("SESSION_EXPIRED"))
    );
    let (status, refused) = acquire(&app, &token, key, "laptop-0001-aaaa").await;
    assert_eq!(
        (status, refused["code"].clone()),
        (StatusCode::FORBIDDEN, json!("SUSPENDED"))
    );
    let (_, v) = post(
        &app,
        "/api/v1/licenses/validate",
        None,
        json!({"license_key": key}),
    )
    .await;
    assert_eq!(v["code"], "SUSPENDED");
    let (_, l) = get(
        &app,
        &format!("/api/v1/licenses/{}", license["id"].as_str().unwrap()),
        &token,
    )
    .await;
    assert_eq!(
        (l["status"].clone(), l["seats_used"].clone()),
        (json!("suspended"), json!(0))
    );

    // A successful payment renews: seats again.
    app.simulate(&token, &org, "renew").await;
    let (status, seat) = acquire(&app, &token, key, "laptop-0001-aaaa").await;
    assert_eq!(status, 201, "{seat}");
    let (_, v) = post(
        &app,
        "/api/v1/licenses/validate",
        None,
        json!({"license_key": key}),
    )
    .await;
    assert_eq!(v["code"], "VALID");

    // Cancellation deactivates.
    app.simulate(&token, &org, "cancel").await;
    let (status, refused) = acquire(&app, &token, key, "laptop-0001-aaaa").await;
    assert_eq!(
        (status, refused["code"].clone()),
        (StatusCode::FORBIDDEN, json!("INACTIVE"))
    );
    let (_, log) = get(&app, "/api/v1/licenses/audit", &token).await;
    let actions = log.to_string();
    assert!(actions.contains("LICENSE_SUSPENDED") && actions.contains("LICENSE_DEACTIVATED"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_org_sees_nothing_and_unverified_users_get_no_seat() {
    let app = spawn_app().await;
    let (_, token_a, license) = licensed(&app, "a@acme.test", "Acme", "starter").await;
    let (_, token_b) = app.verified_owner("b@globex.test", "Globex").await;
    let key = license["key"].as_str().unwrap();
    let id = license["id"].as_str().unwrap();
    for path in [
        format!("/api/v1/licenses/{id}"),
        format!("/api/v1/licenses/{id}/download"),
        format!("/api/v1/licenses/{id}/sessions"),
    ] {
        let (status, _) = get(&app, &path, &token_b).await;
        assert_eq!(status, 404, "{path}");
    }
    let (_, list) = get(&app, "/api/v1/licenses", &token_b).await;
    assert_eq!(list["licenses"], json!([]));
    let (status, _) = acquire(&app, &token_b, key, "intruder-0001").await;
    assert_eq!(status, 404, "another org's key is not found");
    // B cannot present A's seat token either.
    let (_, seat) = acquire(&app, &token_a, key, "laptop-0001-aaaa").await;
    let (status, _) = heartbeat(&app, &token_b, &seat).await;
    assert_eq!(status, 401);
    let (_, log) = get(&app, "/api/v1/licenses/audit", &token_b).await;
    assert_eq!(log["entries"], json!([]));

    // A signed-in user whose e-mail is not verified gets no seat.
    app.register_owner("unverified@initech.test", "Initech")
        .await;
    let token_u = app.login("unverified@initech.test").await;
    let (status, body) = acquire(&app, &token_u, key, "laptop-0009-zzzz").await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("EMAIL_NOT_VERIFIED"))
    );
    // Anonymous: 401.
    let (status, _) = post(
        &app,
        "/api/v1/licenses/acquire",
        None,
        json!({"license_key": key, "hardware_id": "laptop-0001-aaaa"}),
    )
    .await;
    assert_eq!(status, 401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_client_is_rate_limited_but_many_machines_are_not() {
    let app = spawn_app_with(&[("SKIFF_LICENSE_ACQUIRE_PER_MIN", "3")]).await;
    let (_, token, license) = licensed(&app, "loop@acme.test", "Acme", "pro").await;
    let key = license["key"].as_str().unwrap();
    let mut last = (StatusCode::OK, Value::Null);
    let mut limited = None;
    for _ in 0..10 {
        let r = app
            .client
            .post(app.url("/api/v1/licenses/acquire"))
            .bearer_auth(&token)
            .json(&json!({"license_key": key, "hardware_id": "looping-0001-aaaa"}))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            limited = Some(r.headers()["retry-after"].to_str().unwrap().to_owned());
            last = (r.status(), r.json().await.unwrap());
            break;
        }
    }
    let retry = limited.expect("the looping machine is stopped");
    assert_eq!(last.1["code"], "RATE_LIMITED");
    assert!(retry.parse::<u64>().unwrap() >= 1);
    // The same user's other machines still get seats.
    for i in 0..4 {
        let (status, body) = acquire(&app, &token, key, &format!("machine-{i:04}-bbbb")).await;
        assert_eq!(status, 201, "{body}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_the_licensing_routes() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/licenses", "get"),
        ("/api/v1/licenses/validate", "post"),
        ("/api/v1/licenses/activate", "post"),
        ("/api/v1/licenses/deactivate", "post"),
        ("/api/v1/licenses/{id}/machines/{hardware_id}", "delete"),
        ("/api/v1/licenses/acquire", "post"),
        ("/api/v1/licenses/heartbeat", "post"),
        ("/api/v1/licenses/release", "post"),
        ("/api/v1/licenses/sessions/{id}/heartbeat", "patch"),
        ("/api/v1/licenses/sessions/{id}", "delete"),
        ("/api/v1/licenses/{id}", "get"),
        ("/api/v1/licenses/{id}/download", "get"),
        ("/api/v1/licenses/{id}/sessions", "get"),
        ("/api/v1/licenses/{id}/status", "get"),
        ("/api/v1/licenses/public-key", "get"),
        ("/api/v1/licenses/audit", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path}"
        );
    }
    assert!(
        doc["components"]["schemas"]
            .get("AcquireResponse")
            .is_some()
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_machine_is_unbound_by_an_admin_or_by_itself_and_another_takes_its_place() {
    let app = spawn_app().await;
    let (_, token, license) = licensed(&app, "unbind@acme.test", "Acme", "starter").await;
    let key = license["key"].as_str().unwrap();
    let id = license["id"].as_str().unwrap();
    assert_eq!(license["max_seats"], 3);
    let activate = |hw: &str| {
        post(
            &app,
            "/api/v1/licenses/activate",
            None,
            json!({"license_key": key, "hardware_id": hw}),
        )
    };
    let deactivate = |hw: &str| {
        post(
            &app,
            "/api/v1/licenses/deactivate",
            None,
            json!({"license_key": key, "hardware_id": hw}),
        )
    };
    for hw in ["laptop-0001-aaaa", "laptop-0002-bbbb", "laptop-0003-cccc"] {
        assert_eq!(activate(hw).await.0, 201, "{hw}");
    }
    let (status, full) = activate("laptop-0004-dddd").await;
    assert_eq!(
        (status, full["code"].as_str()),
        (StatusCode::CONFLICT, Some("ACTIVATION_LIMIT")),
        "one machine per seat: {full}"
    );
    let (status, seat) = acquire(&app, &token, key, "laptop-0001-aaaa").await;
    assert_eq!(status, 201, "{seat}");

    // Only the org's owners and admins unbind; another org does not see the license.
    let machine_path = format!("/api/v1/licenses/{id}/machines/laptop-0001-aaaa");
    let (status, _) = call(&app, Method::DELETE, &machine_path, None, None).await;
    assert_eq!(status, 401);
    let member = app.invited(&token, "member@acme.test", "member").await;
    let (status, body) = call(&app, Method::DELETE, &machine_path, Some(&member), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("INSUFFICIENT_ROLE"))
    );
    let (_, stranger) = app.verified_owner("stranger@other.test", "Other").await;
    let (status, _) = call(&app, Method::DELETE, &machine_path, Some(&stranger), None).await;
    assert_eq!(status, 404, "another org's license");
    let (status, body) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/licenses/{id}/machines/short"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("VALIDATION_FAILED")),
        "{body}"
    );

    // The owner unbinds the seated machine: 204, twice; its session is over.
    for _ in 0..2 {
        let (status, body) = call(&app, Method::DELETE, &machine_path, Some(&token), None).await;
        assert_eq!(status, 204, "{body}");
    }
    let (status, hb) = post(
        &app,
        "/api/v1/licenses/heartbeat",
        Some(&token),
        json!({"session_id": seat["session_id"], "signed_token": seat["signed_token"]}),
    )
    .await;
    assert_eq!(
        (status, hb["code"].as_str()),
        (StatusCode::GONE, Some("SESSION_EXPIRED"))
    );
    let (_, view) = get(&app, &format!("/api/v1/licenses/{id}"), &token).await;
    assert_eq!(view["seats_used"], 0, "{view}");
    assert!(
        !view["hardware_ids"]
            .as_array()
            .unwrap()
            .contains(&json!("laptop-0001-aaaa")),
        "{view}"
    );
    assert_eq!(activate("laptop-0004-dddd").await.0, 201, "the freed slot");

    // A machine unbinds itself with the key, also twice; a new machine takes its slot.
    assert_eq!(deactivate("laptop-0002-bbbb").await.0, 204);
    assert_eq!(deactivate("laptop-0002-bbbb").await.0, 204);
    assert_eq!(activate("laptop-0005-eeee").await.0, 201);
    assert_eq!(activate("laptop-0006-ffff").await.0, 409);
    let (status, body) = post(
        &app,
        "/api/v1/licenses/deactivate",
        None,
        json!({"license_key": "SKIFF-0000-0000-0000-0000-0000", "hardware_id": "laptop-0003-cccc"}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = deactivate("x").await;
    assert_eq!(status, 422, "{body}");

    let (status, log) = get(
        &app,
        &format!("/api/v1/licenses/audit?license_id={id}"),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{log}");
    let unbinds = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "MACHINE_DEACTIVATED")
        .count();
    assert_eq!(unbinds, 2, "one entry per real unbinding: {log}");

    // The self-service route counts against the public per-IP limit.
    let mut limited = false;
    for _ in 0..100 {
        if deactivate("laptop-0003-cccc").await.0 == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "the public limit applies to deactivate");
    app.stop().await;
}
