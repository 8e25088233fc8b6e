//! S3 blob store (the AWS backend).
//!
//! Every PutObject asks for server-side encryption (AES256) and sends the SHA-256
//! of the bytes as the S3 checksum (S3 refuses the upload if the bytes it received
//! differ); the hex SHA-256 is also recorded as object metadata (`x-amz-meta-sha256`).
//! `get` enables checksum mode (the SDK validates S3's stored checksum) and compares
//! the bytes with the recorded SHA-256: a mismatch is [`BlobError::Corrupt`].
//! Objects written by a presigned PUT carry no metadata; for them the S3 checksum,
//! when it is a full-object SHA-256, is the recorded value.
//!
//! Retries are the adapter's own (the SDK's are turned off so attempts do not
//! multiply): transient failures (5xx, throttling, timeouts, dropped connections)
//! are retried by the shared loop ([`sdk_retry`], its standard policy) with
//! full-jitter exponential backoff, then surface as [`BlobError::Unavailable`].

use crate::aws::Lazy;
use crate::fs_blobs::{checked_content_type, method_of, ttl_secs};
use crate::sdk_retry::{self, STANDARD};
use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ServerSideEncryption};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use skiff_core::clock::SharedClock;
use skiff_core::ports::blobs::*;
use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, SystemTime};

/// Object metadata entry holding the hex SHA-256 (`x-amz-meta-sha256` on the wire).
pub const SHA256_METADATA: &str = "sha256";
/// Error codes S3 uses for throttling and passing trouble.
const TRANSIENT_CODES: &[&str] = &[
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "ServiceUnavailable",
    "BadDigest",
];

/// A bucket of blobs in S3.
#[derive(Clone)]
pub struct S3BlobStore {
    client: Lazy<aws_sdk_s3::Client>,
    bucket: String,
    clock: SharedClock,
}

/// How one attempt ended, when it did not succeed.
enum Failure {
    /// Worth another attempt.
    Transient(String),
    /// The answer, whatever the number of attempts.
    Final(BlobError),
}

impl S3BlobStore {
    /// Use `bucket` through `client` (its SDK-level retries are disabled in favour of
    /// the adapter's); `clock` dates presigned URLs.
    /// the adapter's); `clock` dates presigned URLs. The client is made on first use.
    pub fn new(
        client: impl Into<Lazy<aws_sdk_s3::Client>>,
        bucket: String,
        clock: SharedClock,
    ) -> Self {
        let client = client.into();
        Self {
            client: Lazy::new(move || {
                let config = client
                    .config()
                    .to_builder()
                    .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
                    .build();
                aws_sdk_s3::Client::from_conf(config)
            }),
            bucket,
            clock,
        }
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Run `attempt` until it succeeds, fails for good, or runs out of attempts.
    async fn retrying<T, F, Fut>(&self, what: &str, attempt: F) -> Result<T, BlobError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let transient = |f: &Failure| matches!(f, Failure::Transient(_));
        let describe = |f: &Failure| match f {
            Failure::Transient(why) => why.clone(),
            Failure::Final(e) => e.to_string(),
        };
        let failure = sdk_retry::retry_with(STANDARD, what, transient, describe, attempt).await;
        failure.map_err(|gave_up| match gave_up.into_inner() {
            Failure::Final(e) => e,
            Failure::Transient(why) => BlobError::Unavailable(format!(
                "{what} on bucket `{}` failed after {} attempts: {why}",
                self.bucket, STANDARD.attempts
            )),
        })
    }
}

/// Sort an SDK error into transient or final.
fn classify<E>(what: &str, e: SdkError<E>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    // A dispatch failure the caller caused (e.g. a malformed request) repeats.
    let user_error = matches!(&e, SdkError::DispatchFailure(d) if d.is_user());
    let transient = !user_error && sdk_retry::is_transient_with(&e, TRANSIENT_CODES);
    let text = format!("{what}: {}", DisplayErrorContext(&e));
    if transient {
        Failure::Transient(text)
    } else {
        Failure::Final(BlobError::Fatal(text))
    }
}

/// Presigning happens locally: a failure is a bug or bad configuration.
fn presign_failed<E>(what: &'static str) -> impl FnOnce(SdkError<E>) -> BlobError
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |e| BlobError::Fatal(format!("presigning {what}: {}", DisplayErrorContext(&e)))
}

