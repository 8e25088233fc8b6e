//! The server's own log, captured at `debug` over a whole customer journey, holds
//! none of the secrets the journey used: passwords, e-mail tokens, access and
//! refresh tokens, license keys, seat tokens.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skiff_e2e::{TEST_PASSWORD, TestApp, find_link, spawn_app_with};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Every line the global subscriber writes, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The secrets among `secrets` that occur in `log`, in any of the forms a path
/// or query could carry them (as sent, percent-encoded).
fn leaked<'a>(log: &str, secrets: &'a [(&'a str, String)]) -> Vec<&'a str> {
    secrets
        .iter()
        .filter(|(_, s)| {
            let encoded: String = s
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    b => format!("%{b:02X}"),
                })
                .collect();
            log.contains(s.as_str()) || log.contains(&encoded)
        })
        .map(|(name, _)| *name)
        .collect()
}

fn token_of(link: &str) -> String {
    link.split("token=")
        .nth(1)
        .expect("token in link")
        .to_owned()
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.call(method, path, bearer, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_journey_logs_no_token_or_key_it_used() {
    let log = Captured::default();
    let writer = log.clone();
    assert!(
        skiff_app::telemetry::try_init_with_writer("debug", move || writer.clone()),
        "the log capture must be the process's subscriber"
    );
    let app = spawn_app_with(&[("SKIFF_LOG", "debug")]).await;
    let email = "logs@example.com";
    let mut secrets: Vec<(&str, String)> = vec![("password", TEST_PASSWORD.to_owned())];

    // Register, verify through the path form of the link, log in, refresh.
    app.register_owner(email, "Log Corp").await;
    let mail = app.wait_for_email(email, "Verify your e-mail").await;
    let link = find_link(
        mail["text"].as_str().unwrap(),
        &app.url("/api/v1/auth/verify-email"),
    )
    .expect("verification link");
    let verify_token = token_of(&link);
    secrets.push(("verification token", verify_token.clone()));
    let r = app
        .get(&format!("/api/v1/auth/verify-email/{verify_token}"))
        .await;
    assert_eq!(r.status(), 200);
    let (status, pair) = send(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": email, "password": TEST_PASSWORD})),
    )
    .await;
    assert_eq!(status, 200, "{pair}");
    secrets.push((
        "access token",
        pair["access_token"].as_str().unwrap().into(),
    ));
    secrets.push((
        "refresh token",
        pair["refresh_token"].as_str().unwrap().into(),
    ));
    let (status, pair) = send(
        &app,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": pair["refresh_token"]})),
    )
    .await;
    assert_eq!(status, 200, "{pair}");
    let token = pair["access_token"].as_str().unwrap().to_owned();
    secrets.push(("refreshed access token", token.clone()));
    secrets.push((
        "rotated refresh token",
        pair["refresh_token"].as_str().unwrap().into(),
    ));

    // Pay on the simulator; the license key arrives.
    app.subscribe(&token, "starter").await;
    let (status, list) = send(&app, Method::GET, "/api/v1/licenses", Some(&token), None).await;
    assert_eq!(status, 200, "{list}");
    let key = list["licenses"][0]["key"].as_str().unwrap().to_owned();
    secrets.push(("license key", key.clone()));
    let hw = "machine-logs-0001";

    let (status, body) = send(
        &app,
        Method::POST,
        "/api/v1/licenses/validate",
        None,
        Some(json!({"license_key": key})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(
        &app,
        Method::GET,
        &format!("/api/v1/licenses/{key}/status"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(
        &app,
        Method::GET,
        &format!("/api/v1/licenses/{key}/status?license_key={key}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/v1/licenses/activate",
        None,
        Some(json!({"license_key": key, "hardware_id": hw})),
    )
    .await;
    assert!(status.is_success(), "{status} {body}");

    // A seat: acquire, heartbeat (path form), release (path form, token header).
    let (status, seat) = send(
        &app,
        Method::POST,
        "/api/v1/licenses/acquire",
        Some(&token),
        Some(json!({"license_key": key, "hardware_id": hw})),
    )
    .await;
    assert_eq!(status, 201, "{seat}");
    let seat_token = seat["signed_token"].as_str().unwrap().to_owned();
    secrets.push(("seat token", seat_token.clone()));
    let session = seat["session_id"].as_str().unwrap();
    let (status, body) = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/licenses/sessions/{session}/heartbeat"),
        Some(&token),
        Some(json!({"signed_token": seat_token})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/licenses/sessions/{session}")))
        .bearer_auth(&token)
        .header("x-seat-token", &seat_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    // A password reset through the e-mailed link, also with the token in a query.
    let (status, _) = send(
        &app,
        Method::POST,
        "/api/v1/auth/forgot-password",
        None,
        Some(json!({"email": email})),
    )
    .await;
    assert_eq!(status, 202);
    let mail = app.wait_for_email(email, "Reset your password").await;
    let link =
        find_link(mail["text"].as_str().unwrap(), &app.url("/reset-password")).expect("reset link");
    let reset_token = token_of(&link);
    secrets.push(("reset token", reset_token.clone()));
    let new_password = "Another2horse";
    secrets.push(("new password", new_password.to_owned()));
    let (status, body) = send(
        &app,
        Method::POST,
        &format!("/api/v1/auth/reset-password?token={reset_token}"),
        None,
        Some(json!({"token": reset_token, "new_password": new_password})),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    app.stop().await;

    let text = log.text();
    assert!(
        text.contains("request finished") && text.contains("/api/v1/licenses/{id}/status"),
        "the capture holds the server's request log with route templates"
    );
    assert_eq!(
        leaked(&text, &secrets),
        Vec::<&str>::new(),
        "secrets in the log"
    );

    // The check itself catches a leak: a line that carries a key is found.
    tracing::info!(path = %format!("/api/v1/licenses/{key}/status"), "canary");
    assert_eq!(leaked(&log.text(), &secrets), vec!["license key"]);
}
