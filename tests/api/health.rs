use skiff_e2e::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liveness_routes_answer() {
    let app = spawn_app().await;
    for path in ["/healthz", "/livez"] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_checks_store_blobs_and_queue() {
    let app = spawn_app().await;
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    for check in ["store", "blobs", "queue", "vectors"] {
        assert_eq!(body["checks"][check]["status"], "ok", "{check}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_names_the_build() {
    let app = spawn_app().await;
    let body: serde_json::Value = app.get("/version").await.json().await.unwrap();
    assert_eq!(body["name"], "skiff");
    assert!(body["version"].as_str().is_some());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed_or_assigned() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "test-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "test-123");
    let r = app.get("/healthz").await;
    assert!(!r.headers()["x-request-id"].is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_answer_problem_json_with_the_request_id() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/api/v1/nope"))
        .header("x-request-id", "rid-404")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], 404);
    assert_eq!(body["code"], "NOT_FOUND");
    assert_eq!(body["request_id"], "rid-404");
    assert!(body["type"].as_str().unwrap().starts_with("https://"));
    assert!(body["title"].is_string() && body["detail"].is_string());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_headers_are_set() {
    let app = spawn_app().await;
    let r = app.get("/healthz").await;
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_with_503_naming_the_broken_dependency() {
    let app = spawn_app().await;
    // The blob directory disappears (a lost volume): blobs are no longer writable.
    let blobs = app.data_dir.path().join("blobs").join("blobs");
    std::fs::remove_dir_all(&blobs).unwrap();
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "NOT_READY");
    assert_eq!(body["failed"], serde_json::json!(["blobs"]));
    assert_eq!(body["checks"]["store"]["status"], "ok");
    assert_eq!(body["checks"]["blobs"]["status"], "failed");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_a_413_problem() {
    let app = skiff_e2e::spawn_app_with(&[("SKIFF_MAX_BODY_BYTES", "1024")]).await;
    let r = app
        .client
        .post(app.url("/_dev/clock/advance"))
        .header("content-type", "application/json")
        .body(format!(
            "{{\"seconds\": 1, \"pad\": \"{}\"}}",
            "x".repeat(4096)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "PAYLOAD_TOO_LARGE");
    app.stop().await;
}
