//! STUB — replaced by the blob work. S3 blob store.
use crate::clock::SharedClock;
use crate::ports::blobs::*;

use async_trait::async_trait;
use bytes::Bytes;

use std::time::Duration;

pub struct S3BlobStore;

impl S3BlobStore {
    pub fn new(_c: aws_sdk_s3::Client, _bucket: String, _clock: SharedClock) -> Self {
        Self
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
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
