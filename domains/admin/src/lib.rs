//! The operators' domain: what a platform operator (a user with the
//! `platform_admin` flag, granted only by `skiff admin grant`) sees and does across
//! every tenant. It reads the platform-wide directories the other domains keep in
//! the secondary index (identity's `USERS` and `ORGS`, licensing's `LICENSES`,
//! billing's subscriptions directory, every domain's audit entries by day) and
//! acts through those domains' own rules: identity suspends accounts, billing
//! holds an org's service profile, licensing suspends a license. Every action is
//! audited with the operator's id ([`audit::record_action`]).
//!
//! | module | what |
//! |---|---|
//! | [`users`] | the user directory with search and status filters; suspend, restore |
//! | [`orgs`] | the org directory with search, mode and plan filters; an org's page; hold, release |
//! | [`licenses`] | every license, by status, key or owner; suspend, reinstate |
//! | [`analytics`] | MRR, ARR, churn, conversion, seats; the daily snapshot job and series |
//! | [`audit`] | the audit log across domains |
//! | [`dead_letters`] | the outbox's dead letters: list, replay, resolve |
//!
//! Item layout of its own: `ANALYTICS#DAILY` / `<yyyy-mm-dd>` (one snapshot per day)
//! and the operators' audit entries (`skiff_core::audit`).

pub mod analytics;
pub mod audit;
pub mod dead_letters;
pub mod licenses;
pub mod orgs;
pub mod users;

use skiff_core::ids::UserId;
use skiff_core::ports::queue::QueueError;
use skiff_core::ports::store::{Item, ItemStore, Query, StoreError};
use skiff_core::validation::FieldError;

/// The operator acting (from the authenticated principal, after the flag was read
/// from the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub user_id: UserId,
}

impl Operator {
    /// How audit entries name the operator.
    pub fn actor(&self) -> String {
        format!("operator:{}", self.user_id)
    }
}

/// Why an operator's request failed. The admin function maps each to HTTP.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    NotFound(String),
    /// The input breaks these rules.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("licensing: {0}")]
    Licensing(String),
    /// Another domain failed unexpectedly (logged, never shown).
    #[error("internal: {0}")]
    Internal(String),
}

impl AdminError {
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, code, message)])
    }
}

impl From<skiff_licensing::seats::SeatError> for AdminError {
    fn from(e: skiff_licensing::seats::SeatError) -> Self {
        match e {
            skiff_licensing::seats::SeatError::Store(s) => Self::Store(s),
            other => Self::Licensing(other.to_string()),
        }
    }
}

pub type AdminResult<T> = Result<T, AdminError>;

/// The admin domain's periodic job: the daily analytics snapshot.
pub fn register_jobs(jobs: &mut skiff_core::scheduler::Jobs) {
    jobs.register(skiff_core::scheduler::Job::new(
        analytics::SNAPSHOT_JOB,
        |s| Box::pin(analytics::snapshot_job(s)),
    ));
    jobs.register(skiff_core::scheduler::Job::new(
        analytics::REFRESH_JOB,
        |s| Box::pin(analytics::refresh_job(s)),
    ));
}

/// Most store pages one list request reads while it filters: a filter that matches
/// little answers a short page with a cursor instead of reading a directory whole.
pub const MAX_PAGES_PER_REQUEST: usize = 8;

/// Up to `limit` values of `query` that `keep` accepts (an async filter, which may
/// read more), reading at most [`MAX_PAGES_PER_REQUEST`] store pages; each page is
/// consumed whole, so the position returned resumes exactly after the last item read.
pub(crate) async fn scan<T, F, Fut>(
    store: &dyn ItemStore,
    query: Query,
    limit: usize,
    mut keep: F,
) -> Result<(Vec<T>, Option<String>), AdminError>
where
    F: FnMut(Vec<Item>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, AdminError>>,
{
    let limit = limit.max(1);
    let mut out = vec![];
    let mut cursor = query.cursor.clone();
    for _ in 0..MAX_PAGES_PER_REQUEST {
        let page = store
            .query(Query {
                limit: Some(limit - out.len()),
                cursor,
                ..query.clone()
            })
            .await?;
        out.extend(keep(page.items).await?);
        cursor = page.next;
        if out.len() >= limit || cursor.is_none() {
            break;
        }
    }
    Ok((out, cursor))
}

/// Case-insensitive "contains" for search boxes.
pub(crate) fn matches(haystack: &str, needle_lower: &str) -> bool {
    haystack.to_lowercase().contains(needle_lower)
}
