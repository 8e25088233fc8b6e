//! The black-box harness: each test boots its own Skiff (embedded backend, fresh
//! data dir, random port) and talks to it over HTTP only.
//!
//! A test is `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]`, starts
//! with [`spawn_app`] (or [`spawn_app_with`] for settings) and ends with
//! [`TestApp::stop`]; the server has its own runtime, so requests a test fires at
//! once (`join_all`, spawned tasks) reach it concurrently.

use serde_json::Value;
use std::time::Duration;

/// A running server for one test.
///
/// The server runs on its own multi-thread tokio runtime on a dedicated thread, so
/// a test's concurrent requests race on the server for real whatever runtime the
/// test itself uses, and a blocked test task never stalls the server.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub data_dir: tempfile::TempDir,
    server: Option<Server>,
}

/// The server's thread and the means to stop it.
struct Server {
    services: skiff_core::services::Services,
    stop: tokio::sync::oneshot::Sender<()>,
    stopped: std::sync::mpsc::Receiver<()>,
}

/// How long stopping a server may take before the test fails.
const STOP_WITHIN: Duration = Duration::from_secs(30);

impl Server {
    /// Ask the server to stop and wait (bounded, blocking) until its runtime is gone.
    fn stop_blocking(self) {
        let _ = self.stop.send(());
        drop(self.services);
        if self.stopped.recv_timeout(STOP_WITHIN) == Err(std::sync::mpsc::RecvTimeoutError::Timeout)
        {
            panic!("the test server did not stop within {STOP_WITHIN:?}");
        }
    }
}

/// Boot a server with extra environment overrides (e.g. `("SKIFF_QUEUE_MAX_RECEIVES", "2")`).
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let addr = listener.local_addr().unwrap();
    let mut vars = vec![
        ("SKIFF_ADDR".to_owned(), addr.to_string()),
        ("SKIFF_PUBLIC_URL".to_owned(), format!("http://{addr}")),
        (
            "SKIFF_DATA_DIR".to_owned(),
            data_dir.path().display().to_string(),
        ),
        ("SKIFF_DEV_CLOCK".to_owned(), "true".to_owned()),
        (
            "SKIFF_LOG".to_owned(),
            std::env::var("TEST_LOG").unwrap_or_else(|_| "off".into()),
        ),
    ];
    vars.extend(
        overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let config = skiff_app::AppConfig::from_vars(vars).expect("test config");
    skiff_app::telemetry::init(&config.log_filter);

    let (ready_tx, ready) = tokio::sync::oneshot::channel();
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (stopped_tx, stopped) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("skiff-test-server".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("skiff-test-server")
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                match skiff_local::start(config, listener).await {
                    Ok(running) => {
                        let _ = ready_tx.send(Ok(running.services.clone()));
                        // A dropped sender (the test panicked) stops the server too.
                        let _ = stop_rx.await;
                        running.shutdown().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("{e:#}")));
                    }
                }
            });
            runtime.shutdown_timeout(Duration::from_secs(5));
            let _ = stopped_tx.send(());
        })
        .expect("server thread");
    let services = match ready.await.expect("the server thread answers") {
        Ok(services) => services,
        Err(e) => panic!("server starts: {e}"),
    };
    TestApp {
        address: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        data_dir,
        server: Some(Server {
            services,
            stop,
            stopped,
        }),
    }
}

/// Boot a server with default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

