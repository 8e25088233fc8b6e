//! Storage, black-box over HTTP: a client encrypts with AES-256-GCM, stores,
//! lists, downloads and verifies; checksums, ETags, If-Match; per-user ownership;
//! the JSON limit and signed uploads; the quota; the write lock; bad input.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skiff_e2e::requests::{call, get, post};
use skiff_e2e::{TestApp, spawn_app, spawn_app_with};
use std::time::Duration;

pub fn sha256_hex(bytes: &[u8]) -> String {
    skiff_core::ports::blobs::sha256_hex(bytes)
}

/// Encrypt as a client does: a random 96-bit nonce in front of the AES-256-GCM
/// ciphertext and tag.
pub fn encrypt(key: &[u8; 32], plaintext: &[u8]) -> Vec<u8> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).unwrap());
    let nonce_bytes: [u8; 12] = rand_bytes();
    let mut sealed = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce_bytes),
        Aad::empty(),
        &mut sealed,
    )
    .unwrap();
    [nonce_bytes.to_vec(), sealed].concat()
}

pub fn decrypt(key: &[u8; 32], blob: &[u8]) -> Vec<u8> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).unwrap());
    let (nonce, sealed) = blob.split_at(12);
    let mut buf = sealed.to_vec();
    let plain = key
        .open_in_place(
            Nonce::try_assume_unique_for_key(nonce).unwrap(),
            Aad::empty(),
            &mut buf,
        )
        .unwrap();
    plain.to_vec()
}

fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).unwrap();
    out
}

/// `POST /api/v1/storage/records` with a blob.
pub async fn create(app: &TestApp, token: &str, table: &str, blob: &[u8]) -> (StatusCode, Value) {
    post(
        app,
        "/api/v1/storage/records",
        Some(token),
        json!({"table": table, "blob": B64.encode(blob), "checksum": sha256_hex(blob)}),
    )
    .await
}

