//! Backups, vectors, exports and org erasure, black-box over HTTP.

use crate::storage::{create, encrypt, sha256_hex, sweep_after_the_deadlines, usage_of};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use skiff_e2e::requests::{call, get, post};
use skiff_e2e::{TestApp, spawn_app, spawn_app_with};
use std::time::Duration;

async fn put_backup(
    app: &TestApp,
    token: &str,
    version: &str,
    ts: i64,
    body: &[u8],
    checksum: &str,
) -> (StatusCode, Value) {
    let r = app
        .client
        .put(app.url("/api/v1/backup"))
        .bearer_auth(token)
        .header("x-backup-version", version)
        .header("x-backup-timestamp", ts.to_string())
        .header("x-backup-checksum", checksum)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_stream_in_and_out_with_history_and_retention() {
    let app = spawn_app_with(&[("SKIFF_BACKUP_RETENTION", "2")]).await;
    let (org, token) = app.verified_owner("ada@example.com", "Acme").await;
    // The free plan has no backup space.
    let (status, body) = put_backup(&app, &token, "1", 1, b"x", &sha256_hex(b"x")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "FEATURE_NOT_IN_PLAN");
    assert!(body["upgrade_url"].is_string());
    app.subscribe(&token, "starter").await;

    // Missing and odd headers are named.
    let r = app
        .client
        .put(app.url("/api/v1/backup"))
        .bearer_auth(&token)
        .header("x-backup-timestamp", "yesterday")
        .header("x-backup-checksum", "abc")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "X-Backup-Version",
            "X-Backup-Timestamp",
            "X-Backup-Checksum"
        ],
        "{body}"
    );
    // A body that is not what the checksum says: nothing stored.
    let (status, body) = put_backup(&app, &token, "1", 1, b"abc", &sha256_hex(b"abd")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "CHECKSUM_MISMATCH");
    let (_, history) = get(&app, "/api/v1/backup/history", &token).await;
    assert_eq!(history, json!([]));
    let r = app
        .client
        .get(app.url("/api/v1/backup"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let key = [9u8; 32];
    let mut ids = vec![];
    for i in 0..3u8 {
        let body = encrypt(&key, &vec![i; 300_000]);
        let (status, created) = put_backup(
            &app,
            &token,
            &format!("v{i}"),
            1_700_000_000_000 + i64::from(i),
            &body,
            &sha256_hex(&body),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["size"], body.len());
        ids.push((created["id"].as_str().unwrap().to_owned(), body));
        app.advance_clock(Duration::from_secs(2)).await;
    }
    // Retention 2: the oldest went, its bytes released.
    let (_, history) = get(&app, "/api/v1/backup/history", &token).await;
    let listed: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [ids[2].0.as_str(), ids[1].0.as_str()], "{history}");
    assert_eq!(history[0]["version"], "v2");
    assert_eq!(history[0]["timestamp"], 1_700_000_000_002i64);
    assert_eq!(
        backup_usage(&app, &org).await,
        (ids[1].1.len() + ids[2].1.len()) as u64
    );

    // The latest, with its headers; 304 when unchanged.
    let r = app
        .client
        .get(app.url("/api/v1/backup"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-backup-version"], "v2");
    assert_eq!(r.headers()["x-backup-timestamp"], "1700000000002");
    assert_eq!(
        r.headers()["x-backup-checksum"],
        sha256_hex(&ids[2].1).as_str()
    );
    let etag = r.headers()["etag"].clone();
    let modified = r.headers()["last-modified"].clone();
    assert_eq!(r.bytes().await.unwrap(), ids[2].1);
    for (name, value) in [("if-none-match", etag), ("if-modified-since", modified)] {
        let r = app
            .client
            .get(app.url("/api/v1/backup"))
            .bearer_auth(&token)
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "{name}");
    }
    let (status, _, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/backup/{}", ids[2].0),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let r = app
        .client
        .get(app.url("/api/v1/backup"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-backup-version"], "v1");
    app.stop().await;
}

/// The org's backup bytes in use, as the counter has them.
async fn backup_usage(app: &TestApp, org: &str) -> u64 {
    usage_of(app, org).await.backup_bytes
}

async fn latest_backup(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .get(app.url("/api/v1/backup"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_backups_go_through_signed_uploads_and_commits() {
    // Starter with 1 GiB of backups; one backup kept per user.
    let plans = tempfile::NamedTempFile::new().unwrap();
    let mut catalog: Value = serde_json::from_str(skiff_billing::catalog::BUILT_IN).unwrap();
    let starter = catalog["plans"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["id"] == "starter")
        .expect("a starter plan");
    starter["entitlements"]["backup_gb"] = json!(1);
    std::fs::write(plans.path(), catalog.to_string()).unwrap();
    let app = spawn_app_with(&[
        ("SKIFF_PLANS_FILE", plans.path().to_str().unwrap()),
        ("SKIFF_BACKUP_RETENTION", "1"),
    ])
    .await;
    let (org, token) = app.verified_owner("ada@example.com", "Acme").await;
    let announce = |size: usize, checksum: String, version: &str| {
        let body = json!({
            "size": size, "checksum": checksum, "version": version,
            "timestamp": 1_700_000_000_000i64,
        });
        let (app, token) = (&app, token.clone());
        async move { post(app, "/api/v1/backup/uploads", Some(&token), body).await }
    };
    // The free plan has no backup space, through this route either.
    let (status, body) = announce(10, sha256_hex(b"0123456789"), "1").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "FEATURE_NOT_IN_PLAN");
    app.subscribe(&token, "starter").await;

    let small = encrypt(&[3u8; 32], b"yesterday's snapshot");
    let (status, _) = put_backup(&app, &token, "v0", 1, &small, &sha256_hex(&small)).await;
    assert_eq!(status, 201);
    // Over 4 MiB in one request: 413 naming the upload route, nothing stored.
    let big = vec![5u8; 4 * 1024 * 1024 + 1];
    let (status, body) = put_backup(&app, &token, "v1", 2, &big, &sha256_hex(&big)).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["code"], "PAYLOAD_TOO_LARGE");
    assert_eq!(body["upload_route"], "/api/v1/backup/uploads");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("POST /api/v1/backup/uploads"),
        "{body}"
    );
    assert_eq!(backup_usage(&app, &org).await, small.len() as u64);
    // Bad announcements are named, field by field.
    let (status, body) = post(
        &app,
        "/api/v1/backup/uploads",
        Some(&token),
        json!({"size": 0, "checksum": "abc", "version": "", "timestamp": -1}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["checksum", "size", "timestamp", "version"]);
    // More than the plan holds: refused at the announcement.
    let (status, body) = announce(1 << 30, sha256_hex(b"x"), "huge").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "QUOTA_EXCEEDED");

    let blob = encrypt(&[4u8; 32], &vec![9u8; 5_000_000]);
    let (status, up) = announce(blob.len(), sha256_hex(&blob), "v2").await;
    assert_eq!(status, 201, "{up}");
    assert_eq!(up["method"], "PUT");
    let id = up["backup_id"].as_str().unwrap().to_owned();
    let url = up["upload_url"].as_str().unwrap().to_owned();
    let headers = up["headers"].as_object().unwrap().clone();
    assert!(headers.contains_key("x-amz-checksum-sha256"), "{up}");
    assert!(up["expires_at"].is_string(), "{up}");
    assert_eq!(
        backup_usage(&app, &org).await,
        (small.len() + blob.len()) as u64,
        "reserved at the announcement"
    );
    let send = |bytes: Vec<u8>| {
        let mut r = app.client.put(&url).body(bytes);
        for (k, v) in &headers {
            if k != "content-length" {
                r = r.header(k.as_str(), v.as_str().unwrap());
            }
        }
        r.send()
    };
    let commit = format!("/api/v1/backup/{id}/commit");
    // Nothing arrived yet: not committable, not visible.
    let (status, body) = post(&app, &commit, Some(&token), json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "UPLOAD_INCOMPLETE");
    // Other bytes: the store refuses them, so the commit still finds nothing.
    let mut other = blob.clone();
    other[100] ^= 1;
    assert!(send(other).await.unwrap().status().is_client_error());
    let (status, body) = post(&app, &commit, Some(&token), json!({})).await;
    assert_eq!(status, 409, "{body}");
    let r = latest_backup(&app, &token).await;
    assert_eq!(r.headers()["x-backup-version"], "v0");
    // Another org's user cannot commit it.
    let (_, stranger) = app.verified_owner("eve@example.com", "Evil").await;
    let (status, _) = post(&app, &commit, Some(&stranger), json!({})).await;
    assert_eq!(status, 404);

    assert_eq!(send(blob.clone()).await.unwrap().status(), 200);
    let (status, meta) = post(&app, &commit, Some(&token), json!({})).await;
    assert_eq!(status, 200, "{meta}");
    assert_eq!(meta["id"], id.as_str());
    assert_eq!(meta["size"], blob.len());
    assert_eq!(meta["version"], "v2");
    // Committing again answers the same backup.
    let (status, again) = post(&app, &commit, Some(&token), json!({})).await;
    assert_eq!((status.as_u16(), &again), (200, &meta));
    let r = latest_backup(&app, &token).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-backup-version"], "v2");
    assert_eq!(r.headers()["x-backup-checksum"], sha256_hex(&blob).as_str());
    assert_eq!(r.bytes().await.unwrap(), blob);
    // Retention 1, applied at the commit: the direct one went, its bytes too.
    let (_, history) = get(&app, "/api/v1/backup/history", &token).await;
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history[0]["id"], id.as_str());
    assert_eq!(backup_usage(&app, &org).await, blob.len() as u64);

    // An upload never committed is swept, its bytes released.
    let (status, up) = announce(10, sha256_hex(b"0123456789"), "v3").await;
    assert_eq!(status, 201, "{up}");
    assert_eq!(backup_usage(&app, &org).await, blob.len() as u64 + 10);
    let report = sweep_after_the_deadlines(&app).await;
    assert!(report.contains("released 1 abandoned writes"), "{report}");
    assert_eq!(backup_usage(&app, &org).await, blob.len() as u64);
    let token = app.login("ada@example.com").await;
    let late = format!(
        "/api/v1/backup/{}/commit",
        up["backup_id"].as_str().unwrap()
    );
    let (status, _) = post(&app, &late, Some(&token), json!({})).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vectors_are_searched_per_user_with_their_ciphertexts() {
    let app = spawn_app().await;
    let (_, token) = app.verified_owner("ada@example.com", "Acme").await;
    let other = app.invited(&token, "bob@example.com", "member").await;
    let item = |id: &str, blob: &[u8], vector: Option<Vec<f32>>| {
        let mut v = json!({"id": id, "blob": B64.encode(blob), "checksum": sha256_hex(blob)});
        if let Some(vector) = vector {
            v["vector"] = json!(vector);
        }
        v
    };
    let (status, body) = post(
        &app,
        "/api/v1/storage/vectors/upsert",
        Some(&token),
        json!({"vectors": [
            item("a", b"alpha", Some(vec![1.0, 0.0, 0.0])),
            item("b", b"beta", Some(vec![0.0, 1.0, 0.0])),
            item("c", b"gamma", Some(vec![0.9, 0.1, 0.0])),
        ]}),
    )
    .await;
    assert_eq!((status, &body), (StatusCode::OK, &json!({"upserted": 3})));
    let (status, found) = post(
        &app,
        "/api/v1/storage/vectors/search",
        Some(&token),
        json!({"vector": [1.0, 0.0, 0.0], "top_k": 2}),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    let ids: Vec<&str> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "c"]);
    assert_eq!(found["results"][0]["blob"], B64.encode(b"alpha"));
    // Another user of the org sees none of it.
    let (_, theirs) = post(
        &app,
        "/api/v1/storage/vectors/search",
        Some(&other),
        json!({"vector": [1.0, 0.0, 0.0], "top_k": 5}),
    )
    .await;
    assert_eq!(theirs["results"], json!([]));
    // Another dimension in this namespace: 422 naming both sizes.
    let (status, body) = post(
        &app,
        "/api/v1/storage/vectors/upsert",
        Some(&token),
        json!({"vectors": [item("d", b"delta", Some(vec![1.0, 2.0]))]}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains('3')
            && body["detail"].as_str().unwrap().contains('2'),
        "{body}"
    );
    for top_k in [0, 101] {
        let (status, body) = post(
            &app,
            "/api/v1/storage/vectors/search",
            Some(&token),
            json!({"vector": [1.0, 0.0, 0.0], "top_k": top_k}),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["errors"][0]["field"], "top_k");
    }
    // Without an embedding: the blob's hash vector finds exact duplicates.
    let (status, _) = post(
        &app,
        "/api/v1/storage/vectors/upsert",
        Some(&other),
        json!({"vectors": [item("x", b"same bytes", None), item("y", b"other bytes", None)]}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, dupes) = post(
        &app,
        "/api/v1/storage/vectors/search",
        Some(&other),
        json!({"query_blob": B64.encode(b"same bytes"), "top_k": 1}),
    )
    .await;
    assert_eq!(dupes["results"][0]["id"], "x");
    assert!((dupes["results"][0]["score"].as_f64().unwrap() - 1.0).abs() < 1e-5);
    let (status, body, _) = call(
        &app,
        Method::DELETE,
        "/api/v1/storage/vectors",
        Some(&token),
        Some(json!({"ids": ["a", "zzz"]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["deleted"], 1);
    let (_, found) = post(
        &app,
        "/api/v1/storage/vectors/search",
        Some(&token),
        json!({"vector": [1.0, 0.0, 0.0], "top_k": 5}),
    )
    .await;
    assert_eq!(found["results"].as_array().unwrap().len(), 2);
    app.stop().await;
}

/// Wait (bounded) for an export to finish; its final status.
async fn finished_export(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..200 {
        let (status, body) = get(app, &format!("/api/v1/exports/{id}"), token).await;
        assert_eq!(status, 200, "{body}");
        if body["status"] == "complete" || body["status"] == "failed" {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the export did not finish within 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_holds_the_orgs_data_and_no_secret() {
    let app = spawn_app().await;
    let (org, token) = app.verified_owner("ada@example.com", "Acme").await;
    let member = app.invited(&token, "bob@example.com", "member").await;
    app.subscribe(&token, "pro").await;
    let (_, created) = create(&app, &token, "notes", b"ciphertext one").await;
    create(&app, &member, "notes", b"ciphertext two").await;
    let (status, body) = post(
        &app,
        "/api/v1/auth/api-keys",
        Some(&token),
        json!({"name": "ci", "scopes": ["org:read"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let secret_key = body["secret"].as_str().unwrap().to_owned();

    // Members may not export; owners and admins may.
    let (status, _) = post(&app, "/api/v1/exports", Some(&member), json!({})).await;
    assert_eq!(status, 403);
    let (status, queued) = post(&app, "/api/v1/exports", Some(&token), json!({})).await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["status"], "queued");
    let id = queued["export_id"].as_str().unwrap().to_owned();
    let done = finished_export(&app, &token, &id).await;
    assert_eq!(done["status"], "complete", "{done}");
    assert_eq!(done["progress"], 1.0);
    assert!(done["expires_at"].is_string());

    let r = app
        .client
        .get(app.url(&format!("/api/v1/exports/{id}/download")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let archive = app
        .client
        .get(&location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(Some(archive.len() as u64), done["size"].as_u64());
    assert_eq!(Some(sha256_hex(&archive).as_str()), done["sha256"].as_str());
    let mut files = std::collections::BTreeMap::new();
    let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(&archive[..]));
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        let mut content = vec![];
        std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
        files.insert(path, content);
    }
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["org_id"], org.as_str());
    assert_eq!(manifest["counts"]["members"], 2);
    assert_eq!(manifest["counts"]["records"], 2);
    assert_eq!(manifest["counts"]["licenses"], 1);
    assert_eq!(manifest["counts"]["api_keys"], 1);
    for entry in manifest["files"].as_array().unwrap() {
        let path = entry["path"].as_str().unwrap();
        assert_eq!(entry["sha256"], sha256_hex(&files[path]), "{path}");
    }
    let blob_path = files
        .keys()
        .find(|p| p.ends_with(&format!("{}.bin", created["id"].as_str().unwrap())))
        .expect("the record's blob");
    assert_eq!(files[blob_path], b"ciphertext one");
    let everything: String = files
        .values()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    assert!(!everything.contains("argon2"), "no password hash");
    assert!(
        !everything.contains("secret_hash") && !everything.contains(&secret_key[12..]),
        "no key secret"
    );

    // Another org's admin cannot see or download it.
    let (_, stranger) = app.verified_owner("eve@example.com", "Evil").await;
    let (status, _) = get(&app, &format!("/api/v1/exports/{id}"), &stranger).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasing_an_org_removes_everything_but_an_anonymous_record() {
    let app = spawn_app().await;
    let (org, token) = app.verified_owner("ada@example.com", "Acme").await;
    let member = app.invited(&token, "bob@example.com", "member").await;
    // Carol belongs to another org too: she keeps her account.
    let (_, carol_own) = app.verified_owner("carol@example.com", "Carol Co").await;
    let _ = carol_own;
    let carol = {
        let (status, inv) = post(
            &app,
            "/api/v1/orgs/current/invitations",
            Some(&token),
            json!({"email": "carol@example.com", "role": "admin"}),
        )
        .await;
        assert_eq!(status, 201, "{inv}");
        let mail = app
            .wait_for_email("carol@example.com", "invited to join")
            .await;
        let link = skiff_e2e::find_link(
            mail["text"].as_str().unwrap(),
            &app.url("/accept-invitation"),
        )
        .unwrap();
        let invite = link.split("token=").nth(1).unwrap().to_owned();
        let carol_login = app.login("carol@example.com").await;
        let (status, body) = post(
            &app,
            "/api/v1/orgs/invitations/accept",
            Some(&carol_login),
            json!({"token": invite}),
        )
        .await;
        assert!(status.is_success(), "{body}");
        carol_login
    };
    let _ = carol;
    app.subscribe(&token, "pro").await;
    let (_, licenses) = get(&app, "/api/v1/licenses", &token).await;
    let license_key = licenses["licenses"][0]["key"].as_str().unwrap().to_owned();
    let (_, record) = create(&app, &token, "notes", b"secret notes").await;
    let record_id = record["id"].as_str().unwrap().to_owned();
    let (status, _) = post(
        &app,
        "/api/v1/storage/vectors/upsert",
        Some(&token),
        json!({"vectors": [{"id": "v", "blob": B64.encode(b"v"), "checksum": sha256_hex(b"v")}]}),
    )
    .await;
    assert_eq!(status, 200);

    // Only the owner, only with the org's name.
    let erase = |token: &str, confirm: &str| {
        let body = json!({"confirm": confirm});
        let token = token.to_owned();
        let app = &app;
        async move {
            call(
                app,
                Method::DELETE,
                "/api/v1/orgs/current",
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    let (status, _, _) = erase(&member, "Acme").await;
    assert_eq!(status, 403);
    let (status, body, _) = erase(&token, "acme").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "confirm");
    let (status, body, _) = erase(&token, "Acme").await;
    assert_eq!(status, 202, "{body}");
    app.wait_for_outbox_idle().await;

    // The subscription was cancelled at the provider, the licenses deactivated
    // before they went: the key is unknown now.
    let (status, body) = post(
        &app,
        "/api/v1/licenses/validate",
        None,
        json!({"license_key": license_key}),
    )
    .await;
    assert!(
        status == 404 || body["code"] == "NOT_FOUND",
        "{status} {body}"
    );
    // Members without another org are gone; Carol stays.
    for email in ["ada@example.com", "bob@example.com"] {
        let (status, _) = post(
            &app,
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": skiff_e2e::TEST_PASSWORD}),
        )
        .await;
        assert_eq!(status, 401, "{email}");
    }
    let carol_again = app.login("carol@example.com").await;
    let (status, me) = get(&app, "/api/v1/orgs/current", &carol_again).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["name"], "Carol Co");
    // The org's ids: 404, even with a still-unexpired token of the org.
    let r = app
        .client
        .get(app.url(&format!("/api/v1/storage/records/{record_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let (status, _) = create(&app, &token, "notes", b"after").await;
    assert_eq!(status, 404, "an erased org takes no writes");
    // Nothing of the org is left in the store or the buckets, but the record.
    let org_id = skiff_core::ids::OrgId::parse(&org).unwrap();
    let erasure = skiff_identity::erasure::get(app.services().store.as_ref(), &org_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(erasure.status, skiff_identity::erasure::Status::Complete);
    assert!(erasure.removed["storage"] >= 2, "{:?}", erasure.removed);
    let blobs = app
        .services()
        .blobs
        .list(&format!("{org}/"), 10)
        .await
        .unwrap();
    assert!(blobs.is_empty(), "{blobs:?}");
    for pk in [
        format!("ORG#{org}"),
        format!("{org}#REC"),
        format!("{org}#LIC"),
        format!("{org}#VEC"),
        format!("{org}#STORAGE"),
    ] {
        let page = app
            .services()
            .store
            .query(skiff_core::ports::store::Query::partition(pk.clone()))
            .await
            .unwrap();
        assert!(page.items.is_empty(), "{pk}: {:?}", page.items);
    }
    let record = serde_json::to_string(&erasure).unwrap();
    assert!(
        !record.contains("example.com") && !record.contains("Acme"),
        "{record}"
    );
    app.stop().await;
}