impl Drop for TestApp {
    /// A test that ends without [`TestApp::stop`] (or panics) still stops its server
    /// before the data dir is removed.
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            if std::thread::panicking() {
                let _ = server.stop.send(());
            } else {
                server.stop_blocking();
            }
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// One JSON request, optionally with a bearer token: (status, body or `null`).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (reqwest::StatusCode, Value) {
        let (status, body, _) = self.request(method, path, token, body).await;
        (status, body)
    }

    /// [`TestApp::call`], with the response's headers.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (reqwest::StatusCode, Value, reqwest::header::HeaderMap) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request");
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            headers,
        )
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// The server's services, for assertions a client cannot make (use sparingly).
    pub fn services(&self) -> &skiff_core::services::Services {
        &self.server.as_ref().expect("running").services
    }

    /// Move the server's clock forward (dev-only route).
    pub async fn advance_clock(&self, by: Duration) {
        let r = self
            .post_json(
                "/_dev/clock/advance",
                &serde_json::json!({ "seconds": by.as_secs() }),
            )
            .await;
        assert_eq!(r.status(), 200, "advancing the clock");
    }

    /// E-mails in the dev mailbox for `to`, newest first.
    pub async fn mailbox(&self, to: &str) -> Vec<Value> {
        let r = self
            .client
            .get(self.url("/_dev/mailbox"))
            .query(&[("to", to)])
            .send()
            .await
            .expect("mailbox");
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        body.get("emails")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// Wait (bounded) for an e-mail to `to` whose subject contains `subject`.
    pub async fn wait_for_email(&self, to: &str, subject: &str) -> Value {
        for _ in 0..100 {
            if let Some(m) = self.mailbox(to).await.into_iter().find(|m| {
                m.get("subject")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.contains(subject))
            }) {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no e-mail to {to} with subject containing {subject:?} within 10 s");
    }

    /// Wait (bounded) until the outbox has nothing left to do: no message queued,
    /// waiting for a retry or being processed. A processed message leaves the queue
    /// only after its side effects, so after this every e-mail that requests so far
    /// caused is in the mailbox, and a duplicate would be too.
    pub async fn wait_for_outbox_idle(&self) {
        for _ in 0..200 {
            if self.services().queue.depth().await.expect("queue depth") == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the outbox still had messages after 10 s");
    }

    /// Export the org of `token` (`POST /api/v1/exports`), wait for the job, and
    /// download the archive: its manifest and every file by path.
    pub async fn org_export(
        &self,
        token: &str,
    ) -> (Value, std::collections::BTreeMap<String, Vec<u8>>) {
        use reqwest::Method;
        let (status, queued) = self
            .call(
                Method::POST,
                "/api/v1/exports",
                Some(token),
                Some(Value::Object(Default::default())),
            )
            .await;
        assert_eq!(status, 202, "{queued}");
        let id = queued["export_id"]
            .as_str()
            .expect("an export id")
            .to_owned();
        self.wait_for_outbox_idle().await;
        let (_, done) = self
            .call(
                Method::GET,
                &format!("/api/v1/exports/{id}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(done["status"], "complete", "{done}");
        let r = self
            .client
            .get(self.url(&format!("/api/v1/exports/{id}/download")))
            .bearer_auth(token)
            .send()
            .await
            .expect("download");
        let location = r.headers()["location"].to_str().expect("a URL").to_owned();
        let archive = self
            .client
            .get(location)
            .send()
            .await
            .expect("archive")
            .bytes()
            .await
            .expect("archive bytes");
        let mut files = std::collections::BTreeMap::new();
        let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(&archive[..]));
        for entry in tar.entries().expect("a tar archive") {
            let mut entry = entry.expect("an entry");
            let path = entry.path().expect("a path").display().to_string();
            let mut content = vec![];
            std::io::Read::read_to_end(&mut entry, &mut content).expect("an entry's bytes");
            files.insert(path, content);
        }
        let manifest = serde_json::from_slice(&files["manifest.json"]).expect("a manifest");
        (manifest, files)
    }

    /// Stop the server gracefully: in-flight requests and the message being processed
    /// finish, then the server's runtime shuts down (bounded).
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            tokio::task::spawn_blocking(move || server.stop_blocking())
                .await
                .expect("stopping the server");
        }
    }
}

/// The password every journey helper registers with (it satisfies the policy).
pub const TEST_PASSWORD: &str = "Correct1horse";

/// Journeys through the identity and billing routes that many suites start with.
impl TestApp {
    /// Register a new user who owns a new org named `company`; returns the org id.
    pub async fn register_owner(&self, email: &str, company: &str) -> String {
        let (status, reg) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/register",
                None,
                Some(serde_json::json!({
                    "email": email, "password": TEST_PASSWORD,
                    "full_name": "Ada Lovelace", "company_name": company,
                })),
            )
            .await;
        assert_eq!(status, 201, "{reg}");
        reg["org_id"].as_str().unwrap().to_owned()
    }

    /// Log in with [`TEST_PASSWORD`]; returns the access token.
    pub async fn login(&self, email: &str) -> String {
        let (status, pair) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                None,
                Some(serde_json::json!({"email": email, "password": TEST_PASSWORD})),
            )
            .await;
        assert_eq!(status, 200, "{pair}");
        pair["access_token"].as_str().unwrap().to_owned()
    }

    /// A verified owner of a new org (the link is clicked from the dev mailbox):
    /// (org id, access token).
    pub async fn verified_owner(&self, email: &str, company: &str) -> (String, String) {
        let org = self.register_owner(email, company).await;
        let mail = self.wait_for_email(email, "Verify your e-mail").await;
        let link = find_link(
            mail["text"].as_str().unwrap(),
            &self.url("/api/v1/auth/verify-email"),
        )
        .expect("verification link");
        assert_eq!(self.client.get(&link).send().await.unwrap().status(), 200);
        (org, self.login(email).await)
    }

    /// Check out `plan` and press "Pay" on the payment simulator's page.
    pub async fn subscribe(&self, token: &str, plan: &str) {
        let (status, started) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/billing/checkout",
                Some(token),
                Some(serde_json::json!({
                    "plan_id": plan, "success_url": self.url("/done"),
                    "cancel_url": self.url("/cancel"),
                })),
            )
            .await;
        assert_eq!(status, 200, "{started}");
        let url = started["checkout_url"].as_str().unwrap();
        let page = self.client.get(url).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains(">Pay<") && html.contains(">Decline<"),
            "{html}"
        );
        let session = started["session_id"].as_str().unwrap();
        let paid = self
            .client
            .post(self.url(&format!("/api/v1/billing/simulator/checkout/{session}/pay")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            paid.status(),
            303,
            "{}",
            paid.text().await.unwrap_or_default()
        );
        assert_eq!(paid.headers()["location"], self.url("/done").as_str());
    }
}