/// HTTP status of a service error, if it is one.
fn status_of<E>(e: &SdkError<E>) -> Option<u16> {
    match e {
        SdkError::ServiceError(ctx) => Some(ctx.raw().status().as_u16()),
        _ => None,
    }
}

/// A full-object SHA-256 checksum (base64) as hex; `None` for composite
/// (multipart, `…-N`) or malformed values.
fn checksum_hex(b64: Option<&str>) -> Option<String> {
    let raw = BASE64.decode(b64?).ok()?;
    (raw.len() == 32).then(|| hex::encode(raw))
}

/// The SHA-256 an object was stored with: the adapter's metadata entry, else a
/// full-object S3 checksum (a presigned PUT's).
fn recorded_sha256(
    metadata: Option<&HashMap<String, String>>,
    checksum_sha256: Option<&str>,
) -> Option<String> {
    metadata
        .and_then(|m| m.get(SHA256_METADATA))
        .cloned()
        .or_else(|| checksum_hex(checksum_sha256))
}

/// The stored content type, or the default for objects stored without one.
fn content_type_or_default(stored: Option<&str>) -> String {
    stored
        .unwrap_or(crate::fs_blobs::DEFAULT_CONTENT_TYPE)
        .to_owned()
}

/// Does an error's chain say the SDK's checksum validation failed?
fn is_checksum_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err
            .to_string()
            .to_ascii_lowercase()
            .contains("checksum mismatch")
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// What GetObject returned, before verification.
struct Fetched {
    bytes: Bytes,
    recorded: Option<String>,
    content_type: String,
}

impl S3BlobStore {
    async fn fetch(&self, key: &BlobKey) -> Result<Fetched, BlobError> {
        self.retrying("GetObject", || async {
            let out = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(key.as_str())
                .checksum_mode(ChecksumMode::Enabled)
                .send()
                .await
                .map_err(|e| {
                    let missing = e.as_service_error().is_some_and(|s| s.is_no_such_key())
                        || status_of(&e) == Some(404);
                    if missing {
                        Failure::Final(BlobError::NotFound(key.clone()))
                    } else {
                        classify("GetObject", e)
                    }
                })?;
            let recorded = recorded_sha256(out.metadata(), out.checksum_sha256());
            let content_type = content_type_or_default(out.content_type());
            let bytes = out.body.collect().await.map_err(|e| {
                if is_checksum_failure(&e) {
                    Failure::Final(BlobError::Corrupt {
                        key: key.clone(),
                        expected: recorded
                            .clone()
                            .unwrap_or_else(|| "S3's stored checksum".into()),
                        actual: "bytes failing S3's checksum validation".into(),
                    })
                } else {
                    Failure::Transient(format!("reading GetObject body: {e}"))
                }
            })?;
            Ok(Fetched {
                bytes: bytes.into_bytes(),
                recorded,
                content_type,
            })
        })
        .await
    }
}

/// Size of the parts of a streamed upload (S3's minimum part is 5 MiB; a body
/// smaller than one part goes up in one PutObject). With S3's limit of 10,000
/// parts, a streamed object may reach about 78 GiB.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

