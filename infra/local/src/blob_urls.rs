//! The HTTP side of the filesystem blob store's signed URLs:
//! `GET /_blobs/{bucket}/{*key}` downloads and `PUT /_blobs/{bucket}/{*key}`
//! uploads, each allowed only by a valid, unexpired `op`/`exp`/`sig` query (see
//! [`FsBlobStore::verify_signed`]). The local server mounts this router beside the
//! API; on AWS clients talk to S3's presigned URLs instead.
//!
//! Answers: 403 `SIGNATURE_REJECTED` for a missing, tampered, expired or wrong-method
//! URL; 404 for an unknown bucket or blob; 500 `BLOB_CORRUPT` when the stored bytes
//! fail their SHA-256 check (they are never served); 413 past the size limit; 400
//! `CHECKSUM_MISMATCH` when a client-sent `x-amz-checksum-sha256` does not match.

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures::StreamExt;
use skiff_adapters::fs_blobs::{DEFAULT_CONTENT_TYPE, FsBlobStore};
use skiff_core::ports::blobs::{BlobError, BlobKey, BlobMeta, BlobStore, Expected, SignedOp};
use skiff_http::error::{ApiError, Problem};
use std::collections::HashMap;
use std::sync::Arc;

/// Route prefix; `services.rs` builds each bucket's `url_base` as
/// `{public_url}/_blobs/{name}`.
pub const ROUTE: &str = "/_blobs/{bucket}/{*key}";
/// The S3-compatible header carrying a base64 SHA-256 of the body.
pub use skiff_core::ports::blobs::CHECKSUM_HEADER;
/// Why a streamed upload stopped at the size limit.
const TOO_LARGE: &str = "upload over the size limit";

/// Upload size limit used when the caller has no better figure.
pub const DEFAULT_MAX_PUT_BYTES: usize = 64 * 1024 * 1024;

#[derive(Clone)]
struct BlobUrls {
    buckets: Arc<HashMap<String, Arc<FsBlobStore>>>,
    max_put_bytes: usize,
}

/// The query of a signed URL; a signed upload also names the size and SHA-256 the
/// body must have.
#[derive(Debug, serde::Deserialize)]
struct Signed {
    op: SignedOp,
    exp: i64,
    sig: String,
    size: Option<u64>,
    sha256: Option<String>,
}

/// What a signed upload's URL binds the body to.
struct Bound {
    size: u64,
    sha256: String,
}

/// A router answering signed URLs for the given buckets (name → store); uploads
/// larger than `max_put_bytes` are refused with 413.
pub fn router(buckets: HashMap<String, Arc<FsBlobStore>>, max_put_bytes: usize) -> Router {
    Router::new()
        .route(ROUTE, get(download).put(upload))
        .with_state(BlobUrls {
            buckets: Arc::new(buckets),
            max_put_bytes,
        })
}

impl BlobUrls {
    /// Bucket, key and signature checks shared by both methods.
    fn authorize(
        &self,
        path: Result<Path<(String, String)>, PathRejection>,
        query: Result<Query<Signed>, QueryRejection>,
        op: SignedOp,
    ) -> Result<(Arc<FsBlobStore>, BlobKey, Option<Bound>), ApiError> {
        let Path((bucket, key)) =
            path.map_err(|e| ApiError::bad_request("INVALID_PATH", e.body_text()))?;
        let store = self
            .buckets
            .get(&bucket)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("no blob bucket `{bucket}`")))?;
        let key = BlobKey::parse(key)?;
        let Query(signed) = query.map_err(|_| {
            ApiError::from(BlobError::SignatureRejected(
                "missing or malformed signature parameters",
            ))
        })?;
        if signed.op != op {
            return Err(BlobError::SignatureRejected("URL not signed for this method").into());
        }
        let bound = match (op, signed.size, signed.sha256) {
            (SignedOp::Put, Some(size), Some(sha256)) => {
                store.verify_signed_upload(&key, signed.exp, size, &sha256, &signed.sig)?;
                Some(Bound { size, sha256 })
            }
            (_, None, None) => {
                store.verify_signed(&key, op, signed.exp, &signed.sig)?;
                None
            }
            _ => return Err(BlobError::SignatureRejected("bad signature").into()),
        };
        Ok((store, key, bound))
    }
}

