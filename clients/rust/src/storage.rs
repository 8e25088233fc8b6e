//! Storage calls: records, backups and vectors. The server stores ciphertext and
//! checks SHA-256 checksums; the `*_encrypted` / `*_decrypted` calls seal and
//! open on this side with a key the server never sees. Records and backups
//! report their progress to a client made with [`Client::with_progress`].

use crate::client::{Client, decode, segment};
use crate::crypto::{self, EncryptionKey, sha256_hex};
use crate::error::{Error, Result};
use crate::progress::{download, upload_body};
use crate::types::{
    Backup, BackupCreated, BackupMeta, RecordCreated, RecordPage, RecordUpdated, VectorHit,
    VectorItem,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, RequestBuilder, Response};
use serde::Deserialize;
use serde_json::json;

impl Client {
    /// Store `blob` (already ciphertext) in `table` (`[a-z0-9_-]{1,64}`), with its
    /// SHA-256 for the server to check.
    pub async fn create_record(&self, table: &str, blob: &[u8]) -> Result<RecordCreated> {
        let body = json_bytes(
            &json!({"table": table, "blob": STANDARD.encode(blob), "checksum": sha256_hex(blob)}),
        );
        let resp = self
            .send_authorized(Method::POST, "/api/v1/storage/records", |r| {
                self.json_upload(r, &body)
            })
            .await?;
        decode(resp).await
    }

    /// Replace a record's bytes; with `if_match` (the checksum you read), the
    /// server refuses (412) when someone changed it since.
    pub async fn replace_record(
        &self,
        id: &str,
        blob: &[u8],
        if_match: Option<&str>,
    ) -> Result<RecordUpdated> {
        let body =
            json_bytes(&json!({"blob": STANDARD.encode(blob), "checksum": sha256_hex(blob)}));
        let path = format!("/api/v1/storage/records/{}", segment(id));
        let resp = self
            .send_authorized(Method::PUT, &path, |r| {
                let r = self.json_upload(r, &body);
                match if_match {
                    Some(c) => r.header("if-match", c),
                    None => r,
                }
            })
            .await?;
        decode(resp).await
    }

    /// A record's bytes, checked against the SHA-256 the server sends with them.
    pub async fn get_record(&self, id: &str) -> Result<Vec<u8>> {
        let path = format!("/api/v1/storage/records/{}", segment(id));
        let resp = self.send_authorized(Method::GET, &path, |r| r).await?;
        let expected = header(&resp, "x-checksum");
        let bytes = download(resp, self.progress.as_ref()).await?;
        check(expected.as_deref(), &bytes)?;
        Ok(bytes)
    }

