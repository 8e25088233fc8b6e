//! The MCP endpoint: the official MCP client library (Python SDK, pinned in
//! .tools/mcp-venv by the test command) does a full round trip against the real
//! server; the protocol's edges are checked with plain HTTP.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skiff_e2e::{TestApp, spawn_app};

const MCP: &str = "/api/v1/mcp/";

fn python() -> std::path::PathBuf {
    let p =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/mcp-venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: the MCP client library is installed by the test command \
         (`scripts/tools.sh`); run it first",
        p.display()
    );
    p
}

async fn owner(app: &TestApp, email: &str) -> String {
    app.register_owner(email, "Mcp").await;
    app.login(email).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_client_initializes_lists_and_calls_tools() {
    let app = spawn_app().await;
    let token = owner(&app, "ada@mcp.test").await;
    let url = app.url(MCP);
    let py = python();
    let script =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/mcp_roundtrip.py");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(py)
            .arg(script)
            .arg(url)
            .arg(token)
            .output()
            .expect("run the MCP client")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the MCP client failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["server"], "skiff-memory");
    assert_eq!(report["protocol_version"], "2025-11-25");
    assert_eq!(report["tools"].as_array().unwrap().len(), 6);
    assert!(
        report["recall_text"]
            .as_str()
            .unwrap()
            .contains("Streamable HTTP"),
        "{report}"
    );
    assert_eq!(report["health"]["backend"], "skiff");
    assert_eq!(report["health"]["statistics"]["memory_count"], 1);
    assert_eq!(report["bad_delete_is_error"], true);
    assert!(
        report["bad_delete_text"]
            .as_str()
            .unwrap()
            .contains("memory_id must be a valid UUID")
    );
    // What the client stored is the org's memory, on the HTTP routes too.
    let (status, got) = app
        .call(
            Method::GET,
            &format!(
                "/api/v1/memory/memory/{}",
                report["memory_id"].as_str().unwrap()
            ),
            Some(&app.login("ada@mcp.test").await),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    app.stop().await;
}

async fn rpc(
    app: &TestApp,
    token: &str,
    session: Option<&str>,
    body: Value,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut r = app
        .client
        .post(app.url(MCP))
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .json(&body);
    if let Some(s) = session {
        r = r.header("mcp-session-id", s);
    }
    let r = r.send().await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        headers,
    )
}

fn init(version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_versions_and_locked_writes() {
    let app = spawn_app().await;
    let email = "ada@mcp-edges.test";
    let (org, token) = app.verified_owner(email, "Edges").await;

    // Version negotiation: a known version is echoed, an unknown one gets ours.
    let (status, body, headers) = rpc(&app, &token, None, init("2025-03-26")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["protocolVersion"], "2025-03-26");
    let session = headers["mcp-session-id"].to_str().unwrap().to_owned();
    let (_, body, _) = rpc(&app, &token, None, init("1999-01-01")).await;
    assert_eq!(body["result"]["protocolVersion"], "2025-11-25");

    // Requests after initialize need the session; an unknown one is 404.
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let (status, _, _) = rpc(&app, &token, None, list.clone()).await;
    assert_eq!(status, 400);
    let (status, _, _) = rpc(
        &app,
        &token,
        Some("0123456789abcdef0123456789abcdef"),
        list.clone(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, body, _) = rpc(&app, &token, Some(&session), list.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["tools"].as_array().unwrap().len(), 6);
    // Another org cannot use this session.
    let other = owner(&app, "eve@mcp-edges.test").await;
    let (status, _, _) = rpc(&app, &other, Some(&session), list.clone()).await;
    assert_eq!(status, 404);
    // Notifications are 202; unknown methods and malformed bodies are JSON-RPC errors.
    let (status, _, _) = rpc(
        &app,
        &token,
        Some(&session),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(status, 202);
    let (_, body, _) = rpc(
        &app,
        &token,
        Some(&session),
        json!({"jsonrpc": "2.0", "id": 3, "method": "nope"}),
    )
    .await;
    assert_eq!(body["error"]["code"], -32601);
    let r = app
        .client
        .post(app.url(MCP))
        .bearer_auth(&token)
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], -32700);
    let r = app
        .client
        .get(app.url(MCP))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = app
        .client
        .post(app.url(MCP))
        .json(&init("2025-06-18"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // A locked org: a write tool answers a tool error that says why in words.
    app.subscribe(&token, "pro").await;
    app.simulate(&token, &org, "cancel").await;
    let call = |name: &str, args: Value| json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": name, "arguments": args}});
    let (status, body, _) = rpc(
        &app,
        &token,
        Some(&session),
        call("store_memory", json!({"content": "blocked"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["isError"], true, "{body}");
    let text = body["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("archived") && text.contains("http"), "{text}");
    let (_, body, _) = rpc(
        &app,
        &token,
        Some(&session),
        call("recall_memory", json!({"query": "anything"})),
    )
    .await;
    assert_eq!(body["result"]["isError"], false, "{body}");

    // Ending the session.
    let r = app
        .client
        .delete(app.url(MCP))
        .bearer_auth(&token)
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, _, _) = rpc(&app, &token, Some(&session), list).await;
    assert_eq!(status, 404);
    app.stop().await;
}
