//! Agent memory over the AWS adapters (DynamoDB, S3 Vectors and the item-store
//! keyword index on the emulator `scripts/with-moto.sh` starts), through the memory
//! function's router: the journeys `tests/api/memory.rs` proves on the embedded
//! backend, answered the same way.

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use skiff_core::services::Services;
use tower::ServiceExt;

const M: &str = "/api/v1/memory";

/// Services on freshly provisioned emulator resources; `plans` overrides the
/// catalog (for the memory limit).
async fn aws_services(plans: Option<&std::path::Path>) -> Services {
    let sdk = skiff_adapters::testing::aws_sdk_config().await;
    let prefix = skiff_adapters::testing::unique_name("memory");
    let res = skiff_adapters::provision::provision_all(&sdk, true, &prefix, &skiff_app::secrets())
        .await
        .expect("provision on the emulator");
    let mut vars = vec![
        ("SKIFF_BACKEND", "aws".to_owned()),
        ("SKIFF_TABLE", res.table.clone()),
        ("SKIFF_BLOB_BUCKET", res.blob_bucket.clone()),
        ("SKIFF_EXPORT_BUCKET", res.export_bucket.clone()),
        ("SKIFF_QUEUE_URL", res.queue_url.clone()),
        ("SKIFF_DLQ_URL", res.dlq_url.clone()),
        ("SKIFF_SECRET_ID", res.secret_id.clone()),
        ("SKIFF_VECTOR_BUCKETS", res.vector_buckets.join(",")),
        ("AWS_ENDPOINT_URL", res.endpoint_url.clone().unwrap()),
    ];
    if let Some(p) = plans {
        vars.push(("SKIFF_PLANS_FILE", p.display().to_string()));
    }
    let config = skiff_app::AppConfig::from_vars(vars.into_iter().map(|(k, v)| (k.to_owned(), v)))
        .expect("an AWS configuration");
    skiff_app::services::aws_with_sdk(
        config,
        &sdk,
        std::sync::Arc::new(skiff_core::clock::SystemClock),
    )
    .await
    .expect("AWS services")
}

/// A new org with an owner, and an API key with the memory scopes.
async fn org_key(s: &Services, name: &str) -> String {
    use skiff_identity::names::Name;
    use skiff_identity::{Password, Role, Scopes, api_keys, registration};
    let (user, org) = registration::register(
        s,
        registration::Registration {
            email: skiff_identity::EmailAddress::parse(&format!("owner@{name}.test")).unwrap(),
            password: Password::new("Correct1horse", "password").unwrap(),
            full_name: Name::parse("Owner", "full_name").unwrap(),
            company: Name::parse(name, "company_name").unwrap(),
        },
    )
    .await
    .map_err(|e| e.to_string())
    .expect("registered");
    let scopes = Scopes::parse_list(["memory:read", "memory:write"]).unwrap();
    api_keys::create(
        s.store.as_ref(),
        s.clock.unix(),
        api_keys::NewKey {
            org: &org.id,
            created_by: &user.id,
            name: "agent",
            scopes: &scopes,
            role: Role::Owner,
            expires_at: None,
            app_id: None,
        },
    )
    .await
    .expect("key")
    .1
}

