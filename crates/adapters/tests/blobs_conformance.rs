//! Conformance suite of the blob port: every case is written once against a
//! [`Harness`] and runs on the filesystem adapter (always, on a temp dir) and on the
//! S3 adapter (against the moto emulator started by `scripts/with-moto.sh`).
//! Adapter-specific checks (the filesystem signed-URL refusals, S3's presigned query
//! and encryption) follow in their own modules.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bytes::Bytes;
use skiff_adapters::fs_blobs::FsBlobStore;
use skiff_adapters::s3_blobs::S3BlobStore;
use skiff_core::clock::{Clock, FixedClock};
use skiff_core::ports::blobs::*;
use skiff_core::ports::secrets::SecretValue;
use skiff_local::blob_urls;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// Origin of the filesystem store's signed URLs in these tests.
const FS_ORIGIN: &str = "http://skiff.test";

/// One store under test plus what the cases need to reach around it.
struct Harness {
    store: Arc<dyn BlobStore>,
    clock: Arc<FixedClock>,
    backend: Backend,
}

enum Backend {
    Fs {
        _dir: tempfile::TempDir,
        fs: Arc<FsBlobStore>,
        router: axum::Router,
    },
    S3 {
        client: aws_sdk_s3::Client,
        bucket: String,
    },
}

fn now_clock() -> Arc<FixedClock> {
    FixedClock::at(time::OffsetDateTime::now_utc())
}