/// Map a store error to the route's answer (corruption gets its own code).
fn refusal(e: BlobError) -> ApiError {
    match e {
        BlobError::Corrupt { ref key, .. } => {
            tracing::error!(error = %e, key = %key, "refusing to serve a corrupt blob");
            ApiError::Custom(Box::new(Problem {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "BLOB_CORRUPT".into(),
                title: "Blob corrupt".into(),
                detail: "The stored blob failed its integrity check and was not served.".into(),
                extra: Default::default(),
            }))
        }
        other => other.into(),
    }
}

/// Integrity headers of a stored blob: base64 SHA-256 and a strong ETag.
fn integrity_headers(meta: &BlobMeta, headers: &mut HeaderMap) {
    if let Ok(raw) = hex::decode(&meta.sha256)
        && let Ok(v) = HeaderValue::from_str(&BASE64.encode(raw))
    {
        headers.insert(CHECKSUM_HEADER, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", meta.sha256)) {
        headers.insert(header::ETAG, v);
    }
}

async fn download(
    State(urls): State<BlobUrls>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<Signed>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (store, key, _) = urls.authorize(path, query, SignedOp::Get)?;
    let blob = store.get(&key).await.map_err(refusal)?;
    let mut response = blob.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&blob.meta.content_type)
            .unwrap_or(HeaderValue::from_static(DEFAULT_CONTENT_TYPE)),
    );
    // User content on the API's origin: never let a browser run it.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    integrity_headers(&blob.meta, headers);
    Ok(response)
}

