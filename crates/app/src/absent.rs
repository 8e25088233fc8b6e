//! What a Lambda function holds in place of a port it is built without (see
//! [`crate::services::AwsPorts`]): every call fails as unavailable, naming the
//! port, so a route that reaches it by mistake answers 503 and logs why instead of
//! the binary linking an AWS client it is not granted to call anyway.

use async_trait::async_trait;
use bytes::Bytes;
use skiff_core::ports::blobs::{
    Blob, BlobError, BlobKey, BlobMeta, BlobReader, BlobStore, ByteStream, Expected, SignedOp,
    SignedUpload, SignedUrl,
};
use skiff_core::ports::dns::{DnsError, Resolver};
use skiff_core::ports::mail::{Email, MailError, Mailer};
use skiff_core::ports::vectors::{
    Hit, Namespace, VectorError, VectorId, VectorIndex, VectorPage, VectorQuery, VectorRecord,
};
use std::time::Duration;

/// A port this function's binary does not include; the name says which.
pub struct Absent(pub &'static str);

impl Absent {
    fn reason(&self) -> String {
        format!(
            "this function is built without the {} (see AwsPorts in the wiring crate)",
            self.0
        )
    }
}

#[async_trait]
impl BlobStore for Absent {
    async fn put(&self, _: &BlobKey, _: Bytes, _: &str) -> Result<BlobMeta, BlobError> {
        Err(BlobError::Unavailable(self.reason()))
    }
    async fn put_stream(
        &self,
        _: &BlobKey,
        _: ByteStream,
        _: &str,
        _: Expected,
    ) -> Result<BlobMeta, BlobError> {
        Err(BlobError::Unavailable(self.reason()))
    }
    async fn get(&self, _: &BlobKey) -> Result<Blob, BlobError> {
        Err(BlobError::Unavailable(self.reason()))
    }
    async fn get_stream(&self, _: &BlobKey) -> Result<BlobReader, BlobError> {
        Err(BlobError::Unavailable(self.reason()))
    }
    async fn head(&self, _: &BlobKey) -> Result<Option<BlobMeta>, BlobError> {
        Err(BlobError::Unavailable(self.reason()))
    }
    async fn delete(&self, _: &BlobKey) -> Result<(), BlobError> {
        Err(BlobError::Unavailable(self.reason()))
    }
    async fn list(&self, _: &str, _: usize) -> Result<Vec<BlobKey>, BlobError> {
        Err(BlobError::Unavailable(self.reason()))
    }
    async fn signed_url(
        &self,
        _: &BlobKey,
        _: SignedOp,
        _: Duration,
    ) -> Result<SignedUrl, BlobError> {
        Err(BlobError::Unavailable(self.reason()))
    }
    async fn signed_upload(
        &self,
        _: &BlobKey,
        _: Duration,
        _: u64,
        _: &str,
    ) -> Result<SignedUpload, BlobError> {
        Err(BlobError::Unavailable(self.reason()))
    }
    async fn check(&self) -> Result<(), BlobError> {
        Err(BlobError::Unavailable(self.reason()))
    }
}

#[async_trait]
impl VectorIndex for Absent {
    async fn upsert(&self, _: &Namespace, _: Vec<VectorRecord>) -> Result<(), VectorError> {
        Err(VectorError::Unavailable(self.reason()))
    }
    async fn get(&self, _: &Namespace, _: &[VectorId]) -> Result<Vec<VectorRecord>, VectorError> {
        Err(VectorError::Unavailable(self.reason()))
    }
    async fn delete(&self, _: &Namespace, _: &[VectorId]) -> Result<(), VectorError> {
        Err(VectorError::Unavailable(self.reason()))
    }
    async fn query(&self, _: &Namespace, _: &VectorQuery) -> Result<Vec<Hit>, VectorError> {
        Err(VectorError::Unavailable(self.reason()))
    }
    async fn list(
        &self,
        _: &Namespace,
        _: Option<&str>,
        _: usize,
    ) -> Result<VectorPage, VectorError> {
        Err(VectorError::Unavailable(self.reason()))
    }
    async fn dimension(&self, _: &Namespace) -> Result<Option<usize>, VectorError> {
        Err(VectorError::Unavailable(self.reason()))
    }
    async fn count(&self, _: &Namespace) -> Result<u64, VectorError> {
        Err(VectorError::Unavailable(self.reason()))
    }
    async fn drop_namespace(&self, _: &Namespace) -> Result<(), VectorError> {
        Err(VectorError::Unavailable(self.reason()))
    }
    async fn check(&self) -> Result<(), VectorError> {
        Err(VectorError::Unavailable(self.reason()))
    }
}

#[async_trait]
impl Mailer for Absent {
    async fn send(&self, _: &Email) -> Result<String, MailError> {
        Err(MailError::Unavailable(self.reason()))
    }
}

#[async_trait]
impl Resolver for Absent {
    async fn lookup_ip(&self, _: &str) -> Result<Vec<std::net::IpAddr>, DnsError> {
        Err(DnsError::Unavailable(self.reason()))
    }
    async fn lookup_txt(&self, _: &str) -> Result<Vec<String>, DnsError> {
        Err(DnsError::Unavailable(self.reason()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_call_is_unavailable_and_names_the_port() {
        let blobs = Absent("blob store");
        let key = BlobKey::parse("a/b").unwrap();
        match blobs.head(&key).await {
            Err(BlobError::Unavailable(m)) => assert!(m.contains("blob store"), "{m}"),
            other => panic!("{other:?}"),
        }
        let vectors = Absent("vector index");
        assert!(matches!(
            VectorIndex::check(&vectors).await,
            Err(VectorError::Unavailable(m)) if m.contains("vector index")
        ));
        let mail = Absent("mailer");
        let email = Email {
            to: "a@example.com".into(),
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
        };
        assert!(matches!(
            mail.send(&email).await,
            Err(MailError::Unavailable(_))
        ));
        let dns = Absent("DNS resolver");
        assert!(matches!(
            dns.lookup_txt("_skiff.example.com").await,
            Err(DnsError::Unavailable(m)) if m.contains("DNS resolver")
        ));
    }
}
