//! Scripts' triggers and dead letters, black-box over HTTP: a route stores an
//! order in documents and its docs trigger runs through the outbox; what a
//! trigger create refuses (and why); roles and tenant isolation on triggers and
//! dead letters; a failing trigger dead-letters, replays and is resolved.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skiff_e2e::requests::{get, post};
use skiff_e2e::{TestApp, spawn_app};

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.call(method, path, Some(token), body).await
}

async fn new_app(app: &TestApp, token: &str, slug: &str) {
    let (status, body) = post(
        app,
        "/api/v1/apps",
        Some(token),
        json!({"name": slug, "slug": slug}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

async fn script(app: &TestApp, token: &str, app_ref: &str, body: Value) -> String {
    let (status, s) = post(
        app,
        &format!("/api/v1/apps/{app_ref}/scripts"),
        Some(token),
        body,
    )
    .await;
    assert_eq!(status, 201, "{s}");
    s["id"].as_str().unwrap().to_owned()
}

/// Run `source` as a new endpoint script of `app_ref`; its JSON answer.
async fn eval(app: &TestApp, token: &str, app_ref: &str, name: &str, source: &str) -> Value {
    let id = script(app, token, app_ref, json!({"name": name, "source": source})).await;
    let (status, body) = post(
        app,
        &format!("/api/v1/scripts/{id}/execute"),
        Some(token),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_docs_trigger_runs_on_an_order_stored_through_a_route() {
    let app = spawn_app().await;
    let (_, token) = app.verified_owner("dev@orders.example", "Orders").await;
    new_app(&app, &token, "shop").await;
    let store = script(
        &app,
        &token,
        "shop",
        json!({"name": "store_order", "source":
            "let id = docs::collection(\"orders\").create(ctx.request.body);\n#{ statusCode: 201, body: #{ id: id } }"}),
    )
    .await;
    let (status, body) = post(
        &app,
        &format!("/api/v1/scripts/{store}/routes"),
        Some(&token),
        json!({"method": "POST", "path": "/orders"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let handler = script(
        &app,
        &token,
        "shop",
        json!({"name": "on_order", "source":
            "kv::collection(\"seen\").set(ctx.event.id, #{ op: ctx.event.op, total: ctx.event.data.total, collection: ctx.event.collection, by: ctx.principal.role });"}),
    )
    .await;
    let (status, trigger) = post(
        &app,
        "/api/v1/apps/shop/triggers/docs",
        Some(&token),
        json!({"script_id": handler, "collection": "ord*", "ops": ["insert"]}),
    )
    .await;
    assert_eq!(status, 201, "{trigger}");
    assert_eq!(trigger["kind"], "docs");
    assert_eq!(trigger["collection"], "ord*");
    assert_eq!(
        trigger["retry"],
        json!({"max_attempts": 3, "backoff": "exponential", "base_delay_ms": 1000}),
        "the configured defaults, stored on the trigger"
    );

    let (status, order) = post(&app, "/run/shop/orders", None, json!({"total": 42})).await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap();
    app.wait_for_outbox_idle().await;
    let seen = eval(
        &app,
        &token,
        "shop",
        "read",
        &format!("kv::collection(\"seen\").get(\"{id}\")"),
    )
    .await;
    assert_eq!(
        seen,
        json!({"op": "insert", "total": 42, "collection": "orders", "by": "app_admin"})
    );

    let tid = trigger["id"].as_str().unwrap();
    let (status, list) = get(&app, "/api/v1/apps/shop/triggers", &token).await;
    assert_eq!(status, 200);
    assert_eq!(list["triggers"].as_array().unwrap().len(), 1);
    let (status, one) = get(&app, &format!("/api/v1/apps/shop/triggers/{tid}"), &token).await;
    assert_eq!((status, one["id"].clone()), (StatusCode::OK, json!(tid)));
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/apps/shop/triggers/{tid}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = get(&app, &format!("/api/v1/apps/shop/triggers/{tid}"), &token).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_creates_refuse_what_cannot_run_and_name_the_reason() {
    let app = spawn_app().await;
    let (_, token) = app.verified_owner("dev@refuse.example", "Refuse").await;
    new_app(&app, &token, "refuse").await;
    new_app(&app, &token, "elsewhere").await;
    let handler = script(&app, &token, "refuse", json!({"name": "h", "source": "1"})).await;
    let module = script(
        &app,
        &token,
        "refuse",
        json!({"name": "m", "kind": "module", "source": "fn f() { 1 }"}),
    )
    .await;
    let foreign = script(
        &app,
        &token,
        "elsewhere",
        json!({"name": "h", "source": "1"}),
    )
    .await;
    let cases = [
        (
            "kv",
            json!({"script_id": handler, "collection": "a*b"}),
            "collection",
        ),
        ("kv", json!({"script_id": handler}), "body"),
        (
            "kv",
            json!({"script_id": foreign, "collection": "x"}),
            "script_id",
        ),
        (
            "docs",
            json!({"script_id": handler, "collection": "x", "ops": ["upsert"]}),
            "body",
        ),
        (
            "docs",
            json!({"script_id": handler, "collection": "x", "color": "red"}),
            "body",
        ),
        (
            "cron",
            json!({"script_id": handler, "schedule": "*/5 * * * *"}),
            "schedule",
        ),
        (
            "cron",
            json!({"script_id": handler, "schedule": "0 0 * * * *", "timezone": "Mars/Olympus"}),
            "timezone",
        ),
        (
            "pubsub",
            json!({"script_id": handler, "topic": "orders.*.created"}),
            "topic",
        ),
        (
            "pubsub",
            json!({"script_id": handler, "topic": "orders.*", "retry": {"max_attempts": 0, "backoff": "linear", "base_delay_ms": 1000}}),
            "retry.max_attempts",
        ),
        (
            "pubsub",
            json!({"script_id": handler, "topic": "orders.*", "retry": {"max_attempts": 3, "backoff": "sometimes", "base_delay_ms": 1000}}),
            "body",
        ),
    ];
    for (kind, body, field) in cases {
        let (status, problem) = post(
            &app,
            &format!("/api/v1/apps/refuse/triggers/{kind}"),
            Some(&token),
            body.clone(),
        )
        .await;
        assert_eq!(status, 422, "{kind} {body}: {problem}");
        let problem_text = problem.to_string();
        if field != "body" {
            assert!(
                problem["errors"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e["field"] == field)),
                "{kind} {body}: {problem_text}"
            );
        }
        assert!(
            !problem["detail"].as_str().unwrap_or("").is_empty(),
            "{problem}"
        );
    }
    // A module cannot be a trigger's target.
    let (status, problem) = post(
        &app,
        "/api/v1/apps/refuse/triggers/pubsub",
        Some(&token),
        json!({"script_id": module, "topic": "*"}),
    )
    .await;
    assert_eq!(status, 422, "a module as the target: {problem}");
    assert_eq!(problem["errors"][0]["code"], "NOT_AN_ENDPOINT", "{problem}");
    let (status, body) = post(
        &app,
        "/api/v1/apps/refuse/triggers/cron",
        Some(&token),
        json!({"script_id": handler, "schedule": "0 30 9 * * Mon-Fri", "timezone": "Europe/Paris"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["next_run_at"].is_string(), "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_replayed_and_resolved_within_their_app() {
    let app = spawn_app().await;
    let (_, token) = app.verified_owner("dev@dl.example", "Dead letters").await;
    let (_, stranger) = app.verified_owner("dev@other.example", "Other").await;
    new_app(&app, &token, "dl-app").await;
    new_app(&app, &token, "dl-sibling").await;
    let failing = script(
        &app,
        &token,
        "dl-app",
        json!({"name": "charge", "source": "throw `card declined for ${ctx.event.key}`;"}),
    )
    .await;
    let (status, trigger) = post(
        &app,
        "/api/v1/apps/dl-app/triggers/kv",
        Some(&token),
        json!({"script_id": failing, "collection": "payments",
               "retry": {"max_attempts": 1, "backoff": "constant", "base_delay_ms": 100}}),
    )
    .await;
    assert_eq!(status, 201, "{trigger}");
    eval(
        &app,
        &token,
        "dl-app",
        "pay",
        "kv::collection(\"payments\").set(\"p-1\", 10); 1",
    )
    .await;
    app.wait_for_outbox_idle().await;

    let (status, page) = get(&app, "/api/v1/apps/dl-app/dead-letters", &token).await;
    assert_eq!(status, 200, "{page}");
    let dls = page["dead_letters"].as_array().unwrap();
    assert_eq!(dls.len(), 1, "{page}");
    let dl = &dls[0];
    assert_eq!(dl["trigger_id"], trigger["id"]);
    assert_eq!(dl["attempts"], 1);
    assert_eq!(dl["status"], "unresolved");
    assert_eq!(dl["event"]["key"], "p-1");
    assert!(
        dl["error"]
            .as_str()
            .unwrap()
            .contains("card declined for p-1"),
        "{dl}"
    );
    let id = dl["id"].as_str().unwrap().to_owned();
    let (_, count) = get(&app, "/api/v1/apps/dl-app/dead-letters/count", &token).await;
    assert_eq!(count["unresolved"], 1);

    // Another app of the same org, and another org: 404.
    for (app_ref, who) in [("dl-sibling", &token), ("dl-app", &stranger)] {
        for (method, path) in [
            (
                Method::GET,
                format!("/api/v1/apps/{app_ref}/dead-letters/{id}"),
            ),
            (
                Method::POST,
                format!("/api/v1/apps/{app_ref}/dead-letters/{id}/replay"),
            ),
        ] {
            let (status, _) = call(&app, method, &path, who, Some(json!({}))).await;
            assert_eq!(status, 404, "{path}");
        }
        let (status, _) = get(
            &app,
            &format!(
                "/api/v1/apps/{app_ref}/triggers/{}",
                trigger["id"].as_str().unwrap()
            ),
            who,
        )
        .await;
        assert_eq!(status, 404, "{app_ref} trigger");
    }

    // A replay runs the handler again (it still fails: the dead letter stays open
    // with its attempts counted).
    let (status, replayed) = post(
        &app,
        &format!("/api/v1/apps/dl-app/dead-letters/{id}/replay"),
        Some(&token),
        json!({}),
    )
    .await;
    assert_eq!(status, 202, "{replayed}");
    app.wait_for_outbox_idle().await;
    let (_, after) = get(
        &app,
        &format!("/api/v1/apps/dl-app/dead-letters/{id}"),
        &token,
    )
    .await;
    assert_eq!(after["replays"], 1, "{after}");
    assert_eq!(after["attempts"], 2, "{after}");
    assert_eq!(after["status"], "unresolved");

    // Resolve needs a reason; then it is closed and no longer counted.
    let (status, problem) = post(
        &app,
        &format!("/api/v1/apps/dl-app/dead-letters/{id}/resolve"),
        Some(&token),
        json!({}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let (status, closed) = post(
        &app,
        &format!("/api/v1/apps/dl-app/dead-letters/{id}/resolve"),
        Some(&token),
        json!({"reason": "refunded by hand"}),
    )
    .await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(
        (closed["status"].clone(), closed["resolution"].clone()),
        (json!("resolved"), json!("refunded by hand"))
    );
    let (_, count) = get(&app, "/api/v1/apps/dl-app/dead-letters/count", &token).await;
    assert_eq!(count["unresolved"], 0);
    let (_, open) = get(
        &app,
        "/api/v1/apps/dl-app/dead-letters?unresolved=true",
        &token,
    )
    .await;
    assert_eq!(open["dead_letters"], json!([]));
    app.stop().await;
}
