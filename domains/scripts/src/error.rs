//! Scripts' one error enum: what went wrong in the domain's words. The `scripts`
//! function maps it to HTTP in one place.

use crate::access::AppRole;
use crate::sandbox::{CompileError, OverrideRefused};
use skiff_billing::BillingError;
use skiff_core::ports::blobs::BlobError;
use skiff_core::ports::queue::QueueError;
use skiff_core::ports::store::StoreError;

/// A field of a request that failed a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            code,
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScriptsError {
    /// Absent, in another org, or in an app the caller has no role in.
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("this action needs the {needed} role in the app")]
    Forbidden { needed: AppRole },
    #[error("creating apps is for the org's owners and admins")]
    OrgAdminRequired,
    #[error("{}", .0.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldProblem>),
    #[error("{0}")]
    Conflict(String),
    #[error("the slug `{0}` is taken")]
    SlugTaken(String),
    #[error("the app already has a script named `{0}`")]
    NameTaken(String),
    #[error("the app still has {script_count} scripts; delete them first or pass ?force=true")]
    HasScripts { script_count: usize },
    #[error("the source does not compile: {0}")]
    Compile(CompileError),
    #[error("{}", .0.iter().map(|r| r.to_string()).collect::<Vec<_>>().join("; "))]
    LimitsRefused(Vec<OverrideRefused>),
    #[error("`{path}` overlaps the route {existing_method} {existing_path} ({existing_id})")]
    RouteConflict {
        path: String,
        existing_id: String,
        existing_method: String,
        existing_path: String,
    },
    #[error("`{0}` is reserved: user routes may not start with {1}")]
    ReservedPath(String, &'static str),
    #[error("the host `{0}` is claimed already")]
    HostTaken(String),
    #[error("{0}")]
    NotVerified(String),
    /// A module cannot run, and a trigger or route can only target an endpoint.
    #[error("`{0}` is a module: only endpoint scripts run")]
    NotAnEndpoint(String),
    /// A file's stored bytes no longer match the SHA-256 recorded when they were
    /// written (changed behind the store's back): refused, never handed out.
    #[error(
        "file `{name}` in `{collection}` failed its integrity check: its stored bytes do not match their SHA-256, so it was not read"
    )]
    CorruptFile { collection: String, name: String },
    /// Every runner is busy.
    #[error("every script runner is busy; retry shortly")]
    Busy,
    #[error(transparent)]
    Billing(#[from] BillingError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Blob(#[from] BlobError),
}

impl ScriptsError {
    pub fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        ScriptsError::Invalid(vec![FieldProblem::new(field, code, message)])
    }
}

impl From<crate::runtime::Busy> for ScriptsError {
    fn from(_: crate::runtime::Busy) -> Self {
        ScriptsError::Busy
    }
}

pub type ScriptsResult<T> = Result<T, ScriptsError>;
