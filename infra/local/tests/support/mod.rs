//! A `skiff serve` child on a loopback port for client tests, and the journey
//! that gives a test a verified owner with a paid license (through the dev
//! mailbox and the payment simulator, as a user would click through them).

#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const PASSWORD: &str = "Correct1horse";

/// A running `skiff serve`; killed when dropped.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub port: u16,
    data: PathBuf,
    plans: PathBuf,
}

impl Server {
    /// Start on a free loopback port over a fresh data dir in `dir`. The catalog is
    /// the built-in one with the starter plan cut to one seat.
    pub fn start(dir: &Path) -> Server {
        let plans = dir.join("plans.json");
        let mut catalog: Value = serde_json::from_str(
            &std::fs::read_to_string(workspace_root().join("domains/billing/plans.json"))
                .expect("the built-in catalog"),
        )
        .expect("catalog JSON");
        for plan in catalog["plans"].as_array_mut().expect("plans") {
            if plan["id"] == "starter" {
                plan["entitlements"]["max_seats"] = json!(1);
            }
        }
        std::fs::write(&plans, catalog.to_string()).unwrap();
        let data = dir.join("data");
        // A free loopback port, fixed so a restart comes back at the same address.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let (child, base, port) = spawn(&data, &plans, port);
        Server {
            child: Some(child),
            base,
            port,
            data,
            plans,
        }
    }

    /// Stop the server (SIGKILL: the client must cope with a server that vanishes).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start again on the same port and data dir.
    pub fn restart(&mut self) {
        self.stop();
        let (child, base, _) = spawn(&self.data, &self.plans, self.port);
        assert_eq!(base, self.base, "the same address");
        self.child = Some(child);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The repository root (the directory with `Cargo.lock` above this crate).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|d| d.join("Cargo.lock").exists())
        .expect("the workspace root")
        .to_owned()
}

/// The `skiff` binary: cargo's path for the local server's own tests; for other
/// crates' tests, the one in the same target dir (a workspace test run builds it).
pub fn skiff_binary() -> PathBuf {
    if let Some(path) = option_env!("CARGO_BIN_EXE_skiff") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test binary");
    let path = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .join("skiff");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p skiff-local` (a workspace test run does)",
        path.display()
    );
    path
}

fn spawn(data: &Path, plans: &Path, port: u16) -> (Child, String, u16) {
    let mut child = Command::new(skiff_binary())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SKIFF_LOG", "warn")
        .env("SKIFF_PLANS_FILE", plans)
        .env("SKIFF_LICENSE_ACQUIRE_PER_MIN", "1000")
        .env("SKIFF_LICENSE_HEARTBEAT_PER_MIN", "1000")
        .env("SKIFF_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start skiff");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut seen = vec![];
    loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.contains("skiff is running at ") => {
                let url = format!("http://127.0.0.1:{port}");
                // Keep draining stderr so the server never blocks on a full pipe.
                std::thread::spawn(move || while rx.recv().is_ok() {});
                return (child, url, port);
            }
            Ok(line) => seen.push(line),
            Err(_) => panic!("skiff did not start: {seen:?}"),
        }
    }
}

/// A plain HTTP helper for the set-up a client SDK does not cover (sign-up,
/// the dev mailbox, the payment simulator).
pub struct Setup {
    pub base: String,
    http: reqwest::Client,
}

impl Setup {
    pub fn new(base: &str) -> Self {
        // Building an SDK client installs the TLS crypto provider reqwest expects.
        skiff_client::Client::new(base).expect("client");
        Self {
            base: base.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// A verified owner of a new org: (org id, access token).
    pub async fn verified_owner(&self, email: &str) -> (String, String) {
        let (status, reg) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/register",
                None,
                Some(json!({"email": email, "password": PASSWORD,
                    "full_name": "Ada Lovelace", "company_name": format!("Org of {email}")})),
            )
            .await;
        assert_eq!(status, 201, "{reg}");
        let link = self
            .wait_for_link(email, "/api/v1/auth/verify-email?token=")
            .await;
        let (status, body) = self.call(reqwest::Method::GET, &link, None, None).await;
        assert_eq!(status, 200, "{body}");
        (
            reg["org_id"].as_str().unwrap().to_owned(),
            self.login(email).await,
        )
    }

    pub async fn login(&self, email: &str) -> String {
        let (status, pair) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, 200, "{pair}");
        pair["access_token"].as_str().unwrap().to_owned()
    }

    /// The path and query of the first link containing `needle` in a mail to `to`.
    async fn wait_for_link(&self, to: &str, needle: &str) -> String {
        for _ in 0..100 {
            let (_, box_) = self
                .call(
                    reqwest::Method::GET,
                    &format!("/_dev/mailbox?to={to}"),
                    None,
                    None,
                )
                .await;
            for mail in box_["emails"].as_array().into_iter().flatten() {
                let text = mail["text"].as_str().unwrap_or_default();
                if let Some(start) = text.find(needle) {
                    let rest = &text[start..];
                    let end = rest
                        .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
                        .unwrap_or(rest.len());
                    return rest[..end].to_owned();
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no mail to {to} with {needle}");
    }

    /// Subscribe to `plan` and pay on the simulator; returns the org's license.
    pub async fn licensed(&self, token: &str, plan: &str) -> Value {
        let (status, started) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/billing/checkout",
                Some(token),
                Some(
                    json!({"plan_id": plan, "success_url": format!("{}/done", self.base),
                    "cancel_url": format!("{}/cancel", self.base)}),
                ),
            )
            .await;
        assert_eq!(status, 200, "{started}");
        let session = started["session_id"].as_str().unwrap();
        let paid = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(format!(
                "{}/api/v1/billing/simulator/checkout/{session}/pay",
                self.base
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(paid.status(), 303);
        let (status, list) = self
            .call(reqwest::Method::GET, "/api/v1/licenses", Some(token), None)
            .await;
        assert_eq!(status, 200, "{list}");
        list["licenses"][0].clone()
    }

    /// A payment-simulator trigger (`fail`, `renew`, `cancel`) for the org.
    pub async fn simulate(&self, token: &str, org: &str, action: &str) {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/billing/simulator/orgs/{org}/{action}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{action}: {body}");
    }
}
