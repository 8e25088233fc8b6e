//! The backup drill for `skiff serve`'s data dir: populate through the API, back up
//! while requests keep writing, restore into a new directory, boot a server on it,
//! and compare every route's answers; then the refusals (a damaged backup, a
//! non-empty target) and the secrets rule.

use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use skiff_core::ports::blobs::{BlobKey, SignedOp};
use skiff_e2e::requests::{get, post};
use skiff_e2e::{TestApp, spawn_app_with};
use skiff_local::backup::{self, BackupOptions, Kind, Quiet, RestoreOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// Both servers issue and accept the same tokens (the secrets travel with the
/// backup; the issuer must not depend on the port), and name the same upgrade URL.
const SAME: [(&str, &str); 2] = [
    ("SKIFF_JWT_ISSUER", "https://skiff.example"),
    ("SKIFF_UPGRADE_URL", "https://skiff.example/plans"),
];

async fn boot(data_dir: Option<&Path>) -> TestApp {
    let mut vars = SAME.to_vec();
    let dir;
    if let Some(d) = data_dir {
        dir = d.display().to_string();
        vars.push(("SKIFF_DATA_DIR", &dir));
        spawn_app_with(&vars).await
    } else {
        spawn_app_with(&vars).await
    }
}

async fn acquire(app: &TestApp, token: &str, key: &str, hw: &str) -> (reqwest::StatusCode, Value) {
    post(
        app,
        "/api/v1/licenses/acquire",
        Some(token),
        json!({"license_key": key, "hardware_id": hw}),
    )
    .await
}

/// What the routes answer about the populated data: (what, status, body).
async fn answers(app: &TestApp, t: &Tokens) -> Vec<(String, u16, Value)> {
    let mut paths = vec![
        "/api/v1/auth/me".to_owned(),
        "/api/v1/orgs/current".to_owned(),
        "/api/v1/orgs/current/members".to_owned(),
        "/api/v1/orgs/current/invitations".to_owned(),
        "/api/v1/auth/api-keys".to_owned(),
        "/api/v1/billing/subscription".to_owned(),
        "/api/v1/billing/events".to_owned(),
        "/api/v1/service/profile".to_owned(),
        "/api/v1/licenses".to_owned(),
        "/api/v1/licenses/audit".to_owned(),
        format!("/api/v1/licenses/{}", t.license),
        format!("/api/v1/licenses/{}/sessions", t.license),
    ];
    let admin = [
        format!("/api/v1/admin/orgs/{}", t.org),
        format!("/api/v1/admin/users/{}", t.user),
        format!(
            "/api/v1/admin/audit?org={}&until={}&limit=200",
            t.org, t.until
        ),
        format!("/api/v1/admin/licenses?q={}", t.org),
    ];
    let mut out = vec![];
    for path in paths.drain(..) {
        let (status, body) = get(app, &path, &t.owner).await;
        out.push((path, status.as_u16(), without_elapsed(body)));
    }
    for path in admin {
        let (status, body) = get(app, &path, &t.operator).await;
        out.push((path, status.as_u16(), body));
    }
    let (status, body) = post(
        app,
        "/api/v1/licenses/validate",
        None,
        json!({"license_key": t.key}),
    )
    .await;
    out.push(("validate".into(), status.as_u16(), body));
    let r = app.client.get(&t.blob_url).send().await.unwrap();
    out.push((
        "blob".into(),
        r.status().as_u16(),
        Value::String(r.text().await.unwrap()),
    ));
    out
}

/// The answer without the fields that grow with the wall clock between two reads
/// (a session's `duration_secs`), which no restore can keep equal.
fn without_elapsed(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            map.remove("duration_secs");
            for value in map.values_mut() {
                *value = without_elapsed(value.take());
            }
        }
        Value::Array(items) => {
            for item in items {
                *item = without_elapsed(item.take());
            }
        }
        _ => {}
    }
    v
}