async fn upload(
    State(urls): State<BlobUrls>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<Signed>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (store, key, bound) = urls.authorize(path, query, SignedOp::Put)?;
    if let Some(bound) = &bound {
        // As S3 does for a presigned PUT with a signed checksum: the header must be
        // sent, and say what the URL was signed for.
        let sent = headers
            .get(CHECKSUM_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(skiff_core::ports::blobs::sha256_from_base64);
        if sent.as_deref() != Some(bound.sha256.as_str()) {
            return Err(BlobError::SignatureRejected(
                "this upload needs the signed x-amz-checksum-sha256 header",
            )
            .into());
        }
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > urls.max_put_bytes as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    let sent = match headers.get(CHECKSUM_HEADER) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(skiff_core::ports::blobs::sha256_from_base64)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "INVALID_CHECKSUM",
                        format!("{CHECKSUM_HEADER} must be a base64 SHA-256"),
                    )
                })?,
        ),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(DEFAULT_CONTENT_TYPE)
        .to_owned();
    // Streamed to the store, which checks the size and SHA-256 and stores
    // nothing otherwise; past the size limit the stream itself fails.
    let limit = urls.max_put_bytes as u64;
    let mut seen = 0u64;
    let stream: skiff_core::ports::blobs::ByteStream =
        Box::pin(body.into_data_stream().map(move |chunk| {
            let chunk = chunk.map_err(|e| BlobError::Body(e.to_string()))?;
            seen += chunk.len() as u64;
            if seen > limit {
                return Err(BlobError::Body(TOO_LARGE.into()));
            }
            Ok(chunk)
        }));
    let expected = Expected {
        size: bound.as_ref().map(|b| b.size),
        sha256: sent,
    };
    let meta = store
        .put_stream(&key, stream, &content_type, expected)
        .await
        .map_err(|e| match e {
            BlobError::Body(why) if why == TOO_LARGE => ApiError::PayloadTooLarge,
            BlobError::Body(_) => {
                ApiError::bad_request("BODY_UNREADABLE", "the request body could not be read")
            }
            BlobError::Invalid(detail) => ApiError::bad_request("INVALID_BLOB", detail),
            other => refusal(other),
        })?;
    let mut response = (StatusCode::OK, axum::Json(&meta)).into_response();
    integrity_headers(&meta, response.headers_mut());
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use skiff_core::clock::FixedClock;
    use skiff_core::ports::secrets::SecretValue;
    use std::time::Duration;
    use tower::ServiceExt;

    const BASE: &str = "http://skiff.test";

    struct Fixture {
        _dir: tempfile::TempDir,
        blobs: Arc<FsBlobStore>,
        exports: Arc<FsBlobStore>,
        app: Router,
    }

    fn fixture(max_put_bytes: usize) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let clock = FixedClock::at(time::macros::datetime!(2026-01-01 00:00 UTC));
        let open = |name: &str| {
            Arc::new(
                FsBlobStore::open(
                    dir.path().join(name),
                    format!("{BASE}/_blobs/{name}"),
                    SecretValue::new("k".repeat(64)),
                    clock.clone(),
                )
                .unwrap(),
            )
        };
        let (blobs, exports) = (open("blobs"), open("exports"));
        let app = router(
            HashMap::from([
                ("blobs".to_owned(), blobs.clone()),
                ("exports".to_owned(), exports.clone()),
            ]),
            max_put_bytes,
        );
        Fixture {
            _dir: dir,
            blobs,
            exports,
            app,
        }
    }

    fn key(k: &str) -> BlobKey {
        BlobKey::parse(k).unwrap()
    }

    async fn url(store: &FsBlobStore, k: &str, op: SignedOp) -> String {
        let signed = store
            .signed_url(&key(k), op, Duration::from_secs(60))
            .await
            .unwrap();
        signed.url.strip_prefix(BASE).unwrap().to_owned()
    }

    async fn send(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, bytes::Bytes) {
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, headers, body)
    }

    fn code(body: &[u8]) -> String {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        v["code"].as_str().unwrap().to_owned()
    }

    fn get_req(uri: &str) -> Request<Body> {
        Request::get(uri).body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn get_serves_bytes_with_type_and_checksum() {
        let f = fixture(1024);
        let meta = f
            .blobs
            .put(&key("a/b.txt"), "hello".into(), "text/plain")
            .await
            .unwrap();
        let (status, headers, body) = send(
            &f.app,
            get_req(&url(&f.blobs, "a/b.txt", SignedOp::Get).await),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&body[..], b"hello");
        assert_eq!(headers[header::CONTENT_TYPE], "text/plain");
        assert_eq!(headers[header::ETAG], format!("\"{}\"", meta.sha256));
        let sent = BASE64.decode(headers[CHECKSUM_HEADER].as_bytes()).unwrap();
        assert_eq!(hex::encode(sent), meta.sha256);
    }

    #[tokio::test]
    async fn put_stores_the_body_and_verifies_a_sent_checksum() {
        let f = fixture(1024);
        let uri = url(&f.blobs, "up/file", SignedOp::Put).await;
        let good =
            BASE64.encode(hex::decode(skiff_core::ports::blobs::sha256_hex(b"data")).unwrap());
        let request = Request::put(&uri)
            .header(header::CONTENT_TYPE, "application/x-test")
            .header(CHECKSUM_HEADER, &good)
            .body(Body::from("data"))
            .unwrap();
        let (status, headers, body) = send(&f.app, request).await;
        assert_eq!(status, StatusCode::OK, "{body:?}");
        assert_eq!(headers[CHECKSUM_HEADER], good.as_str());
        let stored = f.blobs.get(&key("up/file")).await.unwrap();
        assert_eq!(&stored.bytes[..], b"data");
        assert_eq!(stored.meta.content_type, "application/x-test");

        // A checksum of other bytes: refused, and the stored blob is unchanged.
        let request = Request::put(&uri)
            .header(CHECKSUM_HEADER, &good)
            .body(Body::from("other"))
            .unwrap();
        let (status, _, body) = send(&f.app, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(code(&body), "CHECKSUM_MISMATCH");
        let request = Request::put(&uri)
            .header(CHECKSUM_HEADER, "not base64!")
            .body(Body::from("other"))
            .unwrap();
        let (status, _, body) = send(&f.app, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(code(&body), "INVALID_CHECKSUM");
        assert_eq!(
            &f.blobs.get(&key("up/file")).await.unwrap().bytes[..],
            b"data"
        );
    }

    #[tokio::test]
    async fn put_over_the_size_limit_is_refused() {
        let f = fixture(8);
        let uri = url(&f.blobs, "big", SignedOp::Put).await;
        // Declared length over the limit.
        let (status, _, body) = send(
            &f.app,
            Request::put(&uri).body(Body::from("123456789")).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(code(&body), "PAYLOAD_TOO_LARGE");
        // No declared length: the limit applies while reading.
        let stream = futures::stream::iter(vec![
            Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"12345")),
            Ok(bytes::Bytes::from_static(b"67890")),
        ]);
        let (status, _, _) = send(
            &f.app,
            Request::put(&uri).body(Body::from_stream(stream)).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(f.blobs.head(&key("big")).await.unwrap().is_none());
        // At the limit: accepted.
        let (status, _, _) = send(
            &f.app,
            Request::put(&uri).body(Body::from("12345678")).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_url_works_only_for_its_method_and_bucket() {
        let f = fixture(1024);
        f.blobs.put(&key("k"), "v".into(), "").await.unwrap();
        f.exports.put(&key("k"), "w".into(), "").await.unwrap();
        let get_url = url(&f.blobs, "k", SignedOp::Get).await;
        let (status, _, body) = send(
            &f.app,
            Request::put(&get_url).body(Body::from("x")).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(code(&body), "SIGNATURE_REJECTED");
        // The same query on the other bucket's path.
        let other = get_url.replacen("/_blobs/blobs/", "/_blobs/exports/", 1);
        let (status, _, body) = send(&f.app, get_req(&other)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(code(&body), "SIGNATURE_REJECTED");
        assert_eq!(&f.blobs.get(&key("k")).await.unwrap().bytes[..], b"v");
    }

    #[tokio::test]
    async fn unsigned_unknown_and_missing_are_refused() {
        let f = fixture(1024);
        let (status, _, body) = send(&f.app, get_req("/_blobs/blobs/k")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(code(&body), "SIGNATURE_REJECTED");
        let (status, _, body) = send(&f.app, get_req("/_blobs/blobs/k?op=get&exp=1")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(code(&body), "SIGNATURE_REJECTED");
        let (status, _, body) = send(&f.app, get_req("/_blobs/nope/k?op=get&exp=1&sig=00")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(code(&body), "NOT_FOUND");
        // Validly signed, but nothing stored there.
        let (status, headers, body) = send(
            &f.app,
            get_req(&url(&f.blobs, "absent", SignedOp::Get).await),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(code(&body), "NOT_FOUND");
        let (status, _, body) =
            send(&f.app, get_req("/_blobs/blobs/a/../b?op=get&exp=1&sig=00")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(code(&body), "INVALID_KEY");
    }

    #[tokio::test]
    async fn a_corrupt_blob_is_not_served() {
        let f = fixture(1024);
        f.blobs.put(&key("c"), "precious".into(), "").await.unwrap();
        let path = f.blobs.path_of(&key("c")).unwrap();
        let mut raw = std::fs::read(&path).unwrap();
        *raw.last_mut().unwrap() ^= 0x01;
        std::fs::write(&path, raw).unwrap();
        let (status, _, body) =
            send(&f.app, get_req(&url(&f.blobs, "c", SignedOp::Get).await)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(code(&body), "BLOB_CORRUPT");
        assert!(!String::from_utf8_lossy(&body).contains("precious"));
    }
}
