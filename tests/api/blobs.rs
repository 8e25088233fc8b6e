//! The filesystem adapter's signed URLs, served by the local server.

use skiff_core::ports::blobs::{BlobKey, SignedOp};
use skiff_e2e::spawn_app;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_urls_upload_and_download_and_expire() {
    let app = spawn_app().await;
    let blobs = &app.services().blobs;
    let key = BlobKey::parse("org_1/backups/2026-11-22.bin").unwrap();

    let put = blobs
        .signed_url(&key, SignedOp::Put, Duration::from_secs(300))
        .await
        .unwrap();
    assert!(put.url.starts_with(&app.address), "{}", put.url);
    let r = app
        .client
        .put(&put.url)
        .body("encrypted bytes")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());

    let get = blobs
        .signed_url(&key, SignedOp::Get, Duration::from_secs(300))
        .await
        .unwrap();
    let r = app.client.get(&get.url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "encrypted bytes");

    // Tampering with the key is refused.
    let tampered = get.url.replace("2026-11-22", "2026-11-23");
    let r = app.client.get(&tampered).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    // After the TTL the URL is dead.
    app.advance_clock(Duration::from_secs(301)).await;
    let r = app.client.get(&get.url).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "SIGNATURE_REJECTED");
    app.stop().await;
}
