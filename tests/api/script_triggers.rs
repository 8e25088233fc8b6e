//! Scripts' triggers and dead letters, black-box over HTTP: a route stores an
//! order in documents and its docs trigger runs through the outbox; what a
//! trigger create refuses (and why); roles and tenant isolation on triggers and
//! dead letters; a failing trigger dead-letters, replays and is resolved; the org
//! export's scripts part, and the org's erasure taking every app with it.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_org_export_holds_the_apps_and_erasure_removes_them() {
    use crate::storage::sha256_hex;
    let app = spawn_app().await;
    let (org, token) = app.verified_owner("dev@export.example", "Exporting").await;
    app.subscribe(&token, "pro").await;
    let (_, other) = app.verified_owner("dev@keep.example", "Keeping").await;
    new_app(&app, &token, "exp-shop").await;
    new_app(&app, &other, "kept-shop").await;
    let (_, shop) = get(&app, "/api/v1/apps/exp-shop", &token).await;
    let shop = shop["id"].as_str().unwrap().to_owned();
    script(
        &app,
        &token,
        "exp-shop",
        json!({"name": "helpers", "kind": "module", "source": "fn twice(x) { x * 2 }"}),
    )
    .await;
    let greet = script(
        &app,
        &token,
        "exp-shop",
        json!({"name": "greet", "source": "import \"helpers\" as h; h::twice(21)"}),
    )
    .await;
    let (status, body) = post(
        &app,
        &format!("/api/v1/scripts/{greet}/routes"),
        Some(&token),
        json!({"method": "GET", "path": "/greet"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let failing = script(
        &app,
        &token,
        "exp-shop",
        json!({"name": "charge", "source": "throw \"declined\";"}),
    )
    .await;
    let (status, body) = post(
        &app,
        "/api/v1/apps/exp-shop/triggers/kv",
        Some(&token),
        json!({"script_id": failing, "collection": "payments",
               "retry": {"max_attempts": 1, "backoff": "constant", "base_delay_ms": 100}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    eval(
        &app,
        &token,
        "exp-shop",
        "writer",
        r#"kv::collection("payments").set("p-1", 10);
           docs::collection("orders").create(#{ total: 42 });
           files::collection("invoices").create("i-1.txt", "invoice one", #{ content_type: "text/plain" });
           1"#,
    )
    .await;
    let (status, answer) = app
        .call(Method::GET, "/run/exp-shop/greet", None, None)
        .await;
    assert_eq!((status, answer), (StatusCode::OK, json!(42)));
    eval(
        &app,
        &other,
        "kept-shop",
        "keep",
        r#"kv::collection("k").set("v", "kept-elsewhere"); 1"#,
    )
    .await;
    app.wait_for_outbox_idle().await;

    let (manifest, files) = app.org_export(&token).await;
    assert!(
        manifest["parts"]
            .as_array()
            .unwrap()
            .contains(&json!("scripts")),
        "{manifest}"
    );
    let counts = &manifest["counts"];
    for (kind, n) in [
        ("script_apps", 1),
        ("scripts", 3),
        ("script_modules", 1),
        ("script_routes", 1),
        ("script_triggers", 1),
        ("script_kv", 1),
        ("script_documents", 1),
        ("script_files", 1),
        ("script_dead_letters", 1),
        // writer's run, the route's and the trigger's failed one
        ("script_logs", 3),
    ] {
        assert_eq!(counts[kind], n, "{kind}: {counts}");
    }
    for entry in manifest["files"].as_array().unwrap() {
        let path = entry["path"].as_str().unwrap();
        assert_eq!(entry["sha256"], sha256_hex(&files[path]), "{path}");
    }
    let scripts_blobs = manifest["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["part"] == "scripts")
        .expect("the scripts part's blobs");
    assert_eq!(
        (&scripts_blobs["count"], &scripts_blobs["bytes"]),
        (&json!(1), &json!(11))
    );
    let meta: Value =
        serde_json::from_slice(&files[&format!("scripts/{shop}/files-00000.jsonl")]).unwrap();
    assert_eq!(
        (&meta["collection"], &meta["name"], &meta["content_type"]),
        (&json!("invoices"), &json!("i-1.txt"), &json!("text/plain"))
    );
    assert!(meta.get("blob_key").is_none(), "{meta}");
    let bytes = &files[meta["path"].as_str().unwrap()];
    assert_eq!(&bytes[..], b"invoice one");
    assert_eq!(meta["sha256"], sha256_hex(bytes));
    let scripts_file =
        String::from_utf8(files[&format!("scripts/{shop}/scripts-00000.jsonl")].clone()).unwrap();
    assert!(
        scripts_file.contains("h::twice(21)"),
        "the source: {scripts_file}"
    );
    let everything: String = files
        .values()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    assert!(!everything.contains("kept-elsewhere"), "another org's data");

    // Erasure removes every app's items and file bytes; the ids answer 404 and
    // the slug is free again.
    let (status, body) = app
        .call(
            Method::DELETE,
            "/api/v1/orgs/current",
            Some(&token),
            Some(json!({"confirm": "Exporting"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    app.wait_for_outbox_idle().await;
    for who in [&token, &other] {
        let (status, _) = get(&app, &format!("/api/v1/scripts/{greet}"), who).await;
        assert_eq!(status, 404);
    }
    let (status, _) = app
        .call(Method::GET, "/run/exp-shop/greet", None, None)
        .await;
    assert_eq!(status, 404);
    let s = app.services();
    for pk in [
        format!("{org}#SCRIPTS"),
        format!("{org}#SCRIPT#{greet}"),
        format!("{org}#SCRIPT#{greet}#LOG"),
        format!("{org}#APP#{shop}"),
        format!("{org}#APP#{shop}#KV"),
        format!("{org}#APP#{shop}#DOCS"),
        format!("{org}#APP#{shop}#FILES"),
        format!("{org}#APP#{shop}#DL"),
    ] {
        let left = s
            .store
            .query(skiff_core::ports::store::Query::partition(&pk))
            .await
            .unwrap();
        assert!(left.items.is_empty(), "{pk}: {:?}", left.items);
    }
    let blobs = s.blobs.list(&format!("scripts/{org}/"), 10).await.unwrap();
    assert!(blobs.is_empty(), "{blobs:?}");
    let org_id = skiff_core::ids::OrgId::parse(&org).unwrap();
    let erasure = skiff_identity::erasure::get(s.store.as_ref(), &org_id)
        .await
        .unwrap()
        .unwrap();
    assert!(erasure.removed["scripts"] >= 12, "{:?}", erasure.removed);
    new_app(&app, &other, "exp-shop").await;
    let (status, _) = get(&app, "/api/v1/apps/kept-shop", &other).await;
    assert_eq!(status, 200);
    app.stop().await;
}