impl S3BlobStore {
    /// One multipart upload: parts of [`PART_SIZE`], each with its SHA-256 (S3
    /// checks every part), the whole object hashed on the way; `expected` is
    /// checked before completion, and any failure aborts the upload, so nothing is
    /// stored.
    async fn multipart(
        &self,
        key: &BlobKey,
        first: Vec<u8>,
        mut body: skiff_core::ports::blobs::ByteStream,
        content_type: &str,
        expected: Expected,
    ) -> Result<BlobMeta, BlobError> {
        use futures::StreamExt;
        use sha2::{Digest, Sha256};
        let create = self
            .retrying("CreateMultipartUpload", || async {
                self.client
                    .create_multipart_upload()
                    .bucket(&self.bucket)
                    .key(key.as_str())
                    .content_type(content_type)
                    .server_side_encryption(ServerSideEncryption::Aes256)
                    .checksum_algorithm(ChecksumAlgorithm::Sha256)
                    .set_metadata(expected.sha256.as_ref().map(|sha| {
                        HashMap::from([(SHA256_METADATA.to_owned(), sha.to_ascii_lowercase())])
                    }))
                    .send()
                    .await
                    .map_err(|e| classify("CreateMultipartUpload", e))
            })
            .await?;
        let upload_id = create
            .upload_id()
            .ok_or_else(|| BlobError::Fatal("CreateMultipartUpload without an upload id".into()))?
            .to_owned();
        let mut whole = Sha256::new();
        let mut size = 0u64;
        let mut parts = vec![];
        let mut buffer = first;
        let uploaded: Result<(), BlobError> = async {
            let mut ended = false;
            while !ended {
                while buffer.len() < PART_SIZE {
                    match body.next().await {
                        Some(chunk) => buffer.extend_from_slice(&chunk?),
                        None => {
                            ended = true;
                            break;
                        }
                    }
                }
                if buffer.is_empty() && !parts.is_empty() {
                    break;
                }
                let part = std::mem::take(&mut buffer);
                size += part.len() as u64;
                if let Some(max) = expected.size.filter(|max| size > *max) {
                    return Err(BlobError::SizeMismatch {
                        expected: max,
                        actual: size,
                    });
                }
                whole.update(&part);
                let number = parts.len() as i32 + 1;
                let checksum = BASE64.encode(Sha256::digest(&part));
                let part = Bytes::from(part);
                let out = self
                    .retrying("UploadPart", || async {
                        self.client
                            .upload_part()
                            .bucket(&self.bucket)
                            .key(key.as_str())
                            .upload_id(&upload_id)
                            .part_number(number)
                            .checksum_algorithm(ChecksumAlgorithm::Sha256)
                            .checksum_sha256(&checksum)
                            .body(ByteStream::from(part.clone()))
                            .send()
                            .await
                            .map_err(|e| classify("UploadPart", e))
                    })
                    .await?;
                parts.push(
                    aws_sdk_s3::types::CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(out.e_tag().map(str::to_owned))
                        .checksum_sha256(checksum)
                        .build(),
                );
            }
            Ok(())
        }
        .await;
        let sha256 = hex::encode(whole.finalize());
        let verdict = uploaded.and_then(|()| check_expected(&expected, size, &sha256));
        if let Err(e) = verdict {
            self.abort(key, &upload_id).await;
            return Err(e);
        }
        let completed = self
            .retrying("CompleteMultipartUpload", || async {
                self.client
                    .complete_multipart_upload()
                    .bucket(&self.bucket)
                    .key(key.as_str())
                    .upload_id(&upload_id)
                    .multipart_upload(
                        aws_sdk_s3::types::CompletedMultipartUpload::builder()
                            .set_parts(Some(parts.clone()))
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| classify("CompleteMultipartUpload", e))
            })
            .await;
        if let Err(e) = completed {
            self.abort(key, &upload_id).await;
            return Err(e);
        }
        Ok(BlobMeta {
            key: key.clone(),
            size,
            sha256,
            content_type: content_type.to_owned(),
        })
    }

    /// Abort an unfinished multipart upload (its parts are then deleted); a
    /// failure is logged: the bucket's lifecycle rule removes what is left.
    async fn abort(&self, key: &BlobKey, upload_id: &str) {
        let aborted = self
            .retrying("AbortMultipartUpload", || async {
                self.client
                    .abort_multipart_upload()
                    .bucket(&self.bucket)
                    .key(key.as_str())
                    .upload_id(upload_id)
                    .send()
                    .await
                    .map_err(|e| classify("AbortMultipartUpload", e))
            })
            .await;
        if let Err(e) = aborted {
            tracing::warn!(bucket = %self.bucket, error = %e, "could not abort a multipart upload");
        }
    }
}

/// `ChecksumMismatch` or `SizeMismatch` unless the body is what was expected.
fn check_expected(expected: &Expected, size: u64, sha256: &str) -> Result<(), BlobError> {
    if let Some(e) = expected.size.filter(|e| *e != size) {
        return Err(BlobError::SizeMismatch {
            expected: e,
            actual: size,
        });
    }
    if let Some(e) = expected
        .sha256
        .as_ref()
        .filter(|e| !e.eq_ignore_ascii_case(sha256))
    {
        return Err(BlobError::ChecksumMismatch {
            expected: e.clone(),
            actual: sha256.to_owned(),
        });
    }
    Ok(())
}

