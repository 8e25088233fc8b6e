//! The `events/storage` API Gateway v2 fixtures driven through the real handler
//! (the router `lambda_http::run` serves), over the embedded adapters.

use http_body_util::BodyExt;
use serde_json::Value;
use skiff_core::clock::SystemClock;
use skiff_core::services::Services;
use skiff_http::principal;
use skiff_identity::access_token::{self, Grant};
use skiff_identity::orgs::{self, Membership, Org};
use skiff_identity::signing_keys;
use skiff_identity::users::{self, User};
use skiff_identity::{EmailAddress, OrgId, Role, Scopes, UserId};
use std::sync::Arc;
use tower::ServiceExt;

fn fixture(name: &str) -> String {
    let path = format!("{}/../../events/storage/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).expect("fixture")
}

async fn services(dir: &std::path::Path, vars: &[(&str, &str)]) -> Services {
    let mut all = vec![("SKIFF_DATA_DIR".to_owned(), dir.display().to_string())];
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = skiff_app::AppConfig::from_vars(all).expect("config");
    skiff_app::services::embedded(config, Arc::new(SystemClock))
        .await
        .expect("services")
        .services
}

async fn invoke(services: &Services, event: &str) -> (u16, axum::http::HeaderMap, bytes::Bytes) {
    let request = lambda_http::request::from_str(event).expect("an API Gateway v2 event");
    let response = skiff_fn_storage::app(services.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body)
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

/// An owner of a fresh org and an access token of theirs.
async fn owner_token(s: &Services) -> String {
    owner_of_fresh_org(s).await.0
}

/// An owner's access token, org and user.
async fn owner_of_fresh_org(s: &Services) -> (String, OrgId, UserId) {
    let now = s.clock.unix();
    let (user_id, org_id) = (UserId::new(), OrgId::new());
    let user = User {
        id: user_id.clone(),
        email: EmailAddress::parse("owner@example.com").unwrap(),
        full_name: "Owner".into(),
        password_hash: "unused".into(),
        email_verified: true,
        created_at: now,
        platform_admin: false,
        default_org: org_id.clone(),
        company: None,
        suspended_at: None,
    };
    let org = Org {
        id: org_id.clone(),
        name: "Fixture Inc".into(),
        created_at: now,
        owners: 1,
    };
    let owner = Membership {
        org_id: org_id.clone(),
        user_id: user_id.clone(),
        role: Role::Owner,
        joined_at: now,
    };
    let mut writes = users::create_writes(&user).unwrap();
    writes.extend(orgs::create_writes(&org, &owner).unwrap());
    s.store.transact(writes).await.unwrap();
    let keys = signing_keys::current(&s.secrets).await.unwrap();
    let token = access_token::issue(
        &keys,
        &principal::audience(s),
        now,
        Grant {
            user: &user_id,
            org: &org_id,
            role: Role::Owner,
            scopes: &Scopes::all(),
            session: None,
        },
    );
    (token, org_id, user_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_record_fixtures_store_and_read_back_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let s = services(dir.path(), &[]).await;
    let token = owner_token(&s).await;

    let (status, _, body) = invoke(
        &s,
        &fixture("create-record.json").replace("ACCESS_TOKEN", &token),
    )
    .await;
    assert_eq!(status, 201, "{}", json(&body));
    let created = json(&body);
    let id = created["id"].as_str().unwrap();

    let get = fixture("get-record.json")
        .replace("ACCESS_TOKEN", &token)
        .replace("RECORD_ID", id);
    let (status, headers, bytes) = invoke(&s, &get).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-checksum"], created["checksum"].as_str().unwrap());
    assert_eq!(
        skiff_core::ports::blobs::sha256_hex(&bytes),
        created["checksum"].as_str().unwrap()
    );

    // Without the token: 401.
    let (status, _, _) = invoke(&s, &fixture("create-record.json")).await;
    assert_eq!(status, 401);
}

/// Services whose free plan includes backups.
async fn services_with_backups(dir: &std::path::Path) -> Services {
    let plans = dir.join("plans.json");
    let mut catalog: Value = serde_json::from_str(skiff_billing::catalog::BUILT_IN).unwrap();
    catalog["plans"][0]["entitlements"]["backup_gb"] = 1.into();
    std::fs::write(&plans, catalog.to_string()).unwrap();
    services(dir, &[("SKIFF_PLANS_FILE", plans.to_str().unwrap())]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backup_upload_fixtures_announce_then_commit_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let s = services_with_backups(dir.path()).await;
    let (token, org, user) = owner_of_fresh_org(&s).await;
    let event = fixture("start-backup-upload.json").replace("ACCESS_TOKEN", &token);
    let (status, _, body) = invoke(&s, &event).await;
    assert_eq!(status, 201, "{}", json(&body));
    let up = json(&body);
    assert_eq!(up["method"], "PUT");
    let id = up["backup_id"].as_str().unwrap();
    let commit = fixture("commit-backup-upload.json")
        .replace("ACCESS_TOKEN", &token)
        .replace("BACKUP_ID", id);
    let (status, _, body) = invoke(&s, &commit).await;
    assert_eq!(status, 409, "{}", json(&body));
    assert_eq!(json(&body)["code"], "UPLOAD_INCOMPLETE");
    // The client's PUT to the signed URL (served by the blob store, not this
    // function): the fixture announces these 10,240 bytes.
    let bytes: Vec<u8> = (0..10_240u32).map(|i| (i % 256) as u8).collect();
    let key =
        skiff_core::ports::blobs::BlobKey::parse(format!("{org}/{user}/backups/{id}")).unwrap();
    s.blobs
        .put(&key, bytes.into(), "application/octet-stream")
        .await
        .unwrap();
    let (status, _, body) = invoke(&s, &commit).await;
    assert_eq!(status, 200, "{}", json(&body));
    let sent: Value = serde_json::from_str(&event).unwrap();
    let announced: Value = serde_json::from_str(sent["body"].as_str().unwrap()).unwrap();
    assert_eq!(json(&body)["checksum"], announced["checksum"]);
    assert_eq!(json(&body)["version"], "4.2.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backup_fixture_needs_a_plan_with_backups_then_stores_one() {
    let dir = tempfile::tempdir().unwrap();
    let s = services(dir.path(), &[]).await;
    let token = owner_token(&s).await;
    let event = fixture("put-backup.json").replace("ACCESS_TOKEN", &token);
    let (status, _, body) = invoke(&s, &event).await;
    assert_eq!(status, 403, "{}", json(&body));
    assert_eq!(json(&body)["code"], "FEATURE_NOT_IN_PLAN");

    let dir2 = tempfile::tempdir().unwrap();
    let s = services_with_backups(dir2.path()).await;
    let token = owner_token(&s).await;
    let event = fixture("put-backup.json").replace("ACCESS_TOKEN", &token);
    let (status, _, body) = invoke(&s, &event).await;
    assert_eq!(status, 201, "{}", json(&body));
    let sent: Value = serde_json::from_str(&event).unwrap();
    assert_eq!(
        json(&body)["checksum"],
        sent["headers"]["x-backup-checksum"]
    );
}
