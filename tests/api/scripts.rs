//! Scripts, black-box over HTTP: apps, scripts and modules, execution, user
//! routes (params, query, rest, conflicts, reserved paths, async dispatch,
//! claimed hosts), execution logs, the sandbox catalogue with a concurrent health
//! probe, the saturated gate, quotas, roles, app-bound keys and tenant isolation.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skiff_e2e::requests::{get, post};
use skiff_e2e::{TestApp, spawn_app, spawn_app_with};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// An operations ceiling no loop reaches before its timeout, so the clock stops it.
const UNBOUNDED_OPS: &str = "1000000000000";

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.call(method, path, Some(token), body).await
}

/// A verified owner of a new org on `plan` (free: 3 scripts; pro: 50).
async fn owner(app: &TestApp, email: &str, plan: Option<&str>) -> (String, String) {
    let (org, token) = app.verified_owner(email, "Scripts Co").await;
    if let Some(plan) = plan {
        app.subscribe(&token, plan).await;
    }
    (org, token)
}

async fn new_app(app: &TestApp, token: &str, slug: &str) -> Value {
    let (status, body) = post(
        app,
        "/api/v1/apps",
        Some(token),
        json!({"name": format!("App {slug}"), "slug": slug}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn new_script(app: &TestApp, token: &str, app_ref: &str, body: Value) -> Value {
    let (status, script) = post(
        app,
        &format!("/api/v1/apps/{app_ref}/scripts"),
        Some(token),
        body,
    )
    .await;
    assert_eq!(status, 201, "{script}");
    script
}

async fn endpoint(app: &TestApp, token: &str, app_ref: &str, name: &str, source: &str) -> String {
    new_script(app, token, app_ref, json!({"name": name, "source": source})).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn execute(app: &TestApp, token: &str, id: &str, body: Value) -> (StatusCode, Value) {
    post(
        app,
        &format!("/api/v1/scripts/{id}/execute"),
        Some(token),
        body,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_execute_update_execute_delete() {
    let app = spawn_app().await;
    let (_, token) = owner(&app, "dev@scripts.example", None).await;
    new_app(&app, &token, "shop").await;

    let script = new_script(
        &app,
        &token,
        "shop",
        json!({"name": "total", "source": "let b = ctx.request.body; log::info(`items: ${b.items.len()}`); #{ total: b.items.reduce(|sum, x| sum + x, 0) }"}),
    )
    .await;
    let id = script["id"].as_str().unwrap();
    assert_eq!(script["version"], 1);
    assert_eq!(script["kind"], "endpoint");

    let (status, body) = execute(&app, &token, id, json!({"items": [1, 2, 3]})).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"total": 6})));

    let (status, updated) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/scripts/{id}"),
        &token,
        Some(json!({"name": "total", "source": "#{ statusCode: 201, headers: #{ \"x-total\": \"yes\" }, body: #{ count: ctx.request.body.items.len() } }"})),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["version"], 2);

    let (status, body, headers) = app
        .request(
            Method::POST,
            &format!("/api/v1/scripts/{id}/execute"),
            Some(&token),
            Some(json!({"items": [1, 2, 3]})),
        )
        .await;
    assert_eq!((status, body), (StatusCode::CREATED, json!({"count": 3})));
    assert_eq!(headers["x-total"], "yes");
    assert!(headers.contains_key("x-execution-id"));

    // Both runs are in the log, newest first, with what the script logged.
    let (status, logs) = get(&app, &format!("/api/v1/scripts/{id}/logs"), &token).await;
    assert_eq!(status, 200, "{logs}");
    let logs = logs["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert_eq!(logs[0]["status_code"], 201);
    assert_eq!(logs[1]["status"], "ok");
    assert_eq!(
        logs[1]["logs"],
        json!([{"level": "info", "message": "items: 3"}])
    );
    assert_eq!(logs[1]["request"]["source"], "execute");

    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/scripts/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = execute(&app, &token, id, json!({})).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_refuses_bad_sources_names_and_limits() {
    let app = spawn_app().await;
    let (_, token) = owner(&app, "dev@save.example", None).await;
    new_app(&app, &token, "save-app").await;

    let (status, body) = post(
        &app,
        "/api/v1/apps/save-app/scripts",
        Some(&token),
        json!({"name": "broken", "source": "let x = 1;\nlet y = ;"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "COMPILE_ERROR");
    assert_eq!(
        (body["line"].clone(), body["column"].clone()),
        (json!(2), json!(9))
    );

    let (status, body) = post(
        &app,
        "/api/v1/apps/save-app/scripts",
        Some(&token),
        json!({"name": "m", "kind": "module", "source": "fn f() { 1 }\nlog::info(\"side effect\");"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("only constants"),
        "{body}"
    );
    assert_eq!(body["line"], 2);

    let (status, body) = post(
        &app,
        "/api/v1/apps/save-app/scripts",
        Some(&token),
        json!({"name": "x", "source": "1", "sandbox": {"max_operations": 999999999999u64, "nope": 1}}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "sandbox.nope");
    let (status, body) = post(
        &app,
        "/api/v1/apps/save-app/scripts",
        Some(&token),
        json!({"name": "x", "source": "1", "timeout_seconds": 3600}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "sandbox.timeout_ms");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("3600000") && message.contains("30000"),
        "{message}"
    );

    endpoint(&app, &token, "save-app", "one", "1").await;
    let (status, body) = post(
        &app,
        "/api/v1/apps/save-app/scripts",
        Some(&token),
        json!({"name": "one", "source": "2"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::CONFLICT, json!("SCRIPT_NAME_TAKEN"))
    );

    // The free plan's max_scripts is 3, counted exactly under concurrent saves.
    let saves = (0..5).map(|i| {
        post(
            &app,
            "/api/v1/apps/save-app/scripts",
            Some(&token),
            json!({"name": format!("more{i}"), "source": "1"}),
        )
    });
    let results = join_all(saves).await;
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 2, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|(s, _)| *s != 201)
            .all(|(s, b)| *s == 403 && b["code"] == "QUOTA_EXCEEDED"),
        "{results:?}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_routes_dispatch_with_params_query_and_rest() {
    let app = spawn_app().await;
    let (_, token) = owner(&app, "dev@routes.example", None).await;
    new_app(&app, &token, "routes-app").await;
    let echo = endpoint(
        &app,
        &token,
        "routes-app",
        "echo",
        "let r = ctx.request; #{ method: r.method, path: r.path, params: r.params, query: r.query, rest: r.rest, body: r.body }",
    )
    .await;
    let exact = endpoint(&app, &token, "routes-app", "exact", "\"exact\"").await;
    for (id, method, path) in [
        (&echo, "GET", "/greet/:name"),
        (&exact, "GET", "/greet/bob"),
        (&echo, "ANY", "/files/*"),
    ] {
        let (status, body) = post(
            &app,
            &format!("/api/v1/scripts/{id}/routes"),
            Some(&token),
            json!({"method": method, "path": path}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }

    let (status, body) = get(&app, "/run/routes-app/greet/ada?lang=fr&x=1", "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["params"], json!({"name": "ada"}));
    assert_eq!(body["query"], json!({"lang": "fr", "x": "1"}));
    assert_eq!(body["path"], "/greet/ada");
    let (_, body) = get(&app, "/run/routes-app/greet/bob", "").await;
    assert_eq!(body, json!("exact"), "the exact route beats the parameter");
    let (status, body) = post(
        &app,
        "/run/routes-app/files/a/b.txt",
        None,
        json!({"size": 3}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["rest"].clone(), body["body"].clone()),
        (json!("a/b.txt"), json!({"size": 3}))
    );
    let (status, body) = post(&app, "/run/routes-app/greet/ada", None, json!({})).await;
    assert_eq!(status, 404, "POST has no route: {body}");
    let (status, _) = get(&app, "/run/no-such-app/greet/ada", "").await;
    assert_eq!(status, 404);

    // Overlaps and reserved paths are refused.
    let (status, body) = post(
        &app,
        &format!("/api/v1/scripts/{exact}/routes"),
        Some(&token),
        json!({"method": "GET", "path": "/greet/:who"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "ROUTE_CONFLICT");
    assert_eq!(body["existing_route"]["path"], "/greet/:name");
    for reserved in ["/api/v1/x", "/healthz", "/_dev/mailbox"] {
        let (status, body) = post(
            &app,
            &format!("/api/v1/scripts/{exact}/routes"),
            Some(&token),
            json!({"method": "GET", "path": reserved}),
        )
        .await;
        assert_eq!(status, 422, "{reserved}: {body}");
        assert_eq!(body["errors"][0]["code"], "RESERVED_PATH");
    }

    // A changed table is seen at once; a deleted script takes its routes along.
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/scripts/{exact}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (_, body) = get(&app, "/run/routes-app/greet/bob", "").await;
    assert_eq!(body["params"], json!({"name": "bob"}));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_routes_answer_202_and_run_through_the_outbox() {
    let app = spawn_app().await;
    let (_, token) = owner(&app, "dev@async.example", None).await;
    new_app(&app, &token, "async-app").await;
    let id = endpoint(
        &app,
        &token,
        "async-app",
        "job",
        "log::info(`job for ${ctx.request.body.who}`); 1",
    )
    .await;
    let (status, _) = post(
        &app,
        &format!("/api/v1/scripts/{id}/routes"),
        Some(&token),
        json!({"method": "POST", "path": "/jobs", "dispatch": "async"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = post(&app, "/run/async-app/jobs", None, json!({"who": "ada"})).await;
    assert_eq!(status, 202, "{body}");
    let execution = body["execution_id"].as_str().unwrap().to_owned();
    app.wait_for_outbox_idle().await;
    let (_, logs) = get(&app, &format!("/api/v1/scripts/{id}/logs"), &token).await;
    let log = &logs["logs"][0];
    assert_eq!(log["execution_id"], execution.as_str());
    assert_eq!(log["request"]["source"], "async");
    assert_eq!(log["logs"][0]["message"], "job for ada");
    app.stop().await;
}

/// A loopback endpoint a script calls first (`http::get(gate)`): the call is held
/// there, so the test knows the run has started and is holding its runner, and
/// decides when it goes on to the rest of the script.
struct Gate {
    url: String,
    /// `ip:port`, for `SKIFF_SCRIPTS_HTTP_ALLOW_PRIVATE`.
    target: String,
    arrived: tokio::sync::Mutex<tokio::sync::mpsc::Receiver<()>>,
    release: Arc<tokio::sync::Semaphore>,
}

impl Gate {
    async fn start() -> Gate {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = listener.local_addr().unwrap().to_string();
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let release = Arc::new(tokio::sync::Semaphore::new(0));
        let held = release.clone();
        let router = axum::Router::new().route(
            "/gate",
            axum::routing::get(move || {
                let (tx, held) = (tx.clone(), held.clone());
                async move {
                    tx.send(()).await.unwrap();
                    held.acquire().await.unwrap().forget();
                    "open"
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Gate {
            url: format!("http://{target}/gate"),
            target,
            arrived: tokio::sync::Mutex::new(rx),
            release,
        }
    }

    /// `source`, run once the script has passed the gate.
    fn guard(&self, source: &str) -> String {
        format!("http::get(\"{}\");\n{source}", self.url)
    }
}

/// Run `call`, the execution of a [`Gate::guard`]ed script, and prove the server
/// keeps serving while the script runs: while the run is held at the gate (started,
/// holding its runner thread), a health probe must be answered; then the gate lets
/// the script go on to its hostile part, and probes go on until the run ends, every
/// one answered.
async fn while_running<F: std::future::Future<Output = (StatusCode, Value)>>(
    app: &TestApp,
    gate: &Gate,
    call: F,
) -> (StatusCode, Value) {
    let done = AtomicBool::new(false);
    let ended = tokio::sync::Notify::new();
    let call = async {
        let out = call.await;
        done.store(true, Ordering::SeqCst);
        ended.notify_one();
        out
    };
    let probe = async {
        let mut arrived = gate.arrived.lock().await;
        tokio::select! {
            got = arrived.recv() => got.expect("the gate is up"),
            () = ended.notified() => panic!("the run ended before it reached the gate"),
        }
        let r = app.get("/healthz").await;
        assert_eq!(r.status(), 200, "the server answers while a script runs");
        gate.release.add_permits(1);
        while !done.load(Ordering::SeqCst) {
            assert_eq!(app.get("/healthz").await.status(), 200);
        }
    };
    tokio::join!(call, probe).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_catalogue_ends_each_hostile_script_on_its_limit_while_the_server_serves() {
    let gate = Gate::start().await;
    let app = spawn_app_with(&[
        ("SKIFF_SCRIPTS_MAX_OPERATIONS_CEILING", UNBOUNDED_OPS),
        ("SKIFF_SCRIPTS_HTTP_ALLOW_PRIVATE", &gate.target),
    ])
    .await;
    let (_, token) = owner(&app, "dev@sandbox.example", Some("pro")).await;
    new_app(&app, &token, "sandbox").await;
    new_app(&app, &token, "other-app").await;
    new_script(
        &app,
        &token,
        "other-app",
        json!({"name": "theirs", "kind": "module", "source": "fn x() { 1 }"}),
    )
    .await;
    new_script(
        &app,
        &token,
        "sandbox",
        json!({"name": "ma", "kind": "module", "source": "import \"mb\" as b;\nfn a() { 1 }"}),
    )
    .await;
    new_script(
        &app,
        &token,
        "sandbox",
        json!({"name": "mb", "kind": "module", "source": "import \"ma\" as a;\nfn b() { 2 }"}),
    )
    .await;

    let slow = new_script(
        &app,
        &token,
        "sandbox",
        json!({"name": "slow", "source": gate.guard("loop {}"), "sandbox": {"max_operations": UNBOUNDED_OPS.parse::<u64>().unwrap(), "timeout_ms": 1500}}),
    )
    .await;
    let cases = [
        (
            "spin",
            "loop {}",
            StatusCode::INSUFFICIENT_STORAGE,
            "LIMIT_EXCEEDED",
            Some("max_operations"),
        ),
        (
            "recurse",
            "fn f(n) { f(n + 1) }\nf(0)",
            StatusCode::INSUFFICIENT_STORAGE,
            "LIMIT_EXCEEDED",
            Some("max_call_levels"),
        ),
        (
            "grow",
            "let s = \"ab\";\nloop { s += s; }",
            StatusCode::INSUFFICIENT_STORAGE,
            "LIMIT_EXCEEDED",
            Some("max_string_size"),
        ),
        (
            "huge",
            "let a = [];\nloop { a.push(0); }",
            StatusCode::INSUFFICIENT_STORAGE,
            "LIMIT_EXCEEDED",
            Some("max_array_size"),
        ),
        (
            "cycle",
            "import \"ma\" as a;\na::a()",
            StatusCode::UNPROCESSABLE_ENTITY,
            "SCRIPT_RUNTIME_ERROR",
            None,
        ),
        (
            "cross",
            "import \"theirs\" as t;\nt::x()",
            StatusCode::UNPROCESSABLE_ENTITY,
            "SCRIPT_RUNTIME_ERROR",
            None,
        ),
        (
            "thrower",
            "throw \"card declined\";",
            StatusCode::INTERNAL_SERVER_ERROR,
            "SCRIPT_ERROR",
            None,
        ),
    ];
    for (name, source, status, code, limit) in cases {
        let id = endpoint(&app, &token, "sandbox", name, &gate.guard(source)).await;
        let (got, body) = while_running(&app, &gate, execute(&app, &token, &id, json!({}))).await;
        assert_eq!(
            (got, body["code"].clone()),
            (status, json!(code)),
            "{name}: {body}"
        );
        if let Some(limit) = limit {
            assert_eq!(body["limit"], limit, "{name}: {body}");
        }
        let detail = body["detail"].as_str().unwrap();
        assert!(
            !detail.contains("/home") && !detail.contains("/work") && !detail.contains(".rs"),
            "{detail}"
        );
    }
    let (_, body) = execute(
        &app,
        &token,
        &endpoint(&app, &token, "sandbox", "why", "throw \"card declined\";").await,
        json!({}),
    )
    .await;
    assert_eq!(body["detail"], "card declined");
    let (_, body) = execute(
        &app,
        &token,
        &endpoint(&app, &token, "sandbox", "cyc2", "import \"ma\" as a;\n1").await,
        json!({}),
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("import cycle: ma → mb → ma"),
        "{body}"
    );

    // The timeout, the same way.
    let id = slow["id"].as_str().unwrap();
    let (status, body) = while_running(&app, &gate, execute(&app, &token, id, json!({}))).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(body["code"], "SCRIPT_TIMEOUT");

    // The logs say how each run ended.
    let (_, logs) = get(&app, &format!("/api/v1/scripts/{id}/logs"), &token).await;
    assert_eq!(logs["logs"][0]["status"], "timeout");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_gate_answers_503_with_retry_after() {
    let gate = Gate::start().await;
    let app = spawn_app_with(&[
        ("SKIFF_SCRIPTS_MAX_CONCURRENT", "1"),
        ("SKIFF_SCRIPTS_HTTP_ALLOW_PRIVATE", &gate.target),
    ])
    .await;
    let (_, token) = owner(&app, "dev@busy.example", None).await;
    new_app(&app, &token, "busy").await;
    let held = endpoint(&app, &token, "busy", "held", &gate.guard("\"done\"")).await;
    let quick = endpoint(&app, &token, "busy", "quick", "1").await;
    // While the held run has the only runner, another run is refused at once.
    let refused = async {
        gate.arrived
            .lock()
            .await
            .recv()
            .await
            .expect("the gate is up");
        let answer = app
            .request(
                Method::POST,
                &format!("/api/v1/scripts/{quick}/execute"),
                Some(&token),
                Some(json!({})),
            )
            .await;
        gate.release.add_permits(1);
        answer
    };
    let ((held_status, held_body), (status, body, headers)) =
        tokio::join!(execute(&app, &token, &held, json!({})), refused);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "SCRIPTS_BUSY");
    assert_eq!(headers["retry-after"], "1");
    assert_eq!((held_status, held_body), (StatusCode::OK, json!("done")));
    let (status, _) = execute(&app, &token, &quick, json!({})).await;
    assert_eq!(status, 200, "the runner is free again");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_org_deletes_its_scripts_but_changes_and_runs_nothing() {
    let app = spawn_app().await;
    let (org, token) = owner(&app, "dev@locked.example", Some("pro")).await;
    new_app(&app, &token, "locked-shop").await;
    new_app(&app, &token, "locked-other").await;
    let routed = endpoint(&app, &token, "locked-shop", "routed", "1").await;
    let (status, route) = post(
        &app,
        &format!("/api/v1/scripts/{routed}/routes"),
        Some(&token),
        json!({"method": "GET", "path": "/hello"}),
    )
    .await;
    assert_eq!(status, 201, "{route}");
    let (status, trigger) = post(
        &app,
        "/api/v1/apps/locked-shop/triggers/kv",
        Some(&token),
        json!({"script_id": routed, "collection": "orders"}),
    )
    .await;
    assert_eq!(status, 201, "{trigger}");
    let kept = endpoint(&app, &token, "locked-shop", "kept", "1").await;
    endpoint(&app, &token, "locked-other", "doomed", "1").await;
    app.simulate(&token, &org, "renew").await;
    for _ in 0..3 {
        app.simulate(&token, &org, "fail").await;
    }

    // Changes and runs: 423.
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/apps/locked-shop/scripts".to_owned(),
            json!({"name": "new", "source": "1"}),
        ),
        (
            Method::POST,
            format!("/api/v1/scripts/{kept}/execute"),
            json!({}),
        ),
        (
            Method::PUT,
            format!("/api/v1/scripts/{kept}"),
            json!({"source": "2"}),
        ),
    ] {
        let (status, problem) = call(&app, method, &path, &token, Some(body)).await;
        assert_eq!(status, 423, "{path}: {problem}");
        assert_eq!(problem["code"], "service_locked");
    }
    // Reads and deletes: open, so a locked org can reduce what it keeps.
    let (status, _) = get(&app, &format!("/api/v1/scripts/{kept}"), &token).await;
    assert_eq!(status, 200);
    for path in [
        format!(
            "/api/v1/scripts/{routed}/routes/{}",
            route["id"].as_str().unwrap()
        ),
        format!(
            "/api/v1/apps/locked-shop/triggers/{}",
            trigger["id"].as_str().unwrap()
        ),
        format!("/api/v1/scripts/{routed}"),
        "/api/v1/apps/locked-other?force=true".to_owned(),
    ] {
        let (status, body) = call(&app, Method::DELETE, &path, &token, None).await;
        assert_eq!(status, 204, "{path}: {body}");
    }
    let (status, _) = get(&app, &format!("/api/v1/scripts/{routed}"), &token).await;
    assert_eq!(status, 404);
    let (status, _) = get(&app, "/api/v1/apps/locked-other", &token).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_roles_and_tenants_are_kept_apart() {
    let app = spawn_app().await;
    let (_, owner_a) = owner(&app, "a@tenants.example", None).await;
    let (_, owner_b) = owner(&app, "b@tenants.example", None).await;
    new_app(&app, &owner_a, "app-a").await;
    new_app(&app, &owner_a, "app-a2").await;
    let id = endpoint(&app, &owner_a, "app-a", "s", "1").await;

    // Another org: 404 for the app, the script, its logs, its execution.
    for path in [
        "/api/v1/apps/app-a".to_owned(),
        format!("/api/v1/scripts/{id}"),
        format!("/api/v1/scripts/{id}/logs"),
    ] {
        let (status, _) = get(&app, &path, &owner_b).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = execute(&app, &owner_b, &id, json!({})).await;
    assert_eq!(status, 404);

    // Members act only where they were granted a role.
    let viewer = app
        .invited(&owner_a, "viewer@tenants.example", "member")
        .await;
    let editor = app
        .invited(&owner_a, "editor@tenants.example", "member")
        .await;
    let (_, me) = get(&app, "/api/v1/auth/me", &viewer).await;
    let viewer_id = me["id"]
        .as_str()
        .or(me["user"]["id"].as_str())
        .unwrap()
        .to_owned();
    let (_, me) = get(&app, "/api/v1/auth/me", &editor).await;
    let editor_id = me["id"]
        .as_str()
        .or(me["user"]["id"].as_str())
        .unwrap()
        .to_owned();
    let (status, _) = get(&app, "/api/v1/apps/app-a", &viewer).await;
    assert_eq!(status, 404, "no role yet: the app does not exist for them");
    for (user, role) in [(&viewer_id, "viewer"), (&editor_id, "editor")] {
        let (status, body) = call(
            &app,
            Method::PUT,
            &format!("/api/v1/apps/app-a/members/{user}"),
            &owner_a,
            Some(json!({"role": role})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, list) = get(&app, "/api/v1/apps", &viewer).await;
    assert_eq!(status, 200);
    let slugs: Vec<&str> = list["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["app-a"], "only the granted app");
    assert_eq!(list["apps"][0]["role"], "viewer");

    let (status, _) = get(&app, &format!("/api/v1/scripts/{id}"), &viewer).await;
    assert_eq!(status, 200, "a viewer reads");
    let (status, body) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/scripts/{id}"),
        &viewer,
        Some(json!({"name": "s", "source": "2"})),
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("INSUFFICIENT_APP_ROLE"))
    );
    let (status, _) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/scripts/{id}"),
        &editor,
        Some(json!({"name": "s", "source": "2"})),
    )
    .await;
    assert_eq!(status, 200, "an editor writes");
    let (status, body) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/scripts/{id}"),
        &editor,
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("INSUFFICIENT_APP_ROLE")),
        "an editor cannot delete"
    );
    let (status, _) = get(&app, "/api/v1/apps/app-a2", &editor).await;
    assert_eq!(status, 404, "another app of the same org");

    // A key bound to app-a reaches nothing else.
    let (status, key) = post(
        &app,
        "/api/v1/apps/app-a/api-keys",
        Some(&owner_a),
        json!({"name": "ci", "scopes": ["scripts:read", "scripts:write"]}),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let key = key["secret"].as_str().unwrap();
    let (status, _) = get(&app, "/api/v1/apps/app-a", key).await;
    assert_eq!(status, 200);
    let (status, _) = get(&app, "/api/v1/apps/app-a2", key).await;
    assert_eq!(status, 404);
    let (status, body) = execute(&app, key, &id, json!({})).await;
    assert_eq!((status, body), (StatusCode::OK, json!(2)));
    let (status, _) = post(
        &app,
        "/api/v1/apps",
        Some(key),
        json!({"name": "x", "slug": "from-key"}),
    )
    .await;
    assert_eq!(status, 403);

    // Slugs are unique across Skiff.
    let (status, body) = post(
        &app,
        "/api/v1/apps",
        Some(&owner_b),
        json!({"name": "B", "slug": "app-a"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::CONFLICT, json!("SLUG_TAKEN"))
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_app_with_scripts_needs_force_and_takes_everything() {
    let app = spawn_app().await;
    let (_, token) = owner(&app, "dev@delete.example", None).await;
    new_app(&app, &token, "doomed").await;
    let id = endpoint(&app, &token, "doomed", "s", "1").await;
    endpoint(&app, &token, "doomed", "t", "2").await;
    post(
        &app,
        &format!("/api/v1/scripts/{id}/routes"),
        Some(&token),
        json!({"method": "GET", "path": "/x"}),
    )
    .await;
    execute(&app, &token, &id, json!({})).await;

    let (status, body) = call(&app, Method::DELETE, "/api/v1/apps/doomed", &token, None).await;
    assert_eq!(
        (status, body["script_count"].clone()),
        (StatusCode::CONFLICT, json!(2)),
        "{body}"
    );
    assert_eq!(body["code"], "HAS_SCRIPTS");
    let (status, _) = call(
        &app,
        Method::DELETE,
        "/api/v1/apps/doomed?force=true",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = get(&app, &format!("/api/v1/scripts/{id}"), &token).await;
    assert_eq!(status, 404);
    let (status, _) = get(&app, "/run/doomed/x", "").await;
    assert_eq!(status, 404);
    // The quota came back and the slug is free.
    new_app(&app, &token, "doomed").await;
    for n in ["a", "b", "c"] {
        endpoint(&app, &token, "doomed", n, "1").await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claimed_host_serves_the_apps_routes_at_its_root() {
    let app = spawn_app().await;
    let (_, token) = owner(&app, "dev@hosts.example", None).await;
    new_app(&app, &token, "hosted").await;
    let id = endpoint(
        &app,
        &token,
        "hosted",
        "hi",
        "`hi from ${ctx.request.path}`",
    )
    .await;
    let (status, domain) = post(
        &app,
        "/api/v1/apps/hosted/domains",
        Some(&token),
        json!({"host": "api.hosted.example"}),
    )
    .await;
    assert_eq!(status, 201, "{domain}");
    assert_eq!(domain["status"], "active", "dev accepts claims at once");
    assert_eq!(domain["txt_name"], "_skiff-challenge.api.hosted.example");
    post(
        &app,
        &format!("/api/v1/scripts/{id}/routes"),
        Some(&token),
        json!({"method": "GET", "path": "/hello"}),
    )
    .await;

    let r = app
        .client
        .get(app.url("/hello"))
        .header("host", "api.hosted.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!("hi from /hello"));
    // The platform's own paths stay the platform's on a claimed host.
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("host", "api.hosted.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Claims are unique across Skiff.
    let (_, other) = owner(&app, "other@hosts.example", None).await;
    new_app(&app, &other, "other-hosted").await;
    let (status, body) = post(
        &app,
        "/api/v1/apps/other-hosted/domains",
        Some(&other),
        json!({"host": "api.hosted.example"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::CONFLICT, json!("HOST_TAKEN"))
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_example_runs_as_written() {
    let app = spawn_app().await;
    let (_, token) = owner(&app, "dev@readme.example", None).await;
    new_app(&app, &token, "shop").await;
    new_script(
        &app,
        &token,
        "shop",
        json!({"name": "money", "kind": "module", "source": "export const CURRENCY = \"EUR\";\nfn cents(x) { let c = x % 100; `${x / 100}.${if c < 10 { \"0\" } else { \"\" }}${c}` }"}),
    )
    .await;
    let quote = endpoint(
        &app,
        &token,
        "shop",
        "quote",
        "import \"money\" as m;\nlet items = ctx.request.body.items;\nlet total = items.reduce(|s, i| s + i.price * i.qty, 0);\nlog::info(`quote for ${ctx.request.params.customer}: ${total}`);\n#{ statusCode: 200, headers: #{ \"cache-control\": \"no-store\" }, body: #{ customer: ctx.request.params.customer, total: m::cents(total), currency: m::CURRENCY } }",
    )
    .await;
    let (status, _) = post(
        &app,
        &format!("/api/v1/scripts/{quote}/routes"),
        Some(&token),
        json!({"method": "POST", "path": "/quote/:customer"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = post(
        &app,
        "/run/shop/quote/ada",
        None,
        json!({"items": [{"price": 1250, "qty": 2}, {"price": 499, "qty": 1}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"currency": "EUR", "customer": "ada", "total": "29.99"})
    );
    let (_, body) = post(
        &app,
        "/run/shop/quote/bob",
        None,
        json!({"items": [{"price": 2905, "qty": 1}]}),
    )
    .await;
    assert_eq!(body["total"], "29.05");
    let (_, logs) = get(
        &app,
        &format!("/api/v1/scripts/{quote}/logs?limit=1"),
        &token,
    )
    .await;
    assert_eq!(logs["logs"][0]["logs"][0]["message"], "quote for bob: 2905");
    assert_eq!(logs["logs"][0]["request"]["path"], "/quote/:customer");
    app.stop().await;
}