/// Hash the chunks of a downloaded body as they pass; end with `Corrupt` when the
/// whole does not match `recorded`.
fn verified_stream(
    key: BlobKey,
    recorded: Option<String>,
    body: aws_sdk_s3::primitives::ByteStream,
) -> skiff_core::ports::blobs::ByteStream {
    use futures::StreamExt;
    use sha2::{Digest, Sha256};
    struct State {
        body: Option<aws_sdk_s3::primitives::ByteStream>,
        hasher: Sha256,
        key: BlobKey,
        recorded: Option<String>,
    }
    let state = State {
        body: Some(body),
        hasher: Sha256::new(),
        key,
        recorded,
    };
    futures::stream::unfold(state, |mut st| async move {
        let body = st.body.as_mut()?;
        match body.next().await {
            Some(Ok(chunk)) => {
                st.hasher.update(&chunk);
                Some((Ok(chunk), st))
            }
            Some(Err(e)) => {
                st.body = None;
                let err = if is_checksum_failure(&e) {
                    BlobError::Corrupt {
                        key: st.key.clone(),
                        expected: st.recorded.clone().unwrap_or_default(),
                        actual: "bytes failing S3's checksum validation".into(),
                    }
                } else {
                    BlobError::Unavailable(format!("reading GetObject body: {e}"))
                };
                Some((Err(err), st))
            }
            None => {
                st.body = None;
                let actual = hex::encode(std::mem::take(&mut st.hasher).finalize());
                match st.recorded.take() {
                    Some(expected) if expected != actual => Some((
                        Err(BlobError::Corrupt {
                            key: st.key.clone(),
                            expected,
                            actual,
                        }),
                        st,
                    )),
                    _ => None,
                }
            }
        }
    })
    .boxed()
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put_stream(
        &self,
        key: &BlobKey,
        mut body: skiff_core::ports::blobs::ByteStream,
        content_type: &str,
        expected: Expected,
    ) -> Result<BlobMeta, BlobError> {
        use futures::StreamExt;
        let content_type = checked_content_type(content_type)?;
        // Up to one part's worth decides: a small body is one PutObject.
        let mut first = Vec::new();
        while first.len() < PART_SIZE {
            match body.next().await {
                Some(chunk) => first.extend_from_slice(&chunk?),
                None => {
                    let sha256 = sha256_hex(&first);
                    check_expected(&expected, first.len() as u64, &sha256)?;
                    return self.put(key, Bytes::from(first), &content_type).await;
                }
            }
        }
        self.multipart(key, first, body, &content_type, expected)
            .await
    }

    async fn get_stream(&self, key: &BlobKey) -> Result<BlobReader, BlobError> {
        let out = self
            .retrying("GetObject", || async {
                self.client
                    .get_object()
                    .bucket(&self.bucket)
                    .key(key.as_str())
                    .checksum_mode(ChecksumMode::Enabled)
                    .send()
                    .await
                    .map_err(|e| {
                        let missing = e.as_service_error().is_some_and(|s| s.is_no_such_key())
                            || status_of(&e) == Some(404);
                        if missing {
                            Failure::Final(BlobError::NotFound(key.clone()))
                        } else {
                            classify("GetObject", e)
                        }
                    })
            })
            .await?;
        let recorded = recorded_sha256(out.metadata(), out.checksum_sha256());
        let meta = BlobMeta {
            key: key.clone(),
            size: out.content_length().unwrap_or_default().max(0) as u64,
            sha256: recorded.clone().unwrap_or_default(),
            content_type: content_type_or_default(out.content_type()),
        };
        Ok(BlobReader {
            meta,
            body: verified_stream(key.clone(), recorded, out.body),
        })
    }

    async fn signed_upload(
        &self,
        key: &BlobKey,
        ttl: Duration,
        size: u64,
        sha256: &str,
    ) -> Result<SignedUpload, BlobError> {
        let checksum = sha256_base64(sha256)
            .ok_or_else(|| BlobError::Invalid("a signed upload needs a hex SHA-256".into()))?;
        let secs = ttl_secs(ttl)?;
        let now = self.clock.now();
        let config = PresigningConfig::builder()
            .start_time(SystemTime::from(now))
            .expires_in(Duration::from_secs(secs))
            .build()
            .map_err(|e| BlobError::Invalid(format!("presigning: {e}")))?;
        // The checksum and length become signed headers: S3 refuses a request
        // without them, and refuses bytes whose SHA-256 differs.
        let presigned = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_length(size as i64)
            .checksum_sha256(&checksum)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .presigned(config)
            .await
            .map_err(presign_failed("PutObject"))?;
        let mut headers: std::collections::BTreeMap<String, String> = presigned
            .headers()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
            .collect();
        headers.insert(CHECKSUM_HEADER.to_owned(), checksum);
        Ok(SignedUpload {
            url: presigned.uri().to_owned(),
            method: "PUT".into(),
            headers,
            expires_at: now.unix_timestamp() + secs as i64,
        })
    }

    async fn put(
        &self,
        key: &BlobKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<BlobMeta, BlobError> {
        let content_type = checked_content_type(content_type)?;
        let digest = {
            use sha2::{Digest, Sha256};
            Sha256::digest(&bytes)
        };
        let meta = BlobMeta {
            key: key.clone(),
            size: bytes.len() as u64,
            sha256: hex::encode(digest),
            content_type,
        };
        let checksum = BASE64.encode(digest);
        self.retrying("PutObject", || async {
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(key.as_str())
                .content_type(&meta.content_type)
                .content_length(meta.size as i64)
                .server_side_encryption(ServerSideEncryption::Aes256)
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .checksum_sha256(&checksum)
                .metadata(SHA256_METADATA, &meta.sha256)
                .body(ByteStream::from(bytes.clone()))
                .send()
                .await
                .map_err(|e| classify("PutObject", e))
        })
        .await?;
        Ok(meta)
    }

    async fn get(&self, key: &BlobKey) -> Result<Blob, BlobError> {
        let fetched = self.fetch(key).await?;
        let actual = sha256_hex(&fetched.bytes);
        if let Some(expected) = fetched.recorded
            && expected != actual
        {
            return Err(BlobError::Corrupt {
                key: key.clone(),
                expected,
                actual,
            });
        }
        Ok(Blob {
            meta: BlobMeta {
                key: key.clone(),
                size: fetched.bytes.len() as u64,
                sha256: actual,
                content_type: fetched.content_type,
            },
            bytes: fetched.bytes,
        })
    }

    async fn head(&self, key: &BlobKey) -> Result<Option<BlobMeta>, BlobError> {
        let out = self
            .retrying("HeadObject", || async {
                match self
                    .client
                    .head_object()
                    .bucket(&self.bucket)
                    .key(key.as_str())
                    .checksum_mode(ChecksumMode::Enabled)
                    .send()
                    .await
                {
                    Ok(out) => Ok(Some(out)),
                    Err(e)
                        if e.as_service_error().is_some_and(|s| s.is_not_found())
                            || status_of(&e) == Some(404) =>
                    {
                        Ok(None)
                    }
                    Err(e) => Err(classify("HeadObject", e)),
                }
            })
            .await?;
        let Some(out) = out else { return Ok(None) };
        let recorded = recorded_sha256(out.metadata(), out.checksum_sha256());
        match recorded {
            Some(sha256) => Ok(Some(BlobMeta {
                key: key.clone(),
                size: out.content_length().unwrap_or_default().max(0) as u64,
                sha256,
                content_type: content_type_or_default(out.content_type()),
            })),
            // Written without a SHA-256 (e.g. a client's presigned PUT with another
            // checksum): read it once to compute one.
            None => match self.get(key).await {
                Ok(blob) => Ok(Some(blob.meta)),
                Err(BlobError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            },
        }
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        self.retrying("DeleteObject", || async {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(key.as_str())
                .send()
                .await
                .map_err(|e| classify("DeleteObject", e))
        })
        .await?;
        Ok(())
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<BlobKey>, BlobError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        while keys.len() < limit {
            let page_size = (limit - keys.len()).min(1000) as i32;
            let page = self
                .retrying("ListObjectsV2", || async {
                    self.client
                        .list_objects_v2()
                        .bucket(&self.bucket)
                        .prefix(prefix)
                        .max_keys(page_size)
                        .set_continuation_token(token.clone())
                        .send()
                        .await
                        .map_err(|e| classify("ListObjectsV2", e))
                })
                .await?;
            for object in page.contents() {
                let Some(raw) = object.key() else { continue };
                match BlobKey::parse(raw) {
                    Ok(key) => keys.push(key),
                    Err(_) => {
                        tracing::warn!(bucket = %self.bucket, key = raw, "skipping an object whose key is not a blob key");
                    }
                }
            }
            token = page.next_continuation_token().map(str::to_owned);
            if !page.is_truncated().unwrap_or(false) || token.is_none() {
                break;
            }
        }
        keys.truncate(limit);
        Ok(keys)
    }

    async fn signed_url(
        &self,
        key: &BlobKey,
        op: SignedOp,
        ttl: Duration,
    ) -> Result<SignedUrl, BlobError> {
        let secs = ttl_secs(ttl)?;
        let now = self.clock.now();
        let config = PresigningConfig::builder()
            .start_time(SystemTime::from(now))
            .expires_in(Duration::from_secs(secs))
            .build()
            .map_err(|e| BlobError::Invalid(format!("presigning: {e}")))?;
        let presigned = match op {
            SignedOp::Get => self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(key.as_str())
                .presigned(config)
                .await
                .map_err(presign_failed("GetObject"))?,
            SignedOp::Put => self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(key.as_str())
                .presigned(config)
                .await
                .map_err(presign_failed("PutObject"))?,
        };
        Ok(SignedUrl {
            url: presigned.uri().to_owned(),
            method: method_of(op).to_owned(),
            expires_at: now.unix_timestamp() + secs as i64,
        })
    }

    async fn check(&self) -> Result<(), BlobError> {
        self.retrying("HeadBucket", || async {
            self.client
                .head_bucket()
                .bucket(&self.bucket)
                .send()
                .await
                .map_err(|e| match status_of(&e) {
                    Some(404) => Failure::Final(BlobError::Fatal(format!(
                        "bucket `{}` does not exist",
                        self.bucket
                    ))),
                    _ => classify("HeadBucket", e),
                })
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use aws_sdk_s3::config::http::HttpResponse;
    use aws_sdk_s3::error::ErrorMetadata;
    use aws_sdk_s3::operation::get_object::GetObjectError;
    use aws_smithy_types::body::SdkBody;

    fn service_error(status: u16, code: &str) -> SdkError<GetObjectError> {
        let err = GetObjectError::generic(ErrorMetadata::builder().code(code).build());
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(err, raw)
    }

    fn is_transient(e: SdkError<GetObjectError>) -> bool {
        matches!(classify("GetObject", e), Failure::Transient(_))
    }

    #[test]
    fn transient_errors_are_told_apart_from_final_ones() {
        assert!(is_transient(service_error(503, "SlowDown")));
        assert!(is_transient(service_error(500, "InternalError")));
        assert!(is_transient(service_error(429, "TooManyRequests")));
        assert!(is_transient(service_error(400, "RequestTimeout")));
        assert!(is_transient(SdkError::timeout_error("attempt timed out")));
        assert!(!is_transient(service_error(403, "AccessDenied")));
        assert!(!is_transient(service_error(400, "InvalidArgument")));
        assert!(!is_transient(SdkError::construction_failure("bad input")));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_failures_then_reports_unavailable() {
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .build();
        let store = S3BlobStore::new(
            aws_sdk_s3::Client::from_conf(conf),
            "b".into(),
            std::sync::Arc::new(skiff_core::clock::SystemClock),
        );
        let mut calls = 0;
        let out: Result<(), _> = store
            .retrying("Op", || {
                calls += 1;
                async { Err(Failure::Transient("503 SlowDown".into())) }
            })
            .await;
        assert!(matches!(out, Err(BlobError::Unavailable(ref m)) if m.contains("4 attempts")));
        assert_eq!(calls, STANDARD.attempts);

        let mut calls = 0;
        let out = store
            .retrying("Op", || {
                calls += 1;
                let n = calls;
                async move {
                    if n < 3 {
                        Err(Failure::Transient("timeout".into()))
                    } else {
                        Ok(n)
                    }
                }
            })
            .await;
        assert_eq!(out.unwrap(), 3);

        let mut calls = 0;
        let out: Result<(), _> = store
            .retrying("Op", || {
                calls += 1;
                async { Err(Failure::Final(BlobError::Fatal("denied".into()))) }
            })
            .await;
        assert!(matches!(out, Err(BlobError::Fatal(_))));
        assert_eq!(calls, 1);
    }

    #[test]
    fn full_object_checksums_convert_to_hex() {
        let hex = sha256_hex(b"hello");
        let b64 = BASE64.encode(hex::decode(&hex).unwrap());
        assert_eq!(checksum_hex(Some(&b64)), Some(hex));
        assert_eq!(checksum_hex(Some("AAAA-3")), None);
        assert_eq!(checksum_hex(Some("AAAA")), None);
        assert_eq!(checksum_hex(None), None);
    }
}
