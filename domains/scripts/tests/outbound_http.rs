//! Outbound HTTP from scripts against test servers on loopback: every spelling of
//! a loopback target is refused with a category (and the server sees nothing);
//! with the dev override naming a server exactly, that server is reached, and a
//! redirect from it to another loopback port is checked again. Other ranges are
//! proven by the address classifier's unit tests, never by sending traffic.

use serde_json::{Value, json};
use skiff_core::Services;
use skiff_core::clock::OffsetClock;
use skiff_core::ids::{OrgId, UserId};
use skiff_identity::Role;
use skiff_scripts::access::Actor;
use skiff_scripts::model::{ScriptKind, ScriptName, Slug};
use skiff_scripts::run::{Body, RunRequest};
use skiff_scripts::sandbox::Overrides;
use skiff_scripts::scripts::ScriptDraft;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A loopback HTTP server that counts the requests it sees; `/hop` redirects to
/// `redirect_to`, anything else answers `{"hello": <port>}`.
struct TestServer {
    port: u16,
    seen: Arc<AtomicUsize>,
    /// The head (request line and headers) of the last request.
    last: Arc<std::sync::Mutex<String>>,
}

async fn test_server(redirect_to: Option<String>) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let last = Arc::new(std::sync::Mutex::new(String::new()));
    let counter = seen.clone();
    let last_head = last.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let counter = counter.clone();
            let last_head = last_head.clone();
            let redirect_to = redirect_to.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = 0;
                while !buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf[got..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got += n,
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let head = String::from_utf8_lossy(&buf[..got]).into_owned();
                *last_head.lock().unwrap() = head.to_ascii_lowercase();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                if path == "/slow" {
                    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                    return;
                }
                let answer = match (&redirect_to, path.as_str()) {
                    (_, "/big") => format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 4096\r\nconnection: close\r\n\r\n{}",
                        "x".repeat(4096)
                    ),
                    (Some(to), "/hop") => format!(
                        "HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    ),
                    _ => {
                        let body = json!({"hello": port}).to_string();
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    }
                };
                let _ = conn.write_all(answer.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    TestServer { port, seen, last }
}

struct World {
    services: Services,
    actor: Actor,
    script: skiff_core::ids::ScriptId,
    _dir: tempfile::TempDir,
}

/// A script that calls `ctx.request.body.url` (with `ctx.request.body.opts`, and
/// `ctx.request.body.send` as a POST body when present) and answers what happened.
const CALLER: &str = r#"
let out = ();
try {
    let b = ctx.request.body;
    let r = if "send" in b { http::post(b.url, b.send, b.opts ?? #{}) } else { http::get(b.url, b.opts ?? #{}) };
    out = #{ reached: true, status: r.status, body: r.body };
} catch (e) {
    out = #{ reached: false, error: `${e}` };
}
out
"#;

async fn world(vars: &[(&str, String)]) -> World {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec![(
        "SKIFF_DATA_DIR".to_owned(),
        dir.path().display().to_string(),
    )];
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let config = skiff_app::AppConfig::from_vars(all).unwrap();
    let services = skiff_app::services::embedded(config, OffsetClock::new())
        .await
        .unwrap()
        .services;
    let actor = Actor {
        org_id: OrgId::new(),
        user_id: Some(UserId::new()),
        api_key_id: None,
        org_role: Role::Owner,
        can_write: true,
        bound_app: None,
    };
    let slug = format!("h-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    skiff_scripts::apps::create(
        &services,
        &actor,
        "Http".into(),
        Slug::parse(&slug).unwrap(),
    )
    .await
    .unwrap();
    let script = skiff_scripts::scripts::create(
        &services,
        &actor,
        &slug,
        ScriptDraft {
            name: ScriptName::parse("caller").unwrap(),
            source: CALLER.into(),
            kind: ScriptKind::Endpoint,
            overrides: Overrides::default(),
        },
    )
    .await
    .unwrap()
    .id;
    World {
        services,
        actor,
        script,
        _dir: dir,
    }
}

impl World {
    async fn call(&self, url: &str) -> Value {
        self.call_with(json!({ "url": url })).await
    }

    async fn call_with(&self, body: Value) -> Value {
        let e = skiff_scripts::service::execute(
            &self.services,
            &self.actor,
            &self.script,
            RunRequest {
                method: "POST".into(),
                body,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        match e.result.unwrap().body {
            Body::Json(v) => v,
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_spelling_of_loopback_is_refused_by_category_and_nothing_arrives() {
    let server = test_server(None).await;
    let w = world(&[]).await;
    let p = server.port;
    let mut urls = vec![];
    for host in [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "127.1",
        "0x7f000001",
        "2130706433",
        "017700000001",
        "[::ffff:127.0.0.1]",
    ] {
        urls.push(format!("http://{host}:{p}/"));
        urls.push(format!("http://{host}/"));
    }
    for url in &urls {
        let answer = w.call(url).await;
        assert_eq!(answer["reached"], false, "{url}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(
            error.contains("loopback address") || error.contains("IPv4-embedding IPv6 address"),
            "{url}: {error}"
        );
        assert!(
            !error.contains("127.0.0.1") && !error.contains("::1") && !error.contains("2130706433"),
            "the error names a category, not the address: {error}"
        );
    }
    assert_eq!(server.seen.load(Ordering::SeqCst), 0, "no request arrived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_override_reaches_only_its_exact_targets_and_redirects_are_checked_again() {
    let second = test_server(None).await;
    let first = test_server(Some(format!("http://127.0.0.1:{}/landed", second.port))).await;
    let allow = |targets: &[u16]| {
        vec![(
            "SKIFF_SCRIPTS_HTTP_ALLOW_PRIVATE",
            targets
                .iter()
                .map(|p| format!("127.0.0.1:{p}"))
                .collect::<Vec<_>>()
                .join(","),
        )]
    };

    // Only the first server is allowed: it is reached, its redirect is not.
    let w = world(&allow(&[first.port])).await;
    let answer = w
        .call(&format!("http://127.0.0.1:{}/hello", first.port))
        .await;
    assert_eq!(
        answer,
        json!({"reached": true, "status": 200, "body": {"hello": first.port}})
    );
    assert_eq!(first.seen.load(Ordering::SeqCst), 1);
    // The same server under another spelling is the same address: allowed.
    let answer = w.call(&format!("http://0x7f000001:{}/", first.port)).await;
    assert_eq!(answer["reached"], true, "{answer}");
    let answer = w
        .call(&format!("http://127.0.0.1:{}/hop", first.port))
        .await;
    assert_eq!(answer["reached"], false, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("loopback address"),
        "{answer}"
    );
    assert_eq!(first.seen.load(Ordering::SeqCst), 3, "the hop was asked");
    assert_eq!(
        second.seen.load(Ordering::SeqCst),
        0,
        "the redirect's target was refused before any connection"
    );

    // With both allowed, the redirect is followed to the second server, without
    // the credentials meant for the first (another origin).
    let w = world(&allow(&[first.port, second.port])).await;
    let answer = w
        .call_with(json!({
            "url": format!("http://127.0.0.1:{}/hop", first.port),
            "opts": {"headers": {"authorization": "Bearer s3cret", "x-trace": "t-1"}},
        }))
        .await;
    assert!(
        first
            .last
            .lock()
            .unwrap()
            .contains("authorization: bearer s3cret")
    );
    let forwarded = second.last.lock().unwrap().clone();
    assert!(!forwarded.contains("s3cret"), "{forwarded}");
    assert!(forwarded.contains("x-trace: t-1"), "{forwarded}");
    assert_eq!(
        answer,
        json!({"reached": true, "status": 200, "body": {"hello": second.port}})
    );
    assert_eq!(second.seen.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_capped_calls_time_out_and_unknown_options_throw() {
    let server = test_server(None).await;
    let p = server.port;
    let w = world(&[
        ("SKIFF_SCRIPTS_HTTP_ALLOW_PRIVATE", format!("127.0.0.1:{p}")),
        ("SKIFF_SCRIPTS_HTTP_MAX_RESPONSE_BYTES", "1024".into()),
        ("SKIFF_SCRIPTS_HTTP_MAX_REQUEST_BYTES", "64".into()),
    ])
    .await;
    let base = format!("http://127.0.0.1:{p}");
    let error = |v: Value| v["error"].as_str().unwrap_or_default().to_owned();
    let big = w.call(&format!("{base}/big")).await;
    assert!(error(big.clone()).contains("over 1024 bytes"), "{big}");
    let slow = w
        .call_with(json!({"url": format!("{base}/slow"), "opts": {"timeout_ms": 300}}))
        .await;
    assert!(error(slow.clone()).contains("timed out"), "{slow}");
    let sent = w
        .call_with(json!({"url": format!("{base}/"), "send": "y".repeat(65)}))
        .await;
    assert!(error(sent.clone()).contains("over 64 bytes"), "{sent}");
    let unknown = w
        .call_with(json!({"url": format!("{base}/"), "opts": {"retries": 3}}))
        .await;
    assert!(error(unknown.clone()).contains("`retries`"), "{unknown}");
    assert_eq!(
        server.seen.load(Ordering::SeqCst),
        2,
        "the oversized request and the bad option never left"
    );
    // A JSON POST answered with JSON: parsed.
    let ok = w
        .call_with(json!({"url": format!("{base}/echo"), "send": {"a": 1}}))
        .await;
    assert_eq!(ok["body"], json!({"hello": p}), "{ok}");
}