/// The payment simulator's dev-only org triggers, as an owner or admin of the org.
impl TestApp {
    /// `POST /api/v1/billing/simulator/orgs/{org}/{action}` (`renew`, `fail`,
    /// `cancel`, `update`) with `token`; asserts 200 and returns the deliveries made.
    pub async fn simulate(&self, token: &str, org: &str, action: &str) -> Value {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/billing/simulator/orgs/{org}/{action}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{action}: {body}");
        body
    }

    /// The simulator's view of the org's subscription (ids for crafted events).
    pub async fn sim_subscription(&self, token: &str, org: &str) -> Value {
        let (status, body) = self
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/billing/simulator/orgs/{org}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Invite `email` into the org of `owner_token` with `role`, accept the invitation
    /// as a new account and log in: the new member's access token.
    pub async fn invited(&self, owner_token: &str, email: &str, role: &str) -> String {
        let (status, inv) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/orgs/current/invitations",
                Some(owner_token),
                Some(serde_json::json!({"email": email, "role": role})),
            )
            .await;
        assert_eq!(status, 201, "{inv}");
        let mail = self.wait_for_email(email, "invited to join").await;
        let link = find_link(
            mail["text"].as_str().unwrap(),
            &self.url("/accept-invitation"),
        )
        .expect("invitation link");
        let token = link.split("token=").nth(1).expect("token in link");
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/orgs/invitations/accept",
                None,
                Some(serde_json::json!({
                    "token": token, "full_name": "Invited Person", "password": TEST_PASSWORD,
                })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        self.login(email).await
    }
}

/// Pull the first URL under `base` out of a text body (e.g. a link in an e-mail).
pub fn find_link(text: &str, base: &str) -> Option<String> {
    let start = text.find(base)?;
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        .unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// Request helpers the black-box suites share, as free functions so a test reads
/// `post(&app, path, token, body)`.
pub mod requests {
    use super::TestApp;
    use reqwest::{Method, StatusCode, header::HeaderMap};
    use serde_json::Value;

    /// A request with an optional bearer credential and JSON body: status, JSON
    /// body (or `null`) and headers.
    pub async fn call(
        app: &TestApp,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, HeaderMap) {
        app.request(method, path, token, body).await
    }

    pub async fn post(
        app: &TestApp,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        app.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn get(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
        app.call(Method::GET, path, Some(token), None).await
    }
}
