//! Storage: what a client encrypts on its device and Skiff keeps without ever
//! reading it. Records (small ones through JSON, large ones through signed
//! uploads), backups, the vector payloads of the client's embeddings, the org's
//! byte quota, and the org's exports.
//!
//! Skiff holds no key: every blob is ciphertext the client made; the server checks
//! its SHA-256 (in constant time) against the checksum the client sent, meters its
//! size against the plan and stores it opaque.
//!
//! Item layout (every partition starts with the org id):
//!
//! | pk | sk | what |
//! |---|---|---|
//! | `{org}#STORAGE` | `USAGE` | the byte counters `records_bytes` and `backup_bytes` ([`quota`]); gsi1 `STORAGE#USAGE` / `{org}` |
//! | `{org}#REC` | `{user}#{rec}` | a record ([`records`]) |
//! | `{org}#BAK` | `{user}#{bak}` | a backup ([`backups`]) |
//! | `{org}#VEC` | `{user}#{vector id}` | a vector's payload ([`vectors`]) |
//! | `{org}#EXP` | `{exp}` | an export and its job's progress ([`exports`]) |
//! | `{org}#EXP#{exp}` | `CHUNK#{n}` | one finished chunk of an export |
//!
//! An item that needs attention later (an upload not yet committed, a
//! replacement in flight, a deletion whose blobs are still to go) is indexed in
//! gsi1 under `STORAGE#SWEEP#{shard}` by the time it is due, so the sweep job
//! finds it without a scan (see [`sweep`]).
//!
//! Blobs live in the blob port under `{org}/{user}/{table}/{rec}/{rev}` (records:
//! a new revision for every replacement, so a replacement never overwrites the
//! bytes a record points at) and `{org}/{user}/backups/{bak}`; exports in the
//! export bucket under `{org}/{exp}/`.

pub mod backups;
pub mod exports;
pub mod model;
pub mod org_data;
pub mod quota;
pub mod records;
pub mod settings;
pub mod sweep;
pub mod uploads;
pub mod vectors;

pub use model::{Checksum, Owner, TableName};
pub use settings::StorageSettings;

use skiff_core::metrics::Counter;

/// Ciphertext bytes accepted, by what holds them (`record`, `backup`).
pub static BYTES_STORED: Counter = Counter::new(
    "skiff_storage_bytes_stored_total",
    "Ciphertext bytes storage accepted, by kind",
    &["kind"],
);

/// Org exports by outcome (`requested`, `complete`, `failed`).
pub static EXPORTS: Counter = Counter::new(
    "skiff_exports_total",
    "Org exports by outcome",
    &["outcome"],
);

use skiff_core::ports::blobs::BlobError;
use skiff_core::ports::queue::QueueError;
use skiff_core::ports::store::StoreError;
use skiff_core::ports::vectors::VectorError;
use skiff_core::services::Services;
use skiff_core::validation::FieldError;

/// Why a storage operation failed. The storage function maps each to its answer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The input breaks these rules (every failed field).
    #[error("invalid input: {}", .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The bytes are not those the checksum names; nothing was stored.
    #[error("the blob's SHA-256 does not match the checksum")]
    ChecksumMismatch,
    /// An uploaded object is not the size the upload was created for.
    #[error("the uploaded object has {actual} bytes, not the {expected} announced")]
    SizeMismatch { expected: u64, actual: u64 },
    /// Absent, or another user's.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The org's plan leaves no room for this many bytes.
    #[error("the plan's {what} quota is full: {used_bytes} of {limit_bytes} bytes used")]
    QuotaExceeded {
        what: &'static str,
        used_bytes: u64,
        limit_bytes: u64,
    },
    /// The org's plan does not include this (backups on a plan without any).
    #[error("the {plan} plan does not include {feature}")]
    NotInPlan { feature: &'static str, plan: String },
    /// `If-Match` named another checksum than the record has.
    #[error("the record has changed since you read it")]
    PreconditionFailed,
    /// The upload has not arrived (or not completely).
    #[error("nothing was uploaded for this record yet")]
    UploadIncomplete,
    /// The export is not finished yet.
    #[error("the export is {status}, not complete")]
    ExportNotReady { status: &'static str },
    /// The org is being erased.
    #[error("the organization is being deleted")]
    OrgDeleted,
    /// The vector index refused the vectors (e.g. a dimension mismatch).
    #[error(transparent)]
    Vector(#[from] VectorError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Billing(#[from] skiff_billing::BillingError),
    /// A bug or an inconsistency; logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
    /// Kept too many times by concurrent writers; the client may retry.
    #[error("{0}")]
    Contended(&'static str),
}

pub type StorageResult<T> = Result<T, StorageError>;

impl StorageError {
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, code, message)])
    }
}

/// Storage's settings, wired in at startup.
pub fn settings(services: &Services) -> &StorageSettings {
    services.settings.get()
}

/// Storage's periodic jobs: the sweep of abandoned uploads and unfinished
/// deletions, and the repair of usage counters that drifted.
pub fn register_jobs(jobs: &mut skiff_core::scheduler::Jobs) {
    jobs.register(skiff_core::scheduler::Job::new("storage_sweep", |s| {
        Box::pin(async move {
            let report = sweep::sweep(s).await.map_err(|e| e.to_string())?;
            Ok(report.to_string())
        })
    }));
    jobs.register(skiff_core::scheduler::Job::new(
        "storage_repair_usage",
        |s| {
            Box::pin(async move {
                let report = quota::repair_drift(s.store.as_ref(), quota::REPAIR_BATCH)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(report.to_string())
            })
        },
    ));
}

/// Storage's outbox message kinds: the export job.
pub fn register(
    registry: &mut skiff_core::outbox::Registry,
    parts: skiff_core::org_data::OrgDataParts,
) {
    exports::register(registry, parts);
}
