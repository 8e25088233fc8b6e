//! The set of ports a function works with, built once per process (per Lambda
//! container) by the wiring crate from configuration: embedded adapters or AWS
//! adapters. Domains see only these traits.

use crate::clock::SharedClock;
use crate::config::Config;
use crate::ids::OrgId;
use crate::ports::blobs::BlobStore;
use crate::ports::dns::Resolver;
use crate::ports::keywords::KeywordIndex;
use crate::ports::mail::Mailer;
use crate::ports::queue::Queue;
use crate::ports::secrets::Secrets;
use crate::ports::store::{ItemStore, StoreError};
use crate::ports::vectors::VectorIndex;
use crate::settings::Settings;
use std::sync::Arc;

/// Name of the bucket that holds user blobs (records, backups).
pub const BLOB_BUCKET: &str = "blobs";
/// Name of the bucket that holds generated exports.
pub const EXPORT_BUCKET: &str = "exports";

/// Everything a handler may touch. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    /// Each domain's own settings, by type.
    pub settings: Arc<Settings>,
    pub store: Arc<dyn ItemStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub exports: Arc<dyn BlobStore>,
    pub queue: Arc<dyn Queue>,
    pub mailer: Arc<dyn Mailer>,
    pub secrets: Arc<dyn Secrets>,
    /// Full-text retrieval (agent memory's keyword search).
    pub keywords: Arc<dyn KeywordIndex>,
    /// Embeddings per namespace (storage's vectors, memory's memories).
    pub vectors: Arc<dyn VectorIndex>,
    /// Asked by the write-lock layer before a locked route runs.
    pub write_gate: Arc<dyn WriteGate>,
    pub clock: SharedClock,
    /// DNS: addresses for outbound calls of scripts, TXT proofs of claimed domains.
    pub resolver: Arc<dyn Resolver>,
}

/// Whether an org may change its data now. Billing's service profile decides
/// (a lapsed trial or payment locks an org's writes); the HTTP write-lock layer
/// asks before a locked route runs. The wiring crate provides the implementation.
#[async_trait::async_trait]
pub trait WriteGate: Send + Sync + 'static {
    async fn check(&self, services: &Services, org_id: &OrgId) -> Result<(), WriteRefusal>;
}

/// Why an org may not write.
#[derive(Debug, thiserror::Error)]
pub enum WriteRefusal {
    /// The org's service is locked; `code` names why (`SERVICE_LOCKED`,
    /// `TRIAL_EXPIRED`) and `extra` carries what a client shows (mode, tier,
    /// upgrade URL, capabilities).
    #[error("{detail}")]
    Locked {
        code: String,
        detail: String,
        extra: serde_json::Map<String, serde_json::Value>,
    },
    /// The org is being erased (or was): it no longer takes writes.
    #[error("the organization is being deleted")]
    Gone,
    #[error(transparent)]
    Store(#[from] StoreError),
}