async fn download(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/v1/storage/records/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_encrypts_stores_lists_downloads_and_verifies() {
    let app = spawn_app().await;
    let (_, token) = app.verified_owner("ada@example.com", "Acme").await;
    let key: [u8; 32] = rand_bytes();
    let note = b"meeting notes: the launch moves to Tuesday";
    let blob = encrypt(&key, note);

    let (status, created) = create(&app, &token, "notes", &blob).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("rec_"));
    assert_eq!(created["size"], blob.len());
    assert_eq!(created["checksum"], sha256_hex(&blob));
    assert_eq!(created["table"], "notes");
    create(&app, &token, "tasks", &encrypt(&key, b"buy milk")).await;

    let (status, list) = get(&app, "/api/v1/storage/records?table=notes", &token).await;
    assert_eq!(status, 200, "{list}");
    let records = list["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["id"], id.as_str());
    assert!(records[0].get("blob").is_none(), "lists carry no blobs");
    let (_, all) = get(&app, "/api/v1/storage/records", &token).await;
    assert_eq!(all["records"].as_array().unwrap().len(), 2);

    let r = download(&app, &token, &id).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert_eq!(r.headers()["x-checksum"], sha256_hex(&blob).as_str());
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", sha256_hex(&blob)));
    let got = r.bytes().await.unwrap();
    assert_eq!(sha256_hex(&got), sha256_hex(&blob), "verified");
    assert_eq!(decrypt(&key, &got), note);

    // Unchanged: 304.
    let r = app
        .client
        .get(app.url(&format!("/api/v1/storage/records/{id}")))
        .bearer_auth(&token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);

    // Replace with If-Match; a stale If-Match is 412 and changes nothing.
    let v2 = encrypt(&key, b"meeting notes: Wednesday");
    let put = |blob: Vec<u8>, if_match: String| {
        let app = &app;
        let token = token.clone();
        let id = id.clone();
        async move {
            let r = app
                .client
                .put(app.url(&format!("/api/v1/storage/records/{id}")))
                .bearer_auth(&token)
                .header("if-match", if_match)
                .json(&json!({"blob": B64.encode(&blob), "checksum": sha256_hex(&blob)}))
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, updated) = put(v2.clone(), etag.clone()).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["checksum"], sha256_hex(&v2));
    assert_eq!(updated["size"], v2.len());
    let (status, body) = put(encrypt(&key, b"lost update"), etag.clone()).await;
    assert_eq!(status, 412, "{body}");
    assert_eq!(body["code"], "PRECONDITION_FAILED");
    let got = download(&app, &token, &id).await.bytes().await.unwrap();
    assert_eq!(decrypt(&key, &got), b"meeting notes: Wednesday");

    // A signed download URL instead of the bytes.
    let (status, link) = get(
        &app,
        &format!("/api/v1/storage/records/{id}?download=url"),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{link}");
    let fetched = app
        .client
        .get(link["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap(), got);

    // Delete is idempotent; afterwards the record is gone.
    let path = format!("/api/v1/storage/records/{id}");
    for _ in 0..2 {
        let (status, _, _) = call(&app, Method::DELETE, &path, Some(&token), None).await;
        assert_eq!(status, 204);
    }
    assert_eq!(download(&app, &token, &id).await.status(), 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_belong_to_their_user() {
    let app = spawn_app().await;
    let (_, owner) = app.verified_owner("owner@example.com", "Acme").await;
    let colleague = app.invited(&owner, "colleague@example.com", "admin").await;
    let (_, stranger) = app.verified_owner("eve@example.com", "Evil").await;
    let (status, created) = create(&app, &owner, "notes", b"ciphertext").await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap();
    for token in [&colleague, &stranger] {
        assert_eq!(download(&app, token, id).await.status(), 404);
        let (status, _) = get(
            &app,
            &format!("/api/v1/storage/records/{id}?download=url"),
            token,
        )
        .await;
        assert_eq!(status, 404);
        let (status, body, _) = call(
            &app,
            Method::PUT,
            &format!("/api/v1/storage/records/{id}"),
            Some(token),
            Some(json!({"blob": B64.encode(b"x"), "checksum": sha256_hex(b"x")})),
        )
        .await;
        assert_eq!(status, 404, "{body}");
        let (_, list) = get(&app, "/api/v1/storage/records", token).await;
        assert_eq!(list["records"], json!([]));
        // A delete of someone else's record does nothing (and says nothing).
        let (status, _, _) = call(
            &app,
            Method::DELETE,
            &format!("/api/v1/storage/records/{id}"),
            Some(token),
            None,
        )
        .await;
        assert_eq!(status, 204);
    }
    assert_eq!(download(&app, &owner, id).await.status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_named_and_stores_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.verified_owner("ada@example.com", "Acme").await;
    let (status, body) = post(
        &app,
        "/api/v1/storage/records",
        Some(&token),
        json!({"table": "Bad Table", "blob": "not base64!", "checksum": "xyz"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["table", "blob", "checksum"], "{body}");

    // A checksum of other bytes: 400, nothing stored.
    let (status, body) = post(
        &app,
        "/api/v1/storage/records",
        Some(&token),
        json!({"table": "notes", "blob": B64.encode(b"abc"), "checksum": sha256_hex(b"abd")}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "CHECKSUM_MISMATCH");
    let (_, list) = get(&app, "/api/v1/storage/records", &token).await;
    assert_eq!(list["records"], json!([]));

    // Unknown and malformed ids: 404.
    for id in ["rec_0190a0b0c0d0e0f00112233445566778", "nope"] {
        assert_eq!(download(&app, &token, id).await.status(), 404);
    }
    // Over 4 MiB of JSON: 413 naming the upload route.
    let big = vec![7u8; 3_300_000];
    let (status, body) = create(&app, &token, "big", &big).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["code"], "PAYLOAD_TOO_LARGE");
    assert_eq!(body["upload_route"], "/api/v1/storage/uploads");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("/api/v1/storage/uploads")
    );
    // No credential: 401; an API key without the storage scope: 403.
    let (status, _) = post(&app, "/api/v1/storage/records", None, json!({})).await;
    assert_eq!(status, 401);
    let (status, key) = post(
        &app,
        "/api/v1/auth/api-keys",
        Some(&token),
        json!({"name": "ci", "scopes": ["org:read"]}),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let (status, body) = create(&app, key["secret"].as_str().unwrap(), "notes", b"x").await;
    assert_eq!(status, 403, "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_with_the_storage_scope_works_on_its_creators_records() {
    let app = spawn_app().await;
    let (_, token) = app.verified_owner("ada@example.com", "Acme").await;
    let (status, key) = post(
        &app,
        "/api/v1/auth/api-keys",
        Some(&token),
        json!({"name": "sync", "scopes": ["storage:read", "storage:write"]}),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let key = key["secret"].as_str().unwrap();
    let (status, created) = create(&app, key, "notes", b"from the key").await;
    assert_eq!(status, 201, "{created}");
    let (_, list) = get(&app, "/api/v1/storage/records", &token).await;
    assert_eq!(list["records"][0]["id"], created["id"]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_objects_go_through_signed_uploads_and_commits() {
    let app = spawn_app().await;
    let (org, token) = app.verified_owner("ada@example.com", "Acme").await;
    let blob: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
    let (status, up) = post(
        &app,
        "/api/v1/storage/uploads",
        Some(&token),
        json!({"table": "videos", "size": blob.len(), "checksum": sha256_hex(&blob)}),
    )
    .await;
    assert_eq!(status, 201, "{up}");
    assert_eq!(up["method"], "PUT");
    let id = up["record_id"].as_str().unwrap().to_owned();
    let url = up["upload_url"].as_str().unwrap();
    let headers = up["headers"].as_object().unwrap();
    assert!(headers.contains_key("x-amz-checksum-sha256"), "{up}");
    // Not visible, and not committable, before the bytes arrive.
    assert_eq!(download(&app, &token, &id).await.status(), 404);
    let commit = format!("/api/v1/storage/records/{id}/commit");
    let (status, body) = post(&app, &commit, Some(&token), json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "UPLOAD_INCOMPLETE");
    let send = |bytes: Vec<u8>, with_checksum: bool| {
        let mut r = app.client.put(url).body(bytes);
        for (k, v) in headers {
            if k != "content-length" && (with_checksum || k != "x-amz-checksum-sha256") {
                r = r.header(k.as_str(), v.as_str().unwrap());
            }
        }
        r.send()
    };
    // Other bytes, or no checksum header: the store refuses them.
    let mut other = blob.clone();
    other[0] ^= 1;
    assert!(send(other, true).await.unwrap().status().is_client_error());
    // (Refused before the body is read: a short one, so the refusal is heard.)
    assert!(
        send(b"x".to_vec(), false)
            .await
            .unwrap()
            .status()
            .is_client_error()
    );
    assert_eq!(send(blob.clone(), true).await.unwrap().status(), 200);
    let (status, meta) = post(&app, &commit, Some(&token), json!({})).await;
    assert_eq!(status, 200, "{meta}");
    assert_eq!(meta["size"], blob.len());
    let got = download(&app, &token, &id).await;
    assert_eq!(
        got.headers()["content-length"],
        blob.len().to_string().as_str()
    );
    assert_eq!(sha256_hex(&got.bytes().await.unwrap()), sha256_hex(&blob));

    // An upload never committed is swept, its bytes released.
    let (status, up) = post(
        &app,
        "/api/v1/storage/uploads",
        Some(&token),
        json!({"table": "videos", "size": 10, "checksum": sha256_hex(b"0123456789")}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(usage(&app, &org).await, blob.len() as u64 + 10);
    let report = sweep_after_the_deadlines(&app).await;
    assert!(report.contains("released 1 abandoned writes"), "{report}");
    assert_eq!(usage(&app, &org).await, blob.len() as u64);
    let token = app.login("ada@example.com").await;
    let (status, _) = post(
        &app,
        &format!(
            "/api/v1/storage/records/{}/commit",
            up["record_id"].as_str().unwrap()
        ),
        Some(&token),
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
    app.stop().await;
}

/// The org's record bytes in use, as the counter has them.
pub async fn usage(app: &TestApp, org: &str) -> u64 {
    usage_of(app, org).await.records_bytes
}

/// The org's counters of bytes in use.
pub async fn usage_of(app: &TestApp, org: &str) -> skiff_storage::quota::Usage {
    let org = skiff_core::ids::OrgId::parse(org).unwrap();
    skiff_storage::quota::usage(app.services().store.as_ref(), &org)
        .await
        .unwrap()
}

/// Two hours on (past every upload's deadline), then the storage sweep: its report.
pub async fn sweep_after_the_deadlines(app: &TestApp) -> String {
    app.advance_clock(Duration::from_secs(2 * 3600)).await;
    let r = app
        .post_json("/_dev/scheduler/run", &json!({"jobs": ["storage_sweep"]}))
        .await;
    let report: Value = r.json().await.unwrap();
    report["reports"][0]["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("a sweep report: {report}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_refuses_what_does_not_fit() {
    let plans = tempfile::NamedTempFile::new().unwrap();
    let mut catalog: Value = serde_json::from_str(skiff_billing::catalog::BUILT_IN).unwrap();
    catalog["plans"][0]["entitlements"]["storage_gb"] = json!(0);
    std::fs::write(plans.path(), catalog.to_string()).unwrap();
    let app = spawn_app_with(&[("SKIFF_PLANS_FILE", plans.path().to_str().unwrap())]).await;
    let (_, token) = app.verified_owner("ada@example.com", "Acme").await;
    let (status, body) = create(&app, &token, "notes", b"one byte too many").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "QUOTA_EXCEEDED");
    assert_eq!(body["used_bytes"], 0);
    assert_eq!(body["limit_bytes"], 0);
    assert!(body["upgrade_url"].as_str().unwrap().starts_with("http"));
    let (status, body) = post(
        &app,
        "/api/v1/storage/uploads",
        Some(&token),
        json!({"table": "t", "size": 5, "checksum": sha256_hex(b"12345")}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_org_reads_and_deletes_but_does_not_write() {
    let app = spawn_app().await;
    let (org, token) = app.verified_owner("ada@example.com", "Acme").await;
    let (_, kept) = create(&app, &token, "notes", b"kept").await;
    let (_, gone) = create(&app, &token, "notes", b"to delete").await;
    app.subscribe(&token, "pro").await;
    app.simulate(&token, &org, "renew").await;
    for _ in 0..3 {
        app.simulate(&token, &org, "fail").await;
    }
    let (status, body) = create(&app, &token, "notes", b"new").await;
    assert_eq!(status, 423, "{body}");
    assert_eq!(body["code"], "service_locked");
    let (status, body) = post(
        &app,
        "/api/v1/storage/uploads",
        Some(&token),
        json!({"table": "t", "size": 5, "checksum": sha256_hex(b"12345")}),
    )
    .await;
    assert_eq!(status, 423, "{body}");
    let r = app
        .client
        .put(app.url("/api/v1/backup"))
        .bearer_auth(&token)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 423);
    // Reads, searches, deletes and exports stay open.
    assert_eq!(
        download(&app, &token, kept["id"].as_str().unwrap())
            .await
            .status(),
        200
    );
    let (status, _, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/storage/records/{}", gone["id"].as_str().unwrap()),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = post(
        &app,
        "/api/v1/storage/vectors/search",
        Some(&token),
        json!({"query_blob": B64.encode(b"kept"), "top_k": 3}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(&app, "/api/v1/exports", Some(&token), json!({})).await;
    assert_eq!(status, 202, "{body}");
    app.stop().await;
}