    /// The records of a table (metadata, no bytes), one page.
    pub async fn list_records(
        &self,
        table: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<RecordPage> {
        let mut query = vec![];
        if let Some(t) = table {
            query.push(("table", t));
        }
        if let Some(c) = cursor {
            query.push(("cursor", c));
        }
        let resp = self
            .send_authorized(Method::GET, "/api/v1/storage/records", |r| r.query(&query))
            .await?;
        decode(resp).await
    }

    /// Delete a record (also when it is already gone).
    pub async fn delete_record(&self, id: &str) -> Result<()> {
        let path = format!("/api/v1/storage/records/{}", segment(id));
        self.send_authorized(Method::DELETE, &path, |r| r)
            .await
            .map(drop)
    }

    /// Encrypt `plaintext` under `key` (AES-256-GCM, a fresh nonce) and store it.
    pub async fn put_encrypted(
        &self,
        table: &str,
        plaintext: &[u8],
        key: &EncryptionKey,
    ) -> Result<RecordCreated> {
        self.create_record(table, &crypto::seal(key, plaintext)?)
            .await
    }

    /// Fetch a record, check its SHA-256 and decrypt it; a changed blob or another
    /// key is [`crate::crypto::CryptoError::Decrypt`].
    pub async fn get_decrypted(&self, id: &str, key: &EncryptionKey) -> Result<Vec<u8>> {
        Ok(crypto::open(key, &self.get_record(id).await?)?)
    }

    /// Store a backup (the bytes as they are: seal them first, or use
    /// [`Client::push_backup_encrypted`]). `timestamp_ms` is the client's time of
    /// the backup, `version` its label (1–64 printable characters).
    pub async fn push_backup(
        &self,
        version: &str,
        timestamp_ms: i64,
        bytes: Vec<u8>,
    ) -> Result<BackupCreated> {
        let checksum = sha256_hex(&bytes);
        // Cheap to clone, should a refreshed token send the request again.
        let bytes = bytes::Bytes::from(bytes);
        let resp = self
            .send_authorized(Method::PUT, "/api/v1/backup", |r| {
                r.header("x-backup-version", version)
                    .header("x-backup-timestamp", timestamp_ms.to_string())
                    .header("x-backup-checksum", checksum.as_str())
                    .header("content-type", "application/octet-stream")
                    .body(upload_body(bytes.clone(), self.progress.as_ref()))
            })
            .await?;
        decode(resp).await
    }

    /// The newest backup, its checksum checked.
    pub async fn pull_backup(&self) -> Result<Backup> {
        let resp = self
            .send_authorized(Method::GET, "/api/v1/backup", |r| r)
            .await?;
        let checksum = header(&resp, "x-backup-checksum").unwrap_or_default();
        let version = header(&resp, "x-backup-version").unwrap_or_default();
        let timestamp = header(&resp, "x-backup-timestamp")
            .and_then(|t| t.parse().ok())
            .unwrap_or_default();
        let bytes = download(resp, self.progress.as_ref()).await?;
        check(Some(&checksum), &bytes)?;
        Ok(Backup {
            bytes,
            version,
            timestamp,
            checksum,
        })
    }

    /// Encrypt and store a backup.
    pub async fn push_backup_encrypted(
        &self,
        version: &str,
        timestamp_ms: i64,
        plaintext: &[u8],
        key: &EncryptionKey,
    ) -> Result<BackupCreated> {
        self.push_backup(version, timestamp_ms, crypto::seal(key, plaintext)?)
            .await
    }

    /// Fetch the newest backup and decrypt it (its `bytes` are the plaintext).
    pub async fn pull_backup_decrypted(&self, key: &EncryptionKey) -> Result<Backup> {
        let mut backup = self.pull_backup().await?;
        backup.bytes = crypto::open(key, &backup.bytes)?;
        Ok(backup)
    }

    /// Every kept backup, newest first.
    pub async fn backup_history(&self) -> Result<Vec<BackupMeta>> {
        self.get_json("/api/v1/backup/history").await
    }

    /// Delete one backup.
    pub async fn delete_backup(&self, id: &str) -> Result<()> {
        let path = format!("/api/v1/backup/{}", segment(id));
        self.send_authorized(Method::DELETE, &path, |r| r)
            .await
            .map(drop)
    }

    /// Upsert 1 to 500 vectors with their ciphertexts; returns how many.
    pub async fn upsert_vectors(&self, items: &[VectorItem]) -> Result<u64> {
        let vectors: Vec<_> = items
            .iter()
            .map(|v| {
                json!({
                    "id": v.id, "blob": STANDARD.encode(&v.blob),
                    "checksum": sha256_hex(&v.blob), "vector": v.vector,
                })
            })
            .collect();
        #[derive(Deserialize)]
        struct Upserted {
            upserted: u64,
        }
        let body = json!({ "vectors": vectors });
        let resp = self
            .send_authorized(Method::POST, "/api/v1/storage/vectors/upsert", |r| {
                r.json(&body)
            })
            .await?;
        Ok(decode::<Upserted>(resp).await?.upserted)
    }

    /// The `top_k` nearest vectors (cosine) to `vector`, nearest first.
    pub async fn search_vectors(&self, vector: &[f32], top_k: u32) -> Result<Vec<VectorHit>> {
        #[derive(Deserialize)]
        struct Hit {
            id: String,
            score: f32,
            blob: String,
        }
        #[derive(Deserialize)]
        struct Hits {
            results: Vec<Hit>,
        }
        let body = json!({"vector": vector, "top_k": top_k});
        let resp = self
            .send_authorized(Method::POST, "/api/v1/storage/vectors/search", |r| {
                r.json(&body)
            })
            .await?;
        decode::<Hits>(resp)
            .await?
            .results
            .into_iter()
            .map(|h| {
                Ok(VectorHit {
                    blob: STANDARD
                        .decode(&h.blob)
                        .map_err(|_| Error::Decode("a hit's blob is not base64".into()))?,
                    id: h.id,
                    score: h.score,
                })
            })
            .collect()
    }

    /// Delete vectors by id; returns how many existed.
    pub async fn delete_vectors(&self, ids: &[&str]) -> Result<u64> {
        #[derive(Deserialize)]
        struct Deleted {
            deleted: u64,
        }
        let body = json!({ "ids": ids });
        let resp = self
            .send_authorized(Method::DELETE, "/api/v1/storage/vectors", |r| r.json(&body))
            .await?;
        Ok(decode::<Deleted>(resp).await?.deleted)
    }
}

fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn json_bytes(value: &serde_json::Value) -> bytes::Bytes {
    bytes::Bytes::from(serde_json::to_vec(value).expect("a JSON value serializes"))
}

impl Client {
    /// A JSON body, counted when the client watches its transfers.
    fn json_upload(&self, r: RequestBuilder, body: &bytes::Bytes) -> RequestBuilder {
        r.header("content-type", "application/json")
            .body(upload_body(body.clone(), self.progress.as_ref()))
    }
}

/// Compare downloaded bytes with the checksum they came with.
fn check(expected: Option<&str>, bytes: &[u8]) -> Result<()> {
    let actual = sha256_hex(bytes);
    match expected {
        Some(e) if e.eq_ignore_ascii_case(&actual) => Ok(()),
        Some(e) => Err(Error::ChecksumMismatch {
            expected: e.to_owned(),
            actual,
        }),
        None => Err(Error::Decode("the answer carries no checksum".into())),
    }
}
