//! STUB — replaced by the blob work. Filesystem blob store.
use crate::clock::SharedClock;
use crate::ports::blobs::*;
use crate::ports::secrets::SecretValue;
use async_trait::async_trait;
use bytes::Bytes;
use std::path::PathBuf;
use std::time::Duration;

pub struct FsBlobStore;

impl FsBlobStore {
    pub fn open(
        _root: PathBuf,
        _url_base: String,
        _url_key: SecretValue,
        _clock: SharedClock,
    ) -> Result<Self, BlobError> {
        Err(BlobError::Fatal("not implemented".into()))
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, _k: &BlobKey, _b: Bytes, _ct: &str) -> Result<BlobMeta, BlobError> {
        todo!()
    }
    async fn get(&self, _k: &BlobKey) -> Result<Blob, BlobError> {
        todo!()
    }
    async fn head(&self, _k: &BlobKey) -> Result<Option<BlobMeta>, BlobError> {
        todo!()
    }
    async fn delete(&self, _k: &BlobKey) -> Result<(), BlobError> {
        todo!()
    }
    async fn list(&self, _p: &str, _l: usize) -> Result<Vec<BlobKey>, BlobError> {
        todo!()
    }
    async fn signed_url(
        &self,
        _k: &BlobKey,
        _op: SignedOp,
        _ttl: Duration,
    ) -> Result<SignedUrl, BlobError> {
        todo!()
    }
    async fn check(&self) -> Result<(), BlobError> {
        todo!()
    }
}
