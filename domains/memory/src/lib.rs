//! The memory domain: AutoMem-compatible agent memory, one memory space per
//! organization. Memories, their tag and time indexes and the graph of associations
//! live in the item store; their words in the keyword index; their embeddings in
//! the vector index (namespace `mem.<org>`). Recall is AutoMem's hybrid: vector,
//! keyword, tag, importance, recency, confidence and relation signals in one
//! weighted score (see [`scoring`]).
//!
//! Every use case takes the org from the caller (the authenticated principal, or an
//! operator naming it), never from a memory: a memory id of another org is simply
//! not in the caller's partitions.

pub mod classify;
pub mod embed;
pub mod export;
pub mod graph;
pub mod health;
pub mod keys;
pub mod mcp_sessions;
pub mod memories;
pub mod model;
pub mod org_data;
pub mod preseed;
pub mod recall;
pub mod repo;
pub mod scoring;
pub mod settings;
pub mod stats;
pub mod stream;
pub mod timeq;

use skiff_core::ports::embeddings::EmbedError;
use skiff_core::ports::keywords::KeywordError;
use skiff_core::ports::queue::QueueError;
use skiff_core::ports::secrets::{Generate, SecretName};
use skiff_core::ports::store::StoreError;
use skiff_core::ports::vectors::{Namespace, VectorError};
use skiff_core::scheduler::Jobs;
use skiff_core::{Services, ids::OrgId, outbox::Registry};

/// The key of an OpenAI-compatible embedding endpoint, when it needs one.
pub const EMBEDDING_API_KEY: SecretName = SecretName {
    name: "embedding_api_key",
    generate: Generate::Never,
};

/// Memory's secrets.
pub const SECRETS: &[SecretName] = &[EMBEDDING_API_KEY];

/// Memory's settings, as the wiring inserted them.
pub fn settings(services: &Services) -> &settings::MemorySettings {
    services.settings.get()
}

/// Memory's outbox message kinds.
pub fn register(registry: &mut Registry) {
    embed::register(registry);
    export::register(registry);
}

/// Memory's scheduler jobs.
pub fn register_jobs(_jobs: &mut Jobs) {}

/// The vector and keyword namespace of an org's memories.
pub fn namespace(org: &OrgId) -> Namespace {
    Namespace::parse(format!("mem.{}", org.as_str().to_ascii_lowercase()))
        .expect("an org id is a valid namespace")
}

/// What can go wrong, in AutoMem's terms (the function maps each to its status).
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// Bad input (400), with AutoMem's message.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    /// The plan's `max_memories` is reached.
    #[error("This organization has reached its plan's limit of {limit} memories")]
    LimitReached {
        limit: i64,
        tier: String,
        upgrade_url: String,
    },
    /// A dependency is down after retries (503).
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an inconsistency; logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

pub type MemoryResult<T> = Result<T, MemoryError>;

impl MemoryError {
    pub fn invalid(message: impl Into<String>) -> Self {
        MemoryError::Invalid(message.into())
    }

    pub fn not_found() -> Self {
        MemoryError::NotFound("Memory not found".into())
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        MemoryError::Internal(e.to_string())
    }
}

impl From<StoreError> for MemoryError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => MemoryError::Unavailable(format!("store: {m}")),
            other => MemoryError::Internal(other.to_string()),
        }
    }
}

impl From<VectorError> for MemoryError {
    fn from(e: VectorError) -> Self {
        match e {
            VectorError::DimensionMismatch { expected, .. } => {
                MemoryError::Invalid(format!("Embedding must contain exactly {expected} values"))
            }
            VectorError::Invalid(m) => MemoryError::Invalid(m),
            VectorError::Unavailable(m) => MemoryError::Unavailable(format!("vector index: {m}")),
            other => MemoryError::Internal(other.to_string()),
        }
    }
}

impl From<KeywordError> for MemoryError {
    fn from(e: KeywordError) -> Self {
        match e {
            KeywordError::Unavailable(m) => MemoryError::Unavailable(format!("keyword index: {m}")),
            other => MemoryError::Internal(other.to_string()),
        }
    }
}

impl From<QueueError> for MemoryError {
    fn from(e: QueueError) -> Self {
        MemoryError::Unavailable(format!("queue: {e}"))
    }
}

impl From<EmbedError> for MemoryError {
    fn from(e: EmbedError) -> Self {
        MemoryError::Unavailable(e.to_string())
    }
}

impl From<skiff_billing::BillingError> for MemoryError {
    fn from(e: skiff_billing::BillingError) -> Self {
        match e {
            skiff_billing::BillingError::Store(s) => s.into(),
            other => MemoryError::Internal(other.to_string()),
        }
    }
}