struct Tokens {
    owner: String,
    operator: String,
    org: String,
    user: String,
    license: String,
    key: String,
    blob_url: String,
    /// The audit log is compared up to the backup (the restored server adds none).
    until: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_to_a_server_that_answers_the_same() {
    let app = boot(None).await;
    // Populate: an operator, a paying customer with members, keys, seats, a blob.
    let (_, _) = app.verified_owner("op@ops.test", "Operators").await;
    skiff_local::admin::set_platform_admin(app.services(), "op@ops.test", true)
        .await
        .unwrap();
    let operator = app.login("op@ops.test").await;
    let (org, owner) = app.verified_owner("owner@acme.test", "Acme").await;
    app.subscribe(&owner, "pro").await;
    app.simulate(&owner, &org, "renew").await;
    app.invited(&owner, "member@acme.test", "member").await;
    let (status, _) = post(
        &app,
        "/api/v1/auth/api-keys",
        Some(&owner),
        json!({"name": "ci", "scopes": ["licenses:read"]}),
    )
    .await;
    assert_eq!(status, 201);
    let (_, list) = get(&app, "/api/v1/licenses", &owner).await;
    let (license, key) = (
        list["licenses"][0]["id"].as_str().unwrap().to_owned(),
        list["licenses"][0]["key"].as_str().unwrap().to_owned(),
    );
    for hw in ["laptop-0001-aaaa", "laptop-0002-bbbb"] {
        assert_eq!(acquire(&app, &owner, &key, hw).await.0, 201);
    }
    let blob_key = BlobKey::parse(format!("{org}/backups/2026-11-22.bin")).unwrap();
    let put = app
        .services()
        .blobs
        .signed_url(&blob_key, SignedOp::Put, Duration::from_secs(600))
        .await
        .unwrap();
    let r = app
        .client
        .put(&put.url)
        .body(vec![7u8; 300_000])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let blob_url = app
        .services()
        .blobs
        .signed_url(&blob_key, SignedOp::Get, Duration::from_secs(600))
        .await
        .unwrap()
        .url;
    let user = get(&app, "/api/v1/auth/me", &owner).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.wait_for_outbox_idle().await;

    // Load: another org keeps taking and giving back seats, renaming itself and
    // making keys while the backup runs.
    let (_, load) = app.verified_owner("load@busy.test", "Busy").await;
    app.subscribe(&load, "enterprise").await;
    let (_, list) = get(&app, "/api/v1/licenses", &load).await;
    let load_license = list["licenses"][0]["id"].as_str().unwrap().to_owned();
    let load_key = list["licenses"][0]["key"].as_str().unwrap().to_owned();
    let until = app.services().clock.unix();
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (client, base) = (app.client.clone(), app.address.clone());
            let (stop, writes) = (stop.clone(), writes.clone());
            let (load, load_key) = (load.clone(), load_key.clone());
            tokio::spawn(async move {
                let send = |method: Method, path: &str, body: Value| {
                    client
                        .request(method, format!("{base}{path}"))
                        .bearer_auth(&load)
                        .json(&body)
                        .send()
                };
                let mut i = 0u32;
                while !stop.load(Ordering::Relaxed) && i < 2_000 {
                    i += 1;
                    let hw = format!("busy-{w}-{:04}-machine", i % 40);
                    let r = send(
                        Method::POST,
                        "/api/v1/licenses/acquire",
                        json!({"license_key": load_key, "hardware_id": hw}),
                    )
                    .await
                    .unwrap();
                    if r.status() == 201 {
                        let seat: Value = r.json().await.unwrap();
                        let _ = send(
                            Method::POST,
                            "/api/v1/licenses/release",
                            json!({"session_id": seat["session_id"], "signed_token": seat["signed_token"]}),
                        )
                        .await;
                    }
                    if i.is_multiple_of(10) {
                        let _ = send(
                            Method::PATCH,
                            "/api/v1/orgs/current",
                            json!({"name": format!("Busy {w}-{i}")}),
                        )
                        .await;
                    }
                    writes.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // Let the load get going, then back up (with the secrets) while it runs.
    while writes.load(Ordering::Relaxed) < 20 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let out = tempfile::tempdir().unwrap();
    let to = out.path().join("drill");
    let data_dir = app.data_dir.path().to_path_buf();
    let before = writes.load(Ordering::Relaxed);
    let manifest = tokio::task::spawn_blocking({
        let to = to.clone();
        move || {
            backup::backup(
                &BackupOptions {
                    data_dir,
                    to,
                    include_secrets: true,
                },
                &mut Quiet,
            )
        }
    })
    .await
    .unwrap()
    .expect("backup");
    let during = writes.load(Ordering::Relaxed) - before;
    stop.store(true, Ordering::Relaxed);
    join_all(workers).await;
    assert!(during > 0, "requests kept writing while the backup ran");
    let kinds = |k: Kind| manifest.parts.iter().filter(|p| p.kind == k).count();
    assert!(
        kinds(Kind::Database) >= 2,
        "items.db and queue.db: {manifest:?}"
    );
    assert!(kinds(Kind::File) >= 1, "the blob: {manifest:?}");
    assert!(
        kinds(Kind::Secret) >= 1,
        "secrets were asked for: {manifest:?}"
    );
    assert!(
        manifest
            .parts
            .iter()
            .all(|p| !p.path.ends_with("-wal") && !p.path.ends_with("-shm")),
        "{manifest:?}"
    );

    let t = Tokens {
        owner,
        operator,
        org: org.clone(),
        user,
        license,
        key,
        blob_url: blob_url.clone(),
        until,
    };
    let original = answers(&app, &t).await;

    // Restore into a new directory and boot a second server on it.
    let restored_dir = out.path().join("restored");
    let restored_manifest = backup::restore(
        &RestoreOptions {
            from: to.clone(),
            data_dir: restored_dir.clone(),
            force: false,
        },
        &mut Quiet,
    )
    .expect("restore");
    assert_eq!(restored_manifest, manifest);
    let restored = boot(Some(&restored_dir)).await;
    let r = restored.get("/readyz").await;
    assert_eq!(r.status(), 200, "the restored server is ready");
    let t = Tokens {
        blob_url: blob_url.replace(&app.address, &restored.address),
        ..t
    };
    let again = answers(&restored, &t).await;
    for ((what, status, body), (_, status2, body2)) in original.iter().zip(&again) {
        assert_eq!(status, status2, "{what}: {body} vs {body2}");
        assert_eq!(body, body2, "{what}");
    }
    assert_eq!(original.len(), again.len());

    // The busy org's data is one consistent instant: its seat counter equals its
    // seat items.
    let (status, l) = get(
        &restored,
        &format!("/api/v1/licenses/{load_license}"),
        &load,
    )
    .await;
    assert_eq!(status, 200, "{l}");
    let (_, sessions) = get(
        &restored,
        &format!("/api/v1/licenses/{load_license}/sessions?limit=200"),
        &load,
    )
    .await;
    assert_eq!(
        l["seats_used"].as_u64().unwrap(),
        sessions["active"].as_array().unwrap().len() as u64,
        "{l} / {sessions}"
    );
    restored.stop().await;
    app.stop().await;
}

fn manifest_of(dir: &Path) -> backup::Manifest {
    serde_json::from_slice(&std::fs::read(dir.join(backup::MANIFEST)).unwrap()).unwrap()
}

fn restore_into(from: &Path, data_dir: &Path, force: bool) -> anyhow::Result<backup::Manifest> {
    backup::restore(
        &RestoreOptions {
            from: from.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            force,
        },
        &mut Quiet,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_backup_or_a_non_empty_target_is_refused_and_secrets_stay_out_unless_asked() {
    let app = boot(None).await;
    app.verified_owner("owner@acme.test", "Acme").await;
    let out = tempfile::tempdir().unwrap();
    let take = |to: PathBuf, include_secrets: bool| {
        let data_dir = app.data_dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            backup::backup(
                &BackupOptions {
                    data_dir,
                    to,
                    include_secrets,
                },
                &mut Quiet,
            )
        })
    };
    let plain = out.path().join("plain");
    let manifest = take(plain.clone(), false).await.unwrap().unwrap();
    assert!(
        manifest
            .parts
            .iter()
            .all(|p| !p.path.starts_with("secrets/"))
    );
    assert!(!plain.join("secrets").exists());
    assert!(
        take(plain.clone(), false).await.unwrap().is_err(),
        "an existing backup is never overwritten"
    );
    assert!(
        take(app.data_dir.path().join("inside"), false)
            .await
            .unwrap()
            .is_err(),
        "not into the data dir itself"
    );

    // A .tar holds the same parts, and restores.
    let archive = out.path().join("backup.tar");
    let tar_manifest = take(archive.clone(), true).await.unwrap().unwrap();
    assert!(tar_manifest.parts.iter().any(|p| p.kind == Kind::Secret));
    let from_tar = out.path().join("from-tar");
    restore_into(&archive, &from_tar, false).expect("restore from a tar");
    assert!(from_tar.join("items.db").is_file() && from_tar.join("secrets").is_dir());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for p in tar_manifest.parts.iter().filter(|p| p.kind == Kind::Secret) {
            let mode = std::fs::metadata(from_tar.join(&p.path))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{}", p.path);
        }
    }

    // A non-empty target needs --force.
    let e = restore_into(&plain, &from_tar, false).unwrap_err();
    assert!(e.to_string().contains("--force"), "{e}");
    restore_into(&plain, &from_tar, true).expect("forced");
    assert!(
        !from_tar.join("secrets").exists(),
        "--force replaced what was there"
    );

    // One flipped byte anywhere: refused before anything is written.
    let damaged = out.path().join("damaged");
    copy_dir(&plain, &damaged);
    let part = manifest_of(&damaged)
        .parts
        .into_iter()
        .find(|p| p.kind == Kind::Database)
        .unwrap();
    let path = damaged.join(&part.path);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let target = out.path().join("never-written");
    let e = restore_into(&damaged, &target, false).unwrap_err();
    assert!(e.to_string().contains("does not match the manifest"), "{e}");
    assert!(!target.exists(), "nothing was written");
    // A file the manifest does not list is refused too.
    copy_dir(&plain, &out.path().join("extra"));
    std::fs::write(out.path().join("extra/stowaway.db"), b"x").unwrap();
    let e = restore_into(&out.path().join("extra"), &target, false).unwrap_err();
    assert!(e.to_string().contains("not in its manifest"), "{e}");
    app.stop().await;
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}