impl Harness {
    async fn fs() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = now_clock();
        let fs = Arc::new(
            FsBlobStore::open(
                dir.path().join("blobs"),
                format!("{FS_ORIGIN}/_blobs/blobs"),
                SecretValue::new(hex::encode(rand::random::<[u8; 32]>())),
                clock.clone(),
            )
            .expect("open the filesystem store"),
        );
        let router = blob_urls::router(
            HashMap::from([("blobs".to_owned(), fs.clone())]),
            blob_urls::DEFAULT_MAX_PUT_BYTES,
        );
        Harness {
            store: fs.clone(),
            clock,
            backend: Backend::Fs {
                _dir: dir,
                fs,
                router,
            },
        }
    }

    async fn s3() -> Self {
        let sdk = skiff_adapters::testing::aws_sdk_config().await;
        let client = skiff_adapters::aws::s3_client(&sdk, true);
        let bucket = skiff_adapters::testing::unique_name("blobs");
        skiff_adapters::provision::create_bucket(&client, &bucket)
            .await
            .expect("create the test bucket");
        let clock = now_clock();
        Harness {
            store: Arc::new(S3BlobStore::new(
                client.clone(),
                bucket.clone(),
                clock.clone(),
            )),
            clock,
            backend: Backend::S3 { client, bucket },
        }
    }

    /// Change the stored bytes behind the adapter's back, keeping the recorded
    /// SHA-256 (flip a byte in the file; overwrite the object with old metadata).
    async fn corrupt(&self, key: &BlobKey) {
        match &self.backend {
            Backend::Fs { fs, .. } => {
                let path = fs.path_of(key).unwrap();
                let mut raw = std::fs::read(&path).unwrap();
                *raw.last_mut().expect("a non-empty blob") ^= 0x20;
                std::fs::write(&path, raw).unwrap();
            }
            Backend::S3 { client, bucket } => {
                let old = client
                    .head_object()
                    .bucket(bucket)
                    .key(key.as_str())
                    .send()
                    .await
                    .unwrap();
                assert!(old.metadata().is_some_and(|m| m.contains_key("sha256")));
                client
                    .put_object()
                    .bucket(bucket)
                    .key(key.as_str())
                    .set_metadata(old.metadata().cloned())
                    .set_content_type(old.content_type().map(str::to_owned))
                    .body(Bytes::from_static(b"tampered content").into())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// Use a signed URL as a client would: through the blob router (filesystem) or
    /// plain HTTP (S3 on the emulator). Returns the status and the body.
    async fn fetch(&self, url: &SignedUrl, body: Option<Bytes>) -> (u16, Bytes) {
        match &self.backend {
            Backend::Fs { router, .. } => {
                let uri = url.url.strip_prefix(FS_ORIGIN).expect("the store's origin");
                let request = Request::builder()
                    .method(url.method.as_str())
                    .uri(uri)
                    .header("content-type", "application/x-signed-test")
                    .body(body.map(Body::from).unwrap_or_else(Body::empty))
                    .unwrap();
                let response = router.clone().oneshot(request).await.unwrap();
                let status = response.status().as_u16();
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .unwrap();
                (status, bytes)
            }
            Backend::S3 { .. } => {
                let method = reqwest::Method::from_bytes(url.method.as_bytes()).unwrap();
                let mut request = reqwest::Client::new().request(method, &url.url);
                if let Some(body) = body {
                    request = request.body(body);
                }
                let response = request.send().await.expect("emulator reachable");
                let status = response.status().as_u16();
                (status, response.bytes().await.unwrap())
            }
        }
    }
}

impl Harness {
    /// Send a signed upload as a client would, with `headers` (by default the ones
    /// the store asked for): the status.
    async fn upload(
        &self,
        up: &SignedUpload,
        body: Bytes,
        headers: &std::collections::BTreeMap<String, String>,
    ) -> u16 {
        match &self.backend {
            Backend::Fs { router, .. } => {
                let uri = up.url.strip_prefix(FS_ORIGIN).expect("the store's origin");
                let mut request = Request::builder().method("PUT").uri(uri);
                for (k, v) in headers {
                    request = request.header(k.as_str(), v.as_str());
                }
                let response = router
                    .clone()
                    .oneshot(request.body(Body::from(body)).unwrap())
                    .await
                    .unwrap();
                response.status().as_u16()
            }
            Backend::S3 { .. } => {
                let mut request = reqwest::Client::new().put(&up.url).body(body);
                for (k, v) in headers {
                    if k != "content-length" {
                        request = request.header(k.as_str(), v.as_str());
                    }
                }
                request
                    .send()
                    .await
                    .expect("emulator reachable")
                    .status()
                    .as_u16()
            }
        }
    }
}

/// `bytes` as a stream of `chunk`-sized pieces.
fn chunked(bytes: Bytes, chunk: usize) -> ByteStream {
    let pieces: Vec<Result<Bytes, BlobError>> = (0..bytes.len())
        .step_by(chunk)
        .map(|i| Ok(bytes.slice(i..(i + chunk).min(bytes.len()))))
        .collect();
    Box::pin(futures::stream::iter(pieces))
}

/// Everything a streamed read yields, or its first error.
async fn collect(reader: BlobReader) -> Result<Bytes, BlobError> {
    use futures::TryStreamExt;
    let chunks: Vec<Bytes> = reader.body.try_collect().await?;
    Ok(Bytes::from(chunks.concat()))
}

fn key(raw: &str) -> BlobKey {
    BlobKey::parse(raw).unwrap()
}

/// Distinct, recognisable payloads (the index is repeated through the content).
fn payload(i: usize, len: usize) -> Bytes {
    let mut v = format!("payload-{i:02}|").into_bytes().repeat(len / 11 + 1);
    v.truncate(len);
    Bytes::from(v)
}

// ---------------------------------------------------------------- the cases

async fn put_get_round_trip(h: &Harness) {
    let s = &*h.store;
    let k = key("org-1/records/r1.bin");
    let bytes = payload(1, 100_000);
    let meta = s
        .put(&k, bytes.clone(), "application/octet-stream")
        .await
        .unwrap();
    assert_eq!(meta.key, k);
    assert_eq!(meta.size, 100_000);
    assert_eq!(meta.sha256, sha256_hex(&bytes));
    assert_eq!(meta.content_type, "application/octet-stream");
    let blob = s.get(&k).await.unwrap();
    assert_eq!(blob.bytes, bytes);
    assert_eq!(blob.meta, meta);

    // Empty content and an explicit content type round-trip too.
    let empty = key("org-1/empty");
    let meta = s.put(&empty, Bytes::new(), "text/plain").await.unwrap();
    assert_eq!(
        (meta.size, meta.sha256.as_str()),
        (0, sha256_hex(b"").as_str())
    );
    let blob = s.get(&empty).await.unwrap();
    assert!(blob.bytes.is_empty());
    assert_eq!(blob.meta.content_type, "text/plain");
}

async fn overwrite_replaces_content(h: &Harness) {
    let s = &*h.store;
    let k = key("doc");
    s.put(&k, payload(1, 5000), "text/plain").await.unwrap();
    let second = payload(2, 300);
    let meta = s.put(&k, second.clone(), "application/json").await.unwrap();
    let blob = s.get(&k).await.unwrap();
    assert_eq!(blob.bytes, second);
    assert_eq!(blob.meta, meta);
    assert_eq!(s.head(&k).await.unwrap(), Some(meta));
    assert_eq!(s.list("", 10).await.unwrap(), vec![k]);
}

async fn head_reports_metadata_or_none(h: &Harness) {
    let s = &*h.store;
    let k = key("a/b/c.json");
    assert_eq!(s.head(&k).await.unwrap(), None);
    let meta = s
        .put(&k, Bytes::from_static(b"{\"x\":1}"), "application/json")
        .await
        .unwrap();
    let head = s.head(&k).await.unwrap().expect("present after put");
    assert_eq!(head, meta);
    assert_eq!(head.size, 7);
}

async fn delete_is_idempotent(h: &Harness) {
    let s = &*h.store;
    let k = key("gone/soon");
    s.put(&k, payload(3, 10), "").await.unwrap();
    s.delete(&k).await.unwrap();
    assert!(matches!(s.get(&k).await, Err(BlobError::NotFound(ref nk)) if *nk == k));
    assert_eq!(s.head(&k).await.unwrap(), None);
    s.delete(&k).await.unwrap();
    s.delete(&key("never/existed")).await.unwrap();
    assert!(s.list("", 10).await.unwrap().is_empty());
    // The key can be written again after a delete.
    s.put(&k, payload(4, 10), "").await.unwrap();
    assert_eq!(s.get(&k).await.unwrap().bytes, payload(4, 10));
}

async fn missing_blob_is_not_found(h: &Harness) {
    let s = &*h.store;
    let k = key("nothing/here");
    match s.get(&k).await {
        Err(BlobError::NotFound(missing)) => assert_eq!(missing, k),
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(s.head(&k).await.unwrap(), None);
}

async fn list_by_prefix_sorted(h: &Harness) {
    let s = &*h.store;
    let all = [
        "t/org1/z",
        "t/org1/a",
        "t/org1/b/c",
        "t/org1-b",
        "t/org10/x",
        "t/org2/y",
        "u",
    ];
    for (i, k) in all.iter().enumerate() {
        s.put(&key(k), payload(i, 20), "").await.unwrap();
    }
    let names = |keys: Vec<BlobKey>| keys.into_iter().map(String::from).collect::<Vec<_>>();
    assert_eq!(
        names(s.list("t/org1/", 100).await.unwrap()),
        ["t/org1/a", "t/org1/b/c", "t/org1/z"]
    );
    // Byte order: '-' < '/' < '0'; a prefix need not end at a segment.
    assert_eq!(
        names(s.list("t/org1", 100).await.unwrap()),
        [
            "t/org1-b",
            "t/org1/a",
            "t/org1/b/c",
            "t/org1/z",
            "t/org10/x"
        ]
    );
    assert_eq!(
        names(s.list("t/org1", 2).await.unwrap()),
        ["t/org1-b", "t/org1/a"]
    );
    assert_eq!(
        names(s.list("t/org1/b", 100).await.unwrap()),
        ["t/org1/b/c"]
    );
    assert_eq!(names(s.list("", 100).await.unwrap()).len(), all.len());
    assert_eq!(names(s.list("", 100).await.unwrap())[6], "u");
    assert!(s.list("t/org3", 100).await.unwrap().is_empty());
    assert!(s.list("t/", 0).await.unwrap().is_empty());
}

async fn invalid_keys_rejected(h: &Harness) {
    for bad in [
        "",
        "/abs",
        "..",
        "a/../b",
        "./a",
        "a/",
        "a//b",
        "with space",
        "ü",
        "a\nb",
        "a~b",
    ] {
        assert!(
            matches!(BlobKey::parse(bad), Err(BlobError::InvalidKey(_))),
            "`{bad}` must be refused"
        );
    }
    assert!(BlobKey::parse("x".repeat(1025)).is_err());
    assert!(serde_json::from_str::<BlobKey>("\"../etc/passwd\"").is_err());
    // Prefixes that no key can have list nothing and escape nowhere.
    let s = &*h.store;
    s.put(&key("inside/k"), payload(0, 5), "").await.unwrap();
    for prefix in ["../", "/", "/inside", "inside/../", "..", "inside//"] {
        assert!(
            s.list(prefix, 100).await.unwrap().is_empty(),
            "list(`{prefix}`) must be empty"
        );
    }
}

async fn corruption_is_detected(h: &Harness) {
    let s = &*h.store;
    let k = key("org-9/backup.tar");
    let meta = s
        .put(&k, payload(9, 4096), "application/x-tar")
        .await
        .unwrap();
    h.corrupt(&k).await;
    match s.get(&k).await {
        Err(BlobError::Corrupt {
            key: ck,
            expected,
            actual,
        }) => {
            assert_eq!(ck, k);
            assert_eq!(expected, meta.sha256);
            assert_ne!(actual, expected);
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

async fn signed_urls_round_trip(h: &Harness) {
    let s = &*h.store;
    let now = h.clock.unix();
    let k = key("shared/report(1)!'*.csv");
    let bytes = payload(5, 2048);
    s.put(&k, bytes.clone(), "text/csv").await.unwrap();

    let get = s
        .signed_url(&k, SignedOp::Get, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!((get.method.as_str(), get.expires_at), ("GET", now + 300));
    assert_eq!(h.fetch(&get, None).await, (200, bytes));

    let up = key("shared/upload.bin");
    let put = s
        .signed_url(&up, SignedOp::Put, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!((put.method.as_str(), put.expires_at), ("PUT", now + 60));
    let uploaded = payload(6, 3000);
    let (status, _) = h.fetch(&put, Some(uploaded.clone())).await;
    assert_eq!(status, 200);
    let blob = s.get(&up).await.unwrap();
    assert_eq!(blob.bytes, uploaded);
    assert_eq!(blob.meta.sha256, sha256_hex(&uploaded));
    let head = s.head(&up).await.unwrap().expect("uploaded");
    assert_eq!((head.size, head.sha256), (3000, sha256_hex(&uploaded)));

    // Lifetimes are capped; a zero lifetime is refused.
    let long = s
        .signed_url(&k, SignedOp::Get, MAX_SIGNED_URL_TTL * 3)
        .await
        .unwrap();
    assert_eq!(long.expires_at, now + MAX_SIGNED_URL_TTL.as_secs() as i64);
    assert!(matches!(
        s.signed_url(&k, SignedOp::Get, Duration::ZERO).await,
        Err(BlobError::Invalid(_))
    ));
}

async fn concurrent_writers_one_key(h: &Harness) {
    let k = key("contended/object");
    let payloads: Vec<Bytes> = (0..16).map(|i| payload(i, 64 * 1024 + i)).collect();
    let writers = payloads.iter().cloned().map(|p| {
        let store = h.store.clone();
        let k = k.clone();
        tokio::spawn(async move { store.put(&k, p, "application/octet-stream").await })
    });
    for written in futures::future::join_all(writers).await {
        written.expect("writer task").expect("every write succeeds");
    }
    let blob = h.store.get(&k).await.expect("intact after the race");
    assert!(
        payloads.contains(&blob.bytes),
        "the content is exactly one of the written payloads"
    );
    assert_eq!(blob.meta.sha256, sha256_hex(&blob.bytes));
    assert_eq!(blob.meta.size, blob.bytes.len() as u64);
    assert_eq!(h.store.head(&k).await.unwrap(), Some(blob.meta));
    assert_eq!(h.store.list("", 100).await.unwrap(), vec![k]);
}

/// Larger than one S3 part, so the S3 adapter's multipart path runs too.
const STREAMED_LEN: usize = 9 * 1024 * 1024 + 123;

async fn streamed_put_and_get_round_trip(h: &Harness) {
    let s = &*h.store;
    let bytes = payload(7, STREAMED_LEN);
    let sha = sha256_hex(&bytes);
    for (k, expected) in [
        (
            key("streamed/checked"),
            Expected {
                size: Some(STREAMED_LEN as u64),
                sha256: Some(sha.clone()),
            },
        ),
        (key("streamed/unchecked"), Expected::default()),
    ] {
        let meta = s
            .put_stream(
                &k,
                chunked(bytes.clone(), 300_001),
                "application/x-tar",
                expected,
            )
            .await
            .unwrap();
        assert_eq!(
            (meta.size, meta.sha256.as_str()),
            (STREAMED_LEN as u64, sha.as_str())
        );
        let reader = s.get_stream(&k).await.unwrap();
        assert_eq!(reader.meta.size, STREAMED_LEN as u64);
        assert_eq!(collect(reader).await.unwrap(), bytes);
        assert_eq!(s.get(&k).await.unwrap().bytes, bytes);
    }
    // A small streamed body, and the streamed read of a whole put.
    let small = key("streamed/small");
    let meta = s
        .put_stream(&small, chunked(payload(8, 10), 3), "", Expected::default())
        .await
        .unwrap();
    assert_eq!(meta.sha256, sha256_hex(&payload(8, 10)));
    let whole = key("streamed/whole");
    s.put(&whole, payload(9, 5000), "text/plain").await.unwrap();
    let reader = s.get_stream(&whole).await.unwrap();
    assert_eq!(reader.meta.sha256, sha256_hex(&payload(9, 5000)));
    assert_eq!(collect(reader).await.unwrap(), payload(9, 5000));
    assert!(matches!(
        s.get_stream(&key("streamed/absent")).await,
        Err(BlobError::NotFound(_))
    ));
}

async fn streamed_put_stores_nothing_it_was_not_told(h: &Harness) {
    let s = &*h.store;
    let k = key("streamed/guarded");
    let old = payload(1, 100);
    s.put(&k, old.clone(), "").await.unwrap();
    for len in [1000, STREAMED_LEN] {
        let bytes = payload(2, len);
        let wrong_sha = Expected {
            size: None,
            sha256: Some(sha256_hex(b"something else")),
        };
        assert!(matches!(
            s.put_stream(&k, chunked(bytes.clone(), 65_536), "", wrong_sha)
                .await,
            Err(BlobError::ChecksumMismatch { .. })
        ));
        let wrong_size = Expected {
            size: Some(len as u64 - 1),
            sha256: None,
        };
        assert!(matches!(
            s.put_stream(&k, chunked(bytes.clone(), 65_536), "", wrong_size)
                .await,
            Err(BlobError::SizeMismatch { .. })
        ));
        let short = Expected {
            size: Some(len as u64 + 1),
            sha256: None,
        };
        assert!(matches!(
            s.put_stream(&k, chunked(bytes.clone(), 65_536), "", short)
                .await,
            Err(BlobError::SizeMismatch { .. })
        ));
        // The body breaks off midway (the client went away).
        let broken: ByteStream = Box::pin(futures::stream::iter(vec![
            Ok(bytes.clone()),
            Err(BlobError::Body("connection reset".into())),
        ]));
        assert!(matches!(
            s.put_stream(&k, broken, "", Expected::default()).await,
            Err(BlobError::Body(_))
        ));
        assert_eq!(s.get(&k).await.unwrap().bytes, old, "the old blob stays");
    }
    assert!(s.head(&key("streamed/never")).await.unwrap().is_none());
    let refused = s
        .put_stream(
            &key("streamed/never"),
            chunked(payload(3, 10), 5),
            "",
            Expected {
                size: Some(11),
                sha256: None,
            },
        )
        .await;
    assert!(refused.is_err());
    assert!(s.head(&key("streamed/never")).await.unwrap().is_none());
    assert_eq!(s.list("streamed/", 10).await.unwrap(), vec![k]);
}

async fn streamed_get_detects_corruption(h: &Harness) {
    let k = key("streamed/rotten");
    h.store.put(&k, payload(4, 200_000), "").await.unwrap();
    h.corrupt(&k).await;
    let reader = h.store.get_stream(&k).await.unwrap();
    assert!(matches!(
        collect(reader).await,
        Err(BlobError::Corrupt { .. })
    ));
}

async fn signed_uploads_take_only_the_signed_bytes(h: &Harness) {
    let s = &*h.store;
    let now = h.clock.unix();
    let k = key("uploads/u1");
    let bytes = payload(11, 4096);
    let sha = sha256_hex(&bytes);
    let up = s
        .signed_upload(&k, Duration::from_secs(600), 4096, &sha)
        .await
        .unwrap();
    assert_eq!((up.method.as_str(), up.expires_at), ("PUT", now + 600));
    assert_eq!(
        up.headers.get(CHECKSUM_HEADER).map(String::as_str),
        sha256_base64(&sha).as_deref()
    );
    match &h.backend {
        // The local server refuses what S3 refuses: an upload without the signed
        // checksum header, or with other bytes under it; nothing is stored.
        Backend::Fs { .. } => {
            let mut bare = up.headers.clone();
            bare.remove(CHECKSUM_HEADER);
            assert!(h.upload(&up, bytes.clone(), &bare).await >= 400);
            assert!(s.head(&k).await.unwrap().is_none());
            assert!(h.upload(&up, payload(12, 4096), &up.headers).await >= 400);
            assert!(s.head(&k).await.unwrap().is_none());
        }
        // The emulator checks no presigned signature, so what is proven here is
        // that S3 would: the checksum is a signed header.
        Backend::S3 { .. } => {
            let signed = up
                .url
                .split(['?', '&'])
                .find_map(|kv| kv.strip_prefix("X-Amz-SignedHeaders="))
                .expect("signed headers")
                .replace("%3B", ";")
                .to_ascii_lowercase();
            for header in ["x-amz-checksum-sha256", "content-length"] {
                assert!(
                    signed.split(';').any(|h| h == header),
                    "{header} in {signed}"
                );
            }
        }
    }
    // The signed bytes: stored, with their SHA-256 recorded.
    assert_eq!(h.upload(&up, bytes.clone(), &up.headers).await, 200);
    let head = s.head(&k).await.unwrap().expect("uploaded");
    assert_eq!((head.size, head.sha256.as_str()), (4096, sha.as_str()));
    assert_eq!(s.get(&k).await.unwrap().bytes, bytes);
    assert!(matches!(
        s.signed_upload(&k, Duration::from_secs(60), 1, "not hex")
            .await,
        Err(BlobError::Invalid(_))
    ));
}

async fn readiness_check_passes(h: &Harness) {
    h.store.check().await.expect("a healthy store is ready");
}

skiff_adapters::conformance_suite! {
    adapters { fs => &super::Harness::fs().await, s3 => &super::Harness::s3().await }
    cases {
        put_get_round_trip,
        overwrite_replaces_content,
        head_reports_metadata_or_none,
        delete_is_idempotent,
        missing_blob_is_not_found,
        list_by_prefix_sorted,
        invalid_keys_rejected,
        corruption_is_detected,
        signed_urls_round_trip,
        concurrent_writers_one_key,
        readiness_check_passes,
        streamed_put_and_get_round_trip,
        streamed_put_stores_nothing_it_was_not_told,
        streamed_get_detects_corruption,
        signed_uploads_take_only_the_signed_bytes,
    }
}

// ------------------------------------------------- filesystem-only checks

mod fs_only {
    use super::*;

    fn parts(h: &Harness) -> (&Arc<FsBlobStore>, &axum::Router) {
        match &h.backend {
            Backend::Fs { fs, router, .. } => (fs, router),
            Backend::S3 { .. } => unreachable!(),
        }
    }

    /// GET a (possibly altered) signed path; status and problem code.
    async fn get_code(router: &axum::Router, uri: &str) -> (StatusCode, String) {
        let response = router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let detail = problem["detail"].as_str().unwrap_or_default().to_owned();
        assert!(
            status.is_success() || problem["code"].is_string(),
            "refusals are problem+json"
        );
        (status, detail)
    }

    #[tokio::test]
    async fn expired_url_is_refused() {
        let h = Harness::fs().await;
        let (fs, router) = parts(&h);
        let k = key("expiring");
        fs.put(&k, payload(1, 10), "").await.unwrap();
        let url = fs
            .signed_url(&k, SignedOp::Get, Duration::from_secs(60))
            .await
            .unwrap();
        let uri = url.url.strip_prefix(FS_ORIGIN).unwrap();
        h.clock.advance(Duration::from_secs(59));
        assert_eq!(get_code(router, uri).await.0, StatusCode::OK);
        h.clock.advance(Duration::from_secs(1));
        assert_eq!(
            get_code(router, uri).await,
            (StatusCode::FORBIDDEN, "expired".to_owned())
        );
    }

    #[tokio::test]
    async fn tampered_url_is_refused() {
        let h = Harness::fs().await;
        let (fs, router) = parts(&h);
        for k in ["a/secret", "a/public"] {
            fs.put(&key(k), payload(1, 10), "").await.unwrap();
        }
        let url = fs
            .signed_url(&key("a/public"), SignedOp::Get, Duration::from_secs(60))
            .await
            .unwrap();
        let uri = url.url.strip_prefix(FS_ORIGIN).unwrap().to_owned();
        assert_eq!(get_code(router, &uri).await.0, StatusCode::OK);
        let exp = url.expires_at.to_string();
        let sig = uri.rsplit_once("sig=").unwrap().1.to_owned();
        let mut flipped = sig.clone().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        let tampered = [
            uri.replace("a/public", "a/secret"),
            uri.replace(
                &format!("exp={exp}"),
                &format!("exp={}", url.expires_at + 3600),
            ),
            uri.replace(&sig, &String::from_utf8(flipped).unwrap()),
            uri.replace(&sig, &sig[..32]),
            uri.replace(&sig, "not-hex"),
        ];
        for t in &tampered {
            assert_ne!(t, &uri);
            assert_eq!(
                get_code(router, t).await,
                (StatusCode::FORBIDDEN, "bad signature".to_owned()),
                "{t}"
            );
        }
        // A GET URL turned into a PUT by its `op`: the signature does not cover it.
        let as_put = uri.replace("op=get", "op=put");
        let response = router
            .clone()
            .oneshot(Request::put(&as_put).body(Body::from("x")).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            fs.get(&key("a/public")).await.unwrap().bytes,
            payload(1, 10)
        );
    }

    #[tokio::test]
    async fn verify_signed_checks_signature_then_expiry() {
        let h = Harness::fs().await;
        let (fs, _) = parts(&h);
        let k = key("v");
        let url = fs
            .signed_url(&k, SignedOp::Put, Duration::from_secs(10))
            .await
            .unwrap();
        let sig = url.url.rsplit_once("sig=").unwrap().1;
        fs.verify_signed(&k, SignedOp::Put, url.expires_at, sig)
            .unwrap();
        assert!(matches!(
            fs.verify_signed(&k, SignedOp::Get, url.expires_at, sig),
            Err(BlobError::SignatureRejected("bad signature"))
        ));
        assert!(matches!(
            fs.verify_signed(&key("w"), SignedOp::Put, url.expires_at, sig),
            Err(BlobError::SignatureRejected("bad signature"))
        ));
        h.clock.advance(Duration::from_secs(10));
        assert!(matches!(
            fs.verify_signed(&k, SignedOp::Put, url.expires_at, sig),
            Err(BlobError::SignatureRejected("expired"))
        ));
    }

    #[tokio::test]
    async fn one_file_per_blob_and_no_temp_files_left() {
        let h = Harness::fs().await;
        let (fs, _) = parts(&h);
        let k = key("dir/sub/file");
        fs.put(&k, payload(1, 100), "").await.unwrap();
        fs.put(&k, payload(2, 100), "").await.unwrap();
        let dir = fs.root().join("dir/sub");
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["file~blob"]);
        // The checksum lives in the same file as the bytes.
        let raw = std::fs::read(fs.path_of(&k).unwrap()).unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(text.contains(&sha256_hex(&payload(2, 100))));
        // Deleting prunes the now empty directories.
        fs.delete(&k).await.unwrap();
        assert!(!fs.root().join("dir").exists());
        assert!(fs.root().exists());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_survive_concurrent_pruning_of_directories() {
        // Deleting the last blob of a directory prunes it; writers into that same
        // directory at the same moment must still succeed.
        let h = Harness::fs().await;
        let (fs, _) = parts(&h);
        let tasks = (0..32).map(|i| {
            let fs = fs.clone();
            tokio::spawn(async move {
                for round in 0..20 {
                    let k = key(&format!("deep/er/dir/{}", (i + round) % 4));
                    fs.put(&k, payload(i, 64), "").await?;
                    fs.delete(&k).await?;
                }
                Ok::<_, BlobError>(())
            })
        });
        for t in futures::future::join_all(tasks).await {
            t.unwrap().expect("no write is lost to a pruned directory");
        }
        let k = key("deep/er/dir/final");
        fs.put(&k, payload(1, 8), "").await.unwrap();
        assert_eq!(fs.get(&k).await.unwrap().bytes, payload(1, 8));
    }

    #[tokio::test]
    async fn very_long_segments_are_refused_cleanly() {
        let h = Harness::fs().await;
        let (fs, _) = parts(&h);
        let k = key(&"x".repeat(300));
        assert!(matches!(
            fs.put(&k, payload(1, 1), "").await,
            Err(BlobError::Invalid(_))
        ));
    }
}

// ---------------------------------------------------------- S3-only checks

mod s3_only {
    use super::*;
    use aws_sdk_s3::types::{ChecksumMode, ServerSideEncryption};
    use base64::Engine;

    fn parts(h: &Harness) -> (&aws_sdk_s3::Client, &str) {
        match &h.backend {
            Backend::S3 { client, bucket } => (client, bucket),
            Backend::Fs { .. } => unreachable!(),
        }
    }

    fn query_param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
        url.split_once('?')?
            .1
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    }

    #[tokio::test]
    async fn presigned_urls_carry_expiry_and_signature() {
        let h = Harness::s3().await;
        let (_, bucket) = parts(&h);
        let k = key("p/q");
        for (op, ttl) in [(SignedOp::Get, 900), (SignedOp::Put, 120)] {
            let url = h
                .store
                .signed_url(&k, op, Duration::from_secs(ttl))
                .await
                .unwrap();
            assert!(url.url.contains(&format!("/{bucket}/p/q?")), "{}", url.url);
            assert_eq!(
                query_param(&url.url, "X-Amz-Expires"),
                Some(ttl.to_string().as_str())
            );
            assert_eq!(
                query_param(&url.url, "X-Amz-Algorithm"),
                Some("AWS4-HMAC-SHA256")
            );
            let sig = query_param(&url.url, "X-Amz-Signature").expect("a signature");
            assert_eq!(sig.len(), 64);
            assert!(query_param(&url.url, "X-Amz-Credential").is_some());
            assert_eq!(url.expires_at, h.clock.unix() + ttl as i64);
        }
    }

    #[tokio::test]
    async fn objects_are_encrypted_and_carry_the_sha256() {
        let h = Harness::s3().await;
        let (client, bucket) = parts(&h);
        let k = key("enc/obj");
        let meta = h
            .store
            .put(&k, payload(1, 1000), "text/plain")
            .await
            .unwrap();
        let head = client
            .head_object()
            .bucket(bucket)
            .key(k.as_str())
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        assert_eq!(
            head.server_side_encryption(),
            Some(&ServerSideEncryption::Aes256)
        );
        assert_eq!(
            head.metadata().and_then(|m| m.get("sha256")),
            Some(&meta.sha256)
        );
        let checksum = head
            .checksum_sha256()
            .expect("S3 stored the SHA-256 checksum");
        let raw = base64::engine::general_purpose::STANDARD
            .decode(checksum)
            .unwrap();
        assert_eq!(hex::encode(raw), meta.sha256);
    }

    #[tokio::test]
    async fn list_pages_through_many_objects() {
        let h = Harness::s3().await;
        let (client, bucket) = parts(&h);
        // Write directly (faster), then list more than one ListObjectsV2 page.
        let keys: Vec<String> = (0..1100).map(|i| format!("many/{i:05}")).collect();
        use futures::StreamExt;
        let results: Vec<_> = futures::stream::iter(keys.iter().map(|k| {
            client
                .put_object()
                .bucket(bucket)
                .key(k)
                .body(Bytes::from_static(b"x").into())
                .send()
        }))
        .buffer_unordered(8)
        .collect()
        .await;
        for r in results {
            r.unwrap();
        }
        let listed = h.store.list("many/", 5000).await.unwrap();
        assert_eq!(
            listed.iter().map(BlobKey::as_str).collect::<Vec<_>>(),
            keys.iter().map(String::as_str).collect::<Vec<_>>()
        );
        assert_eq!(h.store.list("many/", 1050).await.unwrap().len(), 1050);
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_unavailable() {
        // Nothing listens on port 1: every attempt fails to connect.
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .endpoint_url("http://127.0.0.1:1")
            .force_path_style(true)
            .build();
        let store = S3BlobStore::new(
            aws_sdk_s3::Client::from_conf(conf),
            "nowhere".into(),
            now_clock(),
        );
        assert!(matches!(
            store.get(&key("k")).await,
            Err(BlobError::Unavailable(_))
        ));
        assert!(matches!(
            store.check().await,
            Err(BlobError::Unavailable(_))
        ));
    }
}