async fn call(
    s: &Services,
    method: &str,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let request = Request::builder()
        .method(method)
        .uri(format!("{M}{path}"))
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let response = skiff_fn_memory::app(s.clone())
        .oneshot(request)
        .await
        .expect("router answers");
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn store(s: &Services, key: &str, body: Value) -> String {
    let (status, out) = call(s, "POST", "/memory", key, Some(body)).await;
    assert_eq!(status, 201, "{out}");
    out["memory_id"].as_str().unwrap().to_owned()
}

async fn recall(s: &Services, key: &str, query: &str) -> Value {
    let (status, out) = call(s, "GET", &format!("/recall?{query}"), key, None).await;
    assert_eq!(status, 200, "{out}");
    out
}

fn ids(out: &Value) -> Vec<String> {
    out["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_recall_patch_delete_and_tags_on_aws() {
    let s = aws_services(None).await;
    let key = org_key(&s, "mem").await;
    let db = store(
        &s,
        &key,
        json!({"content": "Chose PostgreSQL for the user service: we need ACID transactions.",
               "tags": ["architecture", "database"], "importance": 0.9}),
    )
    .await;
    store(
        &s,
        &key,
        json!({"content": "Lunch is at noon on Fridays.", "tags": ["office"]}),
    )
    .await;

    // Keyword, right after the store (the item-store index is written before the
    // store answers), stemmed.
    let out = recall(&s, &key, "query=transaction&limit=5").await;
    assert_eq!(ids(&out)[0], db, "{out}");
    // Vector: S3 Vectors holds the hashing embedder's vectors.
    let out = recall(&s, &key, "query=PostgreSQL%20user%20service&limit=1").await;
    assert_eq!(ids(&out), [db.as_str()], "{out}");
    assert_eq!(out["results"][0]["match_type"], "vector", "{out}");
    assert_eq!(out["vector_search"]["enabled"], true, "{out}");

    // PATCH is seen by the next recall, and the old words leave the index.
    let (status, out) = call(
        &s,
        "PATCH",
        &format!("/memory/{db}"),
        &key,
        Some(json!({"content": "Releases go to the canary cluster first", "tags": ["ops"]})),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(ids(&recall(&s, &key, "query=canary").await), [db.as_str()]);
    assert!(!ids(&recall(&s, &key, "query=transaction").await).contains(&db));

    // by-tag pages and bulk delete.
    let mut tagged = vec![];
    for i in 0..5 {
        tagged.push(
            store(
                &s,
                &key,
                json!({"content": format!("note {i}"), "tags": ["batch"],
                "importance": i as f64 / 10.0}),
            )
            .await,
        );
    }
    tagged.reverse();
    let (status, page) = call(&s, "GET", "/memory/by-tag?tags=batch&limit=3", &key, None).await;
    assert_eq!(status, 200, "{page}");
    let got: Vec<&str> = page["memories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, tagged[..3]);
    assert_eq!(page["has_more"], true);
    let (_, out) = call(&s, "DELETE", "/memory/by-tag?tags=batch", &key, None).await;
    assert_eq!(out["deleted_count"], 5, "{out}");
    let (_, page) = call(&s, "GET", "/memory/by-tag?tags=batch", &key, None).await;
    assert_eq!(page["count"], 0, "{page}");

    // Associations and related memories, in the item store.
    let note = store(&s, &key, json!({"content": "Canary rollout checklist"})).await;
    let (status, out) = call(
        &s,
        "POST",
        "/associate",
        &key,
        Some(json!({"memory1_id": db, "memory2_id": note, "type": "RELATES_TO", "strength": 0.7})),
    )
    .await;
    assert_eq!(status, 201, "{out}");
    let (status, out) = call(&s, "GET", &format!("/memories/{db}/related"), &key, None).await;
    assert_eq!(status, 200, "{out}");
    let related: Vec<&str> = out["related_memories"]
        .as_array()
        .unwrap_or_else(|| panic!("{out}"))
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(related, [note.as_str()], "{out}");

    // DELETE, then 404 everywhere and gone from recall.
    let (status, _) = call(&s, "DELETE", &format!("/memory/{db}"), &key, None).await;
    assert_eq!(status, 200);
    let (status, body) = call(&s, "GET", &format!("/memory/{db}"), &key, None).await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(404)), "{body}");
    assert!(!ids(&recall(&s, &key, "query=canary&limit=10").await).contains(&db));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_orgs_never_see_each_others_memories_on_aws() {
    let s = aws_services(None).await;
    let (a, b) = (org_key(&s, "a").await, org_key(&s, "b").await);
    let content = json!({"content": "The launch code is swordfish", "tags": ["secret"]});
    let ma = store(&s, &a, content.clone()).await;
    let mb = store(&s, &b, content).await;
    for (k, mine, theirs) in [(&a, &ma, &mb), (&b, &mb, &ma)] {
        for q in [
            "query=swordfish&limit=10",
            "query=launch%20code%20swordfish&limit=10",
            "tags=secret",
        ] {
            assert_eq!(ids(&recall(&s, k, q).await), [mine.as_str()], "{q}");
        }
        for (m, p) in [
            ("GET", format!("/memory/{theirs}")),
            ("PATCH", format!("/memory/{theirs}")),
            ("DELETE", format!("/memory/{theirs}")),
            ("GET", format!("/memories/{theirs}/related")),
        ] {
            let (status, body) = call(&s, m, &p, k, Some(json!({"content": "mine now"}))).await;
            assert_eq!(status, 404, "{m} {p}: {body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_limit_holds_under_concurrent_stores_on_aws() {
    let dir = tempfile::tempdir().unwrap();
    let mut plans: Value =
        serde_json::from_str(include_str!("../../../domains/billing/plans.json")).unwrap();
    for p in plans["plans"].as_array_mut().unwrap() {
        p["entitlements"]["max_memories"] = json!(60);
    }
    let path = dir.path().join("plans.json");
    std::fs::write(&path, plans.to_string()).unwrap();
    let s = aws_services(Some(&path)).await;
    let key = org_key(&s, "limit").await;
    let batch: Vec<Value> = (0..50)
        .map(|i| json!({"content": format!("filler {i}")}))
        .collect();
    let (status, out) = call(
        &s,
        "POST",
        "/memory/batch",
        &key,
        Some(json!({"memories": batch})),
    )
    .await;
    assert_eq!((status, out["stored"].as_u64()), (201, Some(50)), "{out}");

    let racers = (0..50).map(|i| {
        let (s, key) = (s.clone(), key.clone());
        tokio::spawn(async move {
            call(
                &s,
                "POST",
                "/memory",
                &key,
                Some(json!({"content": format!("racer {i}")})),
            )
            .await
        })
    });
    let results: Vec<(u16, Value)> = futures::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        results.iter().filter(|(s, _)| *s == 201).count(),
        10,
        "{results:?}"
    );
    let refused = results.iter().find(|(s, _)| *s == 403).unwrap();
    assert_eq!(refused.1["error"], "memory_limit_reached", "{}", refused.1);
    assert!(
        results.iter().all(|(s, _)| *s == 201 || *s == 403),
        "{results:?}"
    );
}
