//! Agent memory: AutoMem's HTTP contract per org, through the real server.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skiff_e2e::{TestApp, spawn_app, spawn_app_with};

const M: &str = "/api/v1/memory";

/// An org's owner: (org id, access token).
async fn owner(app: &TestApp, email: &str, company: &str) -> (String, String) {
    let org = app.register_owner(email, company).await;
    (org, app.login(email).await)
}

async fn req(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.call(method, &format!("{M}{path}"), Some(token), body)
        .await
}

async fn store(app: &TestApp, token: &str, body: Value) -> String {
    let (status, out) = req(app, Method::POST, "/memory", token, Some(body)).await;
    assert_eq!(status, 201, "{out}");
    assert_eq!(out["status"], "success");
    out["memory_id"].as_str().unwrap().to_owned()
}

async fn recall(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, out) = req(app, Method::GET, &format!("/recall?{query}"), token, None).await;
    assert_eq!(status, 200, "{out}");
    out
}

/// One id, as [`ids`] lists it.
fn one(id: &str) -> Vec<String> {
    vec![id.to_owned()]
}

fn ids(out: &Value) -> Vec<String> {
    out["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_automem_error(status: StatusCode, body: &Value, want: u16, message: &str) {
    assert_eq!(status.as_u16(), want, "{body}");
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["code"], want, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains(message),
        "{body} should say {message:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_memory_is_recalled_by_keyword_and_by_vector() {
    let app = spawn_app().await;
    let (_, t) = owner(&app, "ada@mem.test", "Mem").await;
    let db = store(
        &app,
        &t,
        json!({"content": "Chose PostgreSQL for the user service: we need ACID transactions.",
               "tags": ["architecture", "database"], "importance": 0.9}),
    )
    .await;
    let _other = store(
        &app,
        &t,
        json!({"content": "Lunch is at noon on Fridays.", "tags": ["office"]}),
    )
    .await;

    // Keyword: right after the store, stemmed ("transaction" finds "transactions").
    let out = recall(&app, &t, "query=transaction&limit=5").await;
    assert_eq!(ids(&out)[0], db, "{out}");
    let first = &out["results"][0];
    for k in [
        "score",
        "final_score",
        "match_type",
        "memory",
        "relations",
        "score_components",
    ] {
        assert!(first.get(k).is_some(), "missing {k}: {first}");
    }
    assert_eq!(
        first["memory"]["content"].as_str().unwrap(),
        "Chose PostgreSQL for the user service: we need ACID transactions."
    );
    assert!(out["query_time_ms"].is_number());
    assert_eq!(out["count"], out["results"].as_array().unwrap().len());

    // Vector: the default hashing embedder finds the memory by shared words even
    // when the keyword channel has a stopword-only query to work with.
    let out = recall(&app, &t, "query=PostgreSQL%20user%20service&limit=1").await;
    assert_eq!(ids(&out), one(&db));
    assert_eq!(out["results"][0]["match_type"], "vector", "{out}");
    assert!(
        out["results"][0]["score_components"]["vector"]
            .as_f64()
            .unwrap()
            > 0.3
    );
    assert_eq!(out["vector_search"]["enabled"], true);

    // The client's own embedding fixes the org's dimension… (a new org: its
    // first vector decides)
    let (_, t2) = owner(&app, "grace@mem.test", "Vec").await;
    let v1 = (0..8)
        .map(|i| if i == 0 { 1.0 } else { 0.0 })
        .collect::<Vec<f64>>();
    let v2 = (0..8)
        .map(|i| if i == 1 { 1.0 } else { 0.0 })
        .collect::<Vec<f64>>();
    let a = store(
        &app,
        &t2,
        json!({"content": "alpha direction", "embedding": v1}),
    )
    .await;
    let b = store(
        &app,
        &t2,
        json!({"content": "beta direction", "embedding": v2}),
    )
    .await;
    let out = recall(&app, &t2, "embedding=0.1,0.9,0,0,0,0,0,0&limit=2").await;
    assert_eq!(ids(&out), [b.clone(), a.clone()], "{out}");
    // …and another size is refused with AutoMem's message.
    let (status, body) = req(
        &app,
        Method::POST,
        "/memory",
        &t2,
        Some(json!({"content": "x", "embedding": [1.0, 2.0]})),
    )
    .await;
    assert_automem_error(
        status,
        &body,
        400,
        "Embedding must contain exactly 8 values",
    );
    let (status, body) = req(&app, Method::GET, "/recall?embedding=1,2,3", &t2, None).await;
    assert_automem_error(
        status,
        &body,
        400,
        "Embedding must contain exactly 8 values",
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_is_seen_by_the_next_recall_and_delete_then_404() {
    let app = spawn_app().await;
    let (_, t) = owner(&app, "ada@patch.test", "Patch").await;
    let id = store(
        &app,
        &t,
        json!({"content": "Deploys go through the staging cluster", "tags": ["ops"]}),
    )
    .await;
    let (status, out) = req(&app, Method::PATCH, &format!("/memory/{id}"), &t,
        Some(json!({"content": "Releases skip staging and go to canary", "tags": ["ops", "release"], "importance": 0.8}))).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out, json!({"status": "success", "memory_id": id}));
    assert!(ids(&recall(&app, &t, "query=canary").await).contains(&id));
    // "cluster" left the content with the change.
    let out = recall(&app, &t, "query=cluster").await;
    assert!(!ids(&out).contains(&id), "{out}");
    let (status, got) = req(&app, Method::GET, &format!("/memory/{id}"), &t, None).await;
    assert_eq!(status, 200);
    assert_eq!(got["memory"]["tags"], json!(["ops", "release"]));
    assert_eq!(got["memory"]["importance"], 0.8);

    let (status, out) = req(&app, Method::DELETE, &format!("/memory/{id}"), &t, None).await;
    assert_eq!(
        (status.as_u16(), out["memory_id"].as_str()),
        (200, Some(id.as_str()))
    );
    for (m, p) in [
        (Method::GET, format!("/memory/{id}")),
        (Method::DELETE, format!("/memory/{id}")),
        (Method::PATCH, format!("/memory/{id}")),
    ] {
        let (status, body) = req(&app, m, &p, &t, Some(json!({"content": "x"}))).await;
        assert_automem_error(status, &body, 404, "Memory not found");
    }
    assert!(!ids(&recall(&app, &t, "query=canary").await).contains(&id));
    // Bad ids and bad input: AutoMem's 400s.
    let (status, body) = req(&app, Method::GET, "/memory/not-a-uuid", &t, None).await;
    assert_automem_error(status, &body, 400, "memory_id must be a valid UUID");
    let (status, body) = req(
        &app,
        Method::POST,
        "/memory",
        &t,
        Some(json!({"content": "x".repeat(2001)})),
    )
    .await;
    assert_automem_error(
        status,
        &body,
        400,
        "Content exceeds maximum length of 2000 characters (2001 provided)",
    );
    let (status, body) = req(
        &app,
        Method::POST,
        "/memory",
        &t,
        Some(json!({"tags": ["x"]})),
    )
    .await;
    assert_automem_error(status, &body, 400, "'content' is required");
    let (status, body) = req(
        &app,
        Method::POST,
        "/memory",
        &t,
        Some(json!({"content": "x", "importance": 7})),
    )
    .await;
    assert_automem_error(status, &body, 400, "'importance' must be between 0 and 1");
    let r = app
        .client
        .post(app.url(&format!("{M}/memory")))
        .bearer_auth(&t)
        .body("not json")
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_automem_error(status, &body, 400, "JSON body is required");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_tag_pages_in_importance_order_and_deletes_in_bulk() {
    let app = spawn_app().await;
    let (_, t) = owner(&app, "ada@tags.test", "Tags").await;
    let mut want = vec![];
    for i in 0..7 {
        let id = store(
            &app,
            &t,
            json!({"content": format!("note {i}"), "tags": ["Project:Skiff", "batch"],
            "importance": (i as f64) / 10.0}),
        )
        .await;
        want.push(id);
    }
    store(&app, &t, json!({"content": "unrelated", "tags": ["other"]})).await;
    want.reverse(); // most important first
    let (status, p1) = req(
        &app,
        Method::GET,
        "/memory/by-tag?tags=project:skiff&limit=3",
        &t,
        None,
    )
    .await;
    assert_eq!(status, 200, "{p1}");
    let page = |v: &Value| {
        v["memories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(page(&p1), want[..3]);
    assert_eq!(
        (
            p1["has_more"].as_bool(),
            p1["count"].as_u64(),
            p1["limit"].as_u64()
        ),
        (Some(true), Some(3), Some(3))
    );
    let (_, p3) = req(
        &app,
        Method::GET,
        "/memory/by-tag?tags=PROJECT:SKIFF&tags=nothing&limit=3&offset=6",
        &t,
        None,
    )
    .await;
    assert_eq!(page(&p3), want[6..]);
    assert_eq!(p3["has_more"], false);
    // CSV form, and prefix matching is recall's, not by-tag's (exact).
    let (_, none) = req(
        &app,
        Method::GET,
        "/memory/by-tag?tags=project,nothing",
        &t,
        None,
    )
    .await;
    assert_eq!(none["count"], 0, "{none}");
    let out = recall(&app, &t, "tags=project&limit=20").await;
    assert_eq!(out["count"], 7, "{out}");
    let (status, body) = req(&app, Method::GET, "/memory/by-tag", &t, None).await;
    assert_automem_error(status, &body, 400, "'tags' query parameter is required");

    let (status, out) = req(&app, Method::DELETE, "/memory/by-tag?tags=batch", &t, None).await;
    assert_eq!(status, 200);
    assert_eq!(out["deleted_count"], 7);
    let (_, after) = req(
        &app,
        Method::GET,
        "/memory/by-tag?tags=project:skiff",
        &t,
        None,
    )
    .await;
    assert_eq!(after["count"], 0);
    let out = recall(&app, &t, "query=note&limit=20").await;
    assert!(ids(&out).iter().all(|id| !want.contains(id)), "{out}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_windows_choose_what_is_recalled() {
    let app = spawn_app().await;
    let (_, t) = owner(&app, "ada@time.test", "Time").await;
    let now = time::OffsetDateTime::now_utc();
    let at = |days: i64| {
        (now - time::Duration::days(days))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let today = store(
        &app,
        &t,
        json!({"content": "standup notes today", "timestamp": at(0)}),
    )
    .await;
    let week = store(
        &app,
        &t,
        json!({"content": "standup notes last week", "timestamp": at(5)}),
    )
    .await;
    let old = store(
        &app,
        &t,
        json!({"content": "standup notes long ago", "timestamp": at(60)}),
    )
    .await;
    let out = recall(&app, &t, "time_query=last%207%20days&limit=10").await;
    let got = ids(&out);
    assert!(
        got.contains(&today) && got.contains(&week) && !got.contains(&old),
        "{out}"
    );
    assert_eq!(
        out["sort"], "time_desc",
        "a window without a query lists newest first"
    );
    assert_eq!(got[0], today);
    let out = recall(&app, &t, "query=standup&time_query=today&limit=10").await;
    assert_eq!(ids(&out), one(&today));
    let out = recall(
        &app,
        &t,
        &format!("query=standup&end={}&limit=10", at(30).replace('+', "%2B")),
    )
    .await;
    assert_eq!(ids(&out), one(&old));
    let (status, body) = req(&app, Method::GET, "/recall?start=yesterday-ish", &t, None).await;
    assert_automem_error(status, &body, 400, "Invalid start time");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn associations_related_memories_and_the_current_state() {
    let app = spawn_app().await;
    let (_, t) = owner(&app, "ada@graph.test", "Graph").await;
    let old = store(
        &app,
        &t,
        json!({"content": "Our editor of choice is Vim", "tags": ["editor"]}),
    )
    .await;
    let new = store(
        &app,
        &t,
        json!({"content": "Our editor of choice is Helix now", "tags": ["editor"]}),
    )
    .await;
    let note = store(
        &app,
        &t,
        json!({"content": "Helix keybindings cheat sheet"}),
    )
    .await;

    let (status, out) = req(&app, Method::POST, "/associate", &t,
        Some(json!({"memory1_id": old, "memory2_id": new, "type": "INVALIDATED_BY", "strength": 0.9, "reason": "switched"}))).await;
    assert_eq!(status, 201, "{out}");
    assert_eq!(
        (out["relation_type"].as_str(), out["reason"].as_str()),
        (Some("INVALIDATED_BY"), Some("switched"))
    );
    let (status, body) = req(
        &app,
        Method::POST,
        "/associate",
        &t,
        Some(json!({"memory1_id": old, "memory2_id": old})),
    )
    .await;
    assert_automem_error(status, &body, 400, "Cannot associate a memory with itself");
    let (status, body) = req(
        &app,
        Method::POST,
        "/associate",
        &t,
        Some(json!({"memory1_id": old, "memory2_id": new, "type": "SIMILAR_TO"})),
    )
    .await;
    assert_automem_error(status, &body, 400, "Relation type must be one of [");
    let missing = uuid::Uuid::new_v4().to_string();
    let (status, body) = req(
        &app,
        Method::POST,
        "/associate",
        &t,
        Some(json!({"memory1_id": old, "memory2_id": missing})),
    )
    .await;
    assert_automem_error(status, &body, 404, "One or both memories do not exist");
    let (status, out) = req(
        &app,
        Method::POST,
        "/associate",
        &t,
        Some(json!({"associations": [
            {"memory1_id": new, "memory2_id": note, "type": "RELATES_TO", "strength": 0.7},
            {"memory1_id": new, "memory2_id": missing},
            {"memory1_id": "nope", "memory2_id": note},
        ]})),
    )
    .await;
    assert_eq!(status, 207, "{out}");
    assert_eq!(
        (out["created_count"].as_u64(), out["failed_count"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(out["summary"], "1/3 associations created successfully");

    let (status, out) = req(
        &app,
        Method::GET,
        &format!("/memories/{old}/related?max_depth=2"),
        &t,
        None,
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let related: Vec<&str> = out["related_memories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        related.contains(&new.as_str()) && related.contains(&note.as_str()),
        "{out}"
    );
    let (_, out) = req(
        &app,
        Method::GET,
        &format!("/memories/{old}/related?max_depth=1"),
        &t,
        None,
    )
    .await;
    assert_eq!(out["count"], 1, "{out}");
    let (status, body) = req(
        &app,
        Method::GET,
        &format!("/memories/{missing}/related"),
        &t,
        None,
    )
    .await;
    assert_automem_error(status, &body, 404, "Memory not found");

    // Current state: the superseded memory gives way to its replacement…
    let out = recall(&app, &t, "query=Vim&limit=5").await;
    let got = ids(&out);
    assert!(!got.contains(&old), "{out}");
    assert!(got.contains(&new), "{out}");
    assert_eq!(out["state_filter"]["suppressed_count"], 1);
    // …and history shows both.
    let out = recall(&app, &t, "query=Vim&limit=5&state_mode=history").await;
    assert!(ids(&out).contains(&old), "{out}");
    let (status, body) = req(&app, Method::GET, "/recall?state_mode=sometimes", &t, None).await;
    assert_automem_error(
        status,
        &body,
        400,
        "'state_mode' must be 'current' or 'history'",
    );
    // An expired memory is hidden too.
    let expired = store(
        &app,
        &t,
        json!({"content": "Temporary parking in lot B", "t_invalid": "2020-01-01T00:00:00Z"}),
    )
    .await;
    assert!(!ids(&recall(&app, &t, "query=parking").await).contains(&expired));
    // Relations are listed on results, and expansion follows them.
    let out = recall(
        &app,
        &t,
        "query=Helix%20editor&limit=1&expand_relations=true",
    )
    .await;
    assert!(
        out["expansion"]["expanded_count"].as_u64().unwrap() >= 1,
        "{out}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_orgs_never_see_each_others_memories() {
    let app = spawn_app().await;
    let (_, a) = owner(&app, "a@iso.test", "A").await;
    let (_, b) = owner(&app, "b@iso.test", "B").await;
    let content = json!({"content": "The launch code is swordfish", "tags": ["secret"]});
    let ma = store(&app, &a, content.clone()).await;
    let mb = store(&app, &b, content).await;
    for (t, mine, theirs) in [(&a, &ma, &mb), (&b, &mb, &ma)] {
        assert_eq!(
            ids(&recall(&app, t, "query=swordfish&limit=10").await),
            one(mine)
        );
        assert_eq!(
            ids(&recall(&app, t, "tags=secret&limit=10").await),
            one(mine)
        );
        let (_, by_tag) = req(&app, Method::GET, "/memory/by-tag?tags=secret", t, None).await;
        assert_eq!(by_tag["count"], 1);
        for (m, p, body) in [
            (Method::GET, format!("/memory/{theirs}"), None),
            (
                Method::PATCH,
                format!("/memory/{theirs}"),
                Some(json!({"content": "mine now"})),
            ),
            (Method::DELETE, format!("/memory/{theirs}"), None),
            (Method::GET, format!("/memories/{theirs}/related"), None),
            (
                Method::POST,
                "/associate".to_owned(),
                Some(json!({"memory1_id": mine, "memory2_id": theirs})),
            ),
        ] {
            let (status, body) = req(&app, m, &p, t, body).await;
            assert_eq!(status, 404, "{p}: {body}");
        }
        let out = recall(&app, t, &format!("query=swordfish&priority_ids={theirs}")).await;
        assert_eq!(ids(&out), one(mine), "{out}");
        let (_, stats) = app.call(Method::GET, "/api/v1/stats", Some(t), None).await;
        assert_eq!(stats["memories_stored"], 1, "{stats}");
        let (_, health) = req(&app, Method::GET, "/health", t, None).await;
        assert_eq!(health["memory_count"], 1, "{health}");
    }
    // Another org's bulk delete leaves this one's memories alone.
    let (_, out) = req(&app, Method::DELETE, "/memory/by-tag?tags=secret", &a, None).await;
    assert_eq!(out["deleted_count"], 1);
    assert_eq!(ids(&recall(&app, &b, "query=swordfish").await), [mb]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plans_memory_limit_holds_under_concurrent_stores() {
    let dir = tempfile::tempdir().unwrap();
    let plans: Value =
        serde_json::from_str(include_str!("../../domains/billing/plans.json")).unwrap();
    let mut plans = plans;
    for p in plans["plans"].as_array_mut().unwrap() {
        p["entitlements"]["max_memories"] = json!(60);
    }
    let path = dir.path().join("plans.json");
    std::fs::write(&path, plans.to_string()).unwrap();
    let app = spawn_app_with(&[("SKIFF_PLANS_FILE", path.to_str().unwrap())]).await;
    let (_, t) = owner(&app, "ada@limit.test", "Limit").await;
    let batch: Vec<Value> = (0..50)
        .map(|i| json!({"content": format!("filler {i}")}))
        .collect();
    let (status, out) = req(
        &app,
        Method::POST,
        "/memory/batch",
        &t,
        Some(json!({"memories": batch})),
    )
    .await;
    assert_eq!(
        (status.as_u16(), out["stored"].as_u64()),
        (201, Some(50)),
        "{out}"
    );

    let stores = (0..50).map(|i| {
        let client = app.client.clone();
        let url = app.url(&format!("{M}/memory"));
        let t = t.clone();
        tokio::spawn(async move {
            let r = client
                .post(url)
                .bearer_auth(t)
                .json(&json!({"content": format!("racer {i}")}))
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap())
        })
    });
    let results: Vec<(StatusCode, Value)> = futures::future::join_all(stores)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let accepted = results.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(accepted, 10, "{results:?}");
    let refused = results.iter().find(|(s, _)| *s == 403).unwrap();
    assert_eq!(refused.1["error"], "memory_limit_reached", "{}", refused.1);
    assert_eq!(refused.1["limit"], 60);
    assert!(
        refused.1["upgrade_url"]
            .as_str()
            .unwrap()
            .starts_with("http")
    );
    let (_, stats) = app.call(Method::GET, "/api/v1/stats", Some(&t), None).await;
    assert_eq!(stats["memories_stored"], 60);
    // A delete makes room for exactly one more.
    let racer = results.iter().find(|(s, _)| *s == 201).unwrap().1["memory_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = req(&app, Method::DELETE, &format!("/memory/{racer}"), &t, None).await;
    assert_eq!(status, 200);
    store(&app, &t, json!({"content": "one more"})).await;
    let (status, _) = req(
        &app,
        Method::POST,
        "/memory",
        &t,
        Some(json!({"content": "too many"})),
    )
    .await;
    assert_eq!(status, 403);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_org_cannot_write_but_still_recalls_and_exports() {
    let app = spawn_app().await;
    let email = "ada@locked.test";
    let (org, t) = app.verified_owner(email, "Locked").await;
    let id = store(
        &app,
        &t,
        json!({"content": "Keep the backups for 30 days", "tags": ["ops"]}),
    )
    .await;
    app.subscribe(&t, "pro").await;
    // A trial that ends unpaid archives the org.
    app.simulate(&t, &org, "cancel").await;
    let (status, body) = req(
        &app,
        Method::POST,
        "/memory",
        &t,
        Some(json!({"content": "new"})),
    )
    .await;
    assert_eq!(status, 423, "{body}");
    assert_eq!(body["status"], "error");
    assert_eq!(body["code"], 423);
    assert_eq!(body["error"], "trial_expired", "{body}");
    assert_eq!(body["reason"], "trial_expired");
    assert_eq!(body["service_mode"], "archived");
    assert_eq!(body["capabilities"]["writes_enabled"], false);
    assert!(body["upgrade_url"].as_str().unwrap().starts_with("http"));
    for (m, p, b) in [
        (
            Method::PATCH,
            format!("/memory/{id}"),
            Some(json!({"importance": 1})),
        ),
        (Method::DELETE, format!("/memory/{id}"), None),
        (Method::DELETE, "/memory/by-tag?tags=ops".to_owned(), None),
        (
            Method::POST,
            "/memory/batch".to_owned(),
            Some(json!({"memories": [{"content": "x"}]})),
        ),
        (
            Method::POST,
            "/associate".to_owned(),
            Some(json!({"memory1_id": id, "memory2_id": id})),
        ),
    ] {
        let (status, body) = req(&app, m, &p, &t, b).await;
        assert_eq!(status, 423, "{p}: {body}");
    }
    // Reads stay open.
    assert_eq!(ids(&recall(&app, &t, "query=backups").await), one(&id));
    let (status, _) = req(&app, Method::GET, &format!("/memory/{id}"), &t, None).await;
    assert_eq!(status, 200);
    let (status, profile) = req(&app, Method::GET, "/service/profile", &t, None).await;
    assert_eq!(status, 200);
    assert_eq!(profile["service"]["mode"], "archived");
    assert_eq!(
        profile["service"]["profile"]["capabilities"]["writes_enabled"],
        false
    );
    // Exports stay open: queued, completed by the outbox, downloadable.
    let (status, m) = req(
        &app,
        Method::POST,
        "/admin/exports",
        &t,
        Some(json!({"reason": "leaving"})),
    )
    .await;
    assert_eq!(status, 202, "{m}");
    assert_eq!(m["status"], "queued");
    let export = m["export_id"].as_str().unwrap().to_owned();
    app.wait_for_outbox_idle().await;
    let (status, m) = req(
        &app,
        Method::GET,
        &format!("/admin/exports/{export}"),
        &t,
        None,
    )
    .await;
    assert_eq!(
        (status.as_u16(), m["status"].as_str()),
        (200, Some("complete")),
        "{m}"
    );
    assert_eq!(m["graph"]["node_count"], 1);
    let r = app
        .client
        .get(app.url(&format!("{M}/admin/exports/{export}/download")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let bundle = app
        .client
        .get(r.headers()["location"].to_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut json = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bundle[..]), &mut json)
        .unwrap();
    let bundle: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(bundle["graph"]["nodes"][0]["properties"]["id"], id.as_str());
    assert_eq!(bundle["qdrant"]["points"][0]["id"], id.as_str());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_automems_three_places_and_scopes() {
    let app = spawn_app().await;
    let (_, t) = owner(&app, "ada@keys.test", "Keys").await;
    let make_key = |scopes: Value| {
        let app = &app;
        let t = t.clone();
        async move {
            let (status, out) = app
                .call(
                    Method::POST,
                    "/api/v1/auth/api-keys",
                    Some(&t),
                    Some(json!({"name": "agent", "scopes": scopes})),
                )
                .await;
            assert_eq!(status, 201, "{out}");
            out["secret"].as_str().unwrap().to_owned()
        }
    };
    let rw = make_key(json!(["memory:read", "memory:write"])).await;
    let ro = make_key(json!(["memory:read"])).await;
    let admin = make_key(json!(["memory:read", "memory:admin"])).await;
    let id = store(&app, &rw, json!({"content": "stored with an API key"})).await;
    let get = |path: String| app.client.get(app.url(&path));
    let r = get(format!("{M}/memory/{id}"))
        .header("x-api-key", &ro)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = get(format!("{M}/memory/{id}?api_key={ro}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = get(format!("{M}/memory/{id}")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["status"].as_str(), body["code"].as_u64()),
        (Some("error"), Some(401))
    );
    let r = get(format!("{M}/memory/{id}"))
        .header("x-api-key", "sk_live_nonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A read-only key cannot write; a key without memory:admin cannot administer.
    let (status, body) = req(
        &app,
        Method::POST,
        "/memory",
        &ro,
        Some(json!({"content": "x"})),
    )
    .await;
    assert_automem_error(status, &body, 403, "memory:write");
    let (status, body) = req(&app, Method::POST, "/admin/exports", &rw, Some(json!({}))).await;
    assert_automem_error(status, &body, 403, "memory:admin");
    // The admin key works in AutoMem's admin header beside the regular credential.
    let r = app
        .client
        .post(app.url(&format!("{M}/admin/exports")))
        .bearer_auth(&ro)
        .header("x-admin-token", &admin)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    // Health needs no credential; with one it counts the org's memories.
    let r = get(format!("{M}/health")).send().await.unwrap();
    let health: Value = r.json().await.unwrap();
    assert_eq!(health["status"], "healthy", "{health}");
    assert_eq!(
        (health["falkordb"].as_str(), health["qdrant"].as_str()),
        (Some("connected"), Some("connected"))
    );
    assert_eq!(health["memory_count"], Value::Null);
    let (_, health) = req(&app, Method::GET, "/health", &ro, None).await;
    assert_eq!(
        (
            health["memory_count"].as_i64(),
            health["vector_count"].as_i64()
        ),
        (Some(1), Some(1)),
        "{health}"
    );
    assert_eq!(health["sync_status"], "synced");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reembed_and_startup_recall_and_stats() {
    let app = spawn_app().await;
    let (_, t) = owner(&app, "ada@admin.test", "Admin").await;
    let lesson = store(
        &app,
        &t,
        json!({"content": "Never force-push main", "tags": ["critical"], "importance": 0.95}),
    )
    .await;
    let rule = store(
        &app,
        &t,
        json!({"content": "Recall before deciding", "tags": ["system"]}),
    )
    .await;
    let (status, out) = req(&app, Method::GET, "/startup-recall", &t, None).await;
    assert_eq!(status, 200);
    assert_eq!(out["critical_lessons"][0]["id"], lesson.as_str());
    assert_eq!(out["system_rules"][0]["id"], rule.as_str());
    assert_eq!(out["has_critical"], true);
    let (status, out) = req(
        &app,
        Method::POST,
        "/admin/reembed",
        &t,
        Some(json!({"force": true})),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        (
            out["status"].as_str(),
            out["processed"].as_u64(),
            out["failed"].as_u64()
        ),
        (Some("complete"), Some(2), Some(0))
    );
    let (status, stats) = app.call(Method::GET, "/api/v1/stats", Some(&t), None).await;
    assert_eq!(status, 200);
    assert_eq!(stats["memories_stored"], 2);
    assert!(
        stats["top_tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["tag"] == "critical")
    );
    assert!(stats["last_activity"].is_string());
    app.stop().await;

    // Without a provider, reembed is AutoMem's 503 and recall still works by keyword.
    let app = spawn_app_with(&[("SKIFF_EMBEDDINGS", "none")]).await;
    let (_, t) = owner(&app, "ada@noembed.test", "NoEmbed").await;
    let id = store(&app, &t, json!({"content": "keyword only memory"})).await;
    let (status, body) = req(&app, Method::POST, "/admin/reembed", &t, Some(json!({}))).await;
    assert_automem_error(status, &body, 503, "Embedding provider is not configured");
    let out = recall(&app, &t, "query=keyword").await;
    assert_eq!(ids(&out), [id]);
    assert_eq!(out["vector_search"]["enabled"], false);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_sends_store_and_recall_events() {
    let app = spawn_app().await;
    let (_, t) = owner(&app, "ada@sse.test", "Sse").await;
    let mut stream = app
        .client
        .get(app.url(&format!("{M}/stream")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let first = stream.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains(": connected"));
    let id = store(
        &app,
        &t,
        json!({"content": "an event worth streaming", "tags": ["live"]}),
    )
    .await;
    recall(&app, &t, "query=streaming").await;
    let mut seen = String::new();
    while !(seen.contains("memory.store") && seen.contains("memory.recall")) {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.chunk())
            .await
            .expect("events arrive")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let store_event: Value = seen
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str::<Value>(d).unwrap())
        .find(|e| e["type"] == "memory.store")
        .unwrap();
    assert_eq!(store_event["data"]["id"], id.as_str());
    assert_eq!(store_event["data"]["tags"], json!(["live"]));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preseed_is_for_operators_only() {
    let app = spawn_app().await;
    let (org, t) = owner(&app, "ada@seed.test", "Seed").await;
    let body = json!({"memories": [{"content": "Welcome to your memory"}, {"content": "Tag memories by project"}],
                      "associations": [{"from_index": 0, "to_index": 1, "type": "LEADS_TO"}]});
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/preseed?org_id={org}"),
            Some(&t),
            Some(body.clone()),
        )
        .await;
    // An org's own owner is not an operator: the route is hidden from them, as the
    // operators' API is.
    assert_eq!(status, 404);

    // A platform operator seeds the org: tagged `onboarding`, linked by index.
    app.verified_owner("op@seed.test", "Operators").await;
    skiff_local::admin::set_platform_admin(app.services(), "op@seed.test", true)
        .await
        .expect("grant");
    let op = app.login("op@seed.test").await;
    let seed = |org: &str, body: Value| {
        let (app, op, path) = (&app, op.clone(), format!("/api/v1/preseed?org_id={org}"));
        async move { app.call(Method::POST, &path, Some(&op), Some(body)).await }
    };
    let bad =
        json!({"memories": [{"content": "a"}], "associations": [{"from_index": 0, "to_index": 3}]});
    let (status, out) = seed(&org, bad).await;
    assert_automem_error(status, &out, 400, "references an out-of-range memory index");
    let (status, out) = seed(&uuid::Uuid::new_v4().to_string(), body.clone()).await;
    assert_automem_error(status, &out, 404, "Organization not found");
    let (_, stats) = app.call(Method::GET, "/api/v1/stats", Some(&t), None).await;
    assert_eq!(
        stats["memories_stored"], 0,
        "a refused seed wrote nothing: {stats}"
    );

    let (status, out) = seed(&org, body).await;
    assert_eq!(status, 201, "{out}");
    assert_eq!(
        (
            out["memories_created"].as_u64(),
            out["associations_created"].as_u64()
        ),
        (Some(2), Some(1)),
        "{out}"
    );
    let seeded: Vec<String> = out["memory_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let (_, by_tag) = req(
        &app,
        Method::GET,
        "/memory/by-tag?tags=onboarding",
        &t,
        None,
    )
    .await;
    assert_eq!(
        by_tag["count"], 2,
        "the org's owner sees the seeded memories: {by_tag}"
    );
    let (status, out) = req(
        &app,
        Method::GET,
        &format!("/memories/{}/related", seeded[0]),
        &t,
        None,
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        out["related_memories"][0]["id"],
        seeded[1].as_str(),
        "{out}"
    );
    // The operator's own org holds none of them.
    let (_, mine) = req(
        &app,
        Method::GET,
        "/memory/by-tag?tags=onboarding",
        &op,
        None,
    )
    .await;
    assert_eq!(mine["count"], 0, "{mine}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_static_model_recalls_by_meaning() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../.tools/models/wordllama-l2-supercat-256");
    assert!(
        dir.join("model.safetensors").exists(),
        "the test command fetches the model (scripts/fetch_model.sh)"
    );
    let app = spawn_app_with(&[
        ("SKIFF_EMBEDDINGS", "static"),
        ("SKIFF_EMBEDDING_MODEL_DIR", dir.to_str().unwrap()),
    ])
    .await;
    let (_, t) = owner(&app, "ada@model.test", "Model").await;
    let cat = store(
        &app,
        &t,
        json!({"content": "The cat sat on the mat all afternoon"}),
    )
    .await;
    store(
        &app,
        &t,
        json!({"content": "Quarterly revenue grew by ten percent"}),
    )
    .await;
    store(
        &app,
        &t,
        json!({"content": "The deploy pipeline runs on every merge"}),
    )
    .await;
    // No word in common with the cat memory: only the vector channel can find it.
    let out = recall(&app, &t, "query=kitten%20resting%20on%20a%20rug&limit=1").await;
    assert_eq!(ids(&out), [cat], "{out}");
    assert_eq!(out["results"][0]["match_type"], "vector");
    let (_, health) = req(&app, Method::GET, "/health", &t, None).await;
    assert_eq!(health["vector_dimensions"]["collection"], 256, "{health}");
    app.stop().await;
}

/// An OpenAI-compatible endpoint on a loopback port that answers each request
/// after a delay (test infrastructure: a hosted provider cannot run here).
async fn slow_embeddings(delay: std::time::Duration) -> String {
    use axum::{Json, routing::post};
    let app = axum::Router::new().route(
        "/v1/embeddings",
        post(move |Json(body): Json<Value>| async move {
            tokio::time::sleep(delay).await;
            let data: Vec<Value> = body["input"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
                .map(|(i, text)| {
                    // One direction per distinct first letter: enough to search by.
                    let c = text.as_str().unwrap().bytes().next().unwrap_or(b'a');
                    let mut v = vec![0.0; 8];
                    v[(c % 8) as usize] = 1.0;
                    json!({"index": i, "embedding": v})
                })
                .collect();
            Json(json!({"data": data}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_provider_never_holds_the_store_and_the_outbox_embeds_later() {
    let url = slow_embeddings(std::time::Duration::from_millis(1500)).await;
    let app = spawn_app_with(&[
        ("SKIFF_EMBEDDINGS", "openai"),
        ("SKIFF_EMBEDDING_URL", &url),
        ("SKIFF_EMBEDDING_MODEL", "fixture"),
        ("SKIFF_EMBEDDING_TIMEOUT_MS", "200"),
    ])
    .await;
    let (_, t) = owner(&app, "ada@slow.test", "Slow").await;
    let (status, out) = req(
        &app,
        Method::POST,
        "/memory",
        &t,
        Some(json!({"content": "zebra crossing near the office"})),
    )
    .await;
    assert_eq!(status, 201, "{out}");
    // The provider's answer did not come within its timeout: queued, not awaited.
    assert_eq!(
        (out["embedding_status"].as_str(), out["qdrant"].as_str()),
        (Some("queued"), Some("queued")),
        "{out}"
    );
    let id = out["memory_id"].as_str().unwrap().to_owned();
    // Recallable by keyword at once.
    assert_eq!(ids(&recall(&app, &t, "query=zebra").await), one(&id));
    // The outbox finishes the embedding.
    app.wait_for_outbox_idle().await;
    let (_, health) = req(&app, Method::GET, "/health", &t, None).await;
    assert_eq!(health["vector_count"], 1, "{health}");
    let mut probe = [0.0; 8];
    probe[(b'z' % 8) as usize] = 1.0;
    let probe = probe
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let out = recall(&app, &t, &format!("embedding={probe}&limit=1")).await;
    assert_eq!(ids(&out), [id], "{out}");
    assert_eq!(out["results"][0]["match_type"], "vector");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_org_export_holds_the_memories_and_erasure_removes_them() {
    let app = spawn_app().await;
    let (org, t) = app.verified_owner("ada@orgdata.test", "OrgData").await;
    let a = store(
        &app,
        &t,
        json!({"content": "Exported memory one", "tags": ["kept"]}),
    )
    .await;
    let b = store(&app, &t, json!({"content": "Exported memory two"})).await;
    let (status, _) = req(
        &app,
        Method::POST,
        "/associate",
        &t,
        Some(json!({"memory1_id": a, "memory2_id": b, "type": "LEADS_TO"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, m) = req(&app, Method::POST, "/admin/exports", &t, Some(json!({}))).await;
    assert_eq!(status, 202);
    let memory_export = m["export_id"].as_str().unwrap().to_owned();

    // The org's export (storage's job) has memory's part.
    let (manifest, files) = app.org_export(&t).await;
    let files: std::collections::BTreeMap<String, String> = files
        .into_iter()
        .map(|(path, bytes)| (path, String::from_utf8_lossy(&bytes).into_owned()))
        .collect();
    let find = |name: &str| {
        files
            .iter()
            .find(|(p, _)| p.contains("memory/") && p.contains(name))
            .map(|(_, c)| c.clone())
    };
    let memories = find("memories-").expect("memory's memories file");
    assert!(memories.contains(&a) && memories.contains(&b), "{memories}");
    assert!(
        find("associations-")
            .expect("associations")
            .contains("LEADS_TO")
    );
    assert!(find("vectors-").expect("vectors").contains(&a));
    assert_eq!(manifest["counts"]["memories"], 2, "{manifest}");

    // Erasure removes the memories, their indexes and the memory exports.
    let (status, body) = app
        .call(
            Method::DELETE,
            "/api/v1/orgs/current",
            Some(&t),
            Some(json!({"confirm": "OrgData"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    app.wait_for_outbox_idle().await;
    let s = app.services();
    let org_id = skiff_core::ids::OrgId::parse(&org).unwrap();
    let left = s
        .store
        .query(skiff_core::ports::store::Query::partition(format!(
            "MEM#{org}"
        )))
        .await
        .unwrap();
    assert!(left.items.is_empty(), "{:?}", left.items);
    let ns = skiff_memory::namespace(&org_id);
    assert_eq!(s.keywords.count(&ns).await.unwrap(), 0);
    assert_eq!(s.vectors.count(&ns).await.unwrap(), 0);
    let bundles = s.exports.list(&format!("memory/{org}/"), 10).await.unwrap();
    assert!(bundles.is_empty(), "{bundles:?} ({memory_export})");
    let erasure = skiff_identity::erasure::get(s.store.as_ref(), &org_id)
        .await
        .unwrap()
        .unwrap();
    assert!(erasure.removed["memory"] >= 2, "{:?}", erasure.removed);
    app.stop().await;
}
