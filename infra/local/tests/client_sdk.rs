//! The Rust SDK's typed calls against a real `skiff serve` child: sign-in with
//! transparent refresh, API-key mode, licensing, the offline license-file check,
//! client-side encrypted records and backups (the server holds only ciphertext),
//! vectors and memory.

mod support;

use skiff_client::crypto::{CryptoError, EncryptionKey, sha256_hex};
use skiff_client::license_file::{self, LicenseFileError};
use skiff_client::time::ManualTime;
use skiff_client::types::{NewMemory, RecallQuery, VectorItem};
use skiff_client::{Client, Error};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use support::{PASSWORD, Server, Setup};

struct World {
    _server: Server,
    setup: Setup,
    owner_token: String,
    license: serde_json::Value,
    client: Client,
    time: ManualTime,
    _dir: tempfile::TempDir,
}

async fn world(email: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let setup = Setup::new(&server.base);
    let (_, owner_token) = setup.verified_owner(email).await;
    let license = setup.licensed(&owner_token, "starter").await;
    let time = ManualTime::new();
    let client = Client::builder(&server.base)
        .timer(Arc::new(time.clone()))
        .build()
        .unwrap();
    client.login(email, PASSWORD).await.unwrap();
    World {
        _server: server,
        setup,
        owner_token,
        license,
        client,
        time,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_refreshes_before_expiry_and_logout_forgets_the_tokens() {
    let w = world("auth@acme.test").await;
    let me = w.client.me().await.unwrap();
    assert_eq!(me.email, "auth@acme.test");
    assert!(me.email_verified);

    // Close to the access token's expiry the client refreshes first: the
    // refresh token rotates, and the call goes through.
    let before = w.client.refresh_token().await.unwrap();
    w.time.advance(Duration::from_secs(24 * 3600));
    assert_eq!(w.client.me().await.unwrap().id, me.id);
    let after = w.client.refresh_token().await.unwrap();
    assert_ne!(before, after, "rotated");

    // A new process resumes from the kept refresh token.
    let resumed = Client::new(w.client.base_url()).unwrap();
    resumed.resume(&after).await.unwrap();
    assert_eq!(resumed.me().await.unwrap().id, me.id);

    // Logging out revokes the session on the server and forgets it here.
    let kept = resumed.refresh_token().await.unwrap();
    resumed.logout().await.unwrap();
    assert!(matches!(resumed.me().await, Err(Error::NotSignedIn)));
    let err = Client::new(w.client.base_url())
        .unwrap()
        .resume(&kept)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");

    // Wrong password: the problem+json code, status and request id.
    let err = Client::new(w.client.base_url())
        .unwrap()
        .login("auth@acme.test", "Wrong1horse")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(err.code().is_some_and(|c| !c.is_empty()), "{err}");
    assert!(err.request_id().is_some(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_acts_without_sign_in() {
    let w = world("apikey@acme.test").await;
    let (status, key) = w
        .setup
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/api-keys",
            Some(&w.owner_token),
            Some(serde_json::json!({"name": "sync", "scopes": ["storage:read", "storage:write"]})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let client = Client::new(w.client.base_url()).unwrap();
    client.use_api_key(key["secret"].as_str().unwrap()).await;
    let created = client
        .create_record("notes", b"opaque bytes")
        .await
        .unwrap();
    assert_eq!(
        client.get_record(&created.id).await.unwrap(),
        b"opaque bytes"
    );
    let page = client.list_records(Some("notes"), None).await.unwrap();
    assert_eq!(page.records.len(), 1);
    assert!(client.refresh_token().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn licensing_calls_and_the_downloaded_file_verifies_offline() {
    let w = world("files@acme.test").await;
    let key = w.license["key"].as_str().unwrap();
    let id = w.license["id"].as_str().unwrap();

    let v = w.client.validate(key, None).await.unwrap();
    assert!(v.valid, "{v:?}");
    let a = w.client.activate(key, "laptop-0001-aaaa").await.unwrap();
    assert!(a.newly_activated);
    let v = w
        .client
        .validate(key, Some("laptop-0001-aaaa"))
        .await
        .unwrap();
    assert!(v.valid, "{v:?}");
    assert_eq!(w.client.license_status(key).await.unwrap().status, "active");
    let listed = w.client.licenses(None).await.unwrap();
    assert_eq!(listed.licenses.len(), 1);
    assert_eq!(listed.licenses[0].id, id);
    w.client.deactivate(key, "laptop-0001-aaaa").await.unwrap();

    // Raw seat calls.
    let seat = w
        .client
        .acquire_seat(key, "laptop-0001-aaaa")
        .await
        .unwrap();
    assert_eq!(seat.heartbeat_interval, 300);
    let hb = w
        .client
        .heartbeat_seat(&seat.session_id, &seat.signed_token)
        .await
        .unwrap();
    assert_eq!(hb.session_id, seat.session_id);
    w.client
        .release_seat(&seat.session_id, &seat.signed_token)
        .await
        .unwrap();
    let gone = w
        .client
        .heartbeat_seat(&seat.session_id, &seat.signed_token)
        .await
        .unwrap_err();
    assert_eq!(
        (gone.status(), gone.code()),
        (Some(410), Some("SESSION_EXPIRED"))
    );

    // The file verifies offline with the published key, until its TTL.
    let file = w.client.download_license(id).await.unwrap();
    let info = w.client.public_key().await.unwrap();
    for form in [&info.public_key, &info.public_key_hex, &info.public_key_pem] {
        let public = license_file::parse_public_key(form).unwrap();
        let lic = license_file::verify(&file, &public, SystemTime::now()).unwrap();
        assert_eq!((lic.license_id.as_str(), lic.key.as_str()), (id, key));
        assert_eq!(lic.kid, info.kid);
    }
    let public = license_file::parse_public_key(&info.public_key).unwrap();
    // Whichever ends first — the file's TTL or the license (a trial here) — ends
    // the offline check.
    let lic = license_file::verify_signature(&file, &public).unwrap();
    let at = |secs: i64| SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64);
    let (first_end, why) = if lic.file_expires_at < lic.valid_until() {
        (
            lic.file_expires_at,
            LicenseFileError::FileExpired(lic.file_expires_at),
        )
    } else {
        (
            lic.valid_until(),
            LicenseFileError::Expired(lic.valid_until()),
        )
    };
    assert!(license_file::verify(&file, &public, at(first_end - 1)).is_ok());
    assert_eq!(
        license_file::verify(&file, &public, at(first_end)),
        Err(why)
    );
    let mut other = public;
    other[0] ^= 1;
    assert!(license_file::verify(&file, &other, SystemTime::now()).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_records_reach_the_server_only_as_ciphertext() {
    let w = world("crypto@acme.test").await;
    let key =
        EncryptionKey::derive(b"a passphrase only ada knows", b"crypto@acme.test/notes").unwrap();
    let plaintext = b"meeting notes: the launch moves to Tuesday";
    let record = w
        .client
        .put_encrypted("notes", plaintext, &key)
        .await
        .unwrap();

    // What the server stores differs from the plaintext, contains none of it,
    // and its checksum is the ciphertext's.
    let stored = w.client.get_record(&record.id).await.unwrap();
    assert_ne!(stored, plaintext);
    assert!(
        !stored
            .windows(8)
            .any(|win| plaintext.windows(8).any(|p| p == win))
    );
    assert_eq!(record.checksum, sha256_hex(&stored));
    assert_eq!(record.size as usize, stored.len());

    // Only the key opens it.
    assert_eq!(
        w.client.get_decrypted(&record.id, &key).await.unwrap(),
        plaintext
    );
    let wrong = EncryptionKey::derive(b"a guess", b"crypto@acme.test/notes").unwrap();
    assert!(matches!(
        w.client.get_decrypted(&record.id, &wrong).await,
        Err(Error::Crypto(CryptoError::Decrypt))
    ));

    // A tampered blob (one bit, stored with a matching checksum) is a typed error.
    let mut tampered = stored.clone();
    tampered[20] ^= 0x01;
    w.client
        .replace_record(&record.id, &tampered, Some(&record.checksum))
        .await
        .unwrap();
    assert!(matches!(
        w.client.get_decrypted(&record.id, &key).await,
        Err(Error::Crypto(CryptoError::Decrypt))
    ));
    // A stale If-Match is refused.
    let err = w
        .client
        .replace_record(&record.id, &stored, Some(&record.checksum))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(412), "{err}");

    w.client.delete_record(&record.id).await.unwrap();
    let err = w.client.get_record(&record.id).await.unwrap_err();
    assert_eq!(err.status(), Some(404));

    // Backups: sealed on push, opened on pull, listed in history.
    let created = w
        .client
        .push_backup_encrypted("1.0.0", 1_700_000_000_000, b"the whole database", &key)
        .await
        .unwrap();
    let pulled = w.client.pull_backup().await.unwrap();
    assert_ne!(pulled.bytes, b"the whole database");
    assert_eq!(pulled.checksum, created.checksum);
    let opened = w.client.pull_backup_decrypted(&key).await.unwrap();
    assert_eq!(opened.bytes, b"the whole database");
    assert_eq!(
        (opened.version.as_str(), opened.timestamp),
        ("1.0.0", 1_700_000_000_000)
    );
    let history = w.client.backup_history().await.unwrap();
    assert_eq!(history[0].id, created.id);
    w.client.delete_backup(&created.id).await.unwrap();
    assert!(w.client.backup_history().await.unwrap().is_empty());
}

/// The `(done, total)` reports a watched client made, in order.
type Reports = Arc<std::sync::Mutex<Vec<(u64, Option<u64>)>>>;

/// A progress watcher and what it was told.
fn watcher() -> (impl Fn(u64, Option<u64>) + Send + Sync + 'static, Reports) {
    let seen = Arc::new(std::sync::Mutex::new(vec![]));
    let into = seen.clone();
    (
        move |done, total| into.lock().unwrap().push((done, total)),
        seen,
    )
}

/// Every report of one transfer: from 0, never backwards, ending at the total.
fn one_whole_transfer(seen: &[(u64, Option<u64>)], total: u64) {
    assert_eq!(seen.first(), Some(&(0, Some(total))), "{seen:?}");
    assert_eq!(seen.last(), Some(&(total, Some(total))), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "{seen:?}");
}

/// An upload goes out in chunks (how a download arrives is up to the network).
fn in_chunks(seen: &[(u64, Option<u64>)]) {
    assert!(seen.len() > 2, "reported as it went: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_transfers_arrive_whole_and_report_every_byte() {
    let w = world("progress@acme.test").await;
    let key = EncryptionKey::from_bytes(&[7; 32]).unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 31 % 251) as u8).collect();

    // A backup pushed in counted chunks: the server's SHA-256 check passes, so
    // every byte arrived once; the pull counts against Content-Length.
    let (watch, seen) = watcher();
    let watched = w.client.with_progress(watch);
    let created = watched
        .push_backup_encrypted("2.0.0", 1_700_000_000_000, &data, &key)
        .await
        .unwrap();
    let upload = std::mem::take(&mut *seen.lock().unwrap());
    one_whole_transfer(&upload, created.size);
    in_chunks(&upload);
    let pulled = watched.pull_backup_decrypted(&key).await.unwrap();
    assert_eq!(pulled.bytes, data);
    one_whole_transfer(&std::mem::take(&mut *seen.lock().unwrap()), created.size);

    // A record: its JSON body counted up, its bytes counted down.
    let record = watched
        .put_encrypted("files", &data[..100_000], &key)
        .await
        .unwrap();
    let upload = std::mem::take(&mut *seen.lock().unwrap());
    let body_len = upload.last().unwrap().0;
    assert!(body_len > record.size, "base64 in JSON: {body_len}");
    one_whole_transfer(&upload, body_len);
    in_chunks(&upload);
    assert_eq!(
        watched.get_decrypted(&record.id, &key).await.unwrap(),
        &data[..100_000]
    );
    one_whole_transfer(&std::mem::take(&mut *seen.lock().unwrap()), record.size);

    // The client it was made from reports nothing.
    w.client.get_decrypted(&record.id, &key).await.unwrap();
    w.client.pull_backup().await.unwrap();
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vectors_and_memory() {
    let w = world("memory@acme.test").await;
    let items = [
        VectorItem {
            id: "a".into(),
            blob: b"ciphertext a".to_vec(),
            vector: Some(vec![1.0, 0.0, 0.0]),
        },
        VectorItem {
            id: "b".into(),
            blob: b"ciphertext b".to_vec(),
            vector: Some(vec![0.0, 1.0, 0.0]),
        },
    ];
    assert_eq!(w.client.upsert_vectors(&items).await.unwrap(), 2);
    let hits = w.client.search_vectors(&[0.9, 0.1, 0.0], 1).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].id.as_str(), &hits[0].blob[..]),
        ("a", &b"ciphertext a"[..])
    );
    assert_eq!(w.client.delete_vectors(&["a", "b", "c"]).await.unwrap(), 2);

    let pg = w
        .client
        .store_memory(
            &NewMemory::new("We chose PostgreSQL for the ledger")
                .tags(["db"])
                .importance(0.8),
        )
        .await
        .unwrap();
    let sqlite = w
        .client
        .store_memory(&NewMemory::new("SQLite keeps the local cache"))
        .await
        .unwrap();
    let hits = w
        .client
        .recall(&RecallQuery::text("PostgreSQL ledger"))
        .await
        .unwrap();
    assert_eq!(hits[0].id, pg.memory_id, "{hits:?}");
    assert_eq!(hits[0].memory.tags, ["db"]);
    w.client
        .associate(&pg.memory_id, &sqlite.memory_id, "RELATES_TO", 0.7)
        .await
        .unwrap();
    let err = w
        .client
        .associate(
            &pg.memory_id,
            "00000000-0000-0000-0000-000000000000",
            "RELATES_TO",
            0.7,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    assert!(matches!(
        w.client.associate("a", "b", "RELATES_TO", 2.0).await,
        Err(Error::InvalidInput(_))
    ));
}
